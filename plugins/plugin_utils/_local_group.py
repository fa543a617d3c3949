# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Members of a local group: read, decide, write.

Members are compared by security identifier. The read returns each member's name and SID; a wanted
member given as a SID is compared with the SIDs, a name with the names (case-insensitively, as Windows
compares them). A name Windows would resolve to a member under another spelling (the DNS form of its
domain, lab.example\\PS1$ for LAB\\PS1$) is only known when Windows resolves it: each member is added
in its own step, and "already a member" (the SID is in the group) is the desired state, not a change.

The Administrators group is addressed by its well-known SID S-1-5-32-544, never by its name, which is
localized (Administratoren, Administrateurs, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult

MEMBER_SELECT = {"Name": None, "SID": None}
ADMINISTRATORS = "Administrators"
ADMINISTRATORS_SID = "S-1-5-32-544"


@dataclass(frozen=True)
class Member:
    name: str
    sid: str | None = None


@dataclass
class Changes:
    to_add: list[str] = field(default_factory=list)  # as the task names them (name or SID)
    to_remove: list[Member] = field(default_factory=list)


def group_target(group: str) -> dict:
    """The parameters that name the group: by well-known SID for Administrators, else by name (or SID)."""
    if _validation.is_sid(group):
        return {"SID": group.upper()}
    if group.lower() == ADMINISTRATORS.lower():
        return {"SID": ADMINISTRATORS_SID}
    return {"Name": group}


def read_plan(group: str) -> Plan:
    plan = Plan()
    plan.add("members", "Get-LocalGroupMember", group_target(group), select=MEMBER_SELECT)
    return plan


def members(output: list) -> list[Member]:
    return [
        Member(str(m["Name"]), str(m["SID"]).upper() if m.get("SID") else None) for m in output if isinstance(m, dict) and m.get("Name")
    ]


def member_names(output: list) -> list[str]:
    return [m.name for m in members(output)]


def find(wanted: str, current: list[Member]) -> Member | None:
    """The current member that `wanted` names: by SID when it is one, else by name."""
    if _validation.is_sid(wanted):
        return next((m for m in current if m.sid == wanted.upper()), None)
    return next((m for m in current if m.name.lower() == wanted.lower()), None)


def decide(state: str, group: str, wanted: list[str], current: list[Member]) -> Decision:
    """Pure: which members to add (present) or remove (absent)."""
    names = [m.name for m in current]
    changes = Changes()
    warnings: list[str] = []
    if state == "present":
        seen: set[str] = set()
        for entry in wanted:
            key = entry.upper() if _validation.is_sid(entry) else entry.lower()
            if key in seen or find(entry, current):
                continue
            seen.add(key)
            changes.to_add.append(entry)
            if not _validation.is_sid(entry) and "." in entry.split("\\", 1)[0]:
                warnings.append(
                    f"{entry} names its domain by its DNS name: Windows resolves it when it is added, and if "
                    f"it is a member under its NetBIOS name already, the task changes nothing. Give the "
                    f"member as NETBIOS\\name or as a SID for an exact prediction."
                )
        after = names + changes.to_add
    else:
        doomed = [m for m in current if any(find(entry, [m]) for entry in wanted)]
        changes.to_remove = doomed
        after = [n for n in names if n not in {m.name for m in doomed}]
    return Decision(
        before=sorted(names, key=str.lower),
        after=sorted(after, key=str.lower),
        changed=bool(changes.to_add or changes.to_remove),
        warnings=warnings,
        diff_header=f"local group {group}",
        changes=changes,
        result={"group": group, "added": list(changes.to_add), "removed": [m.name for m in changes.to_remove], "members": after},
    )


def write_plan(group: str, changes: Changes) -> WritePlan:
    """One step per member: Windows resolves each name on its own, and the first failure does not hide
    which members were added before it."""
    plan = WritePlan()
    target = group_target(group)
    for index, entry in enumerate(changes.to_add):
        plan.write(
            f"add_{index}", "Add-LocalGroupMember", {**target, "Member": [entry]}, on_error="continue", does=f"add {entry} to {group}"
        )
    for index, member in enumerate(changes.to_remove):
        plan.write(
            f"remove_{index}",
            "Remove-LocalGroupMember",
            {**target, "Member": [member.sid or member.name]},
            on_error="continue",
            does=f"remove {member.name} from {group}",
        )
    plan.add("after", "Get-LocalGroupMember", target, select=MEMBER_SELECT)
    return plan


@dataclass
class Outcome:
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    already: list[str] = field(default_factory=list)  # already a member / already gone: the desired state
    failed: list[tuple[str, str, dict]] = field(default_factory=list)  # (step id, cmdlet, error)


def outcome(changes: Changes, written: PlanResult) -> Outcome:
    """What each step did. "Already a member" / "not a member" mean the desired state was there already
    (another spelling of a member, or another run got there first)."""
    out = Outcome()
    for index, entry in enumerate(changes.to_add):
        step = written.steps.get(f"add_{index}")
        if step is None:
            continue
        if step.ok:
            out.added.append(entry)
        elif str((step.error or {}).get("fqid") or "").startswith("MemberExists"):
            out.already.append(entry)
        else:
            out.failed.append((f"add_{index}", "Add-LocalGroupMember", step.error or {}))
    for index, member in enumerate(changes.to_remove):
        step = written.steps.get(f"remove_{index}")
        if step is None:
            continue
        if step.ok:
            out.removed.append(member.name)
        elif str((step.error or {}).get("fqid") or "").startswith("MemberNotFound"):
            out.already.append(member.name)
        else:
            out.failed.append((f"remove_{index}", "Remove-LocalGroupMember", step.error or {}))
    return out
