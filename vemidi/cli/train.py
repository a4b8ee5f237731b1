"""``vemidi train`` and ``vemidi evaluate``: the embedded music model's life cycle.

``train`` parses the music21 corpus (or takes a data cache made before, ``--data``), trains on
the CPU or a GPU and exports the model; ``evaluate`` measures a model (held-out accuracy, emotion
control, cut alignment, musical statistics, speed) and writes the four quadrant examples.

Parsing the corpus needs the ``train`` extra (music21); training from a data cache needs only
torch and numpy (so it runs on a lent GPU machine). The run directory holds the resumable state, so
running the same command again continues an interrupted run; ``--export`` writes the bf16
checkpoint that ``vemidi compose`` loads.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from vemidi.cli.common import sampling_option
from vemidi.config import SamplingConfig
from vemidi.errors import InvalidInputError


def _train(args: argparse.Namespace) -> int:
    import shutil

    from tqdm import tqdm

    from vemidi.music.model import debug_config
    from vemidi.training.corpus import COLLECTIONS
    from vemidi.training.train import MODEL_SIZES, TrainConfig, export, read_data_cache, train

    collections = tuple(args.collections.split(",")) if args.collections else COLLECTIONS
    unknown = sorted(set(collections) - set(COLLECTIONS))
    if unknown:
        raise InvalidInputError(
            f"unknown collection(s) {', '.join(unknown)}; choose from {', '.join(COLLECTIONS)}."
        )
    base = debug_config() if args.tiny else MODEL_SIZES[args.size]
    try:
        model_cfg = dataclasses.replace(base, n_keys=24, condition_every_position=True)
        if args.context:
            model_cfg = dataclasses.replace(model_cfg, context=args.context)
        if args.dropout is not None:
            model_cfg = dataclasses.replace(model_cfg, dropout=args.dropout)
        config = TrainConfig(
            model=model_cfg,
            batch_size=args.batch_size,
            max_steps=args.steps,
            max_minutes=args.minutes,
            variants=args.variants,
            threads=args.threads,
            checkpoint_every_s=args.checkpoint_every,
            precision=args.precision,
            init_from=args.init_from,
            lr=args.lr,
            more_share=args.more_share,
            device=args.device,
        )
    except ValueError as e:  # one sentence, before minutes of corpus parsing
        raise InvalidInputError(f"{e}.") from e
    if args.init_from and not Path(args.init_from).is_file():
        raise InvalidInputError(f"--init-from {args.init_from} is not a checkpoint file.")
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise InvalidInputError("--device cuda: torch sees no CUDA GPU on this machine.")
    run_dir = Path(args.run_dir)
    cache = run_dir / "data.pkl"
    if args.data and not cache.is_file():  # a data cache made elsewhere: no corpus to parse
        read_data_cache(Path(args.data))  # one sentence if it is not one
        run_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(args.data, cache)
    works = []
    if not cache.is_file():
        works = _parse(args, collections)
    bar = tqdm(total=config.max_steps, desc="training", file=sys.stderr, unit="step")

    def report(step: int, row: dict) -> None:
        bar.n = step
        held = row.get("heldout_loss")
        held = f" held-out {held:.3f}" if held is not None else ""
        bar.set_postfix_str(f"loss {row['loss']:.3f} {row['tokens_per_s']:.0f} tok/s{held}")
        bar.refresh()

    try:
        metrics = train(works, config, run_dir, report)
    finally:
        bar.close()
    print(
        f"step {metrics['step']}: held-out loss {metrics['loss']:.3f} "
        f"(perplexity {metrics['perplexity']:.2f}, accuracy {metrics['accuracy']:.3f}), "
        f"{metrics['parameters'] / 1e6:.2f} M parameters, {metrics['elapsed_s'] / 60:.1f} min"
    )
    if args.export:
        path = export(run_dir, Path(args.export), {"collections": list(collections)})
        print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB)")
    return 0


def _parse(args: argparse.Namespace, collections: tuple[str, ...]) -> list:
    """The parsed works of ``collections`` (minutes on first use; cached in ``--cache-dir``)."""
    try:
        import music21  # noqa: F401
    except ImportError as e:
        raise InvalidInputError(
            "training needs music21: pip install -e '.[train]' (or make setup-test)."
        ) from e
    from vemidi.cli.common import progress_bar
    from vemidi.training.corpus import corpus_files, parse_corpus

    files = corpus_files(collections)
    if args.max_files:
        files = files[: args.max_files]
    with progress_bar("parsing corpus") as progress:
        works = parse_corpus(files, Path(args.cache_dir), args.workers, progress)
    if not works:
        raise InvalidInputError("no works could be parsed from the chosen collections.")
    print(f"{len(works)} works from {len(files)} files", file=sys.stderr)
    return works


def _evaluate(args: argparse.Namespace) -> int:
    from vemidi.cli.common import progress_bar
    from vemidi.training.evaluate import EvalConfig
    from vemidi.training.report import run_evaluation, save, summary_lines
    from vemidi.weights import load_music_model

    loaded = load_music_model(args.model)  # a bad name fails before any work
    config = EvalConfig(
        seeds=2 if args.quick else args.seeds,
        first_seed=args.first_seed,
        cut_pieces=3 if args.quick else args.cut_pieces,
        emotion_duration_s=15.0 if args.quick else 30.0,
        cut_duration_s=30.0 if args.quick else 60.0,
        sampling=SamplingConfig(
            harmony_prior=args.harmony_prior,
            density_prior=args.density_prior,
            tonal_anchor=args.tonal_anchor,
        ),
    )
    data = Path(args.data) if args.data else None
    if data is not None and not data.is_file():
        raise InvalidInputError(f"training data cache {data} does not exist (see vemidi train).")
    logs = [Path(name) for name in args.training_log or ()]
    for log in logs:
        if not log.is_file():  # before minutes of work, not after
            raise InvalidInputError(f"training log {log} does not exist.")
    with progress_bar("evaluating") as progress:
        report = run_evaluation(
            loaded.name,
            config,
            data,
            Path(args.examples) if args.examples else None,
            Path(args.audio) if args.audio else None,
            progress,
        )
    if args.json:
        save(report, Path(args.json))
    if logs:
        from vemidi.training.report import training_curve

        out = Path(args.json).with_name("training_curve.png") if args.json else Path("curve.png")
        training_curve(logs, out)
        print(f"wrote {out}")
    print("\n".join(summary_lines(report)))
    return 0


def register(commands: argparse._SubParsersAction) -> None:
    """Add the ``train`` and ``evaluate`` subcommands."""
    p = commands.add_parser("train", help="train the embedded music model on the music21 corpus")
    p.add_argument("--run-dir", default="runs/vemidi-small", help="state, log and data cache")
    p.add_argument("--cache-dir", default="data/corpus-cache", help="parsed-corpus cache")
    p.add_argument("--collections", default=None, help="comma-separated music21 collections")
    p.add_argument("--max-files", type=int, default=0, help="use only the first N files")
    p.add_argument("--workers", type=int, default=2, help="parser processes (default 2)")
    p.add_argument("--steps", type=int, default=1400, help="optimiser steps (sets the schedule)")
    p.add_argument("--minutes", type=float, default=130.0, help="training time budget")
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=6e-4, help="peak learning rate (default 6e-4)")
    p.add_argument(
        "--more-share",
        type=float,
        default=0.5,
        help="share of windows drawn from works for three or more instruments (default 0.5; "
        "1.0 also fits the label scale on those works)",
    )
    p.add_argument("--precision", choices=("auto", "bf16", "fp32"), default="auto")
    p.add_argument("--variants", type=int, default=4, help="augmented copies per work")
    p.add_argument("--threads", type=int, default=2, help="torch threads")
    p.add_argument("--context", type=int, default=0, help="override the context length")
    p.add_argument("--checkpoint-every", type=float, default=300.0, help="seconds")
    p.add_argument("--tiny", action="store_true", help="the debug-sized model (for tests)")
    p.add_argument(
        "--size",
        choices=("small", "medium"),
        default="small",
        help="small: the embedded model (CPU); medium: 12.2 M parameters, for a GPU",
    )
    p.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="default cpu")
    p.add_argument(
        "--dropout", type=float, default=None, help="override the size's (small 0, medium 0.1)"
    )
    p.add_argument(
        "--data",
        default=None,
        help="a data cache made before (data.pkl, gzip allowed): copied into the run dir, "
        "no corpus parsing (music21 not needed)",
    )
    p.add_argument(
        "--init-from",
        default=None,
        help="start a new run from this exported checkpoint where shapes agree (warm start)",
    )
    p.add_argument("--export", default=None, help="write the bf16 checkpoint here when done")
    p.set_defaults(handler=_train)

    p = commands.add_parser("evaluate", help="measure a music model and write quadrant examples")
    p.add_argument("--model", default=None, help="music model name or .pt path")
    p.add_argument("--data", default=None, help="training data cache (runs/.../data.pkl)")
    p.add_argument("--seeds", type=int, default=10, help="seeds per grid cell (default 10)")
    p.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="the grid's first seed (default 0; another draws fresh pieces, see README)",
    )
    p.add_argument("--cut-pieces", type=int, default=10, help="60 s pieces with random cuts")
    sampling_option(
        p, "--harmony-prior", "harmony_prior", "harmony prior weight (default {default:g})"
    )
    sampling_option(
        p, "--density-prior", "density_prior", "density prior weight (default {default:g})"
    )
    sampling_option(
        p,
        "--tonal-anchor",
        "tonal_anchor",
        "tonal anchor weight (default {default:g}; 0 turns it off)",
    )
    p.add_argument("--quick", action="store_true", help="a small run (tests, smoke checks)")
    p.add_argument("--examples", default=None, help="write quadrant example MIDI files here")
    p.add_argument("--audio", default=None, help="render the examples to WAV here")
    p.add_argument("--json", default=None, help="write the full report here")
    p.add_argument(
        "--training-log",
        nargs="+",
        default=None,
        metavar="LOG",
        help="log.csv: plot training_curve.png; several: runs that each continued the one "
        "before, joined in order",
    )
    p.set_defaults(handler=_evaluate)
