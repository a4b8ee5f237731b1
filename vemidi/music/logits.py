"""Sampling as small composable pieces: grammar rules that mask logits, then a sampler.

Each rule looks at the :class:`DecodeState` (what is sounding, the time in ticks, the planned
chord, whether a cut chord is being struck) and masks tokens that would break the grammar or
the plan. EMSYNC leaves all of this to the model; each rule below says why we do not:

* :class:`ForbidControlTokens` - PAD, START, BAR, the instrument-count tokens and drum notes
  are never sampled (the plan gives the bars; drums come from :mod:`vemidi.music.drums`), and
  CHORD only where ``CutChord`` asks for it;
* :class:`NoteGrammar` - no NOTE_OFF for a note that is not sounding or started this instant
  (every note lasts at least a sixteenth), no second NOTE_ON of a sounding note;
* :class:`CleanTexture` - a monophonic bass, no unison doubling across instruments (a first
  listening test found both in the output, and the corpus has little of either), and each
  instrument within its register;
* :class:`CutChord` - time may not pass the next cut; on it, every sounding note is released,
  CHORD is written, then the bass strikes the planned chord's root and two more chord tones
  follow before time moves, and those notes are held ``chord_hold_beats``;
* :class:`PhraseBreath` - no new onset in the last beats of each phrase; from arousal -0.4 up
  the planned chord is held through them, as a fermata is;
* :class:`ForceProgress` - time must advance after ``max_events`` events at one instant;
* :class:`NoLongSilence` - with nothing sounding, time may move at most ``max_silence_beats``;
* :class:`TextureFloor` - time may not move while fewer than ``min_sounding_notes`` sound;
* :class:`MaxNoteLength` - a note held too long is released first.

Three priors tilt rather than mask, each off by default and measured with and without in the
evaluation: :class:`HarmonyPrior` (chord tones over scale tones over chromatic ones),
:class:`DensityPrior` (time shifts by arousal) and :class:`TonalAnchor` (where the music so far
drifts from its key's mode, its tonic).
:class:`Sampler` then applies temperature (with EMSYNC's adaptive repetition penalty), top-k
and top-p, and draws with a seeded generator.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np
import torch

from vemidi.config import SamplingConfig
from vemidi.music import harmony
from vemidi.music import tokenizer as tk
from vemidi.music.keys import mode_strength
from vemidi.music.plan import CALM_AROUSAL

_N_KEYS = tk.N_INSTRUMENTS * tk.N_PITCHES
_OFF_SLICE = slice(tk.NOTE_BASE, tk.NOTE_BASE + _N_KEYS)
_ON_SLICE = slice(tk.NOTE_BASE + _N_KEYS, tk.VOCAB_SIZE)
_SHIFT_SLICE = slice(tk.SHIFT_BASE, tk.NOTE_BASE)
_NEG_INF = float("-inf")
_SHIFT_TICKS = torch.arange(1, tk.NOTE_BASE - tk.SHIFT_BASE + 1)  # ticks of each shift token
_LOG_SHIFT = torch.log(_SHIFT_TICKS / 2.0)  # an eighth note is neutral: shorter < 0 < longer
_PITCHES = torch.arange(tk.MIN_PITCH, tk.MAX_PITCH + 1)
_PITCH_CLASSES = _PITCHES % 12
_PITCHED = torch.arange(tk.N_INSTRUMENTS) != int(tk.Instrument.DRUMS)


def _key_range(instrument: tk.Instrument) -> slice:
    start = int(instrument) * tk.N_PITCHES
    return slice(start, start + tk.N_PITCHES)


_BASS = _key_range(tk.Instrument.BASS)
_DRUMS = _key_range(tk.Instrument.DRUMS)


@functools.cache
def _tone_mask(pitch_classes: tuple[int, ...]) -> torch.Tensor:
    """(pitches,) True where a pitch belongs to ``pitch_classes`` (a chord's or a scale's)."""
    return torch.isin(_PITCH_CLASSES, torch.tensor(pitch_classes, dtype=torch.long))


@dataclass
class DecodeState:
    """What the grammar rules need to know about the tokens so far."""

    time_ticks: int = 0
    sounding: torch.Tensor = field(default_factory=lambda: torch.zeros(_N_KEYS, dtype=torch.bool))
    onset_ticks: torch.Tensor = field(
        default_factory=lambda: torch.zeros(_N_KEYS, dtype=torch.long)
    )
    events_since_shift: int = 0
    silent_since_ticks: int = 0  # when the music last fell silent (-1: something sounds)
    chord: int = harmony.NO_CHORD  # the planned chord class at the current time
    key: int = 0  # the planned key class at the current time
    mode: str = "major"  # the planned section's mode (major, minor or dorian)
    valence: float = math.nan  # the planned section's valence (NaN: none given)
    section_start_ticks: int = 0  # where the planned section began
    arousal: float = math.nan  # the requested arousal at the current time (NaN: none given)
    next_cut_ticks: int = -1  # the next cut whose chord is not struck yet (-1: none)
    cut_notes_needed: int = 0  # notes still to strike after a CHORD token
    chord_keys: list[int] = field(default_factory=list)
    hold_until_ticks: int = -1
    forced_chord: bool = False  # set by CutChord when it leaves CHORD as the only choice
    next_breath_ticks: int = -1  # the next phrase end (-1: none)
    onsets: int = 0  # pitched onsets so far
    doublings: int = 0  # of which doubled another instrument's onset at the same tick

    def update(self, token: int, config: SamplingConfig) -> None:
        """Advance the state by one sampled token."""
        if tk.is_shift(token):
            if self.chord_keys and self.hold_until_ticks < 0:
                hold = round(config.chord_hold_beats * tk.TICKS_PER_BEAT)
                self.hold_until_ticks = self.time_ticks + hold
            self.time_ticks += tk.shift_ticks(token)
            self.events_since_shift = 0
            if 0 <= self.hold_until_ticks <= self.time_ticks:
                self.chord_keys, self.hold_until_ticks = [], -1
            return
        self.events_since_shift += 1
        if token == tk.CHORD:
            self.cut_notes_needed = config.chord_min_notes
            self.chord_keys, self.hold_until_ticks = [], -1
            self.next_cut_ticks = -1
        elif tk.is_note(token):
            key = (token - tk.NOTE_BASE) % _N_KEYS
            is_on = token >= _ON_SLICE.start
            if is_on and key // tk.N_PITCHES != int(tk.Instrument.DRUMS):
                self.onsets += 1
                same = self.sounding.view(tk.N_INSTRUMENTS, tk.N_PITCHES)[:, key % tk.N_PITCHES]
                self.doublings += bool(same.any())
            self.sounding[key] = is_on
            if is_on:
                self.onset_ticks[key] = self.time_ticks
                if self.cut_notes_needed > 0:
                    self.cut_notes_needed -= 1
                    self.chord_keys.append(key)
        if self.sounding.any():
            self.silent_since_ticks = -1
        elif self.silent_since_ticks < 0:
            self.silent_since_ticks = self.time_ticks

    @property
    def at_cut(self) -> bool:
        """Whether time has reached the next cut whose chord is not struck yet."""
        return 0 <= self.next_cut_ticks <= self.time_ticks


class ForbidControlTokens:
    """Inputs and plan-given events are never outputs (see the module docstring)."""

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        logits[[tk.PAD, tk.START, tk.BAR, tk.CHORD, tk.LESS_INSTRUMENTS, tk.MORE_INSTRUMENTS]] = (
            _NEG_INF
        )
        logits[_OFF_SLICE][_DRUMS] = _NEG_INF
        logits[_ON_SLICE][_DRUMS] = _NEG_INF
        return logits


class NoteGrammar:
    """A NOTE_OFF needs its note sounding and started before now (no zero-length notes, which
    the corpus never has); a NOTE_ON needs its note silent."""

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        releasable = state.sounding & (state.onset_ticks < state.time_ticks)
        logits[_OFF_SLICE].masked_fill_(~releasable, _NEG_INF)
        logits[_ON_SLICE].masked_fill_(state.sounding, _NEG_INF)
        return logits


# Each instrument's register (lowest, highest note): the bass E1-C4, the others from C2. The top:
# E6 (88, about the 99th percentile of the multi-part training music) let the model sit higher and
# wider than the corpus (mean pitch +1.0 sd in the two-sample test); A5 for all (81) gave
# two-sample AUC 0.88-0.89 against 0.89-0.91 and valence -> mode 0.89 against 0.83 (C6: 0.90-0.91
# and 0.85; G5: 0.88 and 0.86). The piano then still played a third of the notes a fifth above the
# held-out works' piano (a tenth at F5 or above against C5): C5 for the piano and G5 for guitar and
# strings gave, at 90 pieces, AUC 0.899 against 0.910, valence -> mode 0.89 against 0.88, and each
# arousal level alone 0.89 / 0.94 / 0.99 against 0.93 / 0.94 / 0.99 (model card, twelfth and
# fourteenth sittings).
REGISTERS = {
    tk.Instrument.BASS: (28, 60),
    tk.Instrument.DRUMS: (36, 81),
    tk.Instrument.GUITAR: (36, 79),
    tk.Instrument.PIANO: (36, 72),
    tk.Instrument.STRINGS: (36, 79),
}


def _register_mask() -> torch.Tensor:
    """(instruments x pitches) True where a note-on is outside the instrument's register."""
    outside = torch.zeros(tk.N_INSTRUMENTS, tk.N_PITCHES, dtype=torch.bool)
    pitches = _PITCHES
    for instrument, (low, high) in REGISTERS.items():
        outside[int(instrument)] = (pitches < low) | (pitches > high)
    return outside


_OUTSIDE_REGISTER = _register_mask()


class CleanTexture:
    """One bass note at a time; no pitch struck while another instrument sounds it, except a
    doubling struck at the same instant while the piece's unison share stays under
    ``max_unison_share`` (the corpus doubles 4% of its notes); every instrument within its
    register (bass E1-C4, piano C2-C5, guitar and strings C2-G5, see ``REGISTERS``; the
    soundfont's extremes sound poor)."""

    def __init__(self, max_unison_share: float = 0.0) -> None:
        self.max_unison_share = max_unison_share

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        on = logits[_ON_SLICE]
        on.view(tk.N_INSTRUMENTS, tk.N_PITCHES).masked_fill_(_OUTSIDE_REGISTER, _NEG_INF)
        if state.sounding[_BASS].any():
            on[_BASS] = _NEG_INF
        sounding = state.sounding.view(tk.N_INSTRUMENTS, tk.N_PITCHES)
        doubled = sounding.any(dim=0)
        # Both notes of a doubling count as doubled in the measure: 2 per doubling.
        budget = 2 * (state.doublings + 1) <= self.max_unison_share * (state.onsets + 1)
        if budget and doubled.any():
            now = state.onset_ticks.view(tk.N_INSTRUMENTS, tk.N_PITCHES) == state.time_ticks
            doubled = (sounding & ~now).any(dim=0)
        on.view(tk.N_INSTRUMENTS, tk.N_PITCHES).masked_fill_(doubled, _NEG_INF)
        return logits


class PhraseBreath:
    """Our addition: no new pitched onset in the last beats of a phrase (every
    ``SamplingConfig.phrase_bars`` bars, and before each cut), and the next phrase starts on its
    downbeat. Real music breathes at phrase ends (held cadences, fermatas); without it the
    model's onsets run on evenly.

    From arousal ``HOLD_MIN_AROUSAL`` up the breath lasts ``held_breath_beats`` and is a held
    chord, as a fermata is: sounding tones outside the planned chord are released first, the
    chord tones only in the breath's last ``RELEASE_BEATS`` (a short rest at most). Left to the
    model, a breath was mostly a rest (silence +0.5 sd over the corpus at arousal 0 and +0.8)
    and the long inter-onset gaps of real music stayed rare (inter-onset variation -0.8 sd).
    Below that arousal the breath lasts ``breath_beats`` and the model releases what it likes:
    there the notes are already long (+1.8 sd), holding them did not make the pieces harder to
    tell from the corpus (AUC 0.91 either way) and weakened the minor mode (model card,
    sixteenth sitting).
    """

    HOLD_MIN_AROUSAL = CALM_AROUSAL  # the plan's calm music: 2-bar chords, unheld breaths
    RELEASE_BEATS = 0.5

    def __init__(
        self, breath_beats: float, max_silence_beats: float = 0.0, held_breath_beats: float = 0.0
    ) -> None:
        self.ticks = round(breath_beats * tk.TICKS_PER_BEAT)
        self.held_ticks = round(held_breath_beats * tk.TICKS_PER_BEAT)
        self.max_silence = round(max_silence_beats * tk.TICKS_PER_BEAT)
        self.release_ticks = round(self.RELEASE_BEATS * tk.TICKS_PER_BEAT)

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        held = self.held_ticks > 0 and not state.arousal < self.HOLD_MIN_AROUSAL  # NaN: held
        ticks = self.held_ticks if held else self.ticks
        left = state.next_breath_ticks - state.time_ticks
        # A rest may not outlast the longest silence allowed: then the breath gives way.
        too_long = (
            self.max_silence
            and state.silent_since_ticks >= 0
            and state.next_breath_ticks - state.silent_since_ticks > self.max_silence
        )
        if ticks and 0 < left <= ticks and state.cut_notes_needed == 0 and not too_long:
            logits[_ON_SLICE] = _NEG_INF
            logits[_SHIFT_SLICE][left < _SHIFT_TICKS] = _NEG_INF  # land on the downbeat
            if held and left > self.release_ticks:
                self._hold(logits, state)
        return logits

    @staticmethod
    def _hold(logits: torch.Tensor, state: DecodeState) -> None:
        """Release the sounding tones outside the planned chord (those first, before time
        moves); keep the chord tones (without a planned chord, every note) sounding."""
        tones = harmony.chord_pitch_classes(state.chord)
        sounding = state.sounding.view(tk.N_INSTRUMENTS, tk.N_PITCHES)
        stray = (sounding & ~_tone_mask(tones)).view(-1)
        if tones and stray.any():
            offs = logits[_OFF_SLICE].clone()
            logits.fill_(_NEG_INF)
            logits[_OFF_SLICE] = torch.where(stray, torch.nan_to_num(offs, neginf=0.0), _NEG_INF)
        else:
            logits[_OFF_SLICE] = _NEG_INF


class CutChord:
    """Our addition: the planned chord is struck on every cut, to the tick.

    EMSYNC leaves the chord before a cut to the model, guided by the boundary offset; a listener
    then hears it early or not at all. Here the plan puts a bar line on the cut; time may not
    step past it, and on it: sounding notes are released (a new harmony starts), CHORD is
    written, the bass strikes the planned chord's root, then chord tones of the other
    instruments until ``chord_min_notes`` have sounded; they are held ``chord_hold_beats``.
    """

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        state.forced_chord = False
        if state.cut_notes_needed > 0:
            return self._strike(logits, state)
        if state.chord_keys:  # holding: the struck notes may not be released yet
            held = torch.tensor(state.chord_keys)
            logits[_OFF_SLICE][held] = _NEG_INF
        cut = state.next_cut_ticks
        if cut < 0:
            return logits
        if state.time_ticks >= cut:
            sounding = state.sounding.clone()
            logits.fill_(_NEG_INF)
            if sounding.any():
                logits[_OFF_SLICE] = torch.where(sounding, 0.0, _NEG_INF)
            else:
                logits[tk.CHORD] = 0.0
                state.forced_chord = True
        else:
            logits[_SHIFT_SLICE][state.time_ticks + _SHIFT_TICKS > cut] = _NEG_INF
        return logits

    def _strike(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        tones = harmony.chord_pitch_classes(state.chord)
        if not tones:
            state.cut_notes_needed = 0
            return logits
        logits[_SHIFT_SLICE] = _NEG_INF
        logits[_OFF_SLICE] = _NEG_INF
        on = logits[_ON_SLICE].view(tk.N_INSTRUMENTS, tk.N_PITCHES)
        if not state.chord_keys:  # the bass first, on the root, in the bass register
            allowed = torch.zeros_like(on, dtype=torch.bool)
            root = _tone_mask(tones[:1]) & (_PITCHES >= 28) & (_PITCHES <= 52)
            allowed[int(tk.Instrument.BASS)] = root
        else:
            tone = _tone_mask(tones) & (_PITCHES >= 48) & (_PITCHES <= 84)
            allowed = tone.expand_as(on).clone()
            allowed[int(tk.Instrument.BASS)] = False
            allowed[int(tk.Instrument.DRUMS)] = False
        on.masked_fill_(~allowed, _NEG_INF)
        if torch.isinf(on).all():  # the model ruled every candidate out: take the plain tones
            on.copy_(torch.where(allowed, 0.0, _NEG_INF))
        if torch.isinf(on).all():
            state.cut_notes_needed = 0
            return logits
        logits[: tk.NOTE_BASE] = _NEG_INF
        return logits


class ForceProgress:
    """After ``max_events`` events at one instant, only a time shift may follow."""

    def __init__(self, max_events: int) -> None:
        self.max_events = max_events

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if (
            state.events_since_shift >= self.max_events
            and state.cut_notes_needed == 0
            and not state.at_cut
        ):
            shifts = logits[_SHIFT_SLICE].clone()
            logits.fill_(_NEG_INF)
            logits[_SHIFT_SLICE] = torch.where(torch.isinf(shifts), 0.0, shifts)
        return logits


class NoLongSilence:
    """With nothing sounding, time may move at most ``max_silence_beats`` before a note.

    The first listening test measured 8% of the time silent (the corpus: 2%) in gaps up to
    several seconds; a pause longer than a beat sounds like a dropout in a soundtrack.
    """

    def __init__(self, max_silence_beats: float) -> None:
        self.max_ticks = round(max_silence_beats * tk.TICKS_PER_BEAT)

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.max_ticks and state.silent_since_ticks >= 0:
            left = state.silent_since_ticks + self.max_ticks - state.time_ticks
            logits[_SHIFT_SLICE][left < _SHIFT_TICKS] = _NEG_INF
        return logits


class TextureFloor:
    """Time may not move while fewer than ``min_notes`` pitched notes sound.

    The first listening test found the calm pieces thin (2-3 notes per second, often one line):
    slow should not mean empty. Real multi-part music keeps three or four voices sounding
    (mean polyphony 3.6 in the held-out polyphonic corpus), so a soundtrack asked for three or
    more instruments keeps at least three notes under every moment.
    """

    def __init__(self, min_notes: int) -> None:
        self.min_notes = min_notes

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        thin = self.min_notes and int(state.sounding.sum()) < self.min_notes
        if thin and not torch.isinf(logits[_ON_SLICE]).all():
            logits[_SHIFT_SLICE] = _NEG_INF
        return logits


class MaxNoteLength:
    """A note sounding ``max_note_beats`` must be released before anything else, and time may
    not step beyond that point while it sounds.

    Our addition: after the context window slides, a note whose NOTE_ON fell out of the window is
    invisible to the model, which then rarely releases it; such notes would ring to the end.
    """

    def __init__(self, max_note_beats: float) -> None:
        self.max_ticks = round(max_note_beats * tk.TICKS_PER_BEAT)

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.max_ticks and state.cut_notes_needed == 0:
            held = state.time_ticks - state.onset_ticks
            if state.sounding.any():
                left = self.max_ticks - int(held[state.sounding].max())
                logits[_SHIFT_SLICE][max(left, 0) < _SHIFT_TICKS] = _NEG_INF
            overdue = state.sounding & (held >= self.max_ticks)
            if overdue.any():
                off = logits[_OFF_SLICE].clone()
                logits.fill_(_NEG_INF)
                logits[_OFF_SLICE] = torch.where(
                    overdue, torch.nan_to_num(off, neginf=0.0), _NEG_INF
                )
        return logits


class HarmonyPrior:
    """Tilt pitched note-ons towards the planned chord: chord tones 0, other tones of the key's
    scale ``-weight``, chromatic tones ``-2.5 * weight`` (added to the logits)."""

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self._tables: dict[tuple[int, int], torch.Tensor] = {}

    def _table(self, key: int, chord: int) -> torch.Tensor:
        table = self._tables.get((key, chord))
        if table is None:
            bias = torch.full((tk.N_PITCHES,), -2.5)
            bias[_tone_mask(harmony.scale_pitch_classes(key))] = -1.0
            bias[_tone_mask(harmony.chord_pitch_classes(chord))] = 0.0
            table = (self.weight * bias).repeat(tk.N_INSTRUMENTS)
            self._tables[(key, chord)] = table
        return table

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.weight > 0:
            logits[_ON_SLICE] += self._table(state.key, state.chord).to(logits.dtype)
        return logits


ANCHOR_GAIN = 7.0  # logits of tilt per unit of key strength the music so far falls short by
ANCHOR_MAX = 1.5  # the largest tilt, in logits
ANCHOR_HEARD_BEATS = 4.0  # note-beats heard before the anchor listens (one chord is not a key)
ANCHOR_DEADBAND = 0.05  # a Dorian section is left alone this near its target
# Anchor tones, in semitones above the tonic (see TonalAnchor). A major key is told from its
# relative minor by its tonic and fifth, a minor key from its relative major by its tonic (the
# Krumhansl-Kessler profiles' largest differences); a Dorian section that reads minor gets its
# major sixth, one that reads major its tonic. The minor key's leading tone was tried too: over
# V it is the only tone left (the tonic clashes), and more of it read as the major key of V.
ANCHOR_TONES = {
    ("major", 1): (0, 7),
    ("minor", -1): (0,),
    ("dorian", 1): (9,),
    ("dorian", -1): (0,),
}


class TonalAnchor:
    """Keep the key's mode audible: listen to the music so far and, where it drifts from the
    section's mode, tilt pitched note-ons towards the key's anchor tones (off by default).

    The anchor keeps the duration-weighted pitch-class histogram of the pitched notes that have
    sounded in the current section and reads its major-minus-minor key strength as the
    evaluation reads a piece (:func:`vemidi.music.keys.mode_strength`). The target is the
    plan's own, ``harmony.MODE_PER_VALENCE * valence``. A major section that reads less major
    than that, or a minor one less minor, gets ``weight * min(ANCHOR_MAX, ANCHOR_GAIN *
    shortfall)`` logits on the note-ons of its :data:`ANCHOR_TONES`; a Dorian one is nudged
    back from either side once it is :data:`ANCHOR_DEADBAND` away. Music that reads as its mode
    is left as the model wrote it, and an anchor tone a semitone from a tone of the planned
    chord is never raised (no clash is encouraged). Our addition, not EMSYNC's; measured in the
    model card (nineteenth sitting): clearer modes for a little realism.
    """

    def __init__(self, weight: float) -> None:
        self.weight = weight
        self.heard = np.zeros(12)  # note-ticks per pitch class so far
        self._heard_until = 0
        self._strength: float | None = None  # of what was heard; None until enough was
        self._section = 0
        self._masks: dict[tuple[int, int, str, int], torch.Tensor | None] = {}

    def _listen(self, state: DecodeState) -> None:
        if state.section_start_ticks != self._section:  # a new section: listen afresh
            self._section, self._heard_until = state.section_start_ticks, state.time_ticks
            self.heard[:], self._strength = 0.0, None
        elapsed = state.time_ticks - self._heard_until
        if elapsed <= 0:
            return
        self._heard_until = state.time_ticks
        counts = state.sounding.view(tk.N_INSTRUMENTS, tk.N_PITCHES)[_PITCHED].sum(0)
        if counts.any():
            self.heard += elapsed * np.bincount(
                _PITCH_CLASSES.numpy(), weights=counts.numpy(), minlength=12
            )
            if self.heard.sum() >= ANCHOR_HEARD_BEATS * tk.TICKS_PER_BEAT:
                self._strength = mode_strength(np.arange(12), self.heard)

    def _mask(self, key: int, chord: int, mode: str, direction: int) -> torch.Tensor | None:
        """Note-on mask (instruments x pitches) of the anchor tones clashing with no chord tone."""
        index = (key, chord, mode, direction)
        if index not in self._masks:
            chord_tones = harmony.chord_pitch_classes(chord)
            tones = tuple(
                pc
                for pc in ((key + d) % 12 for d in ANCHOR_TONES[(mode, direction)])
                if not any((pc - c) % 12 in (1, 11) for c in chord_tones)
            )
            mask = None
            if tones:
                mask = (_PITCHED[:, None] & _tone_mask(tones)[None, :]).flatten().float()
            self._masks[index] = mask
        return self._masks[index]

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.weight <= 0 or math.isnan(state.valence):
            return logits
        self._listen(state)
        if self._strength is None:
            return logits
        error = self._strength - harmony.MODE_PER_VALENCE * state.valence  # > 0: too major
        if state.mode == "dorian":  # back towards the target from either side
            direction, shortfall = (-1 if error > 0 else 1), abs(error) - ANCHOR_DEADBAND
        else:  # a major section that reads less major, a minor one that reads less minor
            direction = 1 if state.mode == "major" else -1
            shortfall = -error * direction
        if shortfall <= 0:
            return logits
        mask = self._mask(state.key, state.chord, state.mode, direction)
        if mask is not None:
            tilt = self.weight * min(ANCHOR_MAX, ANCHOR_GAIN * shortfall)
            logits[_ON_SLICE] += (tilt * mask).to(logits.dtype)
        return logits


class DensityPrior:
    """Our fallback for arousal: tilt the time-shift logits.

    Adds ``weight * -arousal * ln(ticks / 2)`` to each shift token (an eighth note is neutral),
    then renormalises the shifts so that their total probability (how often time moves) stays
    the model's: high arousal favours short shifts (more events per beat), low arousal long
    ones. The arousal is the state's (the emotion segment's; NaN: off).
    """

    def __init__(self, weight: float) -> None:
        self.weight = weight

    def __call__(self, logits: torch.Tensor, state: DecodeState) -> torch.Tensor:
        if self.weight > 0 and not math.isnan(state.arousal):
            shifts = logits[_SHIFT_SLICE]
            before = torch.logsumexp(shifts, 0)
            tilted = shifts + (self.weight * -state.arousal) * _LOG_SHIFT.to(logits.dtype)
            if torch.isfinite(before):  # keep P(time moves) as the model said: only the length
                logits[_SHIFT_SLICE] = tilted - torch.logsumexp(tilted, 0) + before
        return logits


def default_rules(config: SamplingConfig) -> list:
    """The grammar rules, in the order they are applied (priors come before them)."""
    return [
        ForbidControlTokens(),
        NoteGrammar(),
        CleanTexture(config.max_unison_share),
        PhraseBreath(config.breath_beats, config.max_silence_beats, config.held_breath_beats),
        ForceProgress(config.max_events_per_step),
        NoLongSilence(config.max_silence_beats),
        TextureFloor(config.min_sounding_notes),
        MaxNoteLength(config.max_note_beats),
        # Last: on a cut it overrides the others (releases, CHORD, the struck chord).
        *([CutChord()] if config.cut_chords else []),
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
