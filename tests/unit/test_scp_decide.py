"""The service connection point's decisions, from CIM reads shaped like the real instances."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _hierarchy, _scp

SITE_ROWS = [
    {
        "SiteCode": "CAS",
        "SiteName": "Central",
        "ReportingSiteCode": "",
        "Type": 4,
        "ServerName": "CAS.lab.example",
        "CimSystemProperties": {"Namespace": "root/SMS/site_CAS"},
    },
    {
        "SiteCode": "PS1",
        "SiteName": "Primary",
        "ReportingSiteCode": "CAS",
        "Type": 2,
        "ServerName": "ps1.lab.example",
        "CimSystemProperties": {"Namespace": "root/SMS/site_CAS"},
    },
]
SITES = _hierarchy.parse_sites(SITE_ROWS)


def sysresuse(server: str, site: str, offline: int | None = 0, extra_props: bool = True, role: str = "SMS Dmp Connector") -> dict:
    props = []
    if extra_props:
        props.append({"PropertyName": "SomethingElse", "Value": 1, "Value1": "", "Value2": ""})
    if offline is not None:
        props.append({"PropertyName": "OfflineMode", "Value": offline, "Value1": "", "Value2": ""})
    return {"SiteCode": site, "RoleName": role, "NetworkOSPath": "\\\\" + server, "RoleCount": 2, "Props": props}


def site_system(server: str, site: str) -> dict:
    return sysresuse(server, site, offline=None, extra_props=False, role="SMS Site System")


def hierarchy(*roles: dict, sites=SITE_ROWS) -> _hierarchy.Hierarchy:
    return _hierarchy.Hierarchy(
        sites=_hierarchy.parse_sites(sites), provider_site=_hierarchy.namespace_site(sites), roles=_hierarchy.parse_roles(list(roles))
    )


def decide(*roles, targets=("CAS",), **overrides):
    args = {"state": "present", "server": "scp01.lab.example", "site_code": None, "mode": None, "allow_move": False}
    args.update(overrides)
    rows = [*roles, *(site_system("scp01.lab.example", t) for t in targets)]
    return _scp.decide(hierarchy=hierarchy(*rows), **args)


def actions(d):
    return [(a.kind, a.server, a.site_code, a.mode) for a in d.changes.actions]


def test_parse_reads_offline_mode_by_name_not_position():
    # The first prop is not OfflineMode: a reader that takes .Props[0] would report "offline".
    [scp] = _scp.scps(hierarchy(sysresuse("PS1.Lab.Example", "ps1", offline=0)))
    assert scp == _scp.ScpInstance("PS1", "ps1.lab.example", "online")
    [scp] = _scp.scps(hierarchy(sysresuse("ps1.lab.example", "PS1", offline=1)))
    assert scp.mode == "offline"


def test_top_level_site_is_the_one_without_parent():
    assert _hierarchy.top_level_site(SITES).site_code == "CAS"
    assert _hierarchy.top_level_site(SITES).type == "cas"


def test_no_or_several_top_level_sites_is_an_error():
    with pytest.raises(AnsibleActionFail, match="no site without a parent"):
        _hierarchy.top_level_site([s for s in SITES if s.site_code == "PS1"])
    twins = _hierarchy.parse_sites([{"SiteCode": "AAA", "ReportingSiteCode": ""}, {"SiteCode": "BBB", "ReportingSiteCode": ""}])
    with pytest.raises(AnsibleActionFail, match="AAA, BBB"):
        _hierarchy.top_level_site(twins)


def test_the_provider_site_is_the_namespace_the_sites_were_read_from():
    assert hierarchy().provider_site == "CAS"
    assert _hierarchy.namespace_site([{"CimSystemProperties": {"Namespace": "ROOT\\SMS\\site_ps1"}}]) == "PS1"
    assert _hierarchy.namespace_site([{"SiteCode": "CAS"}]) is None


def test_new_scp_is_added_online_at_top_level_site():
    d = decide()
    assert actions(d) == [("add", "scp01.lab.example", "CAS", "online")]
    assert d.before["present"] is False
    assert d.after == {"present": True, "site_code": "CAS", "site_system_server": "scp01.lab.example", "mode": "online"}
    assert d.changed and not d.result["restart_required"]
    assert d.result["actions"] == ["add the service connection point on scp01.lab.example (site CAS, online)"]
    assert d.diff_header == "service connection point"


def test_scp_elsewhere_without_allow_move_fails_naming_where_it_is():
    with pytest.raises(AnsibleActionFail) as e:
        decide(sysresuse("ps1.lab.example", "PS1"))
    assert "ps1.lab.example (site PS1)" in str(e.value)
    assert "allow_move" in str(e.value)


def test_move_removes_first_then_adds_keeping_the_mode():
    d = decide(sysresuse("ps1.lab.example", "PS1", offline=1), allow_move=True)
    assert actions(d) == [("remove", "ps1.lab.example", "PS1", None), ("add", "scp01.lab.example", "CAS", "offline")]
    assert d.changes.moving
    assert d.before["site_system_server"] == "ps1.lab.example"
    assert d.after["site_system_server"] == "scp01.lab.example"


def test_in_place_with_same_mode_changes_nothing():
    d = decide(sysresuse("scp01.lab.example", "CAS", offline=0), mode="online")
    assert not d.changed
    assert d.before == d.after


def test_mode_change_requires_downloader_restart():
    d = decide(sysresuse("scp01.lab.example", "CAS", offline=0), mode="offline")
    assert [(a.kind, a.mode) for a in d.changes.actions] == [("set_mode", "offline")]
    assert d.result["restart_required"] and d.result["restart_component"] == "SMS_DMP_DOWNLOADER"
    assert d.after["mode"] == "offline"


def test_child_site_is_refused_before_anything_is_written():
    with pytest.raises(AnsibleActionFail, match=r"not the top-level site.*CAS"):
        decide(site_code="PS1")


def test_unknown_site_is_refused():
    with pytest.raises(AnsibleActionFail, match="not a site of this hierarchy"):
        decide(site_code="XYZ")


def test_server_that_is_not_a_site_system_is_refused():
    with pytest.raises(AnsibleActionFail, match="not a site system server of site CAS"):
        decide(targets=["PS1"])


def test_absent_removes_wherever_it_is():
    d = decide(sysresuse("ps1.lab.example", "PS1"), state="absent", server=None)
    assert [(a.kind, a.server) for a in d.changes.actions] == [("remove", "ps1.lab.example")]
    assert d.after["present"] is False


def test_absent_on_another_server_changes_nothing():
    d = decide(sysresuse("ps1.lab.example", "PS1"), state="absent")
    assert not d.changed
    assert d.after["site_system_server"] == "ps1.lab.example"


def test_write_plan_orders_remove_before_add_and_reads_back_through_cim():
    d = decide(sysresuse("ps1.lab.example", "PS1"), allow_move=True)
    plan = _scp.write_plan(d.changes.actions)
    assert [(s.cmdlet, s.params) for s in plan.steps] == [
        ("Remove-CMServiceConnectionPoint", {"SiteSystemServerName": "ps1.lab.example", "SiteCode": "PS1", "Force": True}),
        ("Add-CMServiceConnectionPoint", {"SiteSystemServerName": "scp01.lab.example", "SiteCode": "CAS", "Mode": "Online"}),
        (
            "Get-CimInstance",
            {"Namespace": {"$provider": "namespace"}, "ClassName": "SMS_SCI_SysResUse", "Filter": "RoleName = 'SMS Dmp Connector'"},
        ),
    ]
    # The plan builder says what each write step does: a failure names what was already done.
    assert plan.actions == {
        "remove_0": "remove the service connection point from ps1.lab.example (site PS1)",
        "add_1": "add the service connection point on scp01.lab.example (site CAS, online)",
    }


def test_read_plan_reads_through_cim_only_sites_then_the_scps_and_the_servers_roles_in_one_query():
    plan = _scp.read_plan("scp01.lab.example")
    assert [s.cmdlet for s in plan.steps] == ["Get-CimInstance", "Get-CimInstance"]
    assert [s.params["ClassName"] for s in plan.steps] == ["SMS_Site", "SMS_SCI_SysResUse"]
    assert plan.steps[1].params["Filter"] == ("RoleName = 'SMS Dmp Connector' OR NetworkOSPath = '\\\\\\\\scp01.lab.example'")
    assert all(not plan.catalog.get(s.cmdlet).is_configmgr for s in plan.steps)


def test_wql_literals_cannot_carry_syntax():
    assert _hierarchy.wql_string("LAB\\o'brien") == "'LAB\\\\o\\'brien'"


def test_check_mode_predicts_the_add_when_an_earlier_task_would_make_the_site_system():
    d = decide(targets=[], check_mode=True)
    assert [a.kind for a in d.changes.actions] == ["add"]
    assert "assumes an earlier task" in d.warnings[0]
