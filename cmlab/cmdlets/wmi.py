"""ConfigMgr and CIM objects as the real cmdlets return them (facts §1.6, §3)."""

from __future__ import annotations

from cmlab.model import (
    ROLE_SITE_SYSTEM,
    CMAccount,
    Hierarchy,
    Prop,
    Role,
    Site,
    SiteSystem,
)

from .pstypes import PSObject

SYSRESUSE = "IResultObject#SMS_SCI_SysResUse"
RESERVED = "IResultObject#SMS_SCI_Reserved"
SMS_SITE = "IResultObject#SMS_Site"


def _result_object(wmi_class: str, properties: dict, key_text: str, extra_types: tuple[str, ...] = ()) -> PSObject:
    # Type names carry the class (and for SysResUse the role) so that PSTypeName checks of the
    # module's parameters (catalog ps_type_name) can be made against them.
    types = [*extra_types, f"IResultObject#{wmi_class}", "Microsoft.ConfigurationManagement.ManagementProvider.IResultObject",
             "System.Object"]
    return PSObject(types, properties, f"{wmi_class}.{key_text}")


def nal_path(server: str, site_code: str) -> str:
    # Facts §3: ["Display=\\server.fqdn\"]MSWNET:["SMS_SITE=ABC"]\\server.fqdn\
    return f'["Display=\\\\{server}\\"]MSWNET:["SMS_SITE={site_code}"]\\\\{server}\\'


def server_from_network_path(path: str) -> str:
    return str(path or "").strip().lstrip("\\").rstrip("\\").lower()


def site_system_props(ss: SiteSystem) -> list[Prop]:
    """The SMS Site System role's embedded properties (facts §1.6 table)."""
    return [
        Prop("Server Remote Public Name", 0, ss.public_fqdn, ""),
        Prop("FDMOperation", int(ss.fdm_operation)),
        Prop("UseMachineAccount", int(ss.use_machine_account)),
        Prop("UserName", 0, "", ss.account),
        Prop("UseProxy", int(ss.proxy.enabled)),
        Prop("ProxyName", 0, "", ss.proxy.server if ss.proxy.enabled else ""),
        Prop("ProxyServerPort", ss.proxy.port if ss.proxy.enabled else 0),
        Prop("ProxyUserName", 0, "", ss.proxy.account if ss.proxy.enabled else ""),
        Prop("AnonymousProxyAccess", int(not ss.proxy.account)),
    ]


def embedded_property(prop: Prop) -> PSObject:
    return PSObject(["IResultObject#SMS_EmbeddedProperty", "System.Object"], prop.to_dict(), "SMS_EmbeddedProperty")


def sysresuse(hierarchy: Hierarchy, ss: SiteSystem, role: Role) -> PSObject:
    site = hierarchy.sites[ss.site_code]
    nal = nal_path(ss.server, ss.site_code)
    # Type (facts §3): 1/2/4 when on the secondary/primary/CAS site server, 8 otherwise.
    type_ = int(site.type) if ss.server == site.server else 8
    props = site_system_props(ss) if role.name == ROLE_SITE_SYSTEM else role.props
    item_name = f"{nal},{role.name}"
    properties = {
        "FileType": 2,
        "ItemName": item_name,
        "ItemType": "System Resource Usage",
        "NALPath": nal,
        "NALType": "Windows NT Server",
        "NetworkOSPath": f"\\\\{ss.server}",
        "PropLists": [],
        "Props": [embedded_property(p) for p in props],
        "RoleCount": ss.role_count,
        "RoleName": role.name,
        "ServiceWindows": [],
        "SiteCode": ss.site_code,
        "SslState": 0,
        "Type": type_,
    }
    key = f'FileType=2,ItemName="{item_name}",ItemType="System Resource Usage",SiteCode="{ss.site_code}"'
    return _result_object("SMS_SCI_SysResUse", properties, key,
                          (f"IResultObject#SMS_SCI_SysResUse;RoleName={role.name}",))


def sms_site(site: Site) -> PSObject:
    properties = {
        "BuildNumber": site.build_number,
        "Features": "0000000000000000000000000000000000000000000000000000000000000000",
        "InstallDir": site.install_dir,
        "Mode": 0,
        "ReportingSiteCode": site.reporting_site_code,
        "RequestedStatus": 110,
        "ServerName": site.server,
        "SiteCode": site.code,
        "SiteName": site.name,
        "Status": site.status,
        "TimeZoneInfo": "0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000 0000",
        "Type": int(site.type),
        "Version": site.version,
    }
    return _result_object("SMS_Site", properties, f'SiteCode="{site.code}"')


def sms_sci_reserved(account: CMAccount) -> PSObject:
    # Never a password, not even encrypted (Reserved2 holds it on a real site: left out).
    properties = {
        "AccountUsage": [],
        "Availability": 0,
        "FileType": 2,
        "ItemName": account.user_name,
        "ItemType": "User",
        "PropLists": [],
        "Props": [],
        "SiteCode": account.site_code,
        "UserName": account.user_name,
    }
    key = f'FileType=2,ItemName="{account.user_name}",ItemType="User",SiteCode="{account.site_code}"'
    return _result_object("SMS_SCI_Reserved", properties, key)


def cim_instance(wmi_class: str, namespace: str, properties: dict, keys: tuple[str, ...]) -> PSObject:
    """A CimInstance: ToString() is 'Class (Key = "value", ...)'."""
    shown = ", ".join(f'{k} = "{properties.get(k)}"' for k in keys)
    return PSObject([f"Microsoft.Management.Infrastructure.CimInstance#{namespace}/{wmi_class}",
                     f"Microsoft.Management.Infrastructure.CimInstance#{wmi_class}",
                     "Microsoft.Management.Infrastructure.CimInstance", "System.Object"],
                    properties, f"{wmi_class} ({shown})")
