"""Simulated Windows hosts: domain accounts, local groups, registry, services, files."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .certificates import CertificateStores
from .clock import Scheduler, SimClock
from .errors import AlreadyExists, InvalidArgument, NotFound, RuleViolation
from .files import FileSystem
from .firewall import Firewall, default_rules
from .netsettings import NetSettings, install_defaults
from .secrets import PasswordFingerprint
from .timing import RestartTiming

# ---------------------------------------------------------------------------------------------
# Registry

# RegistryValueKind names, as Get-Item shows them and Set-ItemProperty -Type takes them.
VALUE_KINDS = ("String", "ExpandString", "DWord", "QWord", "MultiString", "Binary")

_HIVES = {
    "hklm": "HKEY_LOCAL_MACHINE",
    "hkey_local_machine": "HKEY_LOCAL_MACHINE",
    "hkcu": "HKEY_CURRENT_USER",
    "hkey_current_user": "HKEY_CURRENT_USER",
    "hku": "HKEY_USERS",
    "hkey_users": "HKEY_USERS",
}
HIVE_DRIVES = {"HKEY_LOCAL_MACHINE": "HKLM", "HKEY_CURRENT_USER": "HKCU"}


def parse_registry_path(path: str) -> tuple[str, list[str]] | None:
    """'HKLM:\\SOFTWARE\\X', 'Registry::HKEY_LOCAL_MACHINE\\...' → (hive, parts); None if not registry."""
    text = path.strip()
    text = re.sub(r"^(Microsoft\.PowerShell\.Core\\)?Registry::", "", text, flags=re.IGNORECASE)
    match = re.match(r"^([A-Za-z_]+):?(?:\\|/|$)(.*)$", text)
    if not match:
        return None
    head = match.group(1).lower()
    hive = _HIVES.get(head)
    if hive is None:
        return None
    # "HKLM" without a colon is a relative file-system path in PowerShell, not the registry.
    if head in ("hklm", "hkcu", "hku") and not text[len(head) :].startswith(":"):
        return None
    parts = [p for p in re.split(r"[\\/]+", match.group(2)) if p]
    return hive, parts


@dataclass
class RegistryValue:
    kind: str
    data: Any

    def to_dict(self) -> dict:
        return {"kind": self.kind, "data": list(self.data) if isinstance(self.data, (list, tuple, bytes)) else self.data}


class RegistryKey:
    """A key: values and subkeys, both looked up case-insensitively, names kept as written."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._values: dict[str, tuple[str, RegistryValue]] = {}
        self._subkeys: dict[str, RegistryKey] = {}

    def subkey(self, name: str) -> RegistryKey | None:
        return self._subkeys.get(name.lower())

    def ensure_subkey(self, name: str) -> RegistryKey:
        key = self._subkeys.get(name.lower())
        if key is None:
            key = self._subkeys[name.lower()] = RegistryKey(name)
        return key

    def delete_subkey(self, name: str) -> None:
        self._subkeys.pop(name.lower(), None)

    def subkeys(self) -> list[RegistryKey]:
        return sorted(self._subkeys.values(), key=lambda k: k.name.lower())

    def value(self, name: str) -> RegistryValue | None:
        entry = self._values.get(name.lower())
        return entry[1] if entry else None

    def set_value(self, name: str, data: Any, kind: str | None = None) -> None:
        if kind is None:
            kind = _infer_kind(data)
        if kind not in VALUE_KINDS:
            raise InvalidArgument(f"unknown registry value kind {kind!r}")
        self._values[name.lower()] = (name, RegistryValue(kind, data))

    def delete_value(self, name: str) -> bool:
        return self._values.pop(name.lower(), None) is not None

    def values(self) -> list[tuple[str, RegistryValue]]:
        return sorted(self._values.values(), key=lambda e: e[0].lower())

    def to_dict(self) -> dict:
        return {
            "values": {name: value.to_dict() for name, value in self.values()},
            "keys": {key.name: key.to_dict() for key in self.subkeys()},
        }


def _infer_kind(data: Any) -> str:
    if isinstance(data, bool):
        return "DWord"
    if isinstance(data, int):
        return "DWord" if 0 <= data <= 0xFFFFFFFF else "QWord"
    if isinstance(data, (list, tuple)):
        return "MultiString"
    if isinstance(data, bytes):
        return "Binary"
    return "String"


RegistryWatcher = Callable[[str, list[str], str], None]  # (hive, key path parts, value name)


class Registry:
    def __init__(self) -> None:
        self._hives = {hive: RegistryKey(hive) for hive in ("HKEY_LOCAL_MACHINE", "HKEY_CURRENT_USER", "HKEY_USERS")}
        self._watchers: list[tuple[str, tuple[str, ...], RegistryWatcher]] = []

    def watch(self, path: str, callback: RegistryWatcher) -> None:
        """Call `callback` after every value written through `set_value` at or under `path` (what
        RegNotifyChangeKeyValue gives a Windows service, e.g. SMS_EXECUTIVE,
        docs/configmgr-behaviour.md#sms-executive-threads)."""
        hive, parts = self._resolve(path)
        self._watchers.append((hive, tuple(p.lower() for p in parts), callback))

    def _resolve(self, path: str) -> tuple[str, list[str]]:
        parsed = parse_registry_path(path)
        if parsed is None:
            raise InvalidArgument(f"not a registry path: {path}")
        return parsed

    def key(self, path: str) -> RegistryKey | None:
        hive, parts = self._resolve(path)
        key: RegistryKey | None = self._hives[hive]
        for part in parts:
            key = key.subkey(part) if key else None
        return key

    def ensure_key(self, path: str) -> RegistryKey:
        hive, parts = self._resolve(path)
        key = self._hives[hive]
        for part in parts:
            key = key.ensure_subkey(part)
        return key

    def set_value(self, path: str, name: str, data: Any, kind: str | None = None) -> None:
        self.ensure_key(path).set_value(name, data, kind)
        hive, parts = self._resolve(path)
        lowered = tuple(p.lower() for p in parts)
        for w_hive, prefix, callback in list(self._watchers):
            if w_hive == hive and lowered[: len(prefix)] == prefix:
                callback(hive, parts, name)

    def get_value(self, path: str, name: str) -> Any:
        key = self.key(path)
        value = key.value(name) if key else None
        return value.data if value else None

    def delete_key(self, path: str) -> None:
        hive, parts = self._resolve(path)
        if not parts:
            raise InvalidArgument("cannot delete a hive")
        key: RegistryKey | None = self._hives[hive]
        for part in parts[:-1]:
            key = key.subkey(part) if key else None
        if key is not None:
            key.delete_subkey(parts[-1])

    def to_dict(self) -> dict:
        # Only hives with content: keeps dumps short.
        return {name: key.to_dict() for name, key in sorted(self._hives.items()) if key.subkeys() or key.values()}


# ---------------------------------------------------------------------------------------------
# Services, local groups, domain

SERVICE_STATUSES = ("Stopped", "StartPending", "StopPending", "Running", "ContinuePending", "PausePending", "Paused")
START_TYPES = ("Automatic", "Manual", "Disabled", "Boot", "System")


@dataclass
class Service:
    name: str
    display_name: str
    status: str = "Running"
    start_type: str = "Automatic"

    def to_dict(self) -> dict:
        return {"display_name": self.display_name, "status": self.status, "start_type": self.start_type}


@dataclass
class LocalGroup:
    name: str
    description: str = ""
    members: list[str] = field(default_factory=list)  # "DOMAIN\name", "HOST\name", "DOMAIN\HOST$"

    def has_member(self, member: str) -> bool:
        return member.lower() in (m.lower() for m in self.members)

    def add_member(self, member: str) -> None:
        if self.has_member(member):
            raise AlreadyExists(f"{member} is already a member of group {self.name}.")
        self.members.append(member)

    def remove_member(self, member: str) -> None:
        for existing in self.members:
            if existing.lower() == member.lower():
                self.members.remove(existing)
                return
        raise NotFound(f"{member} is not a member of group {self.name}.")


@dataclass
class DomainUser:
    name: str  # sAMAccountName
    fingerprint: PasswordFingerprint


def _sub_authorities(seed: str) -> str:
    """Three 32-bit numbers for a fake but stable domain or machine SID."""
    digest = hashlib.sha256(seed.lower().encode()).digest()
    return "-".join(str(int.from_bytes(digest[i : i + 4], "big")) for i in (0, 4, 8))


def _rid(name: str) -> int:
    """A stable relative id for an account the lab creates (well-known ones have their own)."""
    return 1100 + int.from_bytes(hashlib.sha256(name.lower().encode()).digest()[:4], "big") % 8_000_000


# Well-known RIDs of a domain, and SIDs of BUILTIN local groups.
_DOMAIN_RIDS = {"administrator": 500, "domain admins": 512, "domain users": 513, "domain computers": 515}
BUILTIN_GROUP_SIDS = {
    "administrators": "S-1-5-32-544",
    "users": "S-1-5-32-545",
    "remote desktop users": "S-1-5-32-555",
    "remote management users": "S-1-5-32-580",
}


@dataclass(frozen=True)
class Principal:
    """A security principal as Get-LocalGroupMember shows it (LocalPrincipal)."""

    name: str  # 'LAB\\CAS$', 'SCP01\\Administrator'
    object_class: str  # User / Group (computer accounts are users, see assumptions)
    source: str  # PrincipalSource: Local / ActiveDirectory / Unknown
    sid: str


class Domain:
    """One Active Directory domain: users (with password fingerprints) and groups."""

    def __init__(self, netbios: str, dns: str) -> None:
        self.netbios = netbios.upper()
        self.dns = dns.lower()
        self.users: dict[str, DomainUser] = {}
        self.groups: dict[str, list[str]] = {"Domain Admins": [], "Domain Users": []}
        self.computers: dict[str, str] = {}  # lower sAMAccountName ('cas$') → as spelled ('CAS$')
        self.sid = "S-1-5-21-" + _sub_authorities(self.dns)

    def add_computer(self, netbios_name: str) -> str:
        """A computer joined to the domain: its account `<NAME>$` (docs/configmgr-behaviour.md#remote-site-system-requirements)."""
        account = netbios_name.upper() + "$"
        self.computers[account.lower()] = account
        return account

    def principal(self, name: str) -> Principal | None:
        """A user, group or computer of this domain by its short name, or None."""
        key = name.lower()
        if key in self.users:
            found, object_class = self.users[key].name, "User"
        elif key in self.computers:
            found, object_class = self.computers[key], "User"  # computer accounts list as users
        else:
            group = next((g for g in self.groups if g.lower() == key), None)
            if group is None:
                return None
            found, object_class = group, "Group"
        rid = _DOMAIN_RIDS.get(found.lower()) or _rid(found)
        return Principal(f"{self.netbios}\\{found}", object_class, "ActiveDirectory", f"{self.sid}-{rid}")

    def add_user(self, name: str, password: str, groups: tuple[str, ...] = ()) -> DomainUser:
        user = DomainUser(name, PasswordFingerprint(password))
        self.users[name.lower()] = user
        for group in ("Domain Users", *groups):
            self.groups.setdefault(group, []).append(name)
        return user

    def split(self, account: str) -> tuple[str, str] | None:
        """'LAB\\x', 'lab.example\\x', 'x@lab.example' → (domain netbios, name) when of this domain."""
        if "\\" in account:
            dom, name = account.split("\\", 1)
        elif "@" in account:
            name, dom = account.split("@", 1)
        else:
            return None
        if dom.upper() != self.netbios and dom.lower() != self.dns:
            return None
        return self.netbios, name

    def user(self, account: str) -> DomainUser | None:
        parts = self.split(account)
        return self.users.get(parts[1].lower()) if parts else None

    def verify(self, account: str, password: str) -> bool:
        user = self.user(account)
        return user is not None and user.fingerprint.matches(password)

    def to_dict(self) -> dict:
        return {
            "netbios": self.netbios,
            "dns": self.dns,
            "users": sorted(u.name for u in self.users.values()),
            "groups": {g: sorted(m) for g, m in sorted(self.groups.items())},
            "computers": sorted(self.computers.values()),
        }


ServiceListener = Callable[[str], None]  # called with "started" or "stopped"
PowerListener = Callable[[str], None]  # called with "shutdown" (going down) or "boot" (back up)

# Windows Server 2022 Datacenter, as Win32_OperatingSystem shows it (the lab's servers are alike).
OS_CAPTION, OS_VERSION, OS_BUILD = "Microsoft Windows Server 2022 Datacenter", "10.0.20348", "20348"


class WindowsHost:
    """One simulated Windows server."""

    def __init__(self, fqdn: str, domain: Domain, address: str = "127.0.0.1", scheduler: Scheduler | None = None) -> None:
        self.fqdn = fqdn.lower()
        self.domain = domain
        self.address = address
        domain.add_computer(self.netbios_name)
        self.machine_sid = "S-1-5-21-" + _sub_authorities(self.fqdn)
        # The lab's scheduler (simulated clock); a host on its own gets a private one.
        self.scheduler = scheduler or Scheduler(SimClock())
        # SMS_EXECUTIVE once the host is a site system (cmlab.model.executive.ensure_executive sets it;
        # the host itself knows nothing about ConfigMgr).
        self.executive: Any = None
        self._service_listeners: dict[str, list[ServiceListener]] = {}
        self.console_module_path: str | None = None  # ConfigurationManager.psd1 when the console is installed
        self.registry = Registry()
        self.services: dict[str, Service] = {}
        self.local_groups: dict[str, LocalGroup] = {}
        self.fs = FileSystem(self.scheduler.clock.now)
        self.firewall = Firewall(default_rules())
        self.time_zone_bias = 0  # minutes, UTC = local + bias (CMTrace "+BBB", docs/configmgr-behaviour.md#logs)
        self.executive_timing: Any = None  # cmlab.model.timing.ExecutiveTiming from the topology, or None
        # Power: a host is up from the lab's start; Restart-Computer takes it down and up again.
        self.restart_timing = RestartTiming()
        self.power_state = "running"  # running | shutting_down | down
        self.boot_time = self.scheduler.clock.now()
        self.restarts = 0  # completed restarts since the lab started (the state dump shows it)
        self._power_listeners: list[PowerListener] = []
        # What every Windows Server has: .NET/SCHANNEL/WinHTTP keys (docs/configmgr-behaviour.md#tls-prerequisites),
        # the root certificates; the processes' view of the TLS settings is taken at boot.
        install_defaults(self.registry)
        self.net = NetSettings(self.registry)
        self.certificates = CertificateStores()
        self.certificates.install_well_known_roots()
        self.add_local_group(
            "Administrators",
            "Administrators have complete and unrestricted access to the computer/domain",
            [f"{self.netbios_name}\\Administrator", f"{domain.netbios}\\Domain Admins"],
        )
        self.add_local_group(
            "Users", "Users are prevented from making accidental or intentional system-wide changes", [f"{domain.netbios}\\Domain Users"]
        )
        # WinRM lets its members in without administrator rights (docs/simulator-assumptions.md, "WinRM access").
        self.add_local_group(
            "Remote Management Users",
            "Members of this group can access WMI resources over management protocols (such as WS-"
            "Management via the Windows Remote Management service).",
        )

    @property
    def netbios_name(self) -> str:
        return self.fqdn.split(".", 1)[0].upper()

    @property
    def computer_account(self) -> str:
        """How the host's computer account appears as a group member: 'LAB\\CAS$'
        (docs/configmgr-behaviour.md#remote-site-system-requirements)."""
        return f"{self.domain.netbios}\\{self.netbios_name}$"

    @property
    def console_installed(self) -> bool:
        return self.console_module_path is not None

    # Local groups --------------------------------------------------------------------------
    def add_local_group(self, name: str, description: str = "", members: list[str] | None = None) -> LocalGroup:
        group = LocalGroup(name, description, list(members or []))
        self.local_groups[name.lower()] = group
        return group

    def local_group(self, name: str) -> LocalGroup | None:
        return self.local_groups.get(name.lower())

    def local_group_sid(self, group: LocalGroup) -> str:
        return BUILTIN_GROUP_SIDS.get(group.name.lower()) or f"{self.machine_sid}-{_rid(group.name)}"

    def resolve_principal(self, text: str) -> Principal | None:
        """'LAB\\x', 'lab.example\\x', 'x@lab.example', 'HOST\\x', '.\\x', a bare name (local first,
        then the domain, as LookupAccountName does on a member server) or a SID string."""
        text = text.strip()
        if re.fullmatch(r"S-1-[0-9-]+", text, flags=re.IGNORECASE):
            return self._principal_by_sid(text.upper())
        if "\\" in text:
            prefix, short = text.split("\\", 1)
        elif "@" in text:
            short, prefix = text.split("@", 1)
        else:
            prefix, short = "", text
        if not prefix or prefix in (".",) or prefix.upper() == self.netbios_name:
            local = self._local_principal(short)
            if local is not None or prefix:
                return local
        if prefix and prefix.upper() != self.domain.netbios and prefix.lower() != self.domain.dns:
            return None
        return self.domain.principal(short)

    def _local_principal(self, short: str) -> Principal | None:
        if short.lower() == "administrator":
            return Principal(f"{self.netbios_name}\\Administrator", "User", "Local", f"{self.machine_sid}-500")
        group = self.local_group(short)
        if group is not None:
            return Principal(f"{self.netbios_name}\\{group.name}", "Group", "Local", self.local_group_sid(group))
        return None

    def _principal_by_sid(self, sid: str) -> Principal | None:
        candidates = [f"{self.netbios_name}\\Administrator", *(f"{self.netbios_name}\\{g.name}" for g in self.iter_groups())]
        candidates += [
            f"{self.domain.netbios}\\{n}"
            for n in (*(u.name for u in self.domain.users.values()), *self.domain.groups, *self.domain.computers.values())
        ]
        for name in candidates:
            principal = self.resolve_principal(name)
            if principal is not None and principal.sid == sid:
                return principal
        return None

    def member_principal(self, member: str) -> Principal:
        """A stored group member as a principal; one the lab cannot resolve keeps its name, with
        PrincipalSource Unknown and a SID derived from the name."""
        return self.resolve_principal(member) or Principal(member, "User", "Unknown", f"{self.domain.sid}-{_rid(member)}")

    def is_local_admin(self, account: str) -> bool:
        """Direct membership, or through a domain group that is a member (one level, as AD nests)."""
        return self.is_member("Administrators", account)

    def is_member(self, group_name: str, account: str) -> bool:
        """Whether `account` (DOMAIN\\user) is in the local group, directly or through a domain group."""
        target = self.local_group(group_name)
        if target is None:
            return False
        if target.has_member(account):
            return True
        parts = self.domain.split(account)
        if parts is None:
            return False
        for member in target.members:
            group = self.domain.split(member)
            if group and group[1] in self.domain.groups and parts[1].lower() in (m.lower() for m in self.domain.groups[group[1]]):
                return True
        return False

    def may_use_winrm(self, account: str) -> bool:
        """WinRM's default access: local administrators and members of Remote Management Users."""
        return self.is_local_admin(account) or self.is_member("Remote Management Users", account)

    # Services -----------------------------------------------------------------------------
    def add_service(self, name: str, display_name: str, status: str = "Running", start_type: str = "Automatic") -> Service:
        service = Service(name, display_name, status, start_type)
        self.services[name.lower()] = service
        return service

    def service(self, name: str) -> Service | None:
        return self.services.get(name.lower())

    def on_service(self, name: str, listener: ServiceListener) -> None:
        """`listener("stopped")` / `listener("started")` after the service changes state."""
        self._service_listeners.setdefault(name.lower(), []).append(listener)

    def stop_service(self, name: str) -> Service:
        """Stop-Service waits until the service has stopped (no StopPending is left behind)."""
        service = self._existing_service(name)
        if service.status != "Stopped":
            service.status = "Stopped"
            self._notify_service(service, "stopped")
        return service

    def start_service(self, name: str) -> Service:
        """Start-Service waits until the service runs. A disabled service cannot start."""
        service = self._existing_service(name)
        if service.status == "Running":
            return service
        if service.start_type == "Disabled":
            raise RuleViolation(f"Cannot start service {service.name} on computer '.'.")
        service.status = "Running"
        self._notify_service(service, "started")
        return service

    def restart_service(self, name: str) -> Service:
        self.stop_service(name)
        return self.start_service(name)

    def _existing_service(self, name: str) -> Service:
        service = self.service(name)
        if service is None:
            raise NotFound(f"Cannot find any service with service name '{name}'.")
        return service

    def _notify_service(self, service: Service, event: str) -> None:
        for listener in list(self._service_listeners.get(service.name.lower(), [])):
            listener(event)

    # Power -------------------------------------------------------------------------------
    @property
    def is_up(self) -> bool:
        return self.power_state == "running"

    def on_power(self, listener: PowerListener) -> None:
        """`listener("shutdown")` when the host goes down, `listener("boot")` when it is back up."""
        self._power_listeners.append(listener)

    def booted(self) -> None:
        """The lab started with this host running: the processes read the settings as they are now."""
        self.net.boot()

    def restart(self) -> bool:
        """Restart-Computer -Force: the host goes down `shutdown_delay` seconds later (the command's own
        answer still gets out), stays down `down` seconds, boots: services stop and start, .NET reads
        its settings afresh, `boot_time` moves. False when a restart is already under way."""
        if self.power_state != "running":
            return False
        self.power_state = "shutting_down"
        self.scheduler.call_later(self.restart_timing.shutdown_delay, self._shutdown, f"{self.fqdn}: shutdown")
        return True

    def _shutdown(self) -> None:
        for service in sorted(self.services.values(), key=lambda s: s.name.lower()):
            if service.status != "Stopped":
                service.status = "Stopped"
                self._notify_service(service, "stopped")
        self.power_state = "down"
        for listener in list(self._power_listeners):
            listener("shutdown")
        self.scheduler.call_later(self.restart_timing.down, self._boot, f"{self.fqdn}: boot")

    def _boot(self) -> None:
        self.boot_time = self.scheduler.clock.now()
        self.restarts += 1
        self.net.boot()
        self.power_state = "running"
        for listener in list(self._power_listeners):
            listener("boot")
        for service in sorted(self.services.values(), key=lambda s: s.name.lower()):
            if service.start_type == "Automatic" and service.status != "Running":
                service.status = "Running"
                self._notify_service(service, "started")

    # Files --------------------------------------------------------------------------------
    def add_file(self, path: str, content: str = "") -> None:
        self.fs.write_text(path, content)

    def path_kind(self, path: str) -> str | None:
        """'leaf', 'container' or None, for a file-system path on this host."""
        return self.fs.kind(path)

    def iter_groups(self) -> Iterator[LocalGroup]:
        return iter(sorted(self.local_groups.values(), key=lambda g: g.name.lower()))

    def to_dict(self) -> dict:
        return {
            "fqdn": self.fqdn,
            "address": self.address,
            "console_installed": self.console_installed,
            "local_groups": {g.name: sorted(g.members, key=str.lower) for g in self.iter_groups()},
            "registry": self.registry.to_dict(),
            "services": {s.name: s.to_dict() for s in sorted(self.services.values(), key=lambda s: s.name.lower())},
            "firewall_rules": self.firewall.to_dict(),
            "power_state": self.power_state,
            "restarts": self.restarts,
            "network": self.net.to_dict(),
            "certificates": self.certificates.to_dict(self.scheduler.clock.now()),
            **self.fs.to_dict(),
        }
