"""Four users at once: each one's wall time against its time alone, for the app's policies.

The app runs each request (analysis, then soundtrack) in a worker thread of one process that
shares the models; Gradio's queue lets ``limit`` requests run at once and queues the rest.
This bench does the same with a thread pool on one :class:`vemidi.pipeline.Pipeline`: four
different 30 s clips, first each alone, then all four submitted together, for
- limit 1, 2 torch threads (the app before: one request at a time),
- limit 2, 1 torch thread each (the app now: ``app.HEAVY_CONCURRENCY``, ``app.TORCH_THREADS``),
- limit 4, 1 torch thread each.
Goal: every result arrives, none takes more than 3x its time alone. Prints the peak resident
memory of the process.

Usage: python bench/concurrency.py
"""

from __future__ import annotations

import resource
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from analyze_speed import make_clip  # the sibling bench script

POLICIES = ((1, 2), (2, 1), (4, 1))  # (requests at once, torch threads)
GOAL_RATIO = 3.0


def main() -> None:
    import torch

    from vemidi.pipeline import Controls, Pipeline

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clips = [make_clip(folder, shift) for shift in range(4)]
        pipeline = Pipeline(cache_size=0)  # every request analyses, as four different uploads
        pipeline.warm_up()

        def request(index: int, clip: Path, submitted: float) -> float:
            analysis = pipeline.analyze(clip)
            pipeline.soundtrack(clip, analysis, Controls(seed=index), folder / f"out{index}")
            return time.perf_counter() - submitted

        torch.set_num_threads(2)
        request(9, clips[0], time.perf_counter())  # first use of every code path
        alone = [request(i, clip, time.perf_counter()) for i, clip in enumerate(clips)]
        print("alone (2 torch threads): " + ", ".join(f"{t:.1f} s" for t in alone))
        print(f"{'at once':>7} {'threads':>7} {'slowest':>8} {'worst ratio':>11} {'all':>6}  walls")
        for limit, threads in POLICIES:
            torch.set_num_threads(threads)
            with ThreadPoolExecutor(max_workers=limit) as pool:
                start = time.perf_counter()
                futures = [pool.submit(request, i, c, start) for i, c in enumerate(clips)]
                walls = [f.result() for f in futures]
            ratios = [w / a for w, a in zip(walls, alone, strict=True)]
            verdict = "met" if max(ratios) <= GOAL_RATIO else "not met"
            print(f"{limit:7} {threads:7} {max(walls):7.1f}s {max(ratios):10.2f}x {verdict:>7}  "
                  + ", ".join(f"{w:.1f}" for w in walls))  # fmt: skip
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory: {peak_mb:.0f} MB; goal: each of 4 requests <= "
          f"{GOAL_RATIO:g}x its time alone")  # fmt: skip


if __name__ == "__main__":
    main()
