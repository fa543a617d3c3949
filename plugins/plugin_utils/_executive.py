# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. SMS_Executive and its component threads.

There is no cmdlet to stop or start one component thread (docs/configmgr-behaviour.md#status-messages);
Configuration Manager Service Manager writes `Requested Operation` = Stop / Start under
HKLM\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\<COMPONENT> on the server that runs the
component, and SMS_Executive reports progress in `Current State`
(docs/configmgr-behaviour.md#sms-executive-threads).

`control_thread` is the one thread-restart helper: sms_executive and service_connection_point
(restart_downloader) both use it.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._action import WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult

SERVICE = "SMS_EXECUTIVE"
THREADS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\"
THREAD_SELECT = {"Requested Operation": None, "Current State": None}
SERVICE_SELECT = {"Name": None, "Status": None}

# (Requested Operation, the Current State that shows it done)
RESTART = (("Stop", "Stopped"), ("Start", "Running"))
START = (("Start", "Running"),)
STOP = (("Stop", "Stopped"),)


def thread_path(component: str) -> str:
    return THREADS_KEY + component


def read_plan(component: str | None) -> Plan:
    plan = Plan()
    plan.add("service", "Get-Service", {"Name": SERVICE}, select=SERVICE_SELECT, on_error="continue")
    if component:
        plan.add("thread", "Get-ItemProperty", {"LiteralPath": thread_path(component)}, select=THREAD_SELECT, on_error="continue")
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


def request_plan(component: str, operation: str, where: str) -> WritePlan:
    plan = WritePlan()
    plan.write(
        "request",
        "Set-ItemProperty",
        {"LiteralPath": thread_path(component), "Name": "Requested Operation", "Value": operation},
        does=f"request {operation} of {component} on {where}",
    )
    return plan


def service_plan(state: str, where: str) -> WritePlan:
    plan = WritePlan()
    if state == "restarted":
        plan.write("restart", "Restart-Service", {"Name": SERVICE, "Force": True}, does=f"restart {SERVICE} on {where}")
    elif state == "started":
        plan.write("start", "Start-Service", {"Name": SERVICE}, does=f"start {SERVICE} on {where}")
    else:
        plan.write("stop", "Stop-Service", {"Name": SERVICE, "Force": True}, does=f"stop {SERVICE} on {where}")
    plan.add("service", "Get-Service", {"Name": SERVICE}, select=SERVICE_SELECT)
    return plan


def wait_for_service(action, host, status: str, poller: Poller) -> None:
    poller.until(
        lambda: service_status(action.read(read_plan(None), host)),
        lambda s: s == status,
        on_timeout=lambda p: f"{SERVICE} did not reach {status} within {p.timeout:g} seconds; states seen: {p.states_seen()}.",
    )


def control_thread(action, host, component: str, operations, poller: Poller, where: str) -> None:
    """Request each operation in turn and wait until the thread's Current State shows it done.

    `action` is the ConfigMgrAction of the task (its writes are remembered for partial failures);
    `host` is where the component runs: None for the task's own host, or a RemoteHost.
    """

    def current() -> str | None:
        return thread_state(action.read(read_plan(component), host))[0]

    for operation, reached in operations:
        action.run_writes(request_plan(component, operation, where), host)
        poller.until(
            current,
            lambda state, reached=reached: state == reached,
            on_timeout=lambda p, reached=reached: (
                f"{component} on {where} did not reach {reached} within {p.timeout:g} seconds; states seen: {p.states_seen()}."
            ),
        )


def require_thread(state: str | None, component: str, where: str, hint: str) -> None:
    if state is None:
        raise AnsibleActionFail(f"{component} is not a component of SMS_Executive on {where} (no key {thread_path(component)}). {hint}")
