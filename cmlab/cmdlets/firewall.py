"""NetSecurity (CDXML over root/standardcimv2): Get-/New-/Set-/Remove-NetFirewallRule,
Get-NetFirewallPortFilter, Get-NetFirewallApplicationFilter.

Errors are those of CDXML cmdlets: a missing rule named without wildcards is
`No MSFT_NetFirewallRule objects found with property 'Name' equal to 'X'.  Verify the value of the
property and retry.` (CimJobException, fqid `CmdletizationQuery_NotFound_Name,<cmdlet>`); the
provider's own failures are CimExceptions with fqid `Windows System Error <code>,<cmdlet>`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

from cmlab.model import AlreadyExists, InvalidArgument, wildcard_match
from cmlab.model.firewall import (
    FirewallRule,
    canonical_ports,
    canonical_protocol,
    profile_set,
    profile_text,
    profile_value,
)

from .base import Invocation, cmdlet
from .errors import CmdletError, cannot_bind_type, not_simulated
from .pstypes import PSEnum, PSObject
from .wmi import cim_instance

NAMESPACE = "root/standardcimv2"
RULE_CLASS = "MSFT_NetFirewallRule"
RULE_TYPE = f"Microsoft.Management.Infrastructure.CimInstance#{NAMESPACE}/{RULE_CLASS}"
_ENUMS = "Microsoft.PowerShell.Cmdletization.GeneratedTypes.NetSecurity"
_CIM_KEYS = ("CreationClassName", "PolicyRuleName", "SystemCreationClassName", "SystemName")
_WILDCARD = re.compile(r"[*?\[]")
_STORES = ("PersistentStore", "ActiveStore", "localhost")


def _enum(name: str, value: str, number: int) -> PSEnum:
    return PSEnum(f"{_ENUMS}.{name}", value, number)


def _keys(rule: FirewallRule) -> dict:
    return {"CreationClassName": f"MSFT|FW|FirewallRule|{rule.name}", "PolicyRuleName": "", "SystemCreationClassName": "", "SystemName": ""}


def rule_object(rule: FirewallRule) -> PSObject:
    profile = profile_text(rule.profiles)
    return cim_instance(
        RULE_CLASS,
        NAMESPACE,
        {
            "Name": rule.name,
            "ID": rule.name,
            "DisplayName": rule.display_name,
            "Group": rule.group or None,
            "DisplayGroup": rule.display_group or rule.group or None,
            "Description": rule.description,
            "Enabled": _enum("Enabled", "True" if rule.enabled else "False", 1 if rule.enabled else 2),
            "Profile": _enum("Profile", profile, profile_value(rule.profiles)),
            "Platform": [],
            "Direction": _enum("Direction", rule.direction, 1 if rule.direction == "Inbound" else 2),
            "Action": _enum("Action", rule.action, 2 if rule.action == "Allow" else 4),
            "EdgeTraversalPolicy": _enum("EdgeTraversal", "Block", 0),
            "LooseSourceMapping": False,
            "LocalOnlyMapping": False,
            "Owner": None,
            "PrimaryStatus": _enum("PrimaryStatus", "OK", 1),
            "Status": "The rule was parsed successfully from the store. (65536)",
            "EnforcementStatus": _enum("EnforcementStatus", "NotApplicable", 0),
            "PolicyStoreSource": "PersistentStore",
            "PolicyStoreSourceType": _enum("PolicyStoreType", "Local", 1),
            "InstanceID": rule.name,
            "ElementName": rule.display_name,
            "Caption": None,
            **_keys(rule),
        },
        _CIM_KEYS,
    )


def port_filter_object(rule: FirewallRule) -> PSObject:
    return cim_instance(
        "MSFT_NetProtocolPortFilter",
        NAMESPACE,
        {
            "Protocol": rule.protocol,
            "LocalPort": list(rule.local_port),
            "RemotePort": list(rule.remote_port),
            "IcmpType": list(rule.icmp_type),
            "DynamicTarget": _enum("DynamicTransport", "Any", 0),
            "InstanceID": rule.name,
            "Caption": None,
            "Description": None,
            "ElementName": None,
            "CreationClassName": f"MSFT|FW|FirewallRule|{rule.name}",
            "Name": "",
            "SystemCreationClassName": "",
            "SystemName": "",
        },
        ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    )


def application_filter_object(rule: FirewallRule) -> PSObject:
    return cim_instance(
        "MSFT_NetApplicationFilter",
        NAMESPACE,
        {
            "Program": rule.program,
            "Package": None,
            "InstanceID": rule.name,
            "Caption": None,
            "Description": None,
            "ElementName": None,
            "CreationClassName": f"MSFT|FW|FirewallRule|{rule.name}",
            "Name": "",
            "SystemCreationClassName": "",
            "SystemName": "",
        },
        ("CreationClassName", "Name", "SystemCreationClassName", "SystemName"),
    )


# Errors -----------------------------------------------------------------------------------------


def _not_found(inv: Invocation, prop: str, value: str) -> CmdletError:
    return CmdletError(
        f"No {RULE_CLASS} objects found with property '{prop}' equal to '{value}'.  Verify the value of the property and retry.",
        "ObjectNotFound",
        f"CmdletizationQuery_NotFound_{prop},{inv.cmdlet}",
        "Microsoft.PowerShell.Cmdletization.Cim.CimJobException",
    )


def _system_error(inv: Invocation, code: int, message: str, category: str) -> CmdletError:
    return CmdletError(message, category, f"Windows System Error {code},{inv.cmdlet}", "Microsoft.Management.Infrastructure.CimException")


def _invalid(inv: Invocation) -> CmdletError:
    return _system_error(inv, 87, "The parameter is incorrect.", "InvalidArgument")


def _check_store(inv: Invocation, writing: bool) -> None:
    store = inv.get("PolicyStore")
    if store is None:
        return
    allowed = ("PersistentStore", "localhost") if writing else _STORES
    if str(store) not in allowed:
        raise not_simulated(inv.cmdlet, f"with -PolicyStore {store}")


# Selection --------------------------------------------------------------------------------------


def _select(inv: Invocation, sets: dict[str, tuple[str, Callable[[FirewallRule], str]]]) -> list[FirewallRule]:
    """Rules by -Name / -DisplayName / -Group / -DisplayGroup (wildcards), or -InputObject."""
    rules = inv.host.firewall.rules()
    if inv.parameter_set == "InputObject (cdxml)":
        picked = []
        for obj in _objects(inv, "InputObject"):
            rule = inv.host.firewall.get(str(obj.get("Name")))
            if rule is None:
                raise _not_found(inv, "Name", str(obj.get("Name")))
            picked.append(rule)
        return picked
    if inv.parameter_set not in sets:
        raise not_simulated(inv.cmdlet, f"with parameter set {inv.parameter_set}")
    param, attr = sets[inv.parameter_set]
    picked = []
    for pattern in inv.get(param) or []:
        hits = [r for r in rules if wildcard_match(str(pattern), attr(r))]
        if not hits and not _has_wildcard(str(pattern)):
            raise _not_found(inv, param, str(pattern))
        picked += [h for h in hits if h not in picked]
    return picked


_BY_NAME = {"ByName": ("Name", lambda r: r.name), "ByDisplayName": ("DisplayName", lambda r: r.display_name)}
_BY_GROUP = {"ByGroup": ("Group", lambda r: r.group), "ByDisplayGroup": ("DisplayGroup", lambda r: r.display_group or r.group)}


def _has_wildcard(pattern: str) -> bool:
    """WildcardPattern.ContainsWildcardCharacters: `*`, `?`, `[`, `]` that the escape character (`) does
    not escape. A name without any is looked up exactly, and its absence is an error."""
    escaped = False
    for c in pattern:
        if escaped:
            escaped = False
        elif c == "`":
            escaped = True
        elif _WILDCARD.match(c):
            return True
    return False


def _objects(inv: Invocation, param: str) -> list[PSObject]:
    value = inv.get(param)
    items = value if isinstance(value, list) else [value]
    for item in items:
        if not isinstance(item, PSObject) or not item.is_a(RULE_TYPE):
            raise cannot_bind_type(inv.cmdlet, param, RULE_TYPE)
    return items


def _query(inv: Invocation) -> list[FirewallRule]:
    """-Direction / -Action / -Enabled / -Group / -DisplayGroup, all given ones must match."""
    checks: dict[str, Callable[[FirewallRule], str]] = {
        "Direction": lambda r: r.direction,
        "Action": lambda r: r.action,
        "Enabled": lambda r: "True" if r.enabled else "False",
        "Group": lambda r: r.group,
        "DisplayGroup": lambda r: r.display_group or r.group,
    }
    rules = inv.host.firewall.rules()
    for param, attr in checks.items():
        wanted = inv.get(param)
        if wanted is not None:
            values = [str(w) for w in (wanted if isinstance(wanted, list) else [wanted])]
            rules = [r for r in rules if any(wildcard_match(v, attr(r)) for v in values)]
    return rules


# Cmdlets ----------------------------------------------------------------------------------------


@cmdlet("Get-NetFirewallRule", ("Name", "DisplayName", "All", "PolicyStore", "Direction", "Action", "Enabled", "Group", "DisplayGroup"))
def get_net_firewall_rule(inv: Invocation) -> list:
    _check_store(inv, writing=False)
    with inv.model.lock:
        if inv.parameter_set == "GetAll":
            rules = inv.host.firewall.rules()
        elif inv.parameter_set == "ByQuery":
            rules = _query(inv)
        else:
            rules = _select(inv, _BY_NAME)
        return [rule_object(r) for r in rules]


def _associated_rules(inv: Invocation) -> list[FirewallRule]:
    if inv.parameter_set == "GetAll":
        return inv.host.firewall.rules()
    if inv.parameter_set != "ByAssociatedNetFirewallRule":
        raise not_simulated(inv.cmdlet, f"with parameter set {inv.parameter_set}")
    rules = []
    for obj in _objects(inv, "AssociatedNetFirewallRule"):
        rule = inv.host.firewall.get(str(obj.get("Name")))
        if rule is not None:
            rules.append(rule)
    return rules


@cmdlet("Get-NetFirewallPortFilter", ("AssociatedNetFirewallRule", "All", "PolicyStore"))
def get_net_firewall_port_filter(inv: Invocation) -> list:
    _check_store(inv, writing=False)
    with inv.model.lock:
        return [port_filter_object(r) for r in _associated_rules(inv)]


@cmdlet("Get-NetFirewallApplicationFilter", ("AssociatedNetFirewallRule", "All", "PolicyStore"))
def get_net_firewall_application_filter(inv: Invocation) -> list:
    _check_store(inv, writing=False)
    with inv.model.lock:
        return [application_filter_object(r) for r in _associated_rules(inv)]


def _enabled(value: object) -> bool:
    return str(value).strip().lower() in ("true", "1")


def _settings(inv: Invocation) -> dict:
    """Rule properties from the parameters given (cmdlet names → model fields)."""
    out: dict = {}
    simple = {"Description": "description", "Direction": "direction", "Action": "action", "Program": "program"}
    for param, attr in simple.items():
        if inv.has(param):
            out[attr] = str(inv.get(param) or "")
    if out.get("action") == "NotConfigured":
        raise not_simulated(inv.cmdlet, "with -Action NotConfigured")
    if inv.has("Program"):
        out["program"] = out["program"] or "Any"
    if inv.has("Enabled"):
        out["enabled"] = _enabled(inv.get("Enabled"))
    if inv.has("Profile"):
        out["profiles"] = profile_set(inv.get("Profile"))
    if inv.has("Protocol"):
        out["protocol"] = canonical_protocol(inv.get("Protocol"))
    for param, attr in (
        ("LocalPort", "local_port"),
        ("RemotePort", "remote_port"),
        ("IcmpType", "icmp_type"),
        ("LocalAddress", "local_address"),
        ("RemoteAddress", "remote_address"),
    ):
        if inv.has(param):
            value = inv.get(param)
            out[attr] = (
                canonical_ports(value)
                if attr.endswith("port")
                else [str(v) for v in (value if isinstance(value, list) else [value])] or ["Any"]
            )
    return out


@cmdlet(
    "New-NetFirewallRule",
    (
        "Name",
        "DisplayName",
        "Description",
        "Group",
        "Direction",
        "Action",
        "Enabled",
        "Profile",
        "Protocol",
        "LocalPort",
        "RemotePort",
        "IcmpType",
        "Program",
        "LocalAddress",
        "RemoteAddress",
        "PolicyStore",
    ),
)
def new_net_firewall_rule(inv: Invocation) -> list:
    _check_store(inv, writing=True)
    with inv.model.lock:
        firewall = inv.host.firewall
        name = inv.get("Name")
        if not name:  # the real default is a random GUID; cmlab's is stable for a lab run
            seed = f"{inv.host.fqdn}/{inv.get('DisplayName')}/{len(firewall.rules())}"
            name = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, seed)) + "}"
        try:
            rule = FirewallRule(str(name), str(inv.get("DisplayName")), group=str(inv.get("Group") or ""), **_settings(inv))
            rule.display_group = rule.group
            if inv.what_if:
                rule.check()
                return []
            firewall.add(rule)
        except AlreadyExists:
            raise _system_error(inv, 183, "Cannot create a file when that file already exists.", "ResourceExists") from None
        except InvalidArgument:
            raise _invalid(inv) from None
        return [rule_object(rule)]


@cmdlet(
    "Set-NetFirewallRule",
    (
        "Name",
        "DisplayName",
        "Group",
        "DisplayGroup",
        "InputObject",
        "NewDisplayName",
        "Description",
        "Direction",
        "Action",
        "Enabled",
        "Profile",
        "Protocol",
        "LocalPort",
        "RemotePort",
        "IcmpType",
        "Program",
        "LocalAddress",
        "RemoteAddress",
        "PolicyStore",
        "PassThru",
    ),
)
def set_net_firewall_rule(inv: Invocation) -> list:
    """Only the properties given change (the rule's filters included)."""
    _check_store(inv, writing=True)
    with inv.model.lock:
        rules = _select(inv, {**_BY_NAME, **_BY_GROUP})
        try:
            changes = _settings(inv)
        except InvalidArgument:
            raise _invalid(inv) from None
        if inv.has("NewDisplayName"):
            changes["display_name"] = str(inv.get("NewDisplayName"))
        out = []
        for rule in rules:
            try:
                if inv.what_if:
                    continue
                changed = inv.host.firewall.update(rule.name, **changes)
            except InvalidArgument:
                raise _invalid(inv) from None
            if inv.switch("PassThru"):
                out.append(rule_object(changed))
        return out


@cmdlet("Remove-NetFirewallRule", ("Name", "DisplayName", "InputObject", "PolicyStore", "PassThru"))
def remove_net_firewall_rule(inv: Invocation) -> list:
    _check_store(inv, writing=True)
    if inv.parameter_set not in ("ByName", "ByDisplayName", "InputObject (cdxml)"):
        # The default set removes every rule of the store: not simulated on purpose.
        raise not_simulated(inv.cmdlet, f"with parameter set {inv.parameter_set}")
    with inv.model.lock:
        rules = _select(inv, _BY_NAME)
        if inv.what_if:
            return []
        for rule in rules:
            inv.host.firewall.remove(rule.name)
        return [rule_object(r) for r in rules] if inv.switch("PassThru") else []
