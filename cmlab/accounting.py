"""Per-host counters: what a benchmark or a test reads to see what a task cost."""

from __future__ import annotations

import threading
from collections import Counter

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
        self.plans: list[str] = []  # each invocation's step ids ("sites+roles"), in order: what ran where
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

    def add_plan(self, step_ids: list[str]) -> None:
        with self._lock:
            self.plans.append("+".join(step_ids))
            del self.plans[:-PLAN_JOURNAL]

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
                "plans": list(self.plans),
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
            self.plans.clear()
            self.bytes_in_by_action.clear()
            self.estimates.clear()


class Accounting:
    """All hosts' counters, created on first use. With a cost model, `charge` adds estimated
    Windows seconds (cmlab/costmodel.py); without one it does nothing."""

    def __init__(self, cost_model: CostModel | None = None) -> None:
        self._lock = threading.Lock()
        self._hosts: dict[str, HostCounters] = {}
        self.cost_model = cost_model

    def host(self, name: str) -> HostCounters:
        with self._lock:
            return self._hosts.setdefault(name.lower(), HostCounters())

    def charge(self, name: str, event: str, times: int = 1) -> None:
        """Record that `name` did the work of `event` (`times` over) in the cost model's terms."""
        if self.cost_model is not None and times > 0:
            self.host(name).add_estimate(event, self.cost_model.seconds(event) * times)

    def snapshot(self) -> dict:
        with self._lock:
            hosts = dict(self._hosts)
        return {name: c.snapshot() for name, c in sorted(hosts.items())}

    def reset(self) -> None:
        with self._lock:
            hosts = list(self._hosts.values())
        for c in hosts:
            c.reset()
