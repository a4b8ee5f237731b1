"""Scene cuts with PySceneDetect's content detector, thinned to a minimum gap (EMSYNC: 4 s).

EMSYNC detects cuts with ffmpeg's scene score (> 0.27). We use PySceneDetect's
``AdaptiveDetector`` on PyAV (the same bundled FFmpeg, no system binary): it compares each
frame's HSV change with the changes around it, so a hard cut stands out while a slow fade does
not. The plain frame-difference detector (``ContentDetector``, the closest to ffmpeg's score)
reported a false cut at the end of a fade to black in our tests, where hue becomes undefined.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path

from vemidi.errors import MediaError, explained
from vemidi.music.boundaries import thin_cuts

DEFAULT_THRESHOLD = 3.0  # AdaptiveDetector's ratio of a frame's change to its neighbours'
# Confirmation of each candidate (see _confirm): the picture just before and just after must
# differ by this much (mean absolute difference of 32x18 RGB thumbnails, 0-255), each side
# summarised by the per-pixel median of STEADY_FRAMES frames, which a flash or a strobe of one
# or two frames in five does not move.
MIN_STEP = 12.0
STEADY_FRAMES = 5
SEARCH_S = 0.4  # a confirmed cut moves to the strongest step within this of the candidate

DEFAULT_MIN_GAP_S = 4.0


@dataclass(frozen=True)
class Cuts:
    """Detected cuts (all), the cuts kept after thinning, and the segments between kept cuts."""

    detected_s: tuple[float, ...]
    cuts_s: tuple[float, ...]
    segments: tuple[tuple[float, float], ...]


def segments_between(cuts_s: list[float], duration_s: float) -> list[tuple[float, float]]:
    """The (start_s, end_s) spans that the cuts divide ``[0, duration_s]`` into."""
    edges = [0.0, *[c for c in cuts_s if 0.0 < c < duration_s], duration_s]
    return [(a, b) for a, b in itertools.pairwise(edges) if b > a]


def detect_cuts(
    path: str | Path,
    duration_s: float,
    threshold: float = DEFAULT_THRESHOLD,
    min_gap_s: float = DEFAULT_MIN_GAP_S,
    downscale: int = 0,
) -> Cuts:
    """Find hard cuts in a video and thin them to ``min_gap_s``.

    Args:
        path: the video.
        duration_s: its duration (from :func:`vemidi.media.probe.probe`).
        threshold: AdaptiveDetector threshold (higher: fewer cuts).
        min_gap_s: keep a cut only this long after the previous kept one.
        downscale: PySceneDetect's frame downscale factor (0: automatic).

    Raises:
        MediaError: the video cannot be decoded.
    """
    from scenedetect import AdaptiveDetector, SceneManager, open_video

    from vemidi.weights import quiet_third_party

    quiet_third_party()

    try:
        video = open_video(str(path), backend="pyav")
        manager = SceneManager()
        manager.add_detector(AdaptiveDetector(adaptive_threshold=threshold))
        thumbnails = _thumbnail_recorder()
        manager.add_detector(thumbnails)
        if downscale:
            manager.downscale = downscale
        manager.detect_scenes(video, show_progress=False)
        scenes = manager.get_scene_list(start_in_scene=True)
    except Exception as e:  # scenedetect wraps decoder failures in several types
        raise explained(MediaError, f"scene detection failed on {Path(path).name}.", e) from e
    candidates = [round(start.seconds, 3) for start, _ in scenes[1:]]
    detected = _confirm(candidates, thumbnails.times, thumbnails.pictures)
    kept = thin_cuts(detected, min_gap_s)
    return Cuts(tuple(detected), tuple(kept), tuple(segments_between(kept, duration_s)))


def _thumbnail_recorder():
    """A PySceneDetect detector that finds nothing and keeps a 32x18 thumbnail of every frame
    (from the same decoding pass, so confirming candidates costs no second decode)."""
    import cv2
    from scenedetect.detector import SceneDetector

    class Recorder(SceneDetector):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []
            self.pictures: list = []

        def process_frame(self, timecode, frame_img) -> list:
            self.times.append(float(timecode.seconds))
            self.pictures.append(cv2.resize(frame_img, (32, 18), interpolation=cv2.INTER_AREA))
            return []

    return Recorder()


def _confirm(candidates: list[float], times: list[float], pictures: list) -> list[float]:
    """The candidates that are real cuts, each moved onto its exact frame boundary.

    AdaptiveDetector compares single frames, so a flash (a lightning strike, a strobe, a camera
    flash) reads as a cut, and a strobe next to a real cut shifts it by the flash's frames. Around
    each candidate we look at the thumbnails of every frame and, at every frame boundary, compare
    the median picture of the :data:`STEADY_FRAMES` frames before with that of the frames
    after: a flash leaves both medians on the same shot, a cut does not. The best step within
    :data:`SEARCH_S` is the cut if it reaches :data:`MIN_STEP`.
    """
    import bisect

    import numpy as np

    confirmed: list[float] = []
    margin = SEARCH_S + 0.3
    for candidate in candidates:
        lo = bisect.bisect_left(times, candidate - margin)
        hi = bisect.bisect_right(times, candidate + margin)
        stack = np.asarray(pictures[lo:hi], dtype=np.float32)
        at, step = _strongest_step(times[lo:hi], stack, candidate)
        if at is not None and step >= MIN_STEP and (not confirmed or at > confirmed[-1]):
            confirmed.append(round(at, 3))
    return confirmed


def _strongest_step(times: list[float], stack, candidate: float) -> tuple[float | None, float]:
    """(time, size) of the best median-to-median step within SEARCH_S of ``candidate``.

    The medians of five frames stay put for two frames either side of a cut, so the boundary is
    the one whose own two frames look like their sides (the last frame like the median before,
    the first like the median after): a flash frame or a frame of the other shot does not.
    """
    import numpy as np

    def distance(a, b) -> float:
        return float(np.abs(a - b).mean())

    best, best_score, best_step, k = None, -np.inf, 0.0, STEADY_FRAMES
    for i in range(k, len(times) - k + 1):
        if abs(times[i] - candidate) <= SEARCH_S:
            before = np.median(stack[i - k : i], axis=0)
            after = np.median(stack[i : i + k], axis=0)
            step = distance(after, before)
            score = step - distance(stack[i - 1], before) - distance(stack[i], after)
            if score > best_score:
                best, best_score, best_step = times[i], score, step
    return best, best_step
