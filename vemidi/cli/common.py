"""What the subcommands share: progress bars, output-path checks, argument helpers."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from vemidi.config import SamplingConfig
from vemidi.errors import InvalidInputError

Progress = Callable[[float, str], None]


# What each kind of output file must be called (the suffix decides how players open it).
OUTPUT_SUFFIXES = {
    "MIDI": (".mid", ".midi"),
    "WAV": (".wav",),
    "video": (".mp4",),
    "JSON": (".json",),
    "piano roll picture": (".png",),
}


def check_suffixes(**paths: str | None) -> None:
    """Each given path (keyword: its kind in :data:`OUTPUT_SUFFIXES`, spaces as underscores)
    must carry its kind's suffix, so that ``-o piece.wav`` does not write MIDI under a WAV name.

    Raises:
        InvalidInputError: a path has another suffix.
    """
    for kind, path in paths.items():
        kind = kind.replace("_", " ")
        allowed = OUTPUT_SUFFIXES[kind]
        if path and Path(path).suffix.lower() not in allowed:
            names = " or ".join(allowed)
            raise InvalidInputError(f"{path}: a {kind} file must be named {names}.")


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


def sampling_option(parser: argparse.ArgumentParser, flag: str, field: str, help: str) -> None:
    """A number option whose default is :class:`SamplingConfig`'s ``field``; ``help`` may say it
    as ``{default:g}``."""
    default = getattr(SamplingConfig, field)
    parser.add_argument(flag, type=float, default=default, help=help.format(default=default))


def add_sampling_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by every command that generates music."""
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    sampling_option(parser, "--temperature", "temperature", "default {default:g} (EMSYNC: 1.35)")
    sampling_option(parser, "--top-p", "top_p", "nucleus mass (default {default:g}; EMSYNC: 0.6)")
    parser.add_argument("--top-k", type=int, default=0, help="0 = off (default)")
    sampling_option(
        parser,
        "--tonal-anchor",
        "tonal_anchor",
        "keep the key's mode audible: 0 = off (default {default:g}), 1 = as measured",
    )
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


def add_audio_arguments(parser: argparse.ArgumentParser) -> None:
    """Options of what is heard: soundfont, original sound, ducking, loudness."""
    parser.add_argument(
        "--audio-mode",
        choices=("replace", "mix", "under", "keep"),
        default="replace",
        help="replace the original sound; mix: keep it, the music ducks under speech; under: "
        "the original 12 dB under the music; keep: the original as a first track",
    )
    parser.add_argument("--duck", type=float, default=12.0, help="dB the music falls under speech")
    add_loudness_argument(parser)
    parser.add_argument("--soundfont", default=None, help=".sf2/.sf3 file (default: first found)")


def add_loudness_argument(parser: argparse.ArgumentParser) -> None:
    """``--loudness``: the music's integrated loudness target."""
    parser.add_argument(
        "--loudness",
        type=float,
        default=-16.0,
        help="music loudness in LUFS: -16 web (default), -23 EBU R128, -14 streaming",
    )


def control_values(args: argparse.Namespace) -> dict:
    """The untyped control values of ``soundtrack``/``batch`` options, for
    :func:`vemidi.inputs.controls_from` (which types them as the app's are typed)."""
    return {
        "valence": args.valence,
        "arousal": args.arousal,
        "per_scene": args.per_scene,
        "cuts_s": None if args.cuts is None else parse_seconds_list(args.cuts),
        "seed": args.seed,
        "temperature": args.temperature,
        "top_p": args.top_p,
        "top_k": args.top_k,
        "tonal_anchor": args.tonal_anchor,
        "more_instruments": args.instruments == "more",
        "soundfont": args.soundfont,
        "audio_mode": args.audio_mode,
        "min_cut_gap_s": args.min_cut_gap,
        "model": args.model,
        "tempo_bpm": args.tempo,
        "beats_per_bar": args.beats_per_bar,
        "percussion": args.percussion,
        "duck_db": args.duck,
        "loudness_lufs": args.loudness,
    }


def sampling_from_args(args: argparse.Namespace) -> object:
    """The :class:`SamplingConfig` the shared options describe."""
    from vemidi.config import USER_SAMPLING_FIELDS, SamplingConfig

    return SamplingConfig(**{name: getattr(args, name) for name in USER_SAMPLING_FIELDS})


def plan_config_from_args(args: argparse.Namespace) -> object:
    """The :class:`PlanConfig` the shared options describe."""
    from vemidi.config import PlanConfig

    return PlanConfig(
        tempo_bpm=args.tempo, beats_per_bar=args.beats_per_bar, percussion=args.percussion
    )
