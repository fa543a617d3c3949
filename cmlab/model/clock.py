"""Simulated time, and work scheduled on it.

Nothing is asynchronous yet, but Site Component Manager installs roles some time after the cmdlet returns
(docs/configmgr-behaviour.md#asynchronous-installation). Scheduling that work on a clock the lab owns keeps
tests fast and deterministic: a test advances the clock instead of sleeping.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field


class SimClock:
    """Wall-clock time plus an offset tests can advance; `frozen` stops it from moving alone."""

    def __init__(self, start: float | None = None, frozen: bool = False) -> None:
        self._lock = threading.Lock()
        self._frozen = frozen
        self._base = time.time() if start is None else start
        self._real_start = time.monotonic()
        self._offset = 0.0

    def now(self) -> float:
        with self._lock:
            elapsed = 0.0 if self._frozen else time.monotonic() - self._real_start
            return self._base + elapsed + self._offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        with self._lock:
            self._offset += seconds


@dataclass(order=True)
class _Job:
    due: float
    seq: int
    action: Callable[[], None] = field(compare=False)
    name: str = field(compare=False, default="")


class Scheduler:
    """Jobs due at a simulated time; `run_due()` runs those whose time has come.

    The lab calls `run_due()` before every command it executes (and may call it from a timer),
    so a role installation "completes" when the simulated time has passed, as seen by the next
    observer. Jobs run under the model lock held by the caller.
    """

    def __init__(self, clock: SimClock) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._jobs: list[_Job] = []
        self._seq = itertools.count()

    def call_later(self, delay: float, action: Callable[[], None], name: str = "") -> None:
        with self._lock:
            heapq.heappush(self._jobs, _Job(self.clock.now() + delay, next(self._seq), action, name))

    def pending(self) -> list[str]:
        with self._lock:
            return [job.name for job in sorted(self._jobs)]

    def run_due(self) -> int:
        ran = 0
        while True:
            with self._lock:
                if not self._jobs or self._jobs[0].due > self.clock.now():
                    return ran
                job = heapq.heappop(self._jobs)
            job.action()
            ran += 1
