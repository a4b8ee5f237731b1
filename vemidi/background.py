"""One long-lived pool of worker threads for the work a request runs beside itself.

The analysis detects cuts beside the other modalities and a soundtrack muxes while its piano
roll is drawn. A fresh thread per request made the allocator open a new memory pool each time
(bench/soak.py: resident memory crept up ~10 MB a job); these threads live as long as the
process. Four workers: two requests at once (the app's limit) each use at most one at a time,
twice over.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor


@functools.cache
def pool() -> ThreadPoolExecutor:
    """The process's background workers (created on first use)."""
    return ThreadPoolExecutor(max_workers=4, thread_name_prefix="vemidi-background")
