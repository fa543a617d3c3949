# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Members of a local group: read, decide, write."""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan

MEMBER_SELECT = {"Name": None, "ObjectClass": None, "PrincipalSource": None, "SID": None}


@dataclass
class Decision:
    before: list[str]
    after: list[str]
    to_add: list[str] = field(default_factory=list)
    to_remove: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.to_add or self.to_remove)


def read_plan(group: str) -> Plan:
    plan = Plan()
    plan.add("members", "Get-LocalGroupMember", {"Name": group}, select=MEMBER_SELECT)
    return plan


def member_names(output: list) -> list[str]:
    return [str(m["Name"]) for m in output if isinstance(m, dict) and m.get("Name")]


def decide(state: str, wanted: list[str], current: list[str]) -> Decision:
    """Principal names compare case-insensitively, as Windows does (LAB\\CAS$ == lab\\cas$)."""
    have = {m.lower(): m for m in current}
    if state == "present":
        to_add = [m for m in _unique(wanted) if m.lower() not in have]
        return Decision(list(current), list(current) + to_add, to_add=to_add)
    doomed = {m.lower() for m in wanted}
    to_remove = [have[k] for k in have if k in doomed]
    return Decision(list(current), [m for m in current if m.lower() not in doomed], to_remove=to_remove)


def _unique(names: list[str]) -> list[str]:
    seen, out = set(), []
    for name in names:
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


def write_plan(group: str, decision: Decision) -> Plan:
    plan = Plan()
    if decision.to_add:
        plan.add("add", "Add-LocalGroupMember", {"Name": group, "Member": decision.to_add})
    if decision.to_remove:
        plan.add("remove", "Remove-LocalGroupMember", {"Name": group, "Member": decision.to_remove})
    plan.add("after", "Get-LocalGroupMember", {"Name": group}, select=MEMBER_SELECT)
    return plan
