"""Progress of a batch on the terminal: one bar over the videos and one per worker slot for the
video it is scoring (stage and fraction). Workers in other processes or on Ray send
``(slot, name, fraction, message)`` tuples; :meth:`BatchProgress.drain` reads them from a queue
in a thread of the driver."""

from __future__ import annotations

import contextlib
import sys
import threading


class BatchProgress:
    """Bars on stderr (nothing when ``enabled`` is False, e.g. in tests or with --quiet)."""

    def __init__(self, total: int, done: int, slots: int, enabled: bool = True) -> None:
        from tqdm import tqdm

        self.enabled = enabled and total > 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        if not self.enabled:
            return
        self.overall = tqdm(total=total, initial=done, desc="videos", unit="video",
                            position=0, file=sys.stderr, dynamic_ncols=True)  # fmt: skip
        self.slots = [
            tqdm(total=100, desc=f"slot {i + 1}", position=i + 1, leave=False, file=sys.stderr,
                 bar_format="{desc} {percentage:3.0f}%|{bar}|{postfix}", dynamic_ncols=True)
            for i in range(slots)
        ]  # fmt: skip

    def update(self, slot: int, name: str, fraction: float, message: str) -> None:
        """The video in ``slot`` reached ``fraction`` (0-1) at stage ``message``."""
        if not self.enabled or not 0 <= slot < len(self.slots):
            return
        with self._lock:
            bar = self.slots[slot]
            bar.set_description_str(f"{name[:24]:<24}", refresh=False)
            bar.set_postfix_str(message[:40], refresh=False)
            bar.n = round(100 * min(1.0, max(0.0, fraction)))
            bar.refresh()

    def finished(self, row: dict) -> None:
        """One more video is done (scored, skipped or failed)."""
        if self.enabled:
            with self._lock:
                status = "error" if row.get("status") == "error" else "ok"
                self.overall.set_postfix_str(f"last: {row['name'][:24]} {status}")
                self.overall.update(1)

    def drain(self, source, slot_of) -> None:
        """Read worker messages from ``source`` (anything with ``get(timeout=...)``) in a
        thread until :meth:`close`; ``slot_of`` maps a worker's id to its slot."""

        def loop() -> None:
            while not self._stop.is_set():
                try:
                    worker, name, fraction, message = source.get(timeout=0.2)
                except Exception:  # queue.Empty, Ray's own Empty, a closed manager
                    continue
                self.update(slot_of(worker), name, fraction, message)

        self._thread = threading.Thread(target=loop, daemon=True, name="vemidi-batch-progress")
        self._thread.start()

    def stop_draining(self) -> None:
        """Stop reading worker messages (before their queue goes away); idempotent."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def close(self) -> None:
        self.stop_draining()
        if self.enabled:
            for bar in self.slots:
                bar.close()
            self.overall.close()


class Throttle:
    """Sends a worker's progress at most every 2% or on a new stage (queues stay short)."""

    def __init__(self, send, worker: object, name: str) -> None:
        self.send, self.worker, self.name = send, worker, name
        self.last = (-1.0, "")

    def __call__(self, fraction: float, message: str) -> None:
        if message != self.last[1] or fraction - self.last[0] >= 0.02 or fraction >= 1.0:
            self.last = (fraction, message)
            with contextlib.suppress(Exception):  # progress is never worth failing a video for
                self.send((self.worker, self.name, fraction, message))
