"""The full evaluation run: experiments, quadrant examples, training curve, readable report."""

from __future__ import annotations

import json
import pickle
import platform
import time
from pathlib import Path

import numpy as np

from vemidi.music import evaluate as ev
from vemidi.music import measures

QUADRANTS = {  # name: (valence, arousal)
    "happy-excited": (0.8, 0.8),
    "calm-content": (0.8, -0.8),
    "tense-angry": (-0.8, 0.8),
    "sad-calm": (-0.8, -0.8),
}
EXAMPLE_DURATION_S = 24.0
EXAMPLE_CUTS_S = (6.0, 12.0, 18.0)


def heldout(model, data_path: Path, n_batches: int = 16) -> tuple[dict, list]:
    """Held-out next-token accuracy and perplexity, and the held-out examples."""
    from vemidi.music.dataset import LabelScale, WindowSampler
    from vemidi.music.train import evaluate_batches

    with data_path.open("rb") as f:
        _, test, scale = pickle.load(f)
    if not isinstance(scale, LabelScale):
        raise ValueError(f"{data_path} is not a training data cache")
    length = model.cfg.context - model.cfg.prefix_len
    sampler = WindowSampler(
        test, scale, length, model.cfg.max_offset_s, use_key=model.cfg.n_keys > 0
    )
    metrics = evaluate_batches(model, sampler.fixed_batches(8, n_batches))
    metrics["windows"] = min(len(test), 8 * n_batches)
    return metrics, test


def write_examples(model_name: str, out_midi: Path, out_audio: Path | None) -> list[dict]:
    """One piece per valence/arousal quadrant with cuts at known times (MIDI, optional WAV)."""
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
        title = f"{name} (valence {valence:+.1f}, arousal {arousal:+.1f}, {summary['keys'][0]})"
        rolls.append((title, notes, EXAMPLE_DURATION_S, list(EXAMPLE_CUTS_S)))

        rows.append(
            {
                "name": name,
                "valence": valence,
                "arousal": arousal,
                "key": summary["keys"][0],
                "notes_per_s": round(measures.notes_per_second(notes, EXAMPLE_DURATION_S), 2),
                "mode": round(measures.piece_mode(notes), 3),
                "cuts_hit_s": summary["cuts_hit_s"],
            }
        )
    save_grid(rolls, out_midi / "quadrants.png")
    return rows


def training_curve(log_csv: Path, out_png: Path) -> None:
    """Plot train and held-out loss against tokens seen."""
    import csv

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = list(csv.DictReader(log_csv.open()))
    tokens = np.array([float(r["tokens"]) / 1e6 for r in rows])
    train = np.array([float(r["train_loss"]) for r in rows])
    held = [
        (t, float(r["heldout_loss"]))
        for t, r in zip(tokens, rows, strict=True)
        if r["heldout_loss"]
    ]
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    ax.plot(tokens, train, label="train (CHORD-weighted)")
    if held:
        ax.plot(*zip(*held, strict=True), "o-", label="held-out")
    ax.set_xlabel("training tokens (millions)")
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

    if data_path is not None and data_path.is_file():
        report["heldout"], test = heldout(model, data_path)
    else:
        test = []
    report["emotion"] = ev.emotion_control(model, config, progress=stage("conditioned"))
    report["emotion_nulled"] = ev.emotion_control(
        model, config, nulled=True, progress=stage("nulled")
    )
    report["emotion_no_priors"] = ev.emotion_control(
        model, ev.without_priors(config), progress=stage("no priors")
    )
    report["cuts"] = ev.cut_alignment(model, config, progress=stage("cuts"))
    report["cuts_model_only"] = ev.cut_alignment(
        model, config, guarantee=False, progress=stage("cuts, model alone")
    )
    report["cuts_ablation"] = ev.cut_alignment(
        model, config, boundaries=False, progress=stage("cuts, no boundary signal")
    )
    if test:
        generated = [row["statistics"] for row in report["emotion"]["rows"]]
        report["statistics"] = ev.statistics_overlap(generated, ev.corpus_statistics(test))
    report["speed"] = ev.speed(model)
    if examples_dir is not None:
        report["examples"] = write_examples(loaded.name, examples_dir, audio_dir)
    return report


def summary_lines(report: dict) -> list[str]:
    """The report as short readable lines (printed by the CLI and the benchmark)."""
    e, n, o = report["emotion"], report["emotion_nulled"], report["emotion_no_priors"]
    sampling = report["config"]["sampling"]
    c, a, s = report["cuts"], report["cuts_ablation"], report["speed"]
    m = report.get("cuts_model_only", c)
    lines = [f"model {report['model']} ({report['parameters'] / 1e6:.2f} M parameters)"]
    if "heldout" in report:
        h = report["heldout"]
        lines.append(
            f"held-out: accuracy {h['accuracy']:.3f}, perplexity {h['perplexity']:.2f} "
            f"({h['loss']:.3f} nats/token, {h['windows']} windows)"
        )
    lines += [
        f"emotion control (key prior {sampling['key_prior']:g}, density prior "
        f"{sampling['density_prior']:g}): "
        f"arousal->notes/s Spearman {e['arousal_spearman']:.2f}, "
        f"valence->mode Spearman {e['valence_spearman']:.2f}, key changes per 8 s window "
        f"{e['key_change_rate']:.2f}",
        f"  mean mode by valence {_fmt(e['mean_mode_by_valence'])}; notes/s by arousal "
        f"{_fmt(e['mean_notes_per_s_by_arousal'])}",
        f"  the model alone (priors off): arousal {o['arousal_spearman']:.2f}, valence "
        f"{o['valence_spearman']:.2f}, key changes per window {o['key_change_rate']:.2f}",
        f"  conditions nulled: arousal {n['arousal_spearman']:.2f}, valence "
        f"{n['valence_spearman']:.2f}",
        f"cut alignment ({c['cuts']} cuts): CHORD within 1 s {c['chord_within_1s']:.0%} "
        f"({c['forced_share']:.0%} of cuts forced by the cut-chord rule); long sonority within "
        f"1 s {c['long_sonority_within_1s']:.0%}, median distance to one "
        f"{c['median_distance_to_long_sonority_s']:.2f} s",
        f"  model alone (no rule): CHORD within 1 s {m['chord_within_1s']:.0%}, long sonority "
        f"{m['long_sonority_within_1s']:.0%}; without the boundary signal: CHORD "
        f"{a['chord_within_1s']:.0%}, long sonority {a['long_sonority_within_1s']:.0%}; "
        f"random times: CHORD {c['chance_chord_within_1s']:.0%}, long sonority "
        f"{c['chance_long_sonority_within_1s']:.0%}",
    ]
    if "statistics" in report:
        parts = [
            f"{k} {v['overlap']:.2f} ({v['generated_mean']:.2f} vs {v['heldout_mean']:.2f})"
            for k, v in report["statistics"].items()
        ]
        lines.append("overlap with held-out (generated vs held-out mean): " + ", ".join(parts))
    lines.append(
        f"speed: {s['tokens_per_s']:.0f} tokens/s, {s['duration_s']:.0f} s of music (3 pieces of "
        f"60 s, arousal -0.8/0/+0.8) in {s['seconds']:.1f} s: {s['real_time_factor']:.1f}x real "
        f"time, slowest piece {s.get('slowest_real_time_factor', 0.0):.1f}x; the "
        f"{len(e['rows'])} emotion-grid pieces: {e.get('real_time_factor', 0.0):.1f}x"
    )
    for x in report.get("examples", []):
        lines.append(
            f"example {x['name']}: v {x['valence']:+.1f} a {x['arousal']:+.1f}, key {x['key']}, "
            f"{x['notes_per_s']} notes/s, mode {x['mode']:+.2f}, cuts hit {x['cuts_hit_s']}"
        )
    return lines


def _fmt(d: dict) -> str:
    return ", ".join(f"{k}: {v:.2f}" for k, v in d.items())


def save(report: dict, path: Path) -> None:
    """Write the report as JSON (rows of every piece included)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=1))
