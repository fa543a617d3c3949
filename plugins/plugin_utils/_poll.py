# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The one poller of the collection.

Every wait (a site system role installing or uninstalling, a component thread stopping and starting,
SMS_Executive restarting) reads, notes what it saw, and stops when the goal is reached, when a read
shows a failure, or at the deadline. Each read is one engine invocation; the poller never sleeps after
the last read.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ansible.errors import AnsibleActionFail

T = TypeVar("T")


class WaitFailed(AnsibleActionFail):
    """A wait that failed (a failure was read) or timed out; carries the poller with what it saw."""

    def __init__(self, message: str, poller: Poller, timed_out: bool = False):
        super().__init__(message)
        self.poller = poller
        self.timed_out = timed_out


@dataclass
class Poller:
    """Polls `read` every `interval` seconds until `reached`, a failure, or `timeout` seconds have passed.

    `seen` keeps every state seen, in order, without repeats; `polls` counts the reads; `elapsed` is
    the time from the first read to the last.
    """

    timeout: float
    interval: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    seen: list[str] = field(default_factory=list)
    polls: int = 0
    elapsed: float = 0.0

    def note(self, state: str | None) -> None:
        if state and (not self.seen or self.seen[-1] != state):
            self.seen.append(state)

    def until(
        self,
        read: Callable[[], T],
        reached: Callable[[T], bool],
        *,
        describe: Callable[[T], str | None] = lambda value: None if value is None else str(value),
        failure: Callable[[T], str | None] = lambda value: None,
        on_timeout: Callable[[Poller], str],
        first: T | None = None,
    ) -> T:
        """The value of the read that reached the goal. WaitFailed when `failure(value)` says why it
        cannot be reached, or with `on_timeout(self)` at the deadline.

        `first`: what the caller already read (a write plan that read the state back in its own
        invocation): it counts as the first poll, and the first read comes one interval later."""
        start = self.clock()
        value = first
        while True:
            if value is None:
                value = read()
            self.polls += 1
            self.elapsed = self.clock() - start
            self.note(describe(value))
            if reached(value):
                return value
            reason = failure(value)
            if reason:
                raise WaitFailed(reason, self)
            if self.elapsed >= self.timeout:
                raise WaitFailed(on_timeout(self), self, timed_out=True)
            self.sleep(self.interval)
            value = None

    def last_seen(self) -> str:
        return self.seen[-1] if self.seen else "nothing"

    def states_seen(self) -> str:
        return ", ".join(self.seen) or "none"


def progress(poller: Poller, **extra: Any) -> dict:
    """What a wait reports in the result."""
    return {"states_seen": list(poller.seen), **extra, "polls": poller.polls, "elapsed": round(poller.elapsed, 1)}
