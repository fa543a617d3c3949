# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Site system servers: read, decide, write."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, ref
from ansible_collections.configmgr.scp.plugins.plugin_utils._scp import (
    SITE_SELECT,
    SITE_SYSTEM_SELECT,
    Site,
    server_from_path,
    top_level_site,
)

ROLE_SELECT = {"SiteCode": None, "RoleName": None}
ACCOUNT_SELECT = {"UserName": None}
# Roles every site system has; anything else blocks removal (facts §1.8: Remove-CMSiteSystemServer
# fails while the server holds other roles).
BASE_ROLES = frozenset({"SMS Site System", "SMS Component Server"})
# Facts §1.7: the console and the cmdlet use port 80 when none is given.
DEFAULT_PROXY_PORT = 80


@dataclass
class SiteSystemState:
    present: bool = False
    site_code: str | None = None
    site_system_server: str | None = None
    use_site_server_account: bool | None = None
    installation_account: str | None = None
    enable_proxy: bool | None = None
    proxy_server: str | None = None
    proxy_port: int | None = None
    proxy_account: str | None = None   # None: the computer account (anonymous proxy access)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Desired:
    """The task's wishes; None everywhere means "keep what is configured"."""

    state: str = "present"
    server: str = ""
    site_code: str | None = None
    use_site_server_account: bool | None = None
    installation_account: str | None = None
    enable_proxy: bool | None = None
    proxy_server: str | None = None
    proxy_port: int | None = None
    proxy_account: str | None = None   # "" = back to the computer account


@dataclass
class Decision:
    before: SiteSystemState
    after: SiteSystemState
    action: str | None = None          # new | set | remove
    params: dict = field(default_factory=dict)
    proxy_account: str | None = None   # a CM account the write plan must look up for -ProxyAccessAccount
    warnings: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.action is not None


def check_proxy_options(d: Desired) -> Desired:
    """The reference's rules (facts §1.7, as the DSC resource enforces them), before any connection."""
    given = [o for o in ("proxy_server", "proxy_port", "proxy_account") if getattr(d, o) not in (None,)]
    if d.enable_proxy is False and given:
        raise AnsibleActionFail(f"{', '.join(given)} cannot be set with enable_proxy: false; remove them, or enable the proxy.")
    if d.enable_proxy is None and given:
        if d.proxy_server is None:
            raise AnsibleActionFail(f"{', '.join(given)} need a proxy: set proxy_server (and enable_proxy: true).")
        d.enable_proxy = True
    if d.enable_proxy and not d.proxy_server:
        raise AnsibleActionFail("enable_proxy: true needs proxy_server (FQDN, host name or IP address of the proxy).")
    if d.proxy_port is not None and not 1 <= d.proxy_port <= 65535:
        raise AnsibleActionFail(f"proxy_port must be between 1 and 65535, got {d.proxy_port}.")
    return d


def props_by_name(props) -> dict:
    return {p.get("PropertyName"): p for p in props or [] if isinstance(p, dict)}


def _int(value, default=0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def state_from_object(raw: dict) -> SiteSystemState:
    # Facts §1.6: the embedded properties of the site system's SMS_SCI_SysResUse.
    props = props_by_name(raw.get("Props"))
    machine = props.get("UseMachineAccount", {}).get("Value")
    user = props.get("UserName", {}).get("Value2") or None
    use_machine = str(machine) == "1" or (machine is None and not user)
    use_proxy = _int(props.get("UseProxy", {}).get("Value")) == 1
    anonymous = _int(props.get("AnonymousProxyAccess", {}).get("Value"), 1) == 1
    return SiteSystemState(
        present=True,
        site_code=str(raw.get("SiteCode") or "").upper(),
        site_system_server=server_from_path(raw.get("NetworkOSPath")),
        use_site_server_account=use_machine,
        installation_account=None if use_machine else user,
        enable_proxy=use_proxy,
        proxy_server=(props.get("ProxyName", {}).get("Value2") or None) if use_proxy else None,
        proxy_port=_int(props.get("ProxyServerPort", {}).get("Value"), DEFAULT_PROXY_PORT) if use_proxy else None,
        proxy_account=None if (not use_proxy or anonymous) else (props.get("ProxyUserName", {}).get("Value2") or None),
    )


def read_plan(server: str, accounts: list[str]) -> Plan:
    plan = Plan()
    plan.add("sites", "Get-CMSite", {}, select=SITE_SELECT)
    plan.add("target", "Get-CMSiteSystemServer", {"SiteSystemServerName": server, "AllSite": True}, select=SITE_SYSTEM_SELECT)
    plan.add("roles", "Get-CMSiteRole", {"SiteSystemServerName": server, "AllSite": True}, select=ROLE_SELECT)
    for index, account in enumerate(accounts):
        plan.add(f"account_{index}", "Get-CMAccount", {"UserName": account}, select=ACCOUNT_SELECT)
    return plan


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def decide(d: Desired, *, sites: list[Site], targets: list[dict], roles: list[dict], accounts: list[dict],
           check_mode: bool = False) -> Decision:
    known = {s.site_code for s in sites}
    site_code = d.site_code
    if site_code is None:
        site_code = top_level_site(sites).site_code
    elif site_code not in known:
        raise AnsibleActionFail(f"site_code {site_code} is not a site of this hierarchy (sites: {', '.join(sorted(known))}).")

    existing = next((t for t in targets if isinstance(t, dict) and str(t.get("SiteCode") or "").upper() == site_code), None)
    before = state_from_object(existing) if existing else SiteSystemState()

    if d.state == "absent":
        if existing is None:
            return Decision(before, SiteSystemState())
        held = sorted({r.get("RoleName") for r in roles if isinstance(r, dict)
                       and str(r.get("SiteCode") or "").upper() == site_code and r.get("RoleName") not in BASE_ROLES})
        if held:
            raise AnsibleActionFail(
                f"{d.server} still holds site system roles at site {site_code}: {', '.join(held)}. Remove those roles first "
                f"(for the service connection point: configmgr.scp.service_connection_point with state: absent).")
        return Decision(before, SiteSystemState(), "remove", {})

    names = {str(a.get("UserName") or "").lower() for a in accounts if isinstance(a, dict)}
    warnings: list[str] = []
    # Facts §1.7: -AccountName and -ProxyAccessAccount must name accounts that already exist in ConfigMgr.
    for option, account in (("installation_account", d.installation_account), ("proxy_account", d.proxy_account)):
        if account and account.lower() not in names:
            if check_mode:  # an earlier task of the same play (cm_account) would have created it
                warnings.append(f"{option} {account} is not a Configuration Manager account yet; this prediction "
                                f"assumes an earlier task creates it (a real run fails otherwise).")
                continue
            raise AnsibleActionFail(
                f"{option} {account} is not a Configuration Manager account. Create it first "
                f"(configmgr.scp.cm_account) and run again.")

    after = SiteSystemState(**before.to_dict()) if existing else SiteSystemState(
        True, site_code, d.server, True, None, False, None, None, None)
    after.present, after.site_code, after.site_system_server = True, site_code, d.server
    params: dict = {}

    if d.installation_account is not None:
        if after.use_site_server_account or not _same(after.installation_account, d.installation_account):
            params["AccountName"] = d.installation_account
        after.use_site_server_account, after.installation_account = False, d.installation_account
    elif d.use_site_server_account or (existing is None):
        if existing is None or not after.use_site_server_account:
            params["UseSiteServerAccount"] = True
        after.use_site_server_account, after.installation_account = True, None

    proxy_account_lookup = None
    if d.enable_proxy is False:
        if existing is not None and before.enable_proxy:
            params["EnableProxy"] = False
        after.enable_proxy, after.proxy_server, after.proxy_port, after.proxy_account = False, None, None, None
    elif d.enable_proxy:
        port = d.proxy_port if d.proxy_port is not None else (before.proxy_port if before.enable_proxy else None)
        if port is None:
            port = DEFAULT_PROXY_PORT
            warnings.append(f"proxy_port not set: the proxy of {d.server} uses port {DEFAULT_PROXY_PORT}.")
        account = d.proxy_account if d.proxy_account is not None else (before.proxy_account if before.enable_proxy else None)
        account = account or None
        wanted = (True, d.proxy_server.lower(), port, (account or "").lower())
        have = (bool(before.enable_proxy), (before.proxy_server or "").lower(), before.proxy_port, (before.proxy_account or "").lower())
        if existing is None or wanted != have:
            # The cmdlet resets what is not sent (port 80, the computer account): always send all of it.
            params.update({"EnableProxy": True, "ProxyServerName": d.proxy_server, "ProxyServerPort": port})
            if account:
                params["ProxyAccessAccount"] = ref("proxy_account")
                proxy_account_lookup = account
        after.enable_proxy, after.proxy_server, after.proxy_port, after.proxy_account = True, d.proxy_server, port, account

    action = "new" if existing is None else ("set" if params else None)
    return Decision(before, after, action, params, proxy_account_lookup, warnings)


def write_plan(decision: Decision, server: str) -> Plan:
    plan = Plan()
    target = {"SiteSystemServerName": server, "SiteCode": decision.after.site_code or decision.before.site_code}
    if decision.proxy_account:
        plan.add("proxy_account", "Get-CMAccount", {"UserName": decision.proxy_account})
    if decision.action == "new":
        plan.add("new", "New-CMSiteSystemServer", {**target, **decision.params})
    elif decision.action == "set":
        plan.add("set", "Set-CMSiteSystemServer", {**target, **decision.params})
    elif decision.action == "remove":
        plan.add("remove", "Remove-CMSiteSystemServer", {**target, "Force": True})
    plan.add("after", "Get-CMSiteSystemServer", {"SiteSystemServerName": server, "AllSite": True}, select=SITE_SYSTEM_SELECT)
    return plan
