"""A task the local stack runs every few seconds on a daemon thread until it stops."""

from __future__ import annotations

import logging
import threading

log = logging.getLogger("localstack")


class Periodic:
    """Subclasses implement `tick()`; an exception in one tick is logged, the next one runs."""

    name = "periodic"

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.tick()
            except Exception:
                log.exception("%s failed; it runs again in %.1f s", self.name, self.interval)
