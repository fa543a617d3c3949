"""Site Component Manager installs and removes roles asynchronously
(docs/configmgr-behaviour.md#asynchronous-installation, #remote-site-system-requirements)."""

from __future__ import annotations

import pytest
from configmgr_harness import ConfigMgrLab, add_scp, default_topology

from tests.fixtures import step

SCP_COMPONENTS = {"SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR"}


@pytest.fixture
def lab() -> ConfigMgrLab:
    return ConfigMgrLab()


def test_add_returns_at_once_then_the_role_installs_on_the_clock(lab):
    lab.prepare_scp01()
    out = lab.ok(add_scp())
    assert out["add"] == [{"RoleName": "SMS Dmp Connector"}]  # the SysResUse exists at once
    assert lab.role_state("scp01.lab.example") == "installing"
    assert lab.states("scp01.lab.example") == dict.fromkeys(SCP_COMPONENTS, 3)  # INSTALLING
    scp01 = lab.model.host("scp01.lab.example")
    assert scp01.executive is None or scp01.executive.components() == []

    lab.advance(lab.timing.install_delay)
    assert lab.role_state("scp01.lab.example") == "installed"
    assert lab.states("scp01.lab.example") == dict.fromkeys(SCP_COMPONENTS, 1)  # STARTED
    assert {r["Status"] for r in lab.summarizer("MachineName='scp01.lab.example'")} <= {0, 2}
    assert scp01.service("SMS_EXECUTIVE").status == "Running"
    assert {c: scp01.executive.component_state(c) for c in SCP_COMPONENTS} == dict.fromkeys(SCP_COMPONENTS, "Running")
    assert any("SMS Dmp Connector" in line for line in lab.log("scp01.lab.example", r"C:\SMS\Logs\SrvBoot.log"))
    sitecomp = lab.tracing_log("cas.lab.example", "SMS_SITE_COMPONENT_MANAGER")
    assert any(line.startswith("Installing component SMS_DMP_DOWNLOADER...  $$<") for line in sitecomp)
    sitecomp = [line for line in sitecomp if "scp01" in line]
    assert any("executed successfully on server scp01.lab.example" in line for line in sitecomp)
    assert "$$<SMS_SITE_COMPONENT_MANAGER><" in sitecomp[-1]


def test_the_lifecycle_filter_of_the_module_reads_the_components(lab):
    # plugins/plugin_utils/_scp_lifecycle.py: TallyInterval plus LIKE 'SMS_DMP_%'
    rows = lab.summarizer("ComponentName LIKE 'SMS_DMP_%'", site="CAS")
    assert sorted((r["MachineName"], r["ComponentName"], r["State"]) for r in rows) == [
        ("ps1.lab.example", "SMS_DMP_DOWNLOADER", 1),
        ("ps1.lab.example", "SMS_DMP_UPLOADER", 1),
    ]
    assert lab.summarizer("ComponentName LIKE 'SMS_DMP_%'", host="ps1.lab.example", site="PS1")
    # A child site's namespace does not see its parent's rows.
    assert not lab.summarizer("MachineName='cas.lab.example'", host="ps1.lab.example", site="PS1")


def test_missing_admin_right_fails_then_the_retry_installs_without_re_adding(lab):
    lab.prepare_scp01(admin=False)
    assert lab.role_state("scp01.lab.example", "SMS Site System") == "install_failed"
    lab.ok(add_scp())
    lab.advance(lab.timing.install_delay)
    assert lab.role_state("scp01.lab.example") == "install_failed"
    assert lab.states("scp01.lab.example") == dict.fromkeys(SCP_COMPONENTS, 3)  # stuck INSTALLING
    scm = lab.summarizer("ComponentName='SMS_SITE_COMPONENT_MANAGER' AND MachineName='cas.lab.example'")
    assert [r["Status"] for r in scm] == [2]  # Critical
    lines = [line for line in lab.tracing_log("cas.lab.example", "SMS_SITE_COMPONENT_MANAGER") if "scp01" in line]
    assert "LAB\\CAS$ (the site server's computer account) is not a local administrator on scp01.lab.example" in lines[-2]
    assert lines[-1].startswith("Failed to install SMS Dmp Connector on server scp01.lab.example. Will retry")
    assert "not a local administrator" in lab.dump()["site_systems"][1]["roles"]["SMS Dmp Connector"]["detail"]

    # The right is granted (through the engine, as a playbook would); the next cycle installs.
    lab.ok(step("grant", "Add-LocalGroupMember", Group="Administrators", Member=["LAB\\CAS$"]), host="scp01.lab.example")
    lab.advance(lab.timing.install_retry)
    assert lab.role_state("scp01.lab.example") == "installed"
    assert lab.role_state("scp01.lab.example", "SMS Site System") == "installed"
    assert lab.states("scp01.lab.example") == dict.fromkeys(SCP_COMPONENTS, 1)
    assert [r["Status"] for r in lab.summarizer("ComponentName='SMS_SITE_COMPONENT_MANAGER' AND MachineName='cas.lab.example'")] == [0]


def test_an_installation_account_that_is_admin_is_enough(lab):
    lab.model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\svc-cmnaa")
    lab.ok(
        step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", Force=True),
        step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", SiteCode="CAS", AccountName="LAB\\svc-cmnaa"),
        add_scp(),
    )
    lab.advance(lab.timing.install_delay)
    assert lab.role_state("scp01.lab.example") == "installed"


def test_install_failure_fault_fails_once_then_the_retry_succeeds(lab):
    lab.prepare_scp01()
    lab.faults.add("install_failure", "scp01.lab.example", count=1)
    lab.ok(add_scp())
    lab.advance(lab.timing.install_delay)
    assert lab.role_state("scp01.lab.example") == "install_failed"
    lab.advance(lab.timing.install_retry)
    assert lab.role_state("scp01.lab.example") == "installed"


def test_hman_raises_3306_for_a_new_site_system_role(lab):
    lab.prepare_scp01()
    lab.ok(add_scp())
    out = lab.ok(
        step(
            "m",
            "Get-CMSiteStatusMessage",
            {"Component": None, "MessageID": None, "MachineName": None},
            Component="SMS_HIERARCHY_MANAGER",
            MessageId=[3306],
        )
    )
    assert out["m"][-1] == {"Component": "SMS_HIERARCHY_MANAGER", "MessageID": 3306, "MachineName": "cas.lab.example"}


def test_remove_deletes_the_site_control_entry_at_once_and_uninstalls_later(lab):
    lab.ok(
        step("rm", "Remove-CMSiteRole", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", RoleName="SMS Dmp Connector", Force=True)
    )
    assert lab.ok(step("scp", "Get-CMServiceConnectionPoint", AllSite=True))["scp"] == []
    assert lab.states("ps1.lab.example") == {
        "SMS_DMP_DOWNLOADER": 5,
        "SMS_DMP_UPLOADER": 5,
        "SMS_SERVICE_CONNECTOR": 5,
        "SMS_EXECUTIVE": 1,
        "SMS_HIERARCHY_MANAGER": 1,
        "SMS_SITE_COMPONENT_MANAGER": 1,
    }
    assert lab.dump()["deinstalling"] == [{"site_code": "PS1", "server": "ps1.lab.example", "role": "SMS Dmp Connector", "detail": ""}]
    ps1 = lab.model.host("ps1.lab.example")
    assert ps1.executive.component_state("SMS_DMP_DOWNLOADER") == "Running"

    lab.advance(lab.timing.uninstall_delay)
    assert set(lab.states("ps1.lab.example")) == {"SMS_EXECUTIVE", "SMS_HIERARCHY_MANAGER", "SMS_SITE_COMPONENT_MANAGER"}
    assert ps1.executive.component_state("SMS_DMP_DOWNLOADER") is None
    assert lab.dump()["deinstalling"] == []
    assert "scp_runtime" not in lab.dump()
    sitecomp = lab.tracing_log("ps1.lab.example", "SMS_SITE_COMPONENT_MANAGER")
    assert sitecomp[-1].startswith("Successfully deinstalled SMS Dmp Connector from server ps1.lab.example.")


def test_a_move_uninstalls_the_old_and_installs_the_new(lab):
    lab.prepare_scp01()
    lab.ok(add_scp())
    lab.advance(lab.timing.install_delay)
    assert [r["server"] for r in lab.dump()["scp_runtime"]] == ["scp01.lab.example"]
    assert set(lab.states("ps1.lab.example")).isdisjoint(SCP_COMPONENTS)


def test_restarting_site_component_manager_retries_at_once(lab):
    lab.prepare_scp01(admin=False)
    lab.ok(add_scp())
    lab.advance(lab.timing.install_delay)
    assert lab.role_state("scp01.lab.example") == "install_failed"
    lab.ok(step("grant", "Add-LocalGroupMember", Group="Administrators", Member=["LAB\\CAS$"]), host="scp01.lab.example")
    lab.ok(step("restart", "Restart-Service", Name=["SMS_SITE_COMPONENT_MANAGER"]))
    lab.advance(lab.timing.install_delay)  # well before the next retry
    assert lab.timing.install_delay < lab.timing.install_retry
    assert lab.role_state("scp01.lab.example") == "installed"
    assert lab.role_state("scp01.lab.example", "SMS Site System") == "installed"


# Issue 12: the one-SCP refusal relaxed; an unreachable old server -------------------------------------------


def scp_states(lab: ConfigMgrLab, server: str) -> dict[str, int]:
    return {c: s for c, s in lab.states(server).items() if c in SCP_COMPONENTS}


def two_scp_lab(refuse: bool) -> ConfigMgrLab:
    data = default_topology()
    data["hierarchies"]["lab"]["refuse_second_scp"] = refuse
    return ConfigMgrLab(data=data)


def test_the_provider_refuses_a_second_scp_unless_the_topology_relaxes_it():
    lab = two_scp_lab(refuse=True)
    lab.model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\CAS$")
    lab.ok(step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", SiteCode="CAS"))
    doc = lab.run(add_scp())
    assert "already has a service connection point on ps1.lab.example" in doc["steps"][0]["error"]["message"]

    lab = two_scp_lab(refuse=False)
    lab.model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\CAS$")
    lab.ok(step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", SiteCode="CAS"), add_scp())
    lab.advance(lab.timing.install_delay)
    scps = lab.ok(step("s", "Get-CMServiceConnectionPoint", {"NetworkOSPath": None}, AllSite=True))["s"]
    assert sorted(s["NetworkOSPath"] for s in scps) == ["\\\\ps1.lab.example", "\\\\scp01.lab.example"]
    assert {r["server"] for r in lab.dump()["scp_runtime"]} == {"ps1.lab.example", "scp01.lab.example"}


def test_an_unreachable_old_server_fails_its_deinstall_until_it_answers(lab):
    lab.faults.add("host_down", "ps1.lab.example")
    lab.ok(step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", Force=True))
    assert lab.role_state("ps1.lab.example") is None  # gone from the site control file at once
    lab.advance(lab.timing.uninstall_delay)
    deinstalling = lab.dump()["deinstalling"]
    assert deinstalling == [
        {
            "site_code": "PS1",
            "server": "ps1.lab.example",
            "role": "SMS Dmp Connector",
            "detail": "the server cannot be reached (The network path was not found.)",
        }
    ]
    assert scp_states(lab, "ps1.lab.example") == dict.fromkeys(SCP_COMPONENTS, 5)  # DE_INSTALLING
    lines = lab.tracing_log("ps1.lab.example", "SMS_SITE_COMPONENT_MANAGER")
    assert (
        "ERROR: Cannot connect to server ps1.lab.example to deinstall SMS Dmp Connector: the server cannot be "
        "reached (The network path was not found.)." in lines[-2]
    )
    lab.advance(lab.timing.install_retry)
    assert lab.dump()["deinstalling"]  # retried, still unreachable

    lab.faults.clear(kind="host_down")
    lab.advance(lab.timing.install_retry)
    assert lab.dump()["deinstalling"] == []
    assert scp_states(lab, "ps1.lab.example") == {}
    assert lab.tracing_log("ps1.lab.example", "SMS_SITE_COMPONENT_MANAGER")[-1].startswith(
        "Successfully deinstalled SMS Dmp Connector from server ps1.lab.example."
    )
    assert any(
        "deinstalling role SMS Dmp Connector" in line
        for line in lab.log("ps1.lab.example", r"C:\Program Files\Microsoft Configuration Manager\Logs\SrvBoot.log")
    )


def test_a_restarting_server_is_unreachable_for_site_component_manager_too(lab):
    lab.prepare_scp01()
    lab.ok(add_scp())
    scp01 = lab.model.host("scp01.lab.example")
    with lab.model.lock:
        scp01.restart()
    lab.advance(scp01.restart_timing.shutdown_delay)
    lab.advance(lab.timing.install_delay)
    assert lab.role_state("scp01.lab.example") == "install_failed"
    lab.advance(scp01.restart_timing.down + lab.timing.install_retry)
    assert lab.role_state("scp01.lab.example") == "installed"
