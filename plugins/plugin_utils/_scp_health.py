# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Whether the service connection point works: read, then judged in Python.

Two reads, each one engine invocation:

- on the SMS Provider (added to the placement read of service_connection_point_info): the SCP components'
  status (`SMS_ComponentSummarizer`), the SCP's connectivity messages 11410/11411/11412 and 11488
  (`SMS_StatMsgWithInsStrings`), and the active alerts (`SMS_Alert`, where this collection looks for the
  "restart SMS_EXECUTIVE" console notification - an assumption: docs/configmgr-behaviour.md#console-notifications
  says Microsoft does not document where the site keeps it);
- on the SCP server (through `_remote.RemoteHost`, as `delegate_to` would): SMS_DMP_DOWNLOADER's registry
  values (`OfflineMode`, `LastSyncedTime`, `LastSyncRequestTime`), the end of Dmpdownloader.log and of
  EndpointConnectivityCheckWorker.log (found through the downloader's Tracing key, `_logs`), and the TLS
  settings .NET and SCHANNEL use (docs/configmgr-behaviour.md#tls-prerequisites).

`derive()` is pure: the SCP is healthy when SMS_SERVICE_CONNECTOR is OK, its last connectivity check passed
(11410, and no 11488 after it), the last manifest sync succeeded (online mode), the mode SMS_DMP_DOWNLOADER
runs in is the configured one, and no console notification asks for an SMS_EXECUTIVE restart.

The mode the downloader runs in (docs/configmgr-behaviour.md#scp-mode: a mode change takes effect when
SMS_DMP_DOWNLOADER restarts) is read from what the SCP server shows, never remembered: the last
"SMS_DMP_DOWNLOADER started. Service connection point mode: <mode>" line of Dmpdownloader.log, else the
downloader's `OfflineMode` value. `effective_mode()` is what service_connection_point uses to report a lost
restart on a rerun.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace, _logs, _status
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value, ref

COMPONENTS = ("SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR")
DOWNLOADER = "SMS_DMP_DOWNLOADER"
# docs/configmgr-behaviour.md#sms-executive-threads: the downloader's own values on the SCP server.
DMP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\COMPONENTS\\SMS_DMP_DOWNLOADER"
DMP_SELECT = {"OfflineMode": None, "LastSyncedTime": None, "LastSyncRequestTime": None}
# docs/configmgr-behaviour.md#tls-prerequisites
DOTNET_KEYS = {
    "dotnet_64bit": "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
    "dotnet_32bit": "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
}
DOTNET_SELECT = {"SchUseStrongCrypto": None, "SystemDefaultTlsVersions": None}
SCHANNEL_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client"
SCHANNEL_SELECT = {"Enabled": None, "DisabledByDefault": None}
ALERT_SELECT = {
    "ID": None,
    "Name": None,
    "TypeID": None,
    "TypeInstanceID": None,
    "AlertState": None,
    "Severity": None,
    "DateAlertStateModified": None,
}

DOWNLOADER_LOG = "Dmpdownloader.log"
CHECK_LOG = "EndpointConnectivityCheckWorker.log"
TRACING_KEY = _logs.TRACING_KEY + DOWNLOADER
LOG_BYTES = 16384
MESSAGE_WINDOW = datetime.timedelta(days=7)
# The registry values health reads, in one Get-ItemProperty: each key as a wildcard path whose last character
# is `?`, so a key that does not exist (the SCHANNEL key, absent by default; the downloader's key before the
# role runs) matches nothing instead of failing the read. Each object's PSPath says which key it is, compared
# exactly (a sibling key matching the `?` is ignored).
REGISTRY_PATHS = {"dmp": DMP_KEY, **DOTNET_KEYS, "schannel": SCHANNEL_KEY}
REGISTRY_SELECT = {"PSPath": None, **DMP_SELECT, **DOTNET_SELECT, **SCHANNEL_SELECT}


def _one_key(path: str) -> str:
    return f"{path[:-1]}?"


# Log lines (wording of the SCP's logs as the lab writes them; docs/simulator-assumptions.md).
_STARTED = re.compile(r"SMS_DMP_DOWNLOADER started\. Service connection point mode: (Online|Offline)", re.IGNORECASE)
_CHECK_START = re.compile(r"^Starting endpoint connectivity check", re.IGNORECASE)
_CHECK_SKIPPED = re.compile(r"connectivity check[^.]*\.?\s*Skipped|check skipped", re.IGNORECASE)
_ENDPOINT_FAILED = re.compile(
    r"(?:Failed to connect to (?P<level>critical|non-critical) endpoint|Cloud service (?P<service>.+?) cannot reach its "
    r"required endpoint) (?P<url>\S+?): (?P<message>.*) \((?P<klass>[A-Za-z0-9_]+)\)(?:~~)?$"
)
_SYNC_FAILED = re.compile(r"Failed to download .*? with exception: (?P<message>.*?)(?:~~)?$", re.IGNORECASE)
# What a user should read when the SCP is not healthy: failures and the check's summary.
_RELEVANT = re.compile(r"fail|error|exception|cannot|retry|connectivity check completed|started\. Service connection", re.IGNORECASE)


# -- plans ---------------------------------------------------------------------------------------------


def provider_plan(plan: Plan, now: datetime.datetime | None = None) -> Plan:
    """Append the provider's health facts to a read plan (same invocation): three CIM queries, or two when the plan
    already reads the SCP components' summary (the wait's status_plan reads a superset of them: summary_rows)."""
    since = (now or datetime.datetime.now(datetime.timezone.utc)) - MESSAGE_WINDOW
    if not any(step.id == "components" for step in plan.steps):
        _status.summary_step(plan, COMPONENTS, step_id="health_summary")
    _status.messages_step(
        plan, _status.Query(component=_status.CONNECTOR, since=since, message_ids=_status.SCP_MESSAGES), step_id="health_messages"
    )
    plan.add(
        "health_alerts",
        "Get-CimInstance",
        {"Namespace": provider_value("namespace"), "ClassName": "SMS_Alert", "Filter": "AlertState = 0"},
        select=ALERT_SELECT,
    )
    return plan


def summary_rows(provider: PlanResult) -> list:
    """The SCP components' summary rows: provider_plan's own step, or those of the status_plan step it reused."""
    if "health_summary" in provider.steps:
        return _status.parse_summary(provider.output("health_summary"))
    return [r for r in _status.parse_summary(provider.output("components")) if r.component in COMPONENTS]


def _downloader_log(plan: Plan, max_bytes: int) -> None:
    """The end of Dmpdownloader.log, found through the downloader's Tracing key (docs/configmgr-behaviour.md#logs)."""
    plan.add("dl_trace", "Get-ItemProperty", {"LiteralPath": TRACING_KEY}, select={"TraceFilename": None}, on_error="continue")
    plan.add(
        "dl_bytes",
        "Get-Content",
        {"LiteralPath": ref("dl_trace", "TraceFilename"), "Encoding": "Byte", "Tail": max_bytes},
        on_error="continue",
    )


def downloader_plan(max_bytes: int = LOG_BYTES) -> Plan:
    """What the SCP server shows about SMS_DMP_DOWNLOADER - its values and the end of its log: three steps."""
    plan = Plan()
    plan.add("registry", "Get-ItemProperty", {"Path": [_one_key(DMP_KEY)]}, select=REGISTRY_SELECT, on_error="continue")
    _downloader_log(plan, max_bytes)
    return plan


def server_plan(max_bytes: int = LOG_BYTES) -> Plan:
    """Everything health needs from the SCP server, in one invocation of six steps: the registry values, the
    end of Dmpdownloader.log, and the end of EndpointConnectivityCheckWorker.log from the same Logs folder."""
    plan = Plan()
    plan.add(
        "registry",
        "Get-ItemProperty",
        {"Path": [_one_key(p) for p in REGISTRY_PATHS.values()]},
        select=REGISTRY_SELECT,
        on_error="continue",
    )
    _downloader_log(plan, max_bytes)
    plan.add(
        "dl_dir", "Get-ChildItem", {"LiteralPath": ref("dl_trace", "TraceFilename")}, select={"DirectoryName": None}, on_error="continue"
    )
    plan.add(
        "check_file",
        "Get-ChildItem",
        {"LiteralPath": ref("dl_dir", "DirectoryName"), "Filter": CHECK_LOG},
        select={"FullName": None, "Name": None},
        on_error="continue",
    )
    plan.add(
        "check_bytes",
        "Get-Content",
        {"LiteralPath": ref("check_file", "FullName"), "Encoding": "Byte", "Tail": max_bytes},
        on_error="continue",
    )
    return plan


# -- what the SCP server shows -------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _unix(value) -> str | None:
    seconds = _int(value)
    if seconds is None:
        return None
    return datetime.datetime.fromtimestamp(seconds, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def registry_values(result: PlanResult) -> dict[str, dict]:
    """The values read, by key ("dmp", "dotnet_64bit", "dotnet_32bit", "schannel"), from each object's PSPath."""
    out: dict[str, dict] = {}
    for raw in result.output("registry"):
        if not isinstance(raw, dict):
            continue
        path = str(raw.get("PSPath") or "").split("::", 1)[-1].lower()
        for name, key in REGISTRY_PATHS.items():
            if path == "hkey_local_machine" + key[5:].lower():
                out[name] = raw
    return out


def log_entries(result: PlanResult, step: str, name: str, max_bytes: int = LOG_BYTES) -> list:
    """The entries of a tail read (`Get-Content -Encoding Byte -Tail n`): fewer bytes than asked is the whole file,
    else the read started inside the file and its first line is a fragment."""
    data = bytes(b & 0xFF for b in result.output(step) if isinstance(b, int) and not isinstance(b, bool))
    complete = len(data) < max_bytes
    return _cmtrace.parse(_logs.decode_tail(data, complete), source=name, skip_partial_first_line=not complete)


@dataclass
class ServerFacts:
    """What one read of the SCP server returned, in the terms health uses."""

    readable: bool = False
    dmp: dict | None = None
    downloader_entries: list = field(default_factory=list)
    check_entries: list = field(default_factory=list)
    tls: dict | None = None

    @classmethod
    def of(cls, result: PlanResult, full: bool = True, max_bytes: int = LOG_BYTES) -> ServerFacts:
        values = registry_values(result)
        check = log_entries(result, "check_bytes", CHECK_LOG, max_bytes) if full else []
        return cls(
            True, values.get("dmp"), log_entries(result, "dl_bytes", DOWNLOADER_LOG, max_bytes), check, tls_facts(values) if full else None
        )


def effective_mode(facts: ServerFacts) -> tuple[str | None, str | None, str | None]:
    """(mode, where it was read, when the downloader started) - the mode SMS_DMP_DOWNLOADER runs in: the last
    "started" line of its log, else its OfflineMode value; (None, None, None) when neither is there (not
    installed yet, or the SCP server could not be read)."""
    for entry in reversed(facts.downloader_entries):
        found = _STARTED.search(entry.message or "")
        if found:
            return found.group(1).lower(), DOWNLOADER_LOG, entry.time
    value = _int((facts.dmp or {}).get("OfflineMode"))
    if value in (0, 1):
        return ("offline" if value == 1 else "online"), "registry OfflineMode", None
    return None, None, None


def last_sync(facts: ServerFacts) -> dict:
    """The last manifest sync: LastSyncRequestTime (each attempt) and LastSyncedTime (each success), and the
    error the downloader logged for a failed attempt."""
    dmp = facts.dmp or {}
    attempt, success = _int(dmp.get("LastSyncRequestTime")), _int(dmp.get("LastSyncedTime"))
    ok = None if attempt is None and success is None else bool(success is not None and (attempt is None or success >= attempt))
    error = None
    if ok is False:
        for entry in reversed(facts.downloader_entries):
            failed = _SYNC_FAILED.search(entry.message or "")
            if failed:
                error = failed.group("message").strip()
                break
    return {"ok": ok, "last_attempt": _unix(attempt), "last_success": _unix(success), "error": error}


def last_check(entries: list) -> dict:
    """The SCP's own last endpoint check as EndpointConnectivityCheckWorker.log tells it: each failed endpoint
    with its failure class, or that the check was skipped."""
    start = max((i for i, e in enumerate(entries) if _CHECK_START.search(e.message or "")), default=None)
    skipped = [e for e in entries[start or 0 :] if _CHECK_SKIPPED.search(e.message or "")]
    if start is None:
        if skipped:
            return {"ran": False, "time": skipped[-1].time, "skipped": skipped[-1].message.rstrip("~"), "endpoints": []}
        return {"ran": None, "time": None, "skipped": None, "endpoints": []}
    endpoints = []
    for entry in entries[start:]:
        failed = _ENDPOINT_FAILED.search((entry.message or "").strip())
        if failed:
            endpoints.append(
                {
                    "url": failed.group("url"),
                    "class": failed.group("klass"),
                    "message": failed.group("message"),
                    "critical": failed.group("level") != "non-critical",
                    "cloud_service": failed.group("service"),
                }
            )
    return {"ran": True, "time": entries[start].time, "skipped": None, "endpoints": endpoints}


def tls_facts(values: dict[str, dict]) -> dict:
    """.NET strong crypto in both registry views and SCHANNEL's TLS 1.2 client setting
    (docs/configmgr-behaviour.md#tls-prerequisites), as found."""
    out: dict = {}
    for view in DOTNET_KEYS:
        found = values.get(view) or {}
        out[view] = {name: _int(found.get(name)) for name in DOTNET_SELECT}
    out["dotnet_strong_crypto"] = all(v == 1 for view in DOTNET_KEYS for v in out[view].values())
    schannel = values.get("schannel") or {}
    enabled, disabled = _int(schannel.get("Enabled")), _int(schannel.get("DisabledByDefault"))
    out["schannel_tls12_client"] = {"Enabled": enabled, "DisabledByDefault": disabled}
    # Absent values: the system default (on); Enabled 0 or DisabledByDefault set: not for the SCP.
    out["schannel_tls12_usable"] = enabled != 0 and not disabled
    return out


# -- judging ---------------------------------------------------------------------------------------------


def _message(m: _status.Message | None) -> dict | None:
    return None if m is None else m.to_dict()


def _newer(a: _status.Message | None, b: _status.Message | None) -> bool:
    """a was raised after b (time, then RecordID: one check raises 11412 and then 11488)."""
    if a is None:
        return False
    if b is None:
        return True
    return (a.time or "", a.record_id or 0) > (b.time or "", b.record_id or 0)


def restart_alert(alerts: list, server: str) -> dict | None:
    """The active alert that asks for an SMS_EXECUTIVE restart on the SCP server, if any (assumption: an SMS_Alert
    whose TypeInstanceID is the server and whose name asks to restart SMS_EXECUTIVE)."""
    for raw in alerts:
        if not isinstance(raw, dict) or _int(raw.get("AlertState")) not in (0, None):
            continue
        name = str(raw.get("Name") or "")
        if str(raw.get("TypeInstanceID") or "").lower() == server.lower() and "sms_executive" in name.lower():
            return {"name": name, "since": _status.utc_text(raw.get("DateAlertStateModified")), "type_id": _int(raw.get("TypeID"))}
    return None


def derive(
    *,
    server: str,
    site_code: str,
    configured_mode: str | None,
    placement_ok: bool,
    provider: PlanResult,
    facts: ServerFacts | None,
    scp_host: str | None,
) -> dict:
    """Pure: the health of the SCP on `server` from the provider's read and the SCP server's (None when it
    could not be read)."""
    problems: list[str] = []
    unreadable: list[str] = []
    rows = [r for r in summary_rows(provider) if r.machine == server]
    connector = next((r for r in rows if r.component == _status.CONNECTOR), None)
    status = connector.status if connector else None
    messages = [m for m in _status.parse_messages(provider.output("health_messages")) if m.machine == server]
    check = _status.latest(messages, _status.CHECK_MESSAGES)
    cloud = _status.latest(messages, (_status.CLOUD_SERVICE_CRITICAL,))
    alert = restart_alert(provider.output("health_alerts"), server)

    if not placement_ok:
        problems.append("The placement is wrong: a hierarchy needs exactly one SCP, at its top-level site.")
    not_started = [r.component for r in rows if r.state != "started"]
    missing = [c for c in COMPONENTS if c not in {r.component for r in rows}]
    if missing or not_started:
        problems.append(
            f"SCP components not running on {server}: {', '.join(sorted(set(missing + not_started)))} "
            f"(the role may still be installing; sitecomp.log on the site server tells)."
        )
    if status != "OK":
        problems.append(f"SMS_SERVICE_CONNECTOR on {server} is {status or 'not reported'}.")

    server_read = facts is not None and facts.readable
    if not server_read:
        unreadable += [
            f"effective mode, last sync, logs and TLS settings: {server} is not in the inventory (set scp_host to its inventory name)"
            if scp_host is None
            else f"effective mode, last sync, logs and TLS settings: {scp_host} could not be read"
        ]
    mode, mode_source, started = effective_mode(facts) if server_read else (None, None, None)
    sync = last_sync(facts) if server_read else {"ok": None, "last_attempt": None, "last_success": None, "error": None}
    own_check = last_check(facts.check_entries) if server_read else {"ran": None, "time": None, "skipped": None, "endpoints": []}
    online = (configured_mode or mode) != "offline"

    # The connectivity check: the last 1141x, and no 11488 after it.
    if check is not None and check.message_id == _status.CHECK_OK and not _newer(cloud, check):
        connectivity = "passed"
    elif _newer(cloud, check) or (check is not None and check.message_id == _status.CHECK_ERROR):
        connectivity = "failed"
    elif check is not None and check.message_id == _status.CHECK_WARNING:
        connectivity = "warning"
    elif own_check["ran"] is False:
        connectivity = "not_run"  # no cloud-connected service needs it, or offline
    else:
        connectivity = "unknown"
    if online and connectivity in ("failed", "warning"):
        last = cloud if _newer(cloud, check) else check
        problems.append(
            f"The last internet endpoint check failed: status message {last.message_id} ({last.time}). "
            + _status.EXPLANATIONS[last.message_id]["action"]
        )
    elif online and connectivity == "unknown":
        problems.append(
            "No internet endpoint check of the SCP was found (no status message 11410-11412 in the last "
            f"{MESSAGE_WINDOW.days} days"
            + (" and no check in EndpointConnectivityCheckWorker.log)." if server_read else "; the SCP server's log could not be read).")
        )

    if online and server_read and sync["ok"] is not True:
        problems.append(
            "The last manifest sync of SMS_DMP_DOWNLOADER failed" + (f": {sync['error']}" if sync["error"] else "")
            if sync["ok"] is False
            else "SMS_DMP_DOWNLOADER has not synced yet."
        )
    restart_required = bool(configured_mode and mode and mode != configured_mode)
    if restart_required:
        problems.append(
            f"The SCP is configured {configured_mode} but SMS_DMP_DOWNLOADER runs {mode} ({mode_source}): "
            f"restart SMS_DMP_DOWNLOADER on {server} (configmgr.scp.sms_executive)."
        )
    if alert is not None:
        problems.append(
            f"The console asks to restart SMS_EXECUTIVE on {server}: {alert['name']} "
            f"(configmgr.scp.sms_executive state=restarted, or playbooks/health.yml -e health_restart_executive=true)."
        )

    tls = facts.tls if server_read else None
    if online and tls is not None and not (tls["dotnet_strong_crypto"] and tls["schannel_tls12_usable"]) and problems:
        problems.append(
            "TLS 1.2 is not set up for .NET on the SCP server (SchUseStrongCrypto / SystemDefaultTlsVersions "
            "in both registry views) or is off in SCHANNEL; set it and restart the server "
            "(docs/configmgr-behaviour.md#tls-prerequisites)."
        )
    lines = []
    if problems and server_read:
        lines = [
            f"{e.source}: {e.time or e.local_time or ''} {e.message.rstrip('~')}"
            for e in (facts.check_entries + facts.downloader_entries)
            if _RELEVANT.search(e.message or "")
        ][-20:]
    return {
        "healthy": not problems and server_read,
        "problems": problems,
        "unreadable": unreadable,
        "site_system_server": server,
        "site_code": site_code,
        "scp_host": scp_host,
        "component_status": status,
        "components": [r.to_dict() for r in rows],
        "connectivity_check": connectivity,
        "last_check_message": _message(check),
        "last_cloud_service_message": _message(cloud),
        "endpoints": own_check["endpoints"],
        "last_check_in_log": {k: own_check[k] for k in ("ran", "time", "skipped")},
        "last_sync": sync,
        "configured_mode": configured_mode,
        "effective_mode": mode,
        "effective_mode_source": mode_source,
        "downloader_started": started,
        "restart_required": restart_required,
        "console_notification": {
            "raised": alert is not None,
            **(alert or {}),
            "detected_by": "an active SMS_Alert on the SCP server asking to restart SMS_EXECUTIVE "
            "(where ConfigMgr keeps this notification is not documented)",
        },
        "restart_executive_required": alert is not None,
        "tls": tls,
        "log_lines": lines,
    }


def describe(health: dict) -> str:
    """One line for the states a wait saw: SMS_SERVICE_CONNECTOR's status, the check, the sync."""
    if health.get("healthy"):
        return "healthy"
    sync = (health.get("last_sync") or {}).get("ok")
    return (
        f"{health.get('component_status') or 'no status'}, check {health.get('connectivity_check')}, "
        f"sync {'ok' if sync else 'failed' if sync is False else 'unknown'}"
        + (", restart required" if health.get("restart_required") or health.get("restart_executive_required") else "")
    )


def absent() -> dict:
    """Health when there is no SCP."""
    return {
        "healthy": False,
        "problems": ["There is no service connection point in the hierarchy."],
        "unreadable": [],
        "scp_host": None,
        "effective_mode": None,
        "configured_mode": None,
        "tls": None,
        "components": [],
        "last_check_message": None,
        "last_cloud_service_message": None,
        "console_notification": {"raised": False},
        "site_system_server": None,
        "component_status": None,
        "connectivity_check": "unknown",
        "endpoints": [],
        "last_sync": {"ok": None, "last_attempt": None, "last_success": None, "error": None},
        "restart_required": False,
        "restart_executive_required": False,
        "log_lines": [],
    }
