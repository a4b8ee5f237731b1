"""``vemidi batch``: inputs and manifests, one bad video among good ones, resuming, two worker
processes and a local Ray instance (the same CLI, the same checks)."""

from __future__ import annotations

import csv
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from media_factory import cards, tone, write_video

from vemidi.batch.jobs import collect
from vemidi.errors import InvalidInputError

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 220, 40), (200, 40, 200)]


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    """Five 2 s clips (a hard cut each) and a truncated sixth."""
    folder = tmp_path_factory.mktemp("clips")
    for i, colour in enumerate(COLOURS):
        write_video(folder / f"clip{i + 1}.mp4", cards([colour, COLOURS[(i + 2) % 5]], 1.0,
                    size=(96, 64)), audio=tone(2.0, 300.0 + 100 * i))  # fmt: skip
    (folder / "broken.mp4").write_bytes((folder / "clip1.mp4").read_bytes()[:3000])
    return folder


def batch(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "vemidi", "batch", "--quiet", *args]
    environment = {**os.environ, **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, timeout=600, env=environment)


def results(out: Path) -> dict[str, dict]:
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return {r["name"]: r for r in rows}


def check_first_and_second_run(clips: Path, out: Path, *options: str, env=None) -> dict:
    """5 results and one clear error; then a second run that does no work."""
    first = batch(str(clips), "-o", str(out), *options, env=env)
    assert first.returncode == 1 and "Traceback" not in first.stderr, first.stderr[-3000:]
    rows = results(out)
    assert sorted(rows) == ["broken", "clip1", "clip2", "clip3", "clip4", "clip5"]
    assert rows["broken"]["status"] == "error"
    assert rows["broken"]["error"] == "broken.mp4 is not a readable video."
    for name in ("clip1", "clip2", "clip3", "clip4", "clip5"):
        row = rows[name]
        assert row["status"] == "ok" and not row["skipped"], row
        assert row["duration_s"] == pytest.approx(2.0, abs=0.1) and row["notes"] > 0
        files = {p.name for p in (out / name).iterdir()}
        assert {f"{name}-vemidi.{ext}" for ext in ("mp4", "mid", "wav", "json")} <= files
    assert (out / "results.csv").is_file(), first.stderr[-3000:]  # the run ended cleanly
    with (out / "results.csv").open() as f:
        assert len(list(csv.DictReader(f))) == 6
    assert "5 ok, 1 failed" in first.stdout and "broken.mp4 is not a readable video" in first.stdout
    started = time.perf_counter()
    second = batch(str(clips), "-o", str(out), *options, env=env)
    elapsed = time.perf_counter() - started
    assert second.returncode == 1 and "0 done in this run, 6 up to date" in second.stdout
    again = results(out)
    assert all(r["skipped"] for r in again.values())
    assert again["broken"]["error"] == rows["broken"]["error"]
    assert elapsed < 10  # no model was loaded: a cold interpreter and six JSON reads
    return rows


def test_inputs_files_folders_globs_and_manifests(clips, tmp_path):
    (tmp_path / "set.csv").write_text(
        "video,valence,arousal,seed,audio_mode,name\n"
        f"{clips / 'clip1.mp4'},0.5,-0.2,3,mix,first\n"
        "clip-missing.mp4,,,,,\n"
        f"{clips / 'clip2.mp4'},2.0,,,,\n"
    )
    jobs = collect([str(tmp_path / "set.csv")], {"seed": 0}, "embedded")
    assert [j.name for j in jobs] == ["first", "clip-missing", "clip2"]
    first, missing, bad = jobs
    assert first.controls.valence == 0.5 and first.controls.seed == 3 and first.digest
    assert first.controls.audio_mode == "mix"
    assert "does not exist" in missing.error and "valence must be between -1 and 1" in bad.error
    (tmp_path / "set.jsonl").write_text(
        json.dumps({"video": str(clips / "clip3.mp4"), "cuts_s": "0.5", "stems": True}) + "\n"
        + "{not json\n" + json.dumps({"video": str(clips / "clip4.mp4"), "loud": 1}) + "\n"
    )  # fmt: skip
    third, broken, unknown = collect([str(tmp_path / "set.jsonl")], {}, "embedded")
    assert third.controls.cuts_s == (0.5,) and third.stems
    assert "is not valid JSON" in broken.error and "unknown manifest column" in unknown.error
    everything = collect([str(clips), str(clips / "clip1.mp4"), str(clips / "clip[23].mp4")],
                         {}, "embedded")  # fmt: skip
    names = [j.name for j in everything]
    assert len(names) == 9 and len(set(names)) == 9  # the same video twice: two folders
    assert len({j.digest for j in everything if j.digest}) == 6  # same video, same settings
    with pytest.raises(InvalidInputError, match="not a file, a folder or a glob"):
        collect([str(tmp_path / "nothing.mp4")], {}, "embedded")
    with pytest.raises(InvalidInputError, match="no file matches"):
        collect([str(tmp_path / "*.mov")], {}, "embedded")


def test_one_process_resumes_and_redoes_what_changed(clips, tmp_path):
    out = tmp_path / "out"
    rows = check_first_and_second_run(clips, out)
    assert len({r["worker"] for r in rows.values()}) == 1
    changed = batch(str(clips / "clip1.mp4"), str(clips / "clip2.mp4"), "-o", str(out),
                    "--seed", "7")  # fmt: skip
    assert changed.returncode == 0 and "2 done in this run" in changed.stdout


def test_two_worker_processes_load_the_models_once_each(clips, tmp_path):
    rows = check_first_and_second_run(clips, tmp_path / "out", "--workers", "2")
    good = [r for r in rows.values() if r["status"] == "ok"]
    workers = {r["worker"] for r in good}
    assert len(workers) == 2  # both slots worked
    for worker in workers:  # loaded once, before its first video (which may be the broken one)
        loads = [r["models_load_s"] for r in rows.values() if r["worker"] == worker]
        assert sum(1 for s in loads if s > 0) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, timeout_s: float = 120) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline and process.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    pytest.fail(f"the Ray head did not start on port {port}")


@pytest.mark.ray
def test_on_a_local_ray_instance(clips, tmp_path):
    pytest.importorskip("ray")
    ray = shutil.which("ray", path=str(Path(sys.executable).parent))
    port = _free_port()
    # Its sockets and logs: a short path (a Unix socket's path has at most 107 characters).
    temp = Path(tempfile.mkdtemp(prefix="vemidi-ray-", dir="/tmp"))
    # Ray's token authentication, with a token of the test's own (as a real cluster would
    # share one with its clients), whatever ~/.ray holds on this machine.
    env = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    start = [ray, "start", "--head", "--num-cpus", "2", "--include-dashboard", "false",
             "--node-ip-address", "127.0.0.1", "--port", str(port),
             "--object-store-memory", str(200 * 1024**2), "--temp-dir", str(temp),
             "--disable-usage-stats"]  # fmt: skip
    # --block: the head lives as long as this process; stopping it stops only this instance
    # (``ray stop`` would stop every Ray instance on the machine).
    with open(temp / "head.log", "w") as log:
        head = subprocess.Popen([*start, "--block"], stdout=log, stderr=subprocess.STDOUT,
                                env={**os.environ, **env})  # fmt: skip
    try:
        _wait_for_port(port, head)
        address = f"127.0.0.1:{port}"
        rows = check_first_and_second_run(clips, tmp_path / "out", "--ray", address,
                                          "--workers", "2", env=env)  # fmt: skip
        good = [r for r in rows.values() if r["status"] == "ok"]
        assert len({r["worker"] for r in good}) == 2  # two actors, each its own process
        assert all(r["video"].startswith(str(clips)) for r in rows.values())
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        shutil.rmtree(temp, ignore_errors=True)
