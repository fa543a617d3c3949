"""Verify the install_failure scenario after the fix: the SCP installed on scp01 and running there,
and a rerun of the SCP task would change nothing."""

import json

import jmespath
import pytest
import testinfra

testinfra_hosts = ["sms_provider"]
SCP_SERVER = "scp01.lab.example"


@pytest.fixture(scope="module")
def scp_host(request):
    return testinfra.get_host(f"ansible://{SCP_SERVER}", ansible_inventory=request.config.option.ansible_inventory)


def test_one_scp_on_scp01_at_the_top_level_site(host):
    info = host.ansible("configmgr.scp.service_connection_point_info")
    assert info["placement_ok"]
    assert jmespath.search("service_connection_points[].[site_code, site_system_server]", info) == [["CAS", SCP_SERVER]]


def test_the_scp_task_has_nothing_left_to_do(host):
    scp = host.ansible("configmgr.scp.service_connection_point",
                       json.dumps({"site_system_server": SCP_SERVER, "mode": "online", "scp_host": SCP_SERVER}))
    assert scp["changed"] is False, scp


def test_the_role_is_installed_and_its_components_run(scp_host):
    admins = scp_host.ansible("configmgr.scp.local_group_member", json.dumps({"members": ["LAB\\CAS$"]}))
    assert admins["changed"] is False, admins
    probe = scp_host.backend.run_ansible(
        "configmgr.scp.sms_executive", json.dumps({"component": "SMS_DMP_DOWNLOADER", "state": "started"}), check=True)
    assert probe["changed"] is False and probe["states_seen"] == ["Running"], probe
