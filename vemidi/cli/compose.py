"""``vemidi compose``: MIDI (and audio) for a duration, an emotion and cuts, without a video."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from vemidi.cli.common import (
    add_loudness_argument,
    add_sampling_arguments,
    check_suffixes,
    parse_seconds_list,
    plan_config_from_args,
    prepare_outputs,
    progress_bar,
    read_segments,
    sampling_from_args,
)


def _compose(args: argparse.Namespace) -> int:
    from vemidi.audio.loudness import LUFS_RANGE
    from vemidi.config import CutConfig, check_range
    from vemidi.music.compose import ComposeRequest, compose
    from vemidi.synth import render_soundtrack, write_wav

    check_suffixes(MIDI=args.output, WAV=args.wav, JSON=args.json)
    prepare_outputs(args.output, args.wav, args.json)
    check_range("loudness (LUFS)", args.loudness, *LUFS_RANGE)
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
        audio = render_soundtrack(piece.midi, request.duration_s, args.soundfont, args.loudness)
        write_wav(args.wav, audio)
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


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``compose`` subcommand."""
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
    add_loudness_argument(p)
    p.add_argument("--json", default=None, help="write a JSON summary here")
    p.set_defaults(handler=_compose)
