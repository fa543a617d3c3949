"""The service connection point at work on its server: its components as SMS_EXECUTIVE runs them.

- SMS_DMP_DOWNLOADER reads the SCP's mode when it (re)starts: a mode change (`OfflineMode`) takes
  effect only then (docs/configmgr-behaviour.md#service-connection-point-cmdlets, #sms-executive-threads). The effective mode shows in
  Dmpdownloader.log, in the registry
  value `OfflineMode` under `HKLM\\SOFTWARE\\Microsoft\\SMS\\COMPONENTS\\SMS_DMP_DOWNLOADER` (both
  assumptions) and in the state dump. Online, it downloads the update manifest through the
  simulated internet at start and every 24 hours (docs/configmgr-behaviour.md#sms-executive-threads, #logs message forms).
- SMS_SERVICE_CONNECTOR checks the internet endpoints (docs/configmgr-behaviour.md#internet-endpoints) when it starts and on a schedule,
  writes EndpointConnectivityCheckWorker.log and raises 11410 / 11411 / 11412 (and 11488 for a
  cloud service whose required endpoints fail).

Both use the proxy of the site system server that hosts the SCP
(docs/configmgr-behaviour.md#site-system-servers).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from .configmgr import ROLE_SCP, SCP_MODES, Hierarchy, Role, SiteSystem
from .events import INSTALLED, REMOVED, RoleEvent, RoleEvents
from .executive import RUNNING, ensure_executive
from .internet import AVAILABLE_UPDATES, ENDPOINTS, MANIFEST_FWLINK, Internet, ProxyUse, host_has_tls12, lab_internet
from .status import SEVERITY_ERROR, SEVERITY_INFORMATION, SEVERITY_WARNING, ComponentState, ComponentStatus
from .timing import ConfigMgrTiming
from .wellknown import DMP_DOWNLOADER_KEY
from .windows import WindowsHost

__all__ = ["CONNECTOR", "DOWNLOADER", "DOWNLOAD_SUCCESS", "UPLOADER", "ScpAgent", "ScpEnvironment", "ScpService",
           "lab_internet"]

DOWNLOADER, UPLOADER, CONNECTOR = "SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR"
DMP_KEY = DMP_DOWNLOADER_KEY
# docs/configmgr-behaviour.md#status-messages
MSG_CHECK_OK, MSG_CHECK_WARNING, MSG_CHECK_ERROR, MSG_CLOUD_CRITICAL = 11410, 11411, 11412, 11488
NULL_PACKAGE = "00000000-0000-0000-0000-000000000000"
DOWNLOAD_SUCCESS = 262146                      # update package state (docs/configmgr-behaviour.md#asynchronous-installation)
CHECK_URL_CONNECTED_SERVICE = "https://sccm.manage.microsoft.com/SCCMConnectedService.svc"
MANIFEST_URL = "https://configmgrbits.cdn.manage.microsoft.com/manifest.cab"


class ScpEnvironment(Protocol):
    """What the SCP's components need of the lab (cmlab.model.state.LabModel has it)."""

    lock: threading.RLock
    clock: Any                           # cmlab.model.clock.SimClock
    scheduler: Any                       # cmlab.model.clock.Scheduler
    configmgr_timing: ConfigMgrTiming
    internet: Internet
    hosts: dict[str, WindowsHost]


def site_system_proxy(ss: SiteSystem) -> ProxyUse | None:
    """The proxy the site system server's roles use (docs/configmgr-behaviour.md#site-system-servers);
    authenticated with the proxy account when one is set, else as the computer's System account (anonymous
    to the proxy)."""
    if not ss.proxy.enabled:
        return None
    return ProxyUse(ss.proxy.server, ss.proxy.port, authenticated=bool(ss.proxy.account))


def applicable_updates(site_version: str) -> list:
    current = tuple(int(p) for p in site_version.split("."))
    return [u for u in AVAILABLE_UPDATES if u.version_key > current]


class ScpAgent:
    """One installed SCP. Callers hold the model lock (scheduler jobs take it)."""

    def __init__(self, model: ScpEnvironment, hierarchy: Hierarchy, ss: SiteSystem, role: Role) -> None:
        self.model, self.hierarchy, self.ss, self.role = model, hierarchy, ss, role
        self.active = False
        self.effective_mode: str | None = None
        self.last_check: dict | None = None
        self.last_sync: dict | None = None
        self._subscribed = False
        self._check_generation = 0
        self._sync_generation = 0

    @property
    def host(self):
        return self.model.hosts[self.ss.server]

    @property
    def configured_mode(self) -> str:
        return self.hierarchy.scp_mode(self.role)

    def _now(self) -> float:
        return self.model.clock.now()

    # Lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Installation started the components: the downloader reads the mode, the connector checks."""
        self.active = True
        executive = ensure_executive(self.host)
        if not self._subscribed:
            executive.on_component_started(self.component_started)
            self._subscribed = True
        for component in (DOWNLOADER, CONNECTOR):
            self.component_started(self.host.fqdn, component)

    def stop(self) -> None:
        self.active = False
        self._check_generation += 1
        self._sync_generation += 1

    def _running(self, component: str) -> bool:
        executive = self.host.executive
        return executive is not None and executive.running and executive.component_state(component) == RUNNING

    def component_started(self, fqdn: str, component: str) -> None:
        if not self.active or fqdn != self.ss.server:
            return
        component = component.upper()
        if component in (DOWNLOADER, UPLOADER, CONNECTOR):
            self.hierarchy.components.set(self.ss.site_code, self.ss.server, component, ComponentState.STARTED,
                                          started_at=self._now())
        if component == DOWNLOADER:
            self._downloader_started()
        elif component == CONNECTOR:
            self.connectivity_check()

    # SMS_DMP_DOWNLOADER -------------------------------------------------------------------------
    def _dmp_log(self):
        return ensure_executive(self.host).log(DOWNLOADER, "Dmpdownloader.log")

    def _downloader_started(self) -> None:
        mode = self.configured_mode
        self.effective_mode = mode
        self.host.registry.set_value(DMP_KEY, "OfflineMode", SCP_MODES[mode])     # assumption (see module doc)
        log = self._dmp_log()
        log.write(f"SMS_DMP_DOWNLOADER started. Service connection point mode: {mode}~~")   # wording assumed
        self._sync_generation += 1
        if mode == "Online":
            self.sync()
            self._schedule_sync(self._sync_generation)
        else:
            log.write("The service connection point is in offline mode. Use the service connection tool to "
                      "transfer updates.~~")

    def _schedule_sync(self, generation: int) -> None:
        def run() -> None:
            with self.model.lock:
                if not self.active or generation != self._sync_generation or not self._running(DOWNLOADER):
                    return
                self.sync()
                self._schedule_sync(generation)
        self.model.scheduler.call_later(self.model.configmgr_timing.dmp_sync_interval, run,
                                        f"{self.ss.server}: SMS_DMP_DOWNLOADER sync")

    def sync(self) -> bool:
        """Download the update manifest (online mode), as Dmpdownloader.log tells it (docs/configmgr-behaviour.md#logs)."""
        log = self._dmp_log()
        internet = lab_internet(self.model)
        proxy = site_system_proxy(self.ss)
        tls12 = host_has_tls12(self.host)
        log.write("Hasn't synced recently.")
        if proxy is not None:
            account = self.ss.proxy.account or "the computer account"
            log.write(f"Using proxy server {proxy.server}:{proxy.port} ({account})~~")   # wording assumed
        log.write(f"Easysetup fwlink to download the manifest: {MANIFEST_FWLINK}~~")
        for url, line in ((MANIFEST_FWLINK, None), (CHECK_URL_CONNECTED_SERVICE, f"Redirected to URL {CHECK_URL_CONNECTED_SERVICE}~~"),
                          (MANIFEST_URL, "Download manifest.cab")):
            response = internet.request(url, proxy, tls12)
            if not response.ok:
                log.write(f"WARNING: Failed to download easy setup payload with exception: {response.message}~~", severity=2)
                log.write("Retry in the next polling cycle~~", severity=2)
                self.last_sync = {"ok": False, "error": response.kind, "url": url}
                return False
            if line:
                log.write(line)
        site = self.hierarchy.sites[self.ss.site_code]
        for update in applicable_updates(site.version):
            log.write("Download large file with BITs~~")
            self.hierarchy.updates[update.guid] = {"name": update.name, "full_version": update.full_version,
                                                   "state": DOWNLOAD_SUCCESS, "source": "online"}
            payload = f"{ensure_executive(self.host).install_dir}\\EasySetupPayload\\{update.guid}"
            self.host.fs.make_dirs(payload)
        log.write(f"Generating state message: 0 for package {NULL_PACKAGE}~~")
        log.write("Successfully Dropped the state message 0~~")
        now = int(self._now())
        # docs/configmgr-behaviour.md#sms-executive-threads (Unix epoch seconds)
        self.host.registry.set_value(DMP_KEY, "LastSyncedTime", now)
        self.host.registry.set_value(DMP_KEY, "LastSyncRequestTime", now)
        self.last_sync = {"ok": True}
        return True

    # SMS_SERVICE_CONNECTOR: the endpoint connectivity check ------------------------------------------
    def connectivity_check(self) -> dict:
        self._check_generation += 1
        generation = self._check_generation
        result = self._check()
        self.model.scheduler.call_later(self.model.configmgr_timing.connectivity_check_interval,
                                        lambda: self._scheduled_check(generation),
                                        f"{self.ss.server}: endpoint connectivity check")
        return result

    def _scheduled_check(self, generation: int) -> None:
        with self.model.lock:
            if self.active and generation == self._check_generation and self._running(CONNECTOR):
                self.connectivity_check()

    def _check(self) -> dict:
        log = ensure_executive(self.host).log(CONNECTOR, "EndpointConnectivityCheckWorker.log")
        if self.effective_mode != "Online":
            log.write("The service connection point is in offline mode. Endpoint connectivity check skipped.~~")
            self.last_check = {"skipped": "offline"}
            return self.last_check
        internet = lab_internet(self.model)
        proxy = site_system_proxy(self.ss)
        tls12 = host_has_tls12(self.host)
        endpoints = [e for e in ENDPOINTS if not e.service or e.service in self.hierarchy.cloud_services]
        log.write(f"Starting endpoint connectivity check for {len(endpoints)} endpoints"
                  + (f" through proxy {proxy.server}:{proxy.port}" if proxy else "") + ".~~")
        failed = []
        for e in endpoints:
            response = internet.request(e.url, proxy, tls12)
            if response.ok:
                log.write(f"Endpoint {e.url} is reachable.~~")
            else:
                failed.append((e, response))
                level = "critical" if e.critical or e.service else "non-critical"
                log.write(f"Failed to connect to {level} endpoint {e.url}: {response.message} ({response.kind})~~",
                          severity=3 if level == "critical" else 2)
        critical = [e for e, _ in failed if e.critical or e.service]
        cloud = sorted({e.service for e, _ in failed if e.service})
        if not failed:
            message_ids, severity, status = [MSG_CHECK_OK], SEVERITY_INFORMATION, ComponentStatus.OK
        elif critical:
            message_ids, severity, status = [MSG_CHECK_ERROR], SEVERITY_ERROR, ComponentStatus.CRITICAL
        else:
            message_ids, severity, status = [MSG_CHECK_WARNING], SEVERITY_WARNING, ComponentStatus.WARNING
        site_code, server = self.ss.site_code, self.ss.server
        failed_urls = [e.url for e, _ in failed]
        self.hierarchy.status_messages.raise_message(site_code, server, CONNECTOR, message_ids[0], severity, self._now(),
                                                     failed_urls)
        if cloud:
            # 2002+: required endpoints of a cloud service unreachable → critical 11488 (docs/configmgr-behaviour.md#status-messages).
            message_ids.append(MSG_CLOUD_CRITICAL)
            self.hierarchy.status_messages.raise_message(site_code, server, CONNECTOR, MSG_CLOUD_CRITICAL, SEVERITY_ERROR,
                                                         self._now(), [", ".join(cloud), *failed_urls])
        self.hierarchy.components.set(site_code, server, CONNECTOR, status=status)
        log.write(f"Endpoint connectivity check completed: {len(endpoints)} checked, {len(failed)} failed "
                  f"({len(critical)} critical). Status message {', '.join(map(str, message_ids))}.~~")
        self.last_check = {"message_ids": message_ids,
                           "failed": {e.host: r.kind for e, r in sorted(failed, key=lambda fr: fr[0].host)}}
        return self.last_check

    # State --------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {"site_code": self.ss.site_code, "server": self.ss.server, "active": self.active,
                "configured_mode": self.configured_mode, "effective_mode": self.effective_mode,
                "last_sync": self.last_sync, "last_connectivity_check": self.last_check}


class ScpService:
    """The service connection points of one hierarchy at work: an agent per installed SCP, started and
    stopped by Site Component Manager's role events (it never calls the SCP directly)."""

    def __init__(self, model: ScpEnvironment, hierarchy: Hierarchy, events: RoleEvents) -> None:
        self.model, self.hierarchy = model, hierarchy
        self.agents: dict[tuple[str, str], ScpAgent] = {}
        events.subscribe(self._on_role_event)
        hierarchy.runtime_reports.append(self.to_dict)

    def _on_role_event(self, event: RoleEvent) -> None:
        if event.role.name != ROLE_SCP or event.hierarchy is not self.hierarchy:
            return
        key = (event.site_system.site_code, event.site_system.server)
        if event.kind == INSTALLED:
            agent = self.agents.get(key)
            if agent is None or agent.role is not event.role:
                agent = self.agents[key] = ScpAgent(self.model, self.hierarchy, event.site_system, event.role)
            agent.start()
        elif event.kind == REMOVED:
            agent = self.agents.pop(key, None)
            if agent is not None:
                agent.stop()

    def to_dict(self) -> dict:
        agents = [agent.to_dict() for _, agent in sorted(self.agents.items())]
        return {"scp_runtime": agents} if agents else {}
