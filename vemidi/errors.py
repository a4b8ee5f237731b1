"""Errors that vemidi raises for problems a user can cause or fix.

Every user-facing failure is a :class:`VemidiError` whose message is one clear sentence. Only
``cli.py`` turns it into exit code 2 and only ``app.py`` into ``gr.Error``.
"""

from __future__ import annotations

import re


class VemidiError(Exception):
    """Base class of every error meant for the user (one clear sentence)."""


class InvalidInputError(VemidiError, ValueError):
    """An argument or a value is out of its allowed range or badly formed."""


class MediaError(VemidiError):
    """A media file (video, audio, MIDI) cannot be read, or ffmpeg failed on it."""


class ModelLoadError(VemidiError):
    """A model name is unknown or its weights cannot be found or read."""


class SynthesisError(VemidiError):
    """Rendering MIDI to audio failed (no soundfont, no FluidSynth library, ...)."""


def reason(error: BaseException, limit: int = 120) -> str:
    """The gist of a library's error for a user: its first line, without errno numbers or
    folders (a server path names the file only), at most ``limit`` characters."""
    text = getattr(error, "strerror", None) or str(error) or type(error).__name__
    text = re.sub(r"\[Errno -?\d+\]\s*", "", text.strip().splitlines()[0] if text.strip() else "")
    text = re.sub(r"(?:[A-Za-z]:)?(?:[\\/][^\s'\":\\/]+)+[\\/]([^\s'\":\\/]+)", r"\1", text)
    text = text or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."
