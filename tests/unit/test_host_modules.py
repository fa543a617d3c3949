"""Decisions of the host modules: local group members, firewall rules; finding an inventory host."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _firewall, _local_group
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import find_inventory_host
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult

ADMINS = _local_group.Member("LAB\\Domain Admins", "S-1-5-21-1-2-3-512")
CAS = _local_group.Member("LAB\\CAS$", "S-1-5-21-1-2-3-1103")


def decide(state, wanted, current=(ADMINS, CAS), group="Administrators"):
    return _local_group.decide(state, group, wanted, list(current))


def test_members_compare_case_insensitively_and_only_missing_ones_are_added():
    d = decide("present", ["lab\\cas$", "LAB\\Other", "LAB\\other"])
    assert d.changes.to_add == ["LAB\\Other"]
    assert d.result["members"] == ["LAB\\Domain Admins", "LAB\\CAS$", "LAB\\Other"]
    assert d.diff_header == "local group Administrators"
    assert d.before == ["LAB\\CAS$", "LAB\\Domain Admins"] and d.after == ["LAB\\CAS$", "LAB\\Domain Admins", "LAB\\Other"]


def test_members_given_as_sids_compare_by_sid():
    assert not decide("present", ["S-1-5-21-1-2-3-1103"]).changed
    d = decide("absent", ["s-1-5-21-1-2-3-512"])
    assert [m.name for m in d.changes.to_remove] == ["LAB\\Domain Admins"]


def test_a_dns_domain_name_is_left_to_windows_and_said():
    d = decide("present", ["lab.example\\CAS$"])
    assert d.changes.to_add == ["lab.example\\CAS$"]
    assert "Windows resolves it when it is added" in d.warnings[0]


def test_absent_removes_only_listed_members_that_are_there_by_sid():
    d = decide("absent", ["lab\\cas$", "LAB\\nobody"])
    assert d.changes.to_remove == [CAS]
    assert d.result["members"] == ["LAB\\Domain Admins"]
    assert not decide("absent", ["LAB\\nobody"]).changed
    plan = _local_group.write_plan("Administrators", d.changes)
    assert plan.steps[0].params == {"SID": "S-1-5-32-544", "Member": ["S-1-5-21-1-2-3-1103"]}


def test_administrators_is_named_by_its_well_known_sid_other_groups_by_name():
    assert _local_group.read_plan("administrators").steps[0].params == {"SID": "S-1-5-32-544"}
    assert _local_group.read_plan("Remote Desktop Users").steps[0].params == {"Name": "Remote Desktop Users"}
    assert _local_group.read_plan("S-1-5-32-555").steps[0].params == {"SID": "S-1-5-32-555"}


def test_each_member_is_added_in_its_own_step_and_the_outcome_is_read_per_step():
    d = decide("present", ["LAB\\a", "LAB\\b", "LAB\\c"], current=[])
    plan = _local_group.write_plan("Administrators", d.changes)
    assert [(s.id, s.params["Member"], s.on_error) for s in plan.steps[:3]] == [
        ("add_0", ["LAB\\a"], "continue"),
        ("add_1", ["LAB\\b"], "continue"),
        ("add_2", ["LAB\\c"], "continue"),
    ]
    assert plan.actions["add_1"] == "add LAB\\b to Administrators"
    written = PlanResult(
        {
            "add_0": StepResult("add_0", True, [], None),
            "add_1": StepResult("add_1", False, [], {"fqid": "MemberExists,Microsoft.PowerShell.Commands.AddLocalGroupMemberCommand"}),
            "add_2": StepResult("add_2", False, [], {"fqid": "PrincipalNotFound,Microsoft.PowerShell.Commands.AddLocalGroupMemberCommand"}),
        }
    )
    done = _local_group.outcome(d.changes, written)
    assert (done.added, done.already, [f[0] for f in done.failed]) == (["LAB\\a"], ["LAB\\b"], ["add_2"])
    assert plan.done(written) == ["add LAB\\a to Administrators"]


def test_firewall_profiles_and_ports_normalise():
    assert _firewall.normalize_profiles("Domain, Private") == ["domain", "private"]
    assert _firewall.normalize_profiles("Any") == ["domain", "private", "public"]
    assert _firewall.normalize_profiles(["public", "domain", "private"]) == ["domain", "private", "public"]
    assert _firewall.normalize_ports("Any") == []
    assert _firewall.normalize_ports(["8443", "443"]) == ["443", "8443"]


RULE = {
    "Name": "SCP-Out",
    "DisplayName": "SCP out",
    "Description": "",
    "Direction": "Outbound",
    "Action": "Allow",
    "Enabled": "True",
    "Profile": "Domain",
}
PORTS = {"Protocol": "TCP", "LocalPort": "Any", "RemotePort": "443"}


def args(**overrides):
    base = {
        "name": "SCP-Out",
        "display_name": None,
        "description": None,
        "direction": None,
        "action": None,
        "protocol": None,
        "local_port": None,
        "remote_port": None,
        "profiles": None,
        "enabled": None,
    }
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
    assert plan.steps[0].params == {"Name": "SCP-Out", "PassThru": True, "Enabled": "False", "RemotePort": ["443", "8443"]}


def test_a_display_name_is_changed_with_new_display_name():
    current = _firewall.observed(RULE, PORTS)
    plan = _firewall.write_plan(current, _firewall.desired(args(display_name="SCP (HTTPS out)"), current))
    assert plan.steps[0].params == {"Name": "SCP-Out", "PassThru": True, "NewDisplayName": "SCP (HTTPS out)"}


@pytest.mark.parametrize(("name", "sent"), [("WINRM*", "WINRM`*"), ("*", "`*"), ("a?[b]`c", "a`?`[b`]``c"), ("SCP-Out", "SCP-Out")])
def test_a_rule_name_is_a_literal_never_a_pattern(name, sent):
    assert _firewall.read_plan(name).steps[0].params == {"Name": sent}
    # Whatever the read returns, only the rule of exactly that name counts.
    other = {**RULE, "Name": "WINRM-HTTP-In-TCP", "InstanceID": "WINRM-HTTP-In-TCP"}
    assert _firewall.exact([other], [PORTS], name) == (None, None)
    removal = _firewall.write_plan(_firewall.RuleState(present=True, name=name), None)
    assert removal.steps[0].params == {"Name": sent}
    created = _firewall.write_plan(_firewall.RuleState(), _firewall.desired(args(name=name), _firewall.RuleState()))
    assert created.steps[0].params["Name"] == name  # New-NetFirewallRule takes it literally
    # The read-back follows the rule object the write returned, never the name again.
    assert created.steps[1].params == {"AssociatedNetFirewallRule": {"$ref": "new"}}


def test_a_new_rule_gets_defaults_for_what_is_not_given():
    want = _firewall.desired(args(direction="outbound", protocol="tcp", remote_port=["443"]), _firewall.RuleState())
    plan = _firewall.write_plan(_firewall.RuleState(), want)
    assert plan.steps[0].cmdlet == "New-NetFirewallRule"
    assert plan.steps[0].params == {
        "Name": "SCP-Out",
        "DisplayName": "SCP-Out",
        "Direction": "Outbound",
        "Action": "Allow",
        "Enabled": "True",
        "Profile": "Any",
        "Protocol": "TCP",
        "RemotePort": ["443"],
    }


def test_inventory_host_is_found_by_name_short_name_or_address():
    task_vars = {
        "groups": {"all": ["cas.lab.example", "scp01", "other"]},
        "hostvars": {"cas.lab.example": {}, "scp01": {"ansible_host": "127.0.0.1"}, "other": {"ansible_host": "ps1.lab.example"}},
    }
    assert find_inventory_host(task_vars, "CAS.lab.example") == "cas.lab.example"
    assert find_inventory_host(task_vars, "scp01.lab.example") == "scp01"
    assert find_inventory_host(task_vars, "ps1.lab.example") == "other"
    assert find_inventory_host(task_vars, "nothere.lab.example") is None
    assert find_inventory_host(task_vars, "x.lab.example", explicit="other") == "other"
    with pytest.raises(AnsibleActionFail, match="scp_host nope is not a host of the inventory"):
        find_inventory_host(task_vars, "x.lab.example", explicit="nope")


def test_a_name_that_windows_matches_to_several_rules_is_refused():
    """K (U+212A KELVIN SIGN) and k differ ordinally, but Windows matches -Name without regard to case: a change
    would reach both rules, so the module changes neither."""
    twins = [{**RULE, "Name": "Fold-k"}, {**RULE, "Name": "Fold-\u212a"}]
    with pytest.raises(AnsibleActionFail, match="matches 2 firewall rules"):
        _firewall.one_rule(twins, "Fold-\u212a")
    _firewall.one_rule(twins[:1], "Fold-\u212a")
    assert _firewall.exact(twins[:1], [PORTS], "Fold-\u212a") == (None, None)  # not the same rule
    assert _firewall.exact(twins, [PORTS], "FOLD-\u212a")[0]["Name"] == "Fold-\u212a"
