"""`vemidi analyze` end to end on a generated video: a smiling face, a text card and speech."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
from media_factory import write_video

from vemidi.media.frames import decode_audio

MODALITY_KEYS = {"faces", "speech", "text", "audio", "visual"}


@pytest.fixture(scope="module")
def story(tmp_path_factory):
    """6 s: the astronaut photo for 3 s, a hard cut, a text card for 3 s; espeak speech."""
    from PIL import Image, ImageDraw, ImageFont
    from skimage import data

    folder = tmp_path_factory.mktemp("story")
    face = np.asarray(Image.fromarray(data.astronaut()).resize((320, 320)))
    face_card = np.zeros((320, 480, 3), np.uint8)
    face_card[:, 80:400] = face
    text = Image.new("RGB", (480, 320), (10, 10, 30))
    ImageDraw.Draw(text).text((30, 130), "Happy birthday Anna!", fill="white",
                              font=ImageFont.load_default(size=36))  # fmt: skip
    frames = [face_card] * 75 + [np.asarray(text)] * 75
    wav = folder / "say.wav"
    if shutil.which("espeak-ng") is None:
        pytest.fail("espeak-ng is missing: make test installs packages-test.txt")
    subprocess.run(["espeak-ng", "-s", "130", "-w", str(wav),
                    "I am very happy today. This is a wonderful day."], check=True)  # fmt: skip
    speech = decode_audio(wav, 44100)
    audio = np.zeros(6 * 44100, np.float32)
    audio[: min(len(speech), len(audio))] = speech[: len(audio)]
    return write_video(folder / "story.mp4", frames, audio=audio)


def run(*args):
    return subprocess.run([sys.executable, "-m", "vemidi", *args], capture_output=True,
                          text=True, timeout=600)  # fmt: skip


def test_analyze_writes_every_field(story, tmp_path):
    out = tmp_path / "a.json"
    result = run("analyze", str(story), "--json", str(out), "--min-cut-gap", "1")
    assert result.returncode == 0, result.stderr
    assert "fused" in result.stdout and "valence" in result.stdout
    data = json.loads(out.read_text())
    assert data["duration_s"] == pytest.approx(6.0, abs=0.1)
    assert data["cuts_s"] == pytest.approx([3.0], abs=0.05)
    assert set(data["modalities"]) == MODALITY_KEYS
    for modality in data["modalities"].values():
        assert set(modality) == {"probs", "confidence", "evidence"}
        assert len(modality["probs"]) == 6
    faces, speech, text = (data["modalities"][k] for k in ("faces", "speech", "text"))
    assert max(faces["probs"], key=faces["probs"].get) == "joy"
    assert "happy" in " ".join(s["text"] for s in speech["evidence"]["transcript"]).lower()
    assert "birthday" in text["evidence"]["text"].lower()
    assert max(data["fused"]["probs"], key=data["fused"]["probs"].get) == "joy"
    assert data["valence"] > 0.3
    edges = [x for s in data["segments"] for x in (s["start_s"], s["end_s"])]
    assert edges == pytest.approx([0.0, 3.0, 3.0, 6.0], abs=0.05)


@pytest.mark.parametrize("content", [b"", b"not a video", "truncated", "audio-only"])
def test_bad_videos_exit_2_with_one_line(tmp_path, story, content):
    path = tmp_path / "bad.mp4"
    if content == "truncated":
        path.write_bytes(story.read_bytes()[:3000])
    elif content == "audio-only":
        path = tmp_path / "say.wav"
        subprocess.run(["espeak-ng", "-w", str(path), "hello"], check=True)
    else:
        path.write_bytes(content)
    before = set(tmp_path.iterdir())
    result = run("analyze", str(path))
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert set(tmp_path.iterdir()) == before  # nothing left behind


def test_too_long_and_hub(story):
    result = run("analyze", str(story), "--max-duration", "2")
    assert result.returncode == 2 and "limit" in result.stderr
    result = run("analyze", str(story), "--models", "hub")
    assert result.returncode == 2 and "hub" in result.stderr
