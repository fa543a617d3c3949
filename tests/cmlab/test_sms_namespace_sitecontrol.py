"""The site and site control classes of root\\SMS\\site_<code> through Get-CimInstance: SMS_Site,
SMS_SCI_SysResUse (with its embedded Props) and SMS_SCI_Reserved, as the model holds them (the ConfigMgr
cmdlets return the same classes), keyed, with the filters the collection's read plans use
(docs/configmgr-behaviour.md#wmi-classes)."""

from __future__ import annotations

import pytest
from configmgr_harness import ConfigMgrLab

from tests.fixtures import step

SITE = {
    "SiteCode": None,
    "SiteName": None,
    "ReportingSiteCode": None,
    "Type": None,
    "ServerName": None,
    "CimSystemProperties": {"Namespace": None, "ClassName": None},
}
PROPS = {"PropertyName": None, "Value": None, "Value1": None, "Value2": None}
ROLE = {
    "SiteCode": None,
    "RoleName": None,
    "NetworkOSPath": None,
    "RoleCount": None,
    "Type": None,
    "SslState": None,
    "ItemName": None,
    "ItemType": None,
    "NALPath": None,
    "Props": PROPS,
    "PropLists": {"PropertyListName": None},
}
ACCOUNT = {"SiteCode": None, "UserName": None, "ItemName": None, "ItemType": None}


@pytest.fixture
def lab() -> ConfigMgrLab:
    return ConfigMgrLab()


def cim(
    lab: ConfigMgrLab, class_name: str, select: dict, wql: str | None = None, site: str = "CAS", host: str = "cas.lab.example"
) -> list[dict]:
    params = {"Namespace": f"root\\SMS\\site_{site}", "ClassName": class_name}
    if wql:
        params["Filter"] = wql
    return lab.ok(step("c", "Get-CimInstance", select, **params), host=host)["c"]


def without(rows: list[dict], key: str) -> list[dict]:
    return [{k: v for k, v in r.items() if k != key} for r in rows]


def test_sms_site_holds_every_site_the_database_knows(lab):
    rows = cim(lab, "SMS_Site", SITE)
    sites = lab.dump()["sites"]
    assert without(rows, "CimSystemProperties") == [
        {
            "SiteCode": code,
            "SiteName": site["name"],
            "ReportingSiteCode": site["reporting_site_code"],
            "Type": {"CAS": 4, "PRIMARY": 2, "SECONDARY": 1}[site["type"]],
            "ServerName": site["server"],
        }
        for code, site in sorted(sites.items())
    ]
    assert [r["SiteCode"] for r in rows] == ["CAS", "PS1"]  # the top-level site's database knows both
    assert {r["ReportingSiteCode"] for r in rows} == {"", "CAS"}
    # The namespace an instance came from names the provider's own site.
    assert rows[0]["CimSystemProperties"] == {"Namespace": "root/SMS/site_CAS", "ClassName": "SMS_Site"}
    assert [r["SiteCode"] for r in cim(lab, "SMS_Site", SITE, site="PS1", host="ps1.lab.example")] == ["PS1"]


def test_sysresuse_with_props_holds_every_role_of_every_site_system(lab):
    shape = {k: v for k, v in ROLE.items() if k != "PropLists"}
    rows = cim(lab, "SMS_SCI_SysResUse", shape)
    model = {(ss["site_code"], ss["server"], role) for ss in lab.dump()["site_systems"] for role in ss["roles"]}
    assert {(r["SiteCode"], r["NetworkOSPath"][2:], r["RoleName"]) for r in rows} == model
    assert all(r["ItemType"] == "System Resource Usage" and r["ItemName"].endswith("," + r["RoleName"]) for r in rows)
    scp = [r for r in rows if r["RoleName"] == "SMS Dmp Connector"]
    assert [(r["SiteCode"], r["NetworkOSPath"]) for r in scp] == [("PS1", "\\\\ps1.lab.example")]
    assert {"PropertyName": "OfflineMode", "Value": 0, "Value1": "", "Value2": ""} in scp[0]["Props"]
    site_system = next(r for r in rows if r["RoleName"] == "SMS Site System" and r["SiteCode"] == "PS1")
    assert {p["PropertyName"] for p in site_system["Props"]} >= {"UseMachineAccount", "UseProxy", "ProxyName"}


def test_sysresuse_filters_of_the_read_plans(lab):
    shape = {"SiteCode": None, "RoleName": None, "NetworkOSPath": None}
    rows = cim(lab, "SMS_SCI_SysResUse", shape, "RoleName = 'SMS Dmp Connector' OR NetworkOSPath = '\\\\\\\\CAS.lab.example'")
    assert {(r["RoleName"], r["NetworkOSPath"]) for r in rows} >= {
        ("SMS Dmp Connector", "\\\\ps1.lab.example"),
        ("SMS Site System", "\\\\cas.lab.example"),
    }
    assert all(r["RoleName"] == "SMS Dmp Connector" or r["NetworkOSPath"] == "\\\\cas.lab.example" for r in rows)
    assert cim(lab, "SMS_SCI_SysResUse", shape, "NetworkOSPath = '\\\\\\\\scp01.lab.example'") == []


def test_accounts_one_instance_per_site(lab):
    lab.ok(step("n", "New-CMAccount", UserName="LAB\\svc-cmnaa", SiteCode="PS1", Password={"$secret": "pw"}))
    rows = cim(lab, "SMS_SCI_Reserved", ACCOUNT, "UserName = 'LAB\\\\svc-cmnaa'")
    assert sorted(r["SiteCode"] for r in rows) == ["CAS", "PS1"]
    assert all(r["ItemType"] == "User" for r in rows)
    assert cim(lab, "SMS_SCI_Reserved", ACCOUNT, "UserName = 'LAB\\\\svc-cmnaa' AND SiteCode = 'PS1'")[0]["SiteCode"] == "PS1"
    assert cim(lab, "SMS_SCI_Reserved", ACCOUNT, "UserName = 'LAB\\\\nobody'") == []


def test_unknown_properties_in_a_filter_are_an_invalid_query(lab):
    doc = lab.run(step("c", "Get-CimInstance", None, Namespace="root\\SMS\\site_CAS", ClassName="SMS_SCI_SysResUse", Filter="Server = 'x'"))
    assert doc["steps"][0]["error"]["message"] == "Invalid query "
