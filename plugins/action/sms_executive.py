# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.sms_executive (documentation: plugins/modules/)."""

from __future__ import annotations

from dataclasses import dataclass

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _executive, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision
from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller

_SERVICE_STATES = {"started": "Running", "stopped": "Stopped", "restarted": "Running"}
_THREAD_OPERATIONS = {"started": _executive.START, "stopped": _executive.STOP, "restarted": _executive.RESTART}


@dataclass
class Want:
    state: str
    component: str | None
    timeout: int
    interval: int


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "state": {"type": "str", "required": True, "choices": ["started", "stopped", "restarted"]},
        "component": {"type": "str"},
        "wait_timeout": {"type": "int", "default": 300},
        "poll_interval": {"type": "int", "default": 5},
    }

    def desired(self, args):
        timeout, interval = _validation.wait_options(args["wait_timeout"], args["poll_interval"])
        return Want(args["state"], _validation.component(args["component"]), timeout, interval)

    def read_plan(self, want):
        return _executive.read_plan(want.component)

    def decide(self, want, observed):
        return decide(want, _executive.service_status(observed), *_executive.thread_state(observed))

    def apply(self, want, decision):
        poller = Poller(want.timeout, want.interval, seen=list(decision.result["states_seen"]))
        if want.component is None:
            written = self.run_writes(_executive.service_plan(want.state, "this host"))
            poller.note(_executive.service_status(written))
            target = _SERVICE_STATES[want.state]
            if poller.seen[-1] != target:  # Start/Stop/Restart-Service normally wait; a slow service may not have
                _executive.wait_for_service(self, None, target, poller)
        else:
            _executive.control_thread(self, None, want.component, decision.changes, poller, "this host")
        return {"states_seen": poller.seen}


def decide(want: Want, status: str | None, thread_state: str | None, requested: str | None) -> Decision:
    """Pure: what the task does to the service or to one of its threads."""
    if status is None:
        raise AnsibleActionFail(f"The {_executive.SERVICE} service does not exist on this host: is it a site system server?")
    result = {"service": _executive.SERVICE, "component": want.component}
    if want.component is None:
        changed = want.state == "restarted" or _SERVICE_STATES[want.state] != status
        return Decision(changed=changed, result={**result, "states_seen": [status]})
    _executive.require_thread(thread_state, want.component, "this host", "Run the task on the server that hosts the role.")
    if status != "Running":
        raise AnsibleActionFail(f"{_executive.SERVICE} is {status} on this host; start it before controlling {want.component}.")
    operations = _THREAD_OPERATIONS[want.state]
    if want.state != "restarted" and thread_state == operations[0][1]:
        operations = ()
    return Decision(
        changed=bool(operations), changes=operations, result={**result, "states_seen": [thread_state], "requested_operation": requested}
    )
