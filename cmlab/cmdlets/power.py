"""Restart-Computer on a simulated host (docs/configmgr-behaviour.md#tls-prerequisites: TLS 1.2 for .NET
takes effect after a restart).

`Restart-Computer -Force` returns at once, as on Windows; `shutdown_delay` simulated seconds later the
host goes down: its services stop and its WinRM listeners go away (a `host_down` fault the lab adds,
marked `{"reason": "restart"}`), `down` seconds later it boots: the fault is gone, services of start
type Automatic start (SMS_EXECUTIVE and its threads with them), .NET reads its TLS settings afresh and
`Win32_OperatingSystem.LastBootUpTime` moves. Only the local computer restarts; without `-Force` the
command fails as Windows does when other users are logged on (assumption: a WinRM session always
counts as one).
"""

from __future__ import annotations

from cmlab.faults import Faults

from .base import Invocation, cmdlet
from .errors import CmdletError, not_simulated


def _is_local(inv: Invocation, name: str) -> bool:
    return name.lower().rstrip(".") in (inv.host.fqdn, inv.host.netbios_name.lower(), "localhost", ".", "127.0.0.1")


def bridge_power_to_listeners(host, faults: Faults) -> None:
    """While the host is down, its WinRM listeners refuse connections (a host_down fault of its own)."""
    bridged = getattr(host, "_power_bridges", None)
    if bridged is None:
        bridged = host._power_bridges = set()
    if id(faults) in bridged:
        return
    bridged.add(id(faults))
    current: list = []

    def on_power(event: str) -> None:
        if event == "shutdown":
            current.append(faults.add("host_down", host.fqdn, reason="restart"))
        elif event == "boot":
            while current:
                faults.remove(current.pop())

    host.on_power(on_power)


@cmdlet("Restart-Computer", ("Force", "ComputerName", "WhatIf", "Confirm"))
def restart_computer(inv: Invocation) -> list:
    for name in inv.get("ComputerName") or []:
        if not _is_local(inv, str(name)):
            raise not_simulated(inv.cmdlet, f"for another computer ({name}); restart each host from its own session")
    if not inv.switch("Force"):
        raise CmdletError.of(
            inv.cmdlet,
            "RestartcomputerFailed",
            f"Failed to restart the computer {inv.host.netbios_name} with the following error message: The system "
            "shutdown cannot be initiated because there are other users logged on to the computer.",
            "OperationStopped",
            "System.InvalidOperationException",
        )
    if inv.what_if:
        return []
    with inv.model.lock:
        bridge_power_to_listeners(inv.host, inv.faults)
        inv.host.restart()  # a restart already under way is left to finish
    return []
