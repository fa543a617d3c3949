"""The seam between the WinRM protocol layer and everything that executes commands.

The protocol layer (cmlab.wsman) knows nothing about PowerShell or ConfigMgr: when a WinRS command
has all of its standard input, it hands the command line and the input bytes to a Dispatcher and
sends back whatever CommandOutcome it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable


@dataclass
class CommandOutcome:
    stdout: bytes = b""
    stderr: bytes = b""
    rc: int = 0


@runtime_checkable
class Authorizer(Protocol):
    def authorize(self, host: str, principal: str) -> bool:
        """Whether `principal` may open a shell on `host` at all (WinRM lets members of the local
        Administrators and Remote Management Users groups in). A dispatcher without this method lets
        every authenticated principal in."""


class Dispatcher(Protocol):
    def run(self, host: str, command_line: str, stdin: bytes, runspace: dict | None = None, identity: str | None = None) -> CommandOutcome:
        """Execute one WinRS command (or PSRP pipeline) on simulated host `host`.

        `command_line` is rsp:Command and every rsp:Arguments joined with single spaces, exactly
        as cmd.exe would see it. `runspace` is None for a WinRS command (a new process each time)
        and, for a PSRP pipeline, the state its runspace keeps between pipelines (imported modules,
        PowerShell drives). `identity` is the authenticated principal of the shell (DOMAIN\\user): the
        rights the command runs with. Called from a worker thread; may block (simulated work).
        """
