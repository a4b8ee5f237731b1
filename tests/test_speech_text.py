"""Speech (espeak-ng voice -> Whisper tiny.en) and on-screen text (Pillow -> rapidocr)."""

from __future__ import annotations

import numpy as np
import pytest
from media_factory import speak

from vemidi.emotion.onscreen_text import analyze_onscreen_text, read_lines
from vemidi.emotion.speech import analyze_speech, transcribe
from vemidi.emotion.text_emotion import TextEmotion


@pytest.fixture(scope="module")
def text_emotion():
    return TextEmotion()


def spoken(sentence: str) -> np.ndarray:
    """16 kHz mono audio of espeak-ng saying ``sentence`` (Debian package, offline)."""
    return speak(sentence, rate_hz=16000, words_per_min=130, voice="en-us")


def text_frame(lines: list[str], size=(640, 360)) -> np.ndarray:
    from PIL import Image, ImageDraw, ImageFont

    image = Image.new("RGB", size, (20, 20, 40))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=36)
    for i, line in enumerate(lines):
        draw.text((30, 40 + 70 * i), line, fill=(255, 255, 255), font=font)
    return np.asarray(image)


def test_speech_is_transcribed_and_scored(text_emotion):
    audio = spoken("I am very happy today. This is a wonderful day.")
    segments = transcribe(audio)
    text = " ".join(s["text"] for s in segments).lower()
    assert "happy" in text and "wonderful" in text
    result = analyze_speech(audio, text_emotion)
    assert max(result.probs, key=result.probs.get) == "joy"
    assert result.confidence > 0.3 and result.evidence["transcript"][0]["start_s"] >= 0


def test_silence_has_no_speech(text_emotion):
    assert analyze_speech(np.zeros(32000, np.float32), text_emotion).confidence == 0.0


def test_onscreen_text_is_read_once_and_scored(text_emotion):
    frame = text_frame(["I miss her so much", "goodbye forever"])
    lines = [t.lower() for t, _ in read_lines(frame)]
    assert any("miss her" in line for line in lines)
    result = analyze_onscreen_text([(0.0, frame), (1.0, frame)], text_emotion)
    assert max(result.probs, key=result.probs.get) == "sadness"
    assert len(result.evidence["lines"]) == 2  # the same lines on two frames count once
    blank = np.zeros((360, 640, 3), np.uint8)
    assert analyze_onscreen_text([(0.0, blank)], text_emotion).confidence == 0.0
