"""The results manifest of a batch run: ``results.jsonl`` (a row per video, appended as each
finishes, so an interrupted run keeps what it did) and ``results.csv`` (the same rows, written
at the end, for spreadsheets)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

COLUMNS = ("name", "video", "status", "skipped", "error", "duration_s", "key", "tempo_bpm",
           "notes", "valence", "arousal", "cuts_struck", "loudness_lufs", "audio_mode",
           "analysis_s", "compose_s", "total_s", "worker", "output_dir")  # fmt: skip


class Manifest:
    """Rows of one run, kept in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict] = []
        self.jsonl = self.folder / "results.jsonl"
        self.jsonl.write_text("")

    def add(self, row: dict) -> None:
        """Record one video's row (appended to the JSONL at once)."""
        self.rows.append(row)
        with self.jsonl.open("a") as f:
            f.write(json.dumps(row) + "\n")

    def close(self) -> Path:
        """Write the CSV; returns the JSONL's path."""
        with (self.folder / "results.csv").open("w", newline="") as f:
            writer = csv.DictWriter(f, COLUMNS, extrasaction="ignore")
            writer.writeheader()
            for row in sorted(self.rows, key=lambda r: r["name"]):
                writer.writerow(row)
        return self.jsonl
