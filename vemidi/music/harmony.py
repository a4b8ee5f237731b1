"""Chords: the classes the model is conditioned on, their analysis, and our harmony grammar.

A chord class is an absolute root (pitch class, C = 0) and one of four qualities - major, minor,
diminished and dominant seventh - so ``N_CHORDS = 48``, plus ``NO_CHORD`` where nothing is known.
Four qualities cover 85% of the beats of the music21 corpus in a quick check (the rest are
incomplete or passing sonorities, which the template match below labels with the nearest chord).

* :func:`best_chord` labels a pitch-class histogram with the best-fitting template (training
  labels, one per beat of a score; pure numpy).
* :func:`progression` writes a chord progression for one section of a plan from a small harmony
  grammar of our own: functional moves (tonic -> predominant -> dominant -> tonic) in the major or
  minor key the valence asks for, darker chord colours as valence falls, a cadence (predominant,
  dominant) into the next cut and the tonic on it; in minor keys V and VI are approached by
  their applied dominants (D7 before G in C minor), the chromatic colour tonal music has.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from vemidi.music.keys import PITCH_NAMES, mode_strength

QUALITIES = ("maj", "min", "dim", "dom7")
INTERVALS = {"maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "dom7": (0, 4, 7, 10)}
N_CHORDS = 12 * len(QUALITIES)
NO_CHORD = N_CHORDS
_SHARP_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
_FLAT_NAMES = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_SHARP_MAJORS = {7, 2, 9, 4, 11, 6, 1}  # G, D, A, E, B, F#, C# major (and their relative minors)
_FLAT_MAJORS = {5, 10, 3, 8}  # F, Bb, Eb, Ab major
_SUFFIX = {"maj": "", "min": "m", "dim": "dim", "dom7": "7"}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10, 11)  # natural minor plus the leading tone of harmonic minor


def chord_id(root: int, quality: str) -> int:
    """Chord class of a root pitch class and a quality name."""
    return QUALITIES.index(quality) * 12 + root % 12


def chord_root(chord: int) -> int:
    """Root pitch class of a chord class."""
    return chord % 12


def chord_quality(chord: int) -> str:
    """Quality name of a chord class."""
    return QUALITIES[chord // 12]


def chord_pitch_classes(chord: int) -> tuple[int, ...]:
    """Pitch classes of a chord class, root first (empty for ``NO_CHORD``)."""
    if chord == NO_CHORD:
        return ()
    return tuple((chord_root(chord) + i) % 12 for i in INTERVALS[chord_quality(chord)])


def chord_name(chord: int, key: int | None = None) -> str:
    """Lead-sheet name, e.g. ``Am``, ``G7``, ``G#dim``; ``N.C.`` for no chord.

    With a key class the root is spelled as that key's signature would (sharps in G major or
    E minor, flats in F major or D minor).
    """
    if chord == NO_CHORD:
        return "N.C."
    names = PITCH_NAMES
    if key is not None:
        relative_major = (key + 3) % 12 if key >= 12 else key % 12
        if relative_major in _SHARP_MAJORS:
            names = _SHARP_NAMES
        elif relative_major in _FLAT_MAJORS:
            names = _FLAT_NAMES
    return names[chord_root(chord)] + _SUFFIX[chord_quality(chord)]


def scale_pitch_classes(key: int) -> tuple[int, ...]:
    """Pitch classes of a key class (0-11 major, 12-23 minor, tonic C = 0)."""
    tonic, minor = key % 12, key >= 12
    return tuple((tonic + d) % 12 for d in (MINOR_SCALE if minor else MAJOR_SCALE))


def _template_matrix() -> np.ndarray:
    m = np.full((N_CHORDS, 12), -0.6)  # tones outside the chord count against it
    for chord in range(N_CHORDS):
        for pc in chord_pitch_classes(chord):
            m[chord, pc] = 1.0
    return m


_TEMPLATES = _template_matrix()
# Ties (a triad fits a seventh chord's template as well) go to the simpler chord.
_TIE_BREAK = np.array([0.0, 0.0, -0.01, -0.02]).repeat(12)


def chord_scores(histogram: np.ndarray, bass_pc: int | None = None) -> np.ndarray:
    """Fit of every chord class to a 12-bin pitch-class histogram (weights: sounding time).

    Chord tones count for, other tones against; the lowest sounding pitch class counts as
    evidence for a root there. Shape ``(N_CHORDS,)``; an empty histogram scores 0 everywhere.
    """
    histogram = np.asarray(histogram, dtype=float)
    total = histogram.sum()
    if total <= 0:
        return np.zeros(N_CHORDS)
    scores = _TEMPLATES @ (histogram / total) + _TIE_BREAK
    if bass_pc is not None:
        scores[np.arange(N_CHORDS) % 12 == bass_pc % 12] += 0.15
    return scores


def best_chord(histogram: np.ndarray, bass_pc: int | None = None) -> int:
    """Best-fitting chord class of a pitch-class histogram (``NO_CHORD`` when it is empty)."""
    if np.asarray(histogram, dtype=float).sum() <= 0:
        return NO_CHORD
    return int(np.argmax(chord_scores(histogram, bass_pc)))


# The grammar: degrees as (semitones above the tonic, quality) and their functions.
_MAJOR_DEGREES = {
    "I": (0, "maj"),
    "ii": (2, "min"),
    "iii": (4, "min"),
    "IV": (5, "maj"),
    "V": (7, "maj"),
    "V7": (7, "dom7"),
    "vi": (9, "min"),
    "viio": (11, "dim"),
}
_MINOR_DEGREES = {
    "i": (0, "min"),
    "iio": (2, "dim"),
    "III": (3, "maj"),
    "iv": (5, "min"),
    "v": (7, "min"),
    "V": (7, "maj"),
    "V7": (7, "dom7"),
    "VI": (8, "maj"),
    "VII": (10, "maj"),
}
# Next-degree weights: (bright weight, dark weight); valence blends the two, so a brighter mood
# favours primary chords and a darker one the minor and diminished colours.
_MAJOR_MOVES = {
    "I": {"IV": (4, 2), "V": (3, 1), "vi": (1, 3), "ii": (1, 2), "iii": (0.3, 1.5)},
    "ii": {"V": (4, 3), "V7": (2, 2), "viio": (0.3, 1)},
    "iii": {"vi": (2, 3), "IV": (2, 1)},
    "IV": {"V": (3, 2), "I": (3, 1), "ii": (1, 2), "viio": (0.2, 1)},
    "V": {"I": (5, 3), "vi": (1, 3), "IV": (1, 0.5)},
    "V7": {"I": (5, 3), "vi": (0.5, 2)},
    "vi": {"IV": (3, 2), "ii": (2, 3), "V": (1, 1), "iii": (0.3, 1)},
    "viio": {"I": (3, 3), "iii": (0.5, 1)},
}
_MINOR_MOVES = {
    "i": {
        "iv": (2, 4),
        "VI": (3, 2),
        "III": (3, 0.3),
        "V": (2, 3),
        "VII": (2, 0.3),
        "iio": (0.5, 2),
    },
    "iio": {"V": (3, 3), "V7": (2, 3)},
    "III": {"VI": (3, 2), "iv": (2, 3), "VII": (2, 0.3)},
    "iv": {"V": (3, 4), "i": (2, 3), "VII": (2, 0.3), "iio": (0.5, 1.5)},
    "v": {"VI": (2, 2), "i": (1, 2)},
    "V": {"i": (5, 5), "VI": (1, 2)},
    "V7": {"i": (5, 5), "VI": (0.5, 2)},
    "VI": {"III": (2, 0.3), "iv": (2, 3), "iio": (1, 2), "VII": (2, 0.3), "V": (0.5, 2)},
    "VII": {"III": (3, 0.5), "i": (2, 3), "VI": (1, 1)},
}
# Dorian (a minor third with a major sixth: the major IV): the in-between colour of a neutral
# valence, neither the major nor the minor key.
_DORIAN_DEGREES = {
    "i": (0, "min"),
    "ii": (2, "min"),
    "bIII": (3, "maj"),
    "IV": (5, "maj"),
    "v": (7, "min"),
    "V": (7, "maj"),
    "V7": (7, "dom7"),
    "iv": (5, "min"),
    "iio": (2, "dim"),
    "bVII": (10, "maj"),
}
_DORIAN_MOVES = {
    "i": {"IV": (3, 3), "bVII": (3, 3), "v": (1, 1), "bIII": (1, 1), "ii": (1, 1)},
    "ii": {"v": (2, 2), "IV": (1, 1), "bVII": (1, 1)},
    "bIII": {"IV": (2, 2), "bVII": (2, 2)},
    "IV": {"i": (3, 3), "bVII": (2, 2), "v": (1, 1)},
    "v": {"i": (2, 2), "IV": (1, 1), "bVII": (1, 1)},
    "bVII": {"i": (3, 3), "IV": (2, 2)},
}
_PREDOMINANTS = {"major": ("IV", "ii"), "minor": ("iv", "iio"), "dorian": ("IV", "ii")}
# Applied (secondary) dominants: the chord before a target becomes the target's own dominant
# seventh (D7 before G in C minor), the commonest source of the chromatic tones of tonal music.
# In the held-out corpus works written for several voices 8-10% of the chord changes leave one
# (our per-beat analysis); without them our pieces were more diatonic than the corpus (share
# of note time in the scale 0.95 against 0.92), the two-sample test's plainest tell. Measured on
# 90 pieces of the grid for each of five sets of fresh seeds (model card, eighteenth sitting):
# in minor keys, of V and VI, the two-sample AUC fell from 0.84 to 0.80 on average (in every
# set) and valence -> mode from 0.87 to 0.85; in major keys too (of V and ii) the AUC fell a
# little further (0.79) but the major pieces read less major (mean mode 0.30 -> 0.19 at arousal
# +0.8 on one set; mode 0.855), so major keys have none. Targets: semitones above the tonic.
APPLIED_TARGETS = {"major": (), "minor": (7, 8), "dorian": ()}  # minor: V and VI
APPLIED_BEATS = 4  # beats an applied dominant lasts at most (a 4/4 bar; 2: half the AUC gain)


def _mode(key: int, dorian: bool) -> str:
    return "dorian" if dorian else "minor" if key >= 12 else "major"


@dataclass(frozen=True)
class Degree:
    """A chord in a key: its Roman-numeral name, absolute chord class, and the key class it is
    read in (Dorian when ``dorian``)."""

    name: str
    chord: int
    key: int
    dorian: bool


def degree(key: int, name: str, dorian: bool = False) -> Degree:
    """The chord of a named degree (``I``, ``iv``, ``V7`` ...) in a key class (0-23); with
    ``dorian`` the minor key class is read as the Dorian mode on its tonic."""
    table = _MINOR_DEGREES if key >= 12 else _MAJOR_DEGREES
    if dorian:
        table = _DORIAN_DEGREES
    semitones, quality = table[name]
    return Degree(name, chord_id(key % 12 + semitones, quality), key, dorian)


def progression(
    key: int,
    next_key: int | None,
    n_slots: int,
    valence: float,
    arousal: float,
    rng: random.Random,
    final: bool = False,
    dorian: bool = False,
    next_dorian: bool = False,
) -> list[Degree]:
    """Chords for the ``n_slots`` harmonic slots of a section.

    The first slot is the tonic (the chord struck on the cut that opens the section). When a cut
    follows (``next_key`` is not None), the last two slots are a cadence into it: a predominant of
    the next key, then its dominant (a seventh when arousal is high), so the next section's tonic
    resolves it. The last section of a piece (``final``) ends on predominant, dominant, tonic
    when it has four slots or more. The slots in between follow :data:`_MAJOR_MOVES` /
    :data:`_MINOR_MOVES`, their weights blended by valence within the key's mode, or
    :data:`_DORIAN_MOVES` for a Dorian section (``dorian``; a minor key class).
    """
    if n_slots < 1:
        return []
    minor = key >= 12
    tonic = "i" if minor else "I"
    chords = [degree(key, tonic, dorian)]
    cadence: list[Degree] = []
    if next_key is not None and n_slots >= 2:
        dominant = "V7" if arousal > 0.3 else "V"
        if n_slots >= 3:
            pre = rng.choice(_PREDOMINANTS[_mode(next_key, next_dorian)])
            cadence = [degree(next_key, pre, next_dorian), degree(next_key, dominant, next_dorian)]
        else:
            cadence = [degree(next_key, dominant, next_dorian)]
    elif final and n_slots >= 4:
        pre = rng.choice(_PREDOMINANTS[_mode(key, dorian)])
        cadence = [degree(key, pre, dorian), degree(key, "V", dorian), degree(key, tonic, dorian)]
    moves = _DORIAN_MOVES if dorian else _MINOR_MOVES if minor else _MAJOR_MOVES
    # Valence picks the mode (the key) and, within it, the colour: in a major key it runs from
    # dark (valence 0: more vi, ii, iii) to bright (1: primary chords); in a minor key from dark
    # (-1: more iv, iio) to brighter (0: more III, VII).
    brightness = min(1.0, max(0.0, valence + 1.0 if minor else valence))
    current = tonic
    while len(chords) < n_slots - len(cadence):
        options = moves[current]
        names = list(options)
        weights = [b * brightness + d * (1.0 - brightness) for b, d in options.values()]
        current = rng.choices(names, weights=weights)[0]
        chords.append(degree(key, current, dorian))
    return chords + cadence


def applied_dominants(chords: Sequence[tuple[Degree, int]]) -> list[tuple[Degree, int]]:
    """``chords`` as (degree, beats) with each chord but the first that precedes an
    :data:`APPLIED_TARGETS` chord of its key led into by that chord's dominant seventh (named
    ``V7/V``, ``V7/VI``): the applied dominant takes the last :data:`APPLIED_BEATS` of the chord
    before, or the whole of a chord no longer than that.

    Dorian sections keep their own colour chords and have none; the first chord is the tonic
    struck on the cut and stays. Why only minor keys, and at most a bar: see
    :data:`APPLIED_TARGETS` and the model card (eighteenth sitting).
    """
    out = list(chords)
    for i in range(len(out) - 2, 0, -1):  # from the end, so each resolves to its final target
        (before, beats), target = out[i], out[i + 1][0]
        targets = APPLIED_TARGETS[_mode(target.key, target.dorian)]
        if (chord_root(target.chord) - target.key) % 12 not in targets:
            continue
        root = (chord_root(target.chord) + 7) % 12
        if chord_root(before.chord) == root:  # already its dominant
            continue
        name = f"V7/{target.name.removesuffix('7')}"
        applied = Degree(name, chord_id(root, "dom7"), target.key, target.dorian)
        if beats > APPLIED_BEATS:
            out[i : i + 1] = [(before, beats - APPLIED_BEATS), (applied, APPLIED_BEATS)]
        else:
            out[i] = (applied, beats)
    return out


MODE_PER_VALENCE = 0.35  # the major-minus-minor key strength a piece should read as per unit
# valence (the tonal anchor's target). The plan's chords aim further, at PLAN_MODE_PER_VALENCE:
# the pieces read less distinct than their chords (the model's own notes dilute them: minor
# sections measured -0.15 on average where their chord tones gave -0.26). Measured on 90 pieces
# of the grid for each of seven seed sets (20-29, 30-39, 60-69, 70-79, 110-139; twenty-second
# sitting), 0.5 against 0.35: valence -> mode 0.864 against 0.851 on average (higher on five
# sets, within 0.003 on the two confirming ones, 120-139), two-sample AUC 0.726 against 0.729.
# Above 0.5 nothing changes: of 16 walks the grammar's most minor read about -0.31, the most
# major +0.28.
PLAN_MODE_PER_VALENCE = 0.5
CANDIDATES = 16  # progressions drawn per section; the one nearest the target mode is kept


def harmony_mode(chords: Sequence[int], lengths: Sequence[float]) -> float:
    """Major-minus-minor key strength of chord tones held for ``lengths`` (as for a piece)."""
    pitches, weights = [], []
    for chord, length in zip(chords, lengths, strict=True):
        tones = chord_pitch_classes(chord)
        pitches += tones
        weights += [length] * len(tones)
    return mode_strength(np.array(pitches), np.array(weights, dtype=float))


def progression_for_valence(
    key: int,
    next_key: int | None,
    lengths: Sequence[int],
    valence: float,
    arousal: float,
    rng: random.Random,
    final: bool = False,
    dorian: bool = False,
    next_dorian: bool = False,
) -> list[tuple[Degree, int]]:
    """The :func:`progression` for slots of ``lengths`` beats, with its
    :func:`applied_dominants`, whose major/minor balance is nearest ``valence``'s target; as
    (degree, beats).

    One walk through the chord grammar can drift far from its mode (a minor walk through III and
    VII sounds like the relative major; a Dorian one like the major key a tone below), so that
    valence alone decided the measured mode of a plan only loosely. Of :data:`CANDIDATES` walks,
    the one whose chord tones, weighted by their lengths, have a key strength
    (:func:`vemidi.music.keys.mode_strength`) nearest ``PLAN_MODE_PER_VALENCE * valence`` is kept;
    measured over plans, the spread within one valence fell and the three moods stopped
    overlapping (README, model card).
    """
    target = PLAN_MODE_PER_VALENCE * valence
    best: list[tuple[Degree, int]] = []
    best_distance = math.inf
    for _ in range(CANDIDATES):
        degrees = progression(
            key, next_key, len(lengths), valence, arousal, rng, final, dorian, next_dorian
        )
        if not degrees:
            return []
        chords = applied_dominants(list(zip(degrees, lengths, strict=True)))
        distance = abs(harmony_mode([d.chord for d, _ in chords], [b for _, b in chords]) - target)
        if distance < best_distance:
            best, best_distance = chords, distance
    return best
