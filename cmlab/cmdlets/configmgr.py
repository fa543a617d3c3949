"""ConfigMgr cmdlets: sites, site system servers, roles, the service connection point, accounts.

Each works on the hierarchy of the CMSite drive the engine opened. Without -SiteCode a cmdlet uses
the drive's site, with -AllSite every site (assumption, docs/simulator-assumptions.md).
"""

from __future__ import annotations

import datetime

from cmlab.model import (
    ROLE_SCP,
    ROLE_SITE_SYSTEM,
    Hierarchy,
    ModelError,
    NotFound,
    SiteSystem,
    SiteSystemSettings,
)
from cmlab.model.status import SEVERITY_ERROR, SEVERITY_INFORMATION, SEVERITY_WARNING

from .base import Invocation, ProviderSession, cmdlet
from .errors import CmdletError, not_on_site_drive
from .pstypes import PSObject, SecureString
from .wmi import (
    RESERVED,
    SYSRESUSE,
    server_from_network_path,
    sms_sci_reserved,
    sms_sci_site_definition,
    sms_site,
    sms_status_message,
    sysresuse,
)


def _session(inv: Invocation) -> ProviderSession:
    if inv.session is None:
        raise not_on_site_drive(inv.cmdlet)
    return inv.session


def _site_scope(inv: Invocation) -> list[str] | None:
    """None = every site (-AllSite); else -SiteCode or the drive's site."""
    session = _session(inv)
    if inv.switch("AllSite"):
        return None
    return [inv.get("SiteCode") or session.site_code]


def _target_site(inv: Invocation) -> str:
    return inv.get("SiteCode") or _session(inv).site_code


def _object_site_system(inv: Invocation, obj: PSObject) -> tuple[str, str]:
    return str(obj.get("SiteCode") or "").upper(), server_from_network_path(obj.get("NetworkOSPath"))


def _existing_site_system(inv: Invocation, site_code: str, server: str) -> SiteSystem:
    h = _session(inv).hierarchy
    h.site(site_code)
    ss = h.site_system(site_code, h.server_name(server))
    if ss is None:
        raise NotFound(f"No site system server named {server} exists in site {site_code.upper()}.")
    return ss


def _run(inv: Invocation, fn):
    """Model rules raise the model's exceptions; the cmdlet reports them as its own errors."""
    with inv.model.lock:
        try:
            return fn(_session(inv).hierarchy)
        except ModelError as e:
            raise CmdletError.from_model(inv.cmdlet, e) from None


# Sites ------------------------------------------------------------------------------------------


@cmdlet("Get-CMSite", ("SiteCode", "Name"))
def get_cm_site(inv: Invocation) -> list:
    return _run(inv, lambda h: [sms_site(s) for s in h.find_sites(inv.pattern("SiteCode"), inv.pattern("Name"))])


# Site system servers ----------------------------------------------------------------------------


@cmdlet("Get-CMSiteSystemServer", ("AllSite", "SiteCode", "SiteSystemServerName", "InputObject"))
def get_cm_site_system_server(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        if inv.parameter_set == "SearchByValue":
            site, server = _object_site_system(inv, inv.input_object("InputObject", SYSRESUSE))
            found = h.find_site_systems(None if inv.switch("AllSite") else [site], server)
        else:
            found = h.find_site_systems(_site_scope(inv), inv.pattern("SiteSystemServerName"))
        return [sysresuse(h, ss, ss.role(ROLE_SITE_SYSTEM)) for ss in found if ss.role(ROLE_SITE_SYSTEM)]

    return _run(inv, run)


_SETTINGS = (
    "AccountName",
    "EnableProxy",
    "FdmOperation",
    "ProxyAccessAccount",
    "ProxyServerName",
    "ProxyServerPort",
    "PublicFqdn",
    "UseSiteServerAccount",
)


def _settings(inv: Invocation) -> SiteSystemSettings:
    proxy_account = inv.get("ProxyAccessAccount")
    if isinstance(proxy_account, (PSObject, list)):
        proxy_account = str(inv.input_object("ProxyAccessAccount", RESERVED).get("UserName"))
    return SiteSystemSettings(
        use_site_server_account=inv.switch("UseSiteServerAccount"),
        account_name=inv.get("AccountName") or None,
        fdm_operation=inv.get("FdmOperation"),
        public_fqdn=inv.get("PublicFqdn"),
        enable_proxy=inv.get("EnableProxy"),
        proxy_server=inv.get("ProxyServerName"),
        proxy_port=inv.get("ProxyServerPort"),
        proxy_account=proxy_account,
    )


@cmdlet("New-CMSiteSystemServer", (*_SETTINGS, "SiteCode", "SiteSystemServerName"))
def new_cm_site_system_server(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        settings = _settings(inv)
        site = _target_site(inv)
        server = inv.get("SiteSystemServerName")
        if inv.what_if:
            return []
        ss = h.new_site_system(site, server, settings)
        return [sysresuse(h, ss, ss.role(ROLE_SITE_SYSTEM))]

    return _run(inv, run)


def _site_system_target(inv: Invocation, by_value_param: str = "InputObject") -> SiteSystem:
    if inv.parameter_set.startswith("SearchByValue") or inv.parameter_set == "ByValue":
        site, server = _object_site_system(inv, inv.input_object(by_value_param, SYSRESUSE))
        return _existing_site_system(inv, site, server)
    return _existing_site_system(inv, _target_site(inv), inv.get("SiteSystemServerName"))


@cmdlet("Set-CMSiteSystemServer", (*_SETTINGS, "SiteCode", "SiteSystemServerName", "InputObject", "PassThru"))
def set_cm_site_system_server(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        ss = _site_system_target(inv)
        settings = _settings(inv)
        if inv.what_if:
            return []
        h.set_site_system(ss, settings)
        return [sysresuse(h, ss, ss.role(ROLE_SITE_SYSTEM))] if inv.switch("PassThru") else []

    return _run(inv, run)


@cmdlet("Remove-CMSiteSystemServer", ("SiteCode", "SiteSystemServerName", "InputObject", "Force"))
def remove_cm_site_system_server(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        ss = _site_system_target(inv)
        inv.confirm_or_force()
        if not inv.what_if:
            h.remove_site_system(ss)
        return []

    return _run(inv, run)


# Roles ------------------------------------------------------------------------------------------


@cmdlet("Get-CMSiteRole", ("AllSite", "RoleName", "SiteCode", "SiteSystemServerName", "InputObject"))
def get_cm_site_role(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        if inv.parameter_set == "SearchByValue":
            site, server = _object_site_system(inv, inv.input_object("InputObject", SYSRESUSE))
            found = h.find_roles(None if inv.switch("AllSite") else [site], server)
        else:
            found = h.find_roles(_site_scope(inv), inv.pattern("SiteSystemServerName"), inv.pattern("RoleName"))
        return [sysresuse(h, ss, role) for ss, role in found]

    return _run(inv, run)


@cmdlet("Remove-CMSiteRole", ("RoleName", "SiteCode", "SiteSystemServerName", "InputObject", "Force"))
def remove_cm_site_role(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        if inv.parameter_set == "ByValue":
            obj = inv.input_object("InputObject", SYSRESUSE)
            site, server = _object_site_system(inv, obj)
            ss = _existing_site_system(inv, site, server)
            role_name = str(obj.get("RoleName"))
            if ss.role(role_name) is None:
                raise NotFound(f"The role {role_name} is not installed on {ss.server} in site {ss.site_code}.")
            targets = [(ss, role_name)]
        else:
            found = h.find_roles([_target_site(inv)], inv.pattern("SiteSystemServerName"), inv.pattern("RoleName"))
            if not found:
                raise NotFound(
                    f"The role {inv.get('RoleName')} is not installed on {inv.get('SiteSystemServerName')} "
                    f"in site {_target_site(inv).upper()}."
                )
            targets = [(ss, role.name) for ss, role in found]
        inv.confirm_or_force()
        if not inv.what_if:
            for ss, role_name in targets:
                h.remove_role(ss, role_name)
        return []

    return _run(inv, run)


# The service connection point -------------------------------------------------------------------


@cmdlet("Get-CMServiceConnectionPoint", ("AllSite", "SiteCode", "SiteSystemServerName", "InputObject"))
def get_cm_service_connection_point(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        if inv.parameter_set == "SearchByValue":
            site, server = _object_site_system(inv, inv.input_object("InputObject", SYSRESUSE))
            found = h.find_roles(None if inv.switch("AllSite") else [site], server, ROLE_SCP)
        else:
            found = h.find_roles(_site_scope(inv), inv.pattern("SiteSystemServerName"), ROLE_SCP)
        # Nothing found is not an error: DSC relies on it for Absent (docs/configmgr-behaviour.md#service-connection-point-cmdlets).
        return [sysresuse(h, ss, role) for ss, role in found if role.name == ROLE_SCP]

    return _run(inv, run)


@cmdlet("Add-CMServiceConnectionPoint", ("Mode", "SiteCode", "SiteSystemServerName", "InputObject"))
def add_cm_service_connection_point(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        if inv.parameter_set == "ByValue":
            site, server = _object_site_system(inv, inv.input_object("InputObject", SYSRESUSE))
        else:
            site, server = _target_site(inv), inv.get("SiteSystemServerName")
        if inv.what_if:
            return []
        ss, role = h.add_scp(site, server, str(inv.get("Mode")))
        return [sysresuse(h, ss, role)]

    return _run(inv, run)


def _scp_target(inv: Invocation, h: Hierarchy):
    if inv.parameter_set.startswith("ByValue") or inv.parameter_set.startswith("SearchByValue"):
        obj = inv.input_object("InputObject", f"{SYSRESUSE};RoleName={ROLE_SCP}")
        site, server = _object_site_system(inv, obj)
    else:
        site, server = _target_site(inv), inv.get("SiteSystemServerName")
    return h.scp_on(site, server)


@cmdlet("Set-CMServiceConnectionPoint", ("Mode", "SiteCode", "SiteSystemServerName", "InputObject", "PassThru"))
def set_cm_service_connection_point(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        ss, role = _scp_target(inv, h)
        if inv.what_if:
            return []
        if inv.get("Mode") is not None:
            h.set_scp_mode(role, str(inv.get("Mode")))
        return [sysresuse(h, ss, role)] if inv.switch("PassThru") else []

    return _run(inv, run)


@cmdlet("Remove-CMServiceConnectionPoint", ("SiteCode", "SiteSystemServerName", "InputObject", "Force"))
def remove_cm_service_connection_point(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        ss, role = _scp_target(inv, h)
        inv.confirm_or_force()
        if not inv.what_if:
            h.remove_role(ss, role.name)
        return []

    return _run(inv, run)


# Accounts ---------------------------------------------------------------------------------------


@cmdlet("Get-CMAccount", ("SiteCode", "UserName"))
def get_cm_account(inv: Invocation) -> list:
    # Without -SiteCode: the accounts of every site (assumption).
    return _run(inv, lambda h: [sms_sci_reserved(a) for a in h.find_accounts(inv.get("SiteCode"), inv.pattern("UserName"))])


def _password(inv: Invocation) -> str | None:
    value = inv.get("Password")
    if value is None:
        return None
    if not isinstance(value, SecureString):  # the catalog only lets a $secret reach it
        raise CmdletError.of(
            inv.cmdlet,
            "CannotConvertArgument",
            "Password must be a SecureString.",
            "InvalidArgument",
            "System.Management.Automation.ParameterBindingException",
        )
    return value.reveal()


@cmdlet("New-CMAccount", ("SiteCode", "UserName", "Password"))
def new_cm_account(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        password = _password(inv)
        if inv.what_if:
            return []
        return [sms_sci_reserved(h.new_account(_target_site(inv), str(inv.get("UserName")), password or ""))]

    return _run(inv, run)


def _account_target(inv: Invocation, h: Hierarchy, by_value: bool):
    if by_value:
        obj = inv.input_object("InputObject", RESERVED)
        return [h.account(str(obj.get("SiteCode")), str(obj.get("UserName")))]
    found = h.find_accounts(_target_site(inv), inv.pattern("UserName"))
    if not found:
        raise NotFound(f"The account {inv.get('UserName')} does not exist in site {_target_site(inv).upper()}.")
    return found


@cmdlet("Set-CMAccount", ("SiteCode", "UserName", "Password", "InputObject"))
def set_cm_account(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        accounts = _account_target(inv, h, inv.parameter_set == "SetAccountByObject")
        password = _password(inv)
        if password is not None and not inv.what_if:
            for account in accounts:
                h.set_account_password(account, password)
        return []

    return _run(inv, run)


@cmdlet("Remove-CMAccount", ("UserName", "InputObject", "Force"))
def remove_cm_account(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        # By name: the drive's site only, the least destructive reading (assumption).
        accounts = _account_target(inv, h, inv.parameter_set == "SearchByValueMandatory")
        inv.confirm_or_force()
        if not inv.what_if:
            for account in accounts:
                h.remove_account(account)
        return []

    return _run(inv, run)


# Status messages (docs/configmgr-behaviour.md#status-messages, #wmi-classes)
# ------------------------------------------------------------------

_SEVERITIES = {"error": SEVERITY_ERROR, "warning": SEVERITY_WARNING, "information": SEVERITY_INFORMATION}


def _since(inv: Invocation, name: str) -> float | None:
    value = inv.get(name)
    if value is None:
        return None
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)  # the lab's servers run on UTC
    return moment.timestamp()


def _visible_sites(h: Hierarchy, site_codes: list[str] | None, drive_site: str) -> list[str]:
    """The drive's site and the sites below it (its database), narrowed by -SiteCode."""
    visible = h.site_and_children(drive_site)
    if site_codes is None:
        return sorted(visible)
    return [c.upper() for c in site_codes if c.upper() in visible]


@cmdlet(
    "Get-CMSiteStatusMessage", ("Component", "ComputerName", "MessageId", "Module", "PassThru", "Severity", "SiteCode", "StartDateTime")
)
def get_cm_site_status_message(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        severities = None
        names = [str(s).lower() for s in inv.get("Severity") or []]
        if names and "all" not in names:
            severities = [_SEVERITIES[n] for n in names]
        messages = h.status_messages.find(
            components=inv.get("Component"),
            machines=inv.get("ComputerName"),
            message_ids=inv.get("MessageId"),
            severities=severities,
            site_codes=_visible_sites(h, inv.get("SiteCode"), _session(inv).site_code),
            modules=inv.get("Module"),
            since=_since(inv, "StartDateTime"),
        )
        return [sms_status_message(m) for m in messages]

    return _run(inv, run)


@cmdlet("Get-CMComponentStatusMessage", ("ComponentName", "ComputerName", "Severity", "SiteCode", "StartTime"))
def get_cm_component_status_message(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        severity = str(inv.get("Severity") or "").lower()
        if severity not in _SEVERITIES:
            # The reference: "doesn't work with the All value, but also doesn't return any values if
            # omitted" (docs/configmgr-behaviour.md#status-messages): nothing comes back without Error, Warning or Information.
            return []
        codes = [inv.get("SiteCode")] if inv.get("SiteCode") else None
        messages = h.status_messages.find(
            components=[inv.get("ComponentName")] if inv.get("ComponentName") else None,
            machines=[inv.get("ComputerName")] if inv.get("ComputerName") else None,
            severities=[_SEVERITIES[severity]],
            site_codes=_visible_sites(h, codes, _session(inv).site_code),
            since=_since(inv, "StartTime"),
        )
        return [sms_status_message(m) for m in messages]

    return _run(inv, run)


# Hierarchy settings (docs/configmgr-behaviour.md#usage-data-level) -----------------------------------------------------------------


@cmdlet("Get-CMHierarchySetting", ("SiteCode",))
def get_cm_hierarchy_setting(inv: Invocation) -> list:
    return _run(inv, lambda h: [sms_sci_site_definition(h, h.site(_target_site(inv)))])


@cmdlet("Set-CMHierarchySetting", ("TelemetryLevel", "PassThru", "Force"))
def set_cm_hierarchy_setting(inv: Invocation) -> list:
    def run(h: Hierarchy) -> list:
        level = inv.get("TelemetryLevel")
        if level is not None and not inv.what_if:
            h.set_telemetry_level(str(level))
        top = h.top_level_site() or h.site(_session(inv).site_code)
        return [sms_sci_site_definition(h, top)] if inv.switch("PassThru") else []

    return _run(inv, run)
