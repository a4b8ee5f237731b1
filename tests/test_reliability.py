"""Reliability suite: unusual and malformed media, generated here, through the Python API.

Every case must end in a soundtrack as long as what plays, or in one clear sentence (a
:class:`VemidiError`) that carries no folder, no errno and no traceback, within 10 s, and leave
no temporary files behind. ``CASES`` is the corpus; the README quotes its size.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import pytest
from media_factory import cards, edge_case, tone, write_video

from vemidi.errors import VemidiError

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
    "huge frames": "the largest supported is 8192x8192",
}


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory):
    """A pipeline that has made one soundtrack already: the 10 s are each case's, not the first
    load of the models and the first calls' compiling (two test processes share two cores)."""
    from vemidi.pipeline import Controls, Pipeline

    pipeline = Pipeline()
    folder = tmp_path_factory.mktemp("warm")
    video = folder / "warm.mp4"  # not one of the cases: the pipeline caches analyses by content
    write_video(video, cards([(200, 40, 40), (40, 40, 200)], 1.0, size=(96, 64)),
                audio=tone(2.0, 440.0))  # fmt: skip
    pipeline.soundtrack(video, pipeline.analyze(video), Controls(seed=0), folder / "out")
    return pipeline


def _vemidi_temp_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("vemidi-*")}


@pytest.mark.parametrize("case", list(CASES))
def test_every_case_gets_music_or_one_sentence(pipeline, tmp_path, own_temp_dir, case):
    from vemidi.media.probe import probe
    from vemidi.pipeline import Controls

    path = edge_case(case, tmp_path)
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


CLI_CASES = ["text file named .mp4", "jpeg still", "audio only", "tiny frames", "a blip of 0.4 s"]


@pytest.mark.parametrize("case", CLI_CASES)
def test_the_cli_says_one_line_and_exits_2(tmp_path, case):
    import subprocess
    import sys

    path = edge_case(case, tmp_path)
    out_mp4 = tmp_path / "out" / "scored.mp4"
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "vemidi", "soundtrack", str(path), "-o",
                          str(out_mp4)], capture_output=True, text=True, timeout=60)  # fmt: skip
    assert time.perf_counter() - start < 10.0
    lines = out.stderr.strip().splitlines()
    assert out.returncode == 2 and len(lines) == 1, out.stderr[-2000:]
    assert lines[0].startswith("vemidi: error: ") and CASES[case] in lines[0]
    assert str(tmp_path) not in lines[0] and not out_mp4.exists()
