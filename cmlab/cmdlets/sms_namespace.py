"""The SMS Provider's site namespace `root\\SMS\\site_<code>` as Get-CimInstance reads it.

A site's database holds its own status and that of the sites below it: the top-level site's
namespace shows the whole hierarchy (assumption, docs/simulator-assumptions.md).
"""

from __future__ import annotations

from cmlab.model import Hierarchy
from cmlab.model.status import TALLY_INTERVALS

from .base import Invocation
from .errors import not_simulated
from .pstypes import PSObject
from .wmi import (
    COMPONENT_SUMMARIZER_PROPERTIES,
    SC_PROPERTY_PROPERTIES,
    STATUS_MESSAGE_PROPERTIES,
    UPDATE_PACKAGE_PROPERTIES,
    cim_component_summarizer,
    cim_sc_property,
    cim_status_message,
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


def _sc_properties(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [cim_sc_property(h, namespace)]


def _update_packages(h: Hierarchy, sites: set[str], namespace: str) -> list[PSObject]:
    return [cim_update_package(guid, update, namespace) for guid, update in sorted(h.updates.items())]


CLASSES = {
    "sms_componentsummarizer": (_component_summarizer, COMPONENT_SUMMARIZER_PROPERTIES),
    "sms_statusmessage": (_status_messages, STATUS_MESSAGE_PROPERTIES),
    "sms_sci_scproperty": (_sc_properties, SC_PROPERTY_PROPERTIES),
    "sms_cm_updatepackages": (_update_packages, UPDATE_PACKAGE_PROPERTIES),
}


def site_namespace(inv: Invocation, hierarchy: Hierarchy, site_code: str, class_name: str
                   ) -> tuple[list[PSObject], tuple[str, ...]]:
    """(instances, the class's property names) of a class of `root\\SMS\\site_<code>`."""
    entry = CLASSES.get(class_name.lower())
    if entry is None:
        raise not_simulated(inv.cmdlet, f"the class {class_name} in namespace root\\SMS\\site_{site_code}")
    read, properties = entry
    return read(hierarchy, hierarchy.site_and_children(site_code), f"root/SMS/site_{site_code}"), properties
