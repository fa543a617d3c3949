"""The seam between the WinRM protocol layer and everything that executes commands.

The protocol layer (cmlab.wsman) knows nothing about PowerShell or ConfigMgr: when a WinRS command
has all of its standard input, it hands the command line and the input bytes to a Dispatcher and
sends back whatever CommandOutcome it gets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass
class CommandOutcome:
    stdout: bytes = b""
    stderr: bytes = b""
    rc: int = 0


class Dispatcher(Protocol):
    def run(self, host: str, command_line: str, stdin: bytes, runspace: dict | None = None) -> CommandOutcome:
        """Execute one WinRS command (or PSRP pipeline) on simulated host `host`.

        `command_line` is rsp:Command and every rsp:Arguments joined with single spaces, exactly
        as cmd.exe would see it. `runspace` is None for a WinRS command (a new process each time)
        and, for a PSRP pipeline, the state its runspace keeps between pipelines (imported modules,
        PowerShell drives). Called from a worker thread; may block (simulated work).
        """
