# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Status messages and component status, read through CIM.

The SMS Provider keeps every status message with its insertion strings; `SMS_StatMsgWithInsStrings` has a
message and its ten insertion strings in one instance, so one query reads both, and
`SMS_ComponentSummarizer` gives each component's status per machine (0 OK, 1 warning, 2 critical;
queries name a TallyInterval). Both are read through CIM like every read
(docs/configmgr-behaviour.md#status-messages, #wmi-classes); filters are WQL built with
`_hierarchy.wql_string`, so data never becomes syntax.

What the messages of the service connection point mean and what to do about them is written here once
(`EXPLANATIONS`), from docs/configmgr-behaviour.md#status-messages and #internet-endpoints; the
status_message_info module, the health of service_connection_point_info and the health report use it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import wql_string
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value

CONNECTOR = "SMS_SERVICE_CONNECTOR"
# docs/configmgr-behaviour.md#status-messages
CHECK_OK, CHECK_WARNING, CHECK_ERROR, CLOUD_SERVICE_CRITICAL = 11410, 11411, 11412, 11488
CHECK_MESSAGES = (CHECK_OK, CHECK_WARNING, CHECK_ERROR)
SCP_MESSAGES = (*CHECK_MESSAGES, CLOUD_SERVICE_CRITICAL)

# SMS_StatusMessage.Severity (docs/configmgr-behaviour.md#status-messages)
SEVERITIES = {"informational": 0x40000000, "warning": 0x80000000, "error": 0xC0000000}
SEVERITY_NAMES = {value: name for name, value in SEVERITIES.items()}
# SMS_ComponentSummarizer.Status and State (docs/configmgr-behaviour.md#status-messages)
STATUS_NAMES = {0: "OK", 1: "WARNING", 2: "CRITICAL"}
STATUS_RANK = {"OK": 0, "WARNING": 1, "CRITICAL": 2}
STATE_NAMES = {0: "stopped", 1: "started", 2: "paused", 3: "installing", 4: "re-installing", 5: "de-installing"}
# docs/configmgr-behaviour.md#wmi-classes: a TallyInterval must be named; "since site start".
TALLY = "0001128000100008"

MESSAGE_SELECT = {
    name: None
    for name in ("RecordID", "MessageID", "Severity", "Time", "MachineName", "Component", "SiteCode", "ModuleName", "MessageType")
}
MESSAGE_SELECT.update({f"InsString{n}": None for n in range(1, 11)})
SUMMARY_SELECT = {"ComponentName": None, "MachineName": None, "SiteCode": None, "State": None, "Status": None}

_WHAT_TO_DO_ENDPOINTS = (
    "Read the failed endpoints and their failure classes in EndpointConnectivityCheckWorker.log on the SCP server "
    "(configmgr.scp.log_info), or test them from there (configmgr.scp.endpoint_check). Probable causes by class: "
    "timeout, http_407/408/451/502/511/598/599 - the proxy (407: the site system's proxy account is missing or wrong); "
    "http_426 or tls_failure or send_failure - TLS (TLS 1.2 for .NET and SCHANNEL, the root certificates); "
    "dns_failure - name resolution or the firewall."
)

# What 11410-11412 and 11488 mean and what to do (docs/configmgr-behaviour.md#status-messages, #internet-endpoints).
EXPLANATIONS = {
    CHECK_OK: {
        "meaning": "The service connection point checked its internet endpoints and every check passed (informational).",
        "action": "Nothing to do.",
    },
    CHECK_WARNING: {
        "meaning": "At least one non-critical internet endpoint of the service connection point failed its check "
        "(warning); SMS_SERVICE_CONNECTOR turns to warning. Features that need that endpoint may not work.",
        "action": _WHAT_TO_DO_ENDPOINTS,
    },
    CHECK_ERROR: {
        "meaning": "At least one critical internet endpoint of the service connection point failed its check (error); "
        "SMS_SERVICE_CONNECTOR turns critical.",
        "action": _WHAT_TO_DO_ENDPOINTS,
    },
    CLOUD_SERVICE_CRITICAL: {
        "meaning": "The service connection point cannot reach the endpoints a cloud-connected service (tenant attach, "
        "Azure services) requires (critical, since version 2002); SMS_SERVICE_CONNECTOR turns critical and "
        "that service does not work.",
        "action": "The message names the cloud services and the URLs. " + _WHAT_TO_DO_ENDPOINTS,
    },
}
# Other messages this collection names (docs/configmgr-behaviour.md#status-messages), described but not explained.
DESCRIPTIONS = {
    9605: "The service connection point failed to upload data to the ConfigMgr cloud service (DMP_UPLOADER_UPLOAD_FAILED).",
    9607: "The service connection point hit an exception while uploading to the ConfigMgr cloud service (DMP_UPLOADER_UPLOAD_EXCEPTION).",
    4979: "A site system needs a restart after an in-place .NET Framework upgrade.",
    3306: "Hierarchy Manager processed a new or changed site system.",
}


@dataclass(frozen=True)
class Query:
    """What to read: one component's messages, optionally narrowed."""

    component: str = CONNECTOR
    machine: str | None = None
    site_code: str | None = None
    since: datetime.datetime | None = None
    message_ids: tuple[int, ...] = ()
    severities: tuple[str, ...] = ()

    def where(self) -> str:
        clauses = [f"Component = {wql_string(self.component)}"]
        if self.machine:
            clauses.append(f"MachineName = {wql_string(self.machine)}")
        if self.site_code:
            clauses.append(f"SiteCode = {wql_string(self.site_code)}")
        if self.message_ids:
            clauses.append("(" + " OR ".join(f"MessageID = {int(i)}" for i in self.message_ids) + ")")
        if self.severities:
            clauses.append("(" + " OR ".join(f"Severity = {SEVERITIES[s]}" for s in self.severities) + ")")
        if self.since is not None:
            clauses.append(f"Time >= {wql_string(dmtf(self.since))}")
        return " AND ".join(clauses)


def dmtf(moment: datetime.datetime) -> str:
    """A WQL datetime literal in WMI's DMTF form, in UTC: 20261129065004.000000+000."""
    utc = moment.astimezone(datetime.timezone.utc)
    return utc.strftime("%Y%m%d%H%M%S.") + f"{utc.microsecond:06d}+000"


def messages_step(plan: Plan, query: Query, step_id: str = "messages") -> Plan:
    plan.add(
        step_id,
        "Get-CimInstance",
        {"Namespace": provider_value("namespace"), "ClassName": "SMS_StatMsgWithInsStrings", "Filter": query.where()},
        select=MESSAGE_SELECT,
    )
    return plan


def summary_step(plan: Plan, components: tuple[str, ...], machine: str | None = None, step_id: str = "summary") -> Plan:
    names = " OR ".join(f"ComponentName = {wql_string(c)}" for c in components)
    where = f"TallyInterval = '{TALLY}' AND ({names})"
    if machine:
        where += f" AND MachineName = {wql_string(machine)}"
    plan.add(
        step_id,
        "Get-CimInstance",
        {"Namespace": provider_value("namespace"), "ClassName": "SMS_ComponentSummarizer", "Filter": where},
        select=SUMMARY_SELECT,
    )
    return plan


def read_plan(query: Query, plan: Plan | None = None) -> Plan:
    """The messages and the component's status: two CIM queries, one invocation."""
    plan = plan if plan is not None else Plan()
    messages_step(plan, query)
    summary_step(plan, (query.component,), query.machine)
    return plan


# -- parsing ------------------------------------------------------------------------------------------


def utc_text(value) -> str | None:
    """A CIM datetime as the engine writes it (round-trip form, host-local with its offset, or UTC with Z) as
    UTC ISO 8601 text with seconds: 2026-11-29T06:50:04+00:00."""
    moment = parse_time(value)
    return None if moment is None else moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def parse_time(value) -> datetime.datetime | None:
    if not value:
        return None
    text = str(value).strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    head, dot, rest = text.partition(".")
    if dot:  # .NET writes 7 fractional digits; keep 6
        count = len(rest) - len(rest.lstrip("0123456789"))
        text = f"{head}.{rest[:count][:6].ljust(6, '0')}{rest[count:]}"
    try:
        moment = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc)


@dataclass
class Message:
    record_id: int | None
    message_id: int
    severity: str
    time: str | None
    machine: str
    site_code: str
    component: str
    module: str | None
    insertion_strings: list[str] = field(default_factory=list)

    @property
    def description(self) -> str:
        return describe(self.message_id, self.component, self.insertion_strings)

    def to_dict(self) -> dict:
        explained = EXPLANATIONS.get(self.message_id) if self.component.upper() == CONNECTOR else None
        return {
            "record_id": self.record_id,
            "message_id": self.message_id,
            "severity": self.severity,
            "time": self.time,
            "machine": self.machine,
            "site_code": self.site_code,
            "component": self.component,
            "module": self.module,
            "insertion_strings": list(self.insertion_strings),
            "description": self.description,
            "meaning": explained["meaning"] if explained else None,
            "action": explained["action"] if explained else None,
        }


def describe(message_id: int, component: str, strings: list[str]) -> str:
    """A readable description: what the message means, and its insertion strings as the site recorded them.
    (The wording of ConfigMgr's own message texts is not published; insertion strings are kept verbatim.)"""
    explained = EXPLANATIONS.get(message_id) if component.upper() == CONNECTOR else None
    text = explained["meaning"] if explained else DESCRIPTIONS.get(message_id) or f"Status message {message_id} of {component}."
    if strings:
        text += " Insertion strings: " + "; ".join(strings) + "."
    return text


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_messages(output: list) -> list[Message]:
    """The messages, newest first (by time, then record ID)."""
    out = []
    for raw in output:
        if not isinstance(raw, dict) or _int(raw.get("MessageID")) is None:
            continue
        strings = [raw.get(f"InsString{n}") for n in range(1, 11)]
        while strings and strings[-1] in (None, ""):
            strings.pop()
        severity = _int(raw.get("Severity"))
        out.append(
            Message(
                record_id=_int(raw.get("RecordID")),
                message_id=int(raw["MessageID"]),
                severity=SEVERITY_NAMES.get(severity, str(severity)),
                time=utc_text(raw.get("Time")),
                machine=str(raw.get("MachineName") or "").lower(),
                site_code=str(raw.get("SiteCode") or "").upper(),
                component=str(raw.get("Component") or ""),
                module=raw.get("ModuleName"),
                insertion_strings=["" if s is None else str(s) for s in strings],
            )
        )
    out.sort(key=lambda m: (m.time or "", m.record_id or 0), reverse=True)
    return out


@dataclass(frozen=True)
class ComponentRow:
    component: str
    machine: str
    site_code: str
    state: str | None
    status: str | None

    def to_dict(self) -> dict:
        return {
            "component": self.component,
            "machine": self.machine,
            "site_code": self.site_code,
            "state": self.state,
            "status": self.status,
        }


def parse_summary(output: list) -> list[ComponentRow]:
    rows = []
    seen = set()
    for raw in output:
        if not isinstance(raw, dict) or not raw.get("ComponentName"):
            continue
        row = ComponentRow(
            str(raw["ComponentName"]).upper(),
            str(raw.get("MachineName") or "").lower(),
            str(raw.get("SiteCode") or "").upper(),
            STATE_NAMES.get(_int(raw.get("State"))),
            STATUS_NAMES.get(_int(raw.get("Status"))),
        )
        if (row.component, row.machine, row.site_code) not in seen:
            seen.add((row.component, row.machine, row.site_code))
            rows.append(row)
    return sorted(rows, key=lambda r: (r.component, r.machine, r.site_code))


def worst_status(rows: list[ComponentRow]) -> str | None:
    """OK, WARNING or CRITICAL: the worst of the rows (None when there is none)."""
    statuses = [r.status for r in rows if r.status in STATUS_RANK]
    return max(statuses, key=STATUS_RANK.__getitem__) if statuses else None


def latest(messages: list[Message], ids, machine: str | None = None) -> Message | None:
    """The newest message with one of these IDs (messages are newest first)."""
    wanted = set(ids)
    return next((m for m in messages if m.message_id in wanted and (machine is None or m.machine == machine)), None)


def explanations() -> dict:
    """The four messages of the service connection point, explained (keys are the IDs as text)."""
    return {str(k): dict(v) for k, v in EXPLANATIONS.items()}


def result(messages: list[Message], rows: list[ComponentRow], component: str, limit: int) -> dict:
    """The return values of status_message_info."""
    shown = messages[:limit] if limit else messages
    return {
        "component": component,
        "component_status": worst_status(rows),
        "component_rows": [r.to_dict() for r in rows],
        "messages": [m.to_dict() for m in shown],
        "count": len(messages),
        "truncated": len(shown) < len(messages),
        "explanations": explanations() if component.upper() == CONNECTOR else {},
    }


def read(result_: PlanResult, step: str = "messages", summary: str = "summary") -> tuple[list[Message], list[ComponentRow]]:
    return parse_messages(result_.output(step)), parse_summary(result_.output(summary))
