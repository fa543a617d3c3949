"""ConfigMgr and CIM objects as the real cmdlets return them (docs/configmgr-behaviour.md#site-system-servers, #wmi-classes)."""

from __future__ import annotations

import datetime

from cmlab.model import (
    ROLE_SITE_SYSTEM,
    CMAccount,
    Hierarchy,
    Prop,
    Role,
    Site,
    SiteSystem,
)
from cmlab.model.configmgr import TELEMETRY_LEVELS
from cmlab.model.status import (
    SEVERITY_ERROR,
    SEVERITY_INFORMATION,
    SEVERITY_WARNING,
    Alert,
    ComponentRow,
    StatusMessage,
)

from .pstypes import PSObject, ps_datetime

SYSRESUSE = "IResultObject#SMS_SCI_SysResUse"
RESERVED = "IResultObject#SMS_SCI_Reserved"
SMS_SITE = "IResultObject#SMS_Site"


def _result_object(wmi_class: str, properties: dict, key_text: str, extra_types: tuple[str, ...] = ()) -> PSObject:
    # Type names carry the class (and for SysResUse the role) so that PSTypeName checks of the
    # module's parameters (catalog ps_type_name) can be made against them.
    types = [
        *extra_types,
        f"IResultObject#{wmi_class}",
        "Microsoft.ConfigurationManagement.ManagementProvider.IResultObject",
        "System.Object",
    ]
    return PSObject(types, properties, f"{wmi_class}.{key_text}")


def nal_path(server: str, site_code: str) -> str:
    # docs/configmgr-behaviour.md#wmi-classes: ["Display=\\server.fqdn\"]MSWNET:["SMS_SITE=ABC"]\\server.fqdn\
    return f'["Display=\\\\{server}\\"]MSWNET:["SMS_SITE={site_code}"]\\\\{server}\\'


def server_from_network_path(path: str) -> str:
    return str(path or "").strip().lstrip("\\").rstrip("\\").lower()


def site_system_props(ss: SiteSystem) -> list[Prop]:
    """The SMS Site System role's embedded properties (docs/configmgr-behaviour.md#site-system-servers table)."""
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
    # Type (docs/configmgr-behaviour.md#wmi-classes): 1/2/4 when on the secondary/primary/CAS site server, 8 otherwise.
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
    return _result_object("SMS_SCI_SysResUse", properties, key, (f"IResultObject#SMS_SCI_SysResUse;RoleName={role.name}",))


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
    """A CimInstance: ToString() is 'Class (Key = "value", ...)'. Its .NET property CimSystemProperties
    names the namespace and class it was read from (not a CIM property: no filter or -Property sees it)."""
    shown = ", ".join(f'{k} = "{properties.get(k)}"' for k in keys)
    system = PSObject(
        ["Microsoft.Management.Infrastructure.CimSystemProperties", "System.Object"],
        {"Namespace": namespace, "ServerName": None, "ClassName": wmi_class, "Path": None},
        "Microsoft.Management.Infrastructure.CimSystemProperties",
    )
    return PSObject(
        [
            f"Microsoft.Management.Infrastructure.CimInstance#{namespace}/{wmi_class}",
            f"Microsoft.Management.Infrastructure.CimInstance#{wmi_class}",
            "Microsoft.Management.Infrastructure.CimInstance",
            "System.Object",
        ],
        {**properties, "CimSystemProperties": system},
        f"{wmi_class} ({shown})",
    )


# The site control and site classes read through CIM (docs/configmgr-behaviour.md#wmi-classes) --------
# The same instances the ConfigMgr cmdlets wrap as IResultObjects (the cmdlets return these classes),
# as Get-CimInstance returns them: CimInstances, with the embedded Props / PropLists as embedded
# CimInstances of SMS_EmbeddedProperty / SMS_EmbeddedPropertyList.

SITE_PROPERTIES = (
    "BuildNumber",
    "Features",
    "InstallDir",
    "Mode",
    "ReportingSiteCode",
    "RequestedStatus",
    "ServerName",
    "SiteCode",
    "SiteName",
    "Status",
    "TimeZoneInfo",
    "Type",
    "Version",
)
SYSRESUSE_PROPERTIES = (
    "FileType",
    "ItemName",
    "ItemType",
    "NALPath",
    "NALType",
    "NetworkOSPath",
    "PropLists",
    "Props",
    "RoleCount",
    "RoleName",
    "ServiceWindows",
    "SiteCode",
    "SslState",
    "Type",
)
RESERVED_PROPERTIES = ("AccountUsage", "Availability", "FileType", "ItemName", "ItemType", "PropLists", "Props", "SiteCode", "UserName")
_SITE_CONTROL_KEYS = ("FileType", "ItemName", "ItemType", "SiteCode")


def _embedded(value, namespace: str):
    """IResultObject embedded objects (Props, PropLists) as embedded CimInstances (no keys)."""
    if isinstance(value, list):
        return [_embedded(v, namespace) for v in value]
    if isinstance(value, PSObject):
        wmi_class = next((t.split("#", 1)[1] for t in value.type_names if t.startswith("IResultObject#")), value.to_string())
        return cim_instance(wmi_class, namespace, {k: _embedded(v, namespace) for k, v in value.properties.items()}, ())
    return value


def cim_site(site: Site, namespace: str) -> PSObject:
    return cim_instance("SMS_Site", namespace, dict(sms_site(site).properties), ("SiteCode",))


def cim_sysresuse(hierarchy: Hierarchy, ss: SiteSystem, role: Role, namespace: str) -> PSObject:
    properties = {k: _embedded(v, namespace) for k, v in sysresuse(hierarchy, ss, role).properties.items()}
    return cim_instance("SMS_SCI_SysResUse", namespace, properties, _SITE_CONTROL_KEYS)


def cim_sci_reserved(account: CMAccount, namespace: str) -> PSObject:
    properties = {k: _embedded(v, namespace) for k, v in sms_sci_reserved(account).properties.items()}
    return cim_instance("SMS_SCI_Reserved", namespace, properties, _SITE_CONTROL_KEYS)


# Site database classes (docs/configmgr-behaviour.md#wmi-classes, #usage-data-level)
# ---------------------------------------------------------


def _utc(seconds: float | None) -> datetime.datetime | None:
    """A site database time (UTC). Get-CimInstance shows it in the caller's local time
    (cmlab.cmdlets.sms_namespace converts); ConfigMgr's cmdlets keep UTC."""
    return ps_datetime(seconds)


STATUS_MESSAGE_PROPERTIES = (
    "Component",
    "MachineName",
    "MessageID",
    "MessageType",
    "ModuleName",
    "ProcessID",
    "RecordID",
    "ReportFunction",
    "Severity",
    "SiteCode",
    "ThreadID",
    "Time",
    "Win32Error",
)


def status_message_properties(message: StatusMessage) -> dict:
    return {
        "Component": message.component,
        "MachineName": message.machine,
        "MessageID": message.message_id,
        "MessageType": message.message_type,
        "ModuleName": message.module,
        "ProcessID": 0,
        "RecordID": message.record_id,
        "ReportFunction": 0,
        "Severity": message.severity,
        "SiteCode": message.site_code,
        "ThreadID": 0,
        "Time": _utc(message.time),
        "Win32Error": 0,
    }


def sms_status_message(message: StatusMessage) -> PSObject:
    """What Get-CMSiteStatusMessage / Get-CMComponentStatusMessage return."""
    return _result_object("SMS_StatusMessage", status_message_properties(message), f"RecordID={message.record_id}")


def cim_status_message(message: StatusMessage, namespace: str) -> PSObject:
    return cim_instance("SMS_StatusMessage", namespace, status_message_properties(message), ("RecordID",))


COMPONENT_SUMMARIZER_PROPERTIES = (
    "ComponentName",
    "Errors",
    "Infos",
    "LastContacted",
    "LastHeartbeat",
    "LastStarted",
    "MachineName",
    "NextScheduledTime",
    "SiteCode",
    "State",
    "Status",
    "TallyInterval",
    "Type",
    "Warnings",
)


def cim_component_summarizer(row: ComponentRow, counts: dict[int, int], tally_interval: str, namespace: str) -> PSObject:
    properties = {
        "ComponentName": row.component,
        "Errors": counts.get(SEVERITY_ERROR, 0),
        "Infos": counts.get(SEVERITY_INFORMATION, 0),
        "LastContacted": _utc(row.last_started),
        "LastHeartbeat": _utc(row.last_started),
        "LastStarted": _utc(row.last_started),
        "MachineName": row.machine,
        "NextScheduledTime": None,
        "SiteCode": row.site_code,
        "State": int(row.state),
        "Status": int(row.status),
        "TallyInterval": tally_interval,
        "Type": row.type,
        "Warnings": counts.get(SEVERITY_WARNING, 0),
    }
    return cim_instance("SMS_ComponentSummarizer", namespace, properties, ("ComponentName", "MachineName", "SiteCode", "TallyInterval"))


SC_PROPERTY_PROPERTIES = ("FileType", "ItemName", "ItemType", "PropertyName", "SiteCode", "Value", "Value1", "Value2")


def cim_sc_property(hierarchy: Hierarchy, namespace: str) -> PSObject:
    """SMS_SCI_SCProperty TelemetryLevel: Value 1 Basic, 2 Enhanced, 3 Full (docs/configmgr-behaviour.md#usage-data-level, DSC)."""
    top = hierarchy.top_level_site()
    properties = {
        "FileType": 2,
        "ItemName": "SCProperty",
        "ItemType": "SCProperty",
        "PropertyName": "TelemetryLevel",
        "SiteCode": top.code if top else "",
        "Value": TELEMETRY_LEVELS[hierarchy.telemetry_level],
        "Value1": "",
        "Value2": "",
    }
    return cim_instance("SMS_SCI_SCProperty", namespace, properties, ("PropertyName", "SiteCode"))


UPDATE_PACKAGE_PROPERTIES = ("Description", "FullVersion", "Name", "PackageGuid", "State")


def cim_update_package(guid: str, update: dict, namespace: str) -> PSObject:
    properties = {
        "Description": update["name"],
        "FullVersion": update["full_version"],
        "Name": update["name"],
        "PackageGuid": guid,
        "State": update["state"],
    }
    return cim_instance("SMS_CM_UpdatePackages", namespace, properties, ("PackageGuid",))


def sms_sci_site_definition(hierarchy: Hierarchy, site: Site) -> PSObject:
    """SMS_SCI_SiteDefinition (docs/configmgr-behaviour.md#wmi-classes) as Get-/Set-CMHierarchySetting return it."""
    properties = {
        "FileType": 2,
        "InstallDirectory": site.install_dir,
        "ItemName": "Site Definition",
        "ItemType": "Site Definition",
        "ParentSiteCode": site.reporting_site_code,
        "PropLists": [],
        "Props": [],
        "SiteCode": site.code,
        "SiteName": site.name,
        "SiteServerName": site.server,
        "SiteType": int(site.type),
        "SQLDatabaseName": f"CM_{site.code}",
        "SQLServerName": site.server,
    }
    key = f'FileType=2,ItemName="Site Definition",ItemType="Site Definition",SiteCode="{site.code}"'
    return _result_object("SMS_SCI_SiteDefinition", properties, key)


# Insertion strings of status messages: one SMS_StatMsgInsStrings instance per string, keyed by
# RecordID and InsStrIndex (0 = the message's first string), as the SDK's status message queries join them.
STAT_MSG_INS_STRINGS_PROPERTIES = ("InsStrIndex", "InsStrValue", "RecordID", "SiteCode")


def cim_stat_msg_ins_string(message: StatusMessage, index: int, value: str, namespace: str) -> PSObject:
    properties = {"InsStrIndex": index, "InsStrValue": value, "RecordID": message.record_id, "SiteCode": message.site_code}
    return cim_instance("SMS_StatMsgInsStrings", namespace, properties, ("InsStrIndex", "RecordID"))


# SMS_Alert (SDK class reference): what the console shows as notifications (docs/configmgr-behaviour.md#console-notifications).
ALERT_PROPERTIES = (
    "AlertState",
    "ClosedBy",
    "Comments",
    "DateAlertStateModified",
    "DateCreated",
    "DateFirstActivated",
    "DateLastModified",
    "Deletable",
    "Enabled",
    "FeatureArea",
    "FeatureGroup",
    "ID",
    "InstanceNameParam1",
    "InstanceNameParam2",
    "InstanceNameParam3",
    "IsIgnored",
    "LastModifiedBy",
    "MonitoredByScom",
    "Name",
    "NumberOfSubscription",
    "ObjectTypeID",
    "OccurrenceCount",
    "ParameterValues",
    "RootCauseMessage",
    "RuleState",
    "Severity",
    "SkipUntil",
    "SourceSiteCode",
    "TypeID",
    "TypeInstanceID",
)


def cim_alert(alert: Alert, namespace: str) -> PSObject:
    params = [*alert.params, "", "", ""][:3]
    properties = {
        "AlertState": alert.state,
        "ClosedBy": alert.closed_by,
        "Comments": "",
        "DateAlertStateModified": _utc(alert.state_modified),
        "DateCreated": _utc(alert.created),
        "DateFirstActivated": _utc(alert.first_activated),
        "DateLastModified": _utc(alert.state_modified),
        "Deletable": False,
        "Enabled": True,
        "FeatureArea": 0,
        "FeatureGroup": 1,  # Administration
        "ID": alert.id,
        "InstanceNameParam1": params[0],
        "InstanceNameParam2": params[1],
        "InstanceNameParam3": params[2],
        "IsIgnored": False,
        "LastModifiedBy": "SYSTEM",
        "MonitoredByScom": False,
        "Name": alert.name,
        "NumberOfSubscription": 0,
        "ObjectTypeID": 0,
        "OccurrenceCount": alert.occurrence_count,
        "ParameterValues": "",
        "RootCauseMessage": alert.name,
        "RuleState": 0 if alert.state == 0 else 1,  # Bad while active, Good once canceled
        "Severity": alert.severity,
        "SkipUntil": None,
        "SourceSiteCode": alert.source_site_code,
        "TypeID": alert.type_id,
        "TypeInstanceID": alert.type_instance_id,
    }
    return cim_instance("SMS_Alert", namespace, properties, ("ID",))


# SMS_StatMsgWithInsStrings (SDK): a status message with its first ten insertion strings (InsString1..10),
# what a module reads in one query.
STAT_MSG_WITH_INS_STRINGS_PROPERTIES = tuple(
    sorted(
        (
            *STATUS_MESSAGE_PROPERTIES,
            "PerClient",
            "ResourceID",
            "SuccessfulTransaction",
            "TopLevelSiteCode",
            "Transaction",
            *(f"InsString{n}" for n in range(1, 11)),
        ),
        key=str.lower,
    )
)


def cim_stat_msg_with_ins_strings(message: StatusMessage, namespace: str, top_level_site: str) -> PSObject:
    strings = list(message.ins_strings[:10]) + [None] * (10 - min(10, len(message.ins_strings)))
    properties = {
        **status_message_properties(message),
        "PerClient": 0,
        "ResourceID": None,
        "SuccessfulTransaction": 0,
        "TopLevelSiteCode": top_level_site,
        "Transaction": 0,
        **{f"InsString{n}": strings[n - 1] for n in range(1, 11)},
    }
    return cim_instance("SMS_StatMsgWithInsStrings", namespace, properties, ("RecordID",))
