"""The SMS Provider's site namespace `root\\SMS\\site_<code>` as Get-CimInstance reads it.

A site's database holds its own status and that of the sites below it: the top-level site's
namespace shows the whole hierarchy (assumption, docs/simulator-assumptions.md).
"""

from __future__ import annotations

from cmlab.model import Hierarchy
from cmlab.model.status import TALLY_INTERVALS

from .base import Invocation
from .errors import not_simulated
from .pstypes import PSDateTime, PSObject, ps_datetime
from .wmi import (
    ALERT_PROPERTIES,
    COMPONENT_SUMMARIZER_PROPERTIES,
    RESERVED_PROPERTIES,
    SC_PROPERTY_PROPERTIES,
    SITE_PROPERTIES,
    STAT_MSG_INS_STRINGS_PROPERTIES,
    STAT_MSG_WITH_INS_STRINGS_PROPERTIES,
    STATUS_MESSAGE_PROPERTIES,
    SYSRESUSE_PROPERTIES,
    UPDATE_PACKAGE_PROPERTIES,
    cim_alert,
    cim_component_summarizer,
    cim_sc_property,
    cim_sci_reserved,
    cim_site,
    cim_stat_msg_ins_string,
    cim_stat_msg_with_ins_strings,
    cim_status_message,
    cim_sysresuse,
    cim_update_package,
)


def _component_summarizer(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    out = []
    for row in h.components.all():
        if row.site_code not in sites:
            continue
        counts = h.status_messages.counts(row.site_code, row.machine, row.component)
        # One instance per tally interval: a query names the interval it wants (docs/configmgr-behaviour.md#wmi-classes).
        out.extend(cim_component_summarizer(row, counts, interval, namespace) for interval in TALLY_INTERVALS)
    return out


def _status_messages(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [cim_status_message(m, namespace) for m in h.status_messages.find(site_codes=sorted(sites))]


def _stat_msg_ins_strings(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [
        cim_stat_msg_ins_string(m, index, value, namespace)
        for m in h.status_messages.find(site_codes=sorted(sites))
        for index, value in enumerate(m.ins_strings)
    ]


def _stat_msg_with_ins_strings(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    top = h.top_level_site()
    return [cim_stat_msg_with_ins_strings(m, namespace, top.code if top else "") for m in h.status_messages.find(site_codes=sorted(sites))]


def _alerts(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    # Alerts are global data: every site of the hierarchy sees them (assumption).
    return [cim_alert(alert, namespace) for alert in h.alerts.all()]


def _sc_properties(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [cim_sc_property(h, namespace)]


def _update_packages(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [cim_update_package(guid, update, namespace) for guid, update in sorted(h.updates.items())]


def _sites(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [cim_site(h.sites[code], namespace) for code in sorted(sites) if code in h.sites]


def _sysresuse(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    """Every role of every site system the site's database knows: the site control of the site and
    of the sites below it (what Get-CMSiteRole -AllSite returns there)."""
    return [cim_sysresuse(h, ss, role, namespace) for ss, role in h.find_roles(sorted(sites))]


def _reserved(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    """The accounts of the site and of the sites below it, one instance per site (SiteCode)."""
    return [cim_sci_reserved(a, namespace) for a in h.find_accounts() if a.site_code in sites]


CLASSES = {
    "sms_site": (_sites, SITE_PROPERTIES),
    "sms_sci_sysresuse": (_sysresuse, SYSRESUSE_PROPERTIES),
    "sms_sci_reserved": (_reserved, RESERVED_PROPERTIES),
    "sms_componentsummarizer": (_component_summarizer, COMPONENT_SUMMARIZER_PROPERTIES),
    "sms_statusmessage": (_status_messages, STATUS_MESSAGE_PROPERTIES),
    "sms_sci_scproperty": (_sc_properties, SC_PROPERTY_PROPERTIES),
    "sms_cm_updatepackages": (_update_packages, UPDATE_PACKAGE_PROPERTIES),
    "sms_statmsginsstrings": (_stat_msg_ins_strings, STAT_MSG_INS_STRINGS_PROPERTIES),
    "sms_statmsgwithinsstrings": (_stat_msg_with_ins_strings, STAT_MSG_WITH_INS_STRINGS_PROPERTIES),
    "sms_alert": (_alerts, ALERT_PROPERTIES),
}


def site_namespace(inv: Invocation, hierarchy: Hierarchy, site_code: str, class_name: str) -> tuple[list[PSObject], tuple[str, ...]]:
    """(instances, the class's property names) of a class of `root\\SMS\\site_<code>`."""
    entry = CLASSES.get(class_name.lower())
    if entry is None:
        raise not_simulated(inv.cmdlet, f"the class {class_name} in namespace root\\SMS\\site_{site_code}")
    read, properties = entry
    instances = read(hierarchy, hierarchy.site_and_children(site_code), f"root/SMS/site_{site_code}")
    return [_local_times(i, inv.host.time_zone_bias) for i in instances], properties


def _local_times(instance: PSObject, bias: int) -> PSObject:
    """Get-CimInstance converts CIM datetimes to Local DateTimes of the host it runs on (with its offset
    in the round-trip format); the site database stores UTC."""
    for name, value in instance.properties.items():
        if isinstance(value, PSDateTime):
            instance.properties[name] = ps_datetime(value.timestamp(), bias)
    return instance
