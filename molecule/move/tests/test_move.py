"""Verify the move scenario: the SCP left scp01 for scp02, and scp01 keeps nothing of it."""

import json

import jmespath
import pytest
import testinfra

testinfra_hosts = ["sms_provider"]
OLD, NEW = "scp01.lab.example", "scp02.lab.example"


def lab_host(request, name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=request.config.option.ansible_inventory)


@pytest.fixture(scope="module")
def info(host):
    return host.ansible("configmgr.scp.service_connection_point_info")


def test_the_scp_is_on_the_new_server_at_the_top_level_site(info):
    assert info["placement_ok"]
    assert jmespath.search("service_connection_points[].[site_code, site_system_server, mode]", info) == [
        ["CAS", NEW, "online"]]


def test_the_old_server_holds_no_scp(info):
    assert jmespath.search(f"service_connection_points[?site_system_server=='{OLD}']", info) == []


def sms_executive_probe(request, server):
    """sms_executive in check mode: would SMS_DMP_DOWNLOADER need starting on the server?"""
    return lab_host(request, server).backend.run_ansible(
        "configmgr.scp.sms_executive", json.dumps({"component": "SMS_DMP_DOWNLOADER", "state": "started"}), check=True)


def test_the_scp_components_run_on_the_new_server(request):
    probe = sms_executive_probe(request, NEW)
    assert probe["changed"] is False and probe["states_seen"] == ["Running"], probe


def test_the_old_server_has_no_scp_component_left(request):
    probe = sms_executive_probe(request, OLD)
    assert "SMS_DMP_DOWNLOADER is not a component of SMS_Executive on this host" in probe["msg"], probe
