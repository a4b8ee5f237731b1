"""The hub profile's real loading and inference code, on tiny random models saved by the tests;
offline, the real Hub ids fail with one clear error."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.fixture(scope="module")
def tiny_ids(tmp_path_factory):
    from tiny_hub import build_all

    return build_all(tmp_path_factory.mktemp("tiny-hub"))


def test_hub_profile_analyses_a_video(tiny_ids, story):
    from vemidi.emotion.analyze import AnalysisConfig, VideoAnalyzer
    from vemidi.emotion.hub import hub_models

    analysis = VideoAnalyzer(AnalysisConfig(min_cut_gap_s=1.0), hub_models(tiny_ids)).analyze(story)
    assert analysis.profile == "hub" and analysis.cuts_s == pytest.approx((3.0,), abs=0.05)
    for name, result in analysis.modalities.items():
        assert sum(result.probs.values()) == pytest.approx(1.0), name
        assert 0.0 <= result.confidence <= 1.0
    faces, speech, text = (analysis.modalities[k] for k in ("faces", "speech", "text"))
    assert faces.confidence > 0 and faces.evidence["key_frame"]["faces"]  # MTCNN + the ViT
    assert speech.evidence["transcript"]  # random words, but through the real ASR pipeline
    assert "birthday" in text.evidence["text"].lower()  # OCR, then the text classifier
    assert "clip" in analysis.modalities["visual"].evidence
    assert "audioset" in analysis.modalities["audio"].evidence
    assert len(analysis.segments) == 2 and -1 <= analysis.valence <= 1


def test_hub_text_emotion_drops_neutral(tiny_ids):
    from vemidi.emotion.hub import HubModels

    models = HubModels(tiny_ids)
    result = models.text_emotion().analyze("I am very happy today")
    assert set(result.probs) == {"anger", "disgust", "fear", "joy", "sadness", "surprise"}
    assert 0 < result.confidence < 1 and "neutral" in result.evidence
    assert models.text_emotion().analyze("...").confidence == 0.0


def test_offline_hub_is_one_clear_error(story):
    env_cmd = [sys.executable, "-m", "vemidi", "analyze", str(story), "--models", "hub"]
    result = subprocess.run(env_cmd, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "HF_HUB_OFFLINE": "1"})  # fmt: skip
    assert result.returncode == 2
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert "trpakov/vit-face-expression" in result.stderr and "embedded" in result.stderr
