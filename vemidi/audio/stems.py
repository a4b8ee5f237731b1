"""Stems: one WAV per instrument, made to add up to the mix, and the bundle users download.

Each instrument of the MIDI is rendered alone through the same soundfont and then given the
mix's own per-sample gain (loudness, limiter and fade; see
:func:`vemidi.synth.render_normalised`), so the stems sum to the mixed WAV up to FluidSynth's
16-bit rounding and an editor can rebalance them without a level jump.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import numpy as np

from vemidi.audio.loudness import apply_gain
from vemidi.synth import SAMPLE_RATE_HZ, render, write_wav


def stem_name(index: int, instrument: object) -> str:
    """A file-safe stem name: its order in the MIDI and its instrument (``03-bass``)."""
    import pretty_midi

    if instrument.is_drum:
        label = "drums"
    else:
        label = instrument.name or pretty_midi.program_to_instrument_name(instrument.program)
    return f"{index:02d}-{re.sub(r'[^a-z0-9]+', '-', label.lower()).strip('-') or 'part'}"


def render_stems(
    midi: object,
    duration_s: float,
    gain: np.ndarray,
    soundfont: str | Path | None = None,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
) -> dict[str, np.ndarray]:
    """Every instrument of a ``pretty_midi.PrettyMIDI`` alone, with the mix's ``gain``."""
    import pretty_midi

    stems = {}
    for index, instrument in enumerate(midi.instruments, start=1):
        if not instrument.notes:
            continue
        alone = pretty_midi.PrettyMIDI()
        alone.instruments.append(instrument)
        audio = render(alone, duration_s, soundfont, sample_rate_hz)
        stems[stem_name(index, instrument)] = apply_gain(audio, gain)
    return stems


def write_bundle(
    out_dir: str | Path,
    midi_path: Path,
    duration_s: float,
    gain: np.ndarray,
    files: list[Path],
    soundfont: str | Path | None = None,
) -> list[Path]:
    """Write ``stems/<name>.wav`` for every instrument into ``out_dir`` and copy ``files``
    (MIDI, mixed WAV, MP4, JSON) beside them; returns every path written."""
    import shutil

    import pretty_midi

    out_dir = Path(out_dir)
    (out_dir / "stems").mkdir(parents=True, exist_ok=True)
    written = []
    stems = render_stems(pretty_midi.PrettyMIDI(str(midi_path)), duration_s, gain, soundfont)
    for name, audio in stems.items():
        path = out_dir / "stems" / f"{name}.wav"
        write_wav(path, audio)
        written.append(path)
    for src in files:
        dst = out_dir / src.name
        if src.resolve() != dst.resolve():
            shutil.copyfile(src, dst)
        written.append(dst)
    return written


def zip_bundle(folder: str | Path, zip_path: str | Path) -> Path:
    """Every file under ``folder`` in one ZIP (paths relative to it; WAVs stored deflated)."""
    folder, zip_path = Path(folder), Path(zip_path)
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and path.resolve() != zip_path.resolve():
                archive.write(path, path.relative_to(folder).as_posix())
    return zip_path
