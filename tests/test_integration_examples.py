"""The README's Python API example, run as it stands on a clip with speech and a folder of two
videos: one call, a take with ducking, loudness and stems, and a batch."""

from __future__ import annotations

import json
import shutil

from media_factory import cards, tone, write_video
from readme_examples import example


def test_python_api_example_runs_as_written(story, tmp_path, monkeypatch, capsys):
    shutil.copyfile(story, tmp_path / "clip.mp4")
    (tmp_path / "videos").mkdir()
    for i, colour in enumerate([(200, 40, 40), (40, 40, 200)]):
        write_video(tmp_path / "videos" / f"v{i}.mp4", cards([colour], 2.0, size=(96, 64)),
                    audio=tone(2.0, 440.0))  # fmt: skip
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(example("python-api"), "README.md", "exec"), namespace)
    assert namespace["result"].video_path.is_file()
    take = namespace["take"]
    assert take.record["audio"]["mode"] == "mix" and take.record["audio"]["speech_s"]
    assert take.record["audio"]["loudness_lufs"] == -23.0 and take.stems_path.is_file()
    rows = [json.loads(line) for line in (tmp_path / "scored" / "results.jsonl").open()]
    assert sorted((r["name"], r["status"]) for r in rows) == [("v0", "ok"), ("v1", "ok")]
    assert "('v0', 'ok')" in capsys.readouterr().out
