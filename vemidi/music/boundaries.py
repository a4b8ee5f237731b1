"""Scene cuts as musical boundaries: thinning, boundary offsets and hit bookkeeping (EMSYNC §5).

The generator sees, at every token, ``horizon - min(horizon, seconds to the next remaining
boundary)``: 0 while no boundary is near, rising to the horizon (8 s) as one arrives. A boundary
counts as hit when a CHORD token is sampled within the tolerance (1 s) of it; a boundary whose
window has passed without a CHORD is dropped as missed, and the offset moves on to the next one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from vemidi.config import CutConfig


def thin_cuts(cuts_s: list[float], min_gap_s: float) -> list[float]:
    """Keep the first cut and every later one at least ``min_gap_s`` after the last kept cut."""
    kept: list[float] = []
    for cut in sorted(cuts_s):
        if not kept or cut - kept[-1] >= min_gap_s:
            kept.append(float(cut))
    return kept


def offset_input(seconds_to_boundary: float, horizon_s: float) -> float:
    """The model's boundary-offset input: ``horizon - min(horizon, seconds_to_boundary)``."""
    return horizon_s - min(horizon_s, max(0.0, seconds_to_boundary))


def offsets_for_times(
    times_s: list[float], boundaries_s: list[float], horizon_s: float
) -> list[float]:
    """Offset inputs for tokens at ``times_s`` given sorted boundary times (training data).

    A token's next boundary is the first one strictly after it, or at its time when the token is
    not itself past it; the sequence must list a boundary's CHORD at that boundary's time, so the
    tokens up to and including the CHORD look at it and later tokens at the next one.
    """
    result = []
    j = 0
    for t in times_s:
        while j < len(boundaries_s) and boundaries_s[j] < t - 1e-9:
            j += 1
        distance = boundaries_s[j] - t if j < len(boundaries_s) else math.inf
        result.append(offset_input(distance, horizon_s))
    return result


@dataclass
class BoundaryTracker:
    """Remaining target boundaries during generation, and which were hit or missed."""

    targets_s: list[float]
    config: CutConfig = field(default_factory=CutConfig)
    hits_s: list[float] = field(default_factory=list)
    missed_s: list[float] = field(default_factory=list)
    forced_s: list[float] = field(default_factory=list)
    chord_times_s: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.targets_s = sorted(self.targets_s)

    def _drop_passed(self, now_s: float) -> None:
        while self.targets_s and self.targets_s[0] < now_s - self.config.tolerance_s:
            self.missed_s.append(self.targets_s.pop(0))

    def on_chord(self, now_s: float, forced: bool = False) -> bool:
        """Record a CHORD token at ``now_s`` (``forced``: by ``logits.CutChord``, not chosen by
        the model); returns whether it hit a remaining boundary."""
        self.chord_times_s.append(now_s)
        self._drop_passed(now_s)
        for i, target in enumerate(self.targets_s):
            if abs(target - now_s) <= self.config.tolerance_s:
                self.hits_s.append(self.targets_s.pop(i))
                if forced:
                    self.forced_s.append(self.hits_s[-1])
                return True
            if target > now_s:
                break
        return False

    def offset(self, now_s: float) -> float:
        """Offset input at ``now_s``: towards the nearest boundary not yet passed."""
        upcoming = [t for t in self.targets_s if t >= now_s]
        distance = upcoming[0] - now_s if upcoming else math.inf
        return offset_input(distance, self.config.horizon_s)

    def next_unmarked_s(self) -> float | None:
        """The earliest boundary not yet marked by a CHORD (None when none is left)."""
        return self.targets_s[0] if self.targets_s else None

    def finish(self) -> None:
        """At the end of the piece, every remaining boundary counts as missed."""
        self.missed_s.extend(self.targets_s)
        self.targets_s = []
