"""The service connection point at work on its server: its components as SMS_EXECUTIVE runs them.

- **SMS_DMP_DOWNLOADER** reads the SCP's mode when it (re)starts: a mode change (`OfflineMode`) takes
  effect only then (docs/configmgr-behaviour.md#scp-mode). It says so in Dmpdownloader.log
  (`SMS_DMP_DOWNLOADER started. Service connection point mode: <mode>~~`) and in the DWORD `OfflineMode`
  under `HKLM\\SOFTWARE\\Microsoft\\SMS\\COMPONENTS\\SMS_DMP_DOWNLOADER` (both assumed). Online, it
  syncs the update manifest when it starts and every 24 hours, with the documented Dmpdownloader.log
  message forms; `LastSyncRequestTime` records each attempt, `LastSyncedTime` each success (Unix
  seconds, docs/configmgr-behaviour.md#sms-executive-threads).
- **SMS_DMP_UPLOADER** uploads usage data when it starts and daily (Dmpuploader.log).
- **SMS_SERVICE_CONNECTOR** checks internet endpoints when it starts and every
  `connectivity_check_interval`: since 2002 the required endpoints of each enabled cloud service
  (a failure raises the critical 11488); since 2010, when tenant attach is enabled, the tenant attach
  endpoints, one EndpointConnectivityCheckWorker.log line each, then 11410 / 11411 / 11412
  (docs/configmgr-behaviour.md#internet-endpoints, #status-messages).

All of them use the proxy of the site system server that hosts the SCP, and TLS as the SMS_EXECUTIVE
process sees it (its .NET settings as of the last boot, SCHANNEL as of its start,
docs/configmgr-behaviour.md#tls-prerequisites).

The console notification asking to restart SMS_EXECUTIVE on the SCP server is raised when Microsoft
changes the configuration of its services (`Internet.configure({"service_configuration_change": true})`)
and cleared when SMS_EXECUTIVE on the SCP server (re)starts (docs/configmgr-behaviour.md#console-notifications);
cmlab keeps it as an `SMS_Alert` (assumption).
"""

from __future__ import annotations

import threading
from typing import Any, Protocol

from .configmgr import ROLE_SCP, SCP_MODES, Hierarchy, Role, SiteSystem
from .events import INSTALLED, REMOVED, RoleEvent, RoleEvents
from .executive import RUNNING, ensure_executive
from .internet import AVAILABLE_UPDATES, ENDPOINTS, MANIFEST_FWLINK, Endpoint, Internet, ProxyUse, client_for, lab_internet
from .status import (
    ALERT_WARNING,
    SEVERITY_ERROR,
    SEVERITY_INFORMATION,
    SEVERITY_WARNING,
    ComponentState,
    ComponentStatus,
)
from .timing import ConfigMgrTiming
from .wellknown import DMP_DOWNLOADER_KEY
from .windows import WindowsHost

__all__ = ["CONNECTOR", "DOWNLOADER", "DOWNLOAD_SUCCESS", "UPLOADER", "ScpAgent", "ScpEnvironment", "ScpService", "lab_internet"]

DOWNLOADER, UPLOADER, CONNECTOR = "SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR"
DMP_KEY = DMP_DOWNLOADER_KEY
# docs/configmgr-behaviour.md#status-messages
MSG_CHECK_OK, MSG_CHECK_WARNING, MSG_CHECK_ERROR, MSG_CLOUD_CRITICAL = 11410, 11411, 11412, 11488
# Builds of 2002 (11488) and 2010 (the endpoint check): the documented "starting in version" of each.
BUILD_2002, BUILD_2010 = 8968, 9040
NULL_PACKAGE = "00000000-0000-0000-0000-000000000000"
DOWNLOAD_SUCCESS = 262146  # update package state (docs/configmgr-behaviour.md#asynchronous-installation)
CHECK_URL_CONNECTED_SERVICE = "https://sccm.manage.microsoft.com/SCCMConnectedService.svc"
MANIFEST_URL = "https://configmgrbits.cdn.manage.microsoft.com/manifest.cab"
UPLOAD_URL = "https://sccmconnected-a01.cloudapp.net/"  # where usage data goes: assumption
# The console notification, as an SMS_Alert: TypeID and wording assumed (docs/simulator-assumptions.md).
RESTART_ALERT_TYPE = 90001
RESTART_ALERT_NAME = (
    "Restart the SMS_EXECUTIVE service on the service connection point server {server}: Microsoft "
    "changed the configuration of the services it connects to."
)
DOWNLOADER_LOG, UPLOADER_LOG, CHECK_LOG = "Dmpdownloader.log", "Dmpuploader.log", "EndpointConnectivityCheckWorker.log"


class ScpEnvironment(Protocol):
    """What the SCP's components need of the lab (cmlab.model.state.LabModel has it)."""

    lock: threading.RLock
    clock: Any  # cmlab.model.clock.SimClock
    scheduler: Any  # cmlab.model.clock.Scheduler
    configmgr_timing: ConfigMgrTiming
    internet: Internet
    hosts: dict[str, WindowsHost]


def site_system_proxy(ss: SiteSystem) -> ProxyUse | None:
    """The proxy the site system server's roles use (docs/configmgr-behaviour.md#site-system-servers);
    authenticated with the proxy account when one is set, else as the computer's System account
    (anonymous to the proxy)."""
    if not ss.proxy.enabled:
        return None
    return ProxyUse(ss.proxy.server, ss.proxy.port, authenticated=bool(ss.proxy.account))


def applicable_updates(site_version: str) -> list:
    current = tuple(int(p) for p in site_version.split("."))
    return [u for u in AVAILABLE_UPDATES if u.version_key > current]


class ScpAgent:
    """One installed SCP. Callers hold the model lock (scheduler jobs take it)."""

    def __init__(self, model: ScpEnvironment, hierarchy: Hierarchy, ss: SiteSystem, role: Role, service: ScpService | None = None) -> None:
        self.model, self.hierarchy, self.ss, self.role, self.service = model, hierarchy, ss, role, service
        self.active = False
        self.effective_mode: str | None = None
        self.last_check: dict | None = None
        self.last_sync: dict | None = None
        self.last_upload: dict | None = None
        self._subscribed = False
        self._generations = {DOWNLOADER: 0, UPLOADER: 0, CONNECTOR: 0}

    @property
    def host(self) -> WindowsHost:
        return self.model.hosts[self.ss.server]

    @property
    def configured_mode(self) -> str:
        return self.hierarchy.scp_mode(self.role)

    @property
    def site(self):
        return self.hierarchy.sites[self.ss.site_code]

    def _now(self) -> float:
        return self.model.clock.now()

    def _log(self, component: str, file_name: str):
        return ensure_executive(self.host).log(component, file_name)

    def _client(self):
        return client_for(self.host, "executive", self._now())

    # Lifecycle --------------------------------------------------------------------------------
    def start(self) -> None:
        """Installation started the components: the downloader reads the mode, the uploader uploads,
        the connector checks."""
        self.active = True
        executive = ensure_executive(self.host)
        if not self._subscribed:
            executive.on_component_started(self.component_started)
            executive.on_service_started(self.executive_started)
            self._subscribed = True
        for component in (DOWNLOADER, UPLOADER, CONNECTOR):
            self.component_started(self.host.fqdn, component)

    def stop(self) -> None:
        self.active = False
        for component in self._generations:
            self._generations[component] += 1

    def _running(self, component: str) -> bool:
        executive = self.host.executive
        return executive is not None and executive.running and executive.component_state(component) == RUNNING

    def executive_started(self, fqdn: str) -> None:
        """SMS_EXECUTIVE on the SCP server (re)started: the console notification is answered."""
        if self.active and fqdn == self.ss.server and self.service is not None:
            self.service.clear_restart_notification(self.ss.server)

    def component_started(self, fqdn: str, component: str) -> None:
        if not self.active or fqdn != self.ss.server:
            return
        component = component.upper()
        if component in (DOWNLOADER, UPLOADER, CONNECTOR):
            self.hierarchy.components.set(self.ss.site_code, self.ss.server, component, ComponentState.STARTED, started_at=self._now())
        if component == DOWNLOADER:
            self._downloader_started()
        elif component == UPLOADER:
            self._uploader_started()
        elif component == CONNECTOR:
            self.connectivity_check()

    def _every(self, component: str, interval: float, work, name: str) -> None:
        """Run `work` now and then every `interval` while `component` runs (a restart starts a new round)."""
        self._generations[component] += 1
        generation = self._generations[component]
        work()

        def again() -> None:
            with self.model.lock:
                if not self.active or generation != self._generations[component] or not self._running(component):
                    return
                work()
                self.model.scheduler.call_later(interval, again, f"{self.ss.server}: {name}")

        self.model.scheduler.call_later(interval, again, f"{self.ss.server}: {name}")

    # SMS_DMP_DOWNLOADER -------------------------------------------------------------------------
    def _downloader_started(self) -> None:
        mode = self.configured_mode
        self.effective_mode = mode
        self.host.registry.set_value(DMP_KEY, "OfflineMode", SCP_MODES[mode])  # assumption (see module doc)
        log = self._log(DOWNLOADER, DOWNLOADER_LOG)
        log.write(f"SMS_DMP_DOWNLOADER started. Service connection point mode: {mode}~~")  # wording assumed
        if mode == "Online":
            self._every(DOWNLOADER, self.model.configmgr_timing.dmp_sync_interval, self.sync, "SMS_DMP_DOWNLOADER sync")
        else:
            self._generations[DOWNLOADER] += 1
            log.write("The service connection point is in offline mode. Use the service connection tool to transfer updates.~~")

    def sync(self) -> bool:
        """Download the update manifest (online mode), as Dmpdownloader.log tells it
        (docs/configmgr-behaviour.md#logs for the message forms)."""
        log = self._log(DOWNLOADER, DOWNLOADER_LOG)
        internet = lab_internet(self.model)
        proxy = site_system_proxy(self.ss)
        client = self._client()
        now = int(self._now())
        self.host.registry.set_value(DMP_KEY, "LastSyncRequestTime", now)
        log.write("Hasn't synced recently.")
        if proxy is not None:
            account = self.ss.proxy.account or "the computer account"
            log.write(f"Using proxy server {proxy.server}:{proxy.port} ({account})~~")  # wording assumed
        log.write(f"Easysetup fwlink to download the manifest: {MANIFEST_FWLINK}~~")
        for url, line in (
            (MANIFEST_FWLINK, None),
            (CHECK_URL_CONNECTED_SERVICE, f"Redirected to URL {CHECK_URL_CONNECTED_SERVICE}~~"),
            (MANIFEST_URL, "Download manifest.cab"),
        ):
            response = internet.request(url, proxy, client)
            if not response.ok:
                log.write(f"WARNING: Failed to download easy setup payload with exception: {response.message}~~", severity=2)
                log.write("Retry in the next polling cycle~~", severity=2)
                self.last_sync = {"ok": False, "error": response.kind, "url": url}
                return False
            if line:
                log.write(line)
        for update in applicable_updates(self.site.version):
            log.write("Download large file with BITs~~")
            self.hierarchy.updates[update.guid] = {
                "name": update.name,
                "full_version": update.full_version,
                "state": DOWNLOAD_SUCCESS,
                "source": "online",
            }
            payload = f"{ensure_executive(self.host).install_dir}\\EasySetupPayload\\{update.guid}"
            self.host.fs.make_dirs(payload)
        log.write(f"Generating state message: 0 for package {NULL_PACKAGE}~~")
        log.write("Successfully Dropped the state message 0~~")
        self.host.registry.set_value(DMP_KEY, "LastSyncedTime", now)  # Unix epoch seconds
        self.last_sync = {"ok": True}
        return True

    # SMS_DMP_UPLOADER ---------------------------------------------------------------------------
    def _uploader_started(self) -> None:
        mode = self.effective_mode or self.configured_mode
        log = self._log(UPLOADER, UPLOADER_LOG)
        log.write(f"SMS_DMP_UPLOADER started. Service connection point mode: {mode}~~")  # wording assumed
        if mode == "Online":
            self._every(UPLOADER, self.model.configmgr_timing.dmp_upload_interval, self.upload, "SMS_DMP_UPLOADER upload")
        else:
            self._generations[UPLOADER] += 1
            log.write("The service connection point is in offline mode. Export usage data with the service connection tool (-prepare).~~")
            self.last_upload = {"skipped": "offline"}

    def upload(self) -> bool:
        """Upload usage data at the hierarchy's level (docs/configmgr-behaviour.md#usage-data-level); wording assumed."""
        log = self._log(UPLOADER, UPLOADER_LOG)
        log.write(f"Uploading usage data (level {self.hierarchy.telemetry_level}) to {UPLOAD_URL}~~")
        response = lab_internet(self.model).request(UPLOAD_URL, site_system_proxy(self.ss), self._client())
        if response.ok:
            log.write("Successfully uploaded usage data.~~")
            self.last_upload = {"ok": True}
            return True
        log.write(f"ERROR: Failed to upload usage data with exception: {response.message}~~", severity=3)
        self.last_upload = {"ok": False, "error": response.kind}
        return False

    # SMS_SERVICE_CONNECTOR: the endpoint connectivity check ------------------------------------------
    def connectivity_check(self) -> None:
        self._every(CONNECTOR, self.model.configmgr_timing.connectivity_check_interval, self._check, "endpoint connectivity check")

    def endpoints_to_check(self) -> tuple[list[Endpoint], list[Endpoint]]:
        """(the 2010 check's endpoints, the enabled cloud services' required endpoints)."""
        services = self.hierarchy.cloud_services
        build = self.site.build_number
        checked = [e for e in ENDPOINTS if e.check] if build >= BUILD_2010 and "tenant_attach" in services else []
        required = [e for e in ENDPOINTS if set(e.services) & services] if build >= BUILD_2002 else []
        return checked, required

    def _check(self) -> dict:
        log = self._log(CONNECTOR, CHECK_LOG)
        if self.effective_mode != "Online":
            log.write("The service connection point is in offline mode. Endpoint connectivity check skipped.~~")
            self.last_check = {"skipped": "offline"}
            return self.last_check
        checked, required = self.endpoints_to_check()
        targets = list(dict.fromkeys([*checked, *required]))
        if not targets:
            log.write("No cloud-connected service needs the endpoint connectivity check. Skipped.~~")
            self.last_check = {"skipped": "no cloud-connected service"}
            return self.last_check
        internet = lab_internet(self.model)
        proxy = site_system_proxy(self.ss)
        client = self._client()
        log.write(
            f"Starting endpoint connectivity check for {len(targets)} endpoints"
            + (f" through proxy {proxy.server}:{proxy.port}" if proxy else "")
            + ".~~"
        )
        results = {}
        for e in targets:
            response = internet.request(e.url, proxy, client)
            results[e] = response
            if response.ok:
                log.write(f"Endpoint {e.url} is reachable.~~")
            else:
                level = "critical" if e.critical or e.services else "non-critical"
                log.write(
                    f"Failed to connect to {level} endpoint {e.url}: {response.message} ({response.kind})~~",
                    severity=3 if level == "critical" else 2,
                )
        site_code, server, now = self.ss.site_code, self.ss.server, self._now()
        messages = self.hierarchy.status_messages
        message_ids: list[int] = []
        failed_checked = [e for e in checked if not results[e].ok]
        critical = [e for e in failed_checked if e.critical]
        status = ComponentStatus.OK
        if checked:
            if not failed_checked:
                message_ids.append(MSG_CHECK_OK)
                messages.raise_message(site_code, server, CONNECTOR, MSG_CHECK_OK, SEVERITY_INFORMATION, now, [str(len(checked))])
            else:
                urls = ", ".join(e.url for e in failed_checked)
                message_id, severity = (MSG_CHECK_ERROR, SEVERITY_ERROR) if critical else (MSG_CHECK_WARNING, SEVERITY_WARNING)
                status = ComponentStatus.CRITICAL if critical else ComponentStatus.WARNING
                message_ids.append(message_id)
                messages.raise_message(
                    site_code, server, CONNECTOR, message_id, severity, now, [str(len(failed_checked)), str(len(checked)), urls]
                )
        failed_required = [e for e in required if not results[e].ok]
        if failed_required:
            services = sorted({s for e in failed_required for s in e.services} & self.hierarchy.cloud_services)
            for e in failed_required:
                log.write(
                    f"Cloud service {', '.join(s for s in e.services if s in services)} cannot reach its required "
                    f"endpoint {e.url}: {results[e].message} ({results[e].kind})~~",
                    severity=3,
                )
            message_ids.append(MSG_CLOUD_CRITICAL)
            status = ComponentStatus.CRITICAL
            messages.raise_message(
                site_code,
                server,
                CONNECTOR,
                MSG_CLOUD_CRITICAL,
                SEVERITY_ERROR,
                now,
                [", ".join(services), ", ".join(e.url for e in failed_required)],
            )
        self.hierarchy.components.set(site_code, server, CONNECTOR, status=status)
        failed = [e for e in targets if not results[e].ok]
        log.write(
            f"Endpoint connectivity check completed: {len(targets)} checked, {len(failed)} failed "
            f"({len({*critical, *failed_required})} critical). Status message "
            f"{', '.join(map(str, message_ids)) or 'none'}.~~"
        )
        self.last_check = {"message_ids": message_ids, "failed": {e.host: results[e].kind for e in sorted(failed, key=lambda e: e.host)}}
        return self.last_check

    # State --------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "site_code": self.ss.site_code,
            "server": self.ss.server,
            "active": self.active,
            "configured_mode": self.configured_mode,
            "effective_mode": self.effective_mode,
            "last_sync": self.last_sync,
            "last_upload": self.last_upload,
            "last_connectivity_check": self.last_check,
        }


class ScpService:
    """The service connection points of one hierarchy at work: an agent per installed SCP, started and
    stopped by Site Component Manager's role events (it never calls the SCP directly), and the console
    notification Microsoft's configuration changes raise."""

    def __init__(self, model: ScpEnvironment, hierarchy: Hierarchy, events: RoleEvents) -> None:
        self.model, self.hierarchy = model, hierarchy
        self.agents: dict[tuple[str, str], ScpAgent] = {}
        events.subscribe(self._on_role_event)
        hierarchy.runtime_reports.append(self.to_dict)
        model.internet.on_config_change(self._service_configuration_changed)

    def _on_role_event(self, event: RoleEvent) -> None:
        if event.role.name != ROLE_SCP or event.hierarchy is not self.hierarchy:
            return
        key = (event.site_system.site_code, event.site_system.server)
        if event.kind == INSTALLED:
            agent = self.agents.get(key)
            if agent is None or agent.role is not event.role:
                agent = self.agents[key] = ScpAgent(self.model, self.hierarchy, event.site_system, event.role, self)
            agent.start()
        elif event.kind == REMOVED:
            agent = self.agents.pop(key, None)
            if agent is not None:
                agent.stop()

    def _service_configuration_changed(self, _count: int) -> None:
        """Microsoft changed its services: every online SCP's server should restart SMS_EXECUTIVE."""
        now = self.model.clock.now()
        for agent in self.agents.values():
            if agent.active and agent.effective_mode == "Online":
                site = self.hierarchy.top_level_site()
                self.hierarchy.alerts.activate(
                    RESTART_ALERT_TYPE,
                    agent.ss.server,
                    RESTART_ALERT_NAME.format(server=agent.ss.server),
                    ALERT_WARNING,
                    site.code if site else agent.ss.site_code,
                    now,
                    [agent.ss.server],
                )

    def clear_restart_notification(self, server: str) -> None:
        self.hierarchy.alerts.cancel(RESTART_ALERT_TYPE, server, self.model.clock.now())

    def to_dict(self) -> dict:
        agents = [agent.to_dict() for _, agent in sorted(self.agents.items())]
        return {"scp_runtime": agents} if agents else {}
