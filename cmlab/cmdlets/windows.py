"""Windows built-in cmdlets against the simulated host the engine runs on."""

from __future__ import annotations

import re

from cmlab.model import WindowsHost
from cmlab.model.windows import OS_BUILD, OS_CAPTION, OS_VERSION

from .base import Invocation, cmdlet
from .errors import CmdletError, not_simulated
from .pstypes import PSObject, ps_datetime
from .sms_namespace import site_namespace
from .wmi import cim_instance
from .wql import InvalidQuery, UnsupportedQuery, compile_filter, invalid_query

# Get-CimInstance ------------------------------------------------------------------------------

_CIM_EXCEPTION = "Microsoft.Management.Infrastructure.CimException"


def _cim_error(inv: Invocation, hresult: str, message: str, category: str) -> CmdletError:
    return CmdletError.of(inv.cmdlet, f"HRESULT {hresult}", message, category, _CIM_EXCEPTION)


def _is_local(host: WindowsHost, name: str) -> bool:
    return name.lower().rstrip(".") in (host.fqdn, host.netbios_name.lower(), "localhost", ".", "127.0.0.1")


def _provider_locations(inv: Invocation) -> list[PSObject] | None:
    """root\\SMS SMS_ProviderLocation on this host; None when the host has no root\\SMS.

    The namespace exists on SMS Providers and site servers; it lists the providers of the local site
    (docs/configmgr-behaviour.md#powershell-module-and-remoting "Provider discovery").
    """
    model, fqdn = inv.model, inv.host.fqdn
    sites = {(h.name, s.code): (h, s) for h, s in model.sites_provided_by(fqdn) + model.sites_served_by(fqdn)}
    if not sites:
        return None
    found = []
    for _, site in sorted(sites.values(), key=lambda hs: hs[1].code):
        found.append(
            cim_instance(
                "SMS_ProviderLocation",
                "root/SMS",
                {
                    "Machine": site.provider,
                    "NamespacePath": f"\\\\{site.provider}\\root\\sms\\site_{site.code}",
                    "ProviderForLocalSite": True,
                    "SiteCode": site.code,
                },
                ("Machine", "NamespacePath", "SiteCode"),
            )
        )
    return found


def operating_system(inv: Invocation) -> PSObject:
    """Win32_OperatingSystem: LastBootUpTime moves when the host restarts (Restart-Computer); times are
    the host's local time (Local DateTimes, as Get-CimInstance converts CIM datetimes)."""
    host, bias = inv.host, inv.host.time_zone_bias
    return cim_instance(
        "Win32_OperatingSystem",
        "root/cimv2",
        {
            "BuildNumber": OS_BUILD,
            "Caption": OS_CAPTION,
            "CSName": host.netbios_name,
            "CurrentTimeZone": -bias,
            "InstallDate": ps_datetime(1767225600.0, bias),  # 2026-01-01: the lab servers were installed then
            "LastBootUpTime": ps_datetime(host.boot_time, bias),
            "LocalDateTime": ps_datetime(inv.model.clock.now(), bias),
            "Name": f"{OS_CAPTION}|C:\\Windows|\\Device\\Harddisk0\\Partition2",
            "OSArchitecture": "64-bit",
            "ProductType": 3,  # server
            "Status": "OK",
            "SystemDirectory": "C:\\Windows\\system32",
            "SystemDrive": "C:",
            "Version": OS_VERSION,
            "WindowsDirectory": "C:\\Windows",
        },
        ("Name",),
    )


def computer_system(inv: Invocation) -> PSObject:
    """Win32_ComputerSystem: who this host is (Name = NetBIOS name, DNSHostName + Domain = FQDN)."""
    host = inv.host
    return cim_instance(
        "Win32_ComputerSystem",
        "root/cimv2",
        {
            "Name": host.netbios_name,
            "DNSHostName": host.fqdn.split(".", 1)[0],
            "Domain": host.domain.dns,
            "PartOfDomain": True,
            "Workgroup": None,
            "Manufacturer": "cmlab",
            "Model": "Simulated Windows Server",
        },
        ("Name",),
    )


# WQL of a Win32_GroupUser query by group, as commonly written:
#   GroupComponent = "Win32_Group.Domain='LAB',Name='CM Installers'"
_GROUP_COMPONENT = re.compile(
    r"""^\s*GroupComponent\s*=\s*"Win32_Group\.Domain='(?P<domain>[^'"]*)',Name='(?P<name>[^'"]*)'"\s*$""", re.IGNORECASE
)


def group_users(inv: Invocation, wql: str | None) -> list[PSObject]:
    """Win32_GroupUser of one group: the members of a domain group (the host asks its domain controller)
    or of a local group. Only the query by GroupComponent is simulated: an unfiltered query would
    enumerate every group of the domain."""
    match = _GROUP_COMPONENT.match(wql or "")
    if match is None:
        raise not_simulated(inv.cmdlet, "for Win32_GroupUser without a filter GroupComponent = \"Win32_Group.Domain='D',Name='G'\"")
    host, domain_name, group_name = inv.host, match["domain"], match["name"]
    domain = host.domain
    if domain_name.upper() == domain.netbios or domain_name.lower() == domain.dns:
        group = next((g for g in domain.groups if g.lower() == group_name.lower()), None)
        members = [f"{domain.netbios}\\{m}" for m in domain.groups[group]] if group else []
        shown_domain = domain.netbios
    elif domain_name.upper() == host.netbios_name:
        local = host.local_group(group_name)
        group, members, shown_domain = (local.name if local else None), (list(local.members) if local else []), host.netbios_name
    else:
        return []
    if group is None:
        return []
    whole = cim_instance("Win32_Group", "root/cimv2", {"Domain": shown_domain, "Name": group}, ("Domain", "Name"))
    out = []
    for member in members:
        principal = host.member_principal(member)
        member_domain, _, short = principal.name.rpartition("\\")
        part_class = "Win32_Group" if principal.object_class == "Group" else "Win32_UserAccount"
        part = cim_instance(part_class, "root/cimv2", {"Domain": member_domain, "Name": short}, ("Domain", "Name"))
        out.append(
            cim_instance(
                "Win32_GroupUser", "root/cimv2", {"GroupComponent": whole, "PartComponent": part}, ("GroupComponent", "PartComponent")
            )
        )
    return out


@cmdlet("Get-CimInstance", ("ClassName", "Namespace", "ComputerName", "Filter", "Property", "OperationTimeoutSec"))
def get_cim_instance(inv: Invocation) -> list:
    if inv.parameter_set != "ClassNameComputerSet":
        raise not_simulated(inv.cmdlet, f"with parameter set {inv.parameter_set}")
    for computer in inv.get("ComputerName") or []:
        if not _is_local(inv.host, computer):
            # A CIM session from inside a WinRM session is a second hop: the credentials of the
            # first are not delegated (docs/configmgr-behaviour.md#powershell-module-and-remoting, "WinRM / remoting", INFERRED).
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
            code = namespace[len("root\\sms\\site_") :].upper()
            provided = [h for h, s in inv.model.sites_provided_by(inv.host.fqdn) if s.code == code]
            if not provided:
                raise _cim_error(inv, "0x8004100e", "Invalid namespace ", "MetadataError")
            instances, properties = site_namespace(inv, provided[0], code, class_name)
        elif namespace.lower() == "root\\cimv2":
            if class_name.lower() == "win32_groupuser":
                instances = group_users(inv, inv.get("Filter"))
                return _only_properties(inv, instances)  # the filter chose the group
            builders = {"win32_operatingsystem": operating_system, "win32_computersystem": computer_system}
            if class_name.lower() not in builders:
                raise not_simulated(inv.cmdlet, f"the class {class_name} in namespace {namespace}")
            instances = [builders[class_name.lower()](inv)]
            properties = tuple(instances[0].properties)
        else:
            raise _cim_error(inv, "0x8004100e", "Invalid namespace ", "MetadataError")
    if inv.get("Filter"):
        try:
            keep = compile_filter(str(inv.get("Filter")), properties)
            instances = [i for i in instances if keep(i)]
        except InvalidQuery:
            raise invalid_query(inv.cmdlet) from None
        except UnsupportedQuery as e:
            raise not_simulated(inv.cmdlet, f"with the WQL filter {inv.get('Filter')!r} ({e} is not evaluated)") from None
    return _only_properties(inv, instances)


def _only_properties(inv: Invocation, instances: list) -> list:
    wanted = inv.get("Property")
    if wanted:
        names = {w.lower() for w in wanted}
        for instance in instances:
            for key in instance.properties:
                if key.lower() not in names:
                    instance.properties[key] = None
    return instances
