"""Scoring many videos: jobs from files, folders, globs or a manifest (:mod:`.jobs`), run here
in one or several processes (:mod:`.local`) or on a Ray cluster (:mod:`.on_ray`), each video
scored by the same code (:mod:`.score`) into its own folder, with a results manifest
(:mod:`.results`).

The public surface is :func:`collect_jobs` and :func:`run_batch`; importing this package loads
neither torch nor Ray.
"""

from vemidi.batch.jobs import collect as collect_jobs
from vemidi.batch.local import BatchReport, run_batch

__all__ = ["BatchReport", "collect_jobs", "run_batch"]
