# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: plan_summary
type: aggregate
short_description: A Markdown summary of a run (a check-mode plan, or an apply) for review in a pull request
version_added: 0.1.0
description:
  - Collects, for every task, what a reviewer needs and writes it as one Markdown document at the end of the
    run. Run a playbook with C(--check --diff) on a pull request and post the file as a comment; apply on merge
    and keep the file as the record of what was done.
  - The heading says which kind of run it was. A run with C(--check) (or whose plays all set C(check_mode))
    is a B(plan) ("nothing was changed"); any other run is an B(apply) ("these changes were made").
  - Listed are failed and unreachable tasks with their messages, every task that changed (or would change)
    something with the module's own description (its C(actions), C(changes), C(added) or C(removed), else
    its C(msg)) and a unified diff of its C(diff), and the warnings and deprecations modules returned.
  - A task with C(no_log) is listed by name only, as "changes hidden"; nothing of its result (values, diff,
    message, warnings) is written.
  - "In a plan, a task that ran with C(check_mode: false) really changed its host; such tasks are listed in a
    section of their own at the top."
  - Every value is escaped for Markdown (CommonMark and GitHub, GitLab and Azure DevOps Markdown). Control
    and invisible formatting characters are shown as escapes such as C(\n) or C(\u202e); diffs and messages
    are fenced with a fence longer than any backtick run they contain. A value can not start a heading, a list,
    a quote, a code block, a table cell, a link, an image or HTML, nor end a fenced block (a bare URL may
    still be turned into a link by the renderer's autolinking).
requirements:
  - enable it with C(callbacks_enabled = configmgr.scp.plan_summary) (or C(ANSIBLE_CALLBACKS_ENABLED))
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

# ansible-test wants the documentation before any import (validate-modules: import-before-documentation).
import difflib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import re  # noqa: E402
import unicodedata  # noqa: E402

from ansible import context  # noqa: E402
from ansible.plugins.callback import CallbackBase  # noqa: E402

# Characters with a meaning inside a line of CommonMark or of the GitHub, GitLab and Azure DevOps
# dialects (emphasis, code spans, links and images, autolinks and HTML, entities, tables,
# strikethrough, math, GitLab's {+ +} and [[_TOC_]], headings' closing #). A backslash before any
# ASCII punctuation character is always a literal in CommonMark.
_INLINE = frozenset("\\`*_[]<>&!|~$#{}")
_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_ORDERED_START = re.compile(r"^(\d{1,9})([.)])")
_BACKTICKS = re.compile(r"`+")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_HIDDEN = "changes hidden (no_log)"


def _visible(char: str) -> str:
    """A control or invisible formatting character as a visible escape; any other character as is."""
    if char in _NAMED:
        return _NAMED[char]
    if unicodedata.category(char) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else (f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return char


def md(value) -> str:
    """Any value as Markdown text that renders literally, on one line, wherever a line may hold text."""
    text = "".join(_visible(c) for c in _as_text(value))
    out = "".join("\\" + c if c in _INLINE else c for c in text)
    # The first character of a list item's text can open a block (list, quote, fence, heading, ...).
    if out[:1] in _PUNCTUATION and not out.startswith("\\"):
        out = "\\" + out
    out = _ORDERED_START.sub(r"\1\\\2", out)
    # Leading and trailing blanks would be dropped (or indent a code block): keep them as entities.
    if out[:1] == " ":
        out = "&#32;" + out[1:]
    if out[-1:] == " ":
        out = out[:-1] + "&#32;"
    return out


def _as_text(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def _split(text: str) -> list[str]:
    """Lines split at LF (CRLF counts as one break) and nowhere else: a vertical tab, form feed, U+2028
    or a lone CR stays inside its line, where _visible shows it."""
    lines = [line[:-1] if line.endswith("\r") else line for line in text.split("\n")]
    return lines[:-1] if len(lines) > 1 and lines[-1] == "" else lines


def _code_lines(text: str) -> list[str]:
    """Lines for a fenced block: the text's own line breaks kept, anything invisible made visible."""
    return ["".join(_visible(c) for c in line) for line in _split(text)]


def fenced(lines: list[str], info: str = "") -> list[str]:
    """A fenced code block that no line of its content can close (CommonMark: the closing fence must
    be at least as long as the opening one)."""
    longest = max((len(m) for line in lines for m in _BACKTICKS.findall(line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [fence + info, *lines, fence]


def _serialise(value) -> str:
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, indent=2, sort_keys=True, default=str) + "\n"


def unified_diff(diff: dict) -> list[str]:
    """The unified diff (difflib) of one Ansible diff dict (before/after, optional headers, or prepared)."""
    lines = []
    if isinstance(diff.get("prepared"), str):
        lines += _code_lines(diff["prepared"].rstrip("\n"))
    if "before" in diff or "after" in diff:
        before, after = _serialise(diff.get("before")), _serialise(diff.get("after"))
        lines += [
            "".join(_visible(c) for c in line)
            for line in difflib.unified_diff(
                _split(before) if before else [],
                _split(after) if after else [],
                fromfile=_as_text(diff.get("before_header") or "before"),
                tofile=_as_text(diff.get("after_header") or "after"),
                lineterm="",
                n=3,
            )
        ]
    return lines


def _list(value) -> list:
    return value if isinstance(value, list) else []


# A callback's task result: ansible-core 2.19 names its parts `host`, `task` and `result` (the underscore names
# are to go in 2.23); 2.16-2.18 have only the underscore names.
def _host_of(result):
    return result.host if hasattr(type(result), "host") else result._host


def _task_of(result):
    return result.task if hasattr(type(result), "task") else result._task


def _result_of(result) -> dict:
    return result.result if hasattr(type(result), "result") else result._result


def _messages(items) -> list[str]:
    out = []
    for item in items or []:
        if isinstance(item, dict):
            text = item.get("msg") or item.get("message") or ""
            version = item.get("version") or item.get("date")
            out.append(f"{text} (removed in {version})" if version else str(text))
        else:
            out.append(str(item))
    return out


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "configmgr.scp.plan_summary"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self):
        super().__init__()
        self._changes = []  # tasks that changed (or would change) something
        self._failures = []  # failed and unreachable tasks
        self._real = []  # tasks of a plan that ran with check_mode: false and changed something
        self._warned = []  # tasks that only warned
        self._play_check_modes = []
        self._failed_items = {}  # (host, task) -> [(item label, message, no_log)] of its failed loop items

    # Collecting ---------------------------------------------------------------------------------
    def v2_playbook_on_play_start(self, play):
        self._play_check_modes.append(bool(getattr(play, "check_mode", False)))

    def _where(self, result) -> str:
        host = _host_of(result).get_name()
        delegated = _task_of(result).delegate_to
        if isinstance(delegated, str) and delegated and "{{" not in delegated and delegated != host:
            return f"{host} → {delegated}"
        return host

    def _base(self, result) -> dict:
        task = _task_of(result)
        return {
            "task": task.get_name(),
            "where": self._where(result),
            "action": task.action,
            "hidden": bool(task.no_log) or bool(_result_of(result).get("_ansible_no_log")),
        }

    def _key(self, result) -> tuple[str, str]:
        return _host_of(result).get_name(), str(getattr(_task_of(result), "_uuid", id(_task_of(result))))

    def v2_runner_item_on_failed(self, result):
        """A failed (or unreachable) loop item, as it happens. ansible-core 2.21 no longer shows callbacks an item's
        `failed` inside the task's `results`, so its message is kept here for _record."""
        res = _result_of(result)
        label = res.get("_ansible_item_label", res.get("item"))
        message = res.get("msg") or res.get("stderr") or res.get("reason") or ""
        self._failed_items.setdefault(self._key(result), []).append(
            (None if label is None else _as_text(label), _as_text(message), bool(res.get("_ansible_no_log")))
        )

    @staticmethod
    def _items(res: dict) -> list[tuple[str | None, dict]]:
        """(item label, result) per loop item, or the task's own result."""
        if isinstance(res.get("results"), list) and res["results"]:
            items = []
            for sub in res["results"]:
                if isinstance(sub, dict):
                    label = sub.get("_ansible_item_label", sub.get("item"))
                    items.append((None if label is None else _as_text(label), sub))
            return items
        return [(None, res)]

    def _record(self, result, failed: bool = False, unreachable: bool = False, ignored: bool = False):
        res = _result_of(result)
        failed_items = self._failed_items.pop(self._key(result), [])
        entry = self._base(result)
        entry.update(
            warnings=[],
            what=[],
            diffs=[],
            messages=[],
            failed=failed or unreachable,
            unreachable=unreachable,
            ignored=ignored,
            changed=bool(res.get("changed")),
        )
        if not entry["hidden"]:
            entry["warnings"] = _messages(res.get("warnings")) + ["deprecated: " + m for m in _messages(res.get("deprecations"))]
            for label, sub in self._items(res):
                if sub.get("_ansible_no_log"):
                    entry["hidden"] = True
                    continue
                prefix = f"{label}: " if label is not None else ""
                if sub.get("changed") or sub is res:
                    entry["what"] += [prefix + _as_text(v) for v in _list(sub.get("actions"))]
                    if _list(sub.get("changes")):
                        entry["what"].append(prefix + "changes: " + ", ".join(map(_as_text, sub["changes"])))
                    entry["what"] += [prefix + "add " + _as_text(v) for v in _list(sub.get("added"))]
                    entry["what"] += [prefix + "remove " + _as_text(v) for v in _list(sub.get("removed"))]
                    if not entry["failed"] and not entry["what"] and not sub.get("diff") and isinstance(sub.get("msg"), str) and sub["msg"]:
                        entry["what"].append(prefix + sub["msg"])  # a debug task that reports a change
                    diffs = sub.get("diff") or []
                    for diff in [diffs] if isinstance(diffs, dict) else diffs:
                        if isinstance(diff, dict):
                            lines = unified_diff(diff)
                            if lines:
                                entry["diffs"].append(lines)
                if sub.get("failed") or (failed and sub is res):
                    message = sub.get("msg") or sub.get("stderr") or sub.get("reason") or ""
                    if message:
                        entry["messages"].append(prefix + _as_text(message))
            for label, message, hidden in failed_items:  # the items' own failures (ansible-core 2.21)
                entry["hidden"] = entry["hidden"] or hidden
                line = (f"{label}: " if label is not None else "") + message
                if message and line not in entry["messages"]:
                    entry["messages"].append(line)
        if entry["hidden"]:
            entry.update(warnings=[], what=[], diffs=[], messages=[])
        if entry["failed"]:
            self._failures.append(entry)
        elif entry["changed"]:
            if self._is_plan() and _task_of(result).check_mode is False:
                self._real.append(entry)
            else:
                self._changes.append(entry)
        elif entry["warnings"]:
            self._warned.append(entry)

    def v2_runner_on_ok(self, result):
        self._record(result)

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._record(result, failed=True, ignored=ignore_errors)

    def v2_runner_on_unreachable(self, result):
        self._record(result, unreachable=True)

    # Writing ------------------------------------------------------------------------------------
    def _is_plan(self) -> bool:
        if context.CLIARGS.get("check", False):
            return True
        return bool(self._play_check_modes) and all(self._play_check_modes)

    @staticmethod
    def _heading(entry) -> str:
        return f"### {md(entry['task'])} ({md(entry['where'])})"

    def _entry(self, entry, plan: bool) -> list[str]:
        lines = [self._heading(entry), ""]
        if entry["failed"]:
            state = "unreachable" if entry["unreachable"] else "failed"
            if entry["ignored"]:
                state += " (ignored: the play went on)"
            lines += [f"**{state}**, module {md(entry['action'])}", ""]
        else:
            lines += [f"module {md(entry['action'])}", ""]
        if entry["hidden"]:
            lines += [f"*{'changes' if entry['changed'] or not entry['failed'] else 'result'} hidden (no_log)*", ""]
            return lines
        for message in entry["messages"]:
            lines += [*fenced(_code_lines(message), "text"), ""]
        if entry["what"]:
            lines += [f"- {md(item)}" for item in entry["what"]] + [""]
        if entry["warnings"]:
            lines += [f"- **warning:** {md(w)}" for w in entry["warnings"]] + [""]
        for diff in entry["diffs"]:
            lines += [*fenced(diff, "diff"), ""]
        return lines

    def _markdown(self, stats) -> str:
        plan = self._is_plan()
        changes, failures, real, warned = self._changes, self._failures, self._real, self._warned
        hidden = sum(1 for e in changes if e["hidden"])
        if plan:
            done = (
                f"nothing was changed, except by the {len(real)} task(s) under *Ran for real during this plan*"
                if real
                else "nothing was changed"
            )
            lines = ["# configmgr.scp plan", "", f"Check mode: {done}. This is what applying the change would do.", ""]
        else:
            lines = ["# configmgr.scp apply", "", "This run applied the changes below to the hosts.", ""]
        summary = [f"{len(changes)} task(s) {'would change' if plan else 'changed'} something"]
        if hidden:
            summary.append(f"{hidden} of them with hidden changes (no_log)")
        if real:
            summary.append(f"{len(real)} ran for real during the plan")
        summary.append(f"{len(failures)} failed or unreachable")
        lines += ["**" + ", ".join(summary) + ".**", ""]
        if real:
            lines += [
                "## Ran for real during this plan",
                "",
                "These tasks have `check_mode: false`: they changed the hosts while the plan ran, with the plan's credentials.",
                "",
            ]
            for entry in real:
                lines += self._entry(entry, plan)
        if failures:
            lines += ["## Failed", ""]
            for entry in failures:
                lines += self._entry(entry, plan)
        lines += ["## Would change" if plan else "## Changed", ""]
        if not changes:
            lines += ["No changes.", ""]
        for entry in changes:
            lines += self._entry(entry, plan)
        if warned:
            lines += ["## Warnings", ""]
            for entry in warned:
                lines += self._entry(entry, plan)
        lines += [
            "## Recap",
            "",
            "| host | ok | changed | failed | unreachable | skipped | rescued | ignored |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for host in sorted(stats.processed):
            t = stats.summarize(host)
            counts = " | ".join(str(t.get(k, 0)) for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored"))
            lines.append(f"| {md(host)} | {counts} |")
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
