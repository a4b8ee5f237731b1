"""End to end: video in, scored MP4 out, per stage, for 30 s and 120 s clips, cold and warm.

Each length runs in a fresh process: the first clip there is *cold* (every model loads), a
second clip with different content is *warm* (models loaded, analysis not cached). Goal: a 30 s
clip in at most 30 s wall, warm, on 2 cores.

Usage: python bench/end_to_end.py [--lengths 30,120]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze_speed import make_clip, stage_times  # the sibling bench script


def _one_process(seconds: int) -> None:
    """Run inside the child: cold then warm, print one JSON line per run."""
    import torch

    torch.set_num_threads(2)
    from vemidi.pipeline import Controls, Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = [make_clip(folder, 0, seconds), make_clip(folder, 1, seconds)]
        pipeline = Pipeline()
        for label, clip in zip(("cold", "warm"), clips, strict=True):
            start = time.perf_counter()

            def both(progress, clip=clip, out_dir=folder / label):
                analysis = pipeline.analyze(clip, lambda f, m: progress(f, f"analysis: {m}"))
                pipeline.soundtrack(clip, analysis, Controls(), out_dir, progress)

            stages = stage_times(both)
            stages["wall"] = time.perf_counter() - start
            print(json.dumps({"run": label, "seconds": seconds, "stages": stages}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lengths", default="30,120")
    parser.add_argument("--child", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _one_process(args.child)
        return
    rows = []
    for seconds in (int(x) for x in args.lengths.split(",")):
        child = subprocess.run([sys.executable, __file__, "--child", str(seconds)],
                               capture_output=True, text=True)  # fmt: skip
        if child.returncode:
            sys.exit(f"the {seconds} s run failed:\n{child.stderr[-3000:]}")
        out = child.stdout
        rows += [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    names = list(dict.fromkeys(n for r in rows for n in r["stages"]))
    print(f"{'stage':36}" + "".join(f"{str(r['seconds']) + ' s ' + r['run']:>12}" for r in rows))
    for name in names:
        if name == "total" or max(r["stages"].get(name, 0.0) for r in rows) < 0.005:
            continue
        print(f"{name:36}" + "".join(f"{r['stages'].get(name, 0.0):12.2f}" for r in rows))
    for r in rows:
        ratio = r["seconds"] / r["stages"]["wall"]
        print(f"{r['seconds']} s clip, {r['run']}: {r['stages']['wall']:.1f} s wall "
              f"({ratio:.2f}x real time)")  # fmt: skip


if __name__ == "__main__":
    main()
