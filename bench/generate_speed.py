"""Decoding speed: today's loop beside the reference loop, on 1 and 2 threads, idle and busy.

For the shipped model and one 60 s piece (valence 0.5, arousal 0.5, cuts at 10, 25 and 40 s,
seed 0) it prints tokens/s and the real-time factor of ``generate``:
- the reference loop (``bench/reference_decoding.py``: the loop as of 2026-12-01) and today's;
- with guidance (two streams in one batch, the default) and without (one stream);
- on 2 threads and on 1, on an idle machine and beside one busy process (a Gradio Space or a
  batch job is such a machine);
and checks that both loops write the same tokens. It also prints the memory floor: the time
to read the model's weights once, which every token must do (the ceiling on tokens/s).

Usage: python bench/generate_speed.py [--seconds 60] [--model vemidi-small]
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neighbour import busy_neighbour  # sibling bench modules
from reference_decoding import reference_decoding

from vemidi.config import SamplingConfig
from vemidi.music.generate import DECODE_THREADS, generate
from vemidi.music.plan import build_plan
from vemidi.types import EmotionSegment

GOAL_TOKENS_PER_S = 1000


def decode(model, seconds: float, threads: int, guidance: float, reference: bool):
    """(tokens, tokens/s) of one piece; decoding pinned to ``threads``."""
    segments = [EmotionSegment(0.0, seconds, 0.5, 0.5)]
    plan = build_plan(seconds, segments, [c for c in (10.0, 25.0, 40.0) if c < seconds], seed=0)
    sampling = SamplingConfig(seed=0, guidance=guidance)
    run = reference_decoding(model) if reference else contextlib.nullcontext()
    with run:
        result = generate(model, plan, segments, sampling, threads=threads)
    return result.tokens, result.tokens_per_s


def weight_read_ms(model, repeats: int = 50) -> float:
    """Milliseconds to read every matrix the decoder multiplies by once (one thread)."""
    torch.set_num_threads(1)
    weights = [p.detach() for name, p in model.named_parameters() if p.dim() == 2]
    weights = [w for w in weights if w.shape[0] != model.cfg.context]  # not the position tables
    for w in weights:
        w.sum()
    start = time.perf_counter()
    for _ in range(repeats):
        for w in weights:
            w.sum()
    return 1000 * (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="music length (default 60)")
    parser.add_argument("--model", default="vemidi-small", help="music model (default shipped)")
    args = parser.parse_args()
    from vemidi.weights import load_music_model

    model = load_music_model(args.model).model
    floor = weight_read_ms(model)
    print(f"torch {torch.__version__}, {platform.processor() or platform.machine()}, "
          f"{args.seconds:g} s of music, model {args.model}")  # fmt: skip
    print(f"memory floor: reading the weights once takes {floor:.2f} ms on one thread, so at most "
          f"~{1000 / floor:.0f} tokens/s whatever the loop")  # fmt: skip
    print(f"{'loop':10} {'streams':>7} {'threads':>7} {'idle tok/s':>10} {'RTF':>6} "
          f"{'busy tok/s':>10} {'RTF':>6}")  # fmt: skip
    rows, tokens = {}, {}
    for guidance in (2.0, 1.0):
        streams = 2 if guidance != 1.0 else 1
        for reference in (True, False):
            for threads in (2, 1):
                got = []
                for busy in (False, True):
                    with busy_neighbour(busy):
                        out, speed = decode(model, args.seconds, threads, guidance, reference)
                    tokens.setdefault((guidance, reference), out)
                    got.append((speed, len(out) / speed))
                name = "reference" if reference else "today"
                rows[(streams, name, threads)] = got
                (idle, idle_s), (busy_speed, busy_s) = got
                rtf_idle, rtf_busy = args.seconds / idle_s, args.seconds / busy_s
                print(f"{name:10} {streams:7} {threads:7} {idle:10.0f} {rtf_idle:5.1f}x "
                      f"{busy_speed:10.0f} {rtf_busy:5.1f}x", flush=True)  # fmt: skip
    same = all(tokens[(g, True)] == tokens[(g, False)] for g in (2.0, 1.0))
    print(f"same tokens from both loops: {'yes' if same else 'NO'}")
    best = rows[(2, "today", DECODE_THREADS)]
    ref = rows[(2, "reference", 2)]
    print(f"default (two streams, {DECODE_THREADS} thread(s)): {best[0][0]:.0f} tokens/s idle, "
          f"{best[1][0]:.0f} busy; reference loop on 2 threads: {ref[0][0]:.0f} idle, "
          f"{ref[1][0]:.0f} busy; speed-up {best[0][0] / ref[0][0]:.1f}x idle, "
          f"{best[1][0] / ref[1][0]:.1f}x busy; goal {GOAL_TOKENS_PER_S} tokens/s: "
          f"{'met' if best[0][0] >= GOAL_TOKENS_PER_S else 'not met'}")  # fmt: skip
    if not same:
        sys.exit("the two loops wrote different tokens")


if __name__ == "__main__":
    main()
