# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.sms_executive (documentation: plugins/modules/)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _executive
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import run_plan

_COMPONENT = re.compile(r"^SMS_[A-Z0-9_]{1,60}$")
_SERVICE_STATES = {"started": "Running", "stopped": "Stopped"}
_THREAD_TARGETS = {"started": ("Start", "Running"), "stopped": ("Stop", "Stopped")}


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    ARGUMENT_SPEC = {
        "state": {"type": "str", "required": True, "choices": ["started", "stopped", "restarted"]},
        "component": {"type": "str"},
        "wait_timeout": {"type": "int", "default": 300},
        "poll_interval": {"type": "int", "default": 5},
    }

    def execute(self, args, provider, task_vars):
        component = args["component"]
        if component is not None:
            component = component.upper()
            if not _COMPONENT.fullmatch(component):
                raise AnsibleActionFail(
                    f"component must be an SMS_Executive component name such as SMS_DMP_DOWNLOADER, got {args['component']!r}.")
        if args["wait_timeout"] < 1 or args["poll_interval"] < 1:
            raise AnsibleActionFail("wait_timeout and poll_interval must be at least 1 second.")
        watch = _executive.Watch(timeout=args["wait_timeout"], interval=min(args["poll_interval"], args["wait_timeout"]))
        current = run_plan(self, _executive.read_plan(component))
        status = _executive.service_status(current)
        if status is None:
            raise AnsibleActionFail(f"The {_executive.SERVICE} service does not exist on this host: is it a site system server?")
        if component is None:
            return self._service(args["state"], status, watch)
        return self._thread(args["state"], component, status, current, watch)

    def _service(self, state, status, watch):
        watch.note(status)
        changed = state == "restarted" or _SERVICE_STATES[state] != status
        result = {"changed": changed, "service": _executive.SERVICE, "component": None, "states_seen": watch.seen}
        if not changed or self.check_mode:
            return result
        written = run_plan(self, _executive.service_plan(state))
        watch.note(_executive.service_status(written))
        target = "Stopped" if state == "stopped" else "Running"
        if watch.seen[-1] != target:  # Start/Stop/Restart-Service normally wait; a slow service may not have
            watch.until(lambda: _executive.service_status(run_plan(self, _executive.read_plan(None))), target,
                        _executive.SERVICE)
        return result

    def _thread(self, state, component, status, current, watch):
        thread_state, requested = _executive.thread_state(current)
        if thread_state is None:
            raise AnsibleActionFail(
                f"{component} is not a component of SMS_Executive on this host (no key {_executive.thread_path(component)}). "
                "Run the task on the server that hosts the role.")
        if status != "Running":
            raise AnsibleActionFail(f"{_executive.SERVICE} is {status} on this host; start it before controlling {component}.")
        watch.note(thread_state)
        steps = [("Stop", "Stopped"), ("Start", "Running")] if state == "restarted" else [_THREAD_TARGETS[state]]
        if state != "restarted" and thread_state == steps[0][1]:
            steps = []
        result = {"changed": bool(steps), "service": _executive.SERVICE, "component": component,
                  "states_seen": watch.seen, "requested_operation": requested}
        if not steps or self.check_mode:
            return result

        def read() -> str | None:
            return _executive.thread_state(run_plan(self, _executive.read_plan(component)))[0]

        for operation, reached in steps:
            run_plan(self, _executive.request_plan(component, operation))
            watch.until(read, reached, component)
        result["states_seen"] = watch.seen
        return result
