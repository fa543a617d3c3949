# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The service connection point: read, decide, write.

Pure functions over plan outputs, so that every decision is unit-tested without a host.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult

# Facts §1.14: the SCP is an SMS_SCI_SysResUse with RoleName "SMS Dmp Connector"; its mode is the
# embedded property OfflineMode (Value 0 = Online, 1 = Offline).
SCP_ROLE = "SMS Dmp Connector"
RESTART_COMPONENT = "SMS_DMP_DOWNLOADER"

SITE_SELECT = {"SiteCode": None, "SiteName": None, "ReportingSiteCode": None, "Type": None, "ServerName": None}
PROPS_SELECT = {"PropertyName": None, "Value": None, "Value1": None, "Value2": None}
SYSRESUSE_SELECT = {"SiteCode": None, "RoleName": None, "NetworkOSPath": None, "Props": PROPS_SELECT}
SITE_SYSTEM_SELECT = {"SiteCode": None, "NetworkOSPath": None, "RoleCount": None, "Props": PROPS_SELECT}

SITE_TYPES = {1: "secondary", 2: "primary", 4: "cas"}


@dataclass(frozen=True)
class Site:
    site_code: str
    site_name: str | None
    parent_site_code: str | None
    type: str
    server: str | None

    @property
    def is_top_level(self) -> bool:
        # Facts §3: the top-level site is the one whose ReportingSiteCode is empty.
        return not self.parent_site_code


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
class Decision:
    before: ScpState
    after: ScpState
    top_level_site: Site
    actions: list[ScpAction] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    @property
    def restart_required(self) -> bool:
        # Facts §1.3 / §4: after an Online/Offline change the SMS_DMP_DOWNLOADER thread must
        # restart before the new mode takes effect. A fresh install starts in its mode.
        return any(a.kind == "set_mode" for a in self.actions)


def server_from_path(network_os_path: str | None) -> str | None:
    """NetworkOSPath is \\\\server.fqdn (facts §3)."""
    if not network_os_path:
        return None
    return network_os_path.strip().lstrip("\\").rstrip("\\").lower() or None


def mode_from_props(props) -> str | None:
    for prop in props or []:
        # Facts §1.14: select OfflineMode by name; other props may exist.
        if isinstance(prop, dict) and prop.get("PropertyName") == "OfflineMode":
            try:
                return "offline" if int(prop.get("Value") or 0) == 1 else "online"
            except (TypeError, ValueError):
                return None
    return None


def parse_sites(output: list) -> list[Site]:
    sites = []
    for raw in output:
        if not isinstance(raw, dict) or not raw.get("SiteCode"):
            continue
        try:
            site_type = SITE_TYPES.get(int(raw.get("Type") or 0), str(raw.get("Type")))
        except (TypeError, ValueError):
            site_type = str(raw.get("Type"))
        sites.append(Site(
            site_code=str(raw["SiteCode"]).upper(),
            site_name=raw.get("SiteName"),
            parent_site_code=(str(raw.get("ReportingSiteCode") or "").upper() or None),
            type=site_type,
            server=(str(raw.get("ServerName")).lower() if raw.get("ServerName") else None),
        ))
    return sites


def parse_scps(output: list) -> list[ScpInstance]:
    found = []
    for raw in output:
        if not isinstance(raw, dict) or raw.get("RoleName") not in (None, SCP_ROLE):
            continue
        server = server_from_path(raw.get("NetworkOSPath"))
        if server and raw.get("SiteCode"):
            found.append(ScpInstance(str(raw["SiteCode"]).upper(), server, mode_from_props(raw.get("Props"))))
    return found


def top_level_site(sites: list[Site]) -> Site:
    top = [s for s in sites if s.is_top_level]
    if len(top) != 1:
        raise AnsibleActionFail(
            "Could not find the top-level site of the hierarchy (Get-CMSite returned %s). "
            "Connect to the SMS Provider of the CAS or of a stand-alone primary site (provider_server)."
            % ("no site without a parent" if not top else "several sites without a parent: " + ", ".join(s.site_code for s in top)))
    return top[0]


def read_plan(server: str | None) -> Plan:
    plan = Plan()
    plan.add("sites", "Get-CMSite", {}, select=SITE_SELECT)
    plan.add("scp", "Get-CMSiteRole", {"RoleName": SCP_ROLE, "AllSite": True}, select=SYSRESUSE_SELECT)
    if server:
        plan.add("target", "Get-CMSiteSystemServer", {"SiteSystemServerName": server, "AllSite": True},
                 select=SITE_SYSTEM_SELECT)
    return plan


def decide(*, state: str, server: str | None, site_code: str | None, mode: str | None, allow_move: bool,
           sites: list[Site], scps: list[ScpInstance], target_site_codes: list[str], check_mode: bool = False) -> Decision:
    """Everything the module will do, decided from the read plan's outputs. Refusals raise."""
    top = top_level_site(sites)
    known = {s.site_code for s in sites}
    before = ScpState.of(scps[0] if scps else None)

    if state == "absent":
        doomed = [s for s in scps if server is None or s.server == server]
        if site_code is not None:
            doomed = [s for s in doomed if s.site_code == site_code]
        kept = [s for s in scps if s not in doomed]
        actions = [ScpAction("remove", s.server, s.site_code) for s in doomed]
        return Decision(before, ScpState.of(kept[0] if kept else None), top, actions)

    if site_code is None:
        site_code = top.site_code
    elif site_code not in known:
        raise AnsibleActionFail(f"site_code {site_code} is not a site of this hierarchy (sites: {', '.join(sorted(known))}).")
    if site_code != top.site_code:
        # Facts §8.2: one SCP per hierarchy, only at the top-level site (CAS or stand-alone primary).
        raise AnsibleActionFail(
            f"site_code {site_code} is not the top-level site: the service connection point can only be installed at "
            f"the top-level site of the hierarchy, which is {top.site_code} ({top.type}). Remove site_code or set it to {top.site_code}.")

    in_place = next((s for s in scps if s.server == server and s.site_code == site_code), None)
    elsewhere = [s for s in scps if s is not in_place]
    if elsewhere and not allow_move:
        where = ", ".join(f"{s.server} (site {s.site_code})" for s in elsewhere)
        raise AnsibleActionFail(
            f"The service connection point is already installed on {where}; a hierarchy has only one. "
            f"Set allow_move: true to move it to {server}, or set site_system_server to {elsewhere[0].server}.")
    warnings = []
    if in_place is None and site_code not in target_site_codes:
        if not check_mode:
            raise AnsibleActionFail(
                f"site_system_server {server} is not a site system server of site {site_code}. Make it one first "
                f"(configmgr.scp.site_system_server), then add the service connection point.")
        # A check-mode plan of a whole playbook: an earlier task (site_system_server) would have made
        # it one. Predict the change, and say what it depends on.
        warnings.append(f"{server} is not a site system server of site {site_code} yet; this prediction assumes an "
                        f"earlier task makes it one (a real run fails otherwise).")

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
    return Decision(before, after, top, actions, warnings)


def write_plan(actions: list[ScpAction]) -> Plan:
    plan = Plan()
    for index, action in enumerate(actions):
        target = {"SiteSystemServerName": action.server, "SiteCode": action.site_code}
        if action.kind == "remove":
            plan.add(f"remove_{index}", "Remove-CMServiceConnectionPoint", {**target, "Force": True})
        elif action.kind == "add":
            plan.add(f"add_{index}", "Add-CMServiceConnectionPoint", {**target, "Mode": action.mode.capitalize()})
        else:
            plan.add(f"set_mode_{index}", "Set-CMServiceConnectionPoint", {**target, "Mode": action.mode.capitalize()})
    # Read back in the same invocation: the result reports what the site now records.
    plan.add("after_scp", "Get-CMSiteRole", {"RoleName": SCP_ROLE, "AllSite": True}, select=SYSRESUSE_SELECT)
    return plan


def observed(result: PlanResult, scp_step: str = "scp") -> list[ScpInstance]:
    return parse_scps(result.output(scp_step))
