"""Windows Defender Firewall rules of one host (the persistent store), as MSFT_NetFirewallRule and
its one-to-one filters (MSFT_NetProtocolPortFilter, MSFT_NetApplicationFilter) describe them.

Rules are keyed by Name (case-insensitive, one per store). Profiles are flags; no profile, or all
three, is `Any`. Ports are string arrays ("443", "1000-2000", keywords, "Any") and only allowed
with protocol TCP or UDP (MSFT_NetProtocolPortFilter: "Applies only when Protocol is TCP or UDP").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields, replace

from .errors import AlreadyExists, InvalidArgument, NotFound

PROFILES = ("Domain", "Private", "Public")
DIRECTIONS = ("Inbound", "Outbound")
ACTIONS = ("Allow", "Block")
PORT_KEYWORDS = ("RPC", "RPC-EPMap", "RPCEPMap", "IPHTTPSIn", "IPHTTPSOut", "PlayToDiscovery", "Teredo")
_PROTOCOL_NAMES = {"tcp": "TCP", "udp": "UDP", "icmpv4": "ICMPv4", "icmpv6": "ICMPv6", "any": "Any"}
_PORT = re.compile(r"^(\d{1,5})(?:-(\d{1,5}))?$")


def profile_set(value: str | list[str] | tuple[str, ...] | None) -> frozenset[str]:
    """'Domain, Private' / ['Domain', 'Private'] / 'Any' → frozenset; empty means Any."""
    if value is None:
        return frozenset()
    items = value if isinstance(value, (list, tuple)) else str(value).split(",")
    chosen: set[str] = set()
    for item in items:
        name = str(item).strip()
        if not name or name.lower() == "any":
            continue
        match = next((p for p in PROFILES if p.lower() == name.lower()), None)
        if match is None:
            raise InvalidArgument(f"unknown firewall profile {name!r}")
        chosen.add(match)
    return frozenset() if chosen == set(PROFILES) else frozenset(chosen)


def profile_text(profiles: frozenset[str]) -> str:
    """How the [Flags] Profile enum prints: 'Any' or 'Domain, Private' (flag order)."""
    return ", ".join(p for p in PROFILES if p in profiles) or "Any"


def profile_value(profiles: frozenset[str]) -> int:
    return sum(1 << PROFILES.index(p) for p in profiles)


def canonical_protocol(value: str | int | None) -> str:
    text = "Any" if value is None else str(value).strip()
    named = _PROTOCOL_NAMES.get(text.lower())
    if named:
        return named
    if text.isdigit() and 0 <= int(text) <= 255:
        # Well-known numbers print by name (6 = TCP, 17 = UDP, 1 = ICMPv4, 58 = ICMPv6).
        return {"6": "TCP", "17": "UDP", "1": "ICMPv4", "58": "ICMPv6"}.get(str(int(text)), str(int(text)))
    raise InvalidArgument(f"invalid protocol {value!r}")


def canonical_ports(values: str | list[str] | None) -> list[str]:
    """['443', '1000-2000'] kept in order; ['Any'] when none; a bad port is InvalidArgument."""
    if values is None:
        return ["Any"]
    items = values if isinstance(values, list) else [values]
    out: list[str] = []
    for raw in items:
        for item in str(raw).split(","):
            text = item.strip()
            if not text:
                continue
            if text.lower() == "any":
                return ["Any"]
            keyword = next((k for k in PORT_KEYWORDS if k.lower() == text.lower()), None)
            match = _PORT.match(text)
            if keyword:
                out.append(keyword)
            elif match and int(match.group(1)) <= 65535 and (match.group(2) is None or int(match.group(1)) <= int(match.group(2)) <= 65535):
                out.append(text)
            else:
                raise InvalidArgument(f"invalid port {text!r}")
    return out or ["Any"]


@dataclass
class FirewallRule:
    name: str
    display_name: str
    description: str = ""
    group: str = ""  # Group as given, or an indirect string '@FirewallAPI.dll,-28502'
    display_group: str = ""
    direction: str = "Inbound"
    action: str = "Allow"
    enabled: bool = True
    profiles: frozenset[str] = field(default_factory=frozenset)
    protocol: str = "Any"
    local_port: list[str] = field(default_factory=lambda: ["Any"])
    remote_port: list[str] = field(default_factory=lambda: ["Any"])
    icmp_type: list[str] = field(default_factory=lambda: ["Any"])
    program: str = "Any"
    local_address: list[str] = field(default_factory=lambda: ["Any"])
    remote_address: list[str] = field(default_factory=lambda: ["Any"])
    builtin: bool = False

    def check(self) -> None:
        """MSFT_NetProtocolPortFilter: ports apply only to TCP and UDP."""
        if self.direction not in DIRECTIONS:
            raise InvalidArgument(f"invalid direction {self.direction!r}")
        if self.action not in ACTIONS:
            raise InvalidArgument(f"invalid action {self.action!r}")
        if self.protocol not in ("TCP", "UDP") and (self.local_port != ["Any"] or self.remote_port != ["Any"]):
            raise InvalidArgument("ports can only be given for protocol TCP or UDP")

    def to_dict(self) -> dict:
        return {
            "display_name": self.display_name,
            "description": self.description,
            "group": self.group,
            "direction": self.direction,
            "action": self.action,
            "enabled": self.enabled,
            "profile": profile_text(self.profiles),
            "protocol": self.protocol,
            "local_port": list(self.local_port),
            "remote_port": list(self.remote_port),
            "program": self.program,
        }


_CHANGEABLE = {f.name for f in fields(FirewallRule)} - {"name", "builtin"}


def _key(name: str) -> str:
    """Rule names compare case-insensitively and ordinally: each character's simple upper case, never a
    culture's folding (which takes U+212A KELVIN SIGN for 'k'). docs/simulator-assumptions.md, "Windows hosts"."""
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in name)


class Firewall:
    def __init__(self, rules: list[FirewallRule] | None = None) -> None:
        self._rules: dict[str, FirewallRule] = {}
        for rule in rules or []:
            self.add(rule)

    def rules(self) -> list[FirewallRule]:
        return sorted(self._rules.values(), key=lambda r: _key(r.name))

    def get(self, name: str) -> FirewallRule | None:
        return self._rules.get(_key(name))

    def add(self, rule: FirewallRule) -> FirewallRule:
        if _key(rule.name) in self._rules:
            raise AlreadyExists(f"A firewall rule with the name {rule.name} already exists.")
        rule.check()
        self._rules[_key(rule.name)] = rule
        return rule

    def update(self, name: str, **changes: object) -> FirewallRule:
        """Only the given properties change; the result is checked as a whole before it is kept."""
        rule = self.get(name)
        if rule is None:
            raise NotFound(f"No firewall rule with the name {name}.")
        unknown = set(changes) - _CHANGEABLE
        if unknown:
            raise InvalidArgument(f"cannot change {', '.join(sorted(unknown))} of a firewall rule")
        changed = replace(rule, **changes)  # type: ignore[arg-type]
        changed.check()
        self._rules[_key(name)] = changed
        return changed

    def remove(self, name: str) -> None:
        if self._rules.pop(_key(name), None) is None:
            raise NotFound(f"No firewall rule with the name {name}.")

    def to_dict(self) -> dict:
        return {rule.name: rule.to_dict() for rule in self.rules()}


def default_rules() -> list[FirewallRule]:
    """A few of the rules Windows Server has out of the box (their Group is the indirect string the
    real rules carry; DisplayGroup the resolved name). Enough for the module to meet real neighbours."""
    winrm_desc = "Inbound rule for Windows Remote Management via WS-Management. [TCP 5985]"
    return [
        FirewallRule(
            "WINRM-HTTP-In-TCP",
            "Windows Remote Management (HTTP-In)",
            winrm_desc,
            "@FirewallAPI.dll,-30267",
            "Windows Remote Management",
            profiles=frozenset({"Domain", "Private"}),
            protocol="TCP",
            local_port=["5985"],
            program="System",
            builtin=True,
        ),
        FirewallRule(
            "WINRM-HTTP-In-TCP-PUBLIC",
            "Windows Remote Management (HTTP-In)",
            winrm_desc,
            "@FirewallAPI.dll,-30267",
            "Windows Remote Management",
            profiles=frozenset({"Public"}),
            protocol="TCP",
            local_port=["5985"],
            program="System",
            remote_address=["LocalSubnet"],
            builtin=True,
        ),
        FirewallRule(
            "FPS-SMB-In-TCP",
            "File and Printer Sharing (SMB-In)",
            "Inbound rule for File and Printer Sharing to allow Server Message Block transmission and reception via Named Pipes. [TCP 445]",
            "@FirewallAPI.dll,-28502",
            "File and Printer Sharing",
            protocol="TCP",
            local_port=["445"],
            program="System",
            builtin=True,
        ),
        FirewallRule(
            "CoreNet-DNS-Out-UDP",
            "Core Networking - DNS (UDP-Out)",
            "Outbound rule to allow DNS requests. DNS responses based on requests that matched this rule "
            "will be permitted regardless of source address. This behavior is classified as loose "
            "source mapping. [LSM] [UDP 53]",
            "@FirewallAPI.dll,-25000",
            "Core Networking",
            direction="Outbound",
            protocol="UDP",
            remote_port=["53"],
            program="%SystemRoot%\\system32\\svchost.exe",
            builtin=True,
        ),
    ]
