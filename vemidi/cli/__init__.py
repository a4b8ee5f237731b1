"""Command-line front end: ``vemidi compose | analyze | soundtrack | batch | train | evaluate``.

Each subcommand lives in its own module and registers itself; what they share is in
:mod:`vemidi.cli.common`. Every :class:`VemidiError` becomes one line on stderr and exit code 2;
progress bars go to stderr, results to the files named on the command line and a short report
to stdout.
"""

from __future__ import annotations

import argparse
import logging
import sys

from vemidi import __version__
from vemidi.errors import VemidiError


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="vemidi", description="Emotion- and cut-aware soundtracks for videos (EMSYNC)."
    )
    parser.add_argument("--version", action="version", version=f"vemidi {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details to stderr")
    commands = parser.add_subparsers(dest="command", required=True)

    from vemidi.cli import analyze, batch, compose, soundtrack, train

    for command in (compose, analyze, soundtrack, batch, train):
        command.register(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit code (2 for any user error)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING)
    if not args.verbose:  # the error line says it; the library's details only with -v
        logging.getLogger("vemidi").setLevel(logging.ERROR)
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
