"""Late fusion of per-modality Ekman distributions, and per-scene results.

The fused distribution is the confidence-weighted average of the modalities' distributions, each
confidence multiplied by its modality weight (configurable; defaults below). A modality with
confidence 0 (no face, no speech, no text, silence) drops out; when every modality is absent the
result is uniform with confidence 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from vemidi.emotion.affect import EMOTIONS, probs_array

MODALITIES = ("faces", "speech", "text", "audio", "visual")
# Faces and speech carry the most direct emotional evidence; colour statistics the least.
DEFAULT_WEIGHTS = {"faces": 1.0, "speech": 1.0, "text": 0.7, "audio": 0.6, "visual": 0.4}


@dataclass(frozen=True)
class ModalityResult:
    """One analyzer's verdict: six probabilities, a confidence in [0, 1] and its evidence."""

    probs: dict[str, float]
    confidence: float
    evidence: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"confidence must be in [0, 1], got {self.confidence}")


def absent(reason: str) -> ModalityResult:
    """The result of a modality with nothing to analyse (confidence 0)."""
    return ModalityResult({e: 1 / len(EMOTIONS) for e in EMOTIONS}, 0.0, {"absent": reason})


def fuse(
    results: dict[str, ModalityResult], weights: dict[str, float] | None = None
) -> ModalityResult:
    """Confidence- and weight-weighted average of the modalities' distributions."""
    weights = weights or DEFAULT_WEIGHTS
    total = np.zeros(len(EMOTIONS))
    weight_sum = 0.0
    used = {}
    for name, result in results.items():
        w = result.confidence * weights.get(name, 0.0)
        if w > 0:
            total += w * probs_array(result.probs)
            weight_sum += w
            used[name] = round(w, 4)
    if weight_sum == 0:
        return absent("no modality had evidence")
    p = total / weight_sum
    confidence = min(1.0, weight_sum / max(sum(weights.values()), 1e-9) * 2)
    return ModalityResult(
        dict(zip(EMOTIONS, (float(x) for x in p), strict=True)), confidence, {"weights": used}
    )
