"""Frames at a fixed analysis rate, downscaled, and the audio track as mono 16 kHz."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from vemidi.errors import MediaError, explained
from vemidi.media.probe import open_container


@dataclass(frozen=True)
class Frame:
    """One sampled frame: its time and RGB pixels ``(height, width, 3)`` uint8."""

    time_s: float
    rgb: np.ndarray


def sample_frames(path: str | Path, rate_hz: float = 2.0, max_side_px: int = 640) -> list[Frame]:
    """Decode frames at about ``rate_hz``, each downscaled so its longer side is <= max_side_px.

    Frames are taken at the first decoded frame at or after every multiple of ``1 / rate_hz``
    seconds; rotation metadata is applied so faces and text stand upright.

    Raises:
        MediaError: the file cannot be decoded.
    """
    import av

    if rate_hz <= 0:
        raise ValueError(f"rate_hz must be > 0, got {rate_hz}")
    path = Path(path)
    frames: list[Frame] = []
    next_s = 0.0
    origin: float | None = None
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path.name} has no video stream.")
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        try:
            for frame in container.decode(stream):
                if origin is None:  # times count from the first frame (a stream may start late)
                    origin = float(frame.time or 0.0)
                t = float(frame.time or 0.0) - origin
                if t + 1e-6 < next_s:
                    continue
                frames.append(Frame(t, _upright_rgb(frame, max_side_px)))
                while next_s <= t + 1e-6:
                    next_s += 1.0 / rate_hz
        except av.FFmpegError as e:
            if not frames:
                raise explained(MediaError, f"{path.name} cannot be decoded.", e) from e
    if not frames:
        raise MediaError(f"{path.name} has no decodable video frames.")
    return frames


def _upright_rgb(frame, max_side_px: int) -> np.ndarray:
    """A decoded frame as RGB, downscaled to ``max_side_px`` and with its rotation applied."""
    width, height = frame.width, frame.height
    scale = min(1.0, max_side_px / max(width, height))
    out_w, out_h = max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2)
    rgb = frame.to_ndarray(format="rgb24", width=out_w, height=out_h)
    rotation = round(-(getattr(frame, "rotation", 0) or 0)) % 360
    if rotation:
        rgb = np.ascontiguousarray(np.rot90(rgb, k=-rotation // 90))
    return rgb


def frame_at(path: str | Path, time_s: float, max_side_px: int = 640) -> np.ndarray:
    """The frame shown at ``time_s`` (same scaling and rotation as :func:`sample_frames`).

    Raises:
        MediaError: the file cannot be decoded or has no frame at that time.
    """
    import av

    path = Path(path)
    with open_container(path) as container:
        if not container.streams.video:
            raise MediaError(f"{path.name} has no video stream.")
        stream = container.streams.video[0]
        try:
            first = next(container.decode(stream), None)
            origin = float(first.time or 0.0) if first is not None else 0.0
            target_s = origin + time_s  # times count from the first frame
            if stream.time_base is not None and time_s > 0:
                container.seek(int(target_s / stream.time_base), stream=stream, backward=True)
            last = first
            for frame in container.decode(stream):
                last = frame
                if float(frame.time or 0.0) + 1e-6 >= target_s:
                    break
        except av.FFmpegError as e:
            raise explained(
                MediaError, f"{path.name} cannot be decoded at {time_s:.2f} s.", e
            ) from e
    if last is None:
        raise MediaError(f"{path.name} has no frame at {time_s:.2f} s.")
    return _upright_rgb(last, max_side_px)


def decode_audio(path: str | Path, sample_rate_hz: int = 16000, start_s: float = 0.0) -> np.ndarray:
    """The first audio track as mono float32 in [-1, 1]; empty when there is no audio.

    Sample 0 is at ``start_s`` in the file's timestamps (the video's first frame, see
    :attr:`vemidi.media.probe.VideoInfo.start_s`): audio that starts later is padded with
    silence in front, audio that starts earlier is cut.
    """
    import av

    path = Path(path)
    chunks: list[np.ndarray] = []
    audio_start_s: float | None = None
    with open_container(path) as container:
        if not container.streams.audio:
            return np.zeros(0, dtype=np.float32)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate_hz)
        try:
            for frame in container.decode(container.streams.audio[0]):
                if audio_start_s is None:
                    audio_start_s = float(frame.time or 0.0)
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.FFmpegError as e:
            if not chunks:
                raise explained(
                    MediaError, f"the audio of {path.name} cannot be decoded.", e
                ) from e
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    audio = np.clip(np.concatenate(chunks).astype(np.float32), -1.0, 1.0)
    shift = round(((audio_start_s or 0.0) - start_s) * sample_rate_hz)
    if shift > 0:
        return np.concatenate([np.zeros(shift, dtype=np.float32), audio])
    return audio[-shift:]


def same_picture(a: np.ndarray, b: np.ndarray, tolerance: float = 1.0) -> bool:
    """Whether two RGB frames show the same still picture (a static shot, a held title card).

    Compares 32x32 grey thumbnails: a mean absolute difference under ``tolerance`` grey levels
    (of 255) counts as the same. Analyzers use it to skip re-running a model on a repeat.
    """
    if a.shape != b.shape:
        return False
    return float(np.abs(_thumbnail(a) - _thumbnail(b)).mean()) < tolerance


def _thumbnail(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    ys = np.linspace(0, h - 1, 32).astype(int)
    xs = np.linspace(0, w - 1, 32).astype(int)
    return rgb[ys][:, xs].astype(np.float32).mean(axis=-1)
