"""The prerequisite check of a remote SCP (issue 8 items 7 and 11): the right host, the account the site will
really use, membership through domain groups, and a warning where the host cannot tell."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_prerequisites as prereq
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy, RoleRow, Site
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult

SCP = "scp01.lab.example"
COMPUTER = prereq.Installer("CAS$", "the site server's computer account")
INSTALLER = prereq.Installer("LAB\\svc-cminstall", "the site system installation account")


def member(name, object_class="User", source="ActiveDirectory"):
    return {"Name": name, "SID": "S-1-5-21-1", "ObjectClass": object_class, "PrincipalSource": source}


def host(members, groups=None, identity=("scp01", "lab.example")):
    """A fake SCP server: the first read (who it is, its Administrators), then the domain groups asked for."""
    calls = []

    def read(plan):
        calls.append([s.id for s in plan.steps])
        if plan.steps[0].id == "identity":
            return PlanResult(
                {
                    "identity": StepResult(
                        "identity", True, [{"Name": identity[0].upper(), "DNSHostName": identity[0], "Domain": identity[1]}], None
                    ),
                    "members": StepResult("members", True, members, None),
                }
            )
        steps = {}
        for step in plan.steps:
            group = step.params["Filter"].split("Name='")[1].rstrip("'\"")
            found = (groups or {}).get(group)
            if isinstance(found, str):
                steps[step.id] = StepResult(step.id, False, [], {"message": found})
            else:
                steps[step.id] = StepResult(step.id, True, [{"PartComponent": p} for p in found or []], None)
        return PlanResult(steps)

    return read, calls


def user(domain, name, cls="Win32_UserAccount"):
    return {"Domain": domain, "Name": name, "CimSystemProperties": {"ClassName": cls}}


def test_the_site_uses_the_installation_account_when_the_site_system_has_one():
    props = {"UseMachineAccount": {"Value": 0}, "UserName": {"Value2": "LAB\\svc-cminstall"}}
    h = Hierarchy(sites=[Site("CAS", None, None, "cas", "cas.lab.example")], roles=[RoleRow("CAS", SCP, "SMS Site System", 1, props)])
    assert prereq.installing_account(h, SCP, "CAS", "cas.lab.example") == INSTALLER
    assert prereq.installing_account(Hierarchy(), SCP, "CAS", "cas.lab.example") == COMPUTER


def test_the_computer_account_passes_when_the_installation_account_is_the_one_used_it_does_not():
    # Before: the computer account's membership let the check pass although the site would use svc-cminstall.
    read, _ = host([member("LAB\\CAS$"), member("LAB\\Domain Admins", "Group")], {"Domain Admins": [user("LAB", "cmadmin")]})
    assert prereq.check(read, "scp01", SCP, COMPUTER) is None
    with pytest.raises(
        AnsibleActionFail,
        match=r"Prerequisite missing on scp01.lab.example: LAB\\svc-cminstall \(the site "
        r"system installation account\) is not a member of the local Administrators",
    ):
        prereq.check(read, "scp01", SCP, INSTALLER)


def test_membership_through_a_domain_group_counts():
    read, calls = host([member("LAB\\CM Installers", "Group")], {"CM Installers": [user("LAB", "svc-cminstall")]})
    assert prereq.check(read, "scp01", SCP, INSTALLER) is None
    assert calls == [["identity", "members"], ["group_0"]]


def test_what_the_host_cannot_tell_is_a_warning_not_a_guess():
    read, _ = host(
        [member("LAB\\CM Installers", "Group"), member("AzureAD\\Admins", "Group", "AzureAD"), member("LAB\\Tier1", "Group")],
        {"CM Installers": [user("LAB", "Nested", "Win32_Group")], "Tier1": "Access is denied. "},
    )
    warning = prereq.check(read, "scp01", SCP, INSTALLER)
    assert warning.startswith(
        "Could not tell whether LAB\\svc-cminstall (the site system installation account) is an administrator of scp01.lab.example"
    )
    assert "LAB\\Nested is a group in LAB\\CM Installers" in warning
    assert "AzureAD\\Admins is a group of AzureAD" in warning
    assert "the members of LAB\\Tier1 could not be read (Access is denied.)" in warning


def test_the_domain_in_another_form_is_a_warning():
    read, _ = host([member("LAB\\svc-cminstall")])
    warning = prereq.check(read, "scp01", SCP, prereq.Installer("lab.example\\svc-cminstall", "the site system installation account"))
    assert "only if its domain is the same" in warning


def test_a_scp_host_that_is_another_server_is_refused():
    read, calls = host([member("LAB\\CAS$")], identity=("ps1", "lab.example"))
    with pytest.raises(prereq.WrongHost, match=r"scp_host ps1 is ps1.lab.example, not site_system_server scp01.lab.example"):
        prereq.check(read, "ps1", SCP, COMPUTER)
    assert calls == [["identity", "members"]]
