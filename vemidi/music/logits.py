"""Sampling as small composable pieces: grammar rules that mask logits, then a sampler.

Each rule looks at the :class:`DecodeState` (what is sounding, how far time has advanced, whether
a boundary chord is being written) and masks tokens that would break the event grammar:

* :class:`ForbidControlTokens` - PAD, START and the instrument-count tokens are never sampled;
* :class:`NoteGrammar` - no NOTE_OFF for a note that is not sounding, no second NOTE_ON of one;
* :class:`BoundaryChord` - after a CHORD token, at least ``chord_min_notes`` note-ons before
  time may move, then those notes are held (no new onsets, no releases) for ``chord_hold_s``.
  EMSYNC leaves this to the model; a first experiment showed a small model places CHORD tokens
  well but rarely follows them with a sustained chord, so vemidi makes the grammar require it;
* :class:`ForceProgress` - time must advance after ``max_events`` events at one instant.

:class:`Sampler` then applies temperature (with EMSYNC's adaptive repetition penalty), top-k and
top-p, and draws with a seeded generator.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import torch

from vemidi.config import SamplingConfig
from vemidi.music import tokenizer as tk

_N_KEYS = tk.N_INSTRUMENTS * tk.N_PITCHES
_OFF_SLICE = slice(tk.NOTE_BASE, tk.NOTE_BASE + _N_KEYS)
_ON_SLICE = slice(tk.NOTE_BASE + _N_KEYS, tk.VOCAB_SIZE)
_SHIFT_SLICE = slice(tk.SHIFT_BASE, tk.NOTE_BASE)
_NEG_INF = float("-inf")
_SHIFT_TICKS = torch.arange(1, tk.NOTE_BASE - tk.SHIFT_BASE + 1)  # ticks of each shift token
_LOG_SHIFT = torch.log(_SHIFT_TICKS / 12.0)  # 12 ticks ~ 0.1 s: shorter shifts < 0 < longer


@dataclass
class DecodeState:
    """What the grammar rules need to know about the tokens so far."""

    time_ticks: int = 0
    sounding: torch.Tensor = field(default_factory=lambda: torch.zeros(_N_KEYS, dtype=torch.bool))
    onset_ticks: torch.Tensor = field(
        default_factory=lambda: torch.zeros(_N_KEYS, dtype=torch.long)
    )
    events_since_shift: int = 0
    chord_notes_needed: int = 0
    chord_keys: list[int] = field(default_factory=list)
    hold_until_ticks: int = -1
    next_cut_ticks: int = -1  # the next boundary not yet marked by a CHORD (-1: none)
    forced_chord: bool = False  # set by CutChord when it leaves CHORD as the only choice

    def update(self, token: int, config: SamplingConfig) -> None:
        """Advance the state by one sampled token."""
        if tk.is_shift(token):
            if self.chord_keys and self.hold_until_ticks < 0:
                self.hold_until_ticks = self.time_ticks + tk.to_ticks(config.chord_hold_s)
            self.time_ticks += tk.shift_ticks(token)
            self.events_since_shift = 0
            if 0 <= self.hold_until_ticks <= self.time_ticks:
                self.chord_keys, self.hold_until_ticks = [], -1
            return
        self.events_since_shift += 1
        if token == tk.CHORD:
            self.chord_notes_needed = config.chord_min_notes
            self.chord_keys, self.hold_until_ticks = [], -1
        elif tk.is_note(token):
            key = (token - tk.NOTE_BASE) % _N_KEYS
            is_on = token >= _ON_SLICE.start
            self.sounding[key] = is_on
            if is_on:
                self.onset_ticks[key] = self.time_ticks
            if is_on and self.chord_notes_needed > 0:
                self.chord_notes_needed -= 1
                self.chord_keys.append(key)

    @property
    def holding(self) -> bool:
        """Whether a boundary chord is being held (its notes sound, time has moved past it)."""
        return self.hold_until_ticks >= 0


class ForbidControlTokens:
    """PAD, START and the instrument-count controls are inputs, never outputs."""

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        logits[[tk.PAD, tk.START, tk.LESS_INSTRUMENTS, tk.MORE_INSTRUMENTS]] = _NEG_INF
        return logits


class NoteGrammar:
    """A NOTE_OFF needs its note sounding and started before now (no zero-length notes, which
    the corpus never has); a NOTE_ON needs its note silent."""

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        releasable = state.sounding & (state.onset_ticks < state.time_ticks)
        logits[_OFF_SLICE].masked_fill_(~releasable, _NEG_INF)
        logits[_ON_SLICE].masked_fill_(state.sounding, _NEG_INF)
        return logits


class BoundaryChord:
    """After CHORD: enough note-ons before time moves, then a held chord (see module doc)."""

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if state.chord_notes_needed > 0:
            if torch.isinf(logits[_ON_SLICE]).all():  # nothing left to sound: drop the chord
                state.chord_notes_needed = 0
                return logits
            logits[_SHIFT_SLICE] = _NEG_INF
            logits[[tk.CHORD, tk.BAR]] = _NEG_INF
            logits[_OFF_SLICE][state.chord_keys] = _NEG_INF
        elif state.holding:
            logits[_ON_SLICE] = _NEG_INF
            logits[tk.CHORD] = _NEG_INF
            logits[_OFF_SLICE][state.chord_keys] = _NEG_INF
        return logits


class DensityPrior:
    """Our fallback for arousal, as the key prior is for valence: tilt the time-shift logits.

    Adds ``weight * -arousal * ln(ticks / 12)`` to each shift token, then renormalises the shifts
    so that their total probability (how often time moves) stays the model's: high arousal
    favours short shifts (more events per second), low arousal long ones. The model's own
    arousal response separates +0.8 from the rest but hardly 0 from -0.8 (model card); this
    makes the request audible at every level. ``arousal`` is set per emotion segment (NaN: off).
    """

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.arousal = float("nan")

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.weight > 0 and self.arousal == self.arousal:  # not NaN
            shifts = logits[_SHIFT_SLICE]
            before = torch.logsumexp(shifts, 0)
            tilted = shifts + (self.weight * -self.arousal) * _LOG_SHIFT.to(logits.dtype)
            if torch.isfinite(before):  # keep P(time moves) as the model said: only the length
                logits[_SHIFT_SLICE] = tilted - torch.logsumexp(tilted, 0) + before
        return logits


class CutChord:
    """Our addition: every cut gets its boundary chord, placed by the model or else forced.

    EMSYNC leaves the CHORD before a cut to the model, guided by the boundary offset. A small
    CPU-trained model marks only part of the cuts (see the model card), and a soundtrack whose
    chord misses the cut is the failure a user hears. So time may not step past the next
    unmarked cut, and on reaching it CHORD is the only choice; ``BoundaryChord`` then makes it a
    real, held chord. A CHORD the model samples within the tolerance before the cut marks it,
    and nothing is forced.
    """

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        state.forced_chord = False
        cut = state.next_cut_ticks
        if cut < 0 or state.chord_notes_needed > 0:
            return logits
        if state.time_ticks >= cut:
            logits.fill_(_NEG_INF)
            logits[tk.CHORD] = 0.0
            state.forced_chord = True
        else:
            logits[_SHIFT_SLICE][state.time_ticks + _SHIFT_TICKS > cut] = _NEG_INF
        return logits


class ForceProgress:
    """After ``max_events`` events at one instant, only a time shift may follow."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        # A boundary chord's few note-ons come first (they are bounded by chord_min_notes).
        if state.events_since_shift >= self.max_events and state.chord_notes_needed == 0:
            shifts = logits[_SHIFT_SLICE].clone()
            logits.fill_(_NEG_INF)
            logits[_SHIFT_SLICE] = torch.where(torch.isinf(shifts), 0.0, shifts)
        return logits


class MaxNoteLength:
    """A note sounding longer than ``max_note_s`` must be released before anything else.

    Our addition: after the context window slides, a note whose NOTE_ON fell out of the window is
    invisible to the model, which then rarely releases it; such notes would ring to the end.
    """

    def __init__(self, max_note_s: float) -> None:
        self.max_ticks = tk.to_ticks(max_note_s) if max_note_s > 0 else 0

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.max_ticks:
            overdue = state.sounding & (state.time_ticks - state.onset_ticks > self.max_ticks)
            if overdue.any():
                off = logits[_OFF_SLICE].clone()
                logits.fill_(_NEG_INF)
                logits[_OFF_SLICE] = torch.where(
                    overdue, torch.nan_to_num(off, neginf=0.0), _NEG_INF
                )
        return logits


def default_rules(config: SamplingConfig) -> list:
    """The grammar rules, in the order they are applied."""
    return [
        ForbidControlTokens(),
        NoteGrammar(),
        BoundaryChord(),
        ForceProgress(config.max_events_per_step),
        # After ForceProgress, which re-opens every time shift, including those past the cut.
        *([CutChord()] if config.cut_chords else []),
        MaxNoteLength(config.max_note_s),
    ]


class Sampler:
    """Temperature (with EMSYNC's adaptive repetition penalty), top-k, top-p, seeded draw.

    The penalty counts consecutive steps whose nucleus holds at most two tokens (halving the
    count otherwise) and multiplies the temperature by ``1 + max(0, c * ln((count + 1) / 4))``.
    """

    def __init__(self, config: SamplingConfig) -> None:
        self.config = config
        self.generator = torch.Generator().manual_seed(config.seed)
        self.narrow_steps = 0

    def temperature(self) -> float:
        """Temperature for the next draw."""
        boost = self.config.repetition_penalty * math.log((self.narrow_steps + 1) / 4)
        return self.config.temperature * (1.0 + max(0.0, boost))

    def __call__(self, logits: torch.Tensor) -> int:
        probs = torch.softmax(logits.float() / self.temperature(), dim=-1)
        sorted_probs, order = torch.sort(probs, descending=True)
        keep = torch.ones_like(sorted_probs, dtype=torch.bool)
        if self.config.top_k > 0:
            keep[self.config.top_k :] = False
        if self.config.top_p < 1.0:
            # Keep the smallest prefix whose mass reaches top_p (always the first token).
            before = torch.cumsum(sorted_probs, dim=-1) - sorted_probs
            keep &= before < self.config.top_p
        keep &= sorted_probs > 0
        keep[0] = True
        n_kept = int(keep.sum())
        self.narrow_steps = self.narrow_steps + 1 if n_kept <= 2 else self.narrow_steps // 2
        kept = torch.where(keep, sorted_probs, torch.zeros_like(sorted_probs))
        choice = torch.multinomial(kept, 1, generator=self.generator)
        return int(order[choice])
