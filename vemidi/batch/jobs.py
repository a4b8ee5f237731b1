"""What a batch is asked to do: one :class:`Job` per video, with its own controls.

Inputs may be video files, folders (their videos, not recursively), glob patterns, or a manifest:
a ``.csv`` with a header or a ``.jsonl`` with one object per line, naming the video (``video``;
relative paths are read from the manifest's folder) and any control by the names
:mod:`vemidi.inputs` types (``valence``, ``arousal``, ``cuts_s``, ``seed``, ``audio_mode``,
``loudness_lufs``, ...), plus ``name`` (the output folder). A row that cannot be read becomes a
job that fails with its sentence; it never stops the others.

A job's ``digest`` covers the video's bytes, the controls, the profile, whether stems are
written and the vemidi version: a second run skips a video whose folder holds a result with
the same digest.
"""

from __future__ import annotations

import csv
import glob
import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from vemidi.errors import InvalidInputError, VemidiError
from vemidi.inputs import FIELDS

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".webm", ".mkv", ".avi")
MANIFEST_SUFFIXES = (".csv", ".jsonl")


@dataclass(frozen=True)
class Job:
    """One video to score.

    Attributes:
        video: the input file.
        name: the output folder's name (unique within the batch).
        controls: a :class:`vemidi.pipeline.Controls` (None when the row was unreadable).
        error: the sentence of a row that could not be read (the job fails with it).
        digest: what the result depends on (see the module docstring).
    """

    video: Path
    name: str
    controls: object = None
    error: str = ""
    digest: str = ""
    stems: bool = False
    extra: dict = field(default_factory=dict)


def collect(inputs: list[str], defaults: dict, profile: str, stems: bool = False) -> list[Job]:
    """The jobs for ``inputs`` (files, folders, globs, manifests), ``defaults`` being the
    control values every video gets unless its manifest row says otherwise.

    Raises:
        InvalidInputError: an input names nothing (no such file, an empty folder or glob).
    """
    rows: list[tuple[Path, dict]] = []
    for item in inputs:
        path = Path(item)
        if path.suffix.lower() in MANIFEST_SUFFIXES and path.is_file():
            rows += _manifest_rows(path)
        elif path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES)
            if not found:
                raise InvalidInputError(f"the folder {item} holds no video files.")
            rows += [(p, {}) for p in found]
        elif path.is_file():
            rows.append((path, {}))
        elif glob.has_magic(item):
            found = sorted(Path(p) for p in glob.glob(item) if Path(p).is_file())
            if not found:
                raise InvalidInputError(f"no file matches {item}.")
            rows += [(p, {}) for p in found]
        else:
            raise InvalidInputError(f"{item} is not a file, a folder or a glob pattern.")
    if not rows:
        raise InvalidInputError("no videos to score.")
    names: set[str] = set()
    return [_job(video, row, defaults, profile, stems, names) for video, row in rows]


def _manifest_rows(path: Path) -> list[tuple[Path, dict]]:
    """(video, fields) of every row of a CSV or JSONL manifest."""
    rows: list[dict] = []
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() == ".csv":
        rows = [{k.strip(): v for k, v in r.items() if k and v not in (None, "")}
                for r in csv.DictReader(text.splitlines())]  # fmt: skip
    else:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError:
                row = {"video": f"{path.name} line {number}", "_error": "is not valid JSON"}
            rows.append(row if isinstance(row, dict) else {"_error": "is not a JSON object"})
    out = []
    for number, row in enumerate(rows, start=1):
        video = row.pop("video", row.pop("path", None))
        if not video:
            row = {"_error": f"row {number} of {path.name} names no video"}
            video = f"{path.stem}-row{number}"
        video_path = Path(str(video))
        out.append((video_path if video_path.is_absolute() else path.parent / video_path, row))
    return out


def _job(video: Path, row: dict, defaults: dict, profile: str, stems: bool, names: set) -> Job:
    from vemidi.inputs import controls_from

    name = _unique(str(row.pop("name", "") or video.stem), names)
    if "_error" in row:
        return Job(video, name, error=f"{video.name} {row['_error']}.")
    stems = _flag(row.pop("stems", stems))
    unknown = sorted(set(row) - set(FIELDS))
    try:
        if unknown:
            raise InvalidInputError(f"unknown manifest column(s): {', '.join(unknown)}.")
        controls = controls_from({**defaults, **row})
    except VemidiError as e:
        return Job(video, name, error=f"{video.name}: {e}")
    if not video.is_file():
        return Job(video, name, error=f"{video} does not exist.")
    job = Job(video, name, controls, stems=stems)
    return replace(job, digest=digest(job, profile))


def _flag(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def _unique(name: str, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-") or "video"
    candidate, n = base, 2
    while candidate in taken:
        candidate, n = f"{base}-{n}", n + 1
    taken.add(candidate)
    return candidate


def digest(job: Job, profile: str) -> str:
    """What the job's result depends on, hashed (see the module docstring)."""
    from vemidi import __version__
    from vemidi.pipeline import file_digest

    settings = {
        "video": file_digest(job.video),
        "controls": asdict(job.controls),
        "profile": profile,
        "stems": job.stems,
        "version": __version__,
    }
    text = json.dumps(settings, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]
