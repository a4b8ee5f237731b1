"""Objective measures on hand-written notes, and a miniature evaluation run on the debug model."""

from __future__ import annotations

import math

import pytest

from vemidi.music import measures
from vemidi.music.evaluate import EvalConfig, cut_alignment, emotion_control, random_cuts
from vemidi.music.keys import KeyPrior, key_for_valence, key_name, pick_tonic
from vemidi.music.logits import DecodeState
from vemidi.music.tokenizer import Instrument, Note

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


def test_long_sonorities_need_two_long_notes_together():
    notes = [
        Note(P, 60, 1.0, 2.5), Note(P, 64, 1.01, 2.5),  # a held chord at 1 s
        Note(P, 67, 3.0, 3.2), Note(P, 72, 3.0, 3.2),  # short: not a sonority
        Note(P, 48, 5.0, 7.0),  # long but alone
    ]  # fmt: skip
    assert measures.long_sonority_onsets(notes) == [1.0]
    assert measures.nearest_distance([1.0], [1.5, 4.0]) == [0.5, 3.0]


def test_key_change_rate_and_grooving():
    steady = _scale([60, 64, 67, 72] * 16, 0.25)
    assert measures.key_change_rate(steady, 16.0) == 0.0
    assert measures.grooving_similarity(steady, 16.0) == pytest.approx(1.0)


def test_polyphony_overlap_and_spearman():
    chord = [Note(P, p, 0.0, 1.0) for p in (60, 64, 67)]
    assert measures.polyphony(chord, 1.0) == pytest.approx(3.0)
    assert measures.overlap_area([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)
    assert measures.overlap_area([0, 0, 0.1], [10, 10, 9.9]) == 0.0
    assert measures.spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert measures.spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert measures.spearman([1, 1, 1], [1, 2, 3]) == 0.0


def test_keys_for_valence_and_prior():
    tonic = pick_tonic(3)
    assert tonic == pick_tonic(3) and 0 <= tonic < 12
    assert key_for_valence(0.8, 2, 0.25) == 2
    assert key_for_valence(-0.8, 2, 0.25) == 14
    assert key_for_valence(0.1, 2, 0.25) is None
    assert key_for_valence(math.nan, 2, 0.25) is None
    assert key_name(9 + 12) == "A minor" and key_name(None) == "open"
    import torch

    from vemidi.music import tokenizer as tk

    prior = KeyPrior(2.0)
    prior.key = 0  # C major
    out = prior(torch.zeros(tk.VOCAB_SIZE), DecodeState())
    c, c_sharp = (tk.note_token(tk.ON, P, p) for p in (60, 61))
    assert out[c] == 0.0 and out[c_sharp] < -1.0
    drum = tk.note_token(tk.ON, Instrument.DRUMS, 61)
    assert out[drum] == 0.0


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
    assert -1.0 <= emotion["arousal_spearman"] <= 1.0
    cuts = cut_alignment(debug_model, config)
    assert cuts["cuts"] >= 1 and 0.0 <= cuts["chord_within_1s"] <= 1.0
