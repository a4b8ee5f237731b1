"""Piano-roll pictures of notes with the cuts marked (matplotlib, no display needed)."""

from __future__ import annotations

from pathlib import Path

from vemidi.music.tokenizer import Instrument, Note

COLOURS = {
    Instrument.BASS: "#1f77b4",
    Instrument.DRUMS: "#7f7f7f",
    Instrument.GUITAR: "#2ca02c",
    Instrument.PIANO: "#d62728",
    Instrument.STRINGS: "#9467bd",
}


def draw(ax, notes: list[Note], duration_s: float, cuts_s: list[float], title: str = "") -> None:
    """Draw notes as bars (pitch over time, coloured by instrument) and cuts as dashed lines."""
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
    pitches = [n.pitch for n in notes] or [60]
    ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlabel("seconds")
    ax.set_ylabel("MIDI pitch")
    if title:
        ax.set_title(title, fontsize=10)


def save_grid(
    pieces: list[tuple[str, list[Note], float, list[float]]], path: Path, columns: int = 2
) -> None:
    """Save several piano rolls (title, notes, duration, cuts) in one PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(pieces) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 3 * rows), dpi=100, squeeze=False)
    for ax, (title, notes, duration_s, cuts_s) in zip(axes.flat, pieces, strict=False):
        draw(ax, notes, duration_s, cuts_s, title)
    axes.flat[0].legend(loc="upper right", fontsize=7, ncol=2)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
