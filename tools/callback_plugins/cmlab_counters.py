# Benchmark-only callback: reads cmlab's counters at every task boundary and writes, per task, what
# the task cost on the wire (requests, bytes, engine invocations) to $CMLAB_COUNTERS_FILE.
from __future__ import annotations

import json
import os
import urllib.request

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = """
name: cmlab_counters
type: aggregate
short_description: per-task cmlab counters (benchmarks only)
description: Snapshots the cmlab control API counters at each task start and at the end of the run.
requirements: [CMLAB_CONTROL_URL, CMLAB_CONTROL_TOKEN_FILE and CMLAB_COUNTERS_FILE set]
"""


def _totals(snapshot: dict) -> dict:
    keys = ("requests", "bytes_in", "bytes_out", "commands", "engine_invocations")
    totals = {k: sum(h.get(k, 0) for h in snapshot.values()) for k in keys}
    totals["cmdlet_calls"] = sum(sum(h.get("cmdlet_calls", {}).values()) for h in snapshot.values())
    # The engine invocation's own requests, apart from the connection's (auth handshake, shell
    # Create/Delete), which a task pays once however many invocations it makes.
    command_actions = ("Command", "Send", "Receive", "Signal")
    totals["command_bytes_in"] = sum(h.get("bytes_in_by_action", {}).get(a, 0) for h in snapshot.values() for a in command_actions)
    # Request bytes and engine invocations per host: a task that reads two hosts opens a WinRM shell on each.
    for host, h in snapshot.items():
        totals[f"host_bytes:{host}"] = h.get("bytes_in", 0)
        totals[f"host_invocations:{host}"] = h.get("engine_invocations", 0)
    # Request bytes by WS-Management action ("auth" is the NTLM handshake): what `make bench` breaks down.
    for h in snapshot.values():
        for action, count in h.get("bytes_in_by_action", {}).items():
            totals[f"bytes:{action}"] = totals.get(f"bytes:{action}", 0) + count
    # cmlab's cost model: what the same work would take on real Windows (estimates, docs/cmlab.md).
    totals["estimated_windows_seconds"] = sum(h.get("estimated_windows_seconds", 0) for h in snapshot.values())
    for h in snapshot.values():
        for event, seconds in h.get("estimated_windows_breakdown", {}).items():
            totals[f"estimate:{event}"] = totals.get(f"estimate:{event}", 0) + seconds
    return totals


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "cmlab_counters"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._task = None
        self._start = None
        self._changed: dict[str, bool] = {}
        self._rows = []

    def _snapshot(self) -> dict:
        url = os.environ["CMLAB_CONTROL_URL"].rstrip("/") + "/counters"
        with open(os.environ["CMLAB_CONTROL_TOKEN_FILE"], encoding="utf-8") as fh:
            token = fh.read().strip()
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as resp:
            return _totals(json.loads(resp.read().decode()))

    def _close_task(self):
        if self._task is None:
            return
        end = self._snapshot()
        row = {k: end[k] - self._start.get(k, 0) for k in end}
        row.update(task=self._task, changed=any(self._changed.values()))
        self._rows.append(row)
        self._task = None

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._close_task()
        self._task = task.get_name()
        self._changed = {}
        self._start = self._snapshot()

    def v2_runner_on_ok(self, result):
        self._changed[result._host.get_name()] = bool(result._result.get("changed"))

    def v2_playbook_on_stats(self, stats):
        self._close_task()
        with open(os.environ["CMLAB_COUNTERS_FILE"], "w", encoding="utf-8") as f:
            json.dump(self._rows, f)
