"""Generation speed per second of music: today's against the code and model of the day issue 9
asked for music in musical time ("generation no slower than today per second of music").

The issue-era tree (commit ``ISSUE_ERA``, the parent of the first musical-time commit: its
``vemidi`` package and its shipped ``vemidi-small``) is exported with ``git archive`` into a
temporary folder; each measurement runs in a fresh process on one tree, so the two never share
imports. Each runs its own evaluation's speed line: three 60 s pieces (valence 0.5, arousal
-0.8, 0 and +0.8, three cuts each), seconds of music per second of decoding ("x real time").
The issue-era code as it shipped (torch's default threads: 2 on this machine) and pinned to one
thread, today's as it ships (one decoding thread); rounds alternate, on an idle machine and
beside one busy process, and the median of the rounds is printed.

Usage: python bench/speed_since_issue.py [--rounds 3]   (needs git and the repository's history)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from neighbour import busy_neighbour  # the sibling bench module

ROOT = Path(__file__).resolve().parent.parent
ISSUE_ERA = "917618f^"  # "Musical time: plan ..." is 917618f; its parent is the code asked about

# One run in a child process: the speed line of the tree on PYTHONPATH, as JSON.
_CHILD = """
import json, sys, torch
threads = int(sys.argv[1])
if threads:
    torch.set_num_threads(threads)
from vemidi.weights import load_music_model
try:
    from vemidi.training.evaluate import speed  # today's layout
except ImportError:
    from vemidi.music.evaluate import speed  # the issue-era layout
model = load_music_model(None)
print(json.dumps(speed(getattr(model, "model", model))))
"""


def measure(tree: Path, threads: int) -> dict:
    """The speed line of ``tree`` in a fresh process (``threads`` 0: the code's own choice)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(threads)],
        cwd=tempfile.gettempdir(), env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def export_issue_era(folder: Path) -> None:
    """``vemidi`` and ``assets/models`` of :data:`ISSUE_ERA` into ``folder``."""
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", ISSUE_ERA, "vemidi", "assets/models"],
        capture_output=True, check=True,
    )  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(folder)], input=archive.stdout, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vemidi-issue-era-") as folder:
        export_issue_era(Path(folder))
        runs = {
            "issue era, as shipped (torch default threads)": (Path(folder), 0),
            "issue era, one thread": (Path(folder), 1),
            "today, as shipped (one decoding thread)": (ROOT, 0),
        }
        results: dict[tuple[str, bool], list[dict]] = {}
        for busy in (False, True):
            for _ in range(args.rounds):
                for name, (tree, threads) in runs.items():
                    with busy_neighbour(busy):
                        results.setdefault((name, busy), []).append(measure(tree, threads))
    print(f"{args.rounds} alternating rounds of three 60 s pieces each; median x real time "
          "(tokens per second of music)")  # fmt: skip
    print(f"{'':48} {'idle':>14} {'busy':>14}")
    medians = {}
    for name in runs:
        cells = []
        for busy in (False, True):
            got = results[(name, busy)]
            rtf = statistics.median(r["real_time_factor"] for r in got)
            per_s = got[0]["tokens"] / got[0]["duration_s"]
            medians[(name, busy)] = rtf
            cells.append(f"{rtf:5.1f}x ({per_s:4.1f})")
        print(f"{name:48} {cells[0]:>14} {cells[1]:>14}")
    today = "today, as shipped (one decoding thread)"
    for busy in (False, True):
        ratios = ", ".join(
            f"{medians[(today, busy)] / medians[(name, busy)]:.2f}x {name.split(', ')[1]}"
            for name in runs
            if name != today
        )
        print(f"today against the issue era, {'busy' if busy else 'idle'}: {ratios}")


if __name__ == "__main__":
    main()
