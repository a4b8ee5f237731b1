"""The ``hub`` profile: larger models from the Hugging Face Hub, all through transformers.

For online hosts (Hugging Face Spaces). Image content: CLIP ViT-B/32 zero-shot against one prompt
per Ekman emotion; speech: Whisper small; text (speech and on-screen): j-hartmann's
DistilRoBERTa emotion classifier; faces: MTCNN boxes (as embedded) classified by trpakov's ViT
face-expression model; audio: an AudioSet AST whose mood and vocal-sound classes map to Ekman.
Offline, the first use of a model that is not in the Hugging Face cache raises one
:class:`ModelLoadError` that names it and says how to get it. Model ids can be replaced (tests
use tiny random models they save locally).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from vemidi.emotion.affect import EMOTIONS
from vemidi.emotion.faces import FER_LABELS
from vemidi.emotion.fusion import ModalityResult, absent

HUB_MODELS = {
    "image": "openai/clip-vit-base-patch32",
    "speech": "openai/whisper-small",
    "text": "j-hartmann/emotion-english-distilroberta-base",
    "faces": "trpakov/vit-face-expression",
    "audio": "MIT/ast-finetuned-audioset-10-10-0.4593",
}
_TASKS = {  # the transformers pipeline task of each modality's model
    "faces": "image-classification",
    "speech": "automatic-speech-recognition",
    "text": "text-classification",
    "audio": "audio-classification",
    "image": "zero-shot-image-classification",
}
IMAGE_PROMPTS = {
    "anger": "a photo of an angry, hostile scene",
    "disgust": "a photo of a disgusting, repulsive scene",
    "fear": "a photo of a frightening, scary scene",
    "joy": "a photo of a happy, joyful scene",
    "sadness": "a photo of a sad, gloomy scene",
    "surprise": "a photo of a surprising, astonishing scene",
}
# AudioSet classes with an emotional reading (music moods and vocal sounds) -> Ekman weights.
AUDIOSET_TO_EKMAN = {
    "Happy music": {"joy": 1.0},
    "Funny music": {"joy": 0.6, "surprise": 0.4},
    "Tender music": {"joy": 0.6, "sadness": 0.4},
    "Exciting music": {"joy": 0.5, "surprise": 0.5},
    "Sad music": {"sadness": 1.0},
    "Angry music": {"anger": 1.0},
    "Scary music": {"fear": 1.0},
    "Laughter": {"joy": 1.0},
    "Giggle": {"joy": 1.0},
    "Crying, sobbing": {"sadness": 1.0},
    "Screaming": {"fear": 0.7, "surprise": 0.3},
    "Gasp": {"surprise": 1.0},
    "Growling": {"anger": 1.0},
}
# Label spellings used by emotion classifiers -> FER order / Ekman names.
_ALIASES = {"angry": "anger", "happy": "joy", "happiness": "joy", "sad": "sadness",
            "surprised": "surprise", "fearful": "fear", "disgusted": "disgust"}  # fmt: skip
SAMPLE_RATE_HZ = 16000
AUDIO_WINDOW_S = 10.0
MAX_IMAGE_FRAMES = 8


def _ekman(label: str) -> str:
    label = label.strip().lower()
    return _ALIASES.get(label, label)


def _scores(output) -> dict[str, float]:
    """A transformers pipeline's ``[{label, score}, ...]`` as ``{ekman-or-neutral: score}``."""
    if output and isinstance(output[0], list):
        output = output[0]
    return {_ekman(item["label"]): float(item["score"]) for item in output}


def _result(
    total: dict[str, float],
    confidence: float,
    evidence: dict,
    missing: str = "no emotional evidence",
) -> ModalityResult:
    """Normalised Ekman probabilities from unnormalised scores; ``absent(missing)`` if none."""
    mass = sum(total.get(e, 0.0) for e in EMOTIONS)
    if mass <= 0:
        return absent(missing)
    probs = {e: total.get(e, 0.0) / mass for e in EMOTIONS}
    return ModalityResult(probs, float(np.clip(confidence, 0.0, 1.0)), evidence)


@dataclass
class HubModels:
    """Lazy transformers pipelines for the hub profile (ids default to :data:`HUB_MODELS`)."""

    ids: dict[str, str] = field(default_factory=lambda: dict(HUB_MODELS))

    def pipeline(self, name: str):
        from vemidi.weights import load_hub_pipeline

        return load_hub_pipeline(_TASKS[name], self.ids[name])

    def load_all(self) -> None:
        """Load every pipeline now, so a missing model fails before any work starts."""
        for name in _TASKS:
            self.pipeline(name)

    def text_emotion(self) -> HubTextEmotion:
        return HubTextEmotion(self)

    def expression(self, rgb: np.ndarray, boxes: list[np.ndarray]) -> np.ndarray:
        """ViT expression probabilities of the face boxes, (n, 7) in fer's label order."""
        from PIL import Image

        image = Image.fromarray(rgb)
        crops = [image.crop(tuple(int(v) for v in box)).convert("RGB") for box in boxes]
        outputs = self.pipeline("faces")(crops, top_k=None)
        rows = []
        for output in outputs:
            scores = _scores(output)
            rows.append([scores.get(_ekman(label), 0.0) for label in FER_LABELS])
        probs = np.asarray(rows, dtype=np.float64) + 1e-9
        return probs / probs.sum(axis=1, keepdims=True)

    def transcribe(self, audio: np.ndarray) -> list[dict]:
        """Whisper segments ``{start_s, end_s, text, no_speech}`` of 16 kHz mono audio."""
        if audio.size < SAMPLE_RATE_HZ // 10:
            return []
        asr = self.pipeline("speech")
        out = asr({"raw": audio.astype(np.float32), "sampling_rate": SAMPLE_RATE_HZ},
                  return_timestamps=True)  # fmt: skip
        duration_s = len(audio) / SAMPLE_RATE_HZ
        segments = []
        for chunk in out.get("chunks") or [{"timestamp": (0.0, None), "text": out["text"]}]:
            start, end = chunk["timestamp"]
            start = min(float(start or 0.0), duration_s)
            end = duration_s if end is None else min(float(end), duration_s)
            text = chunk["text"].strip()
            if text and re.search(r"[A-Za-z]", text) and end > start:
                segments.append({"start_s": round(start, 2), "end_s": round(end, 2),
                                 "text": text, "no_speech": 0.0})  # fmt: skip
        return segments

    def visual(self, frames: list[np.ndarray]) -> ModalityResult:
        """CLIP zero-shot Ekman probabilities averaged over up to 8 frames."""
        from PIL import Image

        if not frames:
            return absent("no frames")
        picks = np.unique(np.linspace(0, len(frames) - 1, min(MAX_IMAGE_FRAMES, len(frames))))
        prompts = list(IMAGE_PROMPTS.values())
        to_emotion = dict(zip(prompts, IMAGE_PROMPTS, strict=True))
        total = dict.fromkeys(EMOTIONS, 0.0)
        clip = self.pipeline("image")
        for i in picks.astype(int):
            for item in clip(Image.fromarray(frames[i]), candidate_labels=prompts):
                total[to_emotion[item["label"]]] += float(item["score"]) / len(picks)
        top = max(total.values())
        return _result(total, 0.3 + 0.7 * top, {"clip": {k: round(v, 3) for k, v in total.items()}})

    def audio(self, audio: np.ndarray) -> ModalityResult:
        """AST AudioSet classes over up to three 10 s windows, mapped to Ekman."""
        if audio.size < SAMPLE_RATE_HZ // 2 or float(np.sqrt(np.mean(audio**2))) < 1e-3:
            return absent("silence")
        n = round(AUDIO_WINDOW_S * SAMPLE_RATE_HZ)
        starts = np.unique(np.linspace(0, max(0, len(audio) - n), min(3, 1 + len(audio) // n)))
        total: dict[str, float] = {}
        heard: dict[str, float] = {}
        ast = self.pipeline("audio")
        for start in starts.astype(int):
            window = audio[start : start + n].astype(np.float32)
            for label, score in _scores(ast(window, top_k=None)).items():
                original = next((k for k in AUDIOSET_TO_EKMAN if k.lower() == label), None)
                if original is None:
                    continue
                heard[original] = heard.get(original, 0.0) + score / len(starts)
                for emotion, weight in AUDIOSET_TO_EKMAN[original].items():
                    total[emotion] = total.get(emotion, 0.0) + weight * score / len(starts)
        mass = sum(heard.values())
        top = dict(sorted(heard.items(), key=lambda kv: -kv[1])[:5])
        evidence = {"audioset": {k: round(v, 3) for k, v in top.items()}}
        return _result(total, min(0.8, 2.0 * mass), evidence, "no mood")  # capped like embedded


class HubTextEmotion:
    """j-hartmann's emotion classifier; neutral lowers confidence instead of being an emotion."""

    def __init__(self, models: HubModels) -> None:
        self.models = models

    def analyze(self, text: str) -> ModalityResult:
        """Ekman probabilities of ``text`` (confidence 0 when it has no words)."""
        words = re.findall(r"[A-Za-z']+", text)
        if not words:
            return absent("no text")
        scores = _scores(self.models.pipeline("text")(text[:2000], top_k=None))
        neutral = scores.get("neutral", 0.0)
        confidence = (1.0 - neutral) * min(1.0, len(words) / 6)
        return _result(scores, confidence, {"text": text.strip(), "neutral": round(neutral, 3)})


def hub_models(ids: dict[str, str] | None = None):
    """The hub profile's :class:`ModalityModels` (``ids`` replaces some model ids).

    Raises:
        ModelLoadError: a model is neither in the Hugging Face cache nor downloadable.
    """
    from vemidi.emotion.faces import FaceAnalyzer
    from vemidi.emotion.models import ModalityModels

    models = HubModels({**HUB_MODELS, **(ids or {})})
    models.load_all()
    return ModalityModels(
        faces=FaceAnalyzer(expression=models.expression),
        text_emotion=models.text_emotion(),
        transcribe=models.transcribe,
        visual=models.visual,
        audio=models.audio,
        name="hub",
    )
