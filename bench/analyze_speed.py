"""Analysis speed: time per stage for a 30 s 640x360 clip with a face, text and speech.

The clips are generated here (scikit-image's astronaut, Pillow text cards, espeak-ng speech).
Cold start = model loading (timed on its own) + a warm analysis; two different clips are
analysed warm. Prints seconds per stage, model loading time and the peak resident memory.

Usage: python bench/analyze_speed.py
"""

from __future__ import annotations

import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
import itertools

from media_factory import speak, write_video

REFERENCE_WARM_S = 9.6  # clip 2, measured by this script before the speed work (README)

SENTENCES = (
    "I am very happy today. This is a wonderful day.",
    "We are going to the beach with all our friends.",
    "Look at that, what a beautiful sunset.",
)


def make_clip(folder: Path, shift: int = 0, seconds: int = 30) -> Path:
    """``seconds`` (a multiple of 10) at 25 fps, 640x360: face, text and colour scenes of 5 s,
    a spoken sentence every 10 s."""
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    face = np.asarray(Image.fromarray(data.astronaut()).resize((360, 360)))
    scenes = []
    for i in range(seconds // 5):
        card = np.zeros((360, 640, 3), np.uint8)
        if (i + shift) % 3 == 0:
            card[:, 140:500] = face
        elif (i + shift) % 3 == 1:
            image = Image.new("RGB", (640, 360), (20, 30, 60))
            ImageDraw.Draw(image).text((40, 150), SENTENCES[i % 3][:28], fill="white",
                                       font=ImageFont.load_default(size=34))  # fmt: skip
            card = np.asarray(image)
        else:
            card[:] = (200, 140 + 10 * (i % 10), 60)
        scenes += [card] * 125
    audio = sum(speak(SENTENCES[k % 3], seconds, at_s=10.0 * k) for k in range(seconds // 10))
    return write_video(folder / f"clip{shift}-{seconds}s.mp4", scenes, audio=audio)


def stage_times(run) -> dict[str, float]:
    """Seconds spent in each stage of ``run(progress)``: each progress message starts a stage
    (messages with a running count, "composing 3/30 s", are one stage)."""
    start = time.perf_counter()
    marks: list[tuple[float, str]] = [(start, "probing")]
    run(lambda f, m: marks.append((time.perf_counter(), re.sub(r"\s*\d.*$", "", m))))
    marks.append((time.perf_counter(), "end"))
    stages: dict[str, float] = {}
    for (t0, name), (t1, _) in itertools.pairwise(marks):
        stages[name] = stages.get(name, 0.0) + t1 - t0
    stages["total"] = marks[-1][0] - start
    return stages


def timed_analysis(analyzer, path: Path) -> dict[str, float]:
    """Seconds spent in each stage of one analysis."""
    return stage_times(lambda progress: analyzer.analyze(path, progress))


def main() -> None:
    import torch

    torch.set_num_threads(2)
    from vemidi.emotion.analyze import VideoAnalyzer

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = [make_clip(folder, 0), make_clip(folder, 1)]
        start = time.perf_counter()
        from vemidi.weights import load_face_models, load_ocr, load_sentence_encoder, load_whisper

        for loader in (load_face_models, load_ocr, load_sentence_encoder, load_whisper):
            loader()
        load_s = time.perf_counter() - start
        analyzer = VideoAnalyzer()
        analyzer.models.text_emotion.prototypes()
        warm = timed_analysis(analyzer, clips[0])
        second = timed_analysis(analyzer, clips[1])
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"model loading: {load_s:.1f} s (faces, OCR, sentence encoder, Whisper)")
    print(f"{'stage':24} {'clip 1 s':>9} {'clip 2 s':>9}")
    for name in warm:
        if max(warm[name], second.get(name, 0.0)) >= 0.005:
            print(f"{name:24} {warm[name]:9.2f} {second.get(name, 0.0):9.2f}")
    print(f"cold start (loading + clip 1): {load_s + warm['total']:.1f} s")
    verdict = "met" if second["total"] <= 4.0 else "NOT met"
    print(f"warm analysis of clip 2: {second['total']:.1f} s (goal <= 4 s: {verdict}; reference, "
          f"this bench before the speed work on 2026-12-01: {REFERENCE_WARM_S} s)")  # fmt: skip
    print(f"peak resident memory: {peak_mb:.0f} MB; clip: 30 s, 640x360, 25 fps")


if __name__ == "__main__":
    main()
