"""The bundle of modality analyzers a profile provides (embedded here; hub in :mod:`hub`).

Both :mod:`vemidi.emotion.analyze` (which runs a bundle over a video) and
:mod:`vemidi.emotion.hub` (which builds the online one) need it, so it lives on its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ModalityModels:
    """The analyzers of one model profile, behind the same small interfaces.

    Attributes:
        faces: a :class:`FaceAnalyzer` (``start_video()``, ``analyze(frames)``).
        text_emotion: ``analyze(text) -> ModalityResult`` (speech and on-screen text use it).
        transcribe: 16 kHz mono audio -> segments ``{start_s, end_s, text, no_speech}``.
        visual: list of RGB frames -> ModalityResult (image content).
        audio: 16 kHz mono audio -> ModalityResult (the non-speech soundtrack).
        name: the profile's name, recorded in the analysis.
    """

    faces: object
    text_emotion: object
    transcribe: Callable
    visual: Callable
    audio: Callable
    name: str = "embedded"


def embedded_models() -> ModalityModels:
    """The offline profile: packaged weights only (models load lazily on first use)."""
    from vemidi.emotion.audio import analyze_audio
    from vemidi.emotion.faces import FaceAnalyzer
    from vemidi.emotion.speech import transcribe
    from vemidi.emotion.text_emotion import TextEmotion
    from vemidi.emotion.visual import analyze_visual

    return ModalityModels(FaceAnalyzer(), TextEmotion(), transcribe, analyze_visual, analyze_audio)
