"""A General MIDI drum part that follows the plan: a pattern library of our own.

The training corpus has no drums, so the model writes none; this module adds them from the plan
alone (rule-based, said in the model card). For each bar of a section with percussion on:

* a groove chosen by the section's arousal - ``soft`` (<= 0.35: a ride on every beat, a kick on
  the bar line, a side stick on the off-beats), ``steady`` (<= 0.7: closed hi-hat eighths, kick
  on the strong beats, snare on the weak ones) or ``driving`` (hi-hat sixteenths with an open hat
  before the weak beats and an extra kick); strong beats are the even beats of the bar, so any
  bar length (2/4, 3/4, 5/4 ...) gets a pattern;
* a fill in the last beat before each cut (the last two beats when driving): snare and toms
  stepping down in sixteenths (eighths when soft);
* a crash cymbal and a kick on each cut, and on the first bar of the drum part.

Hits are returned in musical time (beats) with a velocity; :func:`drum_notes` maps them onto the
video through the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from vemidi.music import tokenizer as tk
from vemidi.music.plan import Plan

KICK, SIDE_STICK, SNARE, CLOSED_HAT, OPEN_HAT, CRASH, RIDE = 36, 37, 38, 42, 46, 49, 51
LOW_TOM, MID_TOM, HIGH_TOM = 45, 47, 50
_FILL_PITCHES = (SNARE, HIGH_TOM, MID_TOM, LOW_TOM)
_HIT_BEATS = 0.25  # every drum note lasts a sixteenth


@dataclass(frozen=True)
class Hit:
    """One drum stroke: GM percussion key, time in beats, velocity 1-127."""

    pitch: int
    beat: float
    velocity: int


def groove(arousal: float) -> str:
    """Name of the groove for an arousal: ``soft``, ``steady`` or ``driving``."""
    if arousal <= 0.35:
        return "soft"
    return "steady" if arousal <= 0.7 else "driving"


def bar_pattern(beats: int, style: str) -> list[tuple[float, int, int]]:
    """(offset in beats, key, velocity) of one bar of ``beats`` beats in a groove."""
    hits: list[tuple[float, int, int]] = []
    for beat in range(beats):
        strong = beat % 2 == 0
        if style == "soft":
            hits.append((beat, RIDE, 62 if beat else 72))
            if beat == 0:
                hits.append((beat, KICK, 70))
            elif not strong:
                hits.append((beat, SIDE_STICK, 55))
        elif style == "steady":
            hits += [(beat, CLOSED_HAT, 72 if strong else 66), (beat + 0.5, CLOSED_HAT, 56)]
            hits.append((beat, KICK, 96) if strong else (beat, SNARE, 92))
        else:
            for step in range(4):
                hat = OPEN_HAT if (step == 2 and not strong) else CLOSED_HAT
                hits.append((beat + step / 4, hat, (84, 58, 70, 58)[step]))
            hits.append((beat, KICK, 108) if strong else (beat, SNARE, 104))
            if strong:
                hits.append((beat + 0.75, KICK, 80))
    return hits


def _fill(start_beat: float, n_beats: int, style: str) -> list[Hit]:
    step = 0.5 if style == "soft" else 0.25
    count = round(n_beats / step)
    hits = []
    for i in range(count):
        pitch = _FILL_PITCHES[min(len(_FILL_PITCHES) - 1, i * len(_FILL_PITCHES) // count)]
        hits.append(Hit(pitch, start_beat + i * step, 70 + round(40 * i / max(1, count - 1))))
    return hits


def drum_part(plan: Plan) -> list[Hit]:
    """Every drum hit of a plan, in time order (none where the plan has percussion off)."""
    hits: list[Hit] = []
    cuts = set(plan.cut_beats)
    previous_on = False
    for section in plan.sections:
        if not section.drums:
            previous_on = False
            continue
        style = groove(section.arousal)
        end = section.start_beat + section.beats
        next_is_cut = end in cuts
        fill_beats = (2 if style == "driving" else 1) if next_is_cut else 0
        fill_start = end - fill_beats
        for bar in plan.bars:
            if not section.start_beat <= bar.start_beat < end:
                continue
            for offset, pitch, velocity in bar_pattern(bar.beats, style):
                beat = bar.start_beat + offset
                if beat < fill_start:
                    hits.append(Hit(pitch, beat, velocity))
        if fill_beats and fill_start >= section.start_beat:
            hits += _fill(fill_start, fill_beats, style)
        if section.start_beat in cuts or not previous_on:
            hits.append(Hit(CRASH, section.start_beat, 112))
        previous_on = True
    hits.sort(key=lambda h: (h.beat, h.pitch))
    return hits


def drum_notes(plan: Plan, hits: list[Hit]) -> list[tuple[tk.Note, int]]:
    """Drum hits as (note in video seconds, velocity), each a sixteenth long, inside the piece."""
    notes = []
    for hit in hits:
        start = plan.beat_to_s(hit.beat)
        end = min(plan.duration_s, plan.beat_to_s(hit.beat + _HIT_BEATS))
        if end > start:
            notes.append((tk.Note(tk.Instrument.DRUMS, hit.pitch, start, end), hit.velocity))
    return notes
