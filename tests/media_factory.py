"""Synthetic test videos written with PyAV (H.264 + AAC): colour cards, cuts, fades, tones."""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np

FPS = 25


def write_video(
    path: Path,
    frames: list[np.ndarray],
    fps: int = FPS,
    audio: np.ndarray | None = None,
    audio_rate_hz: int = 44100,
    rotation_deg: int = 0,
    video_codec: str = "libx264",
    audio_codec: str = "aac",
) -> Path:
    """Encode RGB frames (and optional mono float audio) into ``path``; returns the path."""
    import av

    height, width = frames[0].shape[:2]
    with av.open(str(path), "w") as container:
        stream = container.add_stream(video_codec, rate=fps)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuv420p"
        if rotation_deg:
            stream.set_display_rotation(rotation_deg)
        astream = None
        if audio is not None:
            astream = container.add_stream(audio_codec, rate=audio_rate_hz)
            astream.layout = "mono"
        for rgb in frames:
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
        if astream is not None:
            pcm = (np.clip(audio, -1, 1) * 32767).astype(np.int16)
            resampler = av.AudioResampler(
                format=astream.codec_context.format.name, layout="mono", rate=audio_rate_hz
            )
            for start in range(0, len(pcm), 960):
                chunk = pcm[start : start + 960].reshape(1, -1)
                frame = av.AudioFrame.from_ndarray(chunk, format="s16", layout="mono")
                frame.sample_rate = audio_rate_hz
                for out in resampler.resample(frame):
                    container.mux(astream.encode(out))
            container.mux(astream.encode(None))
    return path


def cards(colours: list[tuple[int, int, int]], seconds_each: float, size=(160, 96)) -> list:
    """Solid colour cards, each held for ``seconds_each``: hard cuts between them."""
    width, height = size
    frames = []
    for colour in colours:
        card = np.zeros((height, width, 3), np.uint8)
        card[:] = colour
        card[10:30, 10:50] = 255 - np.array(colour, np.uint8)  # some structure
        frames += [card] * round(seconds_each * FPS)
    return frames


def fade(seconds: float, size=(160, 96)) -> list:
    """A coloured, textured card fading slowly to black (no cut)."""
    width, height = size
    n = round(seconds * FPS)
    card = np.zeros((height, width, 3), np.float64)
    card[:] = (220, 120, 40)
    card[20:60, 30:120] = (40, 90, 200)
    return [(card * (1 - i / (n - 1))).astype(np.uint8) for i in range(n)]


def tone(seconds: float, freq_hz: float = 440.0, rate_hz: int = 44100) -> np.ndarray:
    """A sine tone at half scale."""
    t = np.arange(round(seconds * rate_hz)) / rate_hz
    return 0.5 * np.sin(2 * np.pi * freq_hz * t).astype(np.float32)


def speak(
    text: str,
    seconds: float | None = None,
    at_s: float = 0.0,
    rate_hz: int = 44100,
    words_per_min: int | None = None,
    voice: str | None = None,
) -> np.ndarray:
    """Mono float audio of espeak-ng (Debian's, offline) saying ``text``, starting at ``at_s``
    in a silent track of ``seconds`` (None: just the speech)."""
    import shutil
    import subprocess
    import tempfile

    from vemidi.media.frames import decode_audio

    if shutil.which("espeak-ng") is None:
        raise RuntimeError("espeak-ng is missing: make test installs packages-test.txt")
    options = [*(["-v", voice] if voice else []),
               *(["-s", str(words_per_min)] if words_per_min else [])]  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "say.wav"
        subprocess.run(["espeak-ng", *options, "-w", str(wav), text], check=True)
        speech = decode_audio(wav, rate_hz)
    if seconds is None:
        return speech
    track = np.zeros(round(seconds * rate_hz), np.float32)
    start = round(at_s * rate_hz)
    n = max(0, min(len(speech), len(track) - start))
    track[start : start + n] = speech[:n]
    return track


def story_video(folder: Path) -> Path:
    """6 s: the astronaut photo for 3 s, a hard cut, a text card for 3 s; espeak speech."""
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    face = np.asarray(Image.fromarray(data.astronaut()).resize((320, 320)))
    face_card = np.zeros((320, 480, 3), np.uint8)
    face_card[:, 80:400] = face
    text = Image.new("RGB", (480, 320), (10, 10, 30))
    ImageDraw.Draw(text).text((30, 130), "Happy birthday Anna!", fill="white",
                              font=ImageFont.load_default(size=36))  # fmt: skip
    frames = [face_card] * 75 + [np.asarray(text)] * 75
    audio = speak("I am very happy today. This is a wonderful day.", 6.0, words_per_min=130)
    return write_video(folder / "story.mp4", frames, audio=audio)


# Unusual and malformed media for the reliability suite (tests/test_reliability.py, and the CLI
# and app tests that reuse some): each built with real encoders or by damaging a real file.
EDGE_RED, EDGE_BLUE, EDGE_GREY = (200, 30, 30), (20, 40, 200), (128, 128, 128)


def run_ffmpeg(*args: str) -> None:
    """Run the bundled ffmpeg quietly (errors raise)."""
    from vemidi.media.mux import ffmpeg_binary

    subprocess.run([ffmpeg_binary(), "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def _base(folder: Path) -> Path:
    return write_video(folder / "base.mp4", cards([EDGE_RED, EDGE_BLUE], 3.0), audio=tone(6.0))


def edge_case(case: str, folder: Path) -> Path:
    """The file of one case (each built from real encoders or by damaging a real file)."""
    path = folder / f"{case}.mp4"
    if case == "plain":
        return _base(folder)
    if case == "no audio":
        return write_video(path, cards([EDGE_RED, EDGE_BLUE], 3.0))
    if case == "rotated 90":
        return write_video(path, cards([EDGE_RED, EDGE_BLUE], 3.0), rotation_deg=90)
    if case == "portrait odd size":
        return write_video(path, cards([EDGE_RED, EDGE_GREY], 2.0, size=(90, 160)))
    if case in ("webm vp9", "avi mpeg4", "mov", "mkv"):
        suffix, codec, audio = {"webm vp9": (".webm", "libvpx-vp9", "libopus"),
                                "avi mpeg4": (".avi", "mpeg4", "mp3"),
                                "mov": (".mov", "libx264", "aac"),
                                "mkv": (".mkv", "libx264", "aac")}[case]  # fmt: skip
        rate = 48000 if audio == "libopus" else 44100
        return write_video(path.with_suffix(suffix), cards([EDGE_RED, EDGE_BLUE], 2.0),
                           audio=tone(4.0, rate_hz=rate), audio_rate_hz=rate,
                           video_codec=codec, audio_codec=audio)  # fmt: skip
    if case == "variable frame rate":
        out = path.with_suffix(".mkv")
        run_ffmpeg("-i", str(_base(folder)), "-vf", "setpts='PTS+0.02*sin(N)/TB'", "-fps_mode",
                "vfr", "-c:a", "copy", str(out))  # fmt: skip
        return out
    if case == "starts at 30 s":
        out = path.with_suffix(".mkv")
        run_ffmpeg("-i", str(_base(folder)), "-c", "copy", "-output_ts_offset", "30", str(out))
        return out
    if case == "truncated, index in front":
        whole = folder / "front.mp4"
        run_ffmpeg("-i", str(_base(folder)), "-c", "copy", "-movflags", "+faststart", str(whole))
        data = whole.read_bytes()
        path.write_bytes(data[: len(data) // 2])
        return path
    if case == "truncated, index lost":
        path.write_bytes(_base(folder).read_bytes()[:3000])
        return path
    if case == "text file named .mp4":
        path.write_text("hello, I am not a video")
        return path
    if case == "empty file":
        path.write_bytes(b"")
        return path
    if case in ("jpeg still", "png still"):
        from PIL import Image

        out = path.with_suffix(".jpg" if case == "jpeg still" else ".png")
        Image.new("RGB", (320, 200), EDGE_RED).save(out)
        return out
    if case == "audio only":
        out = path.with_suffix(".m4a")
        run_ffmpeg("-i", str(_base(folder)), "-vn", "-c:a", "copy", str(out))
        return out
    if case == "tiny frames":
        return write_video(path, cards([EDGE_RED], 2.0, size=(34, 18)))
    if case == "a blip of 0.4 s":
        return write_video(path, cards([EDGE_RED], 0.4))
    if case == "huge frames":  # 8200x8200: over the 8192x8192 limit, tiny as a file
        run_ffmpeg("-f", "lavfi", "-i", "color=black:s=8200x8200:d=1:r=2", "-c:v", "libx264",
                "-preset", "ultrafast", str(path))  # fmt: skip
        return path
    if case == "random bytes":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
        return path
    raise ValueError(case)


def decode_stereo(path: Path, rate_hz: int = 44100) -> np.ndarray:
    """The first audio track of a media file as float32 stereo ``(n, 2)`` (PyAV's decoder,
    independent of vemidi's own mono decoding)."""
    import av

    chunks = []
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=rate_hz)
        for frame in container.decode(audio=0):
            chunks += [f.to_ndarray().reshape(-1, 2) for f in resampler.resample(frame)]
    return np.concatenate(chunks).astype(np.float32)


def read_wav(path) -> np.ndarray:
    """A 16-bit PCM WAV (file path or file object) as float32 ``(n, channels)``."""
    import wave

    with wave.open(path if not isinstance(path, Path) else str(path)) as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
        return (pcm.reshape(-1, w.getnchannels()) / 32768.0).astype(np.float32)
