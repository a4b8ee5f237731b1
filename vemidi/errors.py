"""Errors that vemidi raises for problems a user can cause or fix.

Every user-facing failure is a :class:`VemidiError` whose message is one clear sentence. Only
``cli.py`` turns it into exit code 2 and only ``app.py`` into ``gr.Error``.
"""

from __future__ import annotations

import logging


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


def explained(kind: type[VemidiError], message: str, error: BaseException) -> VemidiError:
    """``kind(message)`` for the user; the library's own words go to the log only (they can
    carry server folders, errno numbers and jargon)."""
    logging.getLogger("vemidi").warning("%s [%s: %s]", message, type(error).__name__, error)
    return kind(message)
