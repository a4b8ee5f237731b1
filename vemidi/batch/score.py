"""Scoring one job into its folder; the same function runs in-process, in a worker process and
in a Ray actor, so every way of running a batch gives the same files.

A job's folder gets the pipeline's files only once they are all written, and last of all its
marker (``vemidi-batch.json``: the result row and the job's digest), so a folder with a marker
is complete; a rerun with the same digest skips it (:func:`previous`).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from vemidi.batch.jobs import Job
from vemidi.errors import VemidiError

MARKER = "vemidi-batch.json"
log = logging.getLogger(__name__)
Report = Callable[[float, str], None]


def score(pipeline, job: Job, out_root: Path, report: Report | None = None) -> dict:
    """Analyse and score ``job.video`` into ``out_root / job.name``; returns the result row
    (``status`` ``ok`` or ``error`` with its sentence; never raises for a bad video)."""
    from vemidi.media.mux import publish

    report = report or (lambda f, m: None)
    folder = Path(out_root) / job.name
    row = {**base_row(job, out_root), "worker": f"{os.uname().nodename}:{os.getpid()}"}
    start = time.perf_counter()
    try:
        if job.error:
            raise VemidiError(job.error)
        with tempfile.TemporaryDirectory(prefix="vemidi-batch-") as tmp:
            analysis = pipeline.analyze(job.video, lambda f, m: report(0.5 * f, m))
            analysed = time.perf_counter()
            result = pipeline.soundtrack(job.video, analysis, job.controls, tmp,
                                         lambda f, m: report(0.5 + 0.5 * f, m),
                                         stems=job.stems)  # fmt: skip
            files = [result.video_path, result.midi_path, result.wav_path, result.json_path,
                     result.pianoroll_path, result.stems_path]  # fmt: skip
            for path in files:
                if path is not None:
                    publish(path, folder / path.name)
        row.update(_summary(result.record), status="ok", error="",
                   files=sorted(p.name for p in files if p is not None),
                   analysis_s=round(analysed - start, 2),
                   compose_s=round(time.perf_counter() - analysed, 2))  # fmt: skip
    except VemidiError as e:
        row.update(status="error", error=str(e))
    except Exception as e:  # one bad video never stops the batch; details go to the log
        log.exception("scoring %s failed", job.video)
        row.update(status="error", error=f"{job.video.name} could not be scored "
                   f"({type(e).__name__}); see the log.")  # fmt: skip
    row["total_s"] = round(time.perf_counter() - start, 2)
    if job.digest:  # a readable video: remember the outcome, so a rerun skips it
        write_marker(folder, row)
    return row


def _summary(record: dict) -> dict:
    piece = record["composition"]
    segment = piece["segments"][0]
    return {
        "duration_s": piece["duration_s"],
        "key": piece["keys"][0],
        "tempo_bpm": round(piece["tempo_bpm"], 1),
        "notes": piece["n_notes"],
        "valence": round(segment["valence"], 3),
        "arousal": round(segment["arousal"], 3),
        "cuts_struck": f"{len(piece['cuts_hit_s'])}/{len(piece['cuts_targeted_s'])}",
        "loudness_lufs": record["audio"]["loudness_lufs"],
        "audio_mode": record["audio"]["mode"],
    }


def base_row(job: Job, out_root: Path, error: str = "") -> dict:
    """The start of a job's result row; with ``error``, the whole row of a failed job."""
    row = {"video": str(job.video), "name": job.name,
           "output_dir": str(Path(out_root) / job.name), "digest": job.digest}  # fmt: skip
    return {**row, "status": "error", "error": error} if error else row


def write_whole(path: Path, data: bytes) -> None:
    """Write ``path`` under a hidden name, then rename it: never a half file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    partial.write_bytes(data)
    os.replace(partial, path)


def write_marker(folder: Path, row: dict) -> None:
    """The folder's marker (see the module docstring), written whole."""
    write_whole(folder / MARKER, json.dumps(row, indent=2).encode())


def previous(job: Job, out_root: Path) -> dict | None:
    """The earlier result of the same job (same digest, files all there), or None."""
    if not job.digest:
        return None
    folder = Path(out_root) / job.name
    try:
        row = json.loads((folder / MARKER).read_text())
    except (OSError, ValueError):
        return None
    if row.get("digest") != job.digest:
        return None
    if row.get("status") == "ok" and not all((folder / f).is_file() for f in row.get("files", [])):
        return None
    return row
