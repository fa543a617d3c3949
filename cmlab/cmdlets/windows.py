"""Windows built-in cmdlets against the simulated host the engine runs on."""

from __future__ import annotations

import re

from cmlab.model import WindowsHost, parse_registry_path, wildcard_match
from cmlab.model.windows import HIVE_DRIVES, RegistryKey

from .base import Invocation, cmdlet
from .errors import CmdletError, not_simulated
from .pstypes import PSEnum, PSObject, custom_object
from .sms_namespace import site_namespace
from .wmi import cim_instance
from .wql import InvalidQuery, compile_filter, invalid_query

# Get-CimInstance ------------------------------------------------------------------------------

_CIM_EXCEPTION = "Microsoft.Management.Infrastructure.CimException"


def _cim_error(inv: Invocation, hresult: str, message: str, category: str) -> CmdletError:
    return CmdletError.of(inv.cmdlet, f"HRESULT {hresult}", message, category, _CIM_EXCEPTION)


def _is_local(host: WindowsHost, name: str) -> bool:
    return name.lower().rstrip(".") in (host.fqdn, host.netbios_name.lower(), "localhost", ".", "127.0.0.1")


def _provider_locations(inv: Invocation) -> list[PSObject] | None:
    """root\\SMS SMS_ProviderLocation on this host; None when the host has no root\\SMS.

    The namespace exists on SMS Providers and site servers; it lists the providers of the local
    site (facts §2 "Provider discovery").
    """
    model, fqdn = inv.model, inv.host.fqdn
    sites = {(h.name, s.code): (h, s) for h, s in model.sites_provided_by(fqdn) + model.sites_served_by(fqdn)}
    if not sites:
        return None
    found = []
    for _, site in sorted(sites.values(), key=lambda hs: hs[1].code):
        found.append(cim_instance("SMS_ProviderLocation", "root/SMS", {
            "Machine": site.provider,
            "NamespacePath": f"\\\\{site.provider}\\root\\sms\\site_{site.code}",
            "ProviderForLocalSite": True,
            "SiteCode": site.code,
        }, ("Machine", "NamespacePath", "SiteCode")))
    return found


@cmdlet("Get-CimInstance", ("ClassName", "Namespace", "ComputerName", "Filter", "Property", "OperationTimeoutSec"))
def get_cim_instance(inv: Invocation) -> list:
    if inv.parameter_set != "ClassNameComputerSet":
        raise not_simulated(inv.cmdlet, f"with parameter set {inv.parameter_set}")
    for computer in inv.get("ComputerName") or []:
        if not _is_local(inv.host, computer):
            # A CIM session from inside a WinRM session is a second hop: the credentials of the
            # first are not delegated (facts §2, "WinRM / remoting", INFERRED).
            raise _cim_error(inv, "0x80070005", "Access is denied. ", "PermissionDenied")
    namespace = (inv.get("Namespace") or "root\\cimv2").replace("/", "\\")
    class_name = str(inv.get("ClassName"))
    with inv.model.lock:
        if namespace.lower() == "root\\sms":
            instances = _provider_locations(inv)
            if instances is None:
                raise _cim_error(inv, "0x8004100e", "Invalid namespace ", "MetadataError")
            if class_name.lower() != "sms_providerlocation":
                raise not_simulated(inv.cmdlet, f"the class {class_name} in namespace {namespace}")
            properties = tuple(instances[0].properties)
        elif namespace.lower().startswith("root\\sms\\site_"):
            code = namespace[len("root\\sms\\site_"):].upper()
            provided = [h for h, s in inv.model.sites_provided_by(inv.host.fqdn) if s.code == code]
            if not provided:
                raise _cim_error(inv, "0x8004100e", "Invalid namespace ", "MetadataError")
            instances, properties = site_namespace(inv, provided[0], code, class_name)
        elif namespace.lower() == "root\\cimv2":
            raise not_simulated(inv.cmdlet, f"the class {class_name} in namespace {namespace}")
        else:
            raise _cim_error(inv, "0x8004100e", "Invalid namespace ", "MetadataError")
    if inv.get("Filter"):
        try:
            keep = compile_filter(str(inv.get("Filter")), properties)
        except InvalidQuery:
            raise invalid_query(inv.cmdlet) from None
        instances = [i for i in instances if keep(i)]
    wanted = inv.get("Property")
    if wanted:
        names = {w.lower() for w in wanted}
        for instance in instances:
            for key in instance.properties:
                if key.lower() not in names:
                    instance.properties[key] = None
    return instances


# Registry and file-system paths ---------------------------------------------------------------

def _registry_provider_path(hive: str, parts: list[str]) -> str:
    return "Microsoft.PowerShell.Core\\Registry::" + "\\".join([hive, *parts])


def _value_data(value) -> object:
    if value.kind == "Binary":
        return list(value.data)
    if value.kind == "MultiString":
        return list(value.data)
    return value.data


def _paths(inv: Invocation) -> tuple[list[str], bool]:
    if inv.has("LiteralPath"):
        return list(inv.get("LiteralPath") or []), True
    return list(inv.get("Path") or []), False


def _path_not_found(inv: Invocation, path: str) -> CmdletError:
    return CmdletError.of(inv.cmdlet, "PathNotFound", f"Cannot find path '{path}' because it does not exist.",
                          "ObjectNotFound", "System.Management.Automation.ItemNotFoundException")


@cmdlet("Get-ItemProperty", ("Path", "LiteralPath", "Name"))
def get_item_property(inv: Invocation) -> list:
    paths, literal = _paths(inv)
    names = inv.get("Name")
    out = []
    with inv.model.lock:
        for path in paths:
            parsed = parse_registry_path(path)
            if parsed is None:
                raise not_simulated(inv.cmdlet, f"outside the registry ({path})")
            if not literal and re.search(r"[*?\[]", path):
                raise not_simulated(inv.cmdlet, f"with a wildcard path ({path})")
            hive, parts = parsed
            key: RegistryKey | None = inv.host.registry.key(path)
            if key is None:
                raise _path_not_found(inv, path)
            values = key.values()
            if names:
                chosen = []
                for wanted in names:
                    hits = [(n, v) for n, v in values if wildcard_match(wanted, n)]
                    if not hits and not re.search(r"[*?]", wanted):
                        native = "\\".join([hive, *parts])
                        raise CmdletError.of(
                            inv.cmdlet, "System.Management.Automation.PSArgumentException",
                            f"Property {wanted} does not exist at path {native}.",
                            "InvalidArgument", "System.Management.Automation.PSArgumentException")
                    chosen.extend(h for h in hits if h not in chosen)
                values = chosen
                if not values:
                    continue
            props = {name: _value_data(value) for name, value in values}
            parent = parts[:-1]
            props.update({
                "PSPath": _registry_provider_path(hive, parts),
                "PSParentPath": _registry_provider_path(hive, parent),
                "PSChildName": parts[-1] if parts else hive,
                "PSDrive": PSObject(["System.Management.Automation.PSDriveInfo"], {"Name": HIVE_DRIVES.get(hive, hive)},
                                    HIVE_DRIVES.get(hive, hive)),
                "PSProvider": PSObject(["System.Management.Automation.ProviderInfo"], {"Name": "Registry"},
                                       "Microsoft.PowerShell.Core\\Registry"),
            })
            out.append(custom_object(props))
    return out


@cmdlet("Test-Path", ("Path", "LiteralPath", "PathType"))
def test_path(inv: Invocation) -> list:
    paths, literal = _paths(inv)
    path_type = str(inv.get("PathType") or "Any")
    out = []
    with inv.model.lock:
        for path in paths:
            if not literal and re.search(r"[*?\[]", path):
                raise not_simulated(inv.cmdlet, f"with a wildcard path ({path})")
            if parse_registry_path(path) is not None:
                kind = "container" if inv.host.registry.key(path) is not None else None
            elif re.match(r"^[A-Za-z]:\\", path) or re.match(r"^[A-Za-z]:$", path):
                kind = inv.host.path_kind(path)
            else:
                raise not_simulated(inv.cmdlet, f"for the path {path!r} (only registry and drive-letter paths)")
            if path_type == "Leaf":
                out.append(kind == "leaf")
            elif path_type == "Container":
                out.append(kind == "container")
            else:
                out.append(kind is not None)
    return out


# Services -------------------------------------------------------------------------------------

_STATUS_VALUES = {"Stopped": 1, "StartPending": 2, "StopPending": 3, "Running": 4, "ContinuePending": 5,
                  "PausePending": 6, "Paused": 7}
_START_VALUES = {"Boot": 0, "System": 1, "Automatic": 2, "Manual": 3, "Disabled": 4}


def service_object(service) -> PSObject:
    return PSObject(["System.ServiceProcess.ServiceController", "System.Object"], {
        "Name": service.name,
        "DisplayName": service.display_name,
        "ServiceName": service.name,
        "Status": PSEnum("System.ServiceProcess.ServiceControllerStatus", service.status, _STATUS_VALUES[service.status]),
        "StartType": PSEnum("System.ServiceProcess.ServiceStartMode", service.start_type, _START_VALUES[service.start_type]),
        "CanStop": service.status == "Running",
        "MachineName": ".",
        "ServiceType": PSEnum("System.ServiceProcess.ServiceType", "Win32OwnProcess", 16),
    }, "System.ServiceProcess.ServiceController")


@cmdlet("Get-Service", ("Name", "DisplayName"))
def get_service(inv: Invocation) -> list:
    with inv.model.lock:
        services = sorted(inv.host.services.values(), key=lambda s: s.name.lower())
        if inv.parameter_set == "DisplayName":
            wanted, attr, what = inv.get("DisplayName"), "display_name", "display name"
        else:
            wanted, attr, what = inv.get("Name"), "name", "service name"
        if not wanted:
            return [service_object(s) for s in services]
        picked: list = []
        for pattern in wanted:
            hits = [s for s in services if wildcard_match(pattern, getattr(s, attr))]
            if not hits and not re.search(r"[*?]", pattern):
                error_id = "NoServiceFoundForGivenDisplayName" if attr == "display_name" else "NoServiceFoundForGivenName"
                raise CmdletError.of(inv.cmdlet, error_id, f"Cannot find any service with {what} '{pattern}'.",
                                     "ObjectNotFound", "Microsoft.PowerShell.Commands.ServiceCommandException")
            picked.extend(s for s in hits if s not in picked)
        return [service_object(s) for s in picked]


# Local groups ---------------------------------------------------------------------------------

def _group(inv: Invocation, name: str):
    group = inv.host.local_group(name)
    if group is None:
        raise CmdletError.of(inv.cmdlet, "GroupNotFound", f"Group {name} was not found.", "ObjectNotFound",
                             "Microsoft.PowerShell.Commands.GroupNotFoundException")
    return group


def _principal_not_found(inv: Invocation, name: str) -> CmdletError:
    return CmdletError.of(inv.cmdlet, "PrincipalNotFound", f"Principal {name} was not found.", "ObjectNotFound",
                          "Microsoft.PowerShell.Commands.PrincipalNotFoundException")


def _resolve_principal(inv: Invocation, name: str) -> tuple[str, str, str]:
    """(display name, ObjectClass, PrincipalSource) of a user, group or computer, or PrincipalNotFound."""
    host, domain = inv.host, inv.host.domain
    text = name.strip()
    if "\\" in text:
        prefix, short = text.split("\\", 1)
    elif "@" in text:
        short, prefix = text.split("@", 1)
    else:
        prefix, short = "", text
    if prefix.upper() in (host.netbios_name, ".") or (not prefix and short.lower() in ("administrator",)):
        if short.lower() == "administrator":
            return f"{host.netbios_name}\\Administrator", "User", "Local"
        if host.local_group(short):
            return f"{host.netbios_name}\\{host.local_group(short).name}", "Group", "Local"
        raise _principal_not_found(inv, name)
    if prefix and prefix.upper() != domain.netbios and prefix.lower() != domain.dns:
        raise _principal_not_found(inv, name)
    if short.lower() in domain.users:
        return f"{domain.netbios}\\{domain.users[short.lower()].name}", "User", "ActiveDirectory"
    for group in domain.groups:
        if group.lower() == short.lower():
            return f"{domain.netbios}\\{group}", "Group", "ActiveDirectory"
    for other in inv.model.hosts.values():
        if short.upper() == other.netbios_name + "$":
            return other.computer_account, "User", "ActiveDirectory"   # computer accounts list as users
    raise _principal_not_found(inv, name)


def _principal(inv: Invocation, member: str) -> PSObject:
    try:
        name, object_class, source = _resolve_principal(inv, member)
    except CmdletError:
        name, object_class, source = member, "User", "Unknown"
    return PSObject(["Microsoft.PowerShell.Commands.LocalPrincipal", "System.Object"],
                    {"Name": name, "ObjectClass": object_class,
                     "PrincipalSource": PSEnum("Microsoft.PowerShell.Commands.PrincipalSource", source, 0)}, name)


@cmdlet("Get-LocalGroup", ("Name",))
def get_local_group(inv: Invocation) -> list:
    with inv.model.lock:
        groups = list(inv.host.iter_groups())
        wanted = inv.get("Name")
        if wanted:
            picked = []
            for pattern in wanted:
                hits = [g for g in groups if wildcard_match(pattern, g.name)]
                if not hits and not re.search(r"[*?]", pattern):
                    _group(inv, pattern)
                picked.extend(h for h in hits if h not in picked)
            groups = picked
        return [PSObject(["Microsoft.PowerShell.Commands.LocalGroup", "System.Object"],
                         {"Name": g.name, "Description": g.description, "ObjectClass": "Group",
                          "PrincipalSource": PSEnum("Microsoft.PowerShell.Commands.PrincipalSource", "Local", 1)},
                         g.name) for g in groups]


@cmdlet("Get-LocalGroupMember", ("Name", "Member"))
def get_local_group_member(inv: Invocation) -> list:
    with inv.model.lock:
        group = _group(inv, str(inv.get("Name")))
        members = sorted(group.members, key=str.lower)
        pattern = inv.get("Member")
        if pattern:
            hits = [m for m in members if wildcard_match(pattern, m) or wildcard_match(pattern, m.split("\\")[-1])]
            if not hits and not re.search(r"[*?]", pattern):
                raise _principal_not_found(inv, pattern)
            members = hits
        return [_principal(inv, m) for m in members]


def _member_names(inv: Invocation) -> list[str]:
    members = inv.get("Member") or []
    return [str(m.get("Name")) if isinstance(m, PSObject) else str(m) for m in members]


@cmdlet("Add-LocalGroupMember", ("Name", "Member"))
def add_local_group_member(inv: Invocation) -> list:
    with inv.model.lock:
        group = _group(inv, str(inv.get("Name")))
        resolved = [_resolve_principal(inv, m)[0] for m in _member_names(inv)]
        for name in resolved:
            if group.has_member(name):
                raise CmdletError.of(inv.cmdlet, "MemberExists", f"{name} is already a member of group {group.name}.",
                                     "ResourceExists", "Microsoft.PowerShell.Commands.MemberExistsException")
        if not inv.what_if:
            for name in resolved:
                group.add_member(name)
    return []


@cmdlet("Remove-LocalGroupMember", ("Name", "Member"))
def remove_local_group_member(inv: Invocation) -> list:
    with inv.model.lock:
        group = _group(inv, str(inv.get("Name")))
        resolved = [_resolve_principal(inv, m)[0] for m in _member_names(inv)]
        for name in resolved:
            if not group.has_member(name):
                raise CmdletError.of(inv.cmdlet, "MemberNotFound", f"Member {name} was not found in group {group.name}.",
                                     "ObjectNotFound", "Microsoft.PowerShell.Commands.MemberNotFoundException")
        if not inv.what_if:
            for name in resolved:
                group.remove_member(name)
    return []
