"""vemidi: an original, emotion-following soundtrack for any video (an EMSYNC implementation).

The public surface is small: the errors, the configuration and result types and, loaded on first
use so that importing the package stays cheap, the music model loader and the composer.
"""

from __future__ import annotations

from typing import Any

from vemidi.errors import VemidiError

__version__ = "0.1.0"

__all__ = ["VemidiError", "__version__", "compose", "load_music_model"]


def __getattr__(name: str) -> Any:
    # Heavy modules (torch) are imported only when these names are first used.
    if name == "compose":
        from vemidi.music.compose import compose

        return compose
    if name == "load_music_model":
        from vemidi.weights import load_music_model

        return load_music_model
    raise AttributeError(f"module 'vemidi' has no attribute {name!r}")
