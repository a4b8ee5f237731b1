"""The full evaluation run: experiments, quadrant examples, training curve, readable report."""

from __future__ import annotations

import json
import platform
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from vemidi.training import evaluate as ev
from vemidi.training import measures

QUADRANTS = {  # name: (valence, arousal)
    "happy-excited": (0.8, 0.8),
    "calm-content": (0.8, -0.8),
    "tense-angry": (-0.8, 0.8),
    "sad-calm": (-0.8, -0.8),
}
EXAMPLE_DURATION_S = 24.0
EXAMPLE_CUTS_S = (6.0, 12.0, 18.0)
# The emotion grid's runs: (report key suffix, short label, heading of the emotion lines, the
# settings). The default's heading names its prior weights, so it is written where it is used.
VARIANTS = (
    ("", "default", None, lambda config: config),
    ("_anchor", "anchor on", "with the tonal anchor at weight 1", ev.with_anchor),
    ("_priors", "priors on", "with the harmony and density priors at weight 1", ev.with_priors),
)


def heldout(model, data_path: Path, n_batches: int = 16) -> tuple[dict, tuple]:
    """Held-out next-token accuracy and perplexity, and the cache (train and held-out examples,
    label scale)."""
    from vemidi.training.dataset import WindowSampler
    from vemidi.training.train import evaluate_batches, read_data_cache

    data = read_data_cache(data_path)
    _, test, scale = data
    length = model.cfg.context - model.cfg.prefix_len
    sampler = WindowSampler(
        test, scale, length, model.cfg.max_offset_s, use_key=model.cfg.n_keys > 0
    )
    metrics = evaluate_batches(model, sampler.fixed_batches(8, n_batches))
    metrics["windows"] = min(len(test), 8 * n_batches)
    return metrics, data


def write_examples(model_name: str, out_midi: Path, out_audio: Path | None) -> list[dict]:
    """One piece per valence/arousal quadrant with cuts at known times (MIDI, optional WAV),
    and their piano rolls with the plan's chords in one PNG."""
    from vemidi.music.compose import ComposeRequest, compose
    from vemidi.music.pianoroll import save_grid
    from vemidi.synth import render_soundtrack, write_wav

    out_midi.mkdir(parents=True, exist_ok=True)
    rows, rolls = [], []
    for name, (valence, arousal) in QUADRANTS.items():
        request = ComposeRequest.constant(
            EXAMPLE_DURATION_S, valence, arousal, cuts_s=EXAMPLE_CUTS_S, model=model_name
        )
        piece = compose(request)
        piece.write_midi(out_midi / f"{name}.mid")
        summary = piece.summary()
        if out_audio is not None:
            out_audio.mkdir(parents=True, exist_ok=True)
            audio = render_soundtrack(piece.midi, EXAMPLE_DURATION_S)
            write_wav(out_audio / f"{name}.wav", audio)
        notes = piece.result.decoded.notes
        strikes = measures.struck_chords(notes)
        title = (
            f"{name} (valence {valence:+.1f}, arousal {arousal:+.1f}): "
            f"{summary['keys'][0]}, {summary['tempo_bpm']:.0f} bpm"
        )
        rolls.append((title, notes, EXAMPLE_DURATION_S, list(EXAMPLE_CUTS_S), piece.plan))
        rows.append(
            {
                "name": name,
                "valence": valence,
                "arousal": arousal,
                "key": summary["keys"][0],
                "tempo_bpm": summary["tempo_bpm"],
                "notes_per_s": round(measures.notes_per_second(notes, EXAMPLE_DURATION_S), 2),
                "mode": round(measures.piece_mode(notes), 3),
                "drum_hits": summary["n_drum_hits"],
                "cuts_struck_s": [
                    c for c in EXAMPLE_CUTS_S if measures.hit_rate(strikes, [c]) == 1.0
                ],
            }
        )
    save_grid(rolls, out_midi / "quadrants.png")
    return rows


def training_curve(logs: Path | Sequence[Path], out_png: Path) -> None:
    """Plot train and held-out loss against tokens seen.

    ``logs``: one ``log.csv``, or the logs of runs that each continued the one before (``vemidi
    train --init-from``), joined in order: each run's tokens counted on from the end of the one
    before, with a dotted line where a run starts.
    """
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points: list[tuple[float, dict]] = []  # (tokens since the first run began, row)
    starts: list[float] = []  # millions of tokens where each run after the first begins
    for log_csv in [logs] if isinstance(logs, Path) else logs:
        with Path(log_csv).open() as lines:
            run_rows = list(csv.DictReader(lines))
        offset = points[-1][0] if points else 0.0  # a log's last row has its most tokens
        if points:
            starts.append(offset / 1e6)
        points += [(offset + float(r["tokens"]), r) for r in run_rows]

    def curve(column: str) -> list[tuple[float, float]]:  # a row may leave either one blank
        return [(t / 1e6, float(r[column])) for t, r in points if r[column]]

    train, held = curve("train_loss"), curve("heldout_loss")
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    ax.plot(*zip(*train, strict=True), label="train (CHORD-weighted)")
    if held:
        ax.plot(*zip(*held, strict=True), "o-", label="held-out")
    for start in starts:
        ax.axvline(start, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("training tokens (millions)" + (", runs joined" if starts else ""))
    ax.set_ylabel("cross-entropy (nats/token)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(out_png)
    plt.close(fig)


def run_evaluation(
    model_name: str,
    config: ev.EvalConfig,
    data_path: Path | None,
    examples_dir: Path | None,
    audio_dir: Path | None,
    progress=None,
) -> dict:
    """Every experiment of the evaluation; returns the JSON-ready report."""
    import torch

    from vemidi.weights import load_music_model

    loaded = load_music_model(model_name)
    model = loaded.model
    report: dict = {
        "model": loaded.name,
        "parameters": sum(p.numel() for p in model.parameters()),
        "config": ev.config_dict(config),
        "machine": f"{platform.processor() or platform.machine()}, torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads",
        "date": time.strftime("%Y-%m-%d"),
    }

    def stage(name: str):
        return (lambda f, m: progress(f, f"{name}: {m}")) if progress else None

    train, test, scale = [], [], None
    if data_path is not None and data_path.is_file():
        report["heldout"], (train, test, scale) = heldout(model, data_path)
    for suffix, label, _, variant in VARIANTS:
        report[f"emotion{suffix}"] = ev.emotion_control(
            model, variant(config), progress=stage(label)
        )
    report["cuts"] = ev.cut_alignment(model, config, progress=stage("cuts"))
    model_only = replace(config, sampling=replace(config.sampling, cut_chords=False))
    report["cuts_model_only"] = ev.cut_alignment(
        model, model_only, progress=stage("cuts, no cut-chord rule")
    )
    if test:
        real = ev.real_excerpts(test, config)
        grid = ev.grid_reference_excerpts(train, scale, config)
        for suffix, *_ in VARIANTS:  # real music asked for the grid: beside the default only
            rows = report[f"emotion{suffix}"]["rows"]
            report[f"realism{suffix}"] = ev.realism(rows, real, None if suffix else grid)
    report["speed"] = ev.speed(model, config.speed_duration_s, config.sampling)
    if examples_dir is not None:
        report["examples"] = write_examples(loaded.name, examples_dir, audio_dir)
    return report


def _by_level(aucs: dict) -> str:
    """``{-0.8: 0.93, ...}`` (keys as strings after a JSON round trip) -> "-0.8 0.93, ..."."""
    return ", ".join(
        f"{float(k):+.1f} {v:.2f}" for k, v in sorted(aucs.items(), key=lambda x: float(x[0]))
    )


def summary_lines(report: dict) -> list[str]:
    """The report as short readable lines (printed by the CLI and the benchmark)."""
    e = report["emotion"]
    sampling = report["config"]["sampling"]
    c, m, s = report["cuts"], report["cuts_model_only"], report["speed"]
    lines = [f"model {report['model']} ({report['parameters'] / 1e6:.2f} M parameters)"]
    if "heldout" in report:
        h = report["heldout"]
        lines.append(
            f"held-out: accuracy {h['accuracy']:.3f}, perplexity {h['perplexity']:.2f} "
            f"({h['loss']:.3f} nats/token, {h['windows']} windows)"
        )
    default = (
        f"default (harmony prior {sampling['harmony_prior']:g}, density prior "
        f"{sampling['density_prior']:g}, tonal anchor {sampling['tonal_anchor']:g})"
    )
    for suffix, _, heading, _ in VARIANTS:
        label, x = heading or default, report[f"emotion{suffix}"]
        lines.append(
            f"emotion, {label}: valence->mode Spearman {x['valence_mode_spearman']:.2f}, "
            f"arousal->notes/beat {x['arousal_notes_per_beat_spearman']:.2f}, ->tempo "
            f"{x['arousal_tempo_spearman']:.2f}, ->notes/s {x['arousal_notes_per_s_spearman']:.2f}"
        )
        lines.append(
            f"  mean mode by valence {_fmt(x['mean_mode_by_valence'])}; notes/beat by arousal "
            f"{_fmt(x['mean_notes_per_beat_by_arousal'])}"
        )
    real = report.get("realism", {}).get("real_surface", {})
    for suffix, label, _, _ in VARIANTS:
        x = report[f"emotion{suffix}"]
        f = x["surface"]
        lines.append(
            f"surface, {label}: onsets {f['grid_distance_ms']:.1f} ms from the grid; note time on "
            f"chord tones {f['chord_tone_share']:.0%}, scale tones {f['scale_tone_share']:.0%}; "
            f"notes < 50 ms {f['short_note_share']:.1%}; unison doublings "
            f"{f['unison_share']:.1%}; silence {f['silence_share']:.1%}, longest gap "
            f"{x['longest_silence_s']:.2f} s"
        )
    if real:
        lines.append(
            f"  held-out corpus: chord tones {real['chord_tone_share']:.0%}, scale tones "
            f"{real['scale_tone_share']:.0%}, notes < 50 ms {real['short_note_share']:.1%}, "
            f"unison {real['unison_share']:.1%}, silence {real['silence_share']:.1%}"
        )
    lines.append(
        f"cuts ({c['cuts']}): struck chord within 40 ms {c['struck_within_40ms']:.0%}, bass on "
        f"the planned root {c['bass_on_root']:.0%}; at random times "
        f"{c['chance_at_random_times']:.0%}; without the cut-chord rule "
        f"{m['struck_within_40ms']:.0%}"
    )
    for suffix, label, _, _ in VARIANTS:
        key = f"realism{suffix}"
        if key in report:
            r = report[key]
            diffs = ", ".join(f"{n} {g:+.1f} sd" for n, g in r["largest_differences"][:4])
            lines.append(
                f"real or generated? ({label}) two-sample ROC AUC {r['auc']:.2f} "
                f"({r['n_generated']} generated vs {r['n_real']} held-out excerpts; real vs real "
                f"{r['real_vs_real_auc']:.2f}); largest differences: {diffs}"
            )
            if "grid_reference_auc" in r:
                lines.append(
                    f"  real music asked for the same grid ({r['grid_reference_n']} training "
                    f"excerpts, labels nearest each cell, at the plan's tempo) against the same "
                    f"held-out excerpts: {r['grid_reference_auc']:.2f}; the generated pieces "
                    f"against it: {r['generated_vs_grid_reference_auc']:.2f}"
                )
            if "auc_by_arousal" in r:
                lines.append(f"  each arousal level alone: {_by_level(r['auc_by_arousal'])}")
                if "grid_reference_auc_by_arousal" in r:
                    lines.append(
                        "  real music asked for the grid, each level alone: "
                        f"{_by_level(r['grid_reference_auc_by_arousal'])}"
                    )
    lines.append(
        f"speed: {s['tokens_per_s']:.0f} tokens/s, {s['duration_s']:.0f} s of music (3 pieces of "
        f"{s['duration_s'] / 3:.0f} s, arousal -0.8/0/+0.8) in {s['seconds']:.1f} s: "
        f"{s['real_time_factor']:.1f}x real time, slowest piece "
        f"{s['slowest_real_time_factor']:.1f}x; the {len(e['rows'])} emotion-grid pieces: "
        f"{e['real_time_factor']:.1f}x"
    )
    for x in report.get("examples", []):
        lines.append(
            f"example {x['name']}: v {x['valence']:+.1f} a {x['arousal']:+.1f}, {x['key']}, "
            f"{x['tempo_bpm']:.0f} bpm, {x['notes_per_s']} notes/s, mode {x['mode']:+.2f}, "
            f"{x['drum_hits']} drum hits, chords struck on cuts {x['cuts_struck_s']}"
        )
    return lines


def _fmt(d: dict) -> str:
    return ", ".join(f"{k}: {v:.2f}" for k, v in d.items())


def save(report: dict, path: Path) -> None:
    """Write the report as JSON (rows of every piece included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
