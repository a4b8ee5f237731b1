"""MIDI reading: GM program groups and clear errors for bad files."""

from __future__ import annotations

import pretty_midi
import pytest

from vemidi.errors import VemidiError
from vemidi.music import tokenizer as tk
from vemidi.music.midi import program_group, read_notes, to_pretty_midi


@pytest.mark.parametrize(
    ("program", "drum", "want"),
    [
        (0, False, tk.Instrument.PIANO),
        (25, False, tk.Instrument.GUITAR),
        (33, False, tk.Instrument.BASS),
        (48, False, tk.Instrument.STRINGS),
        (40, False, tk.Instrument.STRINGS),
        (0, True, tk.Instrument.DRUMS),
    ],
)
def test_program_groups(program, drum, want):
    assert program_group(program, drum) == want


def test_missing_file(tmp_path):
    with pytest.raises(VemidiError, match=r"nope\.mid"):
        read_notes(tmp_path / "nope.mid")


def test_corrupt_file(tmp_path):
    path = tmp_path / "bad.mid"
    path.write_bytes(b"MThd this is not midi")
    with pytest.raises(VemidiError, match=r"bad\.mid"):
        read_notes(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty.mid"
    pretty_midi.PrettyMIDI().write(str(path))
    with pytest.raises(VemidiError, match="no notes"):
        read_notes(path)


def test_all_out_of_range(tmp_path):
    path = tmp_path / "high.mid"
    midi = pretty_midi.PrettyMIDI()
    track = pretty_midi.Instrument(program=0)
    track.notes = [pretty_midi.Note(velocity=80, pitch=120, start=0, end=1)]
    midi.instruments.append(track)
    midi.write(str(path))
    with pytest.raises(VemidiError, match="range"):
        read_notes(path)


def test_written_midi_ends_exactly_at_duration(tmp_path):
    notes = [tk.Note(tk.Instrument.PIANO, 60, 0.0, 0.5)]
    decoded = tk.decode(tk.encode(notes), end_s=7.25)
    path = tmp_path / "out.mid"
    to_pretty_midi(decoded).write(str(path))
    assert abs(pretty_midi.PrettyMIDI(str(path)).get_end_time() - 7.25) <= 0.01
