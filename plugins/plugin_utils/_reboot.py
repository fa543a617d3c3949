# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Reboot the host a task runs on, and wait until it is back.

The idea of ansible.windows' win_reboot, through the collection's engine: note the boot time
(Win32_OperatingSystem.LastBootUpTime), run `Restart-Computer -Force` (the host may drop the connection
before it answers: that is the reboot under way, not a failure), then read the boot time again until it
has changed. While the host is down every read fails: the connection is closed and built afresh for the
next read (a WinRM shell does not survive a reboot), with a growing pause between tries, up to a deadline.
Only a changed boot time proves the reboot: a host that answers with the old one has not gone down yet.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible.errors import AnsibleActionFail
from ansible.utils.display import Display

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import TransportError

display = Display()

# What the task still owes once the restart is sent: a module that reboots lists it among its pending actions, so
# that a wait cut short says it is not done.
CONFIRM = "see the server come back from its reboot"


@dataclass
class RebootOutcome:
    boot_time: str
    elapsed: float
    attempts: int
    failures: list[str] = field(default_factory=list)


def reboot_and_wait(
    restart: Callable[[], None],
    read_boot_time: Callable[[], str | None],
    reset: Callable[[], None],
    previous: str | None,
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
    max_pause: float = 10.0,
    first_pause: float = 2.0,
) -> RebootOutcome:
    """`restart()` starts the reboot; `read_boot_time()` is one read of LastBootUpTime (raises while the
    host cannot be reached); `reset()` drops the connection so that the next read builds a new one."""
    start = clock()
    lost: TransportError | None = None  # the restart's answer never came: its writes may or may not have run
    try:
        restart()
    except TransportError as e:
        if e.ran is False:
            raise  # the plan never reached the host: nothing was written and no reboot was asked for
        lost = e
        display.vvvv(f"configmgr.scp: the connection dropped under the restart ({e.reason}); waiting for the reboot")
        _reset(reset)
    except AnsibleActionFail as e:
        if getattr(e, "step", None):
            raise  # Windows refused the command itself: a real failure
        # No result document at all: the host went down while answering.
        display.vvvv("configmgr.scp: no answer to the restart; waiting for the reboot")
        _reset(reset)
    except Exception as e:  # noqa: BLE001 -- the connection went down under the command: it is rebooting
        display.vvvv(f"configmgr.scp: the connection dropped while restarting ({type(e).__name__}); waiting")
        _reset(reset)
    attempts, failures, pause = 0, [], 1.0
    last_error: Exception | None = None
    # Windows takes a moment to go down after Restart-Computer returns; a read at once would only find the
    # old boot time (one engine invocation for nothing).
    sleep(min(first_pause, timeout))
    while True:
        attempts += 1
        try:
            current = read_boot_time()
        except Exception as e:  # noqa: BLE001 -- down, or coming up: every failure is retried until the deadline
            failures.append(_one_line(e))
            last_error = e
            _reset(reset)
            current = None
        if current and current != previous:
            return RebootOutcome(current, round(clock() - start, 1), attempts, failures)
        elapsed = clock() - start
        if elapsed >= timeout:
            if isinstance(last_error, TransportError):
                # Unreachable to the end: a transport failure of this step, worded like every other one (what is
                # done, unknown and not done); the writes of a restart whose answer was lost are unknown.
                last_error.purpose = (
                    f"waiting for the server to come back from its reboot, up to reboot_timeout ({timeout:g} s); "
                    f"Win32_OperatingSystem.LastBootUpTime was still {previous}"
                )
                if lost is not None:
                    last_error.writes, last_error.ran = list(lost.writes), None
                raise last_error
            last = f" The last error: {failures[-1]}" if failures else " It kept answering with the old boot time."
            raise AnsibleActionFail(
                f"The server did not come back from its reboot within reboot_timeout ({timeout:g} s): "
                f"Win32_OperatingSystem.LastBootUpTime never changed from {previous}.{last}"
            )
        sleep(min(pause, max(timeout - elapsed, 0.1)))
        pause = min(pause * 2, max_pause)


def _reset(reset: Callable[[], None]) -> None:
    try:
        reset()
    except Exception as e:  # noqa: BLE001 -- a host that is down cannot close its shell: the next read connects anew
        display.vvvv(f"configmgr.scp: resetting the connection failed ({type(e).__name__}); trying again later")


def _one_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return f"{type(error).__name__}: {text[-1] if text else ''}"[:300]


def reset_connection(connection) -> None:
    """Close the connection (its WinRM shell died with the host) so that the next command connects anew;
    then reset() for plugins whose reset does more than close."""
    try:
        connection.close()
    finally:
        connection.reset()
