"""Batch throughput: ``vemidi batch`` over the same folder with 1 worker, 2 worker processes and
a local Ray instance (2 actors), side by side in one run.

The folder: six 20 s clips of the analysis bench (faces, on-screen text, colour scenes, speech)
and a seventh that is a truncated copy (a broken video, which must end as one error row).
Each engine scores into its own fresh folder, from a cold start (``vemidi`` in a new process,
models loaded by each worker), then runs again over the same folder: the second run must do no
work. Throughput is seconds of video scored per second of wall time.

Usage: python bench/batch_throughput.py [--seconds 20] [--clips 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze_speed import make_clip  # the sibling bench script

ENGINES = (("1 worker", ["--workers", "1"]), ("2 workers", ["--workers", "2"]),
           ("Ray, 2 actors", ["--ray", "--workers", "2"]))  # fmt: skip


def run(folder: Path, out: Path, options: list[str]) -> tuple[float, list[dict]]:
    command = [sys.executable, "-m", "vemidi", "batch", str(folder), "-o", str(out), "--quiet",
               *options]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=os.environ.copy())
    wall = time.perf_counter() - started
    if done.returncode not in (0, 1):
        raise SystemExit(f"vemidi batch failed:\n{done.stderr[-2000:]}")
    rows = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    return wall, rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=20, help="clip length (multiple of 10)")
    parser.add_argument("--clips", type=int, default=6)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "videos"
        folder.mkdir()
        clips = [make_clip(folder, shift, args.seconds) for shift in range(args.clips)]
        (folder / "broken.mp4").write_bytes(clips[0].read_bytes()[:5000])
        video_s = args.clips * args.seconds
        print(f"{args.clips} clips of {args.seconds} s + 1 broken; cold start per engine "
              f"(a new vemidi process; each worker loads the models once)")  # fmt: skip
        print(f"{'engine':<16}{'wall s':>8}{'video s/s':>11}{'ok':>4}{'errors':>8}"
              f"{'rerun s':>9}{'rerun work':>12}")  # fmt: skip
        for label, options in ENGINES:
            out = Path(tmp) / label.replace(" ", "-").replace(",", "")
            wall, rows = run(folder, out, options)
            ok = sum(r["status"] == "ok" for r in rows)
            errors = sum(r["status"] == "error" for r in rows)
            rerun, again = run(folder, out, options)
            redone = sum(not r["skipped"] for r in again)
            print(f"{label:<16}{wall:>8.1f}{video_s / wall:>11.2f}{ok:>4}{errors:>8}"
                  f"{rerun:>9.1f}{redone:>12}")  # fmt: skip


if __name__ == "__main__":
    main()
