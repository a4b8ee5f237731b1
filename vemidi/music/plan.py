"""The musical plan of a soundtrack: tempo map, bars, keys and chords, with bar lines on the cuts.

Our addition to EMSYNC, which generates in absolute time and only nudges chords towards cuts.
A plan is built before any note is generated (pure Python, deterministic for a seed) and the
generator writes in its musical time:

* **Tempo** from arousal (``tempo_for_arousal``: 60 bpm at -1, 96 at 0, 132 at +1) unless the user
  sets one; **meter** ``beats_per_bar`` (4 unless asked otherwise).
* **Sections** between consecutive anchors (0, every cut, the end). Each section gets a whole
  number of beats, so its local tempo is ``beats * 60 / length``: whole bars when that keeps the
  tempo within 10% of the base tempo, otherwise the nearest whole number of beats with one odd
  bar (2/4 or 3/4 at the end of the section, or a 5/4 bar for one spare beat). The nearest whole
  number of beats is at most half a beat off, so the deviation stays within 10% for sections of
  five beats or more; a shorter section (only possible at the very end of a piece, since cuts are
  at least 4 s apart, or below about 75 bpm) keeps the nearest whole number of beats and its
  deviation is reported in ``max_tempo_deviation``. Every cut is therefore a bar line.
* A **key** per section: the tonic is drawn once from the seed; valence chooses major (>= 0.25),
  minor (<= -0.25) or, in between, the Dorian mode on the same tonic (a minor third with a major
  sixth: neither bright nor dark); keys change only at cuts.
* **Chords** from :func:`vemidi.music.harmony.progression`, one slot every two beats, every bar or
  every two bars as arousal rises or falls (a Dorian section: every bar at the slowest), with a
  cadence into each cut and the tonic on it; in a minor key, V and VI are led into by their own
  dominant sevenths (:func:`vemidi.music.harmony.applied_dominants`).
* **Percussion** per section (on where arousal > 0 unless switched on or off).

Times: beats are integers from the start of the piece; ``beat_to_s`` maps them to video seconds.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from vemidi.errors import InvalidInputError
from vemidi.music import harmony
from vemidi.music.keys import key_name
from vemidi.types import EmotionSegment

TICKS_PER_BEAT = 4  # the tokenizer's grid: a tick is a sixteenth note
MAX_TEMPO_DEVIATION = 0.10
METER_POSITIONS = 32  # ticks since the bar line the model distinguishes (8 beats)
METER_LENGTHS = 8  # bar lengths in beats the model distinguishes (1-8)
N_METER = METER_POSITIONS * METER_LENGTHS
PERCUSSION_CHOICES = ("auto", "on", "off")
NEUTRAL_VALENCE = 0.25  # |valence| below this: the Dorian mode, between major and minor
CALM_AROUSAL = -0.4  # below: calm music (2-bar chords; phrase breaths left to the model)
BUSY_AROUSAL = 0.4  # above: a chord every 2 beats


def tempo_for_arousal(arousal: float) -> float:
    """Base tempo in bpm for an arousal in [-1, 1] (NaN: 0)."""
    arousal = 0.0 if math.isnan(arousal) else max(-1.0, min(1.0, arousal))
    return 96.0 + 36.0 * arousal


@dataclass(frozen=True)
class Bar:
    """One bar: its first beat, its length in beats, and where it starts in the video."""

    start_beat: int
    beats: int
    start_s: float


@dataclass(frozen=True)
class Chord:
    """A chord of the progression: where it starts and for how many beats, its class and name."""

    start_beat: int
    beats: int
    chord: int
    name: str
    degree: str


@dataclass(frozen=True)
class Section:
    """The music between two anchors (start, cuts, end)."""

    start_beat: int
    beats: int
    start_s: float
    end_s: float
    tempo_bpm: float
    key: int
    key_name: str
    valence: float
    arousal: float
    drums: bool
    mode: str = "major"

    @property
    def seconds_per_beat(self) -> float:
        """Length of one beat in this section."""
        return 60.0 / self.tempo_bpm


@dataclass(frozen=True)
class Plan:
    """A soundtrack's plan (see the module docstring). JSON in and out with ``to_dict``."""

    duration_s: float
    base_tempo_bpm: float
    beats_per_bar: int
    tonic: int
    cuts_s: tuple[float, ...]
    sections: tuple[Section, ...]
    bars: tuple[Bar, ...]
    chords: tuple[Chord, ...]
    max_tempo_deviation: float

    @property
    def total_beats(self) -> int:
        """Length of the piece in beats."""
        last = self.sections[-1]
        return last.start_beat + last.beats

    @property
    def total_ticks(self) -> int:
        """Length of the piece in ticks."""
        return self.total_beats * TICKS_PER_BEAT

    @property
    def cut_beats(self) -> tuple[int, ...]:
        """The beats where a cut falls (every section start but the first)."""
        return tuple(s.start_beat for s in self.sections[1:])

    @functools.cached_property
    def _section_starts(self) -> list[int]:
        return [s.start_beat for s in self.sections]

    @functools.cached_property
    def _section_start_times(self) -> list[float]:
        return [s.start_s for s in self.sections]

    @functools.cached_property
    def _chord_starts(self) -> list[int]:
        return [c.start_beat for c in self.chords]

    def section_at(self, beat: float) -> Section:
        """The section sounding at ``beat``."""
        return self.sections[max(0, bisect.bisect_right(self._section_starts, beat) - 1)]

    def beat_to_s(self, beat: float) -> float:
        """Video time in seconds of a (fractional) beat."""
        section = self.section_at(beat)
        return section.start_s + (beat - section.start_beat) * section.seconds_per_beat

    def s_to_beat(self, time_s: float) -> float:
        """The (fractional) beat at a video time in seconds (the inverse of :meth:`beat_to_s`)."""
        index = bisect.bisect_right(self._section_start_times, time_s + 1e-9) - 1
        section = self.sections[max(0, index)]
        return section.start_beat + (time_s - section.start_s) / section.seconds_per_beat

    def chord_at(self, beat: float) -> Chord:
        """The chord sounding at ``beat``."""
        return self.chords[max(0, bisect.bisect_right(self._chord_starts, beat) - 1)]

    def tick_tables(self) -> tuple[list[int], list[int]]:
        """Per tick (``total_ticks + 1`` entries): the meter class and the chord class.

        The meter class is ``min(ticks since the bar line, 31) + 32 * (min(bar beats, 8) - 1)``.
        """
        meter, chords = [], []
        bar_index = chord_index = 0
        for tick in range(self.total_ticks + 1):
            beat = tick / TICKS_PER_BEAT
            while bar_index + 1 < len(self.bars) and self.bars[bar_index + 1].start_beat <= beat:
                bar_index += 1
            while (
                chord_index + 1 < len(self.chords)
                and self.chords[chord_index + 1].start_beat <= beat
            ):
                chord_index += 1
            bar = self.bars[bar_index]
            position = min(tick - bar.start_beat * TICKS_PER_BEAT, METER_POSITIONS - 1)
            meter.append(position + METER_POSITIONS * (min(bar.beats, METER_LENGTHS) - 1))
            chords.append(self.chords[chord_index].chord)
        return meter, chords

    def to_dict(self) -> dict:
        """JSON-ready record of the plan."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Plan:
        """Rebuild a plan from :meth:`to_dict` output."""
        return cls(
            duration_s=float(data["duration_s"]),
            base_tempo_bpm=float(data["base_tempo_bpm"]),
            beats_per_bar=int(data["beats_per_bar"]),
            tonic=int(data["tonic"]),
            cuts_s=tuple(float(c) for c in data["cuts_s"]),
            sections=tuple(Section(**s) for s in data["sections"]),
            bars=tuple(Bar(**b) for b in data["bars"]),
            chords=tuple(Chord(**c) for c in data["chords"]),
            max_tempo_deviation=float(data["max_tempo_deviation"]),
        )


def fit_beats(length_s: float, base_bpm: float, beats_per_bar: int) -> int:
    """Whole bars if they keep the tempo within 10%, else the nearest whole number of beats."""
    beats = length_s * base_bpm / 60.0
    bars = max(1, round(beats / beats_per_bar))
    if abs(bars * beats_per_bar / beats - 1.0) <= MAX_TEMPO_DEVIATION:
        return bars * beats_per_bar
    return max(1, round(beats))


def bar_lengths(beats: int, beats_per_bar: int) -> list[int]:
    """Bar lengths that fill ``beats``: full bars, then one odd bar (see the module docstring)."""
    full, rest = divmod(beats, beats_per_bar)
    if full == 0:
        return [beats]
    if rest == 0:
        return [beats_per_bar] * full
    if rest == 1:
        return [beats_per_bar] * (full - 1) + [beats_per_bar + 1]
    return [beats_per_bar] * full + [rest]


def _slots(bars: list[int], arousal: float, mode: str) -> list[int]:
    """Harmonic-slot lengths in beats: 2 beats (above ``BUSY_AROUSAL``), a bar, or 2 bars
    (below ``CALM_AROUSAL``, in major or minor sections of four bars or more).

    A Dorian section keeps a chord per bar when calm: with 2-bar chords, a calm 30 s section has
    four slots, three of them the final cadence, so its walk had no room for the chords that
    make the mode Dorian (IV, bVII) and read as minor (measured mode -0.07 at arousal -0.8,
    against +0.02 at 0; a chord per bar: +0.01, README)."""
    if arousal > BUSY_AROUSAL:
        slots = []
        for beats in bars:
            parts = [2] * (beats // 2)
            if beats % 2:
                parts = [*parts[:-1], 3] if parts else [beats]
            slots += parts
        return slots
    # a shorter section keeps a chord per bar, for its cadence
    if arousal < CALM_AROUSAL and len(bars) >= 4 and mode != "dorian":
        return [sum(bars[i : i + 2]) for i in range(0, len(bars), 2)]
    return list(bars)


def _segment_at(segments: Sequence[EmotionSegment], time_s: float) -> EmotionSegment:
    for segment in reversed(segments):
        if segment.start_s <= time_s:
            return segment
    return segments[0]


def build_plan(
    duration_s: float,
    segments: Sequence[EmotionSegment],
    cuts_s: Sequence[float] = (),
    seed: int = 0,
    tempo_bpm: float | None = None,
    beats_per_bar: int = 4,
    percussion: str = "auto",
) -> Plan:
    """Plan a piece of ``duration_s`` seconds whose bar lines fall on ``cuts_s``.

    Args:
        duration_s: the piece's length in seconds (> 0).
        segments: emotion segments in time order (NaN valence or arousal counts as 0).
        cuts_s: sorted cut times inside (0, duration_s), already thinned.
        seed: draws the tonic and the chord progression.
        tempo_bpm: base tempo (30-240 bpm); None: from the mean arousal.
        beats_per_bar: the meter's beats per bar (2-7).
        percussion: ``auto`` (drums where arousal > 0), ``on`` or ``off``.

    Raises:
        InvalidInputError: a value out of range, or cuts not sorted inside the piece.
    """
    if not duration_s > 0:
        raise InvalidInputError(f"duration_s must be > 0, got {duration_s!r}.")
    if not segments:
        raise InvalidInputError("at least one emotion segment is needed.")
    if tempo_bpm is not None and not 30.0 <= tempo_bpm <= 240.0:
        raise InvalidInputError(f"tempo must be between 30 and 240 bpm, got {tempo_bpm!r}.")
    if not 2 <= beats_per_bar <= 7:
        raise InvalidInputError(f"beats per bar must be between 2 and 7, got {beats_per_bar!r}.")
    if percussion not in PERCUSSION_CHOICES:
        raise InvalidInputError(
            f"percussion must be one of {', '.join(PERCUSSION_CHOICES)}; got {percussion!r}."
        )
    cuts = [float(c) for c in cuts_s]
    if cuts != sorted(cuts) or any(not 0.0 < c < duration_s for c in cuts):
        raise InvalidInputError(f"cuts must be sorted and inside (0, {duration_s:g}) s.")

    def value(x: float) -> float:
        return 0.0 if math.isnan(x) else x

    total = sum((min(s.end_s, duration_s) - s.start_s) for s in segments) or 1.0
    mean_arousal = sum(
        value(s.arousal) * max(0.0, min(s.end_s, duration_s) - s.start_s) for s in segments
    )
    base = tempo_bpm if tempo_bpm is not None else tempo_for_arousal(mean_arousal / total)
    rng = random.Random(seed)
    tonic = rng.randrange(12)
    anchors = [0.0, *cuts, duration_s]
    sections, bars, deviation = [], [], 0.0
    beat = 0
    for start_s, end_s in itertools.pairwise(anchors):
        mood = _segment_at(segments, (start_s + end_s) / 2)
        valence, arousal = value(mood.valence), value(mood.arousal)
        n_beats = fit_beats(end_s - start_s, base, beats_per_bar)
        local = n_beats * 60.0 / (end_s - start_s)
        deviation = max(deviation, abs(local / base - 1.0))
        mode = "major" if valence >= NEUTRAL_VALENCE else "minor"
        if abs(valence) < NEUTRAL_VALENCE:
            mode = "dorian"
        key = tonic + (0 if mode == "major" else 12)  # Dorian uses the minor key class
        name = key_name(key).replace("minor", "dorian") if mode == "dorian" else key_name(key)
        drums = arousal > 0 if percussion == "auto" else percussion == "on"
        section = Section(
            beat, n_beats, start_s, end_s, local, key, name, valence, arousal, drums, mode
        )
        sections.append(section)
        first = beat
        for length in bar_lengths(n_beats, beats_per_bar):
            bars.append(Bar(first, length, start_s + (first - beat) * 60.0 / local))
            first += length
        beat += n_beats
    chords = []
    for index, section in enumerate(sections):
        section_bars = [
            b.beats
            for b in bars
            if section.start_beat <= b.start_beat < section.start_beat + section.beats
        ]
        slots = _slots(section_bars, section.arousal, section.mode)
        following = sections[index + 1].key if index + 1 < len(sections) else None
        progression = harmony.progression_for_valence(
            section.key,
            following,
            slots,
            section.valence,
            section.arousal,
            rng,
            final=following is None,
            dorian=section.mode == "dorian",
            next_dorian=index + 1 < len(sections) and sections[index + 1].mode == "dorian",
        )
        first = section.start_beat
        for deg, length in progression:
            name = harmony.chord_name(deg.chord, section.key)
            chords.append(Chord(first, length, deg.chord, name, deg.name))
            first += length
    return Plan(
        duration_s=float(duration_s),
        base_tempo_bpm=round(base, 3),
        beats_per_bar=beats_per_bar,
        tonic=tonic,
        cuts_s=tuple(cuts),
        sections=tuple(sections),
        bars=tuple(bars),
        chords=tuple(chords),
        max_tempo_deviation=round(deviation, 4),
    )
