"""Value objects passed between stages."""

from __future__ import annotations

import math
from dataclasses import dataclass

from vemidi.config import check_range
from vemidi.errors import InvalidInputError


@dataclass(frozen=True)
class EmotionSegment:
    """A stretch of time with one emotional condition for the generator.

    Valence and arousal are in [-1, 1]; NaN means "no condition" (the model's null vector).
    """

    start_s: float
    end_s: float
    valence: float
    arousal: float

    def __post_init__(self) -> None:
        if not 0.0 <= self.start_s < self.end_s:
            raise InvalidInputError(
                f"a segment needs 0 <= start_s < end_s, got start_s={self.start_s!r}, "
                f"end_s={self.end_s!r}."
            )
        for name in ("valence", "arousal"):
            value = getattr(self, name)
            if not (isinstance(value, float) and math.isnan(value)):
                check_range(name, value, -1.0, 1.0)
