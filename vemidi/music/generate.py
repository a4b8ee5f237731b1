"""Autoregressive generation that fills an exact duration, follows emotion and lands on cuts.

The loop keeps a KV cache. Because absolute positions and the condition prefix live in the
cache, it is rebuilt only now and then: when the window is full, the newest half of the tokens is
re-encoded behind the instrument-count token (EMSYNC slides the window by one token each step,
which re-encodes the whole window every token), and when the emotion segment changes, the window
is re-encoded once with the new prefix. Generation stops when a time shift would pass the target
duration; notes still sounding are closed exactly there.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from vemidi.config import CutConfig, SamplingConfig
from vemidi.music import tokenizer as tk
from vemidi.music.boundaries import BoundaryTracker
from vemidi.music.keys import KeyPrior, key_for_valence
from vemidi.music.logits import DecodeState, DensityPrior, Sampler, default_rules
from vemidi.music.model import KVCache, MusicTransformer
from vemidi.types import EmotionSegment

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class GenerationResult:
    """Tokens and bookkeeping of one generated piece.

    Attributes:
        tokens: every generated token, the instrument-count token and primer first.
        decoded: the notes (closed at ``duration_s``), CHORD times and accents.
        duration_s: the piece's length in seconds (exactly the requested duration).
        targets_s: the boundaries the generator aimed at (cuts after thinning).
        hits_s: boundaries with a CHORD within the tolerance.
        missed_s: boundaries without one.
        forced_s: the hits whose CHORD ``logits.CutChord`` forced (the model did not choose it).
        elapsed_s: wall time of the generation.
        keys: the key class requested for each segment (None: open).
    """

    tokens: list[int]
    decoded: tk.Decoded
    duration_s: float
    targets_s: list[float]
    hits_s: list[float]
    missed_s: list[float]
    forced_s: list[float]
    elapsed_s: float
    keys: list[int | None]

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per wall-clock second."""
        return len(self.tokens) / max(self.elapsed_s, 1e-9)


def _segment_at(segments: list[EmotionSegment], now_s: float) -> int:
    for i in range(len(segments) - 1, -1, -1):
        if segments[i].start_s <= now_s:
            return i
    return 0


class _Window:
    """The tokens the model currently sees, with their offsets, behind a KV cache."""

    def __init__(self, model: MusicTransformer, instrument_token: int) -> None:
        self.model = model
        self.instrument_token = instrument_token
        self.cache = KVCache(model.cfg.n_layers)
        self.length = 0

    def encode(self, tokens: list[int], offsets: list[float], cond: torch.Tensor) -> torch.Tensor:
        """Re-encode from scratch: the instrument token then the newest tokens that fit."""
        keep = max(1, (self.model.cfg.context - self.model.cfg.prefix_len) // 2)
        body_tokens, body_offsets = tokens[1:][-keep:], offsets[1:][-keep:]
        window = [self.instrument_token, *body_tokens]
        window_offsets = [offsets[0] if not body_offsets else body_offsets[0], *body_offsets]
        self.cache = KVCache(self.model.cfg.n_layers)
        logits = self.model(
            torch.tensor([window]), torch.tensor([window_offsets]), cond=cond, cache=self.cache
        )
        return logits[0, -1]

    def step(self, token: int, offset: float) -> torch.Tensor:
        """Feed one token through the cache; returns the next logits."""
        logits = self.model(torch.tensor([[token]]), torch.tensor([[offset]]), cache=self.cache)
        return logits[0, -1]

    @property
    def full(self) -> bool:
        return self.cache.length >= self.model.cfg.context


@torch.inference_mode()
def generate(
    model: MusicTransformer,
    duration_s: float,
    segments: list[EmotionSegment],
    cuts_s: list[float] | None = None,
    sampling: SamplingConfig | None = None,
    cut_config: CutConfig | None = None,
    more_instruments: bool = True,
    tonic: int | None = None,
    progress: Progress | None = None,
) -> GenerationResult:
    """Generate a piece of exactly ``duration_s`` seconds.

    Args:
        model: the music transformer (eval mode).
        duration_s: target length in seconds.
        segments: emotion segments covering the piece, in time order (one for a constant mood).
        cuts_s: boundary times in seconds, already thinned (see ``boundaries.thin_cuts``).
        sampling: sampling settings (default: EMSYNC's).
        cut_config: boundary tolerance and horizon.
        more_instruments: EMSYNC's instrument-count control (True: 3+ instruments).
        tonic: pitch class of the piece's tonic for a model with a key prefix; each segment's
            valence then asks for the major or minor key on it (see ``keys``). None: no key.
        progress: called with (fraction of the duration done, message).

    Returns:
        A :class:`GenerationResult`.
    """
    sampling = sampling or SamplingConfig()
    cut_config = cut_config or CutConfig()
    if not segments:
        raise ValueError("at least one emotion segment is needed")
    started = time.perf_counter()
    key_prior = KeyPrior(sampling.key_prior)
    density_prior = DensityPrior(sampling.density_prior)
    rules = [key_prior, density_prior, *default_rules(sampling)]
    sampler = Sampler(sampling)
    state = DecodeState()
    tracker = BoundaryTracker(list(cuts_s or []), cut_config)
    end_ticks = tk.to_ticks(duration_s)

    uses_key = tonic is not None and model.cfg.n_keys > 0
    keys = [
        key_for_valence(seg.valence, tonic, sampling.mode_threshold) if uses_key else None
        for seg in segments
    ]

    def cond_for(index: int) -> torch.Tensor:
        seg = segments[index]
        key_prior.key = keys[index]
        density_prior.arousal = seg.arousal
        key_tensor = torch.tensor([-1 if keys[index] is None else keys[index]])
        return model.condition_vectors(
            torch.tensor([seg.valence]), torch.tensor([seg.arousal]), key_tensor
        )

    instrument = tk.MORE_INSTRUMENTS if more_instruments else tk.LESS_INSTRUMENTS
    tokens = [instrument, tk.BAR]
    offset0 = tracker.offset(0.0)
    offsets = [offset0, offset0]
    segment = _segment_at(segments, 0.0)
    window = _Window(model, instrument)
    logits = window.encode(tokens, offsets, cond_for(segment))
    last_report = 0.0
    while True:
        next_cut = tracker.next_unmarked_s()
        state.next_cut_ticks = -1 if next_cut is None else tk.to_ticks(next_cut)
        for rule in rules:
            logits = rule(logits, state)
        token = sampler(logits)
        if tk.is_shift(token) and state.time_ticks + tk.shift_ticks(token) >= end_ticks:
            break
        state.update(token, sampling)
        now_s = state.time_ticks * tk.TICK_S
        if token == tk.CHORD:
            tracker.on_chord(now_s, forced=state.forced_chord)
        tokens.append(token)
        offsets.append(tracker.offset(now_s))
        new_segment = _segment_at(segments, now_s)
        if new_segment != segment or window.full:
            segment = new_segment
            logits = window.encode(tokens, offsets, cond_for(segment))
        else:
            logits = window.step(token, offsets[-1])
        if progress is not None and now_s - last_report >= 1.0:
            last_report = now_s
            progress(min(1.0, now_s / duration_s), f"composing {now_s:.0f}/{duration_s:.0f} s")
    tracker.finish()
    if progress is not None:
        progress(1.0, "composed")
    decoded = tk.decode(tokens, end_s=duration_s)
    return GenerationResult(
        tokens=tokens,
        decoded=decoded,
        duration_s=duration_s,
        targets_s=sorted(tracker.hits_s + tracker.missed_s),
        hits_s=tracker.hits_s,
        missed_s=tracker.missed_s,
        forced_s=tracker.forced_s,
        elapsed_s=time.perf_counter() - started,
        keys=keys,
    )
