"""Per-host counters: what a benchmark or a test reads to see what a task cost."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from cmlab.costmodel import CostModel

PLAN_JOURNAL = 1000  # the plans journal keeps the last ones


class HostCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0  # HTTP requests received by the WinRM listener(s) of the host
        self.bytes_in = 0  # request bytes (headers excluded, body as received: encrypted if it was)
        self.bytes_out = 0  # response body bytes
        self.commands = 0  # WinRS commands started
        self.engine_invocations = 0
        # Each invocation's step ids ("sites+roles") and its estimated Windows seconds (engine side, see
        # Accounting.invocation), in order: what ran where, and what it cost.
        self._plans: list[list] = []
        self.cmdlet_calls: Counter[str] = Counter()
        self.bytes_in_by_action: Counter[str] = Counter()  # Create, Command, Send, ..., "auth" (handshake)
        self.estimates: Counter[str] = Counter()  # cost model event -> estimated Windows seconds

    def add_request(self, bytes_in: int, bytes_out: int, action: str = "") -> None:
        with self._lock:
            self.requests += 1
            self.bytes_in += bytes_in
            self.bytes_out += bytes_out
            self.bytes_in_by_action[action or "other"] += bytes_in

    def add_command(self) -> None:
        with self._lock:
            self.commands += 1

    def add_engine_invocation(self) -> None:
        with self._lock:
            self.engine_invocations += 1

    def add_plan(self, step_ids: list[str]) -> list:
        """The journal's record of a plan: [step ids, estimated seconds], the seconds filled in when it ends."""
        record = ["+".join(step_ids), 0.0]
        with self._lock:
            self._plans.append(record)
            del self._plans[:-PLAN_JOURNAL]
        return record

    @property
    def plans(self) -> list[str]:
        with self._lock:
            return [record[0] for record in self._plans]

    def add_cmdlet_call(self, cmdlet: str) -> None:
        with self._lock:
            self.cmdlet_calls[cmdlet] += 1

    def add_estimate(self, event: str, seconds: float) -> None:
        with self._lock:
            self.estimates[event] += seconds

    def snapshot(self) -> dict:
        with self._lock:
            return {
                "requests": self.requests,
                "bytes_in": self.bytes_in,
                "bytes_out": self.bytes_out,
                "commands": self.commands,
                "engine_invocations": self.engine_invocations,
                "plans": [record[0] for record in self._plans],
                "plan_seconds": [round(record[1], 3) for record in self._plans],
                "cmdlet_calls": dict(sorted(self.cmdlet_calls.items())),
                "bytes_in_by_action": dict(sorted(self.bytes_in_by_action.items())),
                "estimated_windows_seconds": round(sum(self.estimates.values()), 3),
                "estimated_windows_breakdown": {k: round(v, 3) for k, v in sorted(self.estimates.items())},
            }

    def reset(self) -> None:
        with self._lock:
            self.requests = self.bytes_in = self.bytes_out = 0
            self.commands = self.engine_invocations = 0
            self.cmdlet_calls.clear()
            self._plans.clear()
            self.bytes_in_by_action.clear()
            self.estimates.clear()


class Accounting:
    """All hosts' counters, created on first use. With a cost model, `charge` adds estimated
    Windows seconds (cmlab/costmodel.py); without one it does nothing."""

    def __init__(self, cost_model: CostModel | None = None) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, HostCounters] = {}
        self.cost_model = cost_model
        self._local = threading.local()  # the engine invocation this thread runs, if any (invocation)

    def host(self, name: str) -> HostCounters:
        with self._lock:
            return self._hosts.setdefault(name.lower(), HostCounters())

    def charge(self, name: str, event: str, times: int = 1) -> None:
        """Record that `name` did the work of `event` (`times` over) in the cost model's terms."""
        if self.cost_model is not None and times > 0:
            seconds = self.cost_model.seconds(event) * times
            self.host(name).add_estimate(event, seconds)
            scope = getattr(self._local, "scope", None)
            if scope is not None and scope[0] == name.lower():
                scope[1] += seconds

    @contextmanager
    def invocation(self, name: str) -> Iterator[None]:
        """One engine invocation on `name`, run by this thread: what it is charged (powershell.exe, the engine, the
        module and drive, CIM, cmdlets; not the shell and the WinRM requests around it) goes to its plan's record
        in the journal too (add_plan), so that `make bench` can say what each plan cost."""
        scope = [name.lower(), 0.0, None]
        previous = getattr(self._local, "scope", None)
        self._local.scope = scope
        try:
            yield
        finally:
            self._local.scope = previous
            if scope[2] is not None:
                scope[2][1] += scope[1]

    def add_plan(self, name: str, step_ids: list[str]) -> None:
        """Journal a plan on `name`; inside `invocation`, the invocation's charges are its cost."""
        record = self.host(name).add_plan(step_ids)
        scope = getattr(self._local, "scope", None)
        if scope is not None and scope[0] == name.lower():
            scope[2] = record

    def snapshot(self) -> dict:
        with self._lock:
            hosts = dict(self._hosts)
        return {name: c.snapshot() for name, c in sorted(hosts.items())}

    def reset(self) -> None:
        with self._lock:
            hosts = list(self._hosts.values())
        for c in hosts:
            c.reset()
