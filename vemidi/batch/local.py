"""Running a batch on this machine: in this process (``workers=1``) or in ``workers`` spawned
processes, each loading the models once when it starts (:func:`_start_worker`) and then
scoring video after video. :func:`run_batch` is the driver every engine shares: it skips what
is up to date, hands the rest to the engine, and writes the results manifest."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from vemidi.batch.jobs import Job
from vemidi.batch.progress import BatchProgress, Throttle
from vemidi.batch.results import Manifest
from vemidi.batch.score import base_row, previous, score
from vemidi.config import check_range


@dataclass(frozen=True)
class BatchReport:
    """What a run did: its rows (one per job, in finishing order), where the manifest is, and
    the wall time."""

    rows: list
    manifest_path: Path
    wall_s: float
    engine: str

    @property
    def scored(self) -> list:
        return [r for r in self.rows if not r.get("skipped")]

    @property
    def failed(self) -> list:
        return [r for r in self.rows if r["status"] == "error"]

    def video_seconds_per_wall_second(self) -> float:
        """Throughput: seconds of video scored in this run per second of wall time."""
        seconds = sum(r.get("duration_s") or 0.0 for r in self.scored if r["status"] == "ok")
        return seconds / max(self.wall_s, 1e-9)


def run_batch(
    jobs: list[Job],
    out_root: str | Path,
    profile: str = "embedded",
    workers: int = 1,
    ray_address: str | None = None,
    shared_output: bool = False,
    retry_failed: bool = False,
    show_progress: bool = True,
) -> BatchReport:
    """Score ``jobs`` into ``out_root`` (a folder per job, ``results.jsonl``/``.csv``).

    Args:
        workers: local processes (1: this process); with Ray, the number of actors (0: one per
            CPU of the cluster).
        ray_address: run on Ray: ``"local"`` starts a local instance, anything else is the
            address of a running cluster (``ray start --head`` prints it); None: no Ray.
        shared_output: Ray workers write into ``out_root`` themselves (it must be a folder
            every node sees, with the inputs); otherwise videos travel to the workers and the
            files back to the driver through Ray's object store.
        retry_failed: score again the videos whose earlier run ended in an error.
    """
    check_range("workers", workers, 0 if ray_address else 1, 256)
    out_root = Path(out_root)
    start = time.perf_counter()
    manifest = Manifest(out_root)
    pending = []
    for job in jobs:
        old = previous(job, out_root)
        if old is not None and not (retry_failed and old.get("status") == "error"):
            manifest.add({**old, "skipped": True})
        else:
            pending.append(job)
    slots = min(len(pending), workers or len(pending)) if pending else 0
    ui = BatchProgress(len(jobs), len(jobs) - len(pending), max(1, slots), show_progress)

    def finished(row: dict) -> None:
        row.setdefault("skipped", False)
        manifest.add(row)
        ui.finished(row)

    engine = "ray" if ray_address else ("local" if workers == 1 else f"{workers} processes")
    try:
        if pending and ray_address:
            from vemidi.batch.on_ray import run_on_ray

            run_on_ray(pending, out_root, profile, workers, ray_address, shared_output,
                       finished, ui)  # fmt: skip
        elif pending and workers == 1:
            _in_process(pending, out_root, profile, finished, ui)
        elif pending:
            _in_processes(pending, out_root, profile, workers, finished, ui)
    finally:
        ui.close()
    path = manifest.close()
    return BatchReport(manifest.rows, path, time.perf_counter() - start, engine)


def _in_process(jobs, out_root, profile, finished, ui) -> None:
    from vemidi.pipeline import Pipeline

    pipeline = Pipeline(profile)
    loaded = time.perf_counter()
    pipeline.warm_up()
    load_s = round(time.perf_counter() - loaded, 2)
    for job in jobs:
        row = score(pipeline, job, out_root, lambda f, m, j=job: ui.update(0, j.name, f, m))
        row["models_load_s"], load_s = load_s, 0.0
        finished(row)


# --- worker processes -------------------------------------------------------------------------
_WORKER: dict = {}


def _start_worker(profile: str, threads: int, messages, log_level: int) -> None:
    """Runs once in each worker process: threads, logging as the driver's, the pipeline, every
    model loaded."""
    import logging

    import torch

    from vemidi.pipeline import Pipeline

    logging.getLogger("vemidi").setLevel(log_level)
    torch.set_num_threads(threads)
    started = time.perf_counter()
    pipeline = Pipeline(profile)
    pipeline.warm_up()
    _WORKER.update(pipeline=pipeline, messages=messages,
                   load_s=round(time.perf_counter() - started, 2))  # fmt: skip


def _score_in_worker(job: Job, out_root: Path) -> dict:
    report = Throttle(_WORKER["messages"].put, os.getpid(), job.name)
    row = score(_WORKER["pipeline"], job, out_root, report)
    row["models_load_s"], _WORKER["load_s"] = _WORKER["load_s"], 0.0  # only the first job
    return row


def _in_processes(jobs, out_root, profile, workers, finished, ui) -> None:
    import logging
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")  # no fork of a process holding threads
    threads = max(1, (os.cpu_count() or 1) // workers)
    slots: dict[int, int] = {}
    with context.Manager() as manager:
        messages = manager.Queue()
        ui.drain(messages, lambda pid: slots.setdefault(pid, len(slots)))
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                                 initargs=(profile, threads, messages,
                                           logging.getLogger("vemidi").getEffectiveLevel()),
                                 ) as pool:  # fmt: skip
            futures = {pool.submit(_score_in_worker, job, out_root): job for job in jobs}
            for future in as_completed(futures):
                job = futures[future]
                try:
                    row = future.result()
                except Exception as e:  # the worker died (out of memory, killed)
                    error = f"the worker scoring {job.video.name} stopped ({type(e).__name__})."
                    row = base_row(job, out_root, error)
                finished(row)
        ui.stop_draining()  # before the manager and its queue go away
