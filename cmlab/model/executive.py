"""SMS_EXECUTIVE: the service that runs ConfigMgr component threads on a site system
(docs/configmgr-behaviour.md#sms-executive-threads).

Each thread is a registry key `HKLM\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\<COMPONENT>`
with `Requested Operation` (normally `None`) and `Current State`. Configuration Manager Service
Manager (or anyone writing the registry) sets `Requested Operation` to `Stop` or `Start`; the
executive picks the request up, moves `Current State` (Running → Stopping → Stopped, or Stopped →
Running) and sets `Requested Operation` back to `None`. cmlab does that on the lab's simulated clock,
after a configurable delay (`ExecutiveTiming`).

Restarting the SMS_EXECUTIVE service stops and starts every thread. Whoever needs to react to a (re)start of
a component — the SCP's pending mode change takes effect only when SMS_DMP_DOWNLOADER restarts
(docs/configmgr-behaviour.md#scp-mode) — registers with `on_component_started`; whoever needs to react to
the service itself starting registers with `on_service_started`.

The executive writes no log of its own: components ask it for a log writer (`log()`), made by the
factory it was given (by default `cmlab.model.cmtrace.LogWriter`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from .cmtrace import LogWriter
from .errors import NotFound
from .timing import ExecutiveTiming
from .wellknown import REMOTE_INSTALL_DIR, SETUP_KEY, THREADS_KEY
from .windows import WindowsHost

__all__ = [
    "CURRENT",
    "REQUESTED",
    "RUNNING",
    "SERVICE_NAME",
    "STOPPED",
    "STOPPING",
    "ExecutiveTiming",
    "LogFactory",
    "SmsExecutive",
    "default_dll",
    "ensure_executive",
]

SERVICE_NAME = "SMS_EXECUTIVE"
REQUESTED = "Requested Operation"
CURRENT = "Current State"
RUNNING, STOPPING, STOPPED = "Running", "Stopping", "Stopped"
# SMS_EXECUTIVE's own log, smsexec.log, in the Logs folder of every site server and site system
# (docs/configmgr-behaviour.md#logs); its Tracing key is how a client finds that folder. Wording assumed.
EXECUTIVE_LOG = "smsexec.log"
STARTED_LINE = "SMS_EXECUTIVE started.~~"

ComponentCallback = Callable[[str, str], None]  # (host fqdn, component name)
ServiceCallback = Callable[[str], None]  # (host fqdn)


class ComponentLog(Protocol):
    def write(self, message: str, severity: int = 1, thread: int | None = None, when: Any = None, source_file: str = "") -> str: ...


# (host, log path, component, line format) -> the component's log writer
LogFactory = Callable[[Any, str, str, str], ComponentLog]


def default_dll(component: str) -> str:
    """`\\bin\\x64\\<component>.dll`: SMS_DMP_DOWNLOADER → dmpdownloader.dll
    (docs/configmgr-behaviour.md#sms-executive-threads names it)."""
    stem = re.sub(r"^SMS_", "", component.upper()).replace("_", "").lower()
    return f"\\bin\\x64\\{stem}.dll"


class SmsExecutive:
    """The SMS_EXECUTIVE of one host. Callers hold the lab model's lock (as for every model object)."""

    def __init__(
        self,
        host: WindowsHost,
        timing: ExecutiveTiming | None = None,
        install_dir: str | None = None,
        log_factory: LogFactory | None = None,
    ) -> None:
        self.host = host
        self.timing = timing or ExecutiveTiming()
        self.install_dir = install_dir or REMOTE_INSTALL_DIR
        self.log_factory: LogFactory = log_factory or LogWriter
        self._callbacks: list[ComponentCallback] = []
        self._service_callbacks: list[ServiceCallback] = []
        self._pickup_pending: set[str] = set()
        self._logs: dict[str, ComponentLog] = {}
        host.registry.ensure_key(THREADS_KEY)
        host.registry.watch(THREADS_KEY, self._on_registry_write)
        host.on_service(SERVICE_NAME, self._on_service)
        host.net.service_started("executive")  # the running process's view of SCHANNEL (netsettings)

    # Threads ------------------------------------------------------------------------------
    def _key(self, name: str) -> str:
        return f"{THREADS_KEY}\\{name}"

    def add_component(self, name: str, state: str = RUNNING, dll: str | None = None) -> None:
        """The thread key as Site Component Manager leaves it after installing a component
        (docs/configmgr-behaviour.md#sms-executive-threads)."""
        key = self.host.registry.ensure_key(self._key(name))
        key.set_value(REQUESTED, "None", "String")
        key.set_value(CURRENT, state, "String")
        key.set_value("DLL", dll or default_dll(name), "String")
        key.set_value("Startup Type", "Automatic", "String")

    def remove_component(self, name: str) -> None:
        self._pickup_pending.discard(name.lower())
        self.host.registry.delete_key(self._key(name))

    def component_state(self, name: str) -> str | None:
        value = self.host.registry.get_value(self._key(name), CURRENT)
        return None if value is None else str(value)

    def components(self) -> list[str]:
        threads = self.host.registry.key(THREADS_KEY)
        return [k.name for k in threads.subkeys()] if threads else []

    def on_component_started(self, callback: ComponentCallback) -> None:
        self._callbacks.append(callback)

    def on_service_started(self, callback: ServiceCallback) -> None:
        """`callback(fqdn)` after the SMS_EXECUTIVE service (re)started, before its threads report."""
        self._service_callbacks.append(callback)

    @property
    def running(self) -> bool:
        service = self.host.service(SERVICE_NAME)
        return service is not None and service.status == "Running"

    # Requested Operation (docs/configmgr-behaviour.md#sms-executive-threads: "Stop" / "Start", back to "None" when done) -----------------
    def _on_registry_write(self, hive: str, parts: list[str], name: str) -> None:
        # Only values of a thread key itself: ...\Threads\<COMPONENT>.
        if name.lower() != REQUESTED.lower() or len(parts) != len(THREADS_KEY.split("\\")):
            return
        component = parts[-1]
        if component.lower() in self._pickup_pending:
            return
        self._pickup_pending.add(component.lower())
        self.host.scheduler.call_later(
            self.timing.pickup, lambda: self._pickup(component), f"{self.host.fqdn}: SMS_EXECUTIVE picks up {component}"
        )

    def _pickup(self, component: str) -> None:
        self._pickup_pending.discard(component.lower())
        key = self.host.registry.key(self._key(component))
        if key is None or not self.running:
            return  # a stopped executive reads nothing; service start resets the request
        requested = str(getattr(key.value(REQUESTED), "data", "None")).strip().lower()
        state = str(getattr(key.value(CURRENT), "data", "")).strip()
        if requested == "stop":
            if state == RUNNING:
                key.set_value(CURRENT, STOPPING, "String")
                self.host.scheduler.call_later(self.timing.stop, lambda: self._stopped(component), f"{self.host.fqdn}: {component} stopped")
            elif state != STOPPING:
                key.set_value(REQUESTED, "None", "String")
        elif requested == "start":
            if state == STOPPING:  # finish the stop first, then start
                self._pickup_pending.add(component.lower())
                self.host.scheduler.call_later(
                    self.timing.stop, lambda: self._pickup(component), f"{self.host.fqdn}: SMS_EXECUTIVE picks up {component}"
                )
                return
            key.set_value(REQUESTED, "None", "String")
            if state != RUNNING:
                key.set_value(CURRENT, RUNNING, "String")
                self._started(component)
        # Any other value is left alone: the executive acts on Stop and Start only.

    def _stopped(self, component: str) -> None:
        key = self.host.registry.key(self._key(component))
        if key is None or not self.running:
            return
        key.set_value(CURRENT, STOPPED, "String")
        # A Start written while the thread was stopping stays requested (its pickup is scheduled).
        if str(getattr(key.value(REQUESTED), "data", "")).strip().lower() == "stop":
            key.set_value(REQUESTED, "None", "String")

    def _started(self, component: str) -> None:
        for callback in list(self._callbacks):
            callback(self.host.fqdn, component)

    # The service --------------------------------------------------------------------------
    def _on_service(self, event: str) -> None:
        for component in self.components():
            key = self.host.registry.key(self._key(component))
            if key is None:
                continue
            key.set_value(REQUESTED, "None", "String")
            key.set_value(CURRENT, STOPPED if event == "stopped" else RUNNING, "String")
        self._pickup_pending.clear()
        if event == "started":
            self.host.net.service_started("executive")
            self.log(SERVICE_NAME, EXECUTIVE_LOG).write(STARTED_LINE)
            for callback in list(self._service_callbacks):
                callback(self.host.fqdn)
            for component in self.components():
                self._started(component)

    def service_restarted(self) -> None:
        """SMS_EXECUTIVE restart: every thread stops and starts (callbacks for each)."""
        if self.host.service(SERVICE_NAME) is None:
            raise NotFound(f"Cannot find any service with service name '{SERVICE_NAME}'.")
        self.host.restart_service(SERVICE_NAME)

    # Logs ---------------------------------------------------------------------------------
    @property
    def log_dir(self) -> str:
        """`<InstallDir>\\Logs` (docs/configmgr-behaviour.md#logs): the site server's install dir, `C:\\SMS` elsewhere."""
        return f"{self.install_dir}\\Logs"

    def log_path(self, file_name: str) -> str:
        return f"{self.log_dir}\\{file_name}"

    def log(self, component: str, file_name: str, fmt: str = "simple") -> ComponentLog:
        """The component's log writer, one per component, from the injected factory (the default LogWriter
        registers the component's Tracing key, docs/configmgr-behaviour.md#logs)."""
        writer = self._logs.get(component.lower())
        if writer is None:
            writer = self._logs[component.lower()] = self.log_factory(self.host, self.log_path(file_name), component, fmt)
        return writer


def ensure_executive(host: WindowsHost, timing: ExecutiveTiming | None = None, log_factory: LogFactory | None = None) -> SmsExecutive:
    """SMS_EXECUTIVE on a host that becomes a site system (idempotent): the service, the Threads key, and
    `host.executive`. The install dir is the site server's `Installation Directory`
    (docs/configmgr-behaviour.md#service-connection-tool), else `C:\\SMS`."""
    if host.executive is not None:
        return host.executive
    if host.service(SERVICE_NAME) is None:
        host.add_service(SERVICE_NAME, SERVICE_NAME)
    install_dir = host.registry.get_value(SETUP_KEY, "Installation Directory")
    host.executive = SmsExecutive(
        host, timing or getattr(host, "executive_timing", None), str(install_dir).rstrip("\\") if install_dir else None, log_factory
    )
    host.fs.make_dirs(host.executive.log_dir)
    host.executive.log(SERVICE_NAME, EXECUTIVE_LOG).write(STARTED_LINE)
    return host.executive
