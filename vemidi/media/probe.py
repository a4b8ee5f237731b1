"""What a video file holds: duration, frame rate, size, rotation and whether it has audio.

PyAV opens the file with its bundled FFmpeg libraries, so no system ffmpeg is needed. Every
problem a user can cause (missing, empty, not a video, no video stream, too long) becomes a
:class:`MediaError` naming the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from vemidi.errors import MediaError, explained

DEFAULT_MAX_DURATION_S = 600.0  # analysis limit (10 min); configurable per call
MAX_PIXELS = 8192 * 8192  # larger frames are refused rather than decoded
MIN_SIDE_PX = 48  # smaller frames hold nothing to analyse (and broke MTCNN's image pyramid)
MIN_DURATION_S = 1.0  # shorter clips get no music (a still image decodes as one 0.04 s frame)
_TAIL_S = 3.0  # the probe decodes this much before the header's end to find the real end


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
        start_s: the first frame's timestamp; every time vemidi reports counts from it.
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
    start_s: float = 0.0


def open_container(path: str | Path):
    """Open a media file with PyAV, turning every failure into a :class:`MediaError`."""
    import av

    path = Path(path)
    if not path.is_file():
        raise MediaError(f"video file {path.name} does not exist.")
    if path.stat().st_size == 0:
        raise MediaError(f"video file {path.name} is empty.")
    try:
        return av.open(str(path))
    except (av.FFmpegError, OSError, ValueError) as e:
        raise explained(MediaError, f"{path.name} is not a readable video.", e) from e


def _rotation(container, stream) -> int:
    """Display rotation in degrees clockwise (0, 90, 180, 270) from the first frame."""
    for frame in container.decode(stream):
        return round(-(getattr(frame, "rotation", 0) or 0)) % 360
    return 0


def probe(
    path: str | Path, max_duration_s: float = DEFAULT_MAX_DURATION_S, decode_end: bool = True
) -> VideoInfo:
    """Probe a video file: the checks every command runs before any work.

    The duration counts from the first frame's timestamp (a stream may start at 30 s) to the
    end of the last frame that actually decodes (a truncated file's header still claims its
    full length). ``decode_end=False`` trusts the header's end instead (for a caller that needs
    only the streams, such as muxing a file already probed).

    Raises:
        MediaError: the file is missing, empty or unreadable, is a still image or has no video
            stream, has frames smaller than :data:`MIN_SIDE_PX` or larger than
            :data:`MAX_PIXELS`, is shorter than :data:`MIN_DURATION_S` or longer than
            ``max_duration_s``.
    """
    path = Path(path)
    with open_container(path) as container:
        name = container.format.name
        if name == "image2" or name.endswith("_pipe"):
            raise MediaError(f"{path.name} is a still image, not a video.")
        if not container.streams.video:
            kind = "an audio file" if container.streams.audio else "not a video"
            raise MediaError(f"{path.name} is {kind}: it has no video stream.")
        stream = container.streams.video[0]
        width, height = stream.codec_context.width, stream.codec_context.height
        if width * height > MAX_PIXELS:
            raise MediaError(
                f"{path.name} has {width}x{height} frames; the largest supported is 8192x8192."
            )
        if min(width, height) < MIN_SIDE_PX:
            raise MediaError(
                f"{path.name} has {width}x{height} frames; the smallest supported is "
                f"{MIN_SIDE_PX}x{MIN_SIDE_PX}."
            )
        start_s, end_s, rotation = _span_s(container, stream, path, decode_end)
        duration_s = end_s - start_s
        if duration_s < MIN_DURATION_S:
            raise MediaError(
                f"{path.name} plays {duration_s:.2f} s; the shortest supported is "
                f"{MIN_DURATION_S:g} s."
            )
        if duration_s > max_duration_s:
            raise MediaError(
                f"{path.name} is {duration_s:.0f} s long; the limit is {max_duration_s:.0f} s."
            )
        rate = stream.average_rate or stream.guessed_rate or 0
        return VideoInfo(
            path=path,
            duration_s=round(duration_s, 3),
            fps=float(rate) if rate else 0.0,
            width_px=width,
            height_px=height,
            rotation_deg=rotation,
            has_audio=bool(container.streams.audio),
            container=name,
            video_codec=stream.codec_context.name,
            start_s=round(start_s, 3),
        )


def _span_s(container, stream, path: Path, decode_end: bool) -> tuple[float, float, int]:
    """(first frame's time, end of the last decodable frame, rotation in degrees).

    Decodes the first frame, then seeks to a few seconds before the end the header claims and
    decodes to the real end (the whole file when there is no header duration or the seek
    fails); a frame lasts ``1 / fps``.
    """
    import av

    rate = stream.average_rate or stream.guessed_rate
    frame_s = 1.0 / float(rate) if rate else 0.04
    try:
        first = next(container.decode(stream), None)
    except av.FFmpegError as e:
        raise explained(MediaError, f"{path.name} cannot be decoded.", e) from e
    if first is None or first.time is None:
        raise MediaError(f"{path.name} has no decodable video frames.")
    start_s = float(first.time)
    rotation = round(-(getattr(first, "rotation", 0) or 0)) % 360
    claimed = _claimed_end_s(container, stream, start_s)
    if not decode_end and claimed is not None:
        return start_s, claimed, rotation
    last = start_s
    if claimed is not None and claimed - _TAIL_S > start_s and stream.time_base is not None:
        try:
            container.seek(int((claimed - _TAIL_S) / stream.time_base), stream=stream)
        except av.FFmpegError:
            container.seek(0)
    else:
        container.seek(0)
    try:
        for frame in container.decode(stream):
            if frame.time is not None:
                last = max(last, float(frame.time))
    except av.FFmpegError:
        pass  # a truncated file: its end is the last frame that decoded
    return start_s, last + frame_s, rotation


def _claimed_end_s(container, stream, start_s: float) -> float | None:
    """Where the header says the video ends (None without a duration)."""
    if stream.duration is not None and stream.time_base is not None:
        begin = float(stream.start_time * stream.time_base) if stream.start_time else start_s
        return begin + float(stream.duration * stream.time_base)
    if container.duration is not None:
        return start_s + container.duration / 1_000_000
    return None
