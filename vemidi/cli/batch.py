"""``vemidi batch``: many videos scored in one run, here or on a Ray cluster, resumable."""

from __future__ import annotations

import argparse


def _batch(args: argparse.Namespace) -> int:
    from vemidi.batch.jobs import collect
    from vemidi.batch.local import run_batch
    from vemidi.cli.common import control_values
    from vemidi.inputs import controls_from

    defaults = control_values(args)
    controls_from(defaults)  # a bad option fails here, once, not once per video
    jobs = collect(args.inputs, defaults, args.models, stems=args.stems)
    report = run_batch(jobs, args.output, profile=args.models, workers=args.workers,
                       ray_address=args.ray, shared_output=args.shared_output,
                       retry_failed=args.retry_failed, show_progress=not args.quiet)  # fmt: skip
    ok = [r for r in report.rows if r["status"] == "ok"]
    print(
        f"{len(report.rows)} videos: {len(ok)} ok, {len(report.failed)} failed; "
        f"{len(report.scored)} done in this run, {len(report.rows) - len(report.scored)} up to "
        f"date from an earlier one; {report.video_seconds_per_wall_second():.2f} s of video per "
        f"second over {report.wall_s:.1f} s ({report.engine}); results in "
        f"{report.manifest_path}"
    )
    for row in report.failed:
        print(f"  {row['name']}: {row['error']}")
    return 1 if report.failed else 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``batch`` subcommand."""
    from vemidi.cli.common import add_audio_arguments, add_sampling_arguments

    p = commands.add_parser(
        "batch",
        help="score many videos (files, folders, globs, or a CSV/JSONL manifest)",
        description="Score every video into OUTPUT/<name>/ and write OUTPUT/results.jsonl and "
        "results.csv. A second run skips videos already scored with the same settings. Exit "
        "code 1 when a video failed (its sentence is in the manifest), 2 for bad options.",
    )
    p.add_argument("inputs", nargs="+", help="video files, folders, glob patterns, manifests")
    p.add_argument("-o", "--output", required=True, help="output folder")
    p.add_argument("--workers", type=int, default=1, help="local processes (default 1); with "
                   "--ray, actors (0: one per cluster CPU)")  # fmt: skip
    p.add_argument("--ray", nargs="?", const="local", default=None, metavar="ADDRESS",
                   help="run on Ray: a cluster's address (none: start a local one)")  # fmt: skip
    p.add_argument("--shared-output", action="store_true",
                   help="Ray workers read inputs and write OUTPUT themselves")  # fmt: skip
    p.add_argument("--retry-failed", action="store_true", help="score failed videos again")
    p.add_argument("--stems", action="store_true", help="also a stems ZIP per video")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.add_argument("--valence", type=float, default=None, help="override, -1 ... 1")
    p.add_argument("--arousal", type=float, default=None, help="override, -1 ... 1")
    p.add_argument("--cuts", default=None, help="boundary seconds for every video")
    p.add_argument("--per-scene", action="store_true", help="follow the per-scene emotion")
    p.add_argument("--models", choices=("embedded", "hub"), default="embedded")
    add_audio_arguments(p)
    add_sampling_arguments(p)
    p.set_defaults(handler=_batch)
