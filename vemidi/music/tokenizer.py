"""The EMSYNC event vocabulary (1011 tokens) and the conversion between notes and tokens.

Layout of the vocabulary:

* 0-5: ``PAD``, ``START``, ``BAR``, ``CHORD``, ``LESS_INSTRUMENTS``, ``MORE_INSTRUMENTS``;
* 6-130: ``TIME_SHIFT`` of 1 ... 125 ticks, one tick being a sixteenth note (see below);
* 131-1010: ``NOTE_OFF`` then ``NOTE_ON``, each for the five instruments (bass, drums, guitar,
  piano, strings) times the 88 pitches 21-108.

**Musical time (our deviation from EMSYNC).** EMSYNC counts time in absolute 8 ms ticks with no
beat grid; its music drifts off any pulse. We keep its vocabulary but let a tick mean a sixteenth
note: every score is rendered at one *reference tempo* (120 bpm, so a beat is 0.5 s and a tick
0.125 s), and a generated piece is mapped onto the video through the plan's tempo map
(:mod:`vemidi.music.plan`). Times in this module are therefore seconds *at the reference tempo*;
``ticks_to_beats`` and ``TICKS_PER_BEAT`` give the musical reading. Absolute times are quantised to
the tick first, so rounding never accumulates. Simultaneous events are ordered OFF, BAR, CHORD,
ON (releases before onsets, so a monophonic line never overlaps itself), then drums < bass <
guitar < piano < strings. Since a MIDI channel cannot sound the same pitch twice, a note that
starts while the same pitch of the same instrument still sounds cuts the older one short. This
module needs no torch.
"""

from __future__ import annotations

from collections import defaultdict, deque
from dataclasses import dataclass
from enum import IntEnum

from vemidi.errors import InvalidInputError


class Instrument(IntEnum):
    """The five LPD-5 instrument groups, in vocabulary order."""

    BASS = 0
    DRUMS = 1
    GUITAR = 2
    PIANO = 3
    STRINGS = 4


REFERENCE_BPM = 120.0  # the tempo every score is rendered at; the plan maps it onto the video
TICKS_PER_BEAT = 4  # a tick is a sixteenth note
BEAT_S = 60.0 / REFERENCE_BPM  # a beat (a quarter note) at the reference tempo: 0.5 s
TICK_S = BEAT_S / TICKS_PER_BEAT  # 0.125 s at the reference tempo
MAX_SHIFT_TICKS = 125  # EMSYNC's 125 shift tokens: here up to 31.25 beats
MIN_PITCH = 21
MAX_PITCH = 108
N_PITCHES = MAX_PITCH - MIN_PITCH + 1
N_INSTRUMENTS = len(Instrument)

PAD, START, BAR, CHORD, LESS_INSTRUMENTS, MORE_INSTRUMENTS = range(6)
SPECIAL_NAMES = ("PAD", "START", "BAR", "CHORD", "LESS_INSTRUMENTS", "MORE_INSTRUMENTS")
SHIFT_BASE = 6
NOTE_BASE = SHIFT_BASE + MAX_SHIFT_TICKS  # 131
OFF, ON = 0, 1
VOCAB_SIZE = NOTE_BASE + 2 * N_INSTRUMENTS * N_PITCHES  # 1011

# At equal times the reference orders drums first, then bass, guitar, piano, strings.
_INSTRUMENT_PRIORITY = {
    Instrument.DRUMS: 0,
    Instrument.BASS: 1,
    Instrument.GUITAR: 2,
    Instrument.PIANO: 3,
    Instrument.STRINGS: 4,
}


@dataclass(frozen=True)
class Note:
    """One note: instrument group, MIDI pitch and its start and end in seconds."""

    instrument: Instrument
    pitch: int
    start_s: float
    end_s: float


def shift_token(ticks: int) -> int:
    """Token of a time shift of ``ticks`` ticks (1 ... 125)."""
    if not 1 <= ticks <= MAX_SHIFT_TICKS:
        raise InvalidInputError(f"shift ticks must be in [1, {MAX_SHIFT_TICKS}], got {ticks}")
    return SHIFT_BASE + ticks - 1


def note_token(kind: int, instrument: Instrument, pitch: int) -> int:
    """Token of a NOTE_ON (``kind=ON``) or NOTE_OFF (``kind=OFF``) event."""
    if not MIN_PITCH <= pitch <= MAX_PITCH:
        raise InvalidInputError(f"pitch must be in [{MIN_PITCH}, {MAX_PITCH}], got {pitch}")
    return NOTE_BASE + (kind * N_INSTRUMENTS + int(instrument)) * N_PITCHES + pitch - MIN_PITCH


def is_shift(token: int) -> bool:
    """Whether ``token`` is a TIME_SHIFT."""
    return SHIFT_BASE <= token < NOTE_BASE


def shift_ticks(token: int) -> int:
    """Number of ticks (sixteenth notes) a TIME_SHIFT token advances (0 for any other token)."""
    return token - SHIFT_BASE + 1 if is_shift(token) else 0


def is_note(token: int) -> bool:
    """Whether ``token`` is a NOTE_ON or NOTE_OFF."""
    return NOTE_BASE <= token < VOCAB_SIZE


def note_parts(token: int) -> tuple[int, Instrument, int]:
    """Split a note token into ``(kind, instrument, pitch)``."""
    if not is_note(token):
        raise InvalidInputError(f"token {token} is not a note event")
    index = token - NOTE_BASE
    kind, rest = divmod(index, N_INSTRUMENTS * N_PITCHES)
    instrument, pitch_index = divmod(rest, N_PITCHES)
    return kind, Instrument(instrument), pitch_index + MIN_PITCH


def token_name(token: int) -> str:
    """Readable name of a token, e.g. ``ON_PIANO_60`` or ``SHIFT_125``."""
    if 0 <= token < SHIFT_BASE:
        return SPECIAL_NAMES[token]
    if is_shift(token):
        return f"SHIFT_{shift_ticks(token)}"
    kind, instrument, pitch = note_parts(token)
    return f"{'ON' if kind == ON else 'OFF'}_{instrument.name}_{pitch}"


def to_ticks(time_s: float) -> int:
    """Nearest tick of an absolute time in seconds at the reference tempo."""
    return round(time_s / TICK_S)


def ticks_to_beats(ticks: float) -> float:
    """Beats of a number of ticks."""
    return ticks / TICKS_PER_BEAT


def shift_tokens(n_ticks: int) -> list[int]:
    """Tokens that advance time by ``n_ticks``: full 1 s shifts, then the remainder."""
    tokens = [shift_token(MAX_SHIFT_TICKS)] * (n_ticks // MAX_SHIFT_TICKS)
    if n_ticks % MAX_SHIFT_TICKS:
        tokens.append(shift_token(n_ticks % MAX_SHIFT_TICKS))
    return tokens


def normalise_notes(notes: list[Note]) -> list[Note]:
    """Drop out-of-range pitches and cut notes that a later onset of the same key interrupts.

    Times are quantised to ticks; a note shorter than a tick lasts one tick.
    """
    by_key: dict[tuple[Instrument, int], list[tuple[int, int]]] = defaultdict(list)
    for note in notes:
        if MIN_PITCH <= note.pitch <= MAX_PITCH:
            start = max(0, to_ticks(note.start_s))
            end = max(start + 1, to_ticks(note.end_s))
            by_key[(note.instrument, note.pitch)].append((start, end))
    result = []
    for (instrument, pitch), spans in by_key.items():
        spans.sort()
        for i, (start, end) in enumerate(spans):
            if i + 1 < len(spans) and spans[i + 1][0] < end:
                end = max(start + 1, spans[i + 1][0])
            result.append(Note(instrument, pitch, start * TICK_S, end * TICK_S))
    result.sort(key=lambda n: (n.start_s, n.pitch, n.end_s, _INSTRUMENT_PRIORITY[n.instrument]))
    return result


def encode(
    notes: list[Note],
    chord_times_s: list[float] | None = None,
    bar_times_s: list[float] | None = None,
) -> list[int]:
    """Encode notes as an event sequence (without the instrument-count prefix).

    Args:
        notes: the notes; out-of-range pitches are dropped (see :func:`normalise_notes`).
        chord_times_s: times where a ``CHORD`` token precedes the note-ons (boundary chords).
        bar_times_s: downbeat times where a ``BAR`` token is placed.

    Returns:
        Token ids. The sequence starts at time 0; the first event may be a shift.
    """
    # Event sort key: (tick, group, priority, pitch, token); group orders OFF, BAR, CHORD, ON.
    events: list[tuple[int, int, int, int, int]] = []
    for t in bar_times_s or []:
        events.append((max(0, to_ticks(t)), 1, 0, 0, BAR))
    for t in chord_times_s or []:
        events.append((max(0, to_ticks(t)), 2, 0, 0, CHORD))
    for n in normalise_notes(notes):
        prio = _INSTRUMENT_PRIORITY[n.instrument]
        events.append(
            (to_ticks(n.start_s), 3, prio, n.pitch, note_token(ON, n.instrument, n.pitch))
        )
        events.append((to_ticks(n.end_s), 0, prio, n.pitch, note_token(OFF, n.instrument, n.pitch)))
    events.sort()
    tokens: list[int] = []
    now = 0
    for tick, _, _, _, token in events:
        tokens.extend(shift_tokens(tick - now))
        now = tick
        tokens.append(token)
    return tokens


@dataclass(frozen=True)
class Decoded:
    """What a token sequence means: its notes, boundary-chord times, and its length in seconds."""

    notes: list[Note]
    chord_times_s: list[float]
    accented: frozenset[int]  # indices into ``notes`` that start right after a CHORD token
    duration_s: float


def decode(tokens: list[int], end_s: float | None = None) -> Decoded:
    """Turn tokens back into notes; an unmatched NOTE_OFF is ignored.

    Notes still sounding at the end are closed at ``end_s`` (default: the time the tokens reach).
    Notes starting after a CHORD token and before the next shift are marked as accented.
    """
    now = 0
    open_notes: dict[tuple[Instrument, int], deque[tuple[int, bool]]] = defaultdict(deque)
    spans: list[tuple[Instrument, int, int, int, bool]] = []
    chord_ticks: list[int] = []
    in_chord = False
    for token in tokens:
        if is_shift(token):
            now += shift_ticks(token)
            in_chord = False
        elif token == CHORD:
            chord_ticks.append(now)
            in_chord = True
        elif is_note(token):
            kind, instrument, pitch = note_parts(token)
            queue = open_notes[(instrument, pitch)]
            if kind == ON:
                queue.append((now, in_chord))
            elif queue:
                start, accent = queue.popleft()
                spans.append((instrument, pitch, start, max(now, start + 1), accent))
    end_tick = now if end_s is None else to_ticks(end_s)
    for (instrument, pitch), queue in open_notes.items():
        for start, accent in queue:
            if start < end_tick:
                spans.append((instrument, pitch, start, end_tick, accent))
    spans = [s for s in spans if s[2] < end_tick] if end_s is not None else spans
    spans.sort(key=lambda s: (s[2], s[1], s[3], int(s[0])))
    notes = [Note(i, p, s * TICK_S, min(e, end_tick) * TICK_S) for i, p, s, e, _ in spans]
    accented = frozenset(k for k, span in enumerate(spans) if span[4])
    duration_s = end_tick * TICK_S
    return Decoded(notes, [t * TICK_S for t in chord_ticks], accented, duration_s)


def instrument_token(n_instruments: int) -> int:
    """EMSYNC's instrument-count control: MORE for three or more active instruments."""
    return MORE_INSTRUMENTS if n_instruments >= 3 else LESS_INSTRUMENTS
