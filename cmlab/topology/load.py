"""Reading a topology file: YAML → validated `Topology` (errors name the field, e.g. hosts[1].address).

Format: docs/cmlab.md "Topology format". Unknown fields are errors.
"""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path
from typing import Any

import yaml

from cmlab.model import ROLE_SCP, SCP_MODES, Prop, ProxySettings, SiteType
from cmlab.model.certificates import parse_certificate_file, well_known_root
from cmlab.model.configmgr import TELEMETRY_LEVELS
from cmlab.model.errors import InvalidArgument
from cmlab.model.internet import CLOUD_SERVICES, Internet
from cmlab.model.timing import ConfigMgrTiming, ExecutiveTiming, RestartTiming

from .build import Topology
from .spec import (
    DEFAULT_HTTP_PORT,
    DEFAULT_HTTPS_PORT,
    DomainSpec,
    FaultSpec,
    HierarchySpec,
    HostSpec,
    RoleSpec,
    ServiceSpec,
    SiteSpec,
    SiteSystemSpec,
    TopologyError,
)

ADMINISTRATIVE_ROLES = ("Full Administrator", "Read-only Analyst")  # the roles the lab knows (cmlab.cmdlets.rights)

_FQDN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SITE_CODE = re.compile(r"^[A-Z0-9]{3}$")
_NETBIOS = re.compile(r"^[A-Z0-9][A-Z0-9-]{0,14}$")
_USER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,19}$")
_ACCOUNT = re.compile(r"^[^\\/\s]+\\[^\\/]+$")
_SITE_TYPES = {
    "cas": SiteType.CAS,
    "primary": SiteType.PRIMARY,
    "secondary": SiteType.SECONDARY,
    4: SiteType.CAS,
    2: SiteType.PRIMARY,
    1: SiteType.SECONDARY,
}
_SERVICE_STATUSES = ("Running", "Stopped", "Paused")
_START_TYPES = ("Automatic", "Manual", "Disabled")


class _Reader:
    """Typed access to a YAML mapping with errors that name the field (e.g. hosts[1].address)."""

    def __init__(self, data: Any, where: str) -> None:
        if not isinstance(data, dict):
            raise TopologyError(f"{where}: expected a mapping, got {type(data).__name__}")
        self.data, self.where = data, where
        self._used: set[str] = set()

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def get(self, key: str, kind: type | tuple[type, ...], default: Any = ..., required: bool = False) -> Any:
        self._used.add(key)
        if key not in self.data or self.data[key] is None:
            if required or default is ...:
                raise TopologyError(f"{self.path(key)}: required")
            return default
        value = self.data[key]
        kinds = kind if isinstance(kind, tuple) else (kind,)
        if bool not in kinds and isinstance(value, bool) and int in kinds:
            raise TopologyError(f"{self.path(key)}: expected a number, got {value!r}")
        if not isinstance(value, kinds):
            names = " or ".join(k.__name__ for k in kinds)
            raise TopologyError(f"{self.path(key)}: expected {names}, got {type(value).__name__} {value!r}")
        return value

    def finish(self) -> None:
        unknown = sorted(set(self.data) - self._used)
        if unknown:
            raise TopologyError(f"{self.where or 'topology'}: unknown field(s): {', '.join(map(str, unknown))}")


def load_topology(path: str | Path) -> Topology:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise TopologyError(f"{path}: cannot read: {e.strerror}") from None
    except yaml.YAMLError as e:
        raise TopologyError(f"{path}: not valid YAML: {e}") from None
    try:
        return parse_topology(data, str(path))
    except TopologyError as e:
        raise TopologyError(f"{path}: {e}") from None


def parse_topology(data: Any, source: str = "<topology>") -> Topology:
    top = _Reader(data, "")
    version = top.get("version", int, 1)
    if version != 1:
        raise TopologyError(f"version: unsupported topology version {version} (this cmlab reads version 1)")
    top.get("plugin", str, None)  # room for an inventory plugin key; cmlab ignores it
    domain = _domain(_Reader(top.get("domain", dict, required=True), "domain"))
    hosts = [_host(fqdn, spec) for fqdn, spec in _mapping(top, "hosts").items()]
    if not hosts:
        raise TopologyError("hosts: at least one host is required")
    known = {h.fqdn for h in hosts}
    _check_endpoints(hosts)
    hierarchies = [_hierarchy(name, spec, known, domain) for name, spec in _mapping(top, "hierarchies", {}).items()]
    faults = [_fault(i, f, known) for i, f in enumerate(top.get("faults", list, []))]
    timing = _configmgr(top.get("configmgr", dict, {}))
    internet = top.get("internet", dict, {})
    try:
        Internet().configure(internet)
    except InvalidArgument as e:
        raise TopologyError(str(e)) from None
    winrm = _winrm(_Reader(top.get("winrm", dict, {}), "winrm"))
    top.finish()
    _check_site_codes(hierarchies)
    return Topology(domain, hosts, hierarchies, faults, source, configmgr=timing, internet=internet, winrm=winrm)


_TIMING_FIELDS = {
    "install_delay_seconds": "install_delay",
    "install_retry_seconds": "install_retry",
    "uninstall_delay_seconds": "uninstall_delay",
    "connectivity_check_interval_seconds": "connectivity_check_interval",
    "dmp_sync_interval_seconds": "dmp_sync_interval",
}


def _configmgr(raw: dict) -> ConfigMgrTiming:
    r = _Reader(raw, "configmgr")
    timing = ConfigMgrTiming()
    for key, attr in _TIMING_FIELDS.items():
        value = r.get(key, (int, float), getattr(timing, attr))
        if value < 0:
            raise TopologyError(f"configmgr.{key}: must be 0 or more seconds")
        setattr(timing, attr, float(value))
    r.finish()
    return timing


def _mapping(reader: _Reader, key: str, default: Any = ...) -> dict:
    return reader.get(key, dict, default)


def _domain(r: _Reader) -> DomainSpec:
    netbios = r.get("netbios", str, required=True).upper()
    if not _NETBIOS.match(netbios):
        raise TopologyError(f"domain.netbios: {netbios!r} is not a NetBIOS domain name (1-15 letters, digits, '-')")
    dns = r.get("dns", str, required=True).lower()
    if not _FQDN.match(dns):
        raise TopologyError(f"domain.dns: {dns!r} is not a DNS domain name")
    admin = r.get("admin_user", str, required=True)
    if not _USER.match(admin):
        raise TopologyError(f"domain.admin_user: {admin!r} is not a valid user name")
    users: dict[str, list[str]] = {}
    for i, entry in enumerate(r.get("users", list, [])):
        where = f"domain.users[{i}]"
        if isinstance(entry, str):
            name, groups = entry, []
        else:
            u = _Reader(entry, where)
            name = u.get("name", str, required=True)
            groups = [str(g) for g in u.get("groups", list, [])]
            u.finish()
        if not _USER.match(name):
            raise TopologyError(f"{where}: {name!r} is not a valid user name")
        if name.lower() == admin.lower() or name.lower() in (n.lower() for n in users):
            raise TopologyError(f"{where}: user {name} is defined twice")
        users[name] = groups
    if "password" in r.data:
        raise TopologyError("domain.password: passwords never go in the topology; the lab generates one at start (or set CMLAB_PASSWORD)")
    r.finish()
    return DomainSpec(netbios, dns, admin, users)


def _port(r: _Reader, key: str, default: int) -> int:
    value = r.get(key, int, default)
    if not 0 <= value <= 65535:
        raise TopologyError(f"{r.path(key)}: {value} is not a TCP port (0-65535, 0 = ephemeral)")
    return value


def _host(fqdn: Any, spec: Any) -> HostSpec:
    where = f"hosts.{fqdn}"
    if not isinstance(fqdn, str) or not _FQDN.match(fqdn.lower()):
        raise TopologyError(f"{where}: {fqdn!r} is not a fully qualified domain name")
    r = _Reader(spec or {}, where)
    address = r.get("address", str, required=True)
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        raise TopologyError(f"{where}.address: {address!r} is not an IP address") from None
    if not ip.is_loopback:
        raise TopologyError(f"{where}.address: {address} is not a loopback address (cmlab binds to 127.0.0.0/8 only)")
    groups = [str(g) for g in r.get("groups", list, [])]
    for g in groups:
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", g):
            raise TopologyError(f"{where}.groups: {g!r} is not a valid Ansible group name")
    members: dict[str, list[str]] = {}
    for group, names in r.get("local_group_members", dict, {}).items():
        if not isinstance(names, list) or not all(isinstance(n, str) and "\\" in n for n in names):
            raise TopologyError(f"{where}.local_group_members.{group}: expected a list of DOMAIN\\name strings")
        members[str(group)] = names
    registry: dict[str, dict[str, Any]] = {}
    for key, values in r.get("registry", dict, {}).items():
        if not re.match(r"^(HKLM|HKCU):\\", str(key), flags=re.IGNORECASE):
            raise TopologyError(f"{where}.registry: {key!r} must start with HKLM:\\ or HKCU:\\")
        if not isinstance(values, dict):
            raise TopologyError(f"{where}.registry.{key}: expected a mapping of value names to data")
        registry[str(key)] = values
    services = []
    for i, raw in enumerate(r.get("services", list, [])):
        s = _Reader(raw, f"{where}.services[{i}]")
        svc = ServiceSpec(
            s.get("name", str, required=True),
            s.get("display_name", str, None) or "",
            s.get("status", str, "Running"),
            s.get("start_type", str, "Automatic"),
        )
        svc.display_name = svc.display_name or svc.name
        if svc.status not in _SERVICE_STATUSES:
            raise TopologyError(f"{s.where}.status: one of {', '.join(_SERVICE_STATUSES)}")
        if svc.start_type not in _START_TYPES:
            raise TopologyError(f"{s.where}.start_type: one of {', '.join(_START_TYPES)}")
        s.finish()
        services.append(svc)
    tool_raw = r.get("service_connection_tool", (str, dict), "")
    tool, tool_version = _tool(tool_raw, f"{where}.service_connection_tool")
    host = HostSpec(
        fqdn.lower(),
        address,
        _port(r, "http_port", DEFAULT_HTTP_PORT),
        _port(r, "https_port", DEFAULT_HTTPS_PORT),
        groups,
        r.get("console", bool, False),
        members,
        registry,
        services,
        tool,
        tool_version,
        _sms_executive(r, where),
        r.get("time_zone_bias", int, 0),
    )
    if not -720 <= host.time_zone_bias <= 840:
        raise TopologyError(f"{where}.time_zone_bias: minutes between -720 and 840 (UTC = local time + bias)")
    host.missing_roots, host.expired_roots = _root_certificates(r.get("root_certificates", dict, {}), where)
    for path, raw in r.get("certificate_files", dict, {}).items():
        full = _full_path(str(path), f"{where}.certificate_files")
        if isinstance(raw, dict) and "pem" in raw:
            host.certificate_texts[full] = _certificate_text(raw, f"{where}.certificate_files.{path}")
        else:
            host.certificate_files[full] = _certificate_file(raw, f"{where}.certificate_files.{path}")
    proxy = r.get("winhttp_proxy", (str, dict), "")
    if isinstance(proxy, dict):
        w = _Reader(proxy, f"{where}.winhttp_proxy")
        host.winhttp_proxy, host.winhttp_bypass = w.get("proxy", str, required=True), w.get("bypass", str, "")
        w.finish()
    else:
        host.winhttp_proxy = proxy
    host.restart = _restart(r, where)
    r.finish()
    return host


def _full_path(path: str, where: str) -> str:
    if not re.match(r"^[A-Za-z]:\\", path):
        raise TopologyError(f"{where}: {path!r} must be a full path (C:\\...)")
    return path


def _tool(raw: Any, where: str) -> tuple[str, str]:
    """`service_connection_tool: C:\\Tools\\SCT` or `{path: ..., version: 5.00.9128.1000}`."""
    if isinstance(raw, dict):
        t = _Reader(raw, where)
        path, version = t.get("path", str, required=True), t.get("version", str, "")
        t.finish()
    else:
        path, version = raw, ""
    if path:
        _full_path(path, where)
    if version and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", version):
        raise TopologyError(f"{where}.version: {version!r} is not a version such as 5.00.9128.1000")
    return path, version


def _root_certificates(raw: dict, where: str) -> tuple[list[str], list[str]]:
    """`root_certificates: {missing: [names], expired: [names]}` (well-known roots by name or thumbprint)."""
    r = _Reader(raw, f"{where}.root_certificates")
    lists = []
    for key in ("missing", "expired"):
        names = [str(n) for n in r.get(key, list, [])]
        for name in names:
            try:
                well_known_root(name)
            except InvalidArgument as e:
                raise TopologyError(f"{r.path(key)}: {e}") from None
        lists.append(names)
    r.finish()
    return lists[0], lists[1]


def _certificate_file(raw: Any, where: str) -> tuple[str, bool]:
    """`<path>: <root name>` or `{root: <name>, expired: true}`: a stand-in certificate file."""
    if isinstance(raw, dict):
        c = _Reader(raw, where)
        name, expired = c.get("root", str, required=True), c.get("expired", bool, False)
        c.finish()
    elif isinstance(raw, str):
        name, expired = raw, False
    else:
        raise TopologyError(f"{where}: a well-known root's name, or {{root, expired}}")
    try:
        well_known_root(name)
    except InvalidArgument as e:
        raise TopologyError(f"{where}: {e}") from None
    return name, expired


def _certificate_text(raw: dict, where: str) -> str:
    """`{pem: <text>}`: a certificate file with this very content (a real root certificate's PEM)."""
    c = _Reader(raw, where)
    text = c.get("pem", str, required=True)
    c.finish()
    try:
        parse_certificate_file(text)
    except InvalidArgument as e:
        raise TopologyError(f"{where}.pem: {e}") from None
    return text


def _restart(r: _Reader, where: str) -> RestartTiming | None:
    """`restart: {shutdown_delay_seconds, down_seconds}`: how Restart-Computer takes the host down and up."""
    raw = r.get("restart", dict, None)
    if raw is None:
        return None
    e = _Reader(raw, f"{where}.restart")
    timing = RestartTiming()
    for key, attr in (("shutdown_delay_seconds", "shutdown_delay"), ("down_seconds", "down")):
        value = e.get(key, (int, float), getattr(timing, attr))
        if value < 0:
            raise TopologyError(f"{e.where}.{key}: must be 0 or more seconds")
        setattr(timing, attr, float(value))
    e.finish()
    return timing


def _sms_executive(r: _Reader, where: str) -> ExecutiveTiming | None:
    """`sms_executive: {pickup_seconds, stop_seconds}`: when SMS_EXECUTIVE acts on a Requested
    Operation, and how long a thread stays Stopping (simulated seconds)."""
    raw = r.get("sms_executive", dict, None)
    if raw is None:
        return None
    e = _Reader(raw, f"{where}.sms_executive")
    timing = ExecutiveTiming()
    for key, attr in (("pickup_seconds", "pickup"), ("stop_seconds", "stop")):
        value = e.get(key, (int, float), getattr(timing, attr))
        if value < 0:
            raise TopologyError(f"{e.where}.{key}: must be 0 or more seconds")
        setattr(timing, attr, float(value))
    e.finish()
    return timing


def _check_endpoints(hosts: list[HostSpec]) -> None:
    seen: dict[tuple[str, int], str] = {}
    for h in hosts:
        for kind, port in (("http_port", h.http_port), ("https_port", h.https_port)):
            if port == 0:
                continue
            if (h.address, port) in seen:
                raise TopologyError(f"hosts.{h.fqdn}.{kind}: {h.address}:{port} is already used by {seen[(h.address, port)]}")
            seen[(h.address, port)] = f"hosts.{h.fqdn}"


def _hierarchy(name: Any, spec: Any, known: set[str], domain: DomainSpec) -> HierarchySpec:
    where = f"hierarchies.{name}"
    r = _Reader(spec, where)
    sites: list[SiteSpec] = []
    for code, raw in r.get("sites", dict, required=True).items():
        sites.append(_site(str(code), raw, f"{where}.sites.{code}", known))
    codes = {s.code for s in sites}
    ordered: list[SiteSpec] = []
    pending = list(sites)
    while pending:  # parents first
        ready = [s for s in pending if not s.parent or s.parent in {o.code for o in ordered}]
        if not ready:
            bad = pending[0]
            problem = "does not exist" if bad.parent not in codes else "forms a cycle"
            raise TopologyError(f"{where}.sites.{bad.code}.parent: {bad.parent} {problem}")
        ordered += ready
        pending = [s for s in pending if s not in ready]
    tops = [s.code for s in ordered if not s.parent]
    if len(tops) != 1:
        raise TopologyError(f"{where}.sites: exactly one top-level site (without parent) is required, found {', '.join(tops) or 'none'}")
    for s in ordered:
        if s.type == SiteType.CAS and s.parent:
            raise TopologyError(f"{where}.sites.{s.code}: a CAS is always the top-level site (no parent)")
        parent = next((p for p in ordered if p.code == s.parent), None)
        if parent and s.type == SiteType.PRIMARY and parent.type != SiteType.CAS:
            raise TopologyError(f"{where}.sites.{s.code}.parent: a primary site reports to a CAS, not to {parent.code}")
        if parent and s.type == SiteType.SECONDARY and parent.type != SiteType.PRIMARY:
            raise TopologyError(f"{where}.sites.{s.code}.parent: a secondary site reports to a primary site")
        if s.type == SiteType.SECONDARY and not parent:
            raise TopologyError(f"{where}.sites.{s.code}: a secondary site needs a parent primary site")

    accounts = []
    for i, raw in enumerate(r.get("accounts", list, [])):
        a = _Reader(raw, f"{where}.accounts[{i}]")
        site = a.get("site", str, required=True).upper()
        user = a.get("user", str, required=True)
        if site not in codes:
            raise TopologyError(f"{a.where}.site: {site} is not a site of this hierarchy")
        if not _ACCOUNT.match(user):
            raise TopologyError(f"{a.where}.user: {user!r} must be DOMAIN\\user")
        a.finish()
        accounts.append((site, user))

    site_systems = []
    for i, raw in enumerate(r.get("site_systems", list, [])):
        site_systems.append(_site_system(raw, f"{where}.site_systems[{i}]", codes, known, accounts))
    level = r.get("telemetry_level", str, "Enhanced")
    if level.capitalize() not in TELEMETRY_LEVELS:
        raise TopologyError(f"{where}.telemetry_level: one of {', '.join(TELEMETRY_LEVELS)}, not {level!r}")
    services = [str(c) for c in r.get("cloud_services", list, [])]
    for service in services:
        if service not in CLOUD_SERVICES:
            raise TopologyError(f"{where}.cloud_services: {service!r} is not one of {', '.join(sorted(CLOUD_SERVICES))}")
    refuse = r.get("refuse_second_scp", bool, True)
    admins: dict[str, str] = {}
    for user, role in r.get("administrative_users", dict, {}).items():
        if not isinstance(user, str) or not _ACCOUNT.match(user):
            raise TopologyError(f"{where}.administrative_users: {user!r} must be DOMAIN\\user")
        if role not in ADMINISTRATIVE_ROLES:
            raise TopologyError(f"{where}.administrative_users.{user}: one of {', '.join(ADMINISTRATIVE_ROLES)}, not {role!r}")
        admins[user] = role
    r.finish()
    return HierarchySpec(str(name), ordered, site_systems, accounts, level.capitalize(), services, refuse, admins)


def _site(code: str, raw: Any, where: str, known: set[str]) -> SiteSpec:
    code = code.upper()
    if not _SITE_CODE.match(code):
        raise TopologyError(f"{where}: {code!r} is not a site code (three letters or digits)")
    r = _Reader(raw, where)
    type_raw = r.get("type", (str, int), required=True)
    site_type = _SITE_TYPES.get(type_raw.lower() if isinstance(type_raw, str) else type_raw)
    if site_type is None:
        raise TopologyError(f"{where}.type: one of cas, primary, secondary (or 4, 2, 1), not {type_raw!r}")
    server = r.get("server", str, required=True).lower()
    provider = r.get("provider", str, server).lower()
    for key, value in (("server", server), ("provider", provider)):
        if value not in known:
            raise TopologyError(f"{where}.{key}: {value} is not one of the hosts")
    site = SiteSpec(code, r.get("name", str, f"Site {code}"), site_type, server, provider, r.get("parent", str, "").upper())
    site.install_dir = r.get("install_dir", str, site.install_dir)
    site.version = r.get("version", str, site.version)
    site.build_number = r.get("build_number", int, site.build_number)
    r.finish()
    return site


def _site_system(raw: Any, where: str, codes: set[str], known: set[str], accounts: list[tuple[str, str]]) -> SiteSystemSpec:
    r = _Reader(raw, where)
    site = r.get("site", str, required=True).upper()
    if site not in codes:
        raise TopologyError(f"{where}.site: {site} is not a site of this hierarchy")
    server = r.get("server", str, required=True).lower()
    if server not in known:
        raise TopologyError(f"{where}.server: {server} is not one of the hosts")
    account = r.get("account", str, "")
    if account and (site, account.lower()) not in {(s, u.lower()) for s, u in accounts}:
        raise TopologyError(f"{where}.account: {account} is not in this hierarchy's accounts of site {site}")
    spec = SiteSystemSpec(site, server, account, r.get("fdm_operation", bool, False), r.get("public_fqdn", str, ""))
    proxy = r.get("proxy", dict, None)
    if proxy is not None:
        p = _Reader(proxy, f"{where}.proxy")
        spec.proxy = ProxySettings(True, p.get("server", str, required=True), p.get("port", int, 80), p.get("account", str, ""))
        p.finish()
    for j, role_raw in enumerate(r.get("roles", list, [])):
        spec.roles.append(_role(role_raw, f"{where}.roles[{j}]"))
    r.finish()
    return spec


def _role(raw: Any, where: str) -> RoleSpec:
    if isinstance(raw, str):
        raw = {"name": raw}
    r = _Reader(raw, where)
    name = r.get("name", str, required=True)
    props = []
    mode = r.get("mode", str, None)
    if mode is not None:
        if name != ROLE_SCP:
            raise TopologyError(f"{where}.mode: only the {ROLE_SCP} role (the service connection point) has a mode")
        if mode.capitalize() not in SCP_MODES:
            raise TopologyError(f"{where}.mode: Online or Offline, not {mode!r}")
        props.append(Prop("OfflineMode", SCP_MODES[mode.capitalize()]))
    elif name == ROLE_SCP:
        props.append(Prop("OfflineMode", 0))
    for k, p in enumerate(r.get("props", list, [])):
        pr = _Reader(p, f"{where}.props[{k}]")
        props.append(
            Prop(pr.get("name", str, required=True), pr.get("value", int, 0), pr.get("value1", str, ""), pr.get("value2", str, ""))
        )
        pr.finish()
    r.finish()
    return RoleSpec(name, props)


def _fault(index: int, raw: Any, known: set[str]) -> FaultSpec:
    from cmlab.faults import KINDS

    r = _Reader(raw, f"faults[{index}]")
    kind = r.get("kind", str, required=True)
    if kind not in KINDS:
        raise TopologyError(f"faults[{index}].kind: {kind!r} is not one of {', '.join(sorted(KINDS))}")
    host = r.get("host", str, "*").lower()
    if host != "*" and host not in known:
        raise TopologyError(f"faults[{index}].host: {host} is not one of the hosts")
    count = r.get("count", int, None)
    if count is not None and count < 1:
        raise TopologyError(f"faults[{index}].count: must be at least 1")
    options = r.get("options", dict, {})
    r.finish()
    return FaultSpec(kind, host, count, options)


def _check_site_codes(hierarchies: list[HierarchySpec]) -> None:
    seen: dict[str, str] = {}
    for h in hierarchies:
        for s in h.sites:
            if s.code in seen:
                # Site codes are unique in a hierarchy; across the lab too, so that a provider
                # host's SMS_ProviderLocation is never ambiguous.
                raise TopologyError(f"hierarchies.{h.name}.sites.{s.code}: site code already used in hierarchy {seen[s.code]}")
            seen[s.code] = h.name


def _winrm(r: _Reader) -> dict[str, bool]:
    """winrm: {allow_basic, allow_unencrypted, allow_certificate}: relax Windows' defaults (docs/cmlab-wsman.md)."""
    switches = {name: r.get(name, bool, False) for name in ("allow_basic", "allow_unencrypted", "allow_certificate")}
    r.finish()
    return switches
