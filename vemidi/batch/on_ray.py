"""Running a batch on Ray (``pip install vemidi[ray]``): one long-lived actor per slot loads the
models once and scores the videos it is handed, the driver keeping every actor busy.

Without ``shared_output`` nothing needs to be shared between machines: each video's bytes go to
its actor through Ray's object store and the finished files come back the same way, to be
written by the driver. With it, actors read the inputs and write into the output folder
themselves (a network file system every node mounts at the same path).

A cluster is named by its address (``ray start --head`` prints it, e.g. ``10.0.0.5:6379``);
``local`` starts a Ray instance on this machine for the run and stops it after.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import replace
from pathlib import Path

from vemidi.batch.jobs import Job
from vemidi.batch.progress import Throttle
from vemidi.batch.score import MARKER, base_row, score, write_marker, write_whole
from vemidi.errors import InvalidInputError, explained


class Scorer:
    """The actor: a pipeline with its models loaded, scoring one video per call."""

    def __init__(self, profile: str, slot: int, messages, log_level: int, threads: int = 1) -> None:
        import logging
        import time

        import torch

        from vemidi.pipeline import Pipeline

        logging.getLogger("vemidi").setLevel(log_level)
        torch.set_num_threads(threads)
        started = time.perf_counter()
        self.pipeline = Pipeline(profile)
        self.pipeline.warm_up()
        self.load_s = round(time.perf_counter() - started, 2)
        self.slot, self.messages = slot, messages

    def score(self, job: Job, out_root: str | None, video: bytes | None) -> tuple[dict, dict]:
        """Score ``job``; with ``video`` bytes (no shared storage) into a scratch folder whose
        files are returned as ``{name: bytes}``, else into ``out_root`` (files: {})."""
        # Fire and forget: Queue.put waits for the queue actor's answer on every message.
        report = Throttle(self.messages.actor.put_nowait.remote, self.slot, job.name)
        if out_root is not None:
            row, files = score(self.pipeline, job, Path(out_root), report), {}
        else:
            with tempfile.TemporaryDirectory(prefix="vemidi-ray-") as tmp:
                local = Path(tmp) / "in" / job.video.name
                local.parent.mkdir()
                local.write_bytes(video)
                row = score(self.pipeline, replace(job, video=local), Path(tmp) / "out", report)
                folder = Path(tmp) / "out" / job.name
                files = {p.name: p.read_bytes() for p in folder.glob("*")
                         if p.is_file() and p.name != MARKER}  # fmt: skip
        row["models_load_s"], self.load_s = self.load_s, 0.0
        return row, files


def run_on_ray(jobs, out_root, profile, slots, address, shared_output, finished, ui) -> None:
    """Score ``jobs`` on Ray (see the module docstring); ``finished(row)`` per video."""
    try:
        import ray
        from ray.util.queue import Queue
    except ImportError as e:
        raise InvalidInputError("--ray needs Ray: pip install 'vemidi[ray]'.") from e
    started_here = not ray.is_initialized()
    if started_here:
        try:
            if address == "local":
                ray.init(num_cpus=slots or None, include_dashboard=False, log_to_driver=False)
            else:
                ray.init(address=address, log_to_driver=False)
        except Exception as e:  # Ray raises many kinds; the user needs one sentence
            raise explained(InvalidInputError, f"cannot reach the Ray cluster at {address}.",
                            e) from e  # fmt: skip
    try:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        count = min(len(jobs), slots or cpus)
        messages = Queue()
        ui.drain(messages, lambda slot: slot)
        actor = ray.remote(num_cpus=1)(Scorer)
        level = logging.getLogger("vemidi").getEffectiveLevel()
        actors = [actor.remote(profile, i, messages, level) for i in range(count)]
        _dispatch(ray, jobs, actors, Path(out_root), shared_output, finished)
    finally:
        ui.stop_draining()  # no call into Ray from the progress thread once it shuts down
        if started_here:
            ray.shutdown()  # also ends the actors and the queue


def _dispatch(ray, jobs, actors, out_root: Path, shared_output: bool, finished) -> None:
    """Keep every actor busy until every job has a row."""
    waiting, idle, running = list(jobs), list(actors), {}
    out = str(out_root.resolve()) if shared_output else None
    for job in [j for j in waiting if j.error]:  # unreadable rows: their sentence, no actor
        finished(score(None, job, out_root))
    waiting = [j for j in waiting if not j.error]
    while waiting or running:
        while waiting and idle:
            job, a = waiting.pop(0), idle.pop(0)
            video = None if shared_output else job.video.read_bytes()
            running[a.score.remote(job, out, video)] = (job, a)
        done, _ = ray.wait(list(running), num_returns=1)
        job, a = running.pop(done[0])
        idle.append(a)
        try:
            row, files = ray.get(done[0])
        except ray.exceptions.RayError as e:
            error = f"the Ray worker scoring {job.video.name} failed ({type(e).__name__})."
            row, files = base_row(job, out_root, error), {}
        folder = out_root / job.name
        row.update(video=str(job.video), output_dir=str(folder))
        for name, data in files.items():
            write_whole(folder / name, data)
        if files or (job.digest and row.get("status") == "error" and not shared_output):
            write_marker(folder, row)
        finished(row)
