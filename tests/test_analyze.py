"""`vemidi analyze` end to end on a generated video: a smiling face, a text card and speech."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MODALITY_KEYS = {"faces", "speech", "text", "audio", "visual"}


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


def test_too_long(story):
    result = run("analyze", str(story), "--max-duration", "2")
    assert result.returncode == 2 and "limit" in result.stderr
