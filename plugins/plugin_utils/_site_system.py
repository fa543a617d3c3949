# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Site system servers: read, decide, write."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan
from ansible_collections.configmgr.scp.plugins.plugin_utils._scp import (
    PROPS_SELECT,
    SITE_SELECT,
    Site,
    server_from_path,
    top_level_site,
)

SITE_SYSTEM_SELECT = {"SiteCode": None, "NetworkOSPath": None, "RoleCount": None, "Props": PROPS_SELECT}
ROLE_SELECT = {"SiteCode": None, "RoleName": None}
# Roles every site system has; anything else blocks removal (facts §1.8: Remove-CMSiteSystemServer
# fails while the server holds other roles).
BASE_ROLES = frozenset({"SMS Site System", "SMS Component Server"})


@dataclass
class SiteSystemState:
    present: bool = False
    site_code: str | None = None
    site_system_server: str | None = None
    use_site_server_account: bool | None = None
    installation_account: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Decision:
    before: SiteSystemState
    after: SiteSystemState
    action: str | None = None          # new | set | remove
    params: dict = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.action is not None


def props_by_name(props) -> dict:
    return {p.get("PropertyName"): p for p in props or [] if isinstance(p, dict)}


def state_from_object(raw: dict) -> SiteSystemState:
    # Facts §1.6: UseMachineAccount (Value 0/1) and UserName (Value2) carry the installation account.
    props = props_by_name(raw.get("Props"))
    machine = props.get("UseMachineAccount", {}).get("Value")
    user = props.get("UserName", {}).get("Value2") or None
    use_machine = str(machine) == "1" or (machine is None and not user)
    return SiteSystemState(True, str(raw.get("SiteCode") or "").upper(), server_from_path(raw.get("NetworkOSPath")),
                           use_machine, None if use_machine else user)


def read_plan(server: str, account: str | None) -> Plan:
    plan = Plan()
    plan.add("sites", "Get-CMSite", {}, select=SITE_SELECT)
    plan.add("target", "Get-CMSiteSystemServer", {"SiteSystemServerName": server, "AllSite": True}, select=SITE_SYSTEM_SELECT)
    plan.add("roles", "Get-CMSiteRole", {"SiteSystemServerName": server, "AllSite": True}, select=ROLE_SELECT)
    if account:
        plan.add("account", "Get-CMAccount", {"UserName": account}, select={"UserName": None})
    return plan


def decide(*, state: str, server: str, site_code: str | None, use_site_server_account: bool | None,
           installation_account: str | None, sites: list[Site], targets: list[dict], roles: list[dict],
           accounts: list[dict]) -> Decision:
    known = {s.site_code for s in sites}
    if site_code is None:
        site_code = top_level_site(sites).site_code
    elif site_code not in known:
        raise AnsibleActionFail(f"site_code {site_code} is not a site of this hierarchy (sites: {', '.join(sorted(known))}).")

    existing = next((t for t in targets if isinstance(t, dict) and str(t.get("SiteCode") or "").upper() == site_code), None)
    before = state_from_object(existing) if existing else SiteSystemState()

    if state == "absent":
        if existing is None:
            return Decision(before, SiteSystemState())
        held = sorted({r.get("RoleName") for r in roles if isinstance(r, dict)
                       and str(r.get("SiteCode") or "").upper() == site_code and r.get("RoleName") not in BASE_ROLES})
        if held:
            raise AnsibleActionFail(
                f"{server} still holds site system roles at site {site_code}: {', '.join(held)}. Remove those roles first "
                f"(for the service connection point: configmgr.scp.service_connection_point with state: absent).")
        return Decision(before, SiteSystemState(), "remove", {})

    if installation_account is not None:
        names = {str(a.get("UserName") or "").lower() for a in accounts if isinstance(a, dict)}
        if installation_account.lower() not in names:
            # Facts §1.7: -AccountName must name an account that already exists in ConfigMgr.
            raise AnsibleActionFail(
                f"installation_account {installation_account} is not a Configuration Manager account. Create it first "
                f"(New-CMAccount, or configmgr.scp.cm_account), or use use_site_server_account: true.")
        desired_machine = False
    elif use_site_server_account is not None:
        desired_machine = use_site_server_account
    else:
        desired_machine = None  # keep what is configured; a new server uses the site server's account

    if existing is None:
        machine = True if desired_machine is None else desired_machine
        after = SiteSystemState(True, site_code, server, machine, None if machine else installation_account)
        params = {"UseSiteServerAccount": True} if machine else {"AccountName": installation_account}
        return Decision(before, after, "new", params)

    after = SiteSystemState(**before.to_dict())
    params: dict = {}
    if desired_machine is True and not before.use_site_server_account:
        params = {"UseSiteServerAccount": True}
        after.use_site_server_account, after.installation_account = True, None
    elif desired_machine is False and (before.use_site_server_account or
                                       (before.installation_account or "").lower() != installation_account.lower()):
        params = {"AccountName": installation_account}
        after.use_site_server_account, after.installation_account = False, installation_account
    return Decision(before, after, "set" if params else None, params)


def write_plan(decision: Decision, server: str) -> Plan:
    plan = Plan()
    target = {"SiteSystemServerName": server, "SiteCode": decision.after.site_code or decision.before.site_code}
    if decision.action == "new":
        plan.add("new", "New-CMSiteSystemServer", {**target, **decision.params})
    elif decision.action == "set":
        plan.add("set", "Set-CMSiteSystemServer", {**target, **decision.params})
    elif decision.action == "remove":
        plan.add("remove", "Remove-CMSiteSystemServer", {**target, "Force": True})
    plan.add("after", "Get-CMSiteSystemServer", {"SiteSystemServerName": server, "AllSite": True}, select=SITE_SYSTEM_SELECT)
    return plan
