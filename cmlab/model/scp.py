"""The service connection point at work on its server: its components as SMS_EXECUTIVE runs them.

- SMS_DMP_DOWNLOADER reads the SCP's mode when it (re)starts: a mode change (`OfflineMode`) takes
  effect only then (facts §1.3, §4). The effective mode shows in Dmpdownloader.log, in the registry
  value `OfflineMode` under `HKLM\\SOFTWARE\\Microsoft\\SMS\\COMPONENTS\\SMS_DMP_DOWNLOADER` (both
  assumptions) and in the state dump. Online, it downloads the update manifest through the
  simulated internet at start and every 24 hours (facts §4, §7.3 message forms).
- SMS_SERVICE_CONNECTOR checks the internet endpoints (facts §6) when it starts and on a schedule,
  writes EndpointConnectivityCheckWorker.log and raises 11410 / 11411 / 11412 (and 11488 for a
  cloud service whose required endpoints fail).

Both use the proxy of the site system server that hosts the SCP (facts §1.7).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .configmgr import SCP_MODES, Hierarchy, Role, SiteSystem
from .executive import RUNNING, ensure_executive
from .internet import AVAILABLE_UPDATES, ENDPOINTS, MANIFEST_FWLINK, Internet, ProxyUse, host_has_tls12
from .status import SEVERITY_ERROR, SEVERITY_INFORMATION, SEVERITY_WARNING, ComponentState, ComponentStatus

if TYPE_CHECKING:
    from .installer import SiteComponentManager
    from .state import LabModel

DOWNLOADER, UPLOADER, CONNECTOR = "SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR"
DMP_KEY = r"HKLM:\SOFTWARE\Microsoft\SMS\COMPONENTS\SMS_DMP_DOWNLOADER"
MSG_CHECK_OK, MSG_CHECK_WARNING, MSG_CHECK_ERROR, MSG_CLOUD_CRITICAL = 11410, 11411, 11412, 11488   # facts §6
NULL_PACKAGE = "00000000-0000-0000-0000-000000000000"
DOWNLOAD_SUCCESS = 262146                      # update package state (facts §8.1)
CHECK_URL_CONNECTED_SERVICE = "https://sccm.manage.microsoft.com/SCCMConnectedService.svc"
MANIFEST_URL = "https://configmgrbits.cdn.manage.microsoft.com/manifest.cab"


def lab_internet(model: LabModel) -> Internet:
    return model.internet


def site_system_proxy(ss: SiteSystem) -> ProxyUse | None:
    """The proxy the site system server's roles use (facts §1.7); authenticated with the proxy
    account when one is set, else as the computer's System account (anonymous to the proxy)."""
    if not ss.proxy.enabled:
        return None
    return ProxyUse(ss.proxy.server, ss.proxy.port, authenticated=bool(ss.proxy.account))


def applicable_updates(site_version: str) -> list:
    current = tuple(int(p) for p in site_version.split("."))
    return [u for u in AVAILABLE_UPDATES if u.version_key > current]


class ScpAgent:
    """One installed SCP. Callers hold the model lock (scheduler jobs take it)."""

    def __init__(self, model: LabModel, hierarchy: Hierarchy, ss: SiteSystem, role: Role,
                 manager: SiteComponentManager) -> None:
        self.model, self.hierarchy, self.ss, self.role, self.manager = model, hierarchy, ss, role, manager
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
        self.model.scheduler.call_later(self.manager.timing.dmp_sync_interval, run,
                                        f"{self.ss.server}: SMS_DMP_DOWNLOADER sync")

    def sync(self) -> bool:
        """Download the update manifest (online mode), as Dmpdownloader.log tells it (facts §7.3)."""
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
        self.host.registry.set_value(DMP_KEY, "LastSyncedTime", now)          # facts §4 (Unix epoch seconds)
        self.host.registry.set_value(DMP_KEY, "LastSyncRequestTime", now)
        self.last_sync = {"ok": True}
        return True

    # SMS_SERVICE_CONNECTOR: the endpoint connectivity check ------------------------------------------
    def connectivity_check(self) -> dict:
        self._check_generation += 1
        generation = self._check_generation
        result = self._check()
        self.model.scheduler.call_later(self.manager.timing.connectivity_check_interval,
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
            # 2002+: required endpoints of a cloud service unreachable → critical 11488 (facts §6).
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
