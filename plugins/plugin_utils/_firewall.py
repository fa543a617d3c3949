# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. A Windows Firewall rule: read, compare every property, write the difference.

The rule's name is a literal, never a pattern. `-Name` of Get-, Set- and Remove-NetFirewallRule accepts
wildcards (`*`, `?`, `[ ]`), so every name sent to them is escaped with PowerShell's escape character
(`` ` ``), and what the read returns is compared with the name exactly: `WINRM*` is the rule named
`WINRM*`, never WINRM-HTTP-In-TCP. New-NetFirewallRule takes its -Name literally.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._protocol import fold
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, ref

RULE_SELECT = {
    "Name": None,
    "InstanceID": None,
    "DisplayName": None,
    "Description": None,
    "Direction": None,
    "Action": None,
    "Enabled": None,
    "Profile": None,
}
PORT_SELECT = {"InstanceID": None, "Protocol": None, "LocalPort": None, "RemotePort": None}
_WILDCARD = re.compile(r"([`*?\[\]])")
ALL_PROFILES = ("domain", "private", "public")


def literal(name: str) -> str:
    """A -Name value that matches `name` only (WildcardPattern.Escape)."""
    return _WILDCARD.sub(r"`\1", name)


def exact(rules: list, ports: list, name: str) -> tuple[dict | None, dict | None]:
    """The rule named exactly `name` and its port filter. Rule names compare case-insensitively, ordinally (each
    character's simple upper case, as .NET's OrdinalIgnoreCase): never culture-aware folding, which would take
    'K' (U+212A KELVIN SIGN) for 'k' and so another rule for this one."""
    wanted = fold(name)
    rule = next((r for r in rules if isinstance(r, dict) and fold(str(r.get("Name") or "")) == wanted), None)
    if rule is None:
        return None, None
    key = rule.get("InstanceID") or rule.get("Name")
    port = next((p for p in ports if isinstance(p, dict) and p.get("InstanceID") == key), None)
    if port is None and len(ports) == 1:
        port = ports[0]
    return rule, port


def one_rule(rules: list, name: str) -> None:
    """Refuse when Windows matches several rules for the literal name: names that differ only in letter case
    under Windows' case-insensitive matching (K and the KELVIN SIGN), which -Name of Set- and
    Remove-NetFirewallRule would change together. The module changes one rule or none."""
    names = sorted({str(r.get("Name")) for r in rules if isinstance(r, dict)})
    if len(names) > 1:
        raise AnsibleActionFail(
            f"name {name} matches {len(names)} firewall rules on this host ({', '.join(names)}): Windows compares rule "
            f"names without regard to case, so a change would reach all of them. Nothing was changed; rename or "
            f"remove the rules that should not share this name first."
        )


@dataclass
class RuleState:
    present: bool = False
    name: str | None = None
    display_name: str | None = None
    description: str | None = None
    direction: str | None = None
    action: str | None = None
    enabled: bool | None = None
    profiles: list[str] | None = None
    protocol: str | None = None
    local_port: list[str] | None = None
    remote_port: list[str] | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def normalize_profiles(value) -> list[str]:
    """'Domain, Private' / ['Domain','Private'] / 'Any' -> sorted names; Any means all three."""
    if value is None:
        return list(ALL_PROFILES)
    items = value if isinstance(value, list) else str(value).split(",")
    names = {str(i).strip().lower() for i in items if str(i).strip()}
    if not names or "any" in names or names >= set(ALL_PROFILES):
        return list(ALL_PROFILES)
    return sorted(names)


def normalize_ports(value) -> list[str]:
    """'Any' / '443' / ['443','8443'] -> sorted list of port strings; [] means any port."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    ports = {str(i).strip() for i in items if str(i).strip()}
    if not ports or any(p.lower() == "any" for p in ports):
        return []
    return sorted(ports, key=lambda p: (len(p), p))


def observed(rule: dict | None, ports: dict | None) -> RuleState:
    if not rule:
        return RuleState()
    ports = ports or {}
    return RuleState(
        present=True,
        name=rule.get("Name"),
        display_name=rule.get("DisplayName"),
        description=rule.get("Description") or None,
        direction=str(rule.get("Direction") or "").lower() or None,
        action=str(rule.get("Action") or "").lower() or None,
        enabled=str(rule.get("Enabled")).lower() == "true",
        profiles=normalize_profiles(rule.get("Profile")),
        protocol=str(ports.get("Protocol") or "any").lower(),
        local_port=normalize_ports(ports.get("LocalPort")),
        remote_port=normalize_ports(ports.get("RemotePort")),
    )


def read_plan(name: str) -> Plan:
    plan = Plan()
    # Not found is an error of Get-NetFirewallRule; capture it and decide in Python.
    plan.add("rule", "Get-NetFirewallRule", {"Name": literal(name)}, select=RULE_SELECT, on_error="continue")
    plan.add("ports", "Get-NetFirewallPortFilter", {"AssociatedNetFirewallRule": ref("rule")}, select=PORT_SELECT, on_error="continue")
    return plan


def desired(args: dict, current: RuleState) -> RuleState:
    """What the rule must look like: the options given, the current values (or defaults) for the rest."""
    base = (
        current
        if current.present
        else RuleState(
            present=True,
            name=args["name"],
            display_name=args["name"],
            description=None,
            direction="inbound",
            action="allow",
            enabled=True,
            profiles=list(ALL_PROFILES),
            protocol="any",
            local_port=[],
            remote_port=[],
        )
    )
    want = RuleState(**base.to_dict())
    want.present, want.name = True, args["name"]
    for option, attr in (
        ("display_name", "display_name"),
        ("description", "description"),
        ("direction", "direction"),
        ("action", "action"),
        ("enabled", "enabled"),
        ("protocol", "protocol"),
    ):
        if args.get(option) is not None:
            setattr(want, attr, args[option])
    if args.get("profiles") is not None:
        want.profiles = normalize_profiles(args["profiles"])
    if args.get("local_port") is not None:
        want.local_port = normalize_ports(args["local_port"])
    if args.get("remote_port") is not None:
        want.remote_port = normalize_ports(args["remote_port"])
    return want


# Rule property -> (cmdlet parameter, how PowerShell wants the value). Set-NetFirewallRule renames with
# -NewDisplayName (its -DisplayName selects rules); New-NetFirewallRule takes -DisplayName.
_PARAMS = {
    "display_name": ("NewDisplayName", str),
    "description": ("Description", lambda v: v or ""),
    "direction": ("Direction", str.capitalize),
    "action": ("Action", str.capitalize),
    "enabled": ("Enabled", lambda v: "True" if v else "False"),
    "profiles": ("Profile", lambda v: "Any" if sorted(v) == list(ALL_PROFILES) else ",".join(p.capitalize() for p in v)),
    "protocol": ("Protocol", lambda v: "Any" if v == "any" else v.upper()),
    "local_port": ("LocalPort", lambda v: v or ["Any"]),
    "remote_port": ("RemotePort", lambda v: v or ["Any"]),
}


def differences(current: RuleState, want: RuleState) -> list[str]:
    return [attr for attr in _PARAMS if getattr(current, attr) != getattr(want, attr)]


def state_in(result, name: str, rule_step: str = "rule", ports_step: str = "ports") -> RuleState:
    """The rule named exactly `name` as a plan read it; steps that failed (rule not found) read as absent."""

    def output(step_id: str) -> list:
        step = result.steps.get(step_id)
        return step.output if step is not None and step.ok else []

    return observed(*exact(output(rule_step), output(ports_step), name))


def decide(state: str, args: dict, current: RuleState) -> Decision:
    """Pure: the whole rule compared property by property; only what differs changes."""
    name = args["name"]
    if state == "absent":
        changes, after, want = (["present"] if current.present else []), RuleState(), None
    else:
        want = desired(args, current)
        if want.protocol == "any" and (want.local_port or want.remote_port):
            raise AnsibleActionFail(
                "local_port and remote_port need protocol tcp or udp (Windows refuses ports with protocol Any); set protocol."
            )
        changes = ["present"] if not current.present else differences(current, want)
        after = want
    return Decision(
        before=current.to_dict(),
        after=after.to_dict(),
        changed=bool(changes),
        diff_header=f"firewall rule {name}",
        changes=(current, want),
        result={"changes": changes},
    )


def write_plan(current: RuleState, want: RuleState | None) -> WritePlan:
    plan = WritePlan()
    if want is None:
        plan.write("remove", "Remove-NetFirewallRule", {"Name": literal(current.name)}, does=f"remove firewall rule {current.name}")
        return plan
    if not current.present:
        params = {"Name": want.name}
        for attr, (param, convert) in _PARAMS.items():
            value = getattr(want, attr)
            if attr == "description" and not value:
                continue
            if attr in ("local_port", "remote_port") and not value:
                continue  # Any is the default; New-NetFirewallRule refuses ports with protocol Any
            params["DisplayName" if param == "NewDisplayName" else param] = convert(value)
        plan.write("new", "New-NetFirewallRule", params, select=RULE_SELECT, does=f"create firewall rule {want.name}")
        written = "new"
    else:
        params = {"Name": literal(current.name), "PassThru": True}
        changed = differences(current, want)
        for attr in changed:
            param, convert = _PARAMS[attr]
            params[param] = convert(getattr(want, attr))
        plan.write(
            "set", "Set-NetFirewallRule", params, select=RULE_SELECT, does=f"set {', '.join(changed)} of firewall rule {current.name}"
        )
        written = "set"
    # The read-back follows the rule object the write returned, not the name: -Name may match another rule whose
    # name differs only in case (one_rule).
    plan.add("after_ports", "Get-NetFirewallPortFilter", {"AssociatedNetFirewallRule": ref(written)}, select=PORT_SELECT)
    return plan


def written_step(plan_result) -> str:
    """The write step whose output is the rule as written ("new" or "set")."""
    return "new" if "new" in plan_result.steps else "set"
