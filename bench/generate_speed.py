"""Generation speed: KV-cached decoding against naive full recomputation, side by side.

For each model (the debug model, a ~5 M-parameter configuration with random weights, and the
trained model when its checkpoint exists) it prints:
- per-token cost with 1000 tokens of context: one cached step vs one full forward pass;
- tokens/s and the real-time factor of ``generate`` for 60 s of music (cached path);
- tokens/s of a naive generation loop that recomputes the whole window for every token.

Usage: python bench/generate_speed.py [--seconds 60] [--threads 2]
"""

from __future__ import annotations

import argparse
import time

import torch

from vemidi.config import SamplingConfig
from vemidi.music import tokenizer as tk
from vemidi.music.generate import generate
from vemidi.music.harmony import N_CHORDS
from vemidi.music.logits import DecodeState, Sampler, default_rules
from vemidi.music.model import KVCache, ModelConfig, build_model, debug_config, parameter_count
from vemidi.music.plan import N_METER, build_plan
from vemidi.types import EmotionSegment


def _context_inputs(model, n: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(tk.SHIFT_BASE, tk.VOCAB_SIZE, (1, n), generator=g)
    offsets = torch.zeros(1, n)
    plan = torch.zeros(1, n, 2, dtype=torch.long)
    cond = model.condition_vectors(torch.tensor([0.5]), torch.tensor([0.5]), torch.tensor([0]))
    return tokens, offsets, cond, plan


@torch.inference_mode()
def per_token_ms(model, context: int, repeats: int = 20) -> tuple[float, float]:
    """Milliseconds per new token with ``context`` tokens already seen: cached, full."""
    n = min(context, model.cfg.context - model.cfg.prefix_len - repeats - 1)
    tokens, offsets, cond, plan = _context_inputs(model, n + repeats)
    cache = KVCache(model.cfg.n_layers)
    model(tokens[:, :n], offsets[:, :n], cond=cond, cache=cache, plan=plan[:, :n])
    start = time.perf_counter()
    for i in range(n, n + repeats):
        model(tokens[:, i : i + 1], offsets[:, i : i + 1], cache=cache, plan=plan[:, i : i + 1])
    cached = (time.perf_counter() - start) / repeats
    start = time.perf_counter()
    for i in range(n, n + repeats):
        model(tokens[:, : i + 1], offsets[:, : i + 1], cond=cond, plan=plan[:, : i + 1])
    full = (time.perf_counter() - start) / repeats
    return 1000 * cached, 1000 * full


@torch.inference_mode()
def naive_tokens_per_s(model, steps: int) -> float:
    """A generation loop without a cache: the whole window is recomputed for every token."""
    sampling = SamplingConfig()
    rules, sampler, state = default_rules(sampling), Sampler(sampling), DecodeState()
    cond = _context_inputs(model, 1)[2]
    tokens = [tk.MORE_INSTRUMENTS]
    keep = model.cfg.context - model.cfg.prefix_len
    start = time.perf_counter()
    for _ in range(steps):
        window = tokens[-keep:]
        plan = torch.zeros(1, len(window), 2, dtype=torch.long)
        logits = model(torch.tensor([window]), torch.zeros(1, len(window)), cond=cond, plan=plan)[
            0, -1
        ]
        for rule in rules:
            logits = rule(logits, state)
        token = sampler(logits)
        state.update(token, sampling)
        tokens.append(token)
    return steps / (time.perf_counter() - start)


def models() -> list[tuple[str, object]]:
    """The models to measure."""
    from vemidi.weights import MUSIC_MODELS, TRAINED_MODEL, load_music_model, model_dir

    found = [
        ("debug", build_model(debug_config(), seed=0)),
        (
            "random ~5M (6L d256 ctx1024)",
            build_model(ModelConfig(n_keys=24, n_meter=N_METER, n_chords=N_CHORDS), seed=0),
        ),
    ]
    if (model_dir() / MUSIC_MODELS[TRAINED_MODEL]).is_file():
        found.append((TRAINED_MODEL, load_music_model(TRAINED_MODEL).model))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="music length (default 60)")
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(f"torch {torch.__version__}, {args.threads} threads, {args.seconds:g} s of music")
    header = (
        f"{'model':30} {'params':>7} {'cached ms/tok':>13} {'full ms/tok':>11} {'ratio':>6} "
        f"{'gen tok/s':>9} {'RTF':>6} {'naive tok/s':>11} {'speed-up':>8}"
    )
    print(header)
    for name, model in models():
        model.eval()
        cached_ms, full_ms = per_token_ms(model, 1000)
        segments = [EmotionSegment(0.0, args.seconds, 0.5, 0.5)]
        cuts = [c for c in (10.0, 25.0, 40.0) if c < args.seconds]
        result = generate(model, build_plan(args.seconds, segments, cuts), segments)
        naive = naive_tokens_per_s(model, 150)
        print(
            f"{name:30} {parameter_count(model) / 1e6:6.2f}M {cached_ms:13.2f} {full_ms:11.2f} "
            f"{full_ms / cached_ms:5.1f}x {result.tokens_per_s:9.0f} "
            f"{args.seconds / result.elapsed_s:5.1f}x {naive:11.0f} "
            f"{result.tokens_per_s / naive:7.1f}x",
            flush=True,
        )
    print("RTF = seconds of music per second of compute (> 1: faster than real time)")


if __name__ == "__main__":
    main()
