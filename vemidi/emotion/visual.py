"""Image content from colour and motion: brightness, saturation, warmth, contrast, motion energy.

Valdez & Mehrabian (1994) found pleasure ~ 0.69 brightness + 0.22 saturation and arousal ~
-0.31 brightness + 0.60 saturation (standardised colour attributes). We apply those weights to
each frame's mean brightness and saturation centred on typical video values, add warmth (red
over blue) to valence and motion energy (mean absolute change between sampled frames) to
arousal, and turn the point into Ekman probabilities with :func:`affect.from_valence_arousal`.
The confidence is fixed and modest: colour is weak evidence of emotion.
"""

from __future__ import annotations

import itertools

import numpy as np

from vemidi.emotion.affect import from_valence_arousal
from vemidi.emotion.fusion import ModalityResult, absent

CONFIDENCE = 0.5
_CENTRE = {"brightness": 0.45, "saturation": 0.35, "motion": 0.04}


def colour_features(rgb: np.ndarray) -> dict[str, float]:
    """Brightness, saturation (HSV, 0-1), warmth (R-B, -1..1) and contrast (std of luma).

    Computed on every second pixel of every second row (a colour average does not need them
    all) with element-wise channel maxima: reducing over the 3-wide channel axis of a float
    frame cost 35 ms per 640x360 frame, this costs about 1 ms (bench/analyze_speed.py).
    """
    small = rgb[::2, ::2]
    r, g, b = (small[..., i].astype(np.float32) / 255.0 for i in range(3))
    high = np.maximum(np.maximum(r, g), b)
    low = np.minimum(np.minimum(r, g), b)
    saturation = np.where(high > 1e-6, (high - low) / np.maximum(high, 1e-6), 0.0)
    luma = 0.299 * r + 0.587 * g + 0.114 * b
    return {
        "brightness": float(high.mean()),
        "saturation": float(saturation.mean()),
        "warmth": float((r - b).mean()),
        "contrast": float(luma.std()),
    }


def motion_energy(frames: list[np.ndarray]) -> float:
    """Mean absolute luma change between consecutive frames (0-1)."""
    if len(frames) < 2:
        return 0.0
    diffs = []
    for a, b in itertools.pairwise(frames):
        if a.shape == b.shape:
            diffs.append(float(np.abs(a.astype(np.float32) - b.astype(np.float32)).mean() / 255))
    return float(np.mean(diffs)) if diffs else 0.0


def valence_arousal(features: dict[str, float]) -> tuple[float, float]:
    """The colour/motion point in [-1, 1]^2 (see the module docstring)."""
    b = features["brightness"] - _CENTRE["brightness"]
    s = features["saturation"] - _CENTRE["saturation"]
    m = features["motion"] - _CENTRE["motion"]
    valence = 2.0 * (0.69 * b + 0.22 * s) + 0.8 * features["warmth"]
    arousal = 2.0 * (-0.31 * b + 0.60 * s) + 6.0 * m + 0.5 * (features["contrast"] - 0.2)
    return float(np.clip(valence, -1, 1)), float(np.clip(arousal, -1, 1))


def analyze_visual(frames: list[np.ndarray]) -> ModalityResult:
    """Ekman probabilities of a list of RGB frames from their colours and motion."""
    if not frames:
        return absent("no frames")
    per_frame = [colour_features(f) for f in frames]
    features = {k: float(np.mean([f[k] for f in per_frame])) for k in per_frame[0]}
    features["motion"] = motion_energy(frames)
    valence, arousal = valence_arousal(features)
    evidence = {**{k: round(v, 4) for k, v in features.items()},
                "valence": round(valence, 3), "arousal": round(arousal, 3)}  # fmt: skip
    return ModalityResult(from_valence_arousal(valence, arousal), CONFIDENCE, evidence)
