# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. SMS_Executive and its component threads.

There is no cmdlet to stop or start one component thread (facts §1.11); Configuration Manager
Service Manager writes `Requested Operation` = Stop / Start under
HKLM\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\<COMPONENT> on the server that runs the
component, and SMS_Executive reports progress in `Current State` (facts §4).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult

SERVICE = "SMS_EXECUTIVE"
THREADS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\"
THREAD_SELECT = {"Requested Operation": None, "Current State": None}
SERVICE_SELECT = {"Name": None, "Status": None}


def thread_path(component: str) -> str:
    return THREADS_KEY + component


def read_plan(component: str | None) -> Plan:
    plan = Plan()
    plan.add("service", "Get-Service", {"Name": SERVICE}, select=SERVICE_SELECT, on_error="continue")
    if component:
        plan.add("thread", "Get-ItemProperty", {"LiteralPath": thread_path(component)}, select=THREAD_SELECT,
                 on_error="continue")
    return plan


def service_status(result: PlanResult) -> str | None:
    step = result.steps.get("service")
    if step is None or not step.ok or not step.first:
        return None
    return str(step.first.get("Status"))


def thread_state(result: PlanResult) -> tuple[str | None, str | None]:
    """(Current State, Requested Operation), or (None, None) when the thread key does not exist."""
    step = result.steps.get("thread")
    if step is None or not step.ok or not step.first:
        return None, None
    return step.first.get("Current State"), step.first.get("Requested Operation")


def request_plan(component: str, operation: str) -> Plan:
    plan = Plan()
    plan.add("request", "Set-ItemProperty", {"LiteralPath": thread_path(component), "Name": "Requested Operation",
                                              "Value": operation})
    return plan


def service_plan(state: str) -> Plan:
    plan = Plan()
    if state == "restarted":
        plan.add("restart", "Restart-Service", {"Name": SERVICE, "Force": True})
    elif state == "started":
        plan.add("start", "Start-Service", {"Name": SERVICE})
    else:
        plan.add("stop", "Stop-Service", {"Name": SERVICE, "Force": True})
    plan.add("service", "Get-Service", {"Name": SERVICE}, select=SERVICE_SELECT)
    return plan


@dataclass
class Watch:
    """Polls until a state is reached or the deadline passes; remembers every state seen, in order."""

    timeout: float
    interval: float
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    seen: list[str] = field(default_factory=list)

    def note(self, state: str | None) -> None:
        if state and (not self.seen or self.seen[-1] != state):
            self.seen.append(state)

    def until(self, read: Callable[[], str | None], wanted: str, what: str) -> None:
        deadline = self.clock() + self.timeout
        while True:
            state = read()
            self.note(state)
            if state == wanted:
                return
            if self.clock() >= deadline:
                raise AnsibleActionFail(
                    f"{what} did not reach {wanted} within {self.timeout:g} seconds; states seen: {', '.join(self.seen) or 'none'}.")
            self.sleep(self.interval)
