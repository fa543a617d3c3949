"""SMS_EXECUTIVE: the service that runs ConfigMgr component threads on a site system (facts §4).

Each thread is a registry key `HKLM\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\<COMPONENT>`
with `Requested Operation` (normally `None`) and `Current State`. Configuration Manager Service
Manager (or anyone writing the registry) sets `Requested Operation` to `Stop` or `Start`; the
executive picks the request up, moves `Current State` (Running → Stopping → Stopped, or Stopped →
Running) and sets `Requested Operation` back to `None`. cmlab does that on the lab's simulated clock,
after a configurable delay (`ExecutiveTiming`).

Restarting the SMS_EXECUTIVE service stops and starts every thread. Whoever needs to react to a
(re)start of a component — the SCP's pending mode change takes effect only when SMS_DMP_DOWNLOADER
restarts (facts §1.3, §4) — registers with `on_component_started`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import NotFound

if TYPE_CHECKING:
    from .cmtrace import LogWriter
    from .windows import WindowsHost

SERVICE_NAME = "SMS_EXECUTIVE"
SMS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS"
THREADS_KEY = SMS_KEY + "\\Components\\SMS_EXECUTIVE\\Threads"
SETUP_KEY = SMS_KEY + "\\Setup"
# A remote site system keeps its ConfigMgr files on the first suitable NTFS drive (facts §7.2,
# third-party): cmlab always uses C:.
REMOTE_INSTALL_DIR = "C:\\SMS"

REQUESTED = "Requested Operation"
CURRENT = "Current State"
RUNNING, STOPPING, STOPPED = "Running", "Stopping", "Stopped"

ComponentCallback = Callable[[str, str], None]    # (host fqdn, component name)


@dataclass
class ExecutiveTiming:
    """Simulated seconds. `pickup`: from a `Requested Operation` write until the executive acts on
    it; `stop`: how long a thread stays `Stopping`."""

    pickup: float = 2.0
    stop: float = 1.0


def default_dll(component: str) -> str:
    """`\\bin\\x64\\<component>.dll` (facts §4): SMS_DMP_DOWNLOADER → dmpdownloader.dll (facts §4 names it)."""
    stem = re.sub(r"^SMS_", "", component.upper()).replace("_", "").lower()
    return f"\\bin\\x64\\{stem}.dll"


class SmsExecutive:
    """The SMS_EXECUTIVE of one host. Callers hold the lab model's lock (as for every model object)."""

    def __init__(self, host: WindowsHost, timing: ExecutiveTiming | None = None,
                 install_dir: str | None = None) -> None:
        self.host = host
        self.timing = timing or ExecutiveTiming()
        self.install_dir = install_dir or REMOTE_INSTALL_DIR
        self._callbacks: list[ComponentCallback] = []
        self._pickup_pending: set[str] = set()
        self._logs: dict[str, LogWriter] = {}
        host.registry.ensure_key(THREADS_KEY)
        host.registry.watch(THREADS_KEY, self._on_registry_write)
        host.on_service(SERVICE_NAME, self._on_service)

    # Threads ------------------------------------------------------------------------------
    def _key(self, name: str) -> str:
        return f"{THREADS_KEY}\\{name}"

    def add_component(self, name: str, state: str = RUNNING, dll: str | None = None) -> None:
        """The thread key as Site Component Manager leaves it after installing a component (facts §4)."""
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

    @property
    def running(self) -> bool:
        service = self.host.service(SERVICE_NAME)
        return service is not None and service.status == "Running"

    # Requested Operation (facts §4: "Stop" / "Start", back to "None" when done) -----------------
    def _on_registry_write(self, hive: str, parts: list[str], name: str) -> None:
        # Only values of a thread key itself: ...\Threads\<COMPONENT>.
        if name.lower() != REQUESTED.lower() or len(parts) != len(THREADS_KEY.split("\\")):
            return
        component = parts[-1]
        if component.lower() in self._pickup_pending:
            return
        self._pickup_pending.add(component.lower())
        self.host.scheduler.call_later(self.timing.pickup, lambda: self._pickup(component),
                                       f"{self.host.fqdn}: SMS_EXECUTIVE picks up {component}")

    def _pickup(self, component: str) -> None:
        self._pickup_pending.discard(component.lower())
        key = self.host.registry.key(self._key(component))
        if key is None or not self.running:
            return      # a stopped executive reads nothing; service start resets the request
        requested = str(getattr(key.value(REQUESTED), "data", "None")).strip().lower()
        state = str(getattr(key.value(CURRENT), "data", "")).strip()
        if requested == "stop":
            if state == RUNNING:
                key.set_value(CURRENT, STOPPING, "String")
                self.host.scheduler.call_later(self.timing.stop, lambda: self._stopped(component),
                                               f"{self.host.fqdn}: {component} stopped")
            elif state != STOPPING:
                key.set_value(REQUESTED, "None", "String")
        elif requested == "start":
            if state == STOPPING:       # finish the stop first, then start
                self._pickup_pending.add(component.lower())
                self.host.scheduler.call_later(self.timing.stop, lambda: self._pickup(component),
                                               f"{self.host.fqdn}: SMS_EXECUTIVE picks up {component}")
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
        """`<InstallDir>\\Logs` (facts §7.2): the site server's install dir, `C:\\SMS` elsewhere."""
        return f"{self.install_dir}\\Logs"

    def log_path(self, file_name: str) -> str:
        return f"{self.log_dir}\\{file_name}"

    def log(self, component: str, file_name: str, fmt: str = "simple") -> LogWriter:
        """The component's log writer (one per component; registers its Tracing key, facts §4)."""
        from .cmtrace import LogWriter

        writer = self._logs.get(component.lower())
        if writer is None:
            writer = self._logs[component.lower()] = LogWriter(self.host, self.log_path(file_name), component, fmt)
        return writer


def ensure_executive(host: WindowsHost, timing: ExecutiveTiming | None = None) -> SmsExecutive:
    """SMS_EXECUTIVE on a host that becomes a site system (idempotent): the service, the Threads key,
    and `host.executive`. The install dir is the site server's `Installation Directory` (facts §5),
    else `C:\\SMS`."""
    if host.executive is not None:
        return host.executive
    if host.service(SERVICE_NAME) is None:
        host.add_service(SERVICE_NAME, SERVICE_NAME)
    install_dir = host.registry.get_value(SETUP_KEY, "Installation Directory")
    host.executive = SmsExecutive(host, timing or getattr(host, "executive_timing", None),
                                  str(install_dir).rstrip("\\") if install_dir else None)
    host.fs.make_dirs(host.executive.log_dir)
    return host.executive


# The Service Connection Tool folder on a site server (facts §5). The facts name only the
# executable ("All of these files must be in the same folder"); the other names are placeholders.
SCT_DIR = "CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool"
SCT_FILES = ("ServiceConnectionTool.exe", "ServiceConnectionTool.exe.config")


def install_site_server_files(host: WindowsHost, install_dir: str) -> None:
    """What setup leaves in `<InstallDir>` that cmlab needs: bin\\x64, Logs, and CD.Latest with the
    Service Connection Tool folder (facts §5, §7.2)."""
    root = install_dir.rstrip("\\")
    host.fs.make_dirs(f"{root}\\bin\\x64")
    host.fs.make_dirs(f"{root}\\Logs")
    for name in SCT_FILES:
        host.fs.write_text(f"{root}\\{SCT_DIR}\\{name}", "")
