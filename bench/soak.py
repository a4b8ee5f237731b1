"""Soak: 20 jobs in a row on one pipeline; memory and temporary files before and after.

Each job analyses one of four different 30 s clips (the analysis cache is off, so every job
does the whole work) and scores it with other settings, as the app does for a stream of users.
Prints the resident memory after the first job and after the last, its growth per job over the
second half, the wall time per job, and the vemidi temporary files before and after (goal: flat
memory, none left behind).

Usage: python bench/soak.py [--jobs 20]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze_speed import make_clip  # the sibling bench script


def resident_mb() -> float:
    """The process's resident memory now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def temp_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("vemidi-*")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=20)
    args = parser.parse_args()
    from vemidi.pipeline import Controls, Pipeline

    before = temp_files()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = [make_clip(folder, shift) for shift in range(4)]
        pipeline = Pipeline(cache_size=0)
        memory, walls = [], []
        for job in range(args.jobs):
            start = time.perf_counter()
            clip = clips[job % len(clips)]
            analysis = pipeline.analyze(clip)
            controls = Controls(seed=job, arousal=(job % 5) / 2 - 1, per_scene=job % 2 == 1)
            pipeline.soundtrack(clip, analysis, controls, folder / f"out{job % 3}")
            walls.append(time.perf_counter() - start)
            memory.append(resident_mb())
    after = temp_files()
    half = len(memory) // 2
    growth = (memory[-1] - memory[half]) / max(1, len(memory) - 1 - half)
    print(f"{args.jobs} jobs of a 30 s clip: {sum(walls):.0f} s, {min(walls):.1f}-"
          f"{max(walls):.1f} s each")  # fmt: skip
    print(f"resident memory: {memory[0]:.0f} MB after job 1, {max(memory):.0f} MB at most, "
          f"{memory[-1]:.0f} MB after job {args.jobs}; {growth:+.1f} MB per job over the "
          f"second half")  # fmt: skip
    print(f"vemidi temporary files: {len(before)} before, {len(after)} after "
          f"({len(after - before)} new)")  # fmt: skip


if __name__ == "__main__":
    main()
