"""Piano-roll pictures of notes with the cuts marked and, when a plan is given, its bar lines,
chord names, key and tempo written over the roll (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

from vemidi.music.plan import Plan
from vemidi.music.tokenizer import Instrument, Note

COLOURS = {
    Instrument.BASS: "#1f77b4",
    Instrument.DRUMS: "#7f7f7f",
    Instrument.GUITAR: "#2ca02c",
    Instrument.PIANO: "#d62728",
    Instrument.STRINGS: "#9467bd",
}
DUCKED_COLOUR = "#f2c14e"


def draw(
    ax,
    notes: list[Note],
    duration_s: float,
    cuts_s: list[float],
    title: str = "",
    plan: Plan | None = None,
    ducked_s: tuple = (),
) -> None:
    """Draw notes as bars (pitch over time, coloured by instrument), cuts as dashed lines,
    the plan (bar lines, chord names above the roll, key and tempo of each section) and, shaded,
    the passages of speech the music ducks under."""
    for start_s, end_s in ducked_s:
        ax.axvspan(start_s, end_s, color=DUCKED_COLOUR, alpha=0.35, linewidth=0, zorder=0)
    for instrument, colour in COLOURS.items():
        mine = [n for n in notes if n.instrument == instrument]
        if mine:
            ax.hlines(
                [n.pitch for n in mine],
                [n.start_s for n in mine],
                [n.end_s for n in mine],
                color=colour,
                linewidth=3,
                label=instrument.name.lower(),
            )
    for cut in cuts_s:
        ax.axvline(cut, color="black", linestyle="--", linewidth=1)
    ax.set_xlim(0, duration_s)
    pitches = [n.pitch for n in notes if n.instrument != Instrument.DRUMS] or [60]
    top = max(pitches) + 2
    ax.set_ylim(min(pitches) - 2, top + (8 if plan is not None else 0))
    if plan is not None:
        _draw_plan(ax, plan, top)
    ax.set_xlabel("seconds")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title, fontsize=10)


def _draw_plan(ax, plan: Plan, top: float) -> None:
    for bar in plan.bars:
        ax.axvline(bar.start_s, color="#bbbbbb", linewidth=0.6, zorder=0)
    for chord in plan.chords:
        start = plan.beat_to_s(chord.start_beat)
        ax.text(start, top + 1, chord.name, fontsize=6, va="bottom", clip_on=True)
    for section in plan.sections:
        ax.text(
            section.start_s,
            top + 5,
            f"{section.key_name}, {section.tempo_bpm:.0f} bpm",
            fontsize=6,
            va="bottom",
            color="#444444",
            clip_on=True,
        )


def save_grid(pieces: list[tuple], path: Path, columns: int = 2) -> None:
    """Save several piano rolls (title, notes, duration, cuts[, plan[, ducked spans]]) in one
    PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(pieces) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3 * rows), dpi=100, squeeze=False)
    for ax, (title, notes, duration_s, cuts_s, *extra) in zip(axes.flat, pieces, strict=False):
        draw(ax, notes, duration_s, cuts_s, title, *extra)
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [Line2D([], [], color=c, linewidth=3) for c in COLOURS.values()]
    labels = [i.name.lower() for i in COLOURS]
    if any(len(piece) > 5 and piece[5] for piece in pieces):
        handles.append(Patch(color=DUCKED_COLOUR, alpha=0.35))
        labels.append("speech: music ducked")
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06 / rows, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
