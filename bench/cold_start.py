"""Cold start: ``vemidi soundtrack`` from a fresh process, and the app's first analysis.

1. ``vemidi soundtrack clip.mp4 -o out.mp4`` on a 30 s clip (the one bench/analyze_speed.py
   builds), timed from process start to exit. Goal: <= 12 s.
2. ``python app.py`` on a free local port: the time from the log printing its URL to the
   first ``/analyze`` answer through gradio_client for the same clip. Goal: <= 10 s.

Usage: python bench/cold_start.py
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze_speed import make_clip  # the sibling bench script

ROOT = Path(__file__).resolve().parent.parent
GOAL_CLI_S, GOAL_APP_S = 12.0, 10.0


def cli_seconds(clip: Path, out: Path) -> float:
    """Wall seconds of one ``vemidi soundtrack`` process."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vemidi", "soundtrack", str(clip), "-o", str(out)],
                   check=True, capture_output=True, cwd=ROOT)  # fmt: skip
    return time.perf_counter() - start


def app_seconds(clips: list[Path], folder: Path) -> tuple[float, float, float]:
    """Seconds from launch to the URL line, from the URL line to the first analysis, and of a
    second analysis (another clip) once everything is warm."""
    from gradio_client import Client, handle_file

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = folder / "app.log"
    env = {**os.environ, "GRADIO_SERVER_PORT": str(port), "GRADIO_SERVER_NAME": "127.0.0.1",
           "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
           "VEMIDI_OUTPUT_DIR": str(folder / "outputs")}  # fmt: skip
    launched = time.perf_counter()
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=out,
                                   stderr=subprocess.STDOUT)  # fmt: skip
    try:
        while "Running on local URL" not in log.read_text():
            if process.poll() is not None or time.perf_counter() - launched > 120:
                sys.exit(f"the app did not start:\n{log.read_text()[-2000:]}")
            time.sleep(0.05)
        url_at = time.perf_counter()
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        client.predict(handle_file(str(clips[0])), "embedded", api_name="/analyze")
        first_at = time.perf_counter()
        client.predict(handle_file(str(clips[1])), "embedded", api_name="/analyze")
        return url_at - launched, first_at - url_at, time.perf_counter() - first_at
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = [make_clip(folder, 0, 30), make_clip(folder, 1, 30)]
        cli = cli_seconds(clips[0], folder / "out.mp4")
        verdict = "met" if cli <= GOAL_CLI_S else "NOT met"
        print(f"vemidi soundtrack, 30 s clip, fresh process: {cli:.1f} s wall "
              f"(goal <= {GOAL_CLI_S:g} s: {verdict})")  # fmt: skip
        to_url, first, warm = app_seconds(clips, folder)
        verdict = "met" if first <= GOAL_APP_S else "NOT met"
        print(f"app: URL printed {to_url:.1f} s after launch; first analysis of the 30 s clip "
              f"{first:.1f} s after the URL (goal <= {GOAL_APP_S:g} s: {verdict}); "
              f"a second clip, warm: {warm:.1f} s")  # fmt: skip


if __name__ == "__main__":
    main()
