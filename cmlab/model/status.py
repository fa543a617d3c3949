"""Status messages and component status: what the site database knows about its components.

docs/configmgr-behaviour.md#status-messages: SMS_StatusMessage (Component, MachineName, MessageID,
MessageType, ModuleName, RecordID, Severity 0x40000000 / 0x80000000 / 0xC0000000, SiteCode, Time UTC) and
SMS_ComponentSummarizer (ComponentName, MachineName, SiteCode, State 0-5, Status 0-2, Type, TallyInterval).
Both live per hierarchy: the top-level site sees its children's status (assumption,
docs/simulator-assumptions.md).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import IntEnum

from .match import wildcard_match

SEVERITY_INFORMATION = 0x40000000
SEVERITY_WARNING = 0x80000000
SEVERITY_ERROR = 0xC0000000
SEVERITY_NAMES = {SEVERITY_INFORMATION: "Information", SEVERITY_WARNING: "Warning", SEVERITY_ERROR: "Error"}

MESSAGE_TYPE_MILESTONE = 256
MESSAGE_TYPE_DETAIL = 512

# The 16 default tally intervals (SDK "About Configuration Manager tally intervals"): a query must
# name one; each component has one summarizer row per interval.
TALLY_INTERVALS = (
    "0001128000100008",
    "0081128000100008",
    "0101128000100008",
    "0181128000100008",
    "0201128000100008",
    "0281128000100008",
    "0001128000192000",
    "00011280001A2000",
    "00011280001B2000",
    "00011280001C2000",
    "00011280001D2000",
    "00011280001E2000",
    "00011280001F2000",
    "000A470000284400",
    "000A4700002BC400",
    "0001128000080008",
)


class ComponentState(IntEnum):
    STOPPED = 0
    STARTED = 1
    PAUSED = 2
    INSTALLING = 3
    RE_INSTALLING = 4
    DE_INSTALLING = 5


class ComponentStatus(IntEnum):
    OK = 0
    WARNING = 1
    CRITICAL = 2


@dataclass(frozen=True)
class StatusMessage:
    record_id: int
    site_code: str
    machine: str
    component: str
    message_id: int
    severity: int
    time: float  # seconds since the epoch, UTC
    message_type: int = MESSAGE_TYPE_MILESTONE
    module: str = "SMS Server"
    ins_strings: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "record_id": self.record_id,
            "site_code": self.site_code,
            "machine": self.machine,
            "component": self.component,
            "message_id": self.message_id,
            "severity": SEVERITY_NAMES.get(self.severity, str(self.severity)),
        }


class StatusMessages:
    """The status messages of one hierarchy, oldest first. RecordID counts from 1."""

    def __init__(self) -> None:
        self._messages: list[StatusMessage] = []

    def raise_message(
        self,
        site_code: str,
        machine: str,
        component: str,
        message_id: int,
        severity: int,
        time: float,
        ins_strings: Iterable[str] = (),
        message_type: int = MESSAGE_TYPE_MILESTONE,
    ) -> StatusMessage:
        message = StatusMessage(
            len(self._messages) + 1,
            site_code.upper(),
            machine.lower(),
            component.upper(),
            message_id,
            severity,
            time,
            message_type,
            ins_strings=tuple(ins_strings),
        )
        self._messages.append(message)
        return message

    def find(
        self,
        components: Iterable[str] | None = None,
        machines: Iterable[str] | None = None,
        message_ids: Iterable[int] | None = None,
        severities: Iterable[int] | None = None,
        site_codes: Iterable[str] | None = None,
        modules: Iterable[str] | None = None,
        since: float | None = None,
    ) -> list[StatusMessage]:
        """Each filter is a list of alternatives (None = any); component, machine, site code and
        module take wildcards."""

        def any_match(patterns: Iterable[str] | None, value: str) -> bool:
            return patterns is None or any(wildcard_match(p, value) for p in patterns)

        ids = None if message_ids is None else set(message_ids)
        sev = None if severities is None else set(severities)
        comps, machs, sites, mods = (None if x is None else list(x) for x in (components, machines, site_codes, modules))
        return [
            m
            for m in self._messages
            if any_match(comps, m.component)
            and any_match(machs, m.machine)
            and any_match(sites, m.site_code)
            and any_match(mods, m.module)
            and (ids is None or m.message_id in ids)
            and (sev is None or m.severity in sev)
            and (since is None or m.time >= since)
        ]

    def counts(self, site_code: str, machine: str, component: str) -> dict[int, int]:
        out = dict.fromkeys(SEVERITY_NAMES, 0)
        for m in self._messages:
            if (m.site_code, m.machine, m.component) == (site_code.upper(), machine.lower(), component.upper()):
                out[m.severity] = out.get(m.severity, 0) + 1
        return out

    def __len__(self) -> int:
        return len(self._messages)

    def to_dict(self, last: int = 10) -> dict:
        return {"count": len(self._messages), "last": [m.to_dict() for m in self._messages[-last:]]}


@dataclass
class ComponentRow:
    site_code: str
    machine: str
    component: str
    state: ComponentState = ComponentState.STARTED
    status: ComponentStatus = ComponentStatus.OK
    type: int = 0  # 0 AUTOSTARTING
    last_started: float | None = None

    def to_dict(self) -> dict:
        return {
            "site_code": self.site_code,
            "machine": self.machine,
            "component": self.component,
            "state": self.state.name,
            "status": self.status.name,
        }


@dataclass
class ComponentSummary:
    """SMS_ComponentSummarizer rows of one hierarchy, one per (site, machine, component)."""

    rows: dict[tuple[str, str, str], ComponentRow] = field(default_factory=dict)

    @staticmethod
    def _key(site_code: str, machine: str, component: str) -> tuple[str, str, str]:
        return site_code.upper(), machine.lower(), component.upper()

    def get(self, site_code: str, machine: str, component: str) -> ComponentRow | None:
        return self.rows.get(self._key(site_code, machine, component))

    def set(
        self,
        site_code: str,
        machine: str,
        component: str,
        state: ComponentState | None = None,
        status: ComponentStatus | None = None,
        started_at: float | None = None,
    ) -> ComponentRow:
        key = self._key(site_code, machine, component)
        row = self.rows.get(key)
        if row is None:
            row = self.rows[key] = ComponentRow(*key)
        if state is not None:
            row.state = state
        if status is not None:
            row.status = status
        if started_at is not None:
            row.last_started = started_at
        return row

    def remove(self, site_code: str, machine: str, component: str) -> None:
        self.rows.pop(self._key(site_code, machine, component), None)

    def all(self) -> list[ComponentRow]:
        return [self.rows[k] for k in sorted(self.rows)]

    def to_dict(self) -> list[dict]:
        return [row.to_dict() for row in self.all()]


# Alerts (SMS_Alert, docs/configmgr-behaviour.md#console-notifications): what the console shows as
# notifications. AlertState 0 Active, 2 Canceled (the condition went away; ClosedBy 'SYSTEM');
# Severity 1 Error, 2 Warning, 3 Informational.
ALERT_ACTIVE, ALERT_CANCELED = 0, 2
ALERT_ERROR, ALERT_WARNING, ALERT_INFORMATIONAL = 1, 2, 3


@dataclass
class Alert:
    id: int
    type_id: int
    type_instance_id: str
    name: str
    severity: int
    source_site_code: str
    created: float
    state: int = ALERT_ACTIVE
    state_modified: float = 0.0
    first_activated: float = 0.0
    closed_by: str = ""
    occurrence_count: int = 1
    params: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "type_instance_id": self.type_instance_id,
            "name": self.name,
            "state": "active" if self.state == ALERT_ACTIVE else "canceled",
            "occurrences": self.occurrence_count,
        }


class Alerts:
    """The alerts of one hierarchy (global data: every site's namespace shows them). ID counts from 1."""

    def __init__(self) -> None:
        self._alerts: list[Alert] = []

    def activate(
        self, type_id: int, instance: str, name: str, severity: int, site_code: str, now: float, params: Iterable[str] = ()
    ) -> Alert:
        """Raise an alert, or raise an existing one (same type and instance) again."""
        alert = self.get(type_id, instance)
        if alert is None:
            alert = Alert(
                len(self._alerts) + 1,
                type_id,
                instance,
                name,
                severity,
                site_code.upper(),
                now,
                state_modified=now,
                first_activated=now,
                params=tuple(params),
            )
            self._alerts.append(alert)
            return alert
        if alert.state != ALERT_ACTIVE:
            alert.state, alert.state_modified, alert.closed_by = ALERT_ACTIVE, now, ""
            alert.occurrence_count += 1
        alert.name, alert.params = name, tuple(params)
        return alert

    def cancel(self, type_id: int, instance: str, now: float) -> Alert | None:
        """The condition went away: the alert is Canceled by SYSTEM (it stays listed)."""
        alert = self.get(type_id, instance)
        if alert is not None and alert.state == ALERT_ACTIVE:
            alert.state, alert.state_modified, alert.closed_by = ALERT_CANCELED, now, "SYSTEM"
        return alert

    def get(self, type_id: int, instance: str) -> Alert | None:
        return next((a for a in self._alerts if a.type_id == type_id and a.type_instance_id.lower() == instance.lower()), None)

    def all(self) -> list[Alert]:
        return list(self._alerts)

    def to_dict(self) -> list[dict]:
        return [a.to_dict() for a in self._alerts]
