"""``vemidi soundtrack``: a video in, the same video with an original soundtrack out."""

from __future__ import annotations

import argparse
import tempfile
import threading
from pathlib import Path


def _soundtrack(args: argparse.Namespace) -> int:
    from vemidi.cli.common import (
        check_suffixes,
        control_values,
        prepare_outputs,
        progress_bar,
    )
    from vemidi.emotion.analyze import AnalysisConfig
    from vemidi.errors import InvalidInputError
    from vemidi.inputs import controls_from
    from vemidi.media.mux import publish
    from vemidi.media.probe import probe
    from vemidi.pipeline import Pipeline
    from vemidi.synth import resolve_soundfont
    from vemidi.weights import load_music_model

    check_suffixes(
        video=args.output, MIDI=args.midi, WAV=args.wav, JSON=args.json,
        piano_roll_picture=args.pianoroll,
    )  # fmt: skip
    prepare_outputs(args.output, args.midi, args.wav, args.json, args.pianoroll)
    if args.stems and Path(args.stems).exists() and any(Path(args.stems).iterdir()):
        raise InvalidInputError(f"the stems folder {args.stems} exists and is not empty.")
    controls = controls_from(control_values(args))  # typed as the app and its API type them
    config = AnalysisConfig(max_duration_s=args.max_duration, min_cut_gap_s=args.min_cut_gap)
    # Cheap checks first, so that bad input fails before minutes of analysis.
    duration_s = probe(args.video, config.max_duration_s).duration_s
    for cut in controls.cuts_s or ():
        if not 0.0 < cut < duration_s:
            raise InvalidInputError(f"cut {cut:g} s is outside the video (0 to {duration_s:g} s).")
    resolve_soundfont(controls.soundfont)
    load_music_model(controls.model)
    pipeline = Pipeline(args.models, config)
    # The models load in the background while the analysis starts decoding the video.
    threading.Thread(target=pipeline.warm_up, daemon=True, name="vemidi-preload").start()
    with progress_bar("analysing") as progress:
        analysis = pipeline.analyze(args.video, progress)
    with tempfile.TemporaryDirectory(prefix="vemidi-") as tmp:
        with progress_bar("composing") as progress:
            result = pipeline.soundtrack(
                args.video, analysis, controls, tmp, progress, stems=bool(args.stems)
            )
        wanted = [(result.video_path, args.output), (result.midi_path, args.midi),
                  (result.wav_path, args.wav), (result.json_path, args.json),
                  (result.pianoroll_path, args.pianoroll)]  # fmt: skip
        written = []
        for source, target in wanted:
            if target:
                publish(source, Path(target))
                written.append(str(target))
        if args.stems:
            written.append(_unpack(result.stems_path, Path(args.stems)))
    piece = result.record["composition"]
    print(
        f"valence {piece['segments'][0]['valence']:+.2f}, arousal "
        f"{piece['segments'][0]['arousal']:+.2f} ({len(piece['segments'])} segment(s)), "
        f"{piece['tempo_bpm']:.0f} bpm, {piece['keys'][0]}, {piece['n_notes']} notes, chords "
        f"struck on {len(piece['cuts_hit_s'])}/{len(piece['cuts_targeted_s'])} cuts; wrote "
        f"{', '.join(written)}"
    )
    return 0


def _unpack(zip_path: Path, folder: Path) -> str:
    """The stems bundle into ``folder`` (created; it appears whole or not at all)."""
    import shutil
    import zipfile

    partial = folder.with_name(f".{folder.name}.partial")
    shutil.rmtree(partial, ignore_errors=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            archive.extractall(partial)
        if folder.exists():
            folder.rmdir()  # checked empty before the work began
        partial.rename(folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return f"{folder}/ (stems)"


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``soundtrack`` subcommand."""
    from vemidi.cli.common import add_audio_arguments, add_sampling_arguments

    p = commands.add_parser("soundtrack", help="analyse a video and give it an original score")
    p.add_argument("video", help="mp4, mov, webm, mkv or avi file")
    p.add_argument("-o", "--output", required=True, help="the video with music (.mp4)")
    p.add_argument("--valence", type=float, default=None, help="override, -1 ... 1")
    p.add_argument("--arousal", type=float, default=None, help="override, -1 ... 1")
    p.add_argument("--cuts", default=None, help="boundary seconds, e.g. 4.2,11 ('' = none)")
    p.add_argument("--per-scene", action="store_true", help="follow the per-scene emotion")
    add_audio_arguments(p)
    p.add_argument("--models", choices=("embedded", "hub"), default="embedded")
    p.add_argument("--max-duration", type=float, default=600.0, help="seconds (default 600)")
    add_sampling_arguments(p)
    p.add_argument("--midi", default=None, help="also write the MIDI here")
    p.add_argument("--wav", default=None, help="also write the rendered audio here")
    p.add_argument("--json", default=None, help="also write analysis + composition JSON here")
    p.add_argument("--pianoroll", default=None, help="also write the piano-roll PNG here")
    p.add_argument(
        "--stems",
        default=None,
        metavar="DIR",
        help="also write a WAV per instrument, the MIDI, WAV, MP4 and JSON into this folder",
    )
    p.set_defaults(handler=_soundtrack)
