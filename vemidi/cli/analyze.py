"""``vemidi analyze``: what a video feels, per modality, fused, per scene, as a table and JSON."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def table(analysis: object) -> list[str]:
    """Readable lines: one row per modality with its six probabilities and confidence."""
    from vemidi.emotion.affect import EMOTIONS

    head = f"{'modality':10}" + "".join(f"{e[:8]:>9}" for e in EMOTIONS) + f"{'conf.':>8}  evidence"
    lines = [head, "-" * len(head)]
    rows = [*analysis.modalities.items(), ("fused", analysis.fused)]
    for name, result in rows:
        ev = result.evidence
        note = ev.get("absent") or ev.get("text") or ""
        if name == "faces" and "frames_with_faces" in ev:
            note = f"faces in {ev['frames_with_faces']}/{ev['frames']} frames"
        if name in ("audio", "visual") and "valence" in ev:
            note = f"valence {ev['valence']:+.2f}, arousal {ev['arousal']:+.2f}"
        probs = "".join(f"{result.probs[e]:9.2f}" for e in EMOTIONS)
        lines.append(f"{name:10}{probs}{result.confidence:8.2f}  {str(note)[:40]}")
    lines.append(
        f"valence {analysis.valence:+.2f}, arousal {analysis.arousal:+.2f}; "
        f"{len(analysis.cuts_s)} cuts at {', '.join(f'{c:.2f}' for c in analysis.cuts_s) or '-'} s"
    )
    for s in analysis.segments:
        top = max(s.probs, key=s.probs.get)
        lines.append(
            f"  scene {s.start_s:6.2f}-{s.end_s:6.2f} s: {top:8} valence {s.valence:+.2f}, "
            f"arousal {s.arousal:+.2f}"
        )
    return lines


def _analyze(args: argparse.Namespace) -> int:
    from vemidi.cli.common import check_suffixes, prepare_outputs, progress_bar
    from vemidi.emotion.analyze import AnalysisConfig, make_analyzer
    from vemidi.media.probe import probe

    check_suffixes(JSON=args.json)
    prepare_outputs(args.json)
    config = AnalysisConfig(max_duration_s=args.max_duration, min_cut_gap_s=args.min_cut_gap)
    analyzer = make_analyzer(args.models, config)
    probe(args.video, config.max_duration_s)  # a bad file fails before the progress bar
    with progress_bar("analysing") as progress:
        analysis = analyzer.analyze(args.video, progress)
    if args.json:
        Path(args.json).write_text(json.dumps(analysis.to_json(), indent=1))
    print("\n".join(table(analysis)))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``analyze`` subcommand."""
    p = commands.add_parser("analyze", help="per-modality emotions, cuts and valence/arousal")
    p.add_argument("video", help="mp4, mov, webm, mkv or avi file")
    p.add_argument("--models", choices=("embedded", "hub"), default="embedded")
    p.add_argument("--json", default=None, help="write the full analysis here")
    p.add_argument("--max-duration", type=float, default=600.0, help="seconds (default 600)")
    p.add_argument("--min-cut-gap", type=float, default=4.0, help="seconds (default 4)")
    p.set_defaults(handler=_analyze)
