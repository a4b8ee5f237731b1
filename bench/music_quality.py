"""Music quality of a model: the full evaluation of `vemidi evaluate`, printed as a summary.

Held-out accuracy/perplexity (when the training data cache exists), emotion control on the
valence x arousal grid (default settings and priors off), the surface measures, struck chords on
cuts against chance, the two-sample test against held-out corpus excerpts, and speed.
Usage: python bench/music_quality.py [--model NAME] [--data runs/vemidi-small/data.pkl]
"""

from __future__ import annotations

import argparse
from pathlib import Path

from vemidi.training.evaluate import EvalConfig
from vemidi.training.report import run_evaluation, summary_lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="music model name or .pt path")
    parser.add_argument("--data", default="runs/vemidi-small/data.pkl", help="training data cache")
    parser.add_argument("--seeds", type=int, default=5)
    args = parser.parse_args()
    data = Path(args.data)
    report = run_evaluation(
        args.model, EvalConfig(seeds=args.seeds), data if data.is_file() else None, None, None
    )
    print("\n".join(summary_lines(report)))


if __name__ == "__main__":
    main()
