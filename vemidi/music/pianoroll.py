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


def draw(
    ax,
    notes: list[Note],
    duration_s: float,
    cuts_s: list[float],
    title: str = "",
    plan: Plan | None = None,
) -> None:
    """Draw notes as bars (pitch over time, coloured by instrument), cuts as dashed lines and
    the plan (bar lines, chord names above the roll, key and tempo of each section)."""
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
    """Save several piano rolls (title, notes, duration, cuts[, plan]) in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(pieces) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3 * rows), dpi=100, squeeze=False)
    for ax, (title, notes, duration_s, cuts_s, *plan) in zip(axes.flat, pieces, strict=False):
        draw(ax, notes, duration_s, cuts_s, title, plan[0] if plan else None)
    from matplotlib.lines import Line2D

    handles = [Line2D([], [], color=c, linewidth=3) for c in COLOURS.values()]
    labels = [i.name.lower() for i in COLOURS]
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.06 / rows, 1, 1))
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
