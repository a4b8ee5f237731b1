"""On-screen text: rapidocr on sampled frames, deduplicated -> text emotion.

OCR runs on at most ``max_frames`` frames spread over the video (text stays on screen for
seconds, and OCR costs about 0.5 s per frame on 2 cores). Lines read with a score below 0.6 or
with fewer than 2 letters are dropped; a line already seen (case-insensitive) is kept once.
"""

from __future__ import annotations

import re

import numpy as np

from vemidi.emotion.fusion import ModalityResult, absent
from vemidi.emotion.text_emotion import TextEmotion
from vemidi.media.frames import same_picture

MIN_SCORE = 0.6


def read_lines(rgb: np.ndarray) -> list[tuple[str, float]]:
    """Text lines and their scores in one RGB frame."""
    from vemidi.weights import load_ocr

    result = load_ocr()(np.ascontiguousarray(rgb[..., ::-1]))  # rapidocr expects BGR arrays
    texts = getattr(result, "txts", None) or ()
    scores = getattr(result, "scores", None) or ()
    return [(str(t), float(s)) for t, s in zip(texts, scores, strict=False)]


def analyze_onscreen_text(
    frames: list[tuple[float, np.ndarray]], text_emotion: TextEmotion, max_frames: int = 8
) -> ModalityResult:
    """Ekman probabilities of the text shown in the frames (confidence 0 without text)."""
    if not frames:
        return absent("no frames")
    picks = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).astype(int))
    seen: dict[str, dict] = {}
    last_read: np.ndarray | None = None
    for i in picks:
        time_s, rgb = frames[i]
        if last_read is not None and same_picture(last_read, rgb):
            continue  # the same card is still on screen: its lines are already in
        last_read = rgb
        for text, score in read_lines(rgb):
            key = re.sub(r"\W+", " ", text).strip().lower()
            if score >= MIN_SCORE and len(re.findall(r"[A-Za-z]", text)) >= 2 and key not in seen:
                seen[key] = {"text": text, "time_s": round(time_s, 2), "score": round(score, 3)}
    return lines_result(list(seen.values()), text_emotion)


def lines_result(lines: list[dict], text_emotion: TextEmotion) -> ModalityResult:
    """Ekman probabilities of OCR lines ``{text, time_s, score}``."""
    if not lines:
        return absent("no on-screen text")
    result = text_emotion.analyze(". ".join(line["text"] for line in lines))
    return ModalityResult(result.probs, result.confidence, {**result.evidence, "lines": lines})
