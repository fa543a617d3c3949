# Test-only callback: at every task boundary, reads cmlab's counters and state dump through the control API and
# writes one JSON line per task to $LAB_PROBE_FILE: the WinRM requests the task made, and the state after it when
# it differs from the state before it. The hostile-input and secrets suites judge each task from these lines, so a
# whole table of cases costs one ansible-playbook run.
from __future__ import annotations

import json
import os
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: lab_probe
type: aggregate
short_description: per-task cmlab requests and state changes (tests only)
description: Snapshots cmlab's counters and state at each task start and at the end of the run.
requirements: [CMLAB_CONTROL_URL, CMLAB_CONTROL_TOKEN_FILE and LAB_PROBE_FILE set]
"""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "lab_probe"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._task = None
        self._requests = 0
        self._state = None

    def _get(self, path: str):
        with open(os.environ["CMLAB_CONTROL_TOKEN_FILE"], encoding="utf-8") as fh:
            token = fh.read().strip()
        request = urllib.request.Request(os.environ["CMLAB_CONTROL_URL"].rstrip("/") + path, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return json.loads(resp.read().decode())

    def _snapshot(self):
        requests = sum(h.get("requests", 0) for h in self._get("/counters").values())
        return requests, json.dumps(self._get("/state"), sort_keys=True)

    def _close_task(self):
        if self._task is None:
            return
        requests, state = self._snapshot()
        row = {"task": self._task, "requests": requests - self._requests}
        if state != self._state:
            row["state_before"] = json.loads(self._state)
            row["state_after"] = json.loads(state)
        with open(os.environ["LAB_PROBE_FILE"], "a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        self._task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self._task = task.get_name()
        self._requests, self._state = self._snapshot()

    def v2_playbook_on_handler_task_start(self, task):
        self.v2_playbook_on_task_start(task, False)

    def v2_playbook_on_stats(self, stats):
        self._close_task()
