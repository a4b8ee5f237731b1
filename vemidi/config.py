"""Frozen, validated configurations of each stage.

Every field is checked in ``__post_init__``; a bad value raises :class:`InvalidInputError`
naming the field, its allowed range and the value received.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from vemidi.errors import InvalidInputError

MAX_DURATION_S = 30 * 60.0  # the longest piece (and video) vemidi composes for


def check_range(name: str, value: float, low: float, high: float) -> None:
    """Raise :class:`InvalidInputError` unless ``low <= value <= high`` (and not NaN)."""
    if not isinstance(value, (int, float)) or math.isnan(value) or not low <= value <= high:
        raise InvalidInputError(f"{name} must be between {low:g} and {high:g}, got {value!r}.")


def check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    """Raise :class:`InvalidInputError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise InvalidInputError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


@dataclass(frozen=True)
class SamplingConfig:
    """How tokens are drawn from the model (EMSYNC demo defaults).

    Attributes:
        temperature: softmax temperature (EMSYNC: 1.35).
        top_p: nucleus mass kept (EMSYNC: 0.6); 1 keeps everything.
        top_k: keep only the k most likely tokens; 0 turns it off (EMSYNC: off).
        repetition_penalty: EMSYNC's adaptive coefficient that raises the temperature while
            the nucleus stays tiny (0.4); 0 turns it off.
        seed: random seed; the same seed and inputs give the same music.
        chord_min_notes: note-ons required after a sampled CHORD before time may advance.
        chord_hold_s: after a boundary chord, no new onsets for this long (0 = off).
        max_events_per_step: at most this many events at one instant before a shift is forced.
        max_note_s: a note sounding longer than this is released first (0 = off; our addition,
            see ``logits.MaxNoteLength``).
        key_prior: weight of the decoding-time key prior (a scaled log key profile of the
            requested key added to note-on logits); 0 turns it off. Our addition, not EMSYNC's.
        density_prior: weight of the decoding-time density prior (time-shift logits tilted by
            arousal, see ``logits.DensityPrior``); 0 turns it off. Our addition, not EMSYNC's.
        mode_threshold: |valence| above which a major (positive) or minor (negative) key is
            requested from a model with a key prefix; below it the key stays open.
        cut_chords: guarantee a boundary chord at every cut the model has not marked itself
            (see ``logits.CutChord``; our addition, not EMSYNC's). False: the model alone.
    """

    temperature: float = 1.35
    top_p: float = 0.6
    top_k: int = 0
    repetition_penalty: float = 0.4
    seed: int = 0
    chord_min_notes: int = 3
    chord_hold_s: float = 1.0
    max_events_per_step: int = 32
    max_note_s: float = 2.0
    key_prior: float = 2.0
    density_prior: float = 1.0
    mode_threshold: float = 0.25
    cut_chords: bool = True

    def __post_init__(self) -> None:
        check_range("temperature", self.temperature, 0.05, 5.0)
        check_range("top_p", self.top_p, 0.01, 1.0)
        check_range("top_k", self.top_k, 0, 10_000)
        check_range("repetition_penalty", self.repetition_penalty, 0.0, 5.0)
        check_range("seed", self.seed, 0, 2**32 - 1)
        check_range("chord_min_notes", self.chord_min_notes, 0, 12)
        check_range("chord_hold_s", self.chord_hold_s, 0.0, 8.0)
        check_range("max_events_per_step", self.max_events_per_step, 4, 1000)
        check_range("max_note_s", self.max_note_s, 0.0, 60.0)
        check_range("key_prior", self.key_prior, 0.0, 10.0)
        check_range("density_prior", self.density_prior, 0.0, 10.0)
        check_range("mode_threshold", self.mode_threshold, 0.0, 1.0)


@dataclass(frozen=True)
class CutConfig:
    """How scene cuts become musical boundaries (EMSYNC: 4 s gap, +-1 s tolerance, 8 s horizon)."""

    min_gap_s: float = 4.0
    tolerance_s: float = 1.0
    horizon_s: float = 8.0

    def __post_init__(self) -> None:
        check_range("min_gap_s", self.min_gap_s, 0.0, 60.0)
        check_range("tolerance_s", self.tolerance_s, 0.0, 4.0)
        check_range("horizon_s", self.horizon_s, 0.5, 60.0)
