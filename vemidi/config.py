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
    """How tokens are drawn from the model (EMSYNC's sampler plus our grammar rules).

    The defaults differ from EMSYNC's demo (temperature 1.35, top-p 0.6), which was tuned for
    its 37 M-parameter model: with ours, the 0.6 nucleus cut the rarer rhythms away and left
    streams of even eighth notes (78% of inter-onset gaps, against 55% in the corpus; note-length
    spread 1.5 against 0.8), which the two-sample test spotted at once. Top-p 0.95 keeps close to
    the distribution the model learned; temperature 1.1 (since the twenty-sixth sitting, with the
    model trained three runs further) loosens a sharper model's rhythm: on one fresh seed set,
    two-sample AUC 0.735 -> 0.659 against 1.0, valence -> mode 0.93 and 0.91 (model card).

    Attributes:
        temperature: softmax temperature (EMSYNC: 1.35).
        top_p: nucleus mass kept (EMSYNC: 0.6); 1 keeps everything.
        top_k: keep only the k most likely tokens; 0 turns it off (EMSYNC: off).
        repetition_penalty: EMSYNC's adaptive coefficient that raises the temperature while
            the nucleus stays tiny (0.4); 0 turns it off.
        seed: random seed; the same seed and inputs give the same music.
        chord_min_notes: notes struck on a cut (the bass on the chord's root first).
        chord_hold_beats: the notes struck on a cut are held at least this long (0 = off).
        max_events_per_step: at most this many events at one instant before a shift is forced.
        max_note_beats: a note sounding longer than this is released first (0 = off; our
            addition, see ``logits.MaxNoteLength``).
        max_silence_beats: the longest silence allowed (0 = off; our addition).
        min_sounding_notes: time may not move while fewer pitched notes sound (0 = off; our
            addition; generation uses 1 when fewer instruments are asked for).
        harmony_prior: weight of the decoding-time harmony prior (chord tones preferred over
            other scale tones, scale tones over chromatic ones); 0 (the default) turns it off:
            measured, it made the music too diatonic and did not strengthen the mode.
        density_prior: weight of the decoding-time density prior (time-shift logits tilted by
            arousal, see ``logits.DensityPrior``); 0 (the default) turns it off: measured, it
            skewed the rhythm towards sixteenths at high arousal, and tempo now carries arousal.
        cut_chords: strike the planned chord on every cut (see ``logits.CutChord``; our
            addition, not EMSYNC's). False: the model alone.
        guidance: classifier-free guidance on valence and arousal (our addition, not EMSYNC's,
            which samples the conditioned model alone): the logits are
            ``u + guidance * (c - u)``, c with the requested valence and arousal, u with both
            null (the model learned the null vectors through EMSYNC's condition dropout). 1
            turns it off (one stream); measured at 2 (two streams, one batch): valence -> mode
            Spearman 0.79 -> 0.93 and arousal -> notes/beat 0.50 -> 0.79 on the preview grid,
            at about 20% more time per token (model card). 1.5 since the twenty-sixth sitting:
            the model shipped then follows its inputs harder (at 1.75, mode no higher and the
            AUC no lower on fresh seeds 210-219; model card).
        guidance_key: the unconditioned stream also goes without the key (the plan's key
            still reaches the conditioned one), so guidance pushes towards the key as well.
            Off by default: with the shipped model, on seeds 10-19, AUC 0.776 and valence ->
            mode 0.82 against 0.692 and 0.88 (a 95-minute model trained from scratch on the
            multi-voice works once needed it: mode 0.62 -> 0.78, model card, tenth sitting).
        max_unison_share: share of pitched notes that may double another instrument's note
            struck at the same instant (counted as the measure counts: both notes of a pair);
            0 forbids unisons. Our addition (``logits.CleanTexture``); at 0.08 the pieces
            double 2.8% of their notes (the corpus: 4.2%).
        phrase_bars: a phrase ends every this many bars and at every cut (0: no phrases).
        breath_beats: no new pitched onset in the last this many beats of a phrase, where
            arousal is under -0.4 (``logits.PhraseBreath``; our addition); 0 turns it off.
            Measured with ``max_unison_share`` 0.08 on the evaluation grid: two-sample AUC
            0.94-0.96 -> 0.89-0.91, silence 0 -> 1.9% (corpus 1.3%), valence -> mode 0.86 ->
            0.83 (within the grid's noise; with the narrower register that followed, 0.89;
            model card).
        held_breath_beats: from arousal -0.4 up, a breath lasts this long and holds the
            planned chord, as a fermata does (tones outside it are released, the chord tones
            only in the breath's last half beat; ``logits.PhraseBreath``); 0: every breath is
            ``breath_beats`` and left to the model, which makes it mostly a rest. Our addition;
            on 90 pieces of the grid, two-sample AUC 0.846 -> 0.796 (0.91 / 0.82 / 0.92 at
            arousal -0.8 / 0 / +0.8 against 0.91 / 0.89 / 0.96), silence 2.0% -> 0.7%, valence
            -> mode 0.89 either way (model card, sixteenth sitting).
        tonal_anchor: weight of the tonal anchor (``logits.TonalAnchor``; our addition): where
            the music so far reads less major (a major section) or less minor (a minor one)
            than the plan's target, note-ons of the key's tonic (and fifth, in major) are
            tilted up; 0 (the default) turns it off, 1 is the measured setting. Off by default
            because it is a decoding prior and costs realism: on 90 pieces of the grid for
            each of five fresh seed sets, valence -> mode 0.86 -> 0.91 but two-sample AUC 0.80
            -> 0.82 with the previous model (model card, nineteenth sitting); with the shipped
            one, on the evaluation's pieces, mode 0.86 either way and AUC 0.72 -> 0.78.
        arousal_input_scale, arousal_input_shift: the model is given ``scale x arousal +
            shift`` for the requested arousal (clipped to -1..1); 1 and 0 give it the request
            unchanged. Our addition: the shipped model learned its arousal labels on the works
            for three or more instruments, whose busy half is far busier than the held-out
            corpus, and given the grid's arousal as it stands it wrote 3.0 / 6.8 / 13.1 notes a
            second at -0.8 / 0 / +0.8 (the held-out excerpts 4.9 +- 2.3). At 0.6 and -0.4, on 90
            pieces of the grid for each of six seed sets, 2.9 / 5.4 / 9.2 and two-sample AUC
            0.711 against the previous model's 0.808 at its defaults (model card, twenty-first
            sitting). Only the model's input changes: the plan's tempo and the rules read the
            request.
    """

    temperature: float = 1.1
    top_p: float = 0.95
    top_k: int = 0
    repetition_penalty: float = 0.4
    seed: int = 0
    chord_min_notes: int = 3
    chord_hold_beats: float = 2.0
    max_events_per_step: int = 32
    max_note_beats: float = 4.0
    max_silence_beats: float = 1.0
    min_sounding_notes: int = 3
    harmony_prior: float = 0.0
    density_prior: float = 0.0
    cut_chords: bool = True
    guidance: float = 1.5
    guidance_key: bool = False
    max_unison_share: float = 0.08
    phrase_bars: int = 4
    breath_beats: float = 1.5
    held_breath_beats: float = 2.5
    tonal_anchor: float = 0.0
    arousal_input_scale: float = 0.6
    arousal_input_shift: float = -0.4

    def __post_init__(self) -> None:
        check_range("temperature", self.temperature, 0.05, 5.0)
        check_range("top_p", self.top_p, 0.01, 1.0)
        check_range("top_k", self.top_k, 0, 10_000)
        check_range("repetition_penalty", self.repetition_penalty, 0.0, 5.0)
        check_range("seed", self.seed, 0, 2**32 - 1)
        check_range("chord_min_notes", self.chord_min_notes, 0, 6)
        check_range("chord_hold_beats", self.chord_hold_beats, 0.0, 16.0)
        check_range("max_events_per_step", self.max_events_per_step, 4, 1000)
        check_range("max_note_beats", self.max_note_beats, 0.0, 64.0)
        check_range("max_silence_beats", self.max_silence_beats, 0.0, 64.0)
        check_range("min_sounding_notes", self.min_sounding_notes, 0, 8)
        check_range("guidance", self.guidance, 0.0, 10.0)
        check_range("harmony_prior", self.harmony_prior, 0.0, 10.0)
        check_range("density_prior", self.density_prior, 0.0, 10.0)
        check_range("tonal_anchor", self.tonal_anchor, 0.0, 10.0)
        check_range("max_unison_share", self.max_unison_share, 0.0, 1.0)
        check_range("phrase_bars", self.phrase_bars, 0, 64)
        check_range("breath_beats", self.breath_beats, 0.0, 8.0)
        check_range("held_breath_beats", self.held_breath_beats, 0.0, 8.0)
        check_range("arousal_input_scale", self.arousal_input_scale, 0.0, 2.0)
        check_range("arousal_input_shift", self.arousal_input_shift, -1.0, 1.0)


# The SamplingConfig fields a user sets (CLI options, the app, pipeline.Controls), each under the
# same name there; the others are the decoder's measured settings.
USER_SAMPLING_FIELDS = ("temperature", "top_p", "top_k", "seed", "tonal_anchor")


@dataclass(frozen=True)
class PlanConfig:
    """The musical plan's choices the user can make (see :mod:`vemidi.music.plan`).

    Attributes:
        tempo_bpm: base tempo (30-240 bpm); None: from arousal.
        beats_per_bar: the meter (2-7 beats of a quarter note).
        percussion: ``auto`` (drums where arousal > 0), ``on`` or ``off``.
    """

    tempo_bpm: float | None = None
    beats_per_bar: int = 4
    percussion: str = "auto"

    def __post_init__(self) -> None:
        if self.tempo_bpm is not None:
            check_range("tempo_bpm", self.tempo_bpm, 30.0, 240.0)
        check_range("beats_per_bar", self.beats_per_bar, 2, 7)
        if self.beats_per_bar != int(self.beats_per_bar):
            raise InvalidInputError(f"beats_per_bar must be whole, got {self.beats_per_bar!r}.")
        check_choice("percussion", self.percussion, ("auto", "on", "off"))


@dataclass(frozen=True)
class CutConfig:
    """How scene cuts become musical boundaries (EMSYNC: cuts 4 s apart, an 8 s horizon).

    EMSYNC also counts a cut as hit by a CHORD within 1 s; vemidi's plan puts a bar line and a
    struck chord on the cut itself, so there is no tolerance to set.
    """

    min_gap_s: float = 4.0
    horizon_s: float = 8.0

    def __post_init__(self) -> None:
        check_range("min_gap_s", self.min_gap_s, 0.0, 60.0)
        check_range("horizon_s", self.horizon_s, 0.5, 60.0)
