"""vemidi: an original, emotion-following soundtrack for any video (an EMSYNC implementation).

The public surface is small: the pipeline (:class:`Pipeline`, :func:`make_soundtrack`, the
:class:`Controls` a user steers with), the composer for music without a video, the music model
loader and the error type. Everything heavy loads on first use, so importing stays cheap.
"""

from __future__ import annotations

from typing import Any

from vemidi.errors import VemidiError

__version__ = "0.1.0"

__all__ = [
    "Controls",
    "Pipeline",
    "VemidiError",
    "__version__",
    "compose",
    "load_music_model",
    "make_soundtrack",
]


def __getattr__(name: str) -> Any:
    # Heavy modules (torch) are imported only when these names are first used.
    if name in ("Controls", "Pipeline", "make_soundtrack"):
        from vemidi import pipeline

        return getattr(pipeline, name)
    if name == "compose":
        from vemidi.music.compose import compose

        return compose
    if name == "load_music_model":
        from vemidi.weights import load_music_model

        return load_music_model
    raise AttributeError(f"module 'vemidi' has no attribute {name!r}")
