"""Decisions of the host modules: local group members, firewall rules; finding an inventory host."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _firewall, _local_group
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import find_inventory_host


def test_members_compare_case_insensitively_and_only_missing_ones_are_added():
    d = _local_group.decide("present", ["lab\\cas$", "LAB\\Other", "LAB\\other"], ["LAB\\Domain Admins", "LAB\\CAS$"])
    assert d.to_add == ["LAB\\Other"]
    assert d.after == ["LAB\\Domain Admins", "LAB\\CAS$", "LAB\\Other"]


def test_absent_removes_only_listed_members_that_are_there():
    d = _local_group.decide("absent", ["lab\\cas$", "LAB\\nobody"], ["LAB\\Domain Admins", "LAB\\CAS$"])
    assert d.to_remove == ["LAB\\CAS$"]
    assert d.after == ["LAB\\Domain Admins"]
    assert not _local_group.decide("absent", ["LAB\\nobody"], ["LAB\\CAS$"]).changed


def test_firewall_profiles_and_ports_normalise():
    assert _firewall.normalize_profiles("Domain, Private") == ["domain", "private"]
    assert _firewall.normalize_profiles("Any") == ["domain", "private", "public"]
    assert _firewall.normalize_profiles(["public", "domain", "private"]) == ["domain", "private", "public"]
    assert _firewall.normalize_ports("Any") == []
    assert _firewall.normalize_ports(["8443", "443"]) == ["443", "8443"]


RULE = {"Name": "SCP-Out", "DisplayName": "SCP out", "Description": "", "Direction": "Outbound", "Action": "Allow",
        "Enabled": "True", "Profile": "Domain"}
PORTS = {"Protocol": "TCP", "LocalPort": "Any", "RemotePort": "443"}


def args(**overrides):
    base = {"name": "SCP-Out", "display_name": None, "description": None, "direction": None, "action": None, "protocol": None,
            "local_port": None, "remote_port": None, "profiles": None, "enabled": None}
    base.update(overrides)
    return base


def test_a_rule_matching_every_given_property_is_unchanged():
    current = _firewall.observed(RULE, PORTS)
    want = _firewall.desired(args(direction="outbound", protocol="tcp", remote_port=["443"], profiles=["domain"]), current)
    assert _firewall.differences(current, want) == []


def test_only_differing_properties_are_set():
    current = _firewall.observed(RULE, PORTS)
    want = _firewall.desired(args(remote_port=["443", "8443"], enabled=False), current)
    assert _firewall.differences(current, want) == ["enabled", "remote_port"]
    plan = _firewall.write_plan(current, want)
    assert plan.steps[0].cmdlet == "Set-NetFirewallRule"
    assert plan.steps[0].params == {"Name": "SCP-Out", "Enabled": "False", "RemotePort": ["443", "8443"]}


def test_a_new_rule_gets_defaults_for_what_is_not_given():
    want = _firewall.desired(args(direction="outbound", protocol="tcp", remote_port=["443"]), _firewall.RuleState())
    plan = _firewall.write_plan(_firewall.RuleState(), want)
    assert plan.steps[0].cmdlet == "New-NetFirewallRule"
    assert plan.steps[0].params == {"Name": "SCP-Out", "DisplayName": "SCP-Out", "Direction": "Outbound", "Action": "Allow",
                                    "Enabled": "True", "Profile": "Any", "Protocol": "TCP", "RemotePort": ["443"]}


def test_inventory_host_is_found_by_name_short_name_or_address():
    task_vars = {"groups": {"all": ["cas.lab.example", "scp01", "other"]},
                 "hostvars": {"cas.lab.example": {}, "scp01": {"ansible_host": "127.0.0.1"},
                              "other": {"ansible_host": "ps1.lab.example"}}}
    assert find_inventory_host(task_vars, "CAS.lab.example") == "cas.lab.example"
    assert find_inventory_host(task_vars, "scp01.lab.example") == "scp01"
    assert find_inventory_host(task_vars, "ps1.lab.example") == "other"
    assert find_inventory_host(task_vars, "nothere.lab.example") is None
    assert find_inventory_host(task_vars, "x.lab.example", explicit="other") == "other"
    with pytest.raises(AnsibleActionFail, match="scp_host nope is not a host of the inventory"):
        find_inventory_host(task_vars, "x.lab.example", explicit="nope")
