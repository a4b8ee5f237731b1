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

from vemidi.errors import MediaError, reason
from vemidi.music.boundaries import thin_cuts

DEFAULT_THRESHOLD = 3.0  # AdaptiveDetector's ratio of a frame's change to its neighbours'

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
        if downscale:
            manager.downscale = downscale
        manager.detect_scenes(video, show_progress=False)
        scenes = manager.get_scene_list(start_in_scene=True)
    except Exception as e:  # scenedetect wraps decoder failures in several types
        raise MediaError(f"scene detection failed on {Path(path).name} ({reason(e)}).") from e
    detected = [round(start.seconds, 3) for start, _ in scenes[1:]]
    kept = thin_cuts(detected, min_gap_s)
    return Cuts(tuple(detected), tuple(kept), tuple(segments_between(kept, duration_s)))
