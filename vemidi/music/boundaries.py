"""Scene cuts as musical boundaries: thinning and the boundary-offset input (EMSYNC §5).

The generator sees, at every token, ``horizon - min(horizon, seconds to the next cut)``: 0 while
no cut is near, rising to the horizon (8 s) as one arrives. In vemidi the seconds are counted in
musical time at the reference tempo (a beat is 0.5 s, see the tokenizer), as in training; the plan
has already put a bar line on each cut, so the offset tells the model how far the next downbeat
with a new harmony is.
"""

from __future__ import annotations


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
