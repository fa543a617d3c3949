"""Site Component Manager: installs and removes site system roles asynchronously
(docs/configmgr-behaviour.md#asynchronous-installation).

A role added through the provider is recorded at once (the cmdlet returns, state `installing`) and installed
on the lab's simulated clock `install_delay` seconds later — or it fails, when the site server cannot
administer the target (docs/configmgr-behaviour.md#remote-site-system-requirements: the site server's
computer account, or the site system installation account, must be a local administrator there) or an
`install_failure` fault is set. A failed installation is retried every `install_retry` seconds, so fixing
the right later is enough (assumption: docs/configmgr-behaviour.md#asynchronous-installation describes the
component, not its retry interval).

Installing a role with components (the SCP: SMS_DMP_DOWNLOADER, SMS_DMP_UPLOADER, SMS_SERVICE_CONNECTOR,
docs/configmgr-behaviour.md#sms-executive-threads) makes SMS_EXECUTIVE run them on the target, adds their
SMS_ComponentSummarizer rows and writes sitecomp.log on the site server and SrvBoot.log on the target. A
removed role leaves the site control file at once; its components are `DE_INSTALLING` until Site Component
Manager has removed them (`uninstall_delay`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from .configmgr import ROLE_SCP, Hierarchy, Role, RoleState, SiteSystem
from .events import INSTALLED, REMOVED, RoleEvent, RoleEvents
from .executive import ensure_executive
from .status import SEVERITY_INFORMATION, ComponentState, ComponentStatus
from .timing import ConfigMgrTiming
from .wellknown import OPERATIONS_COMPONENTS_KEY, SCM_COMPONENT_SERVERS_KEY, SERVER_ROLE_KEY
from .windows import WindowsHost

__all__ = ["ROLE_COMPONENTS", "ConfigMgrTiming", "InstallerEnvironment", "SiteComponentManager", "component_log"]

ROLE_COMPONENTS: dict[str, tuple[str, ...]] = {
    # docs/configmgr-behaviour.md#sms-executive-threads
    ROLE_SCP: ("SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR"),
}
# rolesetup.exe's role argument (docs/configmgr-behaviour.md#logs shows SMSWSUS for the SUP; the SCP's is assumed).
ROLE_SETUP_NAMES = {ROLE_SCP: "SMSDMP"}
SITECOMP = "SMS_SITE_COMPONENT_MANAGER"
HMAN = "SMS_HIERARCHY_MANAGER"
SCM_KEY = SCM_COMPONENT_SERVERS_KEY
ROLE_KEY = SERVER_ROLE_KEY
# HMAN after a site control change adds a site system role (docs/configmgr-behaviour.md#asynchronous-installation).
MSG_NEW_SITE_SYSTEM = 3306


class InstallerEnvironment(Protocol):
    """What Site Component Manager needs of the lab (cmlab.model.state.LabModel has it)."""

    lock: threading.RLock
    clock: Any  # cmlab.model.clock.SimClock
    scheduler: Any  # cmlab.model.clock.Scheduler
    configmgr_timing: ConfigMgrTiming
    hosts: dict[str, WindowsHost]

    def host(self, name: str) -> WindowsHost | None: ...

    def host_unreachable(self, server: str) -> bool: ...


def component_log(host: WindowsHost, component: str, file_name: str):
    """The CMTrace log of a component on a host (under SMS_EXECUTIVE's Logs folder, docs/configmgr-behaviour.md#logs)."""
    return ensure_executive(host).log(component, file_name)


class SiteComponentManager:
    """The RoleInstaller of one hierarchy. Every method runs under the lab model's lock."""

    def __init__(
        self, model: InstallerEnvironment, injected_failure: Callable[[str], bool] | None = None, events: RoleEvents | None = None
    ) -> None:
        self.model = model
        self.injected_failure = injected_failure or (lambda server: False)
        # Role models (the SCP) subscribe here to learn when a role's components run or go away.
        self.events = events or RoleEvents()
        self._generation = 0
        self._pending: dict[tuple[str, str, str], int] = {}  # role → generation of its job
        self._jobs: dict[tuple[str, str, str], tuple[Callable[[int], None], str]] = {}  # role → its pending job
        self._watched: set[str] = set()  # site servers whose SMS_SITE_COMPONENT_MANAGER we watch
        self.deinstalling: dict[tuple[str, str, str], dict] = {}  # (site, server, role) → {role, detail}

    @property
    def timing(self) -> ConfigMgrTiming:
        return self.model.configmgr_timing

    def _now(self) -> float:
        return self.model.clock.now()

    def _schedule(self, key: tuple[str, str, str], delay: float, action: Callable[[int], None], name: str) -> None:
        self._generation += 1
        generation = self._pending[key] = self._generation
        self._jobs[key] = (action, name)
        self.model.scheduler.call_later(delay, lambda: self._run(key, generation, action), name)

    def _run(self, key: tuple[str, str, str], generation: int, action: Callable[[int], None]) -> None:
        with self.model.lock:
            if self._pending.get(key) != generation:
                return  # superseded: the role was removed or re-added meanwhile
            del self._pending[key]
            self._jobs.pop(key, None)
            action(generation)

    def _watch_site_server(self, hierarchy: Hierarchy, site_code: str) -> None:
        """Restarting SMS_SITE_COMPONENT_MANAGER makes it process pending work at once instead of at its next
        retry (what public automation does, docs/configmgr-behaviour.md#sms-executive-threads [CODE]
        MEMLABS)."""
        server = hierarchy.sites[site_code].server
        host = self.model.hosts.get(server)
        if host is None or server in self._watched:
            return
        self._watched.add(server)

        def on_service(event: str) -> None:
            if event != "started":
                return
            for key, (action, name) in list(self._jobs.items()):
                site = hierarchy.sites.get(key[0])
                if site is not None and site.server == server:
                    self._schedule(key, self.timing.install_delay, action, name)

        host.on_service(SITECOMP, on_service)

    @staticmethod
    def _key(ss: SiteSystem, role_name: str) -> tuple[str, str, str]:
        return ss.site_code, ss.server, role_name.lower()

    # RoleInstaller --------------------------------------------------------------------------
    def install(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None:
        role.state, role.detail = RoleState.INSTALLING, ""
        key = self._key(site_system, role.name)
        self.deinstalling.pop(key, None)
        site = hierarchy.sites[site_system.site_code]
        # HMAN processes the site control change: "New site system ..." and status 3306
        # (docs/configmgr-behaviour.md#asynchronous-installation).
        hierarchy.status_messages.raise_message(
            site.code, site.server, HMAN, MSG_NEW_SITE_SYSTEM, SEVERITY_INFORMATION, self._now(), (site.code, site_system.server, role.name)
        )
        for component in ROLE_COMPONENTS.get(role.name, ()):
            hierarchy.components.set(site.code, site_system.server, component, ComponentState.INSTALLING, ComponentStatus.OK)
        self._watch_site_server(hierarchy, site.code)
        self._schedule(
            key,
            self.timing.install_delay,
            lambda _g: self._attempt(hierarchy, site_system, role),
            f"install {role.name} on {site_system.server}",
        )

    def uninstall(self, hierarchy: Hierarchy, site_system: SiteSystem, role: Role) -> None:
        site_system.roles.remove(role)  # the SysResUse is gone at once
        key = self._key(site_system, role.name)
        self._pending.pop(key, None)  # cancels a pending installation attempt
        self._jobs.pop(key, None)
        components = ROLE_COMPONENTS.get(role.name, ())
        self.events.publish(RoleEvent(REMOVED, hierarchy, site_system, role))
        if role.state != RoleState.INSTALLED or not components:
            for component in components:
                hierarchy.components.remove(site_system.site_code, site_system.server, component)
            self._refresh_sitecomp_status(hierarchy, site_system.site_code)
            return
        for component in components:
            hierarchy.components.set(site_system.site_code, site_system.server, component, ComponentState.DE_INSTALLING)
        self.deinstalling[key] = {"role": role.name, "detail": ""}
        self._watch_site_server(hierarchy, site_system.site_code)
        self._schedule(
            key,
            self.timing.uninstall_delay,
            lambda _g: self._deinstall(hierarchy, site_system, role),
            f"uninstall {role.name} from {site_system.server}",
        )

    # Setup (topology) ------------------------------------------------------------------------
    def setup_installed(self, hierarchy: Hierarchy) -> None:
        """Roles the topology declares installed are running: components, rows, and the role models
        (the SCP) at work."""
        for ss in hierarchy.find_site_systems(None):
            for role in list(ss.roles):
                if role.state == RoleState.INSTALLED and ROLE_COMPONENTS.get(role.name):
                    self._make_components(hierarchy, ss, role)
                    self.events.publish(RoleEvent(INSTALLED, hierarchy, ss, role))

    # Installation ---------------------------------------------------------------------------
    def failure_reason(self, hierarchy: Hierarchy, ss: SiteSystem) -> str:
        target = self.model.host(ss.server)
        if self.model.host_unreachable(ss.server) or (target is not None and not target.is_up):
            # An unreachable site system (host_down, or restarting): assumption, docs/simulator-assumptions.md.
            return "the server cannot be reached (The network path was not found.)"
        if self.injected_failure(ss.server):
            return "install_failure fault injected for this server"
        site = hierarchy.sites[ss.site_code]
        site_server = self.model.host(site.server)
        if target is None or site_server is None or target is site_server:
            return ""
        account = site_server.computer_account if ss.use_machine_account else ss.account
        if target.is_local_admin(account):
            return ""
        kind = "the site server's computer account" if ss.use_machine_account else "the site system installation account"
        return f"{account} ({kind}) is not a local administrator on {ss.server}"

    def _still_there(self, hierarchy: Hierarchy, ss: SiteSystem, role: Role) -> bool:
        return hierarchy.site_systems.get((ss.site_code, ss.server)) is ss and any(r is role for r in ss.roles)

    def _attempt(self, hierarchy: Hierarchy, ss: SiteSystem, role: Role) -> None:
        if not self._still_there(hierarchy, ss, role):
            return
        site = hierarchy.sites[ss.site_code]
        log = self._sitecomp_log(hierarchy, ss.site_code)
        components = ROLE_COMPONENTS.get(role.name, ())
        log.write("Synchronizing server table and polling servers as needed...")
        log.write(f"Synchronizing component server {ss.server}...")
        for component in components:
            log.write(f"Component {component} flagged for installation.")
        reason = self.failure_reason(hierarchy, ss)
        if reason:
            role.state, role.detail = RoleState.INSTALL_FAILED, reason
            # Wording assumed (docs/configmgr-behaviour.md#logs shows only the successful lines).
            log.write(
                f"ERROR: Cannot connect to server {ss.server} to install {role.name}: {reason}. "
                "Site Component Manager needs local administrator rights on the site system.",
                severity=3,
            )
            log.write(
                f"Failed to install {role.name} on server {ss.server}. Will retry in {self.timing.install_retry:g} seconds.", severity=3
            )
            self._refresh_sitecomp_status(hierarchy, site.code)
            self._schedule(
                self._key(ss, role.name),
                self.timing.install_retry,
                lambda _g: self._attempt(hierarchy, ss, role),
                f"retry {role.name} on {ss.server}",
            )
            return
        target = self.model.host(ss.server)
        if components and target is not None:
            setup = ROLE_SETUP_NAMES.get(role.name, "")
            install_dir = ensure_executive(target).install_dir
            bootstrap = f"SMS_SERVER_BOOTSTRAP_{target.netbios_name}"
            rolesetup = f"{install_dir}\\bin\\x64\\rolesetup.exe"
            for component in components:
                log.write(f"Installing component {component}...")
            log.write(f"Creating registry keys Operations Management\\SMS Server Role\\{role.name} on server {ss.server}.")
            log.write("All files installed.")
            log.write("Starting bootstrap operations...")
            log.write(f"Installed service {bootstrap}.")
            log.write(
                f'Starting service {bootstrap} with command-line arguments "{site.code} {install_dir} /install {rolesetup} {setup}"...'
            )
            boot = component_log(target, bootstrap, "SrvBoot.log")
            boot.write(f"Starting {bootstrap}: installing role {role.name} ({setup}) for site {site.code}.")
            boot.write(f'"{rolesetup} /install /siteserver:{site.server}" executed successfully.')
            log.write(f'"{rolesetup} /install /siteserver:{site.server}" executed successfully on server {ss.server}.')
            log.write("Bootstrap operation successful.")
            log.write(f"Deinstalled service {bootstrap}.")
            log.write("Bootstrap operations completed.")
            self._make_components(hierarchy, ss, role)
        role.state, role.detail = RoleState.INSTALLED, ""
        log.write(f"Successfully installed {role.name} on server {ss.server}.")  # wording assumed
        self._refresh_sitecomp_status(hierarchy, site.code)
        if components and target is not None:
            self.events.publish(RoleEvent(INSTALLED, hierarchy, ss, role))

    def _make_components(self, hierarchy: Hierarchy, ss: SiteSystem, role: Role) -> None:
        target = self.model.host(ss.server)
        site = hierarchy.sites[ss.site_code]
        if target is None:
            return
        executive = ensure_executive(target)
        for component in ROLE_COMPONENTS.get(role.name, ()):
            executive.add_component(component)
            target.registry.ensure_key(f"{OPERATIONS_COMPONENTS_KEY}\\{component}")
            hierarchy.components.set(site.code, ss.server, component, ComponentState.STARTED, ComponentStatus.OK, started_at=self._now())
            site_server = self.model.host(site.server)
            if site_server is not None:
                site_server.registry.ensure_key(f"{SCM_KEY}\\{ss.server.upper()}\\Components\\{component}")
        # Third-party registry map of a remote role (docs/configmgr-behaviour.md#asynchronous-installation) — values assumed.
        role_key = f"{ROLE_KEY}\\{role.name}"
        target.registry.set_value(role_key, "Site Code", site.code)
        target.registry.set_value(role_key, "Version", site.version)
        target.registry.set_value(role_key, "Availability State", 0)

    # Removal ----------------------------------------------------------------------------------
    def _deinstall(self, hierarchy: Hierarchy, ss: SiteSystem, role: Role) -> None:
        key = self._key(ss, role.name)
        site = hierarchy.sites.get(ss.site_code)
        if site is None:
            return
        log = self._sitecomp_log(hierarchy, ss.site_code)
        components = ROLE_COMPONENTS.get(role.name, ())
        for component in components:
            log.write(f"Component {component} flagged for deinstallation.")
        reason = self.failure_reason(hierarchy, ss)
        if reason:
            self.deinstalling[key] = {"role": role.name, "detail": reason}
            log.write(f"ERROR: Cannot connect to server {ss.server} to deinstall {role.name}: {reason}.", severity=3)
            log.write(
                f"Failed to deinstall {role.name} from server {ss.server}. Will retry in {self.timing.install_retry:g} seconds.", severity=3
            )
            self._schedule(
                key,
                self.timing.install_retry,
                lambda _g: self._deinstall(hierarchy, ss, role),
                f"retry uninstall of {role.name} from {ss.server}",
            )
            return
        target = self.model.host(ss.server)
        if components and target is not None:
            bootstrap = f"SMS_SERVER_BOOTSTRAP_{target.netbios_name}"
            boot = component_log(target, bootstrap, "SrvBoot.log")
            boot.write(
                f"Starting {bootstrap}: deinstalling role {role.name} ({ROLE_SETUP_NAMES.get(role.name, '')}) for site {site.code}."
            )  # wording assumed
        for component in components:
            log.write(f"Deinstalling component {component}...")
            if target is not None and target.executive is not None:
                target.executive.remove_component(component)
            if target is not None:
                target.registry.delete_key(f"{OPERATIONS_COMPONENTS_KEY}\\{component}")
            hierarchy.components.remove(ss.site_code, ss.server, component)
            site_server = self.model.host(site.server)
            if site_server is not None:
                site_server.registry.delete_key(f"{SCM_KEY}\\{ss.server.upper()}\\Components\\{component}")
        if target is not None:
            target.registry.delete_key(f"{ROLE_KEY}\\{role.name}")
        log.write(f"Successfully deinstalled {role.name} from server {ss.server}.")  # wording assumed
        self.deinstalling.pop(key, None)

    # Site server side --------------------------------------------------------------------------
    def _sitecomp_log(self, hierarchy: Hierarchy, site_code: str):
        site = hierarchy.sites[site_code]
        return component_log(self.model.hosts[site.server], SITECOMP, "sitecomp.log")

    def _refresh_sitecomp_status(self, hierarchy: Hierarchy, site_code: str) -> None:
        """SMS_SITE_COMPONENT_MANAGER is Critical while an installation of its site fails (assumption)."""
        failing = any(r.state == RoleState.INSTALL_FAILED for ss in hierarchy.find_site_systems([site_code]) for r in ss.roles)
        site = hierarchy.sites[site_code]
        hierarchy.components.set(site_code, site.server, SITECOMP, status=ComponentStatus.CRITICAL if failing else ComponentStatus.OK)

    # State dump -------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"deinstalling": [{"site_code": key[0], "server": key[1], **entry} for key, entry in sorted(self.deinstalling.items())]}
