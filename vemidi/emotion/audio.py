"""The soundtrack's mood from features computed directly (numpy, no model, no librosa).

Loudness (RMS in dBFS) and its variation, onset rate (peaks of spectral flux), spectral centroid
and the major/minor mode strength of the chroma (Krumhansl-Kessler profiles) become a
valence/arousal point: louder, brighter, busier -> higher arousal; major mode and brightness ->
higher valence (Juslin & Laukka 2003 summarise these cues). The point becomes Ekman probabilities
with :func:`affect.from_valence_arousal`. Silence gives confidence 0. librosa would add ~20 s of
compilation on first use for features this simple, so we compute them here.
"""

from __future__ import annotations

import numpy as np

from vemidi.emotion.affect import from_valence_arousal
from vemidi.emotion.fusion import ModalityResult, absent
from vemidi.music.keys import mode_strength

SILENCE_DBFS = -50.0
FRAME = 1024
HOP = 512


def _frames(audio: np.ndarray) -> np.ndarray:
    n = 1 + max(0, len(audio) - FRAME) // HOP
    index = np.arange(FRAME)[None, :] + HOP * np.arange(n)[:, None]
    return audio[np.minimum(index, len(audio) - 1)]


def audio_features(audio: np.ndarray, sample_rate_hz: int = 16000) -> dict[str, float]:
    """Loudness, loudness variation, onset rate, spectral centroid and chroma mode strength."""
    frames = _frames(audio.astype(np.float32))
    rms = np.sqrt((frames**2).mean(axis=1) + 1e-12)
    db = 20 * np.log10(rms + 1e-9)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(FRAME), axis=1))
    freqs = np.fft.rfftfreq(FRAME, 1 / sample_rate_hz)
    power = spectrum.sum(axis=1) + 1e-9
    centroid = float(((spectrum * freqs).sum(axis=1) / power).mean())
    flux = np.maximum(0, np.diff(spectrum, axis=0)).sum(axis=1)
    threshold = flux.mean() + flux.std()
    peaks = (flux[1:-1] > threshold) & (flux[1:-1] >= flux[:-2]) & (flux[1:-1] > flux[2:])
    duration_s = len(audio) / sample_rate_hz
    audible = (freqs > 60) & (freqs < 4000)
    midi = np.round(69 + 12 * np.log2(freqs[audible] / 440.0)).astype(int)
    energy = (spectrum[:, audible] ** 2).sum(axis=0)
    return {
        "loudness_dbfs": float(20 * np.log10(np.sqrt((audio**2).mean() + 1e-12))),
        "loudness_variation_db": float(db[db > SILENCE_DBFS].std())
        if (db > SILENCE_DBFS).any()
        else 0.0,
        "onsets_per_s": float(peaks.sum() / max(duration_s, 1e-9)),
        "centroid_hz": centroid,
        "mode": mode_strength(midi, energy),
    }


def valence_arousal(features: dict[str, float]) -> tuple[float, float]:
    """The feature point in [-1, 1]^2 (weights: see the module docstring)."""
    loud = (features["loudness_dbfs"] + 25.0) / 15.0  # -25 dBFS ~ neutral
    bright = (features["centroid_hz"] - 1500.0) / 1500.0
    busy = (features["onsets_per_s"] - 2.0) / 3.0
    arousal = 0.45 * loud + 0.25 * bright + 0.3 * busy + 0.02 * features["loudness_variation_db"]
    valence = 2.5 * features["mode"] + 0.15 * bright
    return float(np.clip(valence, -1, 1)), float(np.clip(arousal, -1, 1))


def analyze_audio(audio: np.ndarray, sample_rate_hz: int = 16000) -> ModalityResult:
    """Ekman probabilities of a mono soundtrack; confidence 0 when it is silent or missing."""
    if audio.size < FRAME:
        return absent("no audio track")
    features = audio_features(audio, sample_rate_hz)
    if features["loudness_dbfs"] < SILENCE_DBFS:
        return absent("silent audio track")
    valence, arousal = valence_arousal(features)
    confidence = float(np.clip((features["loudness_dbfs"] - SILENCE_DBFS) / 30.0, 0.0, 0.6))
    evidence = {**{k: round(v, 4) for k, v in features.items()},
                "valence": round(valence, 3), "arousal": round(arousal, 3)}  # fmt: skip
    return ModalityResult(from_valence_arousal(valence, arousal), confidence, evidence)
