"""MIDI files <-> notes through pretty_midi, and the velocity shaping of generated music.

General MIDI programs are grouped into the five LPD-5 instruments the way the Lakh Pianoroll
Dataset merges them: drums by the drum flag, 24-31 guitar, 32-39 bass, 0-23 (pianos, chromatic
percussion, organs) piano, everything else strings. Written files use EMSYNC's programs: piano 0,
guitar 25, bass 32, strings 48, drums on the drum channel. A written soundtrack carries its
plan: tempo map, time signatures, key signatures and a marker on every cut.
"""

from __future__ import annotations

from pathlib import Path

from vemidi.errors import MediaError, explained
from vemidi.music.plan import Plan
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
RESOLUTION = 480  # MIDI ticks per beat in written files


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
        raise explained(MediaError, f"MIDI file {Path(path).name} cannot be read.", e) from e
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
    plan: Plan | None = None,
    base_velocity: int = DEFAULT_VELOCITY,
    accent_velocity: int = ACCENT_VELOCITY,
    drums: list[tuple[Note, int]] | None = None,
) -> object:
    """Build a ``pretty_midi.PrettyMIDI`` from decoded notes (video time) and their plan.

    With a plan the file is DAW-ready: its tempo map and time signatures are the plan's (a cut
    is a downbeat in any sequencer), with a key signature per section. Velocities: notes struck
    on a cut (after a CHORD token) get ``accent_velocity`` on piano and guitar as in EMSYNC,
    others ``base_velocity`` plus a small metric accent (+8 on a bar line, +4 on another beat).
    ``drums`` are (note, velocity) pairs from :mod:`vemidi.music.drums`. The file ends exactly at
    ``decoded.duration_s`` (a silent controller event marks the end).
    """
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(resolution=RESOLUTION, initial_tempo=120.0)
    if plan is not None:
        _write_timing(midi, plan)
    tracks: dict[Instrument, pretty_midi.Instrument] = {}

    def track_of(instrument: Instrument) -> pretty_midi.Instrument:
        if instrument not in tracks:
            tracks[instrument] = pretty_midi.Instrument(
                program=OUTPUT_PROGRAMS[instrument],
                is_drum=instrument == Instrument.DRUMS,
                name=instrument.name.lower(),
            )
        return tracks[instrument]

    downbeats = {round(b.start_s, 3) for b in plan.bars} if plan is not None else set()
    for index, note in enumerate(decoded.notes):
        accent = index in decoded.accented and note.instrument in (
            Instrument.PIANO,
            Instrument.GUITAR,
        )
        velocity = (
            accent_velocity
            if accent
            else base_velocity + _metric_accent(note.start_s, plan, downbeats)
        )
        velocity = max(1, min(127, velocity))
        track_of(note.instrument).notes.append(
            pretty_midi.Note(velocity, note.pitch, note.start_s, note.end_s)
        )
    for note, velocity in drums or []:
        track_of(Instrument.DRUMS).notes.append(
            pretty_midi.Note(velocity, note.pitch, note.start_s, note.end_s)
        )
    for instrument in sorted(tracks):
        midi.instruments.append(tracks[instrument])
    if not midi.instruments:
        midi.instruments.append(pretty_midi.Instrument(program=0, name="piano"))
    midi.instruments[0].control_changes.append(
        pretty_midi.ControlChange(_END_MARKER_CC, 0, decoded.duration_s)
    )
    return midi


def _metric_accent(start_s: float, plan: Plan | None, downbeats: set[float]) -> int:
    """+8 on a bar line, +4 on another beat, 0 between beats (and without a plan)."""
    if plan is None:
        return 0
    if round(start_s, 3) in downbeats:
        return 8
    beat = plan.s_to_beat(start_s)
    return 4 if abs(beat - round(beat)) < 1e-3 else 0


def _write_timing(midi: object, plan: Plan) -> None:
    """The plan's tempo map, time signatures and key signatures on a fresh PrettyMIDI."""
    import pretty_midi

    scales = []
    for section in plan.sections:
        tick = section.start_beat * RESOLUTION
        scale = 60.0 / (section.tempo_bpm * RESOLUTION)
        if not scales or abs(scales[-1][1] - scale) > 1e-12:
            scales.append((tick, scale))
    midi._tick_scales = scales  # pretty_midi has no public setter for a tempo map
    midi._update_tick_to_time(plan.total_beats * RESOLUTION + RESOLUTION)
    previous = None
    for bar in plan.bars:
        if bar.beats != previous:
            midi.time_signature_changes.append(pretty_midi.TimeSignature(bar.beats, 4, bar.start_s))
            previous = bar.beats
    previous_key = None
    for section in plan.sections:
        if section.key != previous_key:
            midi.key_signature_changes.append(
                pretty_midi.KeySignature(section.key, section.start_s)
            )
            previous_key = section.key


def write_midi(midi: object, path: str | Path, plan: Plan | None = None) -> None:
    """Write a PrettyMIDI to ``path``, with a marker meta event on each of the plan's cuts."""
    import mido

    midi.write(str(path))
    if plan is None or not plan.cuts_s:
        return
    data = mido.MidiFile(str(path))
    track = data.tracks[0]
    absolute, events = 0, []
    for message in track:
        absolute += message.time
        events.append((absolute, message))
    for number, cut in enumerate(plan.cuts_s, 1):
        tick = midi.time_to_tick(cut)
        events.append((tick, mido.MetaMessage("marker", text=f"cut {number}", time=0)))
    end = [e for e in events if e[1].type == "end_of_track"]
    body = sorted((e for e in events if e[1].type != "end_of_track"), key=lambda e: e[0])
    last = max([t for t, _ in body] + [t for t, _ in end])
    track.clear()
    now = 0
    for tick, message in [*body, (last, mido.MetaMessage("end_of_track", time=0))]:
        track.append(message.copy(time=tick - now))
        now = tick
    data.save(str(path))
