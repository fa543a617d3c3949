"""Verify the health scenario: the SCP that started CRITICAL works after the role, as the site and its
server show it.

testinfra runs each check through its ansible backend (`host.ansible`, an ad-hoc `ansible` run over the
lab's WinRM, in check mode), with the collection's own read-only modules and jmespath queries.
"""

import json

import jmespath
import pytest
import testinfra

testinfra_hosts = ["sms_provider"]
SCP_SERVER = "scp01.lab.example"


@pytest.fixture(scope="module")
def info(host):
    return host.ansible("configmgr.scp.service_connection_point_info")


@pytest.fixture(scope="module")
def scp_host(request):
    return testinfra.get_host(f"ansible://{SCP_SERVER}", ansible_inventory=request.config.option.ansible_inventory)


def test_the_scp_works_where_the_hierarchy_needs_it(info):
    assert info["placement_ok"]
    assert jmespath.search("service_connection_point.[site_code, site_system_server, mode]", info) == [
        "CAS", SCP_SERVER, "online"]
    health = info["health"]
    assert health["healthy"], health["problems"]
    assert health["problems"] == [] and health["unreadable"] == []


def test_connector_ok_last_check_11410_last_sync_ok(info):
    health = info["health"]
    assert health["component_status"] == "OK"
    assert health["connectivity_check"] == "passed"
    assert jmespath.search("last_check_message.[message_id, severity, machine]", health) == [11410, "informational",
                                                                                           SCP_SERVER]
    assert health["last_sync"]["ok"] is True and health["last_sync"]["last_success"]
    assert health["endpoints"] == []


def test_the_downloader_runs_in_the_configured_mode(info):
    health = info["health"]
    assert (health["configured_mode"], health["effective_mode"], health["restart_required"]) == ("online", "online", False)
    assert not health["console_notification"]["raised"]


def test_the_status_messages_tell_the_story(host):
    messages = host.ansible("configmgr.scp.status_message_info", json.dumps({"since": "1d", "limit": 0}))
    assert messages["component_status"] == "OK"
    newest_on_scp01 = jmespath.search(f"messages[?machine=='{SCP_SERVER}'] | [0].message_id", messages)
    assert newest_on_scp01 == 11410
    # The SCP the lab started with, on ps1, was CRITICAL: 11412 and 11488 are in the history.
    assert {11412, 11488} <= set(jmespath.search("messages[?machine=='ps1.lab.example'].message_id", messages))
    assert "every check passed" in messages["explanations"]["11410"]["meaning"]


def test_the_logs_on_the_scp_server_agree(scp_host):
    logs = scp_host.ansible("configmgr.scp.log_info", json.dumps({
        "name": ["Dmpdownloader.log", "EndpointConnectivityCheckWorker.log"],
        "query": "[?contains(message, 'Service connection point mode') || contains(message, 'check completed')].message"}))
    lines = logs["query_result"]
    assert any("Service connection point mode: Online" in line for line in lines)
    completed = [line for line in lines if line.startswith("Endpoint connectivity check completed")]
    assert completed and "Status message 11410" in completed[-1]
