# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Site system servers: decide, write.

The read is the hierarchy read (`_hierarchy`): sites, every role of the server, the accounts named.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import BASE_ROLES, Hierarchy, RoleRow
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, ref

# docs/configmgr-behaviour.md#site-system-servers: the console and the cmdlet use port 80 when none is given.
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
    proxy_account: str | None = None  # None: the computer account (anonymous proxy access)

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
    proxy_account: str | None = None  # "" = back to the computer account


@dataclass
class Change:
    """What the write plan does (Decision.changes)."""

    action: str  # new | set | remove
    site_code: str
    params: dict = field(default_factory=dict)
    proxy_account: tuple[str, str] | None = None  # (user, site) of the CM account for -ProxyAccessAccount


def check_proxy_options(d: Desired) -> Desired:
    """The documented rules (docs/configmgr-behaviour.md#site-system-servers, as the DSC resource enforces
    them), before any connection."""
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


def _int(value, default=0) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def state_of(row: RoleRow) -> SiteSystemState:
    # docs/configmgr-behaviour.md#site-system-servers: the embedded properties of the site system's
    # SMS_SCI_SysResUse ("SMS Site System" role).
    props = row.props
    machine = props.get("UseMachineAccount", {}).get("Value")
    user = props.get("UserName", {}).get("Value2") or None
    use_machine = str(machine) == "1" or (machine is None and not user)
    use_proxy = _int(props.get("UseProxy", {}).get("Value")) == 1
    anonymous = _int(props.get("AnonymousProxyAccess", {}).get("Value"), 1) == 1
    return SiteSystemState(
        present=True,
        site_code=row.site_code,
        site_system_server=row.server,
        use_site_server_account=use_machine,
        installation_account=None if use_machine else user,
        enable_proxy=use_proxy,
        proxy_server=(props.get("ProxyName", {}).get("Value2") or None) if use_proxy else None,
        proxy_port=_int(props.get("ProxyServerPort", {}).get("Value"), DEFAULT_PROXY_PORT) if use_proxy else None,
        proxy_account=None if (not use_proxy or anonymous) else (props.get("ProxyUserName", {}).get("Value2") or None),
    )


def read_plan(server: str, accounts: list[str]) -> Plan:
    """Sites, every role of the server, and the accounts named: one CIM read."""
    return _hierarchy.read_plan(servers=[server], accounts=accounts)


def account_site(hierarchy: Hierarchy, user: str, preferred: list[str | None]) -> str | None:
    """The one site whose account `user` the site system uses: the first preferred site that has it, else the
    first site that has it. An account exists once per site; a cmdlet must get exactly one object."""
    sites = sorted(a.site_code for a in hierarchy.accounts if a.user_name.lower() == user.lower())
    return next((s for s in preferred if s in sites), sites[0] if sites else None)


def _same(a: str | None, b: str | None) -> bool:
    return (a or "").lower() == (b or "").lower()


def decide(d: Desired, hierarchy: Hierarchy, check_mode: bool = False) -> Decision:
    """Pure: what the site system server needs, from the hierarchy read. Refusals raise."""
    site_code = hierarchy.check_site(d.site_code) if d.site_code is not None else hierarchy.top.site_code
    existing = hierarchy.site_system(d.server, site_code)
    before = state_of(existing) if existing else SiteSystemState()
    header = f"site system server {d.server}"

    def decision(after: SiteSystemState, change: Change | None, warnings: list[str] | None = None) -> Decision:
        return Decision(
            before=before.to_dict(),
            after=after.to_dict(),
            changed=change is not None,
            warnings=list(warnings or []),
            diff_header=header,
            changes=change,
        )

    if d.state == "absent":
        if existing is None:
            return decision(SiteSystemState(), None)
        held = sorted({r.role_name for r in hierarchy.roles_of(d.server, site_code) if r.role_name not in BASE_ROLES})
        if held:
            raise AnsibleActionFail(
                f"{d.server} still holds site system roles at site {site_code}: {', '.join(held)}. Remove those roles first "
                f"(for the service connection point: configmgr.scp.service_connection_point with state: absent)."
            )
        return decision(SiteSystemState(), Change("remove", site_code))

    warnings: list[str] = []
    # docs/configmgr-behaviour.md#site-system-servers: -AccountName and -ProxyAccessAccount name accounts that
    # already exist in ConfigMgr. An account exists once per site (docs/configmgr-behaviour.md#configmgr-accounts):
    # the site system's own site first, then the provider's, then the top-level site's.
    preferred = [site_code, hierarchy.provider_site, hierarchy.top.site_code]
    sites = {}
    for option, account in (("installation_account", d.installation_account), ("proxy_account", d.proxy_account)):
        if not account:
            continue
        sites[option] = account_site(hierarchy, account, preferred)
        if sites[option] is None:
            if check_mode:  # an earlier task of the same play (cm_account) would have created it
                warnings.append(
                    f"{option} {account} is not a Configuration Manager account yet; this prediction "
                    f"assumes an earlier task creates it (a real run fails otherwise)."
                )
                sites[option] = site_code
                continue
            raise AnsibleActionFail(
                f"{option} {account} is not a Configuration Manager account. Create it first (configmgr.scp.cm_account) and run again."
            )

    after = (
        SiteSystemState(**before.to_dict()) if existing else SiteSystemState(True, site_code, d.server, True, None, False, None, None, None)
    )
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
                proxy_account_lookup = (account, sites.get("proxy_account") or account_site(hierarchy, account, preferred) or site_code)
        after.enable_proxy, after.proxy_server, after.proxy_port, after.proxy_account = True, d.proxy_server, port, account

    action = "new" if existing is None else ("set" if params else None)
    return decision(after, Change(action, site_code, params, proxy_account_lookup) if action else None, warnings)


def write_plan(change: Change, server: str) -> WritePlan:
    plan = WritePlan()
    target = {"SiteSystemServerName": server, "SiteCode": change.site_code}
    if change.proxy_account:
        user, site = change.proxy_account
        # Exactly one object: the account at one site (without -SiteCode, one object per site), by its literal
        # name (-UserName takes wildcards, and an account name may hold a backtick, their escape character).
        plan.add("proxy_account", "Get-CMAccount", {"UserName": user, "SiteCode": site, "DisableWildcardHandling": True})
    if change.action == "new":
        plan.write(
            "new",
            "New-CMSiteSystemServer",
            {**target, **change.params},
            does=f"make {server} a site system server of site {change.site_code}",
        )
    elif change.action == "set":
        plan.write(
            "set",
            "Set-CMSiteSystemServer",
            {**target, **change.params},
            does=f"set {', '.join(sorted(change.params))} of site system server {server} (site {change.site_code})",
        )
    elif change.action == "remove":
        plan.write(
            "remove",
            "Remove-CMSiteSystemServer",
            {**target, "Force": True},
            does=f"remove site system server {server} from site {change.site_code}",
        )
    return _hierarchy.HierarchyRead(plan).roles(servers=[server]).plan


def state_after(written_hierarchy: Hierarchy, server: str, site_code: str) -> SiteSystemState:
    row = written_hierarchy.site_system(server, site_code)
    return state_of(row) if row else SiteSystemState()
