"""Ekman emotions <-> valence/arousal, exactly as EMSYNC maps its classifier's output.

Source: Russell & Mehrabian (1977) per-emotion Gaussians (mean, std on a -1..1 scale), as in the
``emotion_to_va.csv`` table that EMSYNC and VEMOCLAP share. EMSYNC min-max rescales the six means
per dimension to [-0.8, 0.8] (stds by the same factor), then takes the probability-weighted mean
and clips to [-1, 1]. The reverse direction (a valence/arousal point -> Ekman probabilities, for
the audio and colour analyzers) is our addition: the normalised Gaussian likelihoods under the
same rescaled table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EMOTIONS = ("anger", "disgust", "fear", "joy", "sadness", "surprise")

# (valence mean, valence std, arousal mean, arousal std), Russell & Mehrabian 1977
_SOURCE = {
    "anger": (-0.51, 0.20, 0.59, 0.29),
    "disgust": (-0.60, 0.20, 0.35, 0.41),
    "fear": (-0.64, 0.20, 0.60, 0.32),
    "joy": (0.76, 0.22, 0.48, 0.26),
    "sadness": (-0.63, 0.23, -0.27, 0.34),
    "surprise": (0.40, 0.30, 0.67, 0.27),
}


@dataclass(frozen=True)
class AffectTable:
    """Per-emotion means and stds after EMSYNC's range adjustment (arrays in EMOTIONS order)."""

    valence: np.ndarray
    valence_std: np.ndarray
    arousal: np.ndarray
    arousal_std: np.ndarray


def affect_table(bound: float = 0.8) -> AffectTable:
    """The table rescaled so each dimension's means span ``[-bound, bound]`` (EMSYNC: 0.8)."""
    raw = np.array([_SOURCE[e] for e in EMOTIONS], dtype=np.float64)
    columns = []
    for mean, std in ((raw[:, 0], raw[:, 1]), (raw[:, 2], raw[:, 3])):
        factor = 2 * bound / (mean.max() - mean.min())
        columns += [(mean - mean.min()) * factor - bound, std * factor]
    return AffectTable(*columns)


def probs_array(probs: dict[str, float]) -> np.ndarray:
    """Six probabilities in EMOTIONS order, renormalised (uniform if they sum to 0)."""
    p = np.array([max(0.0, float(probs.get(e, 0.0))) for e in EMOTIONS])
    total = p.sum()
    return p / total if total > 0 else np.full(len(EMOTIONS), 1 / len(EMOTIONS))


def to_valence_arousal(probs: dict[str, float], bound: float = 0.8) -> tuple[float, float]:
    """EMSYNC's mapping: the probability-weighted mean of the rescaled means, clipped."""
    w = probs_array(probs)
    table = affect_table(bound)
    valence = float(np.clip(w @ table.valence, -1, 1))
    arousal = float(np.clip(w @ table.arousal, -1, 1))
    return valence, arousal


def from_valence_arousal(valence: float, arousal: float, bound: float = 0.8) -> dict[str, float]:
    """Ekman probabilities of a valence/arousal point: normalised Gaussian likelihoods."""
    table = affect_table(bound)
    log_like = -0.5 * (
        ((valence - table.valence) / table.valence_std) ** 2
        + ((arousal - table.arousal) / table.arousal_std) ** 2
    ) - np.log(table.valence_std * table.arousal_std)
    p = np.exp(log_like - log_like.max())
    p /= p.sum()
    return dict(zip(EMOTIONS, (float(x) for x in p), strict=True))
