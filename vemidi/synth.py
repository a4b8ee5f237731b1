"""Rendering MIDI to audio with FluidSynth (pyfluidsynth) and a General MIDI soundfont.

Soundfonts are looked for in this order: ``.sf2``/``.sf3`` files in the repository's
``soundfonts/`` folder (or ``VEMIDI_SOUNDFONT_DIR``), the General MIDI soundfont that
``packages.txt`` installs (Debian's fluid-soundfont-gm, ``FluidR3_GM.sf2``), then the TimGM6mb
that ships inside the pretty_midi wheel.
"""

from __future__ import annotations

import os
import wave
from importlib import resources
from pathlib import Path

import numpy as np

from vemidi.errors import SynthesisError

SAMPLE_RATE_HZ = 44100
_SYSTEM_SOUNDFONTS = (
    Path("/usr/share/sounds/sf2/FluidR3_GM.sf2"),
    Path("/usr/share/sounds/sf3/default-GM.sf3"),
    Path("/usr/share/sounds/sf2/default-GM.sf2"),
)
_BLOCK = 512  # samples rendered per FluidSynth call between events


def soundfont_dir() -> Path:
    """Folder of user-supplied soundfonts (``VEMIDI_SOUNDFONT_DIR`` overrides it)."""
    default = Path(__file__).resolve().parent.parent / "soundfonts"
    return Path(os.environ.get("VEMIDI_SOUNDFONT_DIR", default))


def available_soundfonts() -> list[Path]:
    """Every usable soundfont, in the order they are preferred."""
    found: list[Path] = []
    folder = soundfont_dir()
    if folder.is_dir():
        found += sorted(p for p in folder.iterdir() if p.suffix.lower() in (".sf2", ".sf3"))
    found += [p for p in _SYSTEM_SOUNDFONTS if p.is_file()]
    bundled = Path(str(resources.files("pretty_midi") / "TimGM6mb.sf2"))
    if bundled.is_file():
        found.append(bundled)
    unique: list[Path] = []
    for path in found:
        if path.resolve() not in [u.resolve() for u in unique]:
            unique.append(path)
    return unique


def resolve_soundfont(path: str | Path | None = None) -> Path:
    """The soundfont to use: ``path`` if given, else the first of :func:`available_soundfonts`.

    Raises:
        SynthesisError: the given file does not exist, or no soundfont is installed.
    """
    if path is not None:
        path = Path(path)
        if not path.is_file() or path.suffix.lower() not in (".sf2", ".sf3"):
            raise SynthesisError(f"soundfont {path} is not an existing .sf2 or .sf3 file.")
        return path
    found = available_soundfonts()
    if not found:
        raise SynthesisError(
            "no General MIDI soundfont found: put a .sf2 file in soundfonts/ or install "
            "fluid-soundfont-gm."
        )
    return found[0]


def _channels(midi: object) -> list[int]:
    """MIDI channel of each instrument: drums on 9, the others on 0-8, 10-15 in order."""
    melodic = iter(c for c in range(16) if c != 9)
    return [9 if inst.is_drum else next(melodic, 15) for inst in midi.instruments]


def _events(midi: object, channels: list[int]) -> list[tuple[float, int, int, int, int]]:
    """(time_s, kind 0=off 1=on, channel, pitch, velocity) for every note, offs first."""
    events = []
    for channel, inst in zip(channels, midi.instruments, strict=True):
        for n in inst.notes:
            events.append((float(n.start), 1, channel, n.pitch, n.velocity))
            events.append((float(n.end), 0, channel, n.pitch, 0))
    events.sort(key=lambda e: (e[0], e[1]))
    return events


def render(
    midi: object,
    duration_s: float,
    soundfont: str | Path | None = None,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
) -> np.ndarray:
    """Render a ``pretty_midi.PrettyMIDI`` to float32 stereo of exactly ``duration_s``.

    Returns:
        Array of shape ``(round(duration_s * sample_rate_hz), 2)`` in [-1, 1].

    Raises:
        SynthesisError: FluidSynth's library or the soundfont cannot be loaded.
    """
    sf_path = resolve_soundfont(soundfont)
    try:
        import fluidsynth
    except (ImportError, OSError) as e:
        raise SynthesisError(
            "the FluidSynth library is missing: install the Debian package fluidsynth "
            "(see packages.txt)."
        ) from e
    synth = fluidsynth.Synth(gain=0.25, samplerate=float(sample_rate_hz))
    try:
        sfid = synth.sfload(str(sf_path))
        if sfid < 0:
            raise SynthesisError(f"FluidSynth cannot load the soundfont {sf_path}.")
        channels = _channels(midi)
        for channel, inst in zip(channels, midi.instruments, strict=True):
            bank, program = (128, 0) if inst.is_drum else (0, inst.program)
            synth.program_select(channel, sfid, bank, program)
        total = round(duration_s * sample_rate_hz)
        chunks: list[np.ndarray] = []
        done = 0
        for time_s, kind, channel, pitch, velocity in _events(midi, channels):
            target = min(total, round(time_s * sample_rate_hz))
            while done < target:
                n = min(_BLOCK * 64, target - done)
                chunks.append(np.asarray(synth.get_samples(n), dtype=np.int16))
                done += n
            if kind:
                synth.noteon(channel, pitch, velocity)
            else:
                synth.noteoff(channel, pitch)
        while done < total:
            n = min(_BLOCK * 64, total - done)
            chunks.append(np.asarray(synth.get_samples(n), dtype=np.int16))
            done += n
    finally:
        synth.delete()
    if not chunks:
        return np.zeros((total, 2), dtype=np.float32)
    audio = np.concatenate(chunks).reshape(-1, 2)[:total].astype(np.float32)
    audio *= 1.0 / 32768.0  # in place: a 10-minute render is 212 MB of float32 per copy
    return audio


def fade_gain(n_samples: int, fade_s: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """Per-sample gain of a linear fade over the last ``fade_s`` seconds (EMSYNC: 3 s; none
    for clips no longer than the fade)."""
    gain = np.ones(n_samples, dtype=np.float32)
    n = round(fade_s * sample_rate_hz)
    if 0 < n < n_samples:
        gain[-n:] = np.linspace(1.0, 0.0, n, dtype=np.float32)
    return gain


def render_normalised(
    midi: object,
    duration_s: float,
    soundfont: str | Path | None = None,
    loudness_lufs: float = -16.0,
    fade_s: float = 3.0,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
):
    """Render a piece of exactly ``duration_s``, fade it out (EMSYNC: 3 s) and bring it to
    ``loudness_lufs`` with its true peak under -1 dBTP (:mod:`vemidi.audio.loudness`).

    Returns:
        :class:`vemidi.audio.loudness.Normalised`: float32 stereo ``audio`` and the per-sample
        ``gain`` (fade included) that made it from the raw render.
    """
    from vemidi.audio.loudness import Normalised, normalise

    audio = render(midi, duration_s, soundfont, sample_rate_hz)
    fade = fade_gain(len(audio), fade_s, sample_rate_hz)
    audio *= fade[:, None]
    result = normalise(audio, sample_rate_hz, loudness_lufs)
    gain = result.gain * fade
    return Normalised(result.audio, gain, result.loudness_lufs, result.true_peak_dbtp)


def render_soundtrack(
    midi: object,
    duration_s: float,
    soundfont: str | Path | None = None,
    loudness_lufs: float = -16.0,
    sample_rate_hz: int = SAMPLE_RATE_HZ,
) -> np.ndarray:
    """The audio of :func:`render_normalised`: float32 stereo
    ``(round(duration_s * sample_rate_hz), 2)`` at ``loudness_lufs``."""
    return render_normalised(midi, duration_s, soundfont, loudness_lufs, 3.0, sample_rate_hz).audio


def write_wav(path: str | Path, audio: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
    """Write float audio ``(n, channels)`` as 16-bit PCM WAV."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as out:
        out.setnchannels(pcm.shape[1] if pcm.ndim == 2 else 1)
        out.setsampwidth(2)
        out.setframerate(sample_rate_hz)
        out.writeframes(pcm.tobytes())
