"""Put a soundtrack onto a video: MP4 out, the picture stream-copied, AAC audio.

The ffmpeg binary is moviepy's (``moviepy.config.FFMPEG_BINARY``: the one bundled in the
imageio-ffmpeg wheel, or the system one when ``FFMPEG_BINARY`` says so). We call it directly,
mapping the picture from the video and the audio from our WAV, because moviepy's
``write_videofile`` re-encodes every frame (slow on 2 cores, and a generation loss) and its
``ffmpeg_merge_video_audio`` cannot choose which audio streams to keep.

The audio arrives mixed (:mod:`vemidi.audio.mixing` decides what is heard); the one choice
left here is whether the original sound is kept as a first track beside it (``keep_original``,
for editors).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from vemidi.errors import MediaError, explained

# Codecs an MP4 carries and browsers play: these are copied; anything else (MPEG-4 part 2 from
# old AVIs, MJPEG, Theora, ...) is re-encoded to H.264 so the result plays in the page.
_COPYABLE = ("h264", "hevc", "av1", "vp9")
_STDERR_TAIL = 400


def ffmpeg_binary() -> str:
    """The ffmpeg executable moviepy is configured to use."""
    from moviepy.config import FFMPEG_BINARY

    return FFMPEG_BINARY


def mux(
    video_path: str | Path,
    audio: np.ndarray,
    out_path: str | Path,
    keep_original: bool = False,
    sample_rate_hz: int = 44100,
) -> Path:
    """Write ``out_path`` (MP4): the video's picture with ``audio`` as its soundtrack.

    Args:
        video_path: the source video.
        audio: float32 stereo ``(n, 2)`` at ``sample_rate_hz``, as long as the video.
        out_path: the MP4 to write; it appears only when muxing succeeded.
        keep_original: the video's own sound stays as the first (default) track and ``audio``
            becomes a second one (ignored when the video has no sound).

    Raises:
        MediaError: the video cannot be read or ffmpeg fails.
    """
    from vemidi.media.probe import probe
    from vemidi.synth import write_wav

    video_path, out_path = Path(video_path), Path(out_path)
    info = probe(video_path, max_duration_s=float("inf"), decode_end=False)
    with tempfile.TemporaryDirectory(prefix="vemidi-mux-") as tmp:
        wav = Path(tmp) / "music.wav"
        write_wav(wav, audio, sample_rate_hz)
        partial = Path(tmp) / "out.mp4"
        picture = (
            ["-c:v", "copy"]
            if info.video_codec in _COPYABLE
            else ["-c:v", "libx264", "-preset", "veryfast", "-crf", "20", "-pix_fmt", "yuv420p"]
        )
        if keep_original and info.has_audio:
            maps = ["-map", "0:v:0", "-map", "0:a:0", "-map", "1:a:0",
                    "-metadata:s:a:0", "title=original", "-metadata:s:a:1", "title=vemidi music",
                    "-disposition:a:0", "default", "-disposition:a:1", "0"]  # fmt: skip
        else:
            maps = ["-map", "0:v:0", "-map", "1:a:0"]
        # The AAC encoder's "fast" coder: the default two-loop search took 0.9 s of the 1.1 s
        # a 30 s clip spent muxing. 256 kb/s, not 192: on the multi-voice model's loud, limited
        # music at -14 LUFS, 192 kb/s put the true peak 1.1 dB over the limiter's aim (-2.0 ->
        # -0.86 dBTP; the two-loop coder -0.73), 256 kb/s 0.24 dB (-1.76; 320 kb/s -1.88).
        command = [ffmpeg_binary(), "-nostdin", "-y", "-loglevel", "error",
                   "-i", str(video_path), "-i", str(wav), *maps, *picture,
                   "-c:a", "aac", "-aac_coder", "fast", "-b:a", "256k", "-ar", str(sample_rate_hz),
                   "-movflags", "+faststart", "-f", "mp4", str(partial)]  # fmt: skip
        try:
            subprocess.run(command, check=True, capture_output=True, text=True)
        except subprocess.CalledProcessError as e:
            e.args = (*e.args, (e.stderr or "").strip()[-_STDERR_TAIL:])  # for the log
            raise explained(MediaError, f"ffmpeg could not mux {video_path.name}.", e) from e
        except OSError as e:
            raise explained(MediaError, "ffmpeg cannot run; reinstall imageio-ffmpeg.", e) from e
        publish(partial, out_path)
    return out_path


def publish(src: Path, dst: Path) -> None:
    """Move a finished file into place via a hidden name beside ``dst``: never a half file."""
    import shutil

    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        shutil.move(src, tmp)
        os.replace(tmp, dst)
    finally:
        tmp.unlink(missing_ok=True)
