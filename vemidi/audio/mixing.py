"""Putting the music beside the video's own sound.

Modes (``AUDIO_MODES``): ``replace`` (EMSYNC's behaviour: the music is the only track), ``mix``
(the original sound stays at its level and the music ducks under speech), ``under`` (the
earlier behaviour, kept for ambient footage without dialogue: the original lowered by 12 dB
under the music) and ``keep`` (the original as the first track and the music as a second one,
for editors).

Speech is found by the Silero voice-activity detector that ships inside faster-whisper (the
package the speech analysis already uses; it runs offline). Ducking is done offline, so it can
look ahead: the music starts to fall ``attack_s`` before a passage of speech, sits ``duck_db``
lower through it (short pauses inside are bridged) and comes back over ``release_s`` after it.
Equal-power-shaped ramps (raised cosine) keep the change smooth. The sum is then kept under the
true-peak ceiling by the limiter of :mod:`vemidi.audio.loudness`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vemidi.audio.loudness import CODEC_MARGIN_DB, TRUE_PEAK_DBTP, limiter_gain
from vemidi.config import check_choice, check_range

AUDIO_MODES = ("replace", "mix", "under", "keep")
DUCK_DB = 12.0  # how far the music falls under speech in ``mix`` mode
DUCK_RANGE_DB = (0.0, 40.0)  # the amounts accepted
UNDER_DB = -12.0  # level of the original under the music in ``under`` mode
ATTACK_S = 0.25
RELEASE_S = 0.8
BRIDGE_S = 0.6  # pauses in speech shorter than this keep the music down
_VAD_RATE_HZ = 16000


@dataclass(frozen=True)
class Track:
    """The audio to mux, and how it was made.

    Attributes:
        audio: float32 stereo, as long as the music.
        mode: the audio mode that made it (``keep`` means: the music alone, muxed as a second
            track beside the original).
        speech_s: ``(start_s, end_s)`` passages of speech the music ducked under (``mix``).
        duck_db: how far the music fell under speech.
        music_gain: the music's per-sample gain (1 where it was not ducked), for figures and
            stems; None when the music was not ducked.
    """

    audio: np.ndarray
    mode: str
    speech_s: tuple[tuple[float, float], ...] = ()
    duck_db: float = 0.0
    music_gain: np.ndarray | None = field(default=None, repr=False)


def speech_spans(mono: np.ndarray, sample_rate_hz: int) -> list[tuple[float, float]]:
    """Passages of speech in mono audio, ``(start_s, end_s)``, by Silero VAD."""
    from faster_whisper.vad import VadOptions, get_speech_timestamps
    from scipy.signal import resample_poly

    if len(mono) < sample_rate_hz // 2:
        return []
    audio = resample_poly(mono.astype(np.float32), _VAD_RATE_HZ, sample_rate_hz)
    options = VadOptions(min_silence_duration_ms=300, speech_pad_ms=100)
    stamps = get_speech_timestamps(audio.astype(np.float32), options, _VAD_RATE_HZ)
    return [(s["start"] / _VAD_RATE_HZ, s["end"] / _VAD_RATE_HZ) for s in stamps]


def duck_gain(
    n_samples: int,
    sample_rate_hz: int,
    spans_s: list[tuple[float, float]],
    duck_db: float = DUCK_DB,
    attack_s: float = ATTACK_S,
    release_s: float = RELEASE_S,
) -> np.ndarray:
    """Per-sample music gain: 1, falling by ``duck_db`` over ``attack_s`` before each passage
    of speech and rising back over ``release_s`` after it."""
    check_range("ducking (dB)", duck_db, *DUCK_RANGE_DB)
    gain = np.ones(n_samples, dtype=np.float32)
    if not spans_s or duck_db == 0.0:
        return gain
    low = 10 ** (-duck_db / 20)
    depth = np.zeros(n_samples, dtype=np.float32)  # 0: full music, 1: fully ducked
    for start_s, end_s in _bridged(spans_s):
        a, b = round(start_s * sample_rate_hz), round(end_s * sample_rate_hz)
        ramp_in, ramp_out = round(attack_s * sample_rate_hz), round(release_s * sample_rate_hz)
        depth[max(0, a) : min(n_samples, b)] = 1.0
        _ramp(depth, a - ramp_in, a, rising=True)
        _ramp(depth, b, b + ramp_out, rising=False)
    return (1.0 - depth * (1.0 - low)).astype(np.float32)


def _bridged(spans_s: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[list[float]] = []
    for start, end in sorted(spans_s):
        if merged and start - merged[-1][1] < BRIDGE_S:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [(a, b) for a, b in merged]


def _ramp(depth: np.ndarray, lo: int, hi: int, rising: bool) -> None:
    """Raise ``depth`` to a raised-cosine ramp over ``[lo, hi)`` (never lowering it)."""
    if hi <= lo:
        return
    x = (np.arange(lo, hi) - lo + 0.5) / (hi - lo)
    shape = 0.5 - 0.5 * np.cos(np.pi * (x if rising else 1.0 - x))
    keep = (np.arange(lo, hi) >= 0) & (np.arange(lo, hi) < len(depth))
    index = np.arange(lo, hi)[keep]
    depth[index] = np.maximum(depth[index], shape[keep].astype(np.float32))


def mix(
    music: np.ndarray,
    original: np.ndarray | None,
    sample_rate_hz: int,
    mode: str = "replace",
    duck_db: float = DUCK_DB,
) -> Track:
    """The track to mux for ``mode`` (see the module docstring).

    Args:
        music: float32 stereo ``(n, 2)``, already at its loudness target.
        original: the video's own sound, mono, from its first frame (None: it has none; ``mix``
            and ``under`` then give the music alone). Cut or zero-padded to the music's length.
    """
    check_choice("audio mode", mode, AUDIO_MODES)
    if mode in ("replace", "keep"):  # ``keep``: the music alone, the original muxed beside it
        return Track(music, mode)
    if original is None:
        return Track(music, "replace")
    under = np.zeros(len(music), dtype=np.float32)
    n = min(len(music), len(original))
    under[:n] = original[:n]
    if mode == "under":
        out, spans, gain, ducked = music + (10 ** (UNDER_DB / 20)) * under[:, None], [], None, 0.0
    else:
        spans = speech_spans(under, sample_rate_hz)
        gain = duck_gain(len(music), sample_rate_hz, spans, duck_db)
        out, ducked = music * gain[:, None] + under[:, None], duck_db
    out = out * limiter_gain(out, TRUE_PEAK_DBTP - CODEC_MARGIN_DB, sample_rate_hz)[:, None]
    spans_s = tuple((round(a, 2), round(b, 2)) for a, b in spans)
    return Track(out.astype(np.float32), mode, spans_s, ducked, gain)
