"""Keys: the 24 key classes (0-11 major, 12-23 minor, tonic C = 0), their names, and the
Krumhansl-Kessler key finding used to label the corpus and to measure generated music.

The trained model has a key prefix; the plan chooses each section's key (the tonic drawn once
from the seed, valence choosing major or minor). This key channel is our addition to EMSYNC (see
the model card): valence alone did not control mode in our CPU-sized model.
"""

from __future__ import annotations

import numpy as np

N_KEYS = 24
PITCH_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Krumhansl & Kessler (1982) key profiles, tonic first.
KK_MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
KK_MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def _profile_matrix() -> np.ndarray:
    rows = [np.roll(KK_MAJOR, t) for t in range(12)] + [np.roll(KK_MINOR, t) for t in range(12)]
    m = np.array(rows)
    m = m - m.mean(axis=1, keepdims=True)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


_PROFILES = _profile_matrix()


def key_correlations(pitches: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Correlation of the weighted pitch-class histogram with the 24 keys (0-11 major, 12-23
    minor, tonic C=0). Returns zeros when there are no notes or the histogram is flat."""
    hist = np.bincount(np.asarray(pitches) % 12, weights=weights, minlength=12).astype(float)
    hist -= hist.mean()
    norm = np.linalg.norm(hist)
    if norm < 1e-9:
        return np.zeros(24)
    return _PROFILES @ (hist / norm)


def mode_strength(pitches: np.ndarray, weights: np.ndarray) -> float:
    """Major-minus-minor key strength: best major correlation minus best minor correlation."""
    r = key_correlations(pitches, weights)
    return float(r[:12].max() - r[12:].max())


def best_key(pitches: np.ndarray, weights: np.ndarray) -> int:
    """Key class 0-23 (tonic + 12 * minor) with the highest correlation."""
    return int(np.argmax(key_correlations(pitches, weights)))


def key_name(key: int | None) -> str:
    """Readable key, e.g. ``A minor``; ``open`` for none."""
    if key is None:
        return "open"
    return f"{PITCH_NAMES[key % 12]} {'major' if key < 12 else 'minor'}"
