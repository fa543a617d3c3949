"""The service connection point's decisions, from plan outputs shaped like the real objects."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp

SITES = _scp.parse_sites([
    {"SiteCode": "CAS", "SiteName": "Central", "ReportingSiteCode": "", "Type": 4, "ServerName": "CAS.lab.example"},
    {"SiteCode": "PS1", "SiteName": "Primary", "ReportingSiteCode": "CAS", "Type": 2, "ServerName": "ps1.lab.example"},
])


def sysresuse(server: str, site: str, offline: int | None = 0, extra_props: bool = True) -> dict:
    props = []
    if extra_props:
        props.append({"PropertyName": "SomethingElse", "Value": 1, "Value1": "", "Value2": ""})
    if offline is not None:
        props.append({"PropertyName": "OfflineMode", "Value": offline, "Value1": "", "Value2": ""})
    return {"SiteCode": site, "RoleName": "SMS Dmp Connector", "NetworkOSPath": "\\\\" + server, "Props": props}


def decide(**overrides):
    args = {"state": "present", "server": "scp01.lab.example", "site_code": None, "mode": None, "allow_move": False,
            "sites": SITES, "scps": [], "target_site_codes": ["CAS"]}
    args.update(overrides)
    return _scp.decide(**args)


def test_parse_reads_offline_mode_by_name_not_position():
    # The first prop is not OfflineMode: a reader that takes .Props[0] would report "offline".
    [scp] = _scp.parse_scps([sysresuse("PS1.Lab.Example", "ps1", offline=0)])
    assert scp == _scp.ScpInstance("PS1", "ps1.lab.example", "online")
    [scp] = _scp.parse_scps([sysresuse("ps1.lab.example", "PS1", offline=1)])
    assert scp.mode == "offline"


def test_top_level_site_is_the_one_without_parent():
    assert _scp.top_level_site(SITES).site_code == "CAS"
    assert _scp.top_level_site(SITES).type == "cas"


def test_no_or_several_top_level_sites_is_an_error():
    with pytest.raises(AnsibleActionFail, match="no site without a parent"):
        _scp.top_level_site([s for s in SITES if s.site_code == "PS1"])
    twins = _scp.parse_sites([{"SiteCode": "AAA", "ReportingSiteCode": ""}, {"SiteCode": "BBB", "ReportingSiteCode": ""}])
    with pytest.raises(AnsibleActionFail, match="AAA, BBB"):
        _scp.top_level_site(twins)


def test_new_scp_is_added_online_at_top_level_site():
    d = decide()
    assert [(a.kind, a.server, a.site_code, a.mode) for a in d.actions] == [("add", "scp01.lab.example", "CAS", "online")]
    assert d.before.present is False
    assert d.after.to_dict() == {"present": True, "site_code": "CAS", "site_system_server": "scp01.lab.example", "mode": "online"}
    assert not d.restart_required


def test_scp_elsewhere_without_allow_move_fails_naming_where_it_is():
    with pytest.raises(AnsibleActionFail) as e:
        decide(scps=_scp.parse_scps([sysresuse("ps1.lab.example", "PS1")]))
    assert "ps1.lab.example (site PS1)" in str(e.value)
    assert "allow_move" in str(e.value)


def test_move_removes_first_then_adds_keeping_the_mode():
    d = decide(allow_move=True, scps=_scp.parse_scps([sysresuse("ps1.lab.example", "PS1", offline=1)]))
    assert [(a.kind, a.server, a.site_code) for a in d.actions] == [
        ("remove", "ps1.lab.example", "PS1"), ("add", "scp01.lab.example", "CAS")]
    assert d.actions[1].mode == "offline"
    assert d.before.site_system_server == "ps1.lab.example"
    assert d.after.site_system_server == "scp01.lab.example"


def test_in_place_with_same_mode_changes_nothing():
    d = decide(mode="online", scps=_scp.parse_scps([sysresuse("scp01.lab.example", "CAS", offline=0)]))
    assert not d.changed
    assert d.before == d.after


def test_mode_change_requires_downloader_restart():
    d = decide(mode="offline", scps=_scp.parse_scps([sysresuse("scp01.lab.example", "CAS", offline=0)]))
    assert [(a.kind, a.mode) for a in d.actions] == [("set_mode", "offline")]
    assert d.restart_required
    assert d.after.mode == "offline"


def test_child_site_is_refused_before_anything_is_written():
    with pytest.raises(AnsibleActionFail, match=r"not the top-level site.*CAS"):
        decide(site_code="PS1")


def test_unknown_site_is_refused():
    with pytest.raises(AnsibleActionFail, match="not a site of this hierarchy"):
        decide(site_code="XYZ")


def test_server_that_is_not_a_site_system_is_refused():
    with pytest.raises(AnsibleActionFail, match="not a site system server of site CAS"):
        decide(target_site_codes=["PS1"])


def test_absent_removes_wherever_it_is():
    d = decide(state="absent", server=None, scps=_scp.parse_scps([sysresuse("ps1.lab.example", "PS1")]))
    assert [(a.kind, a.server) for a in d.actions] == [("remove", "ps1.lab.example")]
    assert d.after.present is False


def test_absent_on_another_server_changes_nothing():
    d = decide(state="absent", scps=_scp.parse_scps([sysresuse("ps1.lab.example", "PS1")]))
    assert not d.changed
    assert d.after.site_system_server == "ps1.lab.example"


def test_write_plan_orders_remove_before_add_and_reads_back():
    d = decide(allow_move=True, scps=_scp.parse_scps([sysresuse("ps1.lab.example", "PS1")]))
    plan = _scp.write_plan(d.actions)
    assert [(s.cmdlet, s.params) for s in plan.steps] == [
        ("Remove-CMServiceConnectionPoint", {"SiteSystemServerName": "ps1.lab.example", "SiteCode": "PS1", "Force": True}),
        ("Add-CMServiceConnectionPoint", {"SiteSystemServerName": "scp01.lab.example", "SiteCode": "CAS", "Mode": "Online"}),
        ("Get-CMSiteRole", {"RoleName": "SMS Dmp Connector", "AllSite": True}),
    ]


def test_read_plan_is_one_invocation_of_three_reads():
    plan = _scp.read_plan("scp01.lab.example")
    assert [s.cmdlet for s in plan.steps] == ["Get-CMSite", "Get-CMSiteRole", "Get-CMSiteSystemServer"]


def test_check_mode_predicts_the_add_when_an_earlier_task_would_make_the_site_system():
    d = decide(target_site_codes=[], check_mode=True)
    assert [a.kind for a in d.actions] == ["add"]
    assert "assumes an earlier task" in d.warnings[0]
