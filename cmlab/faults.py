"""Injected faults, set from the topology or at run time through the control API.

A fault is a kind plus options, attached to one host (or "*" for every host). Layers ask
`faults.active(host, kind)`; a fault with `count` set is consumed each time it fires and
disappears when the count reaches zero, so a test can break exactly one request.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

# Transport faults (cmlab.wsman): host_down, bad_credentials, http_500, wsman_fault, delay
# Engine faults (cmlab.engine / cmdlets): provider_unavailable, install_failure, sct_access_denied
KINDS = frozenset({
    "host_down",            # listener refuses connections (connection refused)
    "bad_credentials",      # every login is rejected (401), as after a password change
    "http_500",             # next request(s) answered with HTTP 500 and a non-SOAP body
    "wsman_fault",          # a WS-Man fault in the middle of a command (on Receive)
    "delay",                # hold each response `seconds` before answering
    "provider_unavailable", # Import-Module ConfigurationManager / the CMSite drive fails
    "install_failure",      # Site Component Manager fails to install roles on the host
    "sct_access_denied",    # ServiceConnectionTool.exe -connect ends with the harmless UnauthorizedAccessException
})


@dataclass
class Fault:
    kind: str
    host: str = "*"
    count: int | None = None          # None: until cleared
    options: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "host": self.host, "count": self.count, "options": dict(self.options)}


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, kind: str, host: str = "*", count: int | None = None, **options) -> Fault:
        if kind not in KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(sorted(KINDS))}")
        fault = Fault(kind=kind, host=host.lower(), count=count, options=options)
        with self._lock:
            self._faults.append(fault)
        return fault

    def clear(self, kind: str | None = None, host: str | None = None) -> None:
        with self._lock:
            self._faults = [
                f for f in self._faults
                if not ((kind is None or f.kind == kind) and (host is None or f.host == host.lower()))
            ]

    def remove(self, fault: Fault) -> None:
        """Remove one fault (by identity), leaving others of the same kind and host."""
        with self._lock:
            self._faults = [f for f in self._faults if f is not fault]

    def peek(self, host: str, kind: str) -> Fault | None:
        """The matching fault without consuming it."""
        with self._lock:
            return self._match(host, kind)

    def fire(self, host: str, kind: str) -> Fault | None:
        """The matching fault, consuming one use of a counted fault."""
        with self._lock:
            fault = self._match(host, kind)
            if fault is not None and fault.count is not None:
                fault.count -= 1
                if fault.count <= 0:
                    self._faults.remove(fault)
            return fault

    def _match(self, host: str, kind: str) -> Fault | None:
        host = host.lower()
        for f in self._faults:
            if f.kind == kind and f.host in ("*", host):
                return f
        return None

    def to_list(self) -> list[dict]:
        with self._lock:
            return [f.to_dict() for f in self._faults]
