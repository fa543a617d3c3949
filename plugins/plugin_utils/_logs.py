# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. ConfigMgr logs of a host: a bounded read there, the parsing here.

Where a log is: ConfigMgr records each component's log in its tracing key,
`HKLM\\SOFTWARE\\Microsoft\\SMS\\Tracing\\<component>` value `TraceFilename` (docs/configmgr-behaviour.md#logs,
#sms-executive-threads); on a remote site system the Logs folder is on whichever drive Site Component
Manager chose, so no path is ever guessed. A log is read from the folder of its component's
`TraceFilename` (the documented SCP logs, sitecomp.log), any other file of the Logs folder from the folder
of SMS_Executive's own log (smsexec.log, which every site server and site system writes), by its exact
file name (`Get-ChildItem -Filter <name>` in that folder: a checked file name is never a path or a pattern).

What is read: the last `max_bytes` bytes of the `.log` and of its rolled-over `.lo_`
(`Get-Content -Encoding Byte -Tail <n>`, which seeks back from the end of the file), so what comes back is
bounded whatever the size of the log. Everything else - decoding, both CMTrace formats, time zone bias,
multi-line records, filters, the JMESPath query - happens on the controller (`_cmtrace`).

All reads of one task are one engine invocation; every step may fail on its own (`on_error: continue`):
a log that does not exist is reported as not found.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, ref

TRACING_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\"
# smsexec.log: "the processing of all site server component threads", on the site server or a site system
# (docs/configmgr-behaviour.md#logs); its folder is the Logs folder of the host.
FOLDER_COMPONENT = "SMS_EXECUTIVE"

# The logs this collection names (docs/configmgr-behaviour.md#logs), by lower-case file name: the file name
# as ConfigMgr writes it, the component whose tracing key locates it (None: the Logs folder), where it is.
NAMED_LOGS = {
    "dmpdownloader.log": ("Dmpdownloader.log", "SMS_DMP_DOWNLOADER", "SCP server: downloads from Microsoft"),
    "dmpuploader.log": ("Dmpuploader.log", "SMS_DMP_UPLOADER", "SCP server: uploads to Microsoft"),
    "endpointconnectivitycheckworker.log": (
        "EndpointConnectivityCheckWorker.log",
        "SMS_SERVICE_CONNECTOR",
        "SCP server: the SCP's own internet endpoint checks",
    ),
    "sitecomp.log": ("sitecomp.log", "SMS_SITE_COMPONENT_MANAGER", "site server: installation of site system roles"),
    "srvboot.log": ("SrvBoot.log", None, "site system: the role installer service"),
    "cmgatewaysyncuploadworker.log": ("CMGatewaySyncUploadWorker.log", None, "SCP server: tenant attach uploads"),
    "cmgatewaynotificationworker.log": ("CMGatewayNotificationWorker.log", None, "SCP server: tenant attach notifications"),
}

FILE_SELECT = {"Name": None, "FullName": None, "Length": None, "LastWriteTime": None}
DEFAULT_MAX_BYTES = 65536
MAX_MAX_BYTES = 1048576


def rolled_name(name: str) -> str:
    """Dmpdownloader.log -> Dmpdownloader.lo_ (docs/configmgr-behaviour.md#logs)."""
    return name[:-1] + "_"


@dataclass(frozen=True)
class LogRead:
    """One log to read: its file name and the component whose tracing key gives its folder."""

    name: str
    component: str

    @classmethod
    def of(cls, name: str) -> LogRead:
        named = NAMED_LOGS.get(name.lower())
        if named:
            return cls(named[0], named[1] or FOLDER_COMPONENT)
        return cls(name, FOLDER_COMPONENT)


def _anchor_id(component: str) -> str:
    return "dir_" + re.sub(r"[^A-Za-z0-9_]", "_", component).lower()


def read_plan(logs: list[LogRead], max_bytes: int, rollover: bool = True, plan: Plan | None = None, prefix: str = "") -> Plan:
    """Per component: its tracing key and its log file (for the folder); per log: the file, its last
    `max_bytes` bytes, and the same for its `.lo_`. Step ids: `<prefix>log_<i>`, `<prefix>bytes_<i>`,
    `<prefix>rolled_<i>`, `<prefix>rolled_bytes_<i>`."""
    plan = plan if plan is not None else Plan()
    anchors: dict[str, str] = {}
    for index, log in enumerate(logs):
        anchor = anchors.get(log.component)
        if anchor is None:
            anchor = anchors[log.component] = prefix + _anchor_id(log.component)
            trace = prefix + "trace_" + anchor[len(prefix) + 4 :]
            plan.add(
                trace, "Get-ItemProperty", {"LiteralPath": TRACING_KEY + log.component}, select={"TraceFilename": None}, on_error="continue"
            )
            # Get-ChildItem of a file is the file itself: its DirectoryName is the folder.
            plan.add(
                anchor,
                "Get-ChildItem",
                {"LiteralPath": ref(trace, "TraceFilename")},
                select={"FullName": None, "DirectoryName": None},
                on_error="continue",
            )
        files = [(f"{prefix}log_{index}", f"{prefix}bytes_{index}", log.name)]
        if rollover:
            files.append((f"{prefix}rolled_{index}", f"{prefix}rolled_bytes_{index}", rolled_name(log.name)))
        for file_step, bytes_step, file_name in files:
            plan.add(
                file_step,
                "Get-ChildItem",
                {"LiteralPath": ref(anchor, "DirectoryName"), "Filter": file_name},
                select=FILE_SELECT,
                on_error="continue",
            )
            plan.add(
                bytes_step,
                "Get-Content",
                {"LiteralPath": ref(file_step, "FullName"), "Encoding": "Byte", "Tail": max_bytes},
                on_error="continue",
            )
    return plan


# -- what came back ------------------------------------------------------------------------------------


@dataclass
class FileRead:
    name: str
    path: str | None = None
    size: int | None = None
    last_write: str | None = None
    data: bytes = b""

    @property
    def found(self) -> bool:
        return self.path is not None

    @property
    def complete(self) -> bool:
        """The whole file was read (the read did not start in the middle of it)."""
        return self.size is not None and len(self.data) >= self.size

    def text(self) -> str:
        return decode_tail(self.data, self.complete)

    def to_dict(self) -> dict:
        return (
            {
                "path": self.path,
                "size": self.size,
                "last_write_time": self.last_write,
                "bytes_read": len(self.data),
                "complete": self.complete,
            }
            if self.found
            else None
        )


@dataclass
class LogResult:
    name: str
    component: str
    folder: str | None
    log: FileRead
    rolled: FileRead | None
    problem: str | None = None
    entries: list = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "found": self.log.found,
            "folder": self.folder,
            "tracing_component": self.component,
            "file": self.log.to_dict(),
            "rolled_over": self.rolled.to_dict() if self.rolled else None,
            "problem": self.problem,
            "entries_read": len(self.entries),
        }


def decode_tail(data: bytes, complete: bool) -> str:
    """Bytes of a log (or the end of one) to text. A tail of a UTF-16 log (no BOM in it) may start on the
    second byte of a character: realigned on the NUL pattern of the text."""
    if not complete and len(data) >= 8 and not data.startswith((b"\xff\xfe", b"\xfe\xff", b"\xef\xbb\xbf")):
        sample = data[:4096]
        odd, even = sample[1::2].count(0), sample[0::2].count(0)
        if even > len(sample) // 4 and odd < len(sample) // 8:
            data = data[1:]  # UTF-16 LE, read from an odd offset
    return _cmtrace.decode(bytes(data))


def _file(result: PlanResult, file_step: str, bytes_step: str, name: str, folder: str | None) -> FileRead:
    read = FileRead(name)
    for raw in result.output(file_step):
        # Only the file asked for, in the folder asked for (defence in depth: a filter never matches more).
        if (
            isinstance(raw, dict)
            and str(raw.get("Name") or "").lower() == name.lower()
            and (folder is None or str(raw.get("FullName") or "").lower() == f"{folder}\\{name}".lower())
        ):
            read.path, read.last_write = str(raw.get("FullName")), raw.get("LastWriteTime")
            try:
                read.size = int(raw.get("Length"))
            except (TypeError, ValueError):
                read.size = None
            break
    if read.found:
        read.data = bytes(b & 0xFF for b in result.output(bytes_step) if isinstance(b, int) and not isinstance(b, bool))
    return read


def parse(result: PlanResult, logs: list[LogRead], rollover: bool = True, prefix: str = "") -> list[LogResult]:
    """The logs as read, each with its entries (rolled-over file first, as ConfigMgr wrote them)."""
    out = []
    for index, log in enumerate(logs):
        anchor = prefix + _anchor_id(log.component)
        trace_step = result.steps.get(prefix + "trace_" + anchor[len(prefix) + 4 :])
        folder_rows = [r for r in result.output(anchor) if isinstance(r, dict) and r.get("DirectoryName")]
        folder = str(folder_rows[0]["DirectoryName"]).rstrip("\\") if folder_rows else None
        problem = None
        if folder is None:
            if trace_step is None or not trace_step.ok or not trace_step.output:
                problem = (
                    f"ConfigMgr records no log for {log.component} on this host (no {TRACING_KEY}{log.component} "
                    f"TraceFilename): the component is not installed here."
                )
            else:
                problem = (
                    f"The log {log.component} records ({trace_step.output[0].get('TraceFilename')}) does not exist, "
                    f"so its folder is unknown."
                )
        main = _file(result, f"{prefix}log_{index}", f"{prefix}bytes_{index}", log.name, folder)
        rolled = (
            _file(result, f"{prefix}rolled_{index}", f"{prefix}rolled_bytes_{index}", rolled_name(log.name), folder) if rollover else None
        )
        if folder is not None and not main.found and not (rolled and rolled.found):
            problem = f"{log.name} is not in {folder}."
        item = LogResult(log.name, log.component, folder, main, rolled, problem)
        for part in ([rolled] if rolled is not None and rolled.found else []) + ([main] if main.found else []):
            item.entries.extend(_cmtrace.parse(part.text(), source=part.path or part.name, skip_partial_first_line=not part.complete))
        out.append(item)
    return out


@dataclass(frozen=True)
class Filters:
    component: tuple[str, ...] = ()
    min_severity: str | None = None
    since: datetime.datetime | None = None
    regex: re.Pattern | None = None


def select(logs: list[LogResult], filters: Filters) -> list:
    """Every entry of the logs that passes the filters, in time order where the times are known
    (the order of the files otherwise)."""
    entries = [e for log in logs for e in log.entries]
    chosen = _cmtrace.select(
        entries, component=list(filters.component) or None, min_severity=filters.min_severity, since=filters.since, regex=filters.regex
    )
    if len(logs) > 1:  # several logs: one timeline (a stable sort keeps file order for equal or unknown times)
        chosen.sort(key=lambda e: e.time or "")
    return chosen
