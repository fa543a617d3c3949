"""Status messages (docs/configmgr-behaviour.md#status-messages, #wmi-classes), the site namespace through
Get-CimInstance with strict WQL, and the usage data level (docs/configmgr-behaviour.md#usage-data-level)."""

from __future__ import annotations

import datetime
import re

import pytest
from configmgr_harness import MESSAGE, SUMMARY, ConfigMgrLab

from cmlab.model.status import SEVERITY_ERROR, SEVERITY_INFORMATION, SEVERITY_WARNING, TALLY_INTERVALS
from tests.fixtures import step


@pytest.fixture
def lab() -> ConfigMgrLab:
    lab = ConfigMgrLab()
    h, now = lab.hierarchy, lab.model.clock.now()
    for component, machine, site, mid, sev, age in (
        ("SMS_SERVICE_CONNECTOR", "ps1.lab.example", "PS1", 11411, SEVERITY_WARNING, 7200),
        ("SMS_SERVICE_CONNECTOR", "ps1.lab.example", "PS1", 11410, SEVERITY_INFORMATION, 60),
        ("SMS_HIERARCHY_MANAGER", "cas.lab.example", "CAS", 3306, SEVERITY_INFORMATION, 30),
    ):
        h.status_messages.raise_message(site, machine, component, mid, sev, now - age)
    return lab


def messages(lab: ConfigMgrLab, cmdlet: str = "Get-CMSiteStatusMessage", **params) -> list[tuple]:
    out = lab.ok(step("m", cmdlet, MESSAGE, **params))["m"]
    return [(m["MessageID"], m["MachineName"]) for m in out]


def test_get_cmsitestatusmessage_filters(lab):
    # At start the PS1 SCP checked its endpoints (TLS 1.2 is off on ps1, the hierarchy has tenant attach:
    # 11412 and 11488).
    assert messages(lab, Component="SMS_SERVICE_CONNECTOR") == [
        (11412, "ps1.lab.example"),
        (11488, "ps1.lab.example"),
        (11411, "ps1.lab.example"),
        (11410, "ps1.lab.example"),
    ]
    assert messages(lab, Component="SMS_SERVICE_*", MessageId=[11410, 11488]) == [(11488, "ps1.lab.example"), (11410, "ps1.lab.example")]
    assert messages(lab, Severity=["Warning", "Error"]) == [
        (11412, "ps1.lab.example"),
        (11488, "ps1.lab.example"),
        (11411, "ps1.lab.example"),
    ]
    assert len(messages(lab, Severity=["All"])) == 5
    assert messages(lab, ComputerName=["cas.*"]) == [(3306, "cas.lab.example")]
    assert messages(lab, SiteCode=["CAS"]) == [(3306, "cas.lab.example")]
    assert messages(lab, Module=["SMS Server"], MessageId=[3306]) == [(3306, "cas.lab.example")]
    since = lab.model.clock.now() - 600
    stamp = datetime.datetime.fromtimestamp(since, tz=datetime.timezone.utc).isoformat()
    assert messages(lab, StartDateTime=stamp, Component="SMS_SERVICE_CONNECTOR") == [
        (11412, "ps1.lab.example"),
        (11488, "ps1.lab.example"),
        (11410, "ps1.lab.example"),
    ]


def test_the_message_shape(lab):
    out = lab.ok(
        step("m", "Get-CMSiteStatusMessage", None, MessageId=[3306]),
        step(
            "s",
            "Get-CMSiteStatusMessage",
            {"ModuleName": None, "MessageType": None, "RecordID": None, "Severity": None, "Time": None},
            MessageId=[3306],
        ),
    )
    assert out["m"] == ["SMS_StatusMessage.RecordID=5"]
    shaped = out["s"][0]
    assert (shaped["ModuleName"], shaped["MessageType"], shaped["RecordID"], shaped["Severity"]) == ("SMS Server", 256, 5, 0x40000000)
    # PowerShell's round-trip format ('o'): seven fractional digits; ConfigMgr's objects keep UTC.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z", shaped["Time"]), shaped["Time"]


def test_a_child_sites_drive_sees_only_its_own_messages(lab):
    doc = lab.run(step("m", "Get-CMSiteStatusMessage", MESSAGE), host="ps1.lab.example")
    # ps1 has no console: the provider cannot be opened there.
    assert doc["error"]["stage"] == "provider"
    assert [m for m in messages(lab, SiteCode=["PS1", "XYZ"])] and messages(lab, SiteCode=["XYZ"]) == []


def test_get_cmcomponentstatusmessage_follows_the_reference(lab):
    start = "2000-01-01T00:00:00Z"
    # "doesn't work with the All value, but also doesn't return any values if omitted" (docs/configmgr-behaviour.md#status-messages)
    assert messages(lab, "Get-CMComponentStatusMessage", StartTime=start) == []
    assert messages(lab, "Get-CMComponentStatusMessage", StartTime=start, Severity="All") == []
    assert messages(lab, "Get-CMComponentStatusMessage", StartTime=start, Severity="Warning") == [(11411, "ps1.lab.example")]
    assert messages(
        lab,
        "Get-CMComponentStatusMessage",
        StartTime=start,
        Severity="Information",
        ComponentName="SMS_SERVICE_CONNECTOR",
        ComputerName="ps1.lab.example",
    ) == [(11410, "ps1.lab.example")]
    doc = lab.run(step("m", "Get-CMComponentStatusMessage", Severity="Error"))
    assert "StartTime" in doc["error"]["message"]  # mandatory (docs/configmgr-behaviour.md#status-messages)


def test_sms_statusmessage_through_cim(lab):
    out = lab.ok(
        step(
            "m",
            "Get-CimInstance",
            MESSAGE,
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatusMessage",
            Filter="MessageID = 11411 AND Component = 'SMS_SERVICE_CONNECTOR'",
        )
    )["m"]
    assert out == [
        {
            "Component": "SMS_SERVICE_CONNECTOR",
            "MachineName": "ps1.lab.example",
            "MessageID": 11411,
            "Severity": SEVERITY_WARNING,
            "SiteCode": "PS1",
        }
    ]
    err = lab.ok(
        step(
            "e",
            "Get-CimInstance",
            MESSAGE,
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatusMessage",
            Filter=f"Severity = {SEVERITY_ERROR}",
        )
    )["e"]
    assert [m["MessageID"] for m in err] == [11412, 11488]


# SMS_ComponentSummarizer and WQL ---------------------------------------------------------------------


def test_one_row_per_tally_interval_without_a_tally_filter(lab):
    rows = lab.ok(
        step(
            "c",
            "Get-CimInstance",
            {"TallyInterval": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_ComponentSummarizer",
            Filter="ComponentName='SMS_DMP_DOWNLOADER' AND MachineName='ps1.lab.example'",
        )
    )["c"]
    assert [r["TallyInterval"] for r in rows] == list(TALLY_INTERVALS)
    assert (
        lab.ok(
            step(
                "c",
                "Get-CimInstance",
                SUMMARY,
                Namespace="root\\SMS\\site_CAS",
                ClassName="SMS_ComponentSummarizer",
                Filter="TallyInterval='0000000000000000'",
            )
        )["c"]
        == []
    )


@pytest.mark.parametrize(
    "wql",
    [
        "NoSuchProperty = 1",
        "ComponentName LIKE SMS",
        "ComponentName = ",
        "ComponentName = 'A' AND",
        "ComponentName 'A'",
        "= 'A'",
        "",
    ],
)
def test_unknown_wql_is_an_invalid_query(lab, wql):
    doc = lab.run(step("c", "Get-CimInstance", Namespace="root\\SMS\\site_CAS", ClassName="SMS_ComponentSummarizer", Filter=wql))
    if wql == "":
        assert doc["ok"]  # an empty -Filter is no filter
        return
    assert doc["steps"][0]["error"] == {
        "message": "Invalid query ",
        "category": "InvalidArgument",
        "fqid": "HRESULT 0x80041017,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
        "exception": "Microsoft.Management.Infrastructure.CimException",
    }


@pytest.mark.parametrize("wql", ["__CLASS ISA 'SMS_ComponentSummarizer'", "'A' = ComponentName"])
def test_valid_wql_cmlab_does_not_evaluate_fails_loudly(lab, wql):
    doc = lab.run(step("c", "Get-CimInstance", Namespace="root\\SMS\\site_CAS", ClassName="SMS_ComponentSummarizer", Filter=wql))
    assert doc["steps"][0]["error"]["message"].startswith("cmlab does not simulate Get-CimInstance with the WQL filter")


def cim_ids(lab: ConfigMgrLab, wql: str) -> list[int]:
    return [
        m["MessageID"]
        for m in lab.ok(
            step("m", "Get-CimInstance", {"MessageID": None}, Namespace="root\\SMS\\site_CAS", ClassName="SMS_StatusMessage", Filter=wql)
        )["m"]
    ]


@pytest.mark.parametrize(
    ("wql", "ids"),
    [
        ("Component = 'SMS_SERVICE_CONNECTOR' AND (MessageID = 11410 OR MessageID = 11411)", [11411, 11410]),
        ("MessageID >= 11410 AND MessageID <= 11412", [11412, 11411, 11410]),
        ("NOT Component = 'SMS_SERVICE_CONNECTOR'", [3306]),
        ("MachineName IS NOT NULL AND MessageID > 11411", [11412, 11488]),
        ("ModuleName IS NULL", []),
        ("Component LIKE 'SMS[_]SERVICE%' AND Severity <> 1073741824", [11412, 11488, 11411]),
    ],
)
def test_wql_or_parentheses_comparisons_and_null(lab, wql, ids):
    assert sorted(cim_ids(lab, wql)) == sorted(ids)


def test_wql_time_filters_since_a_moment(lab):
    since = lab.model.clock.now() - 600
    dmtf = datetime.datetime.fromtimestamp(since, tz=datetime.timezone.utc).strftime("%Y%m%d%H%M%S.000000+000")
    recent = cim_ids(lab, f"Component = 'SMS_SERVICE_CONNECTOR' AND Time >= '{dmtf}'")
    assert sorted(recent) == [11410, 11412, 11488]  # not the 11411 of two hours ago
    iso = datetime.datetime.fromtimestamp(since, tz=datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
    assert sorted(cim_ids(lab, f"Component = 'SMS_SERVICE_CONNECTOR' AND Time >= '{iso}'")) == sorted(recent)
    # The same moment expressed an hour east of UTC.
    east = datetime.datetime.fromtimestamp(since + 3600, tz=datetime.timezone.utc).strftime("%Y%m%d%H%M%S.000000+060")
    assert sorted(cim_ids(lab, f"Component = 'SMS_SERVICE_CONNECTOR' AND Time >= '{east}'")) == sorted(recent)
    doc = lab.run(
        step("m", "Get-CimInstance", Namespace="root\\SMS\\site_CAS", ClassName="SMS_StatusMessage", Filter="Time >= 'yesterday'")
    )
    assert doc["steps"][0]["error"]["message"] == "Invalid query "


def test_cim_times_are_the_hosts_local_time_in_round_trip_format(lab):
    out = lab.ok(
        step(
            "m",
            "Get-CimInstance",
            {"Time": None, "RecordID": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatusMessage",
            Filter="MessageID = 3306",
        )
    )["m"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00", out[0]["Time"]), out
    lab.model.host("cas.lab.example").time_zone_bias = -60  # UTC+1
    again = lab.ok(
        step(
            "m",
            "Get-CimInstance",
            {"Time": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatusMessage",
            Filter="MessageID = 3306",
        )
    )["m"]
    assert again[0]["Time"].endswith("+01:00")
    utc = datetime.datetime.fromisoformat(out[0]["Time"][:26] + "+00:00")
    assert datetime.datetime.fromisoformat(again[0]["Time"][:26] + "+01:00") == utc


def test_insertion_strings_as_the_real_classes_hold_them(lab):
    ids = lab.ok(
        step(
            "m",
            "Get-CimInstance",
            {"RecordID": None, "MessageID": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatusMessage",
            Filter="MessageID = 11412 OR MessageID = 11488",
        )
    )["m"]
    record = {m["MessageID"]: m["RecordID"] for m in ids}
    strings = lab.ok(
        step(
            "s",
            "Get-CimInstance",
            {"InsStrIndex": None, "InsStrValue": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatMsgInsStrings",
            Filter=f"RecordID = {record[11412]}",
        )
    )["s"]
    assert [s["InsStrIndex"] for s in strings] == [0, 1, 2]
    assert strings[2]["InsStrValue"].startswith("https://aka.ms/configmgrgateway")
    cloud = lab.ok(
        step(
            "s",
            "Get-CimInstance",
            {"InsStrIndex": None, "InsStrValue": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatMsgInsStrings",
            Filter=f"RecordID = {record[11488]} AND InsStrIndex = 0",
        )
    )["s"]
    assert cloud == [{"InsStrIndex": 0, "InsStrValue": "tenant_attach"}]


def test_wql_forms_modules_use(lab):
    base = "TallyInterval = '0001128000100008'"
    names = {r["ComponentName"] for r in lab.summarizer("ComponentName LIKE 'sms_dmp%' AND SiteCode = 'PS1'")}
    assert names == {"SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER"}
    rows = lab.ok(
        step(
            "c",
            "Get-CimInstance",
            SUMMARY,
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_ComponentSummarizer",
            Filter=f'{base} and MachineName <> "ps1.lab.example" and State = 1',
        )
    )["c"]
    assert {r["MachineName"] for r in rows} == {"cas.lab.example"}
    assert lab.summarizer("ComponentName LIKE 'SMS_DMP_DOWNLOADE_'")
    assert not lab.summarizer("ComponentName LIKE 'SMS_DMP_DOWNLOADE'")
    # The provider location query of the engine still works.
    assert lab.ok(
        step(
            "p",
            "Get-CimInstance",
            {"SiteCode": None},
            Namespace="root\\SMS",
            ClassName="SMS_ProviderLocation",
            Filter="ProviderForLocalSite = TRUE",
        )
    )["p"] == [{"SiteCode": "CAS"}]


def test_an_unknown_site_namespace_or_class(lab):
    doc = lab.run(step("c", "Get-CimInstance", Namespace="root\\SMS\\site_PS1", ClassName="SMS_ComponentSummarizer"))
    assert doc["steps"][0]["error"]["message"] == "Invalid namespace "  # PS1's provider is ps1, not cas
    doc = lab.run(step("c", "Get-CimInstance", Namespace="root\\SMS\\site_CAS", ClassName="SMS_R_System"))
    assert "does not simulate" in doc["steps"][0]["error"]["message"]


# Usage data level ----------------------------------------------------------------------------------------


def telemetry(lab: ConfigMgrLab) -> list[dict]:
    return lab.ok(
        step(
            "t",
            "Get-CimInstance",
            {"PropertyName": None, "Value": None, "SiteCode": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_SCI_SCProperty",
            Filter="PropertyName = 'TelemetryLevel'",
        )
    )["t"]


def test_telemetry_level_round_trip(lab):
    assert telemetry(lab) == [{"PropertyName": "TelemetryLevel", "Value": 2, "SiteCode": "CAS"}]  # Enhanced
    out = lab.ok(step("set", "Set-CMHierarchySetting", {"SiteCode": None, "SiteType": None}, TelemetryLevel="Full", PassThru=True))
    assert out["set"] == [{"SiteCode": "CAS", "SiteType": 4}]
    assert telemetry(lab)[0]["Value"] == 3 and lab.dump()["telemetry_level"] == "Full"
    lab.ok(step("set", "Set-CMHierarchySetting", DiagnosticLevel="basic"))
    assert telemetry(lab)[0]["Value"] == 1
    out = lab.ok(step("get", "Get-CMHierarchySetting", {"SiteCode": None, "ParentSiteCode": None}, SiteCode="PS1"))
    assert out["get"] == [{"SiteCode": "PS1", "ParentSiteCode": "CAS"}]
    doc = lab.run(step("bad", "Set-CMHierarchySetting", TelemetryLevel="Verbose"))
    assert "does not belong to the set" in doc["steps"][0]["error"]["message"]
    doc = lab.run(step("other", "Set-CMHierarchySetting", AllowPrestage=True))
    assert "does not simulate" in doc["steps"][0]["error"]["message"]


def test_what_if_changes_nothing(lab):
    lab.ok(step("set", "Set-CMHierarchySetting", TelemetryLevel="Basic", WhatIf=True))
    assert telemetry(lab)[0]["Value"] == 2


def test_status_messages_with_their_insertion_strings_in_one_query(lab):
    out = lab.ok(
        step(
            "m",
            "Get-CimInstance",
            {"MessageID": None, "InsString1": None, "InsString3": None, "InsString4": None, "Time": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_StatMsgWithInsStrings",
            Filter="Component = 'SMS_SERVICE_CONNECTOR' AND MessageID = 11412",
        )
    )["m"]
    assert len(out) == 1 and out[0]["InsString3"].startswith("https://aka.ms/configmgrgateway")
    assert out[0]["InsString4"] is None and re.search(r"\.\d{7}\+00:00$", out[0]["Time"])
