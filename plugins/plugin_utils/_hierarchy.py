# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The hierarchy as the SMS Provider records it: one read for every module.

Sites, site system roles and ConfigMgr accounts are read through CIM from the provider's site
namespace (`root\\SMS\\site_<code>`), never through a ConfigMgr cmdlet: a read never needs the
ConfigurationManager module (docs/configmgr-behaviour.md#wmi-classes). The cmdlets return these very
classes (Get-CMSite: SMS_Site; Get-CMSiteRole / Get-CMSiteSystemServer: SMS_SCI_SysResUse; Get-CMAccount:
SMS_SCI_Reserved), so the properties the decisions read are the same.

`HierarchyRead` builds the read (sites, roles by role name and by server, accounts); `Hierarchy.of()`
parses what it returned. site_system_server, service_connection_point and service_connection_point_info
all use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value

# docs/configmgr-behaviour.md#site-roles: role names of SMS_SCI_SysResUse.
SCP_ROLE = "SMS Dmp Connector"
SITE_SYSTEM_ROLE = "SMS Site System"
# Roles every site system has; anything else blocks removal of the site system
# (docs/configmgr-behaviour.md#site-system-servers).
BASE_ROLES = frozenset({SITE_SYSTEM_ROLE, "SMS Component Server"})

# docs/configmgr-behaviour.md#sites-and-the-top-level-site: SMS_Site.Type.
SITE_TYPES = {1: "secondary", 2: "primary", 4: "cas"}

PROPS_SELECT = {"PropertyName": None, "Value": None, "Value1": None, "Value2": None}
# CimSystemProperties is the CimInstance's own .NET property: the namespace names the provider's site.
SITE_SELECT = {
    "SiteCode": None,
    "SiteName": None,
    "ReportingSiteCode": None,
    "Type": None,
    "ServerName": None,
    "CimSystemProperties": {"Namespace": None},
}
ROLE_SELECT = {"SiteCode": None, "RoleName": None, "NetworkOSPath": None, "RoleCount": None, "Props": PROPS_SELECT}
ACCOUNT_SELECT = {"UserName": None, "SiteCode": None}


def wql_string(value: str) -> str:
    """A WQL string literal: backslash and quote escaped with a backslash, so data never becomes syntax."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def network_os_path(server: str) -> str:
    """SMS_SCI_SysResUse.NetworkOSPath of a server: \\\\server.fqdn."""
    return "\\\\" + server


def server_from_path(path: str | None) -> str | None:
    """NetworkOSPath is \\\\server.fqdn (docs/configmgr-behaviour.md#wmi-classes)."""
    if not path:
        return None
    return str(path).strip().lstrip("\\").rstrip("\\").lower() or None


def props_by_name(props) -> dict[str, dict]:
    """Embedded properties by PropertyName, which is case-sensitive (docs/configmgr-behaviour.md#wmi-classes)."""
    return {p.get("PropertyName"): p for p in props or [] if isinstance(p, dict)}


class HierarchyRead:
    """The read plan of the hierarchy, step by step; every step is one Get-CimInstance on the provider.

    Step ids: "sites", "roles", "accounts" (each at most once per plan).
    """

    def __init__(self, plan: Plan | None = None):
        self.plan = plan if plan is not None else Plan()

    def _cim(self, step_id: str, class_name: str, select: dict, where: list[str]) -> None:
        params = {"Namespace": provider_value("namespace"), "ClassName": class_name}
        if where:
            params["Filter"] = " OR ".join(where)
        self.plan.add(step_id, "Get-CimInstance", params, select=select)

    def sites(self) -> HierarchyRead:
        """Every site the provider's database knows (at the top-level site: the whole hierarchy)."""
        self._cim("sites", "SMS_Site", SITE_SELECT, [])
        return self

    def roles(self, role_names: Iterable[str] = (), servers: Iterable[str] = ()) -> HierarchyRead:
        """Roles with one of these names anywhere, and every role of these servers, in one query."""
        where = [f"RoleName = {wql_string(r)}" for r in role_names]
        where += [f"NetworkOSPath = {wql_string(network_os_path(s))}" for s in servers]
        if not where:
            raise ValueError("roles() needs a role name or a server")
        self._cim("roles", "SMS_SCI_SysResUse", ROLE_SELECT, where)
        return self

    def accounts(self, user_names: Iterable[str]) -> HierarchyRead:
        """These ConfigMgr accounts, one instance per site that has them."""
        where = [f"UserName = {wql_string(u)}" for u in dict.fromkeys(user_names)]
        if where:
            self._cim("accounts", "SMS_SCI_Reserved", ACCOUNT_SELECT, where)
        return self


def read_plan(
    *, role_names: Iterable[str] = (), servers: Iterable[str] = (), accounts: Iterable[str] = (), plan: Plan | None = None
) -> Plan:
    """Sites, and the roles / accounts asked for: the one read every module of the provider shares."""
    read = HierarchyRead(plan).sites()
    role_names, servers = list(role_names), [s for s in servers if s]
    if role_names or servers:
        read.roles(role_names, servers)
    read.accounts(accounts)
    return read.plan


@dataclass(frozen=True)
class Site:
    site_code: str
    site_name: str | None
    parent_site_code: str | None
    type: str
    server: str | None

    @property
    def is_top_level(self) -> bool:
        # docs/configmgr-behaviour.md#sites-and-the-top-level-site: the site whose ReportingSiteCode is empty.
        return not self.parent_site_code


@dataclass(frozen=True)
class RoleRow:
    """One SMS_SCI_SysResUse: a role of a site system server at a site."""

    site_code: str
    server: str
    role_name: str
    role_count: int | None
    props: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class Account:
    """One SMS_SCI_Reserved: a ConfigMgr account at one site."""

    site_code: str
    user_name: str


def parse_sites(output: list) -> list[Site]:
    sites = []
    for raw in output:
        if not isinstance(raw, dict) or not raw.get("SiteCode"):
            continue
        try:
            site_type = SITE_TYPES.get(int(raw.get("Type") or 0), str(raw.get("Type")))
        except (TypeError, ValueError):
            site_type = str(raw.get("Type"))
        sites.append(
            Site(
                site_code=str(raw["SiteCode"]).upper(),
                site_name=raw.get("SiteName"),
                parent_site_code=(str(raw.get("ReportingSiteCode") or "").upper() or None),
                type=site_type,
                server=(str(raw.get("ServerName")).lower() if raw.get("ServerName") else None),
            )
        )
    return sites


def namespace_site(output: list) -> str | None:
    """The site of the namespace the instances were read from (root/SMS/site_<code>): the provider's site."""
    for raw in output:
        namespace = (raw.get("CimSystemProperties") or {}).get("Namespace") if isinstance(raw, dict) else None
        if namespace:
            tail = str(namespace).replace("/", "\\").rsplit("\\", 1)[-1]
            if tail.lower().startswith("site_"):
                return tail[5:].upper() or None
    return None


def parse_roles(output: list) -> list[RoleRow]:
    rows = []
    for raw in output:
        if not isinstance(raw, dict) or not raw.get("SiteCode") or not raw.get("RoleName"):
            continue
        server = server_from_path(raw.get("NetworkOSPath"))
        if not server:
            continue
        try:
            count = int(raw.get("RoleCount")) if raw.get("RoleCount") is not None else None
        except (TypeError, ValueError):
            count = None
        rows.append(RoleRow(str(raw["SiteCode"]).upper(), server, str(raw["RoleName"]), count, props_by_name(raw.get("Props"))))
    return rows


def parse_accounts(output: list) -> list[Account]:
    return [
        Account(str(raw["SiteCode"]).upper(), str(raw["UserName"]))
        for raw in output
        if isinstance(raw, dict) and raw.get("SiteCode") and raw.get("UserName")
    ]


def top_level_site(sites: list[Site]) -> Site:
    top = [s for s in sites if s.is_top_level]
    if len(top) != 1:
        raise AnsibleActionFail(
            "Could not find the top-level site of the hierarchy (the SMS Provider reports %s). "
            "Connect to the SMS Provider of the CAS or of a stand-alone primary site (provider_server)."
            % ("no site without a parent" if not top else "several sites without a parent: " + ", ".join(s.site_code for s in top))
        )
    return top[0]


@dataclass
class Hierarchy:
    """What one read of the hierarchy returned, in the terms the decisions use."""

    sites: list[Site] = field(default_factory=list)
    provider_site: str | None = None
    roles: list[RoleRow] = field(default_factory=list)
    accounts: list[Account] = field(default_factory=list)

    @classmethod
    def of(cls, result: PlanResult, roles_step: str = "roles") -> Hierarchy:
        return cls(
            sites=parse_sites(result.output("sites")),
            provider_site=namespace_site(result.output("sites")),
            roles=parse_roles(result.output(roles_step)),
            accounts=parse_accounts(result.output("accounts")),
        )

    @property
    def top(self) -> Site:
        return top_level_site(self.sites)

    @property
    def site_codes(self) -> set[str]:
        return {s.site_code for s in self.sites}

    def site(self, code: str | None) -> Site | None:
        return next((s for s in self.sites if s.site_code == (code or "").upper()), None)

    def check_site(self, site_code: str) -> str:
        """The site code, if it is a site of this hierarchy; a refusal that lists the sites otherwise."""
        if site_code not in self.site_codes:
            raise AnsibleActionFail(f"site_code {site_code} is not a site of this hierarchy (sites: {', '.join(sorted(self.site_codes))}).")
        return site_code

    def roles_named(self, role_name: str) -> list[RoleRow]:
        return [r for r in self.roles if r.role_name == role_name]

    def roles_of(self, server: str, site_code: str | None = None) -> list[RoleRow]:
        return [r for r in self.roles if r.server == server.lower() and (site_code is None or r.site_code == site_code)]

    def site_system(self, server: str, site_code: str) -> RoleRow | None:
        """The "SMS Site System" role of the server at the site: the site system server itself."""
        return next((r for r in self.roles_of(server, site_code) if r.role_name == SITE_SYSTEM_ROLE), None)

    def site_system_sites(self, server: str) -> list[str]:
        return sorted({r.site_code for r in self.roles_of(server) if r.role_name == SITE_SYSTEM_ROLE})

    def account(self, user_name: str, site_code: str | None) -> Account | None:
        """The account at exactly that site (an account of the same name at another site is another account)."""
        return next((a for a in self.accounts if a.user_name.lower() == user_name.lower() and a.site_code == site_code), None)
