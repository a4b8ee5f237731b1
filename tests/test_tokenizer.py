"""Tokenizer: vocabulary layout, ordering rules, and the MIDI <-> tokens round trip."""

from __future__ import annotations

import subprocess
import sys

import pretty_midi
from hypothesis import given, settings
from hypothesis import strategies as st

from vemidi.music import tokenizer as tk
from vemidi.music.midi import read_notes

JITTER_S = 0.03  # notes drawn this close to the sixteenth grid come back on it
TOL_S = JITTER_S + 1e-6


def test_vocabulary_matches_emsync():
    assert tk.VOCAB_SIZE == 1011
    assert tk.NOTE_BASE == 6 + 125
    names = {tk.token_name(t) for t in range(tk.VOCAB_SIZE)}
    assert len(names) == tk.VOCAB_SIZE  # every token has its own name


def test_a_tick_is_a_sixteenth_at_the_reference_tempo():
    assert tk.TICKS_PER_BEAT == 4 and tk.REFERENCE_BPM == 120.0
    assert tk.TICK_S == 0.125 and tk.ticks_to_beats(6) == 1.5


def test_long_gap_uses_the_longest_shifts():
    tokens = tk.shift_tokens(300)
    assert [tk.shift_ticks(t) for t in tokens] == [125, 125, 50]


def test_simultaneous_events_order_off_then_chord_then_on():
    notes = [
        tk.Note(tk.Instrument.PIANO, 60, 0.0, 1.0),
        tk.Note(tk.Instrument.BASS, 40, 1.0, 2.0),
    ]
    tokens = tk.encode(notes, chord_times_s=[1.0])
    names = [tk.token_name(t) for t in tokens]
    at_one_second = names[names.index("SHIFT_8") + 1 :]
    assert at_one_second[:3] == ["OFF_PIANO_60", "CHORD", "ON_BASS_40"]


def test_tokenizer_does_not_import_torch():
    code = "import sys, vemidi.music.tokenizer, vemidi.music.midi; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


_note = st.builds(
    lambda instrument, pitch, start, length, jitter: tk.Note(
        instrument, pitch, start * tk.TICK_S + jitter, (start + length) * tk.TICK_S + jitter
    ),
    st.sampled_from(list(tk.Instrument)),
    st.integers(tk.MIN_PITCH, tk.MAX_PITCH),
    st.integers(0, 160),
    st.integers(1, 32),
    st.floats(0.0, JITTER_S, allow_nan=False),
)


def _distinct_keys(notes: list[tk.Note]) -> list[tk.Note]:
    """One note per (instrument, pitch): overlapping repeats are truncated by design."""
    seen, result = set(), []
    for note in notes:
        if (note.instrument, note.pitch) not in seen:
            seen.add((note.instrument, note.pitch))
            result.append(note)
    return result


def _write_midi(notes: list[tk.Note], path) -> None:
    midi = pretty_midi.PrettyMIDI()
    programs = {
        tk.Instrument.BASS: (33, False),
        tk.Instrument.DRUMS: (0, True),
        tk.Instrument.GUITAR: (25, False),
        tk.Instrument.PIANO: (0, False),
        tk.Instrument.STRINGS: (48, False),
    }
    for instrument, (program, drum) in programs.items():
        track = pretty_midi.Instrument(program=program, is_drum=drum)
        track.notes = [
            pretty_midi.Note(velocity=80, pitch=n.pitch, start=n.start_s, end=n.end_s)
            for n in notes
            if n.instrument == instrument
        ]
        midi.instruments.append(track)
    midi.write(str(path))


@settings(max_examples=60, deadline=None)
@given(st.lists(_note, min_size=1, max_size=40).map(_distinct_keys))
def test_round_trip_tokens_keep_every_note(notes):
    decoded = tk.decode(tk.encode(notes))
    got = sorted(decoded.notes, key=lambda n: (n.instrument, n.pitch))
    want = sorted(notes, key=lambda n: (n.instrument, n.pitch))
    assert len(got) == len(want)
    for a, b in zip(got, want, strict=False):
        assert (a.instrument, a.pitch) == (b.instrument, b.pitch)
        assert abs(a.start_s - b.start_s) <= TOL_S
        assert abs(a.end_s - b.end_s) <= TOL_S


@settings(max_examples=25, deadline=None)
@given(notes=st.lists(_note, min_size=1, max_size=25).map(_distinct_keys))
def test_round_trip_through_midi_file(notes, tmp_path_factory):
    path = tmp_path_factory.mktemp("midi") / "piece.mid"
    _write_midi(notes, path)
    decoded = tk.decode(tk.encode(read_notes(path)))
    got = sorted(decoded.notes, key=lambda n: (n.instrument, n.pitch))
    want = sorted(notes, key=lambda n: (n.instrument, n.pitch))
    assert [(n.instrument, n.pitch) for n in got] == [(n.instrument, n.pitch) for n in want]
    # pretty_midi stores ticks at 220 per beat (120 bpm): ~2.3 ms more.
    for a, b in zip(got, want, strict=False):
        assert abs(a.start_s - b.start_s) <= TOL_S + 0.003
        assert abs(a.end_s - b.end_s) <= TOL_S + 0.003


def test_out_of_range_pitches_are_dropped():
    notes = [tk.Note(tk.Instrument.PIANO, 10, 0.0, 1.0), tk.Note(tk.Instrument.PIANO, 60, 0.0, 1.0)]
    decoded = tk.decode(tk.encode(notes))
    assert [n.pitch for n in decoded.notes] == [60]


def test_instrument_count_token():
    assert tk.instrument_token(2) == tk.LESS_INSTRUMENTS
    assert tk.instrument_token(3) == tk.MORE_INSTRUMENTS
