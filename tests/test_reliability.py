"""Reliability suite: unusual and malformed media, generated here, through the Python API.

Every case must end in a soundtrack as long as what plays, or in one clear sentence (a
:class:`VemidiError`) that carries no folder, no errno and no traceback, within 10 s, and leave
no temporary files behind. ``CASES`` is the corpus; the README quotes its size.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from media_factory import cards, tone, write_video

from vemidi.errors import VemidiError
from vemidi.media.mux import ffmpeg_binary

RED, BLUE, GREY = (200, 30, 30), (20, 40, 200), (128, 128, 128)


def _ffmpeg(*args: str) -> None:
    subprocess.run([ffmpeg_binary(), "-nostdin", "-y", "-loglevel", "error", *args], check=True)


def _base(folder: Path) -> Path:
    return write_video(folder / "base.mp4", cards([RED, BLUE], 3.0), audio=tone(6.0))


def _make(case: str, folder: Path) -> Path:
    """The file of one case (each built from real encoders or by damaging a real file)."""
    path = folder / f"{case}.mp4"
    if case == "plain":
        return _base(folder)
    if case == "no audio":
        return write_video(path, cards([RED, BLUE], 3.0))
    if case == "rotated 90":
        return write_video(path, cards([RED, BLUE], 3.0), rotation_deg=90)
    if case == "portrait odd size":
        return write_video(path, cards([RED, GREY], 2.0, size=(90, 160)))
    if case in ("webm vp9", "avi mpeg4", "mov", "mkv"):
        suffix, codec, audio = {"webm vp9": (".webm", "libvpx-vp9", "libopus"),
                                "avi mpeg4": (".avi", "mpeg4", "mp3"),
                                "mov": (".mov", "libx264", "aac"),
                                "mkv": (".mkv", "libx264", "aac")}[case]  # fmt: skip
        rate = 48000 if audio == "libopus" else 44100
        return write_video(path.with_suffix(suffix), cards([RED, BLUE], 2.0),
                           audio=tone(4.0, rate_hz=rate), audio_rate_hz=rate,
                           video_codec=codec, audio_codec=audio)  # fmt: skip
    if case == "variable frame rate":
        out = path.with_suffix(".mkv")
        _ffmpeg("-i", str(_base(folder)), "-vf", "setpts='PTS+0.02*sin(N)/TB'", "-fps_mode",
                "vfr", "-c:a", "copy", str(out))  # fmt: skip
        return out
    if case == "starts at 30 s":
        out = path.with_suffix(".mkv")
        _ffmpeg("-i", str(_base(folder)), "-c", "copy", "-output_ts_offset", "30", str(out))
        return out
    if case == "truncated, index in front":
        whole = folder / "front.mp4"
        _ffmpeg("-i", str(_base(folder)), "-c", "copy", "-movflags", "+faststart", str(whole))
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
        Image.new("RGB", (320, 200), RED).save(out)
        return out
    if case == "audio only":
        out = path.with_suffix(".m4a")
        _ffmpeg("-i", str(_base(folder)), "-vn", "-c:a", "copy", str(out))
        return out
    if case == "tiny frames":
        return write_video(path, cards([RED], 2.0, size=(34, 18)))
    if case == "a blip of 0.4 s":
        return write_video(path, cards([RED], 0.4))
    if case == "random bytes":
        path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, np.uint8).tobytes())
        return path
    raise ValueError(case)


# case -> expected: a length in seconds, or words the one sentence must contain
CASES = {
    "plain": 6.0,
    "no audio": 6.0,
    "rotated 90": 6.0,
    "portrait odd size": 4.0,
    "webm vp9": 4.0,
    "avi mpeg4": 4.0,
    "mov": 4.0,
    "mkv": 4.0,
    "variable frame rate": 6.0,
    "starts at 30 s": 6.0,
    "truncated, index in front": None,  # a soundtrack as long as what decodes
    "truncated, index lost": "not a readable video",
    "text file named .mp4": "not a readable video",
    "empty file": "is empty",
    "jpeg still": "still image",
    "png still": "still image",
    "audio only": "audio file",
    "tiny frames": "smallest supported is 48x48",
    "a blip of 0.4 s": "shortest supported is 1 s",
    "random bytes": "not a readable video",
}


@pytest.fixture(scope="module")
def pipeline():
    from vemidi.pipeline import Pipeline

    return Pipeline()


def _vemidi_temp_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("vemidi-*")}


@pytest.mark.parametrize("case", list(CASES))
def test_every_case_gets_music_or_one_sentence(pipeline, tmp_path, case):
    from vemidi.media.probe import probe
    from vemidi.pipeline import Controls

    path = _make(case, tmp_path)
    before = _vemidi_temp_files()
    expected = CASES[case]
    start = time.perf_counter()
    try:
        analysis = pipeline.analyze(path)
        result = pipeline.soundtrack(path, analysis, Controls(seed=1), tmp_path / "out")
    except VemidiError as e:
        message = str(e)
        assert isinstance(expected, str), f"{case}: unexpected error {message!r}"
        assert expected in message and path.name in message
        assert "\n" not in message and "Errno" not in message and str(tmp_path) not in message
    else:
        assert not isinstance(expected, str), f"{case}: no error, expected {expected!r}"
        played = probe(path).duration_s
        assert probe(result.video_path).duration_s == pytest.approx(played, abs=0.1)
        if expected is not None:
            assert played == pytest.approx(expected, abs=0.15)
        else:
            assert 1.0 < played < 5.5  # the truncated half of 6 s
    assert time.perf_counter() - start < 10.0
    assert _vemidi_temp_files() <= before  # nothing left behind
