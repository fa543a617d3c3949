"""Verify the offline scenario: the SCP is offline, the hierarchy has the update the workflow imported and nothing
is left to import, and the usage data level is the one asked for."""

import json

import pytest
import testinfra

testinfra_hosts = ["sms_provider"]
SCP = "scp01.lab.example"


def lab_host(request, name):
    return testinfra.get_host(f"ansible://{name}", ansible_inventory=request.config.option.ansible_inventory)


@pytest.fixture(scope="module")
def info(host):
    return host.ansible("configmgr.scp.service_connection_point_info")


def test_the_scp_is_offline_at_the_top_level_site(info):
    assert info["placement_ok"]
    assert info["service_connection_point"]["mode"] == "offline"
    assert info["service_connection_point"]["site_system_server"] == SCP


def test_the_usage_data_level_is_basic(host):
    level = host.ansible("configmgr.scp.usage_data", "level=basic", check=True)
    assert level["changed"] is False and level["before"] == {"level": "basic"}


def test_the_update_is_imported_and_nothing_is_left(request):
    """import in check mode on the SCP server: every update pack copied there is known to the hierarchy."""
    probe = lab_host(request, SCP).backend.run_ansible("configmgr.scp.service_connection_tool", json.dumps({
        "action": "import", "tool_path": "C:\\ServiceConnection\\ServiceConnectionTool",
        "update_pack_src": "C:\\ServiceConnection\\UpdatePacks", "provider_host": "cas.lab.example"}), check=True)
    assert probe["changed"] is False and probe["pending"] == [], probe
    assert len(probe["already_imported"]) == 1 and probe["scp_mode"] == "offline"


def test_the_tool_folder_is_the_sites_version(request):
    inet = lab_host(request, "inet01.lab.example").backend.run_ansible(
        "configmgr.scp.service_connection_tool_info", json.dumps({"tool_path": "C:\\ServiceConnection\\ServiceConnectionTool"}),
        check=True)
    site = lab_host(request, "cas.lab.example").backend.run_ansible("configmgr.scp.service_connection_tool_info", "",
                                                                    check=True)
    # The whole folder was copied (the tool's runs add its log and output files next to it).
    assert inet["found"] and inet["version"] == site["version"] and set(site["files"]) <= set(inet["files"])
