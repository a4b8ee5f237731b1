"""Autoregressive generation in musical time, on a plan, rendered onto the video's time.

The loop writes ticks (sixteenth notes) of the plan's bars: every position gets the plan inputs
of the time it stands at (the meter class and the planned chord), the boundary offset counted to
the next cut (in seconds at the reference tempo, as in training), and the emotion of the segment
it falls in (its key from the plan's section). Grammar rules (:mod:`vemidi.music.logits`) keep
the surface clean and strike the planned chord on every cut. The finished tokens are decoded and
mapped through the plan's tempo map, so a cut's chord starts on the cut to the millisecond.

The KV cache is rebuilt only now and then: when the window is full, the newest half of the
tokens is re-encoded behind the instrument-count token (EMSYNC slides the window by one token
each step, which re-encodes the whole window every token), and when the emotion or the key
changes, the window is re-encoded once with the new prefix.
"""

from __future__ import annotations

import bisect
import contextlib
import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch

from vemidi.config import SamplingConfig
from vemidi.music import tokenizer as tk
from vemidi.music.boundaries import offset_input
from vemidi.music.logits import (
    DecodeState,
    DensityPrior,
    HarmonyPrior,
    Sampler,
    TonalAnchor,
    default_rules,
)
from vemidi.music.model import KVCache, MusicTransformer
from vemidi.music.plan import Plan
from vemidi.types import EmotionSegment

Progress = Callable[[float, str], None]

# Decoding runs on one intra-op thread. Per token the model multiplies a handful of vectors by
# 3.6 M weights: memory-bound work that a second thread barely splits, while the two threads
# wait on each other at every one of ~40 small operations, and far worse when another process
# holds the other core (bench/generate_speed.py, figures in the README). One thread also
# leaves the second core to a concurrent request in the app.
DECODE_THREADS = 1


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """Run the block with ``n`` torch intra-op threads, then restore the previous number."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@dataclass(frozen=True)
class GenerationResult:
    """Tokens and bookkeeping of one generated piece.

    Attributes:
        tokens: every generated token, the instrument-count token first.
        score: the notes in musical time (seconds at the reference tempo, see the tokenizer).
        decoded: the notes in video time (closed at ``duration_s``), CHORD times and accents.
        plan: the plan the piece was written on.
        duration_s: the piece's length in seconds (exactly the plan's duration).
        targets_s: the cuts (bar lines of the plan).
        hits_s: cuts whose chord was struck on them.
        missed_s: cuts without one (only when the cut chord rule is off).
        forced_s: cuts whose CHORD the rule forced (the model did not choose it there).
        elapsed_s: wall time of the generation.
        keys: the key class of each section.
    """

    tokens: list[int]
    score: tk.Decoded
    decoded: tk.Decoded
    plan: Plan
    duration_s: float
    targets_s: list[float]
    hits_s: list[float]
    missed_s: list[float]
    forced_s: list[float]
    elapsed_s: float
    keys: list[int]

    @property
    def tokens_per_s(self) -> float:
        """Generated tokens per wall-clock second."""
        return len(self.tokens) / max(self.elapsed_s, 1e-9)


def _segment_at(segments: list[EmotionSegment], now_s: float) -> int:
    for i in range(len(segments) - 1, -1, -1):
        if segments[i].start_s <= now_s:
            return i
    return 0


def model_arousal(arousal: float, scale: float, shift: float) -> float:
    """The arousal the model is given for a requested one: ``scale x arousal + shift``, clipped
    to -1..1 (see ``SamplingConfig.arousal_input_scale``); NaN stays NaN (no condition)."""
    if math.isnan(arousal):
        return arousal
    return min(1.0, max(-1.0, scale * arousal + shift))


def stream_conditions(
    model: MusicTransformer, valence: float, arousal: float, key: int, guidance_key: bool
) -> torch.Tensor:
    """The two streams' prefix vectors: row 0 with the requested valence, arousal and key; row 1
    (guidance's unconditioned stream) with no valence or arousal, and no key either when
    ``guidance_key`` (see :class:`~vemidi.config.SamplingConfig`)."""
    nan = float("nan")
    return model.condition_vectors(
        torch.tensor([valence, nan]),
        torch.tensor([arousal, nan]),
        torch.tensor([key, -1 if guidance_key else key]),
    )


class _Window:
    """The tokens the model currently sees, with their offsets and plan inputs, behind a cache."""

    def __init__(self, model: MusicTransformer, instrument_token: int, guidance: float) -> None:
        self.model = model
        self.instrument_token = instrument_token
        self.guidance = guidance
        self.cache = KVCache(model.cfg.n_layers)

    @property
    def streams(self) -> int:
        """1, or 2 with guidance: the conditioned stream and the one without valence/arousal."""
        return 1 if self.guidance == 1.0 else 2

    def _mix(self, last: torch.Tensor) -> torch.Tensor:
        """``(streams, vocab)`` logits -> one row, pushed away from the unconditioned stream."""
        if self.streams == 1:  # a copy: the model's output may be an inference tensor
            return last[0].clone()
        return last[1] + self.guidance * (last[0] - last[1])

    def encode(
        self,
        tokens: list[int],
        offsets: list[float],
        plans: list[tuple[int, int]],
        cond: torch.Tensor,
    ) -> torch.Tensor:
        """Re-encode from scratch: the instrument token then the newest tokens that fit."""
        keep = max(1, (self.model.cfg.context - self.model.cfg.prefix_len) // 2)
        body = slice(max(1, len(tokens) - keep), len(tokens))
        window = [self.instrument_token, *tokens[body]]
        first = body.start - 1  # the instrument token stands where the window starts
        window_offsets = [offsets[first], *offsets[body]]
        window_plans = [plans[first], *plans[body]]
        self.cache.restart()
        n = self.streams
        logits = self.model(
            torch.tensor([window] * n),
            torch.tensor([window_offsets] * n),
            cond=cond[:n],
            cache=self.cache,
            plan=torch.tensor([window_plans] * n),
        )
        return self._mix(logits[:, -1])

    def step(self, token: int, offset: float, plan: tuple[int, int]) -> torch.Tensor:
        """Feed one token through the cache; returns the next logits."""
        n = self.streams
        logits = self.model.step(
            torch.tensor([[token]] * n),
            torch.tensor([[offset]] * n),
            torch.tensor([[plan]] * n),
            self.cache,
        )
        return self._mix(logits)

    @property
    def full(self) -> bool:
        return self.cache.length >= self.model.cfg.context


def to_video_time(score: tk.Decoded, plan: Plan) -> tk.Decoded:
    """Map notes and chord times from musical time onto the video through the tempo map."""

    def seconds(t: float) -> float:
        return plan.beat_to_s(tk.ticks_to_beats(tk.to_ticks(t)))

    notes = [
        tk.Note(n.instrument, n.pitch, seconds(n.start_s), min(seconds(n.end_s), plan.duration_s))
        for n in score.notes
    ]
    return tk.Decoded(
        notes, [seconds(t) for t in score.chord_times_s], score.accented, plan.duration_s
    )


def generate(
    model: MusicTransformer,
    plan: Plan,
    segments: list[EmotionSegment],
    sampling: SamplingConfig | None = None,
    more_instruments: bool = True,
    horizon_s: float = 8.0,
    progress: Progress | None = None,
    threads: int = DECODE_THREADS,
) -> GenerationResult:
    """Generate a piece on ``plan`` (its duration, bars, chords, keys and cuts).

    Args:
        model: the music transformer (eval mode), with plan inputs.
        plan: the plan from :func:`vemidi.music.plan.build_plan`.
        segments: emotion segments covering the piece, in video time (one for a constant mood).
        sampling: sampling settings (default: EMSYNC's plus our rules).
        more_instruments: EMSYNC's instrument-count control (True: 3+ instruments).
        horizon_s: the boundary-offset horizon (EMSYNC: 8 s; here reference-tempo seconds).
        progress: called with (fraction of the duration done, message).
        threads: torch intra-op threads while decoding (see :data:`DECODE_THREADS`).

    Returns:
        A :class:`GenerationResult`.
    """
    with torch_threads(threads):
        return _decode(model, plan, segments, sampling, more_instruments, horizon_s, progress)


def _phrase_ends(plan: Plan, phrase_bars: int, cut_ticks: list[int]) -> list[int]:
    """Ticks where a phrase ends: every ``phrase_bars`` bars (counted from each section's
    start) and at every cut (0: none)."""
    if phrase_bars <= 0:
        return []
    ends, count = set(cut_ticks), 0
    starts = {s.start_beat for s in plan.sections}
    for bar in plan.bars:
        count = 0 if bar.start_beat in starts else count
        if count and count % phrase_bars == 0:
            ends.add(bar.start_beat * tk.TICKS_PER_BEAT)
        count += 1
    return sorted(t for t in ends if 0 < t < plan.total_ticks)


@torch.inference_mode()
def _decode(
    model: MusicTransformer,
    plan: Plan,
    segments: list[EmotionSegment],
    sampling: SamplingConfig | None,
    more_instruments: bool,
    horizon_s: float,
    progress: Progress | None,
) -> GenerationResult:
    sampling = sampling or SamplingConfig()
    if not segments:
        raise ValueError("at least one emotion segment is needed")
    if not more_instruments:  # one or two instruments: a single line may sound alone
        sampling = replace(sampling, min_sounding_notes=min(1, sampling.min_sounding_notes))
    started = time.perf_counter()
    priors = [
        HarmonyPrior(sampling.harmony_prior),
        DensityPrior(sampling.density_prior),
        TonalAnchor(sampling.tonal_anchor),
    ]
    rules = [*priors, *default_rules(sampling)]
    sampler = Sampler(sampling)
    state = DecodeState()
    meter_table, chord_table = plan.tick_tables()
    end_ticks = plan.total_ticks
    cut_ticks = [b * tk.TICKS_PER_BEAT for b in plan.cut_beats]
    pending = list(cut_ticks) if sampling.cut_chords else []
    breaths = _phrase_ends(plan, sampling.phrase_bars, cut_ticks)
    struck: list[int] = []
    forced: list[int] = []

    # Per tick: the emotion segment and key in force, and the video time (looked up, not searched,
    # in the token loop).
    video_s = [plan.beat_to_s(tk.ticks_to_beats(t)) for t in range(end_ticks + 1)]
    sections = [plan.section_at(tk.ticks_to_beats(t)) for t in range(end_ticks)]
    contexts = [(_segment_at(segments, video_s[t]), sections[t].key) for t in range(end_ticks)]

    def plan_at(tick: int) -> tuple[int, int]:
        tick = min(tick, end_ticks)
        return meter_table[tick], chord_table[tick]

    def offset_at(tick: int) -> float:
        index = bisect.bisect_left(cut_ticks, tick)
        distance = (cut_ticks[index] - tick) * tk.TICK_S if index < len(cut_ticks) else math.inf
        return offset_input(distance, horizon_s)

    def context_at(tick: int) -> tuple[int, int]:
        """(emotion segment, key) in force at a tick."""
        return contexts[min(tick, end_ticks - 1)]

    def cond_for(context: tuple[int, int]) -> torch.Tensor:
        seg = segments[context[0]]
        arousal = model_arousal(
            seg.arousal, sampling.arousal_input_scale, sampling.arousal_input_shift
        )
        return stream_conditions(model, seg.valence, arousal, context[1], sampling.guidance_key)

    instrument = tk.MORE_INSTRUMENTS if more_instruments else tk.LESS_INSTRUMENTS
    tokens, offsets, plans = [instrument], [offset_at(0)], [plan_at(0)]
    context = context_at(0)
    window = _Window(model, instrument, sampling.guidance)
    logits = window.encode(tokens, offsets, plans, cond_for(context))
    last_report = 0.0
    while True:
        state.next_cut_ticks = pending[0] if pending else -1
        while breaths and breaths[0] <= state.time_ticks:
            breaths.pop(0)
        state.next_breath_ticks = breaths[0] if breaths else -1
        state.chord = chord_table[min(state.time_ticks, end_ticks)]
        state.key = context[1]
        state.arousal = segments[context[0]].arousal
        section = sections[min(state.time_ticks, end_ticks - 1)]
        state.mode, state.valence = section.mode, section.valence
        state.section_start_ticks = section.start_beat * tk.TICKS_PER_BEAT
        for rule in rules:
            logits = rule(logits, state)
        token = sampler(logits)
        if tk.is_shift(token) and state.time_ticks + tk.shift_ticks(token) >= end_ticks:
            break
        if token == tk.CHORD and pending:
            struck.append(pending.pop(0))
            if state.forced_chord:
                forced.append(struck[-1])
        state.update(token, sampling)
        tokens.append(token)
        offsets.append(offset_at(state.time_ticks))
        plans.append(plan_at(state.time_ticks))
        new_context = context_at(state.time_ticks)
        if new_context != context or window.full:
            context = new_context
            logits = window.encode(tokens, offsets, plans, cond_for(context))
        else:
            logits = window.step(token, offsets[-1], plans[-1])
        now_s = video_s[min(state.time_ticks, end_ticks)]
        if progress is not None and now_s - last_report >= 1.0:
            last_report = now_s
            progress(
                min(1.0, now_s / plan.duration_s), f"composing {now_s:.0f}/{plan.duration_s:.0f} s"
            )
    if progress is not None:
        progress(1.0, "composed")
    score = tk.decode(tokens, end_s=end_ticks * tk.TICK_S)
    decoded = to_video_time(score, plan)

    def video_s(tick: int) -> float:
        return round(plan.beat_to_s(tk.ticks_to_beats(tick)), 6)

    return GenerationResult(
        tokens=tokens,
        score=score,
        decoded=decoded,
        plan=plan,
        duration_s=plan.duration_s,
        targets_s=[video_s(t) for t in cut_ticks],
        hits_s=[video_s(t) for t in struck],
        missed_s=[video_s(t) for t in cut_ticks if t not in struck],
        forced_s=[video_s(t) for t in forced],
        elapsed_s=time.perf_counter() - started,
        keys=[s.key for s in plan.sections],
    )
