# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

import os

from ansible.plugins.callback import CallbackBase

DOCUMENTATION = r"""
name: plan_summary
type: aggregate
short_description: A Markdown summary of what a (check-mode) run changes, for review in a pull request
version_added: 0.1.0
description:
  - Collects, for every task that reports a change, the host, the task, what the module says it does
    (its C(actions) or C(changes)) and its diff, and writes them as one Markdown document at the end of the
    run. Run a playbook with C(--check --diff) on a pull request and post the file as a comment; apply on merge.
  - Results of tasks with C(no_log) are left out.
requirements:
  - enable it with C(callbacks_enabled = configmgr.scp.plan_summary)
options:
  path:
    description: File to write the Markdown summary to. Without it the summary is only displayed.
    type: path
    env:
      - name: CONFIGMGR_SCP_PLAN_FILE
    ini:
      - section: configmgr_scp_plan_summary
        key: path
"""


def _text(value) -> str:
    return value if isinstance(value, str) else ""


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "configmgr.scp.plan_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._entries = []
        self._check_mode = False

    def v2_playbook_on_play_start(self, play):
        self._check_mode = bool(getattr(play, "check_mode", False)) or self._check_mode

    def v2_runner_on_ok(self, result):
        res = result._result
        if not res.get("changed") or res.get("_ansible_no_log") or result._task.no_log:
            return
        diffs = res.get("diff") or []
        if isinstance(diffs, dict):
            diffs = [diffs]
        self._entries.append({
            "host": result._host.get_name(),
            "delegated": result._task.delegate_to if result._task.delegate_to != result._host.get_name() else None,
            "task": result._task.get_name(),
            "action": result._task.action,
            "what": [str(a) for a in (res.get("actions") or res.get("changes") or res.get("added") or [])],
            "diffs": [(_text(d.get("before_header")), _text(d.get("before")), _text(d.get("after"))) for d in diffs
                      if isinstance(d, dict)],
        })

    def _markdown(self, stats) -> str:
        lines = ["# configmgr.scp plan", ""]
        if not self._entries:
            lines.append("No changes.")
        for entry in self._entries:
            where = entry["host"] + (f" → {entry['delegated']}" if entry["delegated"] else "")
            lines.append(f"## {entry['task']} ({where})")
            lines.append(f"`{entry['action']}`")
            lines.extend(f"- {item}" for item in entry["what"])
            for header, before, after in entry["diffs"]:
                lines += ["", "```diff", f"# {header}" if header else "# diff"]
                old, new = before.splitlines(), after.splitlines()
                lines += [f"-{line}" for line in old if line not in new]
                lines += [f"+{line}" for line in new if line not in old]
                lines.append("```")
            lines.append("")
        totals = {h: stats.summarize(h) for h in sorted(stats.processed)}
        lines.append("| host | ok | changed | failed | unreachable |")
        lines.append("|---|---|---|---|---|")
        lines += [f"| {h} | {t['ok']} | {t['changed']} | {t['failures']} | {t['unreachable']} |" for h, t in totals.items()]
        return "\n".join(lines) + "\n"

    def v2_playbook_on_stats(self, stats):
        text = self._markdown(stats)
        path = self.get_option("path")
        if path:
            with open(os.path.expanduser(path), "w", encoding="utf-8") as f:
                f.write(text)
            self._display.display(f"configmgr.scp plan summary written to {path}")
        else:
            self._display.display(text)
