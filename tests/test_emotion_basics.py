"""Ekman <-> valence/arousal, late fusion, and the feature-based audio and colour analyzers."""

from __future__ import annotations

import numpy as np
import pytest

from vemidi.emotion.affect import EMOTIONS, affect_table, from_valence_arousal, to_valence_arousal
from vemidi.emotion.audio import analyze_audio
from vemidi.emotion.fusion import ModalityResult, absent, fuse
from vemidi.emotion.visual import analyze_visual


def one(emotion: str) -> dict[str, float]:
    return {e: float(e == emotion) for e in EMOTIONS}


@pytest.mark.parametrize(
    ("probs", "want"),
    [
        (one("joy"), (0.80, 0.48)),
        (one("sadness"), (-0.79, -0.80)),
        ({e: 1 / 6 for e in EMOTIONS}, (-0.30, 0.35)),
        ({**one("joy"), "joy": 0.6, "surprise": 0.4}, (0.64, 0.61)),
    ],
)
def test_emsync_mapping_examples(probs, want):
    assert to_valence_arousal(probs) == pytest.approx(want, abs=0.01)


def test_table_is_rescaled_to_plus_minus_08():
    table = affect_table()
    for column in (table.valence, table.arousal):
        assert column.min() == pytest.approx(-0.8) and column.max() == pytest.approx(0.8)


def test_reverse_mapping_picks_the_nearest_emotion():
    assert max(from_valence_arousal(0.8, 0.5).items(), key=lambda kv: kv[1])[0] == "joy"
    assert max(from_valence_arousal(-0.8, -0.8).items(), key=lambda kv: kv[1])[0] == "sadness"
    assert sum(from_valence_arousal(0.0, 0.0).values()) == pytest.approx(1.0)


def test_fusion_weights_by_confidence_and_drops_absent():
    faces = ModalityResult(one("joy"), 1.0)
    speech = ModalityResult(one("sadness"), 0.25)
    fused = fuse({"faces": faces, "speech": speech, "text": absent("no text")})
    assert fused.probs["joy"] == pytest.approx(0.8) and fused.probs["sadness"] == pytest.approx(0.2)
    assert "text" not in fused.evidence["weights"]
    nothing = fuse({"faces": absent("no face")})
    assert nothing.confidence == 0.0


def _tones(pitches, note_s, gain, rate=16000):
    out = []
    for p in pitches:
        t = np.arange(int(note_s * rate)) / rate
        f = 440 * 2 ** ((p - 69) / 12)
        envelope = np.exp(-3 * t)
        out.append(gain * envelope * np.sin(2 * np.pi * f * t))
    return np.concatenate(out).astype(np.float32)


def test_audio_analyzer_separates_happy_from_sad():
    happy = _tones([60, 64, 67, 72, 67, 64] * 12, 0.12, 0.8)  # fast, loud, major
    sad = _tones([57, 60, 64, 57, 60, 64, 56, 57], 1.1, 0.05)  # slow, quiet, minor
    h, s = analyze_audio(happy), analyze_audio(sad)
    assert h.evidence["arousal"] > s.evidence["arousal"]
    assert h.evidence["valence"] > 0 > s.evidence["valence"]
    assert analyze_audio(np.zeros(16000, np.float32)).confidence == 0.0
    assert analyze_audio(np.zeros(0, np.float32)).confidence == 0.0


def test_visual_analyzer_bright_warm_vs_dark_cold():
    warm = np.zeros((48, 64, 3), np.uint8)
    warm[:] = (250, 200, 60)
    cold = np.zeros((48, 64, 3), np.uint8)
    cold[:] = (20, 30, 60)
    w, c = analyze_visual([warm] * 4), analyze_visual([cold] * 4)
    assert w.evidence["valence"] > 0 > c.evidence["valence"]
    assert w.probs["joy"] > c.probs["joy"]
    flicker = analyze_visual([warm, cold] * 4)
    assert flicker.evidence["motion"] > 0.3 and flicker.evidence["arousal"] > c.evidence["arousal"]
