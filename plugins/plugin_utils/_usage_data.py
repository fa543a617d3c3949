# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The hierarchy's usage data level: read, decide, write (configmgr.scp.usage_data).

docs/configmgr-behaviour.md#usage-data-level: the level (Basic, Enhanced, Full) is a hierarchy setting, set with
`Set-CMHierarchySetting -TelemetryLevel`; its current value is the `TelemetryLevel` property of
`SMS_SCI_SCProperty` (Value 1 Basic, 2 Enhanced, 3 Full), read through CIM like every read of the collection.
"""

from __future__ import annotations

from ansible_collections.configmgr.scp.plugins.plugin_utils import _hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value

LEVELS = {1: "basic", 2: "enhanced", 3: "full"}
PROPERTY = "TelemetryLevel"


def level_step(plan: Plan, step_id: str = "telemetry") -> Plan:
    plan.add(
        step_id,
        "Get-CimInstance",
        {
            "Namespace": provider_value("namespace"),
            "ClassName": "SMS_SCI_SCProperty",
            "Filter": f"PropertyName = {_hierarchy.wql_string(PROPERTY)}",
        },
        select={"SiteCode": None, "PropertyName": None, "Value": None},
    )
    return plan


def read_plan() -> Plan:
    """The sites (for the top-level site) and the level, in one CIM read."""
    return level_step(_hierarchy.HierarchyRead().sites().plan)


def level_of(output: list, top: str | None) -> str | None:
    """The level the top-level site's SCProperty holds (the only one, when there is one)."""
    rows = [r for r in output if isinstance(r, dict) and r.get("PropertyName") == PROPERTY]
    row = next((r for r in rows if str(r.get("SiteCode") or "").upper() == (top or "")), rows[0] if rows else None)
    if row is None:
        return None
    try:
        return LEVELS.get(int(row.get("Value")))
    except (TypeError, ValueError):
        return None


def decide(level: str, current: str | None, top: str) -> Decision:
    warnings = []
    if current is None:
        warnings.append(f"The SMS Provider shows no usage data level (SMS_SCI_SCProperty {PROPERTY}); it is set to {level}.")
    return Decision(
        before={"level": current},
        after={"level": level},
        changed=current != level,
        warnings=warnings,
        diff_header=f"usage data level of the hierarchy (top-level site {top})",
        result={"top_level_site": top},
    )


def write_plan(level: str, top: str) -> WritePlan:
    plan = WritePlan()
    plan.write(
        "set",
        "Set-CMHierarchySetting",
        {"TelemetryLevel": level.capitalize()},
        does=f"set the usage data level of the hierarchy (top-level site {top}) to {level.capitalize()}",
    )
    return level_step(plan, "after")


def after(result: PlanResult, top: str) -> dict:
    return {"level": level_of(result.output("after"), top)}
