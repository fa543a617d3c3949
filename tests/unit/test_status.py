"""Status messages: the WQL built from the options, the parsing of SMS_StatMsgWithInsStrings, the descriptions
and explanations of the SCP's messages, the component status."""

from __future__ import annotations

import datetime

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _status, _validation

UTC = datetime.timezone.utc


def row(record, message_id, severity, time, machine="scp01.lab.example", strings=(), component="SMS_SERVICE_CONNECTOR"):
    raw = {
        "RecordID": record,
        "MessageID": message_id,
        "Severity": severity,
        "Time": time,
        "MachineName": machine,
        "Component": component,
        "SiteCode": "CAS",
        "ModuleName": "SMS Server",
        "MessageType": 256,
    }
    raw.update({f"InsString{n}": None for n in range(1, 11)})
    raw.update({f"InsString{n + 1}": value for n, value in enumerate(strings)})
    return raw


def test_the_filter_is_wql_with_every_value_escaped():
    query = _status.Query(
        component="SMS_SERVICE_CONNECTOR",
        machine="scp01.lab.example",
        site_code="CAS",
        since=datetime.datetime(2026, 3, 15, 8, 0, 1, tzinfo=UTC),
        message_ids=(11410, 11488),
        severities=("warning", "error"),
    )
    assert query.where() == (
        "Component = 'SMS_SERVICE_CONNECTOR' AND MachineName = 'scp01.lab.example' AND SiteCode = 'CAS' AND "
        "(MessageID = 11410 OR MessageID = 11488) AND (Severity = 2147483648 OR Severity = 3221225472) AND "
        "Time >= '20260315080001.000000+000'"
    )
    hostile = _status.Query(component="SMS_X", machine="a' OR '1'='1")
    assert hostile.where() == "Component = 'SMS_X' AND MachineName = 'a\\' OR \\'1\\'=\\'1'"


def test_the_plan_is_two_cim_queries_of_the_provider_and_no_configmgr_cmdlet():
    plan = _status.read_plan(_status.Query())
    assert [(s.cmdlet, s.params["ClassName"]) for s in plan.steps] == [
        ("Get-CimInstance", "SMS_StatMsgWithInsStrings"),
        ("Get-CimInstance", "SMS_ComponentSummarizer"),
    ]
    assert "TallyInterval = '0001128000100008'" in plan.steps[1].params["Filter"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2026-11-29T06:50:04.1230000+00:00", "2026-11-29T06:50:04+00:00"),
        ("2026-11-29T02:50:04.1230000-04:00", "2026-11-29T06:50:04+00:00"),  # host-local time with its offset
        ("2026-11-29T06:50:04Z", "2026-11-29T06:50:04+00:00"),
        ("not a time", None),
        (None, None),
    ],
)
def test_cim_times_become_utc(text, expected):
    assert _status.utc_text(text) == expected


def test_messages_newest_first_with_insertion_strings_meaning_and_action():
    messages = _status.parse_messages(
        [
            row(1, 11412, 0xC0000000, "2026-11-29T06:00:00.0000000+00:00", strings=("3", "12", "https://aka.ms/x")),
            row(2, 11488, 0xC0000000, "2026-11-29T06:00:00.0000000+00:00", strings=("tenant_attach", "https://aka.ms/x")),
            row(3, 11410, 0x40000000, "2026-11-29T07:00:00.0000000+00:00", strings=("12",)),
        ]
    )
    assert [m.message_id for m in messages] == [11410, 11488, 11412]
    newest = messages[0].to_dict()
    assert newest["severity"] == "informational" and newest["insertion_strings"] == ["12"]
    assert newest["description"].startswith("The service connection point checked its internet endpoints")
    assert newest["description"].endswith("Insertion strings: 12.")
    error = messages[2].to_dict()
    assert "critical internet endpoint" in error["meaning"] and "EndpointConnectivityCheckWorker.log" in error["action"]
    assert "cloud-connected service" in messages[1].to_dict()["meaning"]


def test_other_messages_are_described_without_an_explanation():
    other = _status.parse_messages([row(1, 9605, 0xC0000000, "2026-11-29T06:00:00Z", component="SMS_DMP_UPLOADER")])[0]
    assert "failed to upload" in other.description and other.to_dict()["action"] is None
    unknown = _status.parse_messages([row(1, 4242, 0x80000000, "2026-11-29T06:00:00Z", component="SMS_X", strings=("a", "", "c"))])[0]
    assert unknown.description == "Status message 4242 of SMS_X. Insertion strings: a; ; c."


def test_component_status_is_the_worst_of_its_machines():
    rows = _status.parse_summary(
        [
            {"ComponentName": "SMS_SERVICE_CONNECTOR", "MachineName": "ps1.lab.example", "SiteCode": "PS1", "State": 1, "Status": 0},
            {"ComponentName": "SMS_SERVICE_CONNECTOR", "MachineName": "scp01.lab.example", "SiteCode": "CAS", "State": 1, "Status": 2},
            {"ComponentName": "SMS_SERVICE_CONNECTOR", "MachineName": "scp01.lab.example", "SiteCode": "CAS", "State": 1, "Status": 2},
        ]
    )
    assert len(rows) == 2 and _status.worst_status(rows) == "CRITICAL"
    assert _status.worst_status([]) is None
    result = _status.result([], rows, "SMS_SERVICE_CONNECTOR", limit=50)
    assert set(result["explanations"]) == {"11410", "11411", "11412", "11488"}
    assert _status.result([], rows, "SMS_DMP_DOWNLOADER", limit=50)["explanations"] == {}


def test_limit_keeps_the_newest():
    messages = _status.parse_messages([row(i, 11410, 0x40000000, f"2026-11-29T06:{i:02d}:00Z") for i in range(10)])
    result = _status.result(messages, [], "SMS_SERVICE_CONNECTOR", limit=3)
    assert [m["record_id"] for m in result["messages"]] == [9, 8, 7] and result["truncated"] and result["count"] == 10


@pytest.mark.parametrize(
    "value, expected",
    [
        ("2026-03-15T08:00:00Z", datetime.datetime(2026, 3, 15, 8, tzinfo=UTC)),
        ("2026-03-15T08:00:00", datetime.datetime(2026, 3, 15, 8, tzinfo=UTC)),
        ("2026-03-15T04:00:00-04:00", datetime.datetime(2026, 3, 15, 8, tzinfo=UTC)),
        ("24h", datetime.datetime(2026, 3, 14, 8, tzinfo=UTC)),
        ("7d", datetime.datetime(2026, 3, 8, 8, tzinfo=UTC)),
        ("30m", datetime.datetime(2026, 3, 15, 7, 30, tzinfo=UTC)),
    ],
)
def test_since_takes_iso_8601_or_a_duration(value, expected):
    now = datetime.datetime(2026, 3, 15, 8, tzinfo=UTC)
    assert _validation.since(value, now=now) == expected


@pytest.mark.parametrize("value", ["yesterday", "7 days", "-1d", "2026-13-01", "' OR 1=1 --", "1y"])
def test_since_refuses_anything_else_naming_the_option(value):
    with pytest.raises(AnsibleActionFail, match="since must be a date and time"):
        _validation.since(value)


@pytest.mark.parametrize("value", [[0], [-1], ["x"], [True], [2**32]])
def test_message_ids_are_whole_positive_numbers(value):
    with pytest.raises(AnsibleActionFail, match="message_ids"):
        _validation.message_ids(value)
