"""Verify the default scenario: the SCP moved from the child primary to scp01 at the top-level site.

testinfra runs each check through its ansible backend (`host.ansible`, an ad-hoc `ansible` run over
the lab's WinRM, in check mode), with the collection's own modules: the info module reads the
hierarchy, and the other modules in check mode answer "is anything left to do?".
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


def test_one_online_scp_on_scp01_at_the_top_level_site(info):
    assert info["placement_ok"]
    assert jmespath.search("top_level_site.site_code", info) == "CAS"
    assert jmespath.search("service_connection_points[].[site_code, site_system_server, mode]", info) == [
        ["CAS", SCP_SERVER, "online"]]


def test_the_child_primary_holds_no_scp_any_more(info):
    assert jmespath.search("service_connection_points[?site_code=='PS1']", info) == []


def test_nothing_left_to_do_on_the_scp_server(scp_host):
    admins = scp_host.ansible("configmgr.scp.local_group_member", json.dumps({"members": ["LAB\\CAS$"]}))
    assert not admins["changed"], admins
    downloader = scp_host.ansible("configmgr.scp.sms_executive",
                                  json.dumps({"component": "SMS_DMP_DOWNLOADER", "state": "started"}))
    assert not downloader["changed"], downloader
