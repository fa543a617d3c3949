"""The ConfigMgr hierarchy: sites, site system servers and their roles, accounts, and the rules.

Rules come from docs/configmgr-behaviour.md; the section is cited where a rule is surprising. Where the
documentation is silent, the conservative choice is made and listed in docs/simulator-assumptions.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Protocol

from .errors import AlreadyExists, InvalidArgument, NotFound, RuleViolation
from .match import wildcard_match
from .secrets import PasswordFingerprint
from .status import Alerts, ComponentState, ComponentSummary, StatusMessages

ROLE_SITE_SYSTEM = "SMS Site System"
ROLE_SITE_SERVER = "SMS Site Server"
ROLE_PROVIDER = "SMS Provider"
ROLE_SQL_SERVER = "SMS SQL Server"
ROLE_COMPONENT_SERVER = "SMS Component Server"
ROLE_SCP = "SMS Dmp Connector"  # the service connection point (docs/configmgr-behaviour.md#scp-mode)

# Roles that come with installing a site, not with a cmdlet: Remove-CMSiteRole refuses them.
SITE_INSTALL_ROLES = frozenset(r.lower() for r in (ROLE_SITE_SERVER, ROLE_PROVIDER, ROLE_SQL_SERVER))

SCP_MODES = {"Online": 0, "Offline": 1}  # Props OfflineMode Value (docs/configmgr-behaviour.md#scp-mode)
# SMS_SCI_SCProperty TelemetryLevel (docs/configmgr-behaviour.md#usage-data-level)
TELEMETRY_LEVELS = {"Basic": 1, "Enhanced": 2, "Full": 3}
# Components a site server runs that cmlab reports in SMS_ComponentSummarizer (docs/configmgr-behaviour.md#sms-executive-threads,
# #asynchronous-installation).
SITE_SERVER_COMPONENTS = ("SMS_EXECUTIVE", "SMS_HIERARCHY_MANAGER", "SMS_SITE_COMPONENT_MANAGER")


class SiteType(IntEnum):
    SECONDARY = 1
    PRIMARY = 2
    CAS = 4


class RoleState:
    """Lifecycle of a role as Site Component Manager sees it
    (docs/configmgr-behaviour.md#asynchronous-installation): recorded `installing`, then `installed` or
    `install_failed` (retried). A removed role leaves the site control file at once and is `de_installing`
    on its server until Site Component Manager has removed it."""

    INSTALLING = "installing"
    INSTALLED = "installed"
    INSTALL_FAILED = "install_failed"
    DE_INSTALLING = "de_installing"


@dataclass
class Prop:
    """One SMS_EmbeddedProperty: PropertyName, Value (UInt32), Value1, Value2 (strings)."""

    name: str
    value: int = 0
    value1: str = ""
    value2: str = ""

    def to_dict(self) -> dict:
        return {"PropertyName": self.name, "Value": self.value, "Value1": self.value1, "Value2": self.value2}


@dataclass
class Role:
    name: str
    props: list[Prop] = field(default_factory=list)  # role-specific embedded properties
    state: str = RoleState.INSTALLED
    detail: str = ""  # why an installation failed

    def prop(self, name: str) -> Prop | None:
        # PropertyName is case-sensitive (docs/configmgr-behaviour.md#wmi-classes)
        return next((p for p in self.props if p.name == name), None)

    def to_dict(self) -> dict:
        out = {"state": self.state, "props": [p.to_dict() for p in self.props]}
        if self.detail:
            out["detail"] = self.detail
        return out


@dataclass
class ProxySettings:
    """One proxy configuration per site system server, shared by all its roles (docs/configmgr-behaviour.md#site-system-servers)."""

    enabled: bool = False
    server: str = ""
    port: int = 80  # console default (docs/configmgr-behaviour.md#site-system-servers)
    account: str = ""  # "" = the computer's System account (anonymous proxy access)

    def to_dict(self) -> dict:
        return {"enabled": self.enabled, "server": self.server, "port": self.port, "account": self.account}


@dataclass
class SiteSystem:
    site_code: str
    server: str  # FQDN, lower case
    roles: list[Role] = field(default_factory=list)
    use_machine_account: bool = True  # installation account = site server's computer account
    account: str = ""  # site system installation account (DOMAIN\user)
    fdm_operation: bool = False  # require the site server to initiate connections
    public_fqdn: str = ""
    proxy: ProxySettings = field(default_factory=ProxySettings)

    def role(self, name: str) -> Role | None:
        return next((r for r in self.roles if r.name.lower() == name.lower()), None)

    @property
    def role_count(self) -> int:
        # Counts the site system role itself: DSC refuses removal at RoleCount >= 2 (docs/configmgr-behaviour.md#site-system-servers).
        return len(self.roles)

    def to_dict(self) -> dict:
        return {
            "site_code": self.site_code,
            "server": self.server,
            "use_machine_account": self.use_machine_account,
            "account": self.account,
            "fdm_operation": self.fdm_operation,
            "public_fqdn": self.public_fqdn,
            "proxy": self.proxy.to_dict(),
            "roles": {r.name: r.to_dict() for r in sorted(self.roles, key=lambda r: r.name.lower())},
        }


@dataclass
class Site:
    code: str
    name: str
    type: SiteType
    server: str  # site server FQDN
    provider: str  # SMS Provider FQDN
    reporting_site_code: str = ""  # "" = top-level site (docs/configmgr-behaviour.md#sites-and-the-top-level-site)
    install_dir: str = r"C:\Program Files\Microsoft Configuration Manager"
    version: str = "5.00.9128.1000"
    build_number: int = 9128
    status: int = 1  # ACTIVE

    @property
    def is_top_level(self) -> bool:
        return self.reporting_site_code == ""

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "type": self.type.name,
            "server": self.server,
            "provider": self.provider,
            "reporting_site_code": self.reporting_site_code,
            "install_dir": self.install_dir,
            "version": self.version,
            "build_number": self.build_number,
            "status": self.status,
        }


@dataclass
class CMAccount:
    """SMS_SCI_Reserved: the password is only a fingerprint; `password_version` counts changes."""

    site_code: str
    user_name: str
    fingerprint: PasswordFingerprint
    password_version: int = 1

    def to_dict(self) -> dict:
        return {"site_code": self.site_code, "user_name": self.user_name, "password_version": self.password_version}


@dataclass
class SiteSystemSettings:
    """What New-/Set-CMSiteSystemServer may change; None = leave as is (Set) or default (New)."""

    use_site_server_account: bool = False
    account_name: str | None = None
    fdm_operation: bool | None = None
    public_fqdn: str | None = None
    enable_proxy: bool | None = None
    proxy_server: str | None = None
    proxy_port: int | None = None
    proxy_account: str | None = None  # account name, "" = none


class RoleInstaller(Protocol):
    """Who makes a role real on its server: Site Component Manager on the simulated clock
    (cmlab.model.installer), failing while it cannot administer the target
    (docs/configmgr-behaviour.md#asynchronous-installation, #remote-site-system-requirements)."""

    def install(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None: ...

    def uninstall(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None: ...


class ImmediateInstaller:
    def install(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None:
        role.state = RoleState.INSTALLED

    def uninstall(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None:
        site_system.roles.remove(role)


class Hierarchy:
    """One ConfigMgr hierarchy. Not thread-safe on its own: callers hold the lab model's lock."""

    def __init__(self, name: str, resolve_host: Callable[[str], str | None], installer: RoleInstaller | None = None) -> None:
        self.name = name
        self._resolve_host = resolve_host
        self.installer: RoleInstaller = installer or ImmediateInstaller()
        self.sites: dict[str, Site] = {}
        self.site_systems: dict[tuple[str, str], SiteSystem] = {}
        self.accounts: dict[tuple[str, str], CMAccount] = {}
        # The site database: status messages, component status, hierarchy settings (docs/configmgr-behaviour.md#wmi-classes, #usage-data-
        # level).
        self.status_messages = StatusMessages()
        self.components = ComponentSummary()
        self.alerts = Alerts()  # SMS_Alert: console notifications
        self.telemetry_level = "Enhanced"  # the default level (docs/configmgr-behaviour.md#usage-data-level)
        self.cloud_services: set[str] = set()  # cloud services that need the SCP's endpoints
        self.updates: dict[str, dict] = {}  # SMS_CM_UpdatePackages: guid -> {name, full_version, state}
        # The provider refuses a second SCP (assumption: the refusal's text is not documented). Tests turn it
        # off (topology `refuse_second_scp: false`) to prove the collection alone keeps one SCP.
        self.refuse_second_scp = True
        # Administrative users and their security role (topology `administrative_users`); an account of the
        # lab's domain that is not listed is a Full Administrator (docs/simulator-assumptions.md).
        self.administrative_users: dict[str, str] = {}
        # What the components at work add to the state dump (Site Component Manager's de-installs, the
        # SCP's runtime): each returns a dict merged into to_dict().
        self.runtime_reports: list[Callable[[], dict]] = []

    def security_role(self, account: str) -> str:
        """The security role of an administrative user (DOMAIN\\user, the NetBIOS or DNS form of the domain)."""
        name = account.split("\\", 1)[-1].lower()
        for user, role in self.administrative_users.items():
            if user.split("\\", 1)[-1].lower() == name:
                return role
        return "Full Administrator"

    # Sites --------------------------------------------------------------------------------
    def add_site(self, site: Site) -> Site:
        code = site.code.upper()
        if code in self.sites:
            raise AlreadyExists(f"Site {code} already exists in the hierarchy.")
        if site.reporting_site_code and site.reporting_site_code.upper() not in self.sites:
            raise NotFound(f"Parent site {site.reporting_site_code} of site {code} does not exist.")
        site.code = code
        site.reporting_site_code = site.reporting_site_code.upper()
        self.sites[code] = site
        for component in SITE_SERVER_COMPONENTS:
            self.components.set(code, site.server, component, ComponentState.STARTED)
        return site

    def site_and_children(self, code: str) -> set[str]:
        """A site and every site below it: what its database (and provider) knows about."""
        found, frontier = {code.upper()}, [code.upper()]
        while frontier:
            parent = frontier.pop()
            for s in self.sites.values():
                if s.reporting_site_code == parent and s.code not in found:
                    found.add(s.code)
                    frontier.append(s.code)
        return found

    def site(self, code: str) -> Site:
        site = self.sites.get(code.upper())
        if site is None:
            raise NotFound(f"Site '{code}' does not exist in the hierarchy.")
        return site

    def top_level_site(self) -> Site | None:
        """The site whose ReportingSiteCode is empty: the CAS or a stand-alone primary
        (docs/configmgr-behaviour.md#sites-and-the-top-level-site)."""
        return next((s for s in self.sites.values() if s.is_top_level), None)

    def find_sites(self, code: str | None = None, name: str | None = None) -> list[Site]:
        return sorted(
            (s for s in self.sites.values() if wildcard_match(code, s.code) and wildcard_match(name, s.name)), key=lambda s: s.code
        )

    # Site systems -------------------------------------------------------------------------
    def canonical_server(self, name: str) -> str:
        fqdn = self._resolve_host(name)
        if fqdn is None:
            # Conservative: a server the lab does not know cannot be reached by the site server.
            raise NotFound(f"The server '{name}' cannot be found. Specify the fully qualified domain name of a computer in the domain.")
        return fqdn

    def server_name(self, name: str) -> str:
        """The canonical FQDN when the lab knows the server, else the name as given (lower case)."""
        return self._resolve_host(name) or name.strip().lower()

    def site_system(self, site_code: str, server: str) -> SiteSystem | None:
        return self.site_systems.get((site_code.upper(), server.lower()))

    def find_site_systems(self, site_codes: Iterable[str] | None, server: str | None = None) -> list[SiteSystem]:
        codes = None if site_codes is None else {c.upper() for c in site_codes}
        return sorted(
            (ss for ss in self.site_systems.values() if (codes is None or ss.site_code in codes) and wildcard_match(server, ss.server)),
            key=lambda ss: (ss.site_code, ss.server),
        )

    def find_roles(
        self, site_codes: Iterable[str] | None, server: str | None = None, role_name: str | None = None
    ) -> list[tuple[SiteSystem, Role]]:
        found = []
        for ss in self.find_site_systems(site_codes, server):
            for role in sorted(ss.roles, key=lambda r: r.name.lower()):
                if wildcard_match(role_name, role.name):
                    found.append((ss, role))
        return found

    def create_site_system(self, site_code: str, server: str) -> SiteSystem:
        """Setup-time creation (topology): no rules beyond uniqueness."""
        site = self.site(site_code)
        fqdn = self.canonical_server(server)
        if (site.code, fqdn) in self.site_systems:
            raise AlreadyExists(f"The site system server {fqdn} already exists in site {site.code}.")
        ss = SiteSystem(site.code, fqdn, roles=[Role(ROLE_SITE_SYSTEM)])
        self.site_systems[(site.code, fqdn)] = ss
        return ss

    def new_site_system(self, site_code: str, server: str, settings: SiteSystemSettings) -> SiteSystem:
        site = self.site(site_code)
        fqdn = self.canonical_server(server)
        if (site.code, fqdn) in self.site_systems:
            raise AlreadyExists(f"A site system server with the name '{fqdn}' already exists in site {site.code}.")
        ss = SiteSystem(site.code, fqdn, roles=[])
        self._apply_settings(ss, settings, creating=True)
        role = Role(ROLE_SITE_SYSTEM, state=RoleState.INSTALLING)
        ss.roles.append(role)
        self.site_systems[(site.code, fqdn)] = ss
        self.installer.install(self, ss, role)
        return ss

    def set_site_system(self, ss: SiteSystem, settings: SiteSystemSettings) -> SiteSystem:
        self._apply_settings(ss, settings, creating=False)
        return ss

    def _apply_settings(self, ss: SiteSystem, s: SiteSystemSettings, creating: bool) -> None:
        # Validate everything before changing anything: a refused call leaves no trace.
        if s.use_site_server_account and s.account_name:
            # DSC throws on this combination (docs/configmgr-behaviour.md#site-system-servers); both name the installation account.
            raise InvalidArgument(
                "UseSiteServerAccount and AccountName cannot be used together: both specify the site system installation account."
            )
        if s.account_name:
            self._require_account(ss.site_code, s.account_name, "AccountName")
        if s.proxy_account:
            self._require_account(ss.site_code, s.proxy_account, "ProxyAccessAccount")
        proxy = ProxySettings(**ss.proxy.to_dict())
        proxy_params = (s.proxy_server, s.proxy_port, s.proxy_account)
        if s.enable_proxy is True:
            # Enabling re-specifies the whole proxy: port defaults to 80, no account = System
            # account (the DSC resource warns about exactly these resets, docs/configmgr-behaviour.md#site-system-servers).
            proxy = ProxySettings(True, s.proxy_server or "", s.proxy_port or 80, s.proxy_account or "")
        elif s.enable_proxy is False:
            if any(p is not None for p in proxy_params):
                raise InvalidArgument("Proxy settings cannot be specified when EnableProxy is $false.")
            proxy = ProxySettings()
        elif any(p is not None for p in proxy_params):
            if not proxy.enabled:
                raise InvalidArgument(
                    f"Proxy settings require EnableProxy $true: the site system server {ss.server} does not use a proxy server."
                )
            proxy.server = s.proxy_server if s.proxy_server is not None else proxy.server
            proxy.port = s.proxy_port if s.proxy_port is not None else proxy.port
            proxy.account = s.proxy_account if s.proxy_account is not None else proxy.account
        if proxy.enabled and not proxy.server:
            raise InvalidArgument("ProxyServerName is required when EnableProxy is $true.")

        if s.use_site_server_account:
            ss.use_machine_account, ss.account = True, ""
        elif s.account_name:
            ss.use_machine_account, ss.account = False, self.account(ss.site_code, s.account_name).user_name
        elif creating:
            ss.use_machine_account, ss.account = True, ""
        if s.fdm_operation is not None:
            ss.fdm_operation = s.fdm_operation
        if s.public_fqdn is not None:
            ss.public_fqdn = s.public_fqdn
        if proxy.account:
            proxy.account = self.account(ss.site_code, proxy.account).user_name
        ss.proxy = proxy

    def remove_site_system(self, ss: SiteSystem) -> None:
        others = sorted(r.name for r in ss.roles if r.name != ROLE_SITE_SYSTEM)
        if others:
            # "If the server has other site system roles besides the site system role, this cmdlet fails." (docs/configmgr-
            # behaviour.md#site-system-servers)
            raise RuleViolation(
                f"The site system server {ss.server} has other site system roles "
                f"({', '.join(others)}). Remove them before removing the site system server."
            )
        del self.site_systems[(ss.site_code, ss.server)]

    # Roles --------------------------------------------------------------------------------
    def add_role(self, ss: SiteSystem, name: str, props: list[Prop] | None = None, state: str = RoleState.INSTALLED) -> Role:
        if ss.role(name) is not None:
            raise AlreadyExists(f"The role {name} is already installed on {ss.server} in site {ss.site_code}.")
        role = Role(name, list(props or []), state)
        ss.roles.append(role)
        return role

    def remove_role(self, ss: SiteSystem, name: str) -> None:
        role = ss.role(name)
        if role is None:
            raise NotFound(f"The role {name} is not installed on {ss.server} in site {ss.site_code}.")
        if role.name == ROLE_SITE_SYSTEM:
            raise RuleViolation(f"The {ROLE_SITE_SYSTEM} role cannot be removed with Remove-CMSiteRole. Use Remove-CMSiteSystemServer.")
        if role.name.lower() in SITE_INSTALL_ROLES:
            raise RuleViolation(f"The {role.name} role is part of the site installation of site {ss.site_code} and cannot be removed.")
        self.installer.uninstall(self, ss, role)

    # The service connection point ----------------------------------------------------------
    def scps(self) -> list[tuple[SiteSystem, Role]]:
        """Every SCP role the site control records (more than one only when the refusal is relaxed)."""
        return self.find_roles(None, None, ROLE_SCP)

    def scp(self) -> tuple[SiteSystem, Role] | None:
        found = self.find_roles(None, None, ROLE_SCP)
        return found[0] if found else None

    def add_scp(self, site_code: str, server: str, mode: str) -> tuple[SiteSystem, Role]:
        site = self.site(site_code)
        existing = self.scp()
        if existing is not None and self.refuse_second_scp:
            ss, _ = existing
            # "Each hierarchy supports a single instance of this role." (docs/configmgr-behaviour.md#placement-and-move)
            raise RuleViolation(
                f"The hierarchy already has a service connection point on {ss.server} "
                f"(site {ss.site_code}). Each hierarchy supports a single instance of this role."
            )
        if not site.is_top_level:
            top = self.top_level_site()
            raise RuleViolation(
                f"The service connection point can only be installed at the top-level site "
                f"of the hierarchy ({top.code if top else 'none'}); site {site.code} reports "
                f"to {site.reporting_site_code}."
            )
        fqdn = self.canonical_server(server)
        ss = self.site_system(site.code, fqdn)
        if ss is None:
            # NOT CONFIRMED whether Add-by-name works on a non-site-system (docs/configmgr-behaviour.md#service-connection-point-cmdlets):
            # refuse.
            raise NotFound(
                f"The server {fqdn} is not a site system server of site {site.code}. Create it with New-CMSiteSystemServer first."
            )
        role = self.add_role(ss, ROLE_SCP, [Prop("OfflineMode", SCP_MODES[mode])], state=RoleState.INSTALLING)
        self.installer.install(self, ss, role)
        return ss, role

    def scp_on(self, site_code: str, server: str) -> tuple[SiteSystem, Role]:
        site = self.site(site_code)
        ss = self.site_system(site.code, self.server_name(server))
        role = ss.role(ROLE_SCP) if ss else None
        if ss is None or role is None:
            raise NotFound(f"No service connection point is installed on {server} in site {site.code}.")
        return ss, role

    @staticmethod
    def set_scp_mode(role: Role, mode: str) -> None:
        prop = role.prop("OfflineMode")
        if prop is None:
            role.props.append(Prop("OfflineMode", SCP_MODES[mode]))
        else:
            prop.value = SCP_MODES[mode]

    @staticmethod
    def scp_mode(role: Role) -> str:
        prop = role.prop("OfflineMode")
        return "Offline" if prop is not None and prop.value == 1 else "Online"

    # Hierarchy settings --------------------------------------------------------------------
    def set_telemetry_level(self, level: str) -> None:
        name = next((n for n in TELEMETRY_LEVELS if n.lower() == level.lower()), None)
        if name is None:
            raise InvalidArgument(f"TelemetryLevel must be one of {', '.join(TELEMETRY_LEVELS)}, not {level}.")
        self.telemetry_level = name

    # Accounts -----------------------------------------------------------------------------
    def account(self, site_code: str, user_name: str) -> CMAccount:
        account = self.accounts.get((site_code.upper(), user_name.lower()))
        if account is None:
            raise NotFound(f"The account {user_name} does not exist in site {site_code.upper()}.")
        return account

    def _require_account(self, site_code: str, user_name: str, parameter: str) -> None:
        if (site_code.upper(), user_name.lower()) not in self.accounts:
            # The account must already exist in ConfigMgr (docs/configmgr-behaviour.md#site-system-servers, DSC).
            raise NotFound(
                f"{parameter}: the account {user_name} does not exist in site {site_code.upper()}. Create it with New-CMAccount first."
            )

    def find_accounts(self, site_code: str | None = None, user_name: str | None = None) -> list[CMAccount]:
        return sorted(
            (
                a
                for a in self.accounts.values()
                if (site_code is None or a.site_code == site_code.upper()) and wildcard_match(user_name, a.user_name)
            ),
            key=lambda a: (a.site_code, a.user_name.lower()),
        )

    def new_account(self, site_code: str, user_name: str, password: str) -> CMAccount:
        site = self.site(site_code)
        if not re.fullmatch(r"[^\\/\s]+\\[^\\/]+", user_name):
            raise InvalidArgument(f"The user name {user_name} is not valid. The user name must be in the domain\\user format.")
        if (site.code, user_name.lower()) in self.accounts:
            raise AlreadyExists(f"The account {user_name} already exists in site {site.code}.")
        account = CMAccount(site.code, user_name, PasswordFingerprint(password))
        self.accounts[(site.code, user_name.lower())] = account
        return account

    @staticmethod
    def set_account_password(account: CMAccount, password: str) -> None:
        account.fingerprint = PasswordFingerprint(password)
        account.password_version += 1

    def accounts_in_use(self, account: CMAccount) -> list[str]:
        uses = []
        for ss in self.site_systems.values():
            if ss.site_code != account.site_code:
                continue
            if ss.account.lower() == account.user_name.lower():
                uses.append(f"site system installation account of {ss.server}")
            if ss.proxy.account.lower() == account.user_name.lower():
                uses.append(f"proxy server account of {ss.server}")
        return uses

    def remove_account(self, account: CMAccount) -> None:
        uses = self.accounts_in_use(account)
        if uses:
            raise RuleViolation(f"The account {account.user_name} is in use ({'; '.join(uses)}) and cannot be removed.")
        del self.accounts[(account.site_code, account.user_name.lower())]

    # State --------------------------------------------------------------------------------
    def iter_servers(self) -> Iterator[str]:
        return iter(sorted({ss.server for ss in self.site_systems.values()}))

    def to_dict(self) -> dict:
        out = {
            "sites": {code: site.to_dict() for code, site in sorted(self.sites.items())},
            "site_systems": [ss.to_dict() for ss in self.find_site_systems(None)],
            "accounts": [a.to_dict() for a in self.find_accounts()],
            "telemetry_level": self.telemetry_level,
            "cloud_services": sorted(self.cloud_services),
            "components": self.components.to_dict(),
            "status_messages": self.status_messages.to_dict(),
            "console_notifications": self.alerts.to_dict(),
            "updates": [{"guid": g, **u} for g, u in sorted(self.updates.items())],
        }
        for report in self.runtime_reports:
            out.update(report())  # de-installing roles, the SCP's effective mode and checks
        return out
