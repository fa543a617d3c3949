"""The lab model root: one domain, its Windows hosts, and the ConfigMgr hierarchies on them.

All access goes through `LabModel.lock` (one re-entrant lock: simple and sufficient for a lab).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .clock import Scheduler, SimClock
from .configmgr import (
    ROLE_PROVIDER,
    ROLE_SITE_SERVER,
    ROLE_SITE_SYSTEM,
    Hierarchy,
    RoleInstaller,
    Site,
)
from .errors import AlreadyExists, NotFound
from .events import RoleEvents
from .executive import ensure_executive
from .installer import SiteComponentManager
from .internet import Internet
from .scp import ScpService
from .sct import install_tool
from .timing import ConfigMgrTiming
from .wellknown import IDENTIFICATION_KEY, SCT_DIR, SETUP_KEY
from .windows import Domain, WindowsHost

CONSOLE_DIR = r"C:\Program Files (x86)\Microsoft Endpoint Manager\AdminConsole"
# docs/configmgr-behaviour.md#powershell-module-and-remoting default module path
CONSOLE_MODULE = CONSOLE_DIR + r"\bin\ConfigurationManager.psd1"


def install_site_server_files(host: WindowsHost, install_dir: str, version: str = "") -> None:
    """What setup leaves in `<InstallDir>` that cmlab needs: bin\\x64, Logs, and CD.Latest with the Service
    Connection Tool folder (docs/configmgr-behaviour.md#service-connection-tool, #logs)."""
    root = install_dir.rstrip("\\")
    host.fs.make_dirs(f"{root}\\bin\\x64")
    host.fs.make_dirs(f"{root}\\Logs")
    install_tool(host, f"{root}\\{SCT_DIR}", version)


class LabModel:
    def __init__(self, domain: Domain, clock: SimClock | None = None) -> None:
        self.lock = threading.RLock()
        self.clock = clock or SimClock()
        self.scheduler = Scheduler(self.clock)
        self.domain = domain
        self.hosts: dict[str, WindowsHost] = {}
        self.hierarchies: list[Hierarchy] = []
        # Asked by Site Component Manager for each installation (the lab wires the install_failure fault).
        self.install_fails: Callable[[str], bool] = lambda server: False
        # Asked by Site Component Manager whether a server can be reached at all (the lab wires the host_down
        # fault; a host restarting is unreachable too).
        self.host_unreachable: Callable[[str], bool] = lambda server: False
        # ConfigMgr behaviour (docs/cmlab.md): Site Component Manager's timing, the simulated internet.
        self.configmgr_timing = ConfigMgrTiming()
        self.internet = Internet()

    # Hosts --------------------------------------------------------------------------------
    def add_host(self, fqdn: str, address: str = "127.0.0.1") -> WindowsHost:
        if fqdn.lower() in self.hosts:
            raise AlreadyExists(f"host {fqdn} already exists")
        host = WindowsHost(fqdn, self.domain, address, self.scheduler)
        self.hosts[host.fqdn] = host
        return host

    def host(self, name: str) -> WindowsHost | None:
        fqdn = self.resolve_fqdn(name)
        return self.hosts.get(fqdn) if fqdn else None

    def resolve_fqdn(self, name: str) -> str | None:
        """Only a full FQDN resolves: site system names are FQDNs (docs/configmgr-behaviour.md#site-system-servers)."""
        name = name.strip().lower().rstrip(".")
        return name if name in self.hosts else None

    # Hierarchies --------------------------------------------------------------------------
    def add_hierarchy(self, name: str, installer: RoleInstaller | None = None) -> Hierarchy:
        """A hierarchy whose roles Site Component Manager installs (unless another installer is given),
        with its SCPs at work: the SCP service subscribes to Site Component Manager's role events."""
        events = RoleEvents()
        manager = None
        if installer is None:
            installer = manager = SiteComponentManager(self, lambda server: self.install_fails(server), events)
        hierarchy = Hierarchy(name, self.resolve_fqdn, installer)
        if manager is not None:
            hierarchy.runtime_reports.append(manager.to_dict)
        ScpService(self, hierarchy, events)
        self.hierarchies.append(hierarchy)
        return hierarchy

    def hierarchy(self, name: str) -> Hierarchy:
        for h in self.hierarchies:
            if h.name == name:
                return h
        raise NotFound(f"hierarchy {name} does not exist")

    def sites_provided_by(self, fqdn: str) -> list[tuple[Hierarchy, Site]]:
        """Sites whose SMS Provider runs on `fqdn` (what root\\SMS on that host knows about)."""
        fqdn = fqdn.lower()
        return [(h, s) for h in self.hierarchies for s in sorted(h.sites.values(), key=lambda s: s.code) if s.provider == fqdn]

    def sites_served_by(self, fqdn: str) -> list[tuple[Hierarchy, Site]]:
        fqdn = fqdn.lower()
        return [(h, s) for h in self.hierarchies for s in sorted(h.sites.values(), key=lambda s: s.code) if s.server == fqdn]

    # Setup helpers (used by the topology loader) -----------------------------------------
    def install_site(self, hierarchy: Hierarchy, site: Site) -> Site:
        """A site as setup leaves it: site server and provider are site systems with their roles;
        the site server has the SMS registry keys and services."""
        for name in (site.server, site.provider):
            if self.host(name) is None:
                raise NotFound(f"site {site.code}: host {name} is not defined")
        site.server, site.provider = site.server.lower(), site.provider.lower()
        hierarchy.add_site(site)
        server_ss = hierarchy.create_site_system(site.code, site.server)
        hierarchy.add_role(server_ss, ROLE_SITE_SERVER)
        provider_ss = hierarchy.site_system(site.code, site.provider) or hierarchy.create_site_system(site.code, site.provider)
        hierarchy.add_role(provider_ss, ROLE_PROVIDER)

        host = self.hosts[site.server]
        # Site code and server on a site server (docs/configmgr-behaviour.md#powershell-module-and-remoting, #service-connection-tool);
        # install directory (docs/configmgr-behaviour.md#service-connection-tool).
        host.registry.set_value(IDENTIFICATION_KEY, "Site Code", site.code)
        host.registry.set_value(IDENTIFICATION_KEY, "Site Server Name", site.server)
        host.registry.set_value(SETUP_KEY, "Installation Directory", site.install_dir)
        host.add_service("SMS_SITE_COMPONENT_MANAGER", "SMS_SITE_COMPONENT_MANAGER")
        install_site_server_files(host, site.install_dir, site.version)
        ensure_executive(host)
        return site

    def install_console(self, host: WindowsHost) -> None:
        """The ConfigMgr console ships the ConfigurationManager module (docs/configmgr-behaviour.md#powershell-module-and-remoting)."""
        host.console_module_path = CONSOLE_MODULE
        host.add_file(CONSOLE_MODULE, "# ConfigurationManager module (simulated)")
        host.registry.set_value(r"HKLM:\SOFTWARE\WOW6432Node\Microsoft\ConfigMgr10\Setup", "UI Installation Directory", CONSOLE_DIR + "\\")

    # Queries ------------------------------------------------------------------------------
    def is_site_system(self, fqdn: str) -> bool:
        return any(ss.role(ROLE_SITE_SYSTEM) for h in self.hierarchies for ss in h.site_systems.values() if ss.server == fqdn.lower())

    def dump(self) -> dict:
        """Deterministic state: sorted, no secrets, no timestamps or counters."""
        with self.lock:
            return {
                "domain": self.domain.to_dict(),
                "hosts": {fqdn: host.to_dict() for fqdn, host in sorted(self.hosts.items())},
                "hierarchies": {h.name: h.to_dict() for h in sorted(self.hierarchies, key=lambda h: h.name)},
            }
