"""Corpus pipeline and training on a tiny slice of the music21 corpus (real parsing, real SGD)."""

from __future__ import annotations

import dataclasses
import pickle

import numpy as np
import pytest

pytest.importorskip("music21")

from vemidi.music import harmony
from vemidi.music import tokenizer as tk
from vemidi.music.keys import best_key, mode_strength
from vemidi.music.model import build_model, debug_config
from vemidi.training.corpus import (
    augment,
    beat_chords,
    corpus_files,
    is_excluded,
    parse_corpus,
    plan_inputs,
    split_by_work,
    transpose_chords,
)
from vemidi.training.dataset import LabelScale, WindowSampler
from vemidi.training.train import (
    TrainConfig,
    _lr_at,
    evaluate_batches,
    export,
    fit_label_scale,
    prepare_data,
    read_data_cache,
    train,
)

C_MAJOR = np.array([60, 62, 64, 65, 67, 69, 71, 72, 64, 67, 60])
A_MINOR = np.array([57, 59, 60, 62, 64, 65, 68, 69, 60, 64, 57])


@pytest.fixture(scope="module")
def works(tmp_path_factory):
    files = corpus_files(["bach"])[:8]
    return parse_corpus(files, tmp_path_factory.mktemp("cache"), workers=1)


def test_mode_strength_and_key():
    ones = np.ones(len(C_MAJOR))
    assert mode_strength(C_MAJOR, ones) > 0 > mode_strength(A_MINOR, ones)
    assert best_key(C_MAJOR, ones) == 0  # C major
    assert best_key(A_MINOR, ones) == 12 + 9  # A minor


def test_restricted_collections_are_excluded():
    from pathlib import Path

    import music21

    essen = sorted((Path(music21.__file__).parent / "corpus" / "essenFolksong").glob("*"))
    scores = [p for p in essen if p.suffix in (".abc", ".krn")]
    if not scores:
        pytest.skip("this music21 build ships no Essen files")
    assert is_excluded(scores[0])


def test_parsed_chorales_have_voices_chords_and_keys(works):
    assert len(works) >= 6
    work = works[0]
    assert work.n_voices >= 4 and len(work.chords_q) > 0  # fermata chords become boundaries
    assert set(np.unique(work.voices)) == set(range(work.n_voices))
    rng = np.random.default_rng(0)
    example = augment(work, rng)
    assert example.tokens[0] in (tk.LESS_INSTRUMENTS, tk.MORE_INSTRUMENTS)
    assert tk.CHORD in example.tokens
    decoded = tk.decode([int(t) for t in example.tokens[1:]])
    assert len(decoded.notes) > 16
    assert 0 <= example.key < 24
    assert len(example.meter) == len(example.chord) == len(example.tokens)
    # Chorales are in 4/4 and start on a bar line or an upbeat: every note starts on the grid.
    beats = [n.start_s / (tk.TICK_S * tk.TICKS_PER_BEAT) for n in decoded.notes]
    assert np.mean([abs(b * 4 - round(b * 4)) < 1e-6 for b in beats]) == 1.0


def test_beat_chords_label_the_harmony(works):
    chords = beat_chords(works[0])
    assert len(chords) >= 16
    qualities = {harmony.chord_quality(int(c)) for c in chords if c != harmony.NO_CHORD}
    assert "maj" in qualities
    # The last beat of a chorale is its tonic chord (a root-position cadence).
    pitches = works[0].pitches[works[0].ends_q >= works[0].ends_q.max() - 1e-6]
    assert harmony.chord_root(int(chords[-1])) == int(pitches.min()) % 12
    moved = transpose_chords(np.array([harmony.chord_id(11, "min"), harmony.NO_CHORD]), 2)
    assert moved.tolist() == [harmony.chord_id(1, "min"), harmony.NO_CHORD]


def test_plan_inputs_count_ticks_from_the_bar_line():
    tokens = np.array(
        [tk.MORE_INSTRUMENTS, tk.shift_token(4), tk.shift_token(14), tk.shift_token(2)]
    )
    bars_q = np.array([0.0, 4.0])  # 4/4 bars
    meter, chord = plan_inputs(tokens, bars_q, np.array([7] * 8))
    # times 0, 4, 18 (bar 2, tick 2) and 20 (bar 2, tick 4); 4-beat bars
    assert meter.tolist() == [96, 100, 98, 100]
    assert chord.tolist() == [7, 7, 7, 7]


def test_split_is_by_work_and_seeded(works):
    a_train, a_test = split_by_work(works, 0.25, seed=1)
    _, b_test = split_by_work(works, 0.25, seed=1)
    assert [w.source for w in a_test] == [w.source for w in b_test]
    assert not {w.source for w in a_train} & {w.source for w in a_test}


def test_window_sampler_balances_and_drops_conditions(works):
    examples = [augment(w, np.random.default_rng(i)) for i, w in enumerate(works)]
    scale = LabelScale.fit(examples)
    sampler = WindowSampler(examples, scale, 64, cond_dropout=0.5, no_boundary_prob=0.5)
    batch = sampler.sample(64, np.random.default_rng(0))
    assert batch.inputs.shape == batch.targets.shape == batch.offsets.shape == (64, 64)
    assert batch.plan.shape == (64, 64, 2) and batch.plan[..., 1].max() <= harmony.NO_CHORD
    assert 0.2 < np.isnan(batch.valence).mean() < 0.8
    assert (batch.offsets >= 0).all() and (batch.offsets <= 8).all()
    assert np.nanmin(batch.valence) >= -1 and np.nanmax(batch.valence) <= 1


def test_more_share_sets_how_often_full_textures_are_drawn(works):
    examples = [augment(w, np.random.default_rng(i)) for i, w in enumerate(works)]
    for example in examples[::2]:  # half of them marked as works for fewer instruments
        example.tokens[0] = tk.LESS_INSTRUMENTS
    scale = LabelScale.fit(examples)
    more = np.array([int(e.tokens[0]) == tk.MORE_INSTRUMENTS for e in examples])
    assert 0 < more.sum() < len(examples)
    for share in (0.5, 0.9):
        sampler = WindowSampler(examples, scale, 64, more_share=share)
        assert sampler.probs[more].sum() == pytest.approx(share)
    with pytest.raises(ValueError, match="more_share"):
        TrainConfig(more_share=0.0)


def test_only_multi_voice_training_fits_the_label_scale_on_those_works(works, tmp_path):
    examples = [augment(w, np.random.default_rng(i)) for i, w in enumerate(works)]
    for i, example in enumerate(examples[::2]):  # a thinner half, for fewer instruments
        example.tokens[0] = tk.LESS_INSTRUMENTS
        examples[2 * i] = dataclasses.replace(example, notes_per_beat=example.notes_per_beat / 3)
    more = [e for e in examples if int(e.tokens[0]) == tk.MORE_INSTRUMENTS]
    whole, drawn = fit_label_scale(examples, 0.5), fit_label_scale(examples, 1.0)
    assert whole == LabelScale.fit(examples) and drawn == LabelScale.fit(more)
    assert drawn.density_center > whole.density_center
    # The median multi-voice example is neutral on its own scale, aroused on the corpus's.
    median = float(np.median([e.notes_per_beat for e in more]))
    assert abs(drawn.arousal(median)) < 0.05 < whole.arousal(median)
    # A cache written with the corpus's scale is read back with the drawn works' scale.
    config = TrainConfig(more_share=1.0)
    with (tmp_path / "data.pkl").open("wb") as f:
        pickle.dump((examples, examples[:1], whole), f)
    assert prepare_data([], config, tmp_path / "data.pkl")[2] == drawn


def test_label_scale_of_alike_works_saturates_instead_of_dividing_by_zero(works):
    example = augment(works[0], np.random.default_rng(0))
    scale = LabelScale.fit([example, example])
    assert scale.density_scale > 0 and scale.mode_scale > 0
    assert scale.arousal(example.notes_per_beat) == 0.0
    assert scale.arousal(example.notes_per_beat * 2) == 1.0


def test_tiny_training_run_lowers_the_loss_and_resumes(works, tmp_path):
    cfg = dataclasses.replace(debug_config(), context=128)
    config = TrainConfig(
        model=cfg, batch_size=4, lr=3e-3, warmup_steps=5, max_steps=40, variants=2,
        held_out=0.25, checkpoint_every_s=0.0, eval_batches=2, precision="fp32",
    )  # fmt: skip
    _, test, scale = prepare_data(works, config, tmp_path / "data.pkl")
    sampler = WindowSampler(test, scale, cfg.context - cfg.prefix_len)
    before = evaluate_batches(build_model(cfg, seed=config.seed), sampler.fixed_batches(4, 2))
    metrics = train(works, config, tmp_path)
    assert metrics["step"] == 40
    assert metrics["loss"] < before["loss"] - 0.5
    rows = (tmp_path / "log.csv").read_text().splitlines()
    assert rows[0].startswith("step,tokens")
    assert rows[-1].startswith("40,") and not rows[-1].endswith(",")  # with held-out figures
    # Resuming a finished run does no more steps and reproduces the metrics.
    again = train(works, config, tmp_path)
    assert again["step"] == 40 and again["loss"] == pytest.approx(metrics["loss"], abs=1e-5)
    assert (tmp_path / "log.csv").read_text().splitlines() == rows  # nothing more to log
    out = export(tmp_path, tmp_path / "tiny.pt")
    from vemidi.weights import load_music_model

    loaded = load_music_model(str(out))
    assert loaded.model.cfg.n_keys == 24 and "label_scale" in loaded.meta
    assert loaded.model.cfg.n_chords == harmony.N_CHORDS


def test_a_run_stopped_by_time_between_log_rows_still_logs_its_last_step(works, tmp_path):
    config = TrainConfig(
        model=dataclasses.replace(debug_config(), context=128), batch_size=2, max_steps=1000,
        max_minutes=1e-5, variants=1, held_out=0.25, eval_batches=1, precision="fp32",
    )  # fmt: skip
    metrics = train(works, config, tmp_path)
    assert 0 < metrics["step"] < 50  # a 0.6 ms budget: one step, before the first 50-step row
    header, *rows = (tmp_path / "log.csv").read_text().splitlines()
    assert len(rows) == 1
    last = dict(zip(header.split(","), rows[0].split(","), strict=True))
    assert int(last["step"]) == metrics["step"]
    assert float(last["heldout_loss"]) == pytest.approx(metrics["loss"], abs=1e-4)


def test_training_curve_reads_rows_with_either_loss_left_blank(tmp_path):
    from PIL import Image

    from vemidi.training.report import training_curve

    header = "step,tokens,elapsed_s,lr,train_loss,tokens_per_s,heldout_loss,heldout_accuracy"
    (tmp_path / "log.csv").write_text(
        f"{header}\n50,400,10.0,3.00e-04,2.5000,40,,\n100,800,20.0,2.00e-04,2.1000,40,2.2000,"
        "0.4000\n100,800,21.0,2.00e-04,,,2.1900,0.4100\n"  # a row without training figures
    )
    training_curve(tmp_path / "log.csv", tmp_path / "curve.png")
    assert Image.open(tmp_path / "curve.png").size[0] > 300


def test_evaluate_joins_the_logs_of_continued_runs_into_one_curve(tmp_path):
    """``--training-log a.csv b.csv``: b continued a, so its tokens are counted on from a's end
    (the plotted lines are read back from the figure)."""
    import matplotlib.pyplot as plt

    from vemidi.training import report

    header = "step,tokens,elapsed_s,lr,train_loss,tokens_per_s,heldout_loss,heldout_accuracy"
    logs = [tmp_path / "a.csv", tmp_path / "b.csv"]
    logs[0].write_text(f"{header}\n50,400000,10,3e-4,2.5,40,,\n100,800000,20,2e-4,2.1,40,2.2,0.4\n")
    logs[1].write_text(f"{header}\n50,400000,10,1e-4,1.9,40,2.0,0.5\n")
    drawn = []
    real_savefig = plt.Figure.savefig

    def keep(fig, *args, **kwargs):  # the lines as drawn, before the figure is closed
        drawn.extend(line.get_xydata().tolist() for line in fig.axes[0].get_lines())
        return real_savefig(fig, *args, **kwargs)

    plt.Figure.savefig = keep
    try:
        report.training_curve(logs, tmp_path / "curve.png")
    finally:
        plt.Figure.savefig = real_savefig
    assert [[0.4, 2.5], [0.8, 2.1], [1.2, 1.9]] in drawn  # train loss, b counted on from 0.8 M
    assert [[0.8, 2.2], [1.2, 2.0]] in drawn  # held-out
    assert [[0.8, 0.0], [0.8, 1.0]] in drawn  # the dotted line where b starts
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_learning_rate_decays_along_the_budget_spent_first():
    config = TrainConfig(lr=1e-3, warmup_steps=10, max_steps=1010, max_minutes=1.0)
    assert _lr_at(4, config) == pytest.approx(5e-4)  # warm-up
    assert _lr_at(10, config) == pytest.approx(1e-3)
    assert _lr_at(510, config, elapsed_s=30.0) == pytest.approx(5.5e-4)  # both half spent
    assert _lr_at(10, config, elapsed_s=60.0) == pytest.approx(1e-4)  # time spent: the floor
    assert _lr_at(1010, config) == pytest.approx(1e-4)  # steps spent


def test_training_from_a_gzipped_data_cache_parses_nothing(works, tmp_path):
    """``vemidi train --data`` takes a cache made elsewhere, gzip-compressed as it travels to a
    GPU machine: no corpus parsing (music21 is not needed there), and the export composes."""
    import gzip
    import shutil
    import subprocess
    import sys

    from vemidi.weights import load_music_model

    prepare_data(works, TrainConfig(variants=1, held_out=0.25), tmp_path / "data.pkl")
    with (tmp_path / "data.pkl").open("rb") as f, gzip.open(tmp_path / "data.gz", "wb") as g:
        shutil.copyfileobj(f, g)
    plain, packed = read_data_cache(tmp_path / "data.pkl"), read_data_cache(tmp_path / "data.gz")
    assert [len(part) for part in packed[:2]] == [len(part) for part in plain[:2]]
    assert packed[2] == plain[2]
    out = subprocess.run(
        [sys.executable, "-m", "vemidi", "train", "--tiny", "--data", str(tmp_path / "data.gz"),
         "--run-dir", str(tmp_path / "run"), "--cache-dir", str(tmp_path / "corpus"),
         "--steps", "3", "--batch-size", "2", "--context", "128", "--checkpoint-every", "0",
         "--precision", "fp32", "--threads", "1", "--dropout", "0.1",
         "--export", str(tmp_path / "m.pt")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert "parsing corpus" not in out.stderr and not (tmp_path / "corpus").exists()
    assert "step 3: held-out loss" in out.stdout
    loaded = load_music_model(str(tmp_path / "m.pt"))
    assert loaded.meta["steps"] == 3 and loaded.model.cfg.dropout == 0.1


def test_warm_start_keeps_what_fits_and_starts_the_plan_at_zero(tmp_path):
    import torch

    from vemidi.training.train import warm_start
    from vemidi.weights import save_checkpoint

    old_cfg = dataclasses.replace(debug_config(), n_meter=0, n_chords=0)
    old = build_model(old_cfg, seed=5)
    save_checkpoint(tmp_path / "old.pt", old)
    new = build_model(debug_config(), seed=6)
    fresh = warm_start(new, tmp_path / "old.pt")
    assert fresh == ["chord_emb.weight", "meter_emb.weight"]
    assert torch.equal(new.tok_emb.weight, old.tok_emb.weight.to(torch.bfloat16).float())
    assert not new.chord_emb.weight.any()


def test_evaluation_report_on_real_held_out_excerpts(works, tmp_path):
    """The whole report, two-sample test included, on the debug model and a tiny data cache."""
    from vemidi.training.evaluate import EvalConfig
    from vemidi.training.report import run_evaluation, summary_lines

    config = TrainConfig(model=debug_config(), variants=1, held_out=0.5)
    prepare_data(works, config, tmp_path / "data.pkl")
    eval_config = EvalConfig(grid=(-0.8, 0.8), seeds=2, emotion_duration_s=6.0, cut_pieces=1,
                             cut_duration_s=12.0, real_excerpts=20,
                             speed_duration_s=6.0)  # fmt: skip
    report = run_evaluation("debug", eval_config, tmp_path / "data.pkl", None, None)
    realism = report["realism"]
    assert realism["n_real"] >= 4 and realism["n_generated"] == 8
    assert 0.0 <= realism["auc"] <= 1.0 and 0.0 <= realism["real_vs_real_auc"] <= 1.0
    assert report["cuts"]["struck_within_40ms"] == 1.0
    # Without the rule nothing puts the bass on the planned root (an untrained model).
    assert report["cuts_model_only"]["rule"] is False
    assert report["cuts_model_only"]["bass_on_root"] < 1.0
    assert realism["grid_reference_n"] >= 4 and 0.0 <= realism["grid_reference_auc"] <= 1.0
    assert 0.0 <= realism["generated_vs_grid_reference_auc"] <= 1.0
    assert sorted(realism["auc_by_arousal"]) == [-0.8, 0.8]
    assert sorted(realism["grid_reference_auc_by_arousal"]) == [-0.8, 0.8]
    text = "\n".join(summary_lines(report))
    assert "two-sample ROC AUC" in text and "struck chord within 40 ms" in text
    assert "real music asked for the same grid" in text
    assert "each arousal level alone: -0.8 " in text
    # The tonal anchor (off by default) measured beside the default.
    assert "emotion, with the tonal anchor at weight 1" in text and "(anchor on)" in text
    assert report["realism_anchor"]["n_generated"] == 8


def test_grid_reference_takes_the_nearest_labels_at_the_plans_tempo(works, tmp_path):
    """Real excerpts asked for the grid: per cell, distinct works whose labels lie nearest it
    (ties broken by at most the jitter), each played at the plan's tempo for the cell."""
    from vemidi.music.plan import tempo_for_arousal
    from vemidi.training.evaluate import EvalConfig, grid_reference_excerpts

    config = TrainConfig(model=debug_config(), variants=2, held_out=0.25)
    prepare_data(works, config, tmp_path / "data.pkl")
    train, _, scale = read_data_cache(tmp_path / "data.pkl")
    labels = np.array([(scale.valence(e.mode), scale.arousal(e.notes_per_beat)) for e in train])
    grid = EvalConfig(grid=(-0.8, 0.8), seeds=2, emotion_duration_s=6.0)
    rows = grid_reference_excerpts(train, scale, grid)
    assert len(rows) == 8
    for cell in {(r["valence"], r["arousal"]) for r in rows}:
        chosen = [r for r in rows if (r["valence"], r["arousal"]) == cell]
        assert len(chosen) == 2 and len({r["source"] for r in chosen}) == 2
        distances = ((labels - cell) ** 2).sum(axis=1)
        sources = np.array([e.source for e in train])
        for i, r in enumerate(chosen):  # the second from the works the first is not from
            assert r["tempo_bpm"] == tempo_for_arousal(cell[1])
            allowed = sources != chosen[0]["source"] if i else np.ones(len(train), bool)
            distance = (r["label_valence"] - cell[0]) ** 2 + (r["label_arousal"] - cell[1]) ** 2
            assert distance <= distances[allowed].min() + 0.05 + 1e-9
