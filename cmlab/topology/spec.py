"""The lab topology as data: what a topology file (or `fleet_topology`) describes, validated.

`cmlab.topology.load` reads a YAML file into these specs, `cmlab.topology.build` turns them into a
model; this module depends on neither. No password is ever part of a topology: the lab's password is
generated at start (or taken from CMLAB_PASSWORD) and shared by every domain account (docs/cmlab.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cmlab.model import Prop, ProxySettings, SiteType
from cmlab.model.timing import ConfigMgrTiming, ExecutiveTiming, RestartTiming

DEFAULT_HTTP_PORT = 5985
DEFAULT_HTTPS_PORT = 5986


class TopologyError(ValueError):
    """A topology file is invalid; the message names the field."""


@dataclass
class DomainSpec:
    netbios: str
    dns: str
    admin_user: str
    users: dict[str, list[str]] = field(default_factory=dict)  # user → domain groups


@dataclass
class ServiceSpec:
    name: str
    display_name: str
    status: str = "Running"
    start_type: str = "Automatic"


@dataclass
class HostSpec:
    fqdn: str
    address: str
    http_port: int = DEFAULT_HTTP_PORT
    https_port: int = DEFAULT_HTTPS_PORT
    groups: list[str] = field(default_factory=list)
    console: bool = False
    local_group_members: dict[str, list[str]] = field(default_factory=dict)
    registry: dict[str, dict[str, Any]] = field(default_factory=dict)
    services: list[ServiceSpec] = field(default_factory=list)
    # a folder holding the Service Connection Tool (docs/configmgr-behaviour.md#service-connection-tool)
    service_connection_tool: str = ""
    # its version; "" = the version of the lab's first hierarchy's top-level site
    service_connection_tool_version: str = ""
    sms_executive: ExecutiveTiming | None = None  # thread pickup / stop delays (docs/configmgr-behaviour.md#sms-executive-threads)
    time_zone_bias: int = 0  # minutes, UTC = local + bias (CMTrace "+BBB", docs/configmgr-behaviour.md#logs)
    # Root store variants (docs/configmgr-behaviour.md#tls-prerequisites): well-known roots left out, or
    # present only as an expired issue.
    missing_roots: list[str] = field(default_factory=list)
    expired_roots: list[str] = field(default_factory=list)
    # Stand-in certificate files put on the host: path -> (well-known root name, expired)
    certificate_files: dict[str, tuple[str, bool]] = field(default_factory=dict)
    # Certificate files with a given PEM text (a real root certificate): path -> text
    certificate_texts: dict[str, str] = field(default_factory=dict)
    # The WinHTTP proxy (`netsh winhttp set proxy`): "" = direct access
    winhttp_proxy: str = ""
    winhttp_bypass: str = ""
    restart: RestartTiming | None = None  # Restart-Computer: shutdown delay, time down


@dataclass
class SiteSpec:
    code: str
    name: str
    type: SiteType
    server: str
    provider: str
    parent: str = ""
    install_dir: str = r"C:\Program Files\Microsoft Configuration Manager"
    version: str = "5.00.9128.1000"
    build_number: int = 9128


@dataclass
class RoleSpec:
    name: str
    props: list[Prop] = field(default_factory=list)


@dataclass
class SiteSystemSpec:
    site: str
    server: str
    account: str = ""  # "" = the site server's computer account
    fdm_operation: bool = False
    public_fqdn: str = ""
    proxy: ProxySettings = field(default_factory=ProxySettings)
    roles: list[RoleSpec] = field(default_factory=list)


@dataclass
class HierarchySpec:
    name: str
    sites: list[SiteSpec]
    site_systems: list[SiteSystemSpec] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (site, DOMAIN\user)
    telemetry_level: str = "Enhanced"  # docs/configmgr-behaviour.md#usage-data-level default
    cloud_services: list[str] = field(default_factory=list)  # e.g. tenant_attach (docs/configmgr-behaviour.md#internet-endpoints)
    # The SMS Provider refuses a second SCP in the hierarchy (assumption, docs/simulator-assumptions.md);
    # false lets tests prove the collection alone prevents two.
    refuse_second_scp: bool = True
    # Administrative users (DOMAIN\user) and their security role: "Full Administrator" or "Read-only Analyst".
    # An account of the domain not listed is a Full Administrator (docs/simulator-assumptions.md).
    administrative_users: dict[str, str] = field(default_factory=dict)


@dataclass
class FaultSpec:
    kind: str
    host: str = "*"
    count: int | None = None
    options: dict = field(default_factory=dict)


@dataclass
class TopologySpec:
    domain: DomainSpec
    hosts: list[HostSpec]
    hierarchies: list[HierarchySpec]
    faults: list[FaultSpec] = field(default_factory=list)
    source: str = "<topology>"
    configmgr: ConfigMgrTiming = field(default_factory=ConfigMgrTiming)
    internet: dict = field(default_factory=dict)  # Internet.configure() document
    # More Ansible host variables for the lab's inventory (fleets: each provider's SCP server).
    inventory_vars: dict[str, dict[str, Any]] = field(default_factory=dict)
    # The WinRM service's switches; Windows' defaults are all false (cmlab/wsman/server.py WINRM_SWITCHES).
    winrm: dict[str, bool] = field(default_factory=dict)

    @property
    def admin_principal(self) -> str:
        return f"{self.domain.netbios}\\{self.domain.admin_user}"

    def host(self, fqdn: str) -> HostSpec:
        return next(h for h in self.hosts if h.fqdn == fqdn.lower())

    def groups(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for h in self.hosts:
            for g in h.groups:
                out.setdefault(g, []).append(h.fqdn)
        return dict(sorted(out.items()))
