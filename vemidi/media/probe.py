"""What a video file holds: duration, frame rate, size, rotation and whether it has audio.

PyAV opens the file with its bundled FFmpeg libraries, so no system ffmpeg is needed. Every
problem a user can cause (missing, empty, not a video, no video stream, too long) becomes a
:class:`MediaError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vemidi.errors import MediaError

DEFAULT_MAX_DURATION_S = 600.0  # analysis limit (10 min); configurable per call
MAX_PIXELS = 8192 * 8192  # larger frames are refused rather than decoded


@dataclass(frozen=True)
class VideoInfo:
    """Facts about a video file.

    Attributes:
        path: the file.
        duration_s: length of the video stream in seconds.
        fps: average frame rate.
        width_px, height_px: stored frame size (before rotation).
        rotation_deg: display rotation from the stream's metadata (0, 90, 180 or 270).
        has_audio: whether there is at least one audio stream.
        container: the demuxer's name, e.g. ``mov,mp4,m4a,3gp,3g2,mj2``.
        video_codec: the video stream's codec, e.g. ``h264``.
    """

    path: Path
    duration_s: float
    fps: float
    width_px: int
    height_px: int
    rotation_deg: int
    has_audio: bool
    container: str
    video_codec: str = ""


def open_container(path: str | Path):
    """Open a media file with PyAV, turning every failure into a :class:`MediaError`."""
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"video file {path} does not exist.")
    if path.stat().st_size == 0:
        raise MediaError(f"video file {path} is empty.")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as e:
        raise MediaError(f"{path.name} is not a readable video ({e}).") from e


def _rotation(container, stream) -> int:
    """Display rotation in degrees clockwise (0, 90, 180, 270) from the first frame."""
    for frame in container.decode(stream):
        return round(-(getattr(frame, "rotation", 0) or 0)) % 360
    return 0


def probe(path: str | Path, max_duration_s: float = DEFAULT_MAX_DURATION_S) -> VideoInfo:
    """Probe a video file.

    Raises:
        MediaError: the file is missing, empty or unreadable, has no video stream, has frames
            larger than :data:`MAX_PIXELS`, or is longer than ``max_duration_s``.
    """
    path = Path(path)
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path.name} has no video stream.")
        stream = container.streams.video[0]
        duration_s = _duration_s(container, stream)
        if duration_s <= 0:
            raise MediaError(f"{path.name} has no decodable frames (duration 0 s).")
        if duration_s > max_duration_s:
            raise MediaError(
                f"{path.name} is {duration_s:.0f} s long; the limit is {max_duration_s:.0f} s."
            )
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS or width <= 0 or height <= 0:
            raise MediaError(f"{path.name} has an unsupported frame size {width}x{height}.")
        rate = stream.average_rate or stream.guessed_rate or 0
        return VideoInfo(
            path=path,
            duration_s=duration_s,
            fps=float(rate) if rate else 0.0,
            width_px=width,
            height_px=height,
            rotation_deg=_rotation(container, stream),
            has_audio=bool(container.streams.audio),
            container=container.format.name,
            video_codec=stream.codec_context.name,
        )


def _duration_s(container, stream) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / 1_000_000
    # No header duration (some webm/mkv): decode timestamps to the end.
    last = 0.0
    for frame in container.decode(stream):
        if frame.time is not None:
            last = max(last, frame.time)
    return last
