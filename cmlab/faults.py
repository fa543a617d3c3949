"""Injected faults, set from the topology or at run time through the control API.

A fault is a kind plus options, attached to one host (or "*" for every host). Layers ask
`faults.active(host, kind)`; a fault with `count` set is consumed each time it fires and
disappears when the count reaches zero, so a test can break exactly one request.

A fault can also wait for its moment (`at_command` in its options): it strikes at the N-th WinRS
command (one engine invocation) the host receives after the fault was added, `phase` `before`
(the Command request itself: the command never starts) or `after` (the Receive that would deliver
the finished command's output: the command ran, its result is lost). Until then it is dormant.
The WinRM listener tells the faults when a command starts (`note(host, "before")`) and when its
result goes out (`note(host, "after")`); request faults (http_500, wsman_fault, delay) that wait
for a command then strike that one request (`fire(host, kind, phase=...)`, once unless `count`
says more), the others (host_down, bad_credentials, provider_unavailable, ...) are simply active
from that moment on.

`at_plan` (with `occurrence`, default 1) waits for a plan instead: the engine tells the faults the step
ids of each plan it is about to run (`note_plan`), so the fault strikes that plan whatever came before it
(the number of polls of a wait varies). `after`: the Receive of its result, as above. `before`: the plan
does not run, and its result is lost as for `after` (a request fault or host_down: the server lost the
command after it arrived); the other kinds are active from that plan on. docs/cmlab.md "Faults".
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# Transport faults (cmlab.wsman): host_down, bad_credentials, http_500, wsman_fault, delay
# Engine faults (cmlab.engine / cmdlets): provider_unavailable, install_failure, sct_access_denied
KINDS = frozenset(
    {
        "host_down",  # listener refuses connections (connection refused)
        "bad_credentials",  # every login is rejected (401), as after a password change
        "http_500",  # next request(s) answered with HTTP 500 and a non-SOAP body
        "wsman_fault",  # a WS-Man fault in the middle of a command (on Receive)
        "delay",  # hold each response `seconds` before answering
        "provider_unavailable",  # Import-Module ConfigurationManager / the CMSite drive fails
        "install_failure",  # Site Component Manager fails to install roles on the host
        "sct_access_denied",  # ServiceConnectionTool.exe -connect ends with the harmless UnauthorizedAccessException
    }
)
# Faults that act on one request: when they wait for a command, they strike that command's request.
REQUEST_KINDS = frozenset({"http_500", "wsman_fault", "delay"})
PHASES = ("before", "after")


@dataclass
class Fault:
    kind: str
    host: str = "*"
    count: int | None = None  # None: until cleared
    options: dict = field(default_factory=dict)
    at_command: int | None = None  # strike at the host's N-th WinRS command after it was added
    phase: str = "before"  # ... on its Command request, or on the Receive of its result
    armed: bool = True  # False while it waits for its command
    seen: dict = field(default_factory=lambda: {"before": 0, "after": 0, "plan": 0})
    at_plan: str | None = None  # or: strike the plan with these step ids ("sites+roles") ...
    occurrence: int = 1  # ... the occurrence-th time it runs on the host

    @property
    def waits(self) -> bool:
        return self.at_command is not None or self.at_plan is not None

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "host": self.host, "count": self.count, "options": dict(self.options)}
        if self.waits:
            out["armed"] = self.armed
        return out


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, host: str = "*", count: int | None = None, **options) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        at_command, phase = options.get("at_command"), str(options.get("phase", "before"))
        at_plan, occurrence = options.get("at_plan"), options.get("occurrence", 1)
        if at_command is not None and at_plan is not None:
            raise ValueError("a fault waits for at_command or for at_plan, not both")
        if at_command is not None or at_plan is not None:
            for name, value in (("at_command", at_command), ("occurrence", occurrence)):
                if value is not None and (isinstance(value, bool) or not str(value).isdigit() or int(value) < 1):
                    raise ValueError(f"{name} must be a number from 1, got {value!r}")
            if at_plan is not None and (not isinstance(at_plan, str) or not at_plan):
                raise ValueError(f"at_plan must be the step ids of a plan joined with '+', got {at_plan!r}")
            if phase not in PHASES:
                raise ValueError(f"phase must be one of {', '.join(PHASES)}, got {phase!r}")
            at_command = int(at_command) if at_command is not None else None
            if count is None and kind in REQUEST_KINDS:
                count = 1  # one request of that command, not every later one
        fault = Fault(
            kind=kind,
            host=host.lower(),
            count=count,
            options=options,
            at_command=at_command,
            phase=phase,
            armed=at_command is None and at_plan is None,
            at_plan=at_plan,
            occurrence=int(occurrence),
        )
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, kind: str | None = None, host: str | None = None) -> None:
        with self._lock:
            self._faults = [f for f in self._faults if not ((kind is None or f.kind == kind) and (host is None or f.host == host.lower()))]

    def remove(self, fault: Fault) -> None:
        """Remove one fault (by identity), leaving others of the same kind and host."""
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]

    def note(self, host: str, phase: str) -> None:
        """A WinRS command starts on `host` (phase "before") or its result goes out ("after"): faults
        waiting for that command wake up."""
        host = host.lower()
        with self._lock:
            for f in self._faults:
                if f.armed or f.at_command is None or f.host not in ("*", host):
                    continue
                f.seen[phase] += 1
                if f.phase == phase and f.seen[phase] == f.at_command:
                    f.armed = True

    def note_plan(self, host: str, step_ids: str) -> bool:
        """The engine is about to run a plan (its step ids joined with '+') on `host`: faults waiting for it wake
        up. True when the plan must not run (a request fault or host_down struck `before` it: the server lost the
        command, and the Receive of its result fails)."""
        host, skip = host.lower(), False
        with self._lock:
            for f in self._faults:
                if f.armed or f.at_plan != step_ids or f.host not in ("*", host):
                    continue
                f.seen["plan"] += 1
                if f.seen["plan"] == f.occurrence:
                    f.armed = True
                    if f.phase == "before" and (f.kind in REQUEST_KINDS or f.kind == "host_down"):
                        f.phase, skip = "after", True
        return skip

    def peek(self, host: str, kind: str, phase: str | None = None) -> Fault | None:
        """The matching fault without consuming it."""
        with self._lock:
            return self._match(host, kind, phase)

    def fire(self, host: str, kind: str, phase: str | None = None) -> Fault | None:
        """The matching fault, consuming one use of a counted fault. Without `phase`: faults that do not
        wait for a command, and those that waited and now simply act (host_down, ...); with `phase`: request
        faults whose command has come, at that phase."""
        with self._lock:
            fault = self._match(host, kind, phase)
            if fault is not None and fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
            return fault

    def _match(self, host: str, kind: str, phase: str | None = None) -> Fault | None:
        host = host.lower()
        for f in self._faults:
            if f.kind != kind or f.host not in ("*", host) or not f.armed:
                continue
            waited = f.waits
            if phase is None and (not waited or kind not in REQUEST_KINDS):
                return f
            if phase is not None and waited and kind in REQUEST_KINDS and f.phase == phase:
                return f
        return None

    def to_list(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._faults]
