"""Errors that vemidi raises for problems a user can cause or fix.

Every user-facing failure is a :class:`VemidiError` whose message is one clear sentence. Only
``cli.py`` turns it into exit code 2 and only ``app.py`` into ``gr.Error``.
"""

from __future__ import annotations


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
