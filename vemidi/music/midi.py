"""MIDI files <-> notes through pretty_midi, and the velocity shaping of generated music.

General MIDI programs are grouped into the five LPD-5 instruments the way the Lakh Pianoroll
Dataset merges them: drums by the drum flag, 24-31 guitar, 32-39 bass, 0-23 (pianos, chromatic
percussion, organs) piano, everything else strings. Written files use EMSYNC's programs: piano 0,
guitar 25, bass 32, strings 48, drums on the drum channel.
"""

from __future__ import annotations

from pathlib import Path

from vemidi.errors import MediaError
from vemidi.music.tokenizer import MAX_PITCH, MIN_PITCH, Decoded, Instrument, Note

OUTPUT_PROGRAMS = {
    Instrument.BASS: 32,
    Instrument.GUITAR: 25,
    Instrument.PIANO: 0,
    Instrument.STRINGS: 48,
    Instrument.DRUMS: 0,
}
DEFAULT_VELOCITY = 80  # EMSYNC's velocity for ordinary notes
ACCENT_VELOCITY = 120  # EMSYNC's velocity for piano/guitar notes of a boundary chord
_END_MARKER_CC = 110  # an undefined controller: marks the end of the piece without a sound


def program_group(program: int, is_drum: bool) -> Instrument:
    """LPD-5 instrument group of a General MIDI program (0-127)."""
    if is_drum:
        return Instrument.DRUMS
    if 24 <= program <= 31:
        return Instrument.GUITAR
    if 32 <= program <= 39:
        return Instrument.BASS
    if program <= 23:
        return Instrument.PIANO
    return Instrument.STRINGS


def read_notes(path: str | Path) -> list[Note]:
    """Read a MIDI file into notes grouped by instrument.

    Raises:
        MediaError: the file is missing, corrupt, has no notes, or none in the 88-key range.
    """
    import pretty_midi

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"MIDI file {path} does not exist.")
    try:
        midi = pretty_midi.PrettyMIDI(str(path))
    except Exception as e:  # mido raises many types on corrupt data
        raise MediaError(f"MIDI file {path} cannot be read: {e}.") from e
    notes = [
        Note(program_group(inst.program, inst.is_drum), n.pitch, float(n.start), float(n.end))
        for inst in midi.instruments
        for n in inst.notes
    ]
    if not notes:
        raise MediaError(f"MIDI file {path} contains no notes.")
    in_range = [n for n in notes if MIN_PITCH <= n.pitch <= MAX_PITCH]
    if not in_range:
        raise MediaError(
            f"MIDI file {path} has no notes in the pitch range {MIN_PITCH}-{MAX_PITCH}."
        )
    return in_range


def to_pretty_midi(
    decoded: Decoded,
    base_velocity: int = DEFAULT_VELOCITY,
    accent_velocity: int = ACCENT_VELOCITY,
) -> object:
    """Build a ``pretty_midi.PrettyMIDI`` from decoded tokens.

    Piano and guitar notes of a boundary chord get ``accent_velocity``; all others
    ``base_velocity``. The file ends exactly at ``decoded.duration_s`` (a silent controller event
    marks the end, so players and ``get_end_time`` agree with the video's length).
    """
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    tracks: dict[Instrument, pretty_midi.Instrument] = {}
    for index, note in enumerate(decoded.notes):
        track = tracks.get(note.instrument)
        if track is None:
            track = pretty_midi.Instrument(
                program=OUTPUT_PROGRAMS[note.instrument],
                is_drum=note.instrument == Instrument.DRUMS,
                name=note.instrument.name.lower(),
            )
            tracks[note.instrument] = track
        accent = index in decoded.accented and note.instrument in (
            Instrument.PIANO,
            Instrument.GUITAR,
        )
        velocity = accent_velocity if accent else base_velocity
        track.notes.append(pretty_midi.Note(velocity, note.pitch, note.start_s, note.end_s))
    for instrument in sorted(tracks):
        midi.instruments.append(tracks[instrument])
    if not midi.instruments:
        midi.instruments.append(pretty_midi.Instrument(program=0, name="piano"))
    midi.instruments[0].control_changes.append(
        pretty_midi.ControlChange(_END_MARKER_CC, 0, decoded.duration_s)
    )
    return midi
