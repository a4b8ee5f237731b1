"""Objective measures on hand-written notes, and a miniature evaluation run on the debug model."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vemidi.errors import InvalidInputError
from vemidi.music.keys import key_name
from vemidi.music.tokenizer import Instrument, Note
from vemidi.training import measures
from vemidi.training.evaluate import EvalConfig, cut_alignment, emotion_control, random_cuts

P = Instrument.PIANO


def _scale(pitches: list[int], step_s: float = 0.5) -> list[Note]:
    return [Note(P, p, i * step_s, (i + 1) * step_s) for i, p in enumerate(pitches)]


def test_density_mode_and_entropy():
    major = _scale([60, 62, 64, 65, 67, 69, 71, 72, 67, 64, 60])
    minor = _scale([57, 59, 60, 62, 64, 65, 68, 69, 64, 60, 57])
    assert measures.notes_per_second(major, 5.5) == pytest.approx(2.0)
    assert measures.piece_mode(major) > 0 > measures.piece_mode(minor)
    assert measures.pitch_class_entropy([Note(P, 60, 0, 1)]) == 0.0
    assert measures.pitch_range(major) == 12
    drums_only = [Note(Instrument.DRUMS, 36, 0, 1)]
    assert measures.piece_mode(drums_only) == 0.0  # drums carry no pitch


def test_grooving_and_polyphony():
    bars = [(4.0 * i, 4) for i in range(4)]
    steady = [0.0, 1.0, 1.5, 2.0, 3.0]  # one bar's onsets (beats), repeated in every bar
    assert measures.grooving_similarity([4 * i + b for i in range(4) for b in steady], bars) == 1.0
    shifted = [4 * i + b + (0.25 if i % 2 else 0.0) for i in range(4) for b in steady]
    assert measures.grooving_similarity(shifted, bars) == pytest.approx(1 - 10 / 16)
    # Counted in beats: the same music gives the same figure at 120 and at 128 bpm (in 2 s
    # windows it did not: 2 s is one bar at 120 bpm and 4.27 beats at 128).
    from vemidi.training.two_sample import FEATURES, features

    onsets = [4 * i + b + (0.25 if i % 3 == 2 else 0.0) for i in range(12) for b in steady]
    index, twelve = FEATURES.index("grooving_similarity"), [(4.0 * i, 4) for i in range(12)]
    figures = []
    for bpm in (120.0, 128.0):
        notes = [Note(P, 60, b * 60 / bpm, (b + 0.25) * 60 / bpm) for b in onsets]
        row = features(notes, 48 * 60 / bpm, lambda t, bpm=bpm: t * bpm / 60, twelve)
        figures.append(row[index])
    assert figures[0] == pytest.approx(figures[1]) and 0.5 < figures[0] < 1.0
    # A bar lengthened by a fermata is compared on the beats both bars have.
    fermata = [(0.0, 4), (4.0, 6), (10.0, 4)]
    assert measures.grooving_similarity([0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13], fermata) == 1.0
    chord = [Note(P, p, 0.0, 1.0) for p in (60, 64, 67)]
    assert measures.polyphony(chord, 1.0) == pytest.approx(3.0)
    assert measures.nearest_distance([1.0], [1.5, 4.0]) == [0.5, 3.0]
    assert measures.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert measures.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert measures.spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_key_names():
    assert key_name(9 + 12) == "A minor" and key_name(None) == "open" and key_name(0) == "C major"


def test_surface_measures_on_hand_written_notes():
    blip = [Note(P, 60, 0.0, 0.02), Note(P, 64, 0.0, 1.0)]
    assert measures.short_note_share(blip) == 0.5
    doubled = [Note(P, 60, 0.0, 1.0), Note(Instrument.STRINGS, 60, 0.005, 1.0), Note(P, 67, 0, 1)]
    assert measures.unison_doubling_share(doubled) == pytest.approx(2 / 3)
    share, longest = measures.silence([Note(P, 60, 0.0, 1.0), Note(P, 62, 3.0, 4.0)], 4.0)
    assert share == pytest.approx(0.5, abs=0.01) and longest == pytest.approx(2.0, abs=0.02)
    chord = [Note(Instrument.BASS, 43, 2.0, 3.0), Note(P, 59, 2.02, 2.3), Note(P, 62, 2.03, 2.3)]
    assert measures.struck_chords(chord) == [2.0]
    assert measures.struck_chords(chord[:2]) == []  # two notes are not a chord
    late = [*chord[:2], Note(P, 62, 2.06, 2.3)]
    assert measures.struck_chords(late) == []  # the third note comes 60 ms late
    assert measures.strike_has_root_bass(chord, 2.01, 7) and not measures.strike_has_root_bass(
        chord, 2.01, 2
    )
    assert measures.hit_rate([2.0, 9.0], [2.03, 5.0]) == 0.5


def test_tone_shares_and_grid_distance():
    from vemidi.music import harmony

    notes = [Note(P, 60, 0, 1), Note(P, 62, 1, 2), Note(P, 61, 2, 3), Note(P, 67, 3, 4)]
    c_major = harmony.chord_id(0, "maj")
    chord, scale = measures.tone_shares(notes, lambda t: c_major, lambda t: 0)
    assert chord == pytest.approx(0.5) and scale == pytest.approx(0.75)
    assert measures.grid_distance_ms([1.0, 2.25], [0.5, 0.5]) == 0.0
    assert measures.grid_distance_ms([1.125], [0.5]) == pytest.approx(62.5)


def test_two_sample_test_separates_different_sets_and_not_equal_ones():
    import numpy as np

    from vemidi.training.two_sample import cross_validated_auc, features, mean_auc, roc_auc

    assert roc_auc(np.array([3.0, 4.0]), np.array([1, 0])) == 0.0
    assert roc_auc(np.array([3.0, 4.0]), np.array([0, 1])) == 1.0
    rng = np.random.default_rng(0)
    a, b = rng.normal(0, 1, (40, 5)), rng.normal(0, 1, (40, 5))
    assert abs(cross_validated_auc(a, b) - 0.5) < 0.2
    assert cross_validated_auc(a + 1.5, b) > 0.9
    splits = [cross_validated_auc(a, b, seed=s) for s in (0, 1, 2)]
    assert len(set(splits)) > 1 and mean_auc(a, b) == pytest.approx(np.mean(splits))
    row = features(_scale([60, 62, 64, 65, 67, 69, 71, 72]), 4.0, lambda t: 2 * t, [(0.0, 4)] * 2)
    assert row.shape == (20,) and np.isfinite(row).all()


def test_levels_that_miss_the_corpus_in_opposite_directions_pool_to_a_low_auc():
    """Why the report tests each arousal level alone: two levels, each told from the real rows
    at once, pooled into one cloud around them that a linear classifier cannot cut out."""
    import numpy as np

    from vemidi.training.two_sample import auc_by_level, cross_validated_auc

    rng = np.random.default_rng(1)
    real = rng.normal(0, 1, (60, 4))
    levels = np.repeat([-0.8, 0.8], 30)
    generated = rng.normal(0, 1, (60, 4))
    # one feature far below the corpus at one level (long notes), far above at the other
    generated[:, 0] += np.where(levels < 0, -4.0, 4.0)
    assert cross_validated_auc(generated, real) < 0.75
    by_level = auc_by_level(generated, levels, real)
    assert sorted(by_level) == [-0.8, 0.8] and min(by_level.values()) > 0.95


def test_level_bootstrap_sd_is_near_zero_for_separated_levels_and_grows_with_overlap():
    import numpy as np

    rng = np.random.default_rng(2)
    levels = np.repeat([-0.8, 0.0, 0.8], 30)
    apart = levels + rng.normal(0, 0.01, 90)  # no overlap between the levels
    assert measures.spearman(list(levels), list(apart)) > 0.94
    assert measures.level_bootstrap_sd(levels, apart) < 1e-3  # ties among repeats only
    close = 0.2 * levels + rng.normal(0, 0.1, 90)  # about the overlap of our mode figures
    sd = measures.level_bootstrap_sd(levels, close)
    assert 0.01 < sd < 0.06
    assert measures.level_bootstrap_sd(levels, rng.normal(0, 1, 90)) > sd


def test_random_cuts_are_4_to_10_s_apart():
    import numpy as np

    cuts = random_cuts(np.random.default_rng(0), 60.0)
    gaps = np.diff([0.0, *cuts])
    assert len(cuts) >= 5 and (gaps >= 4).all() and (gaps <= 10).all()


def test_miniature_evaluation_runs_on_the_debug_model(debug_model):
    config = EvalConfig(grid=(-0.8, 0.8), seeds=1, emotion_duration_s=4.0, cut_pieces=1,
                        cut_duration_s=12.0)  # fmt: skip
    emotion = emotion_control(debug_model, config)
    assert len(emotion["rows"]) == 4
    assert -1.0 <= emotion["arousal_notes_per_beat_spearman"] <= 1.0
    assert emotion["arousal_tempo_spearman"] == pytest.approx(1.0)  # the plan's tempo rule
    assert emotion["surface"]["grid_distance_ms"] < 0.5
    cuts = cut_alignment(debug_model, config)
    assert cuts["cuts"] >= 1 and cuts["struck_within_40ms"] == 1.0
    fresh = emotion_control(debug_model, replace(config, first_seed=7))
    assert [r["seed"] for r in fresh["rows"]] == [7] * 4
    assert [r["features"] for r in fresh["rows"]] != [r["features"] for r in emotion["rows"]]
    with pytest.raises(InvalidInputError, match="first_seed"):
        replace(config, first_seed=-1)
