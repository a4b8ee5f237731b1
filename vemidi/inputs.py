"""Untyped control values (from the app, its API, the CLI) -> :class:`~vemidi.pipeline.Controls`.

One place types every field, so that a bad value is reported the same way wherever it comes
from: with the field's name, the accepted form or range, and at most :data:`ECHO_CHARS` of
what was given (a 200 KB cut list is not echoed back whole). Ranges and choices are then checked
by the frozen configs themselves.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from vemidi.errors import InvalidInputError

ECHO_CHARS = 40
MAX_CUTS = 1000

# field -> (kind, optional): kind is "number", "integer", "flag", "text" or "cuts".
FIELDS = {
    "valence": ("number", True),
    "arousal": ("number", True),
    "per_scene": ("flag", False),
    "cuts_s": ("cuts", True),
    "seed": ("integer", False),
    "temperature": ("number", False),
    "top_p": ("number", False),
    "top_k": ("integer", False),
    "tonal_anchor": ("number", False),
    "more_instruments": ("flag", False),
    "soundfont": ("text", True),
    "audio_mode": ("text", False),
    "min_cut_gap_s": ("number", False),
    "model": ("text", True),
    "tempo_bpm": ("number", True),
    "beats_per_bar": ("integer", False),
    "percussion": ("text", False),
    "duck_db": ("number", False),
    "loudness_lufs": ("number", False),
}


def echo(value: object) -> str:
    """``repr`` of a value, cut to :data:`ECHO_CHARS` characters."""
    text = repr(value)
    return text if len(text) <= ECHO_CHARS else text[: ECHO_CHARS - 3] + "..."


def as_number(name: str, value: object, integer: bool = False) -> float | int:
    """A finite number (or a whole one) from a number or numeric text, else one sentence."""
    kind = "a whole number" if integer else "a number"
    number = value
    if isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            number = None
    if isinstance(number, bool) or not isinstance(number, (int, float)):
        raise InvalidInputError(f"{name} must be {kind}; got {echo(value)}.")
    if not math.isfinite(number):
        raise InvalidInputError(f"{name} must be a finite number; got {echo(value)}.")
    if integer:
        if number != int(number):
            raise InvalidInputError(f"{name} must be a whole number; got {echo(value)}.")
        return int(number)
    return float(number)


def as_cuts(name: str, value: object) -> tuple[float, ...]:
    """Seconds from ``"4.2, 11"`` or a list of numbers (empty: no cuts)."""
    if isinstance(value, str):
        parts = [p for p in value.replace(";", ",").split(",") if p.strip()]
    elif isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        raise InvalidInputError(f"{name} must be comma-separated seconds; got {echo(value)}.")
    if len(parts) > MAX_CUTS:
        raise InvalidInputError(f"{name} lists {len(parts)} times; at most {MAX_CUTS} are allowed.")
    try:
        return tuple(float(as_number(name, part)) for part in parts)
    except InvalidInputError as e:
        raise InvalidInputError(
            f"{name} must be comma-separated seconds such as 4.2,11.0; got {echo(value)}."
        ) from e


def typed(name: str, value: object) -> object:
    """One field's value typed as :data:`FIELDS` says (None stays None where optional)."""
    if name not in FIELDS:
        raise InvalidInputError(f"unknown control {echo(name)}; known: {', '.join(FIELDS)}.")
    kind, optional = FIELDS[name]
    if value is None or (optional and isinstance(value, str) and not value.strip()):
        if optional:
            return None
        raise InvalidInputError(f"{name} is required.")
    if kind in ("number", "integer"):
        return as_number(name, value, integer=kind == "integer")
    if kind == "cuts":
        return as_cuts(name, value)
    if kind == "flag":
        if not isinstance(value, bool):
            raise InvalidInputError(f"{name} must be true or false; got {echo(value)}.")
        return value
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be text; got {echo(value)}.")
    return value


def controls_from(values: Mapping[str, object]):
    """:class:`~vemidi.pipeline.Controls` from untyped values; absent fields keep defaults.

    Raises:
        InvalidInputError: a value of the wrong type, out of range, or an unknown field.
    """
    from vemidi.pipeline import Controls

    return Controls(**{name: typed(name, value) for name, value in values.items()})
