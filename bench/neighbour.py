"""A busy neighbour for the speed benches: one core of pure Python work while a block runs.

A Gradio Space, a batch job or a second user leaves a machine like this; the benches time their
loops idle and beside it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Iterator


def _spin(stop) -> None:
    x = 0
    while not stop.is_set():
        x = (x * 31 + 7) % 1_000_003


@contextlib.contextmanager
def busy_neighbour(active: bool = True) -> Iterator[None]:
    """Run the block beside one spinning process (``active``), or alone."""
    if not active:
        yield
        return
    stop = multiprocessing.Event()
    neighbour = multiprocessing.Process(target=_spin, args=(stop,))
    neighbour.start()
    time.sleep(0.3)
    try:
        yield
    finally:
        stop.set()
        neighbour.join()
