"""Command-line front end: ``vemidi compose`` (more subcommands register themselves here).

Every :class:`VemidiError` becomes one line on stderr and exit code 2; progress bars go to
stderr, results to the files named on the command line and a short report to stdout.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vemidi import __version__
from vemidi.errors import InvalidInputError, VemidiError

Progress = Callable[[float, str], None]


def prepare_outputs(*paths: str | None) -> None:
    """Check every output path before any work, creating missing folders (every command does
    this the same way), so that a bad path fails at once rather than after the analysis.

    Raises:
        InvalidInputError: a path is a folder, lies under a file, or its folder is not writable.
    """
    import os

    for path in paths:
        if not path:
            continue
        target = Path(path)
        if target.is_dir():
            raise InvalidInputError(f"{path} is a folder; give a file name to write.")
        ancestor = target.parent
        while not ancestor.exists() and ancestor != ancestor.parent:
            ancestor = ancestor.parent
        if not ancestor.is_dir():
            raise InvalidInputError(f"cannot write {path}: {ancestor} is a file, not a folder.")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise InvalidInputError(
                f"cannot create the folder {target.parent} ({e.strerror or 'error'})."
            ) from e
        if not os.access(target.parent, os.W_OK):
            raise InvalidInputError(f"cannot write into {target.parent}: permission denied.")


@contextmanager
def progress_bar(description: str) -> Iterator[Progress]:
    """A tqdm bar on stderr driven by ``progress(fraction, message)`` callbacks."""
    from tqdm import tqdm

    with tqdm(total=100, desc=description, file=sys.stderr, unit="%", leave=False) as bar:

        def update(fraction: float, message: str) -> None:
            bar.n = round(100 * min(1.0, max(0.0, fraction)))
            bar.set_postfix_str(message, refresh=False)
            bar.refresh()

        yield update


def parse_seconds_list(text: str | None, what: str = "cuts") -> tuple[float, ...]:
    """Parse ``"4.2, 11"`` into seconds; empty text gives no times (see :mod:`vemidi.inputs`)."""
    from vemidi.inputs import as_cuts

    if not text or not text.strip():
        return ()
    return as_cuts(what, text)


def read_segments(path: str) -> tuple:
    """Read emotion segments from JSON: a list of {start_s, end_s, valence, arousal}."""
    from vemidi.types import EmotionSegment

    try:
        data = json.loads(Path(path).read_text())
        items = data["segments"] if isinstance(data, dict) else data
        return tuple(
            EmotionSegment(
                float(s["start_s"]),
                float(s["end_s"]),
                math.nan if s.get("valence") is None else float(s["valence"]),
                math.nan if s.get("arousal") is None else float(s["arousal"]),
            )
            for s in items
        )
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise InvalidInputError(
            f"segments file {path} must be JSON: a list of objects with start_s, end_s, "
            f"valence and arousal ({e})."
        ) from e


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that generates music."""
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--temperature", type=float, default=1.0, help="default 1.0 (EMSYNC: 1.35)")
    parser.add_argument(
        "--top-p", type=float, default=0.95, help="nucleus mass (default 0.95; EMSYNC: 0.6)"
    )
    parser.add_argument("--top-k", type=int, default=0, help="0 = off (default)")
    parser.add_argument(
        "--instruments", choices=("less", "more"), default="more", help="1-2 or 3+ instruments"
    )
    parser.add_argument("--min-cut-gap", type=float, default=4.0, help="seconds (default 4)")
    parser.add_argument("--model", default=None, help="music model name or .pt path")
    parser.add_argument("--tempo", type=float, default=None, help="bpm (default: from arousal)")
    parser.add_argument(
        "--beats-per-bar", type=int, default=4, help="the meter, 2-7 beats (default 4)"
    )
    parser.add_argument(
        "--percussion",
        choices=("auto", "on", "off"),
        default="auto",
        help="drums: auto = where arousal > 0 (default), on, off",
    )


def sampling_from_args(args: argparse.Namespace) -> object:
    """The :class:`SamplingConfig` the shared options describe."""
    from vemidi.config import SamplingConfig

    return SamplingConfig(
        temperature=args.temperature, top_p=args.top_p, top_k=args.top_k, seed=args.seed
    )


def plan_config_from_args(args: argparse.Namespace) -> object:
    """The :class:`PlanConfig` the shared options describe."""
    from vemidi.config import PlanConfig

    return PlanConfig(
        tempo_bpm=args.tempo, beats_per_bar=args.beats_per_bar, percussion=args.percussion
    )


def _compose(args: argparse.Namespace) -> int:
    from vemidi.config import CutConfig
    from vemidi.music.compose import ComposeRequest, compose
    from vemidi.synth import render_soundtrack, write_wav

    prepare_outputs(args.output, args.wav, args.json)
    options = dict(
        cuts_s=parse_seconds_list(args.cuts),
        sampling=sampling_from_args(args),
        cut_config=CutConfig(min_gap_s=args.min_cut_gap),
        plan_config=plan_config_from_args(args),
        more_instruments=args.instruments == "more",
        model=args.model,
    )
    if args.segments:
        request = ComposeRequest(args.duration, read_segments(args.segments), **options)
    else:
        request = ComposeRequest.constant(args.duration, args.valence, args.arousal, **options)
    from vemidi.weights import load_music_model

    load_music_model(request.model)  # fail on a bad model name before the progress bar starts
    with progress_bar("composing") as progress:
        piece = compose(request, progress)
    piece.write_midi(args.output)
    summary = piece.summary()
    if args.wav:
        write_wav(args.wav, render_soundtrack(piece.midi, request.duration_s, args.soundfont))
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2))
    hits, targets = len(summary["cuts_hit_s"]), len(summary["cuts_targeted_s"])
    print(
        f"model {summary['model']}: {summary['tempo_bpm']:.0f} bpm, {summary['keys'][0]}, "
        f"{summary['n_notes']} notes in {summary['duration_s']} s, chords struck on "
        f"{hits}/{targets} cuts, wrote {args.output}"
        + (f", {args.wav}" if args.wav else "")
        + (f", {args.json}" if args.json else "")
    )
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="vemidi", description="Emotion- and cut-aware soundtracks for videos (EMSYNC)."
    )
    parser.add_argument("--version", action="version", version=f"vemidi {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("compose", help="compose MIDI for a duration, an emotion and cuts")
    p.add_argument("--valence", type=float, default=0.0, help="-1 (negative) ... 1 (positive)")
    p.add_argument("--arousal", type=float, default=0.0, help="-1 (calm) ... 1 (excited)")
    p.add_argument("--duration", type=float, required=True, help="length in seconds")
    p.add_argument("--cuts", default=None, help="boundary times, e.g. 4.2,11.0")
    p.add_argument("--segments", default=None, help="JSON file of emotion segments")
    add_sampling_arguments(p)
    p.add_argument("-o", "--output", required=True, help="MIDI file to write")
    p.add_argument("--wav", default=None, help="also render audio to this WAV file")
    p.add_argument("--soundfont", default=None, help=".sf2/.sf3 file (default: first found)")
    p.add_argument("--json", default=None, help="write a JSON summary here")
    p.set_defaults(handler=_compose)

    from vemidi import cli_analyze, cli_soundtrack, cli_train

    cli_analyze.register(commands)
    cli_soundtrack.register(commands)
    cli_train.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for any user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    try:
        return args.handler(args)
    except VemidiError as e:
        print(f"vemidi: error: {e}", file=sys.stderr)
        return 2
    except OSError as e:  # unwritable output path, full disk, ...
        print(f"vemidi: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("vemidi: interrupted", file=sys.stderr)
        return 130
