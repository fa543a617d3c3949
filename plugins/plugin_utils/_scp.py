# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The service connection point: decide, write.

Pure functions over the hierarchy read (`_hierarchy`), so that every decision is unit-tested without a host.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import SCP_ROLE, Hierarchy, Site
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan

# docs/configmgr-behaviour.md#scp-mode: the SCP is an SMS_SCI_SysResUse with RoleName "SMS Dmp Connector";
# its mode is the embedded property OfflineMode (Value 0 = Online, 1 = Offline).
RESTART_COMPONENT = "SMS_DMP_DOWNLOADER"


@dataclass(frozen=True)
class ScpInstance:
    site_code: str
    server: str
    mode: str | None


@dataclass
class ScpState:
    present: bool = False
    site_code: str | None = None
    site_system_server: str | None = None
    mode: str | None = None

    @classmethod
    def of(cls, instance: ScpInstance | None) -> ScpState:
        if instance is None:
            return cls()
        return cls(True, instance.site_code, instance.server, instance.mode)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class ScpAction:
    kind: str  # add | remove | set_mode
    server: str
    site_code: str
    mode: str | None = None

    def describe(self) -> str:
        if self.kind == "add":
            return f"add the service connection point on {self.server} (site {self.site_code}, {self.mode})"
        if self.kind == "remove":
            return f"remove the service connection point from {self.server} (site {self.site_code})"
        return f"set the mode of the service connection point on {self.server} to {self.mode}"


@dataclass
class ScpChanges:
    """What the SCP decision hands to the write side (Decision.changes)."""

    actions: list[ScpAction] = field(default_factory=list)
    top_level_site: Site | None = None
    before: ScpState = field(default_factory=ScpState)
    after: ScpState = field(default_factory=ScpState)

    @property
    def moving(self) -> bool:
        return {a.kind for a in self.actions} >= {"remove", "add"}

    @property
    def adding(self) -> bool:
        return any(a.kind == "add" for a in self.actions)

    @property
    def restart_required(self) -> bool:
        # docs/configmgr-behaviour.md#scp-mode, #sms-executive-threads: after an Online/Offline change the
        # SMS_DMP_DOWNLOADER thread must restart before the new mode takes effect. A fresh install starts in
        # its mode.
        return any(a.kind == "set_mode" for a in self.actions)


def mode_from_props(props: dict) -> str | None:
    # Select OfflineMode by name; other props may exist (docs/configmgr-behaviour.md#scp-mode).
    prop = props.get("OfflineMode")
    if prop is None:
        return None
    try:
        return "offline" if int(prop.get("Value") or 0) == 1 else "online"
    except (TypeError, ValueError):
        return None


def scps(hierarchy: Hierarchy) -> list[ScpInstance]:
    return [ScpInstance(r.site_code, r.server, mode_from_props(r.props)) for r in hierarchy.roles_named(SCP_ROLE)]


def placement_ok(hierarchy: Hierarchy) -> bool:
    """Exactly one SCP, at the top-level site (docs/configmgr-behaviour.md#placement-and-move)."""
    found = scps(hierarchy)
    return len(found) == 1 and found[0].site_code == hierarchy.top.site_code


def read_plan(server: str | None, plan: Plan | None = None) -> Plan:
    """Sites, every SCP of the hierarchy and, with a server, every role of that server: one CIM read."""
    return _hierarchy.read_plan(role_names=[SCP_ROLE], servers=[server] if server else [], plan=plan)


def decide(
    *,
    state: str,
    server: str | None,
    site_code: str | None,
    mode: str | None,
    allow_move: bool,
    hierarchy: Hierarchy,
    check_mode: bool = False,
) -> Decision:
    """Everything the module will do, decided from the hierarchy read. Refusals raise."""
    top = hierarchy.top
    found = scps(hierarchy)
    before = ScpState.of(found[0] if found else None)

    if state == "absent":
        doomed = [s for s in found if server is None or s.server == server]
        if site_code is not None:
            doomed = [s for s in doomed if s.site_code == site_code]
        kept = [s for s in found if s not in doomed]
        removals = [ScpAction("remove", s.server, s.site_code) for s in doomed]
        return _decision(ScpChanges(removals, top, before, ScpState.of(kept[0] if kept else None)))

    if site_code is None:
        site_code = top.site_code
    hierarchy.check_site(site_code)
    if site_code != top.site_code:
        # docs/configmgr-behaviour.md#placement-and-move: one SCP per hierarchy, only at the top-level site.
        raise AnsibleActionFail(
            f"site_code {site_code} is not the top-level site: the service connection point can only be installed at "
            f"the top-level site of the hierarchy, which is {top.site_code} ({top.type}). Remove site_code or set it to {top.site_code}."
        )

    in_place = next((s for s in found if s.server == server and s.site_code == site_code), None)
    elsewhere = [s for s in found if s is not in_place]
    if elsewhere and not allow_move:
        where = ", ".join(f"{s.server} (site {s.site_code})" for s in elsewhere)
        raise AnsibleActionFail(
            f"The service connection point is already installed on {where}; a hierarchy has only one. "
            f"Set allow_move: true to move it to {server}, or set site_system_server to {elsewhere[0].server}."
        )
    warnings = []
    if in_place is None and site_code not in hierarchy.site_system_sites(server):
        if not check_mode:
            raise AnsibleActionFail(
                f"site_system_server {server} is not a site system server of site {site_code}. Make it one first "
                f"(configmgr.scp.site_system_server), then add the service connection point."
            )
        # A check-mode plan of a whole playbook: an earlier task (site_system_server) would have made
        # it one. Predict the change, and say what it depends on.
        warnings.append(
            f"{server} is not a site system server of site {site_code} yet; this prediction assumes an "
            f"earlier task makes it one (a real run fails otherwise)."
        )

    actions = [ScpAction("remove", s.server, s.site_code) for s in elsewhere]
    if in_place is None:
        new_mode = mode or (elsewhere[0].mode if elsewhere and elsewhere[0].mode else "online")
        actions.append(ScpAction("add", server, site_code, new_mode))
        after = ScpState(True, site_code, server, new_mode)
    else:
        after = ScpState.of(in_place)
        if mode is not None and in_place.mode != mode:
            actions.append(ScpAction("set_mode", server, site_code, mode))
            after.mode = mode
    return _decision(ScpChanges(actions, top, before, after), warnings)


def _decision(plan: ScpChanges, warnings: list[str] | None = None) -> Decision:
    return Decision(
        before=plan.before.to_dict(),
        after=plan.after.to_dict(),
        changed=bool(plan.actions),
        warnings=list(warnings or []),
        diff_header="service connection point",
        changes=plan,
        result={
            "top_level_site": plan.top_level_site.site_code,
            "actions": [a.describe() for a in plan.actions],
            "restart_required": plan.restart_required,  # until restart_downloader has done it
            "restart_component": RESTART_COMPONENT if plan.restart_required else None,
            "downloader_restarted": False,
        },
    )


def write_plan(actions: list[ScpAction], read_back: bool = True) -> WritePlan:
    plan = WritePlan()
    for index, action in enumerate(actions):
        target = {"SiteSystemServerName": action.server, "SiteCode": action.site_code}
        if action.kind == "remove":
            plan.write(f"remove_{index}", "Remove-CMServiceConnectionPoint", {**target, "Force": True}, does=action.describe())
        elif action.kind == "add":
            plan.write(f"add_{index}", "Add-CMServiceConnectionPoint", {**target, "Mode": action.mode.capitalize()}, does=action.describe())
        else:
            plan.write(
                f"set_mode_{index}", "Set-CMServiceConnectionPoint", {**target, "Mode": action.mode.capitalize()}, does=action.describe()
            )
    if read_back:  # in the same invocation: the result reports what the site now records
        _hierarchy.HierarchyRead(plan).roles([SCP_ROLE])
    return plan


def after_state(hierarchy: Hierarchy, wanted: ScpState) -> ScpState:
    """The SCP as read back: the one the task placed if it is there, else whichever is."""
    found = scps(hierarchy)
    in_place = [s for s in found if s.server == wanted.site_system_server and s.site_code == wanted.site_code]
    return ScpState.of(in_place[0] if in_place else (found[0] if found else None))


def placement(hierarchy: Hierarchy) -> frozenset[tuple[str, str, str | None]]:
    """Every SCP the site records: (site code, server, mode)."""
    return frozenset((s.site_code, s.server, s.mode) for s in scps(hierarchy))


def describe_placement(hierarchy: Hierarchy) -> str:
    found = scps(hierarchy)
    if not found:
        return "nowhere (the hierarchy has no service connection point)"
    return " and ".join(f"on {s.server} (site {s.site_code}, {s.mode or 'mode unknown'})" for s in found)
