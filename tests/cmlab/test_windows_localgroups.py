"""Local groups: domain principals (computer accounts included), SIDs, and the LocalAccounts errors."""

from __future__ import annotations

import pytest
from windows_harness import WindowsLab

from tests.fixtures import step

MEMBER = {"Name": None, "ObjectClass": None, "PrincipalSource": None, "SID": None}
NS = "Microsoft.PowerShell.Commands"


@pytest.fixture
def lab() -> WindowsLab:
    return WindowsLab()


def admins(lab: WindowsLab, host: str = "scp01.lab.example") -> list[str]:
    return lab.dump_host(host)["local_groups"]["Administrators"]


def test_members_are_local_principals_with_stable_sids(lab):
    out = lab.ok(
        step("m", "Get-LocalGroupMember", MEMBER, Name="Administrators"),
        step("again", "Get-LocalGroupMember", {"SID": {"Value": None}}, Name="Administrators"),
    )
    members = out["m"]
    assert [(m["Name"], m["ObjectClass"], m["PrincipalSource"]) for m in members] == [
        ("LAB\\Domain Admins", "Group", "ActiveDirectory"),
        ("SCP01\\Administrator", "User", "Local"),
    ]
    domain_admins, administrator = (m["SID"] for m in members)
    assert domain_admins.startswith("S-1-5-21-") and domain_admins.endswith("-512")
    assert administrator.endswith("-500") and administrator.rsplit("-", 1)[0] != domain_admins.rsplit("-", 1)[0]
    assert [m["SID"]["Value"] for m in out["again"]] == [domain_admins, administrator]
    assert WindowsLab().ok(step("m", "Get-LocalGroupMember", MEMBER, Name="Administrators"))["m"] == members


def test_add_a_computer_account_then_it_lists_as_an_active_directory_user(lab):
    before = lab.model.dump()
    lab.ok(step("add", "Add-LocalGroupMember", Name="Administrators", Member=["lab.example\\cas$"]))
    assert "LAB\\CAS$" in admins(lab)  # stored as the canonical name
    out = lab.ok(step("m", "Get-LocalGroupMember", MEMBER, Name="Administrators", Member="CAS$"))["m"]
    assert [(m["Name"], m["ObjectClass"], m["PrincipalSource"]) for m in out] == [("LAB\\CAS$", "User", "ActiveDirectory")]
    by_sid = lab.ok(step("s", "Get-LocalGroupMember", {"Name": None}, Name="Administrators", Member=out[0]["SID"]))
    assert by_sid["s"] == [{"Name": "LAB\\CAS$"}]
    assert lab.model.dump() != before
    assert lab.model.dump()["domain"]["computers"] == ["CAS$", "INET01$", "PS1$", "SCP01$"]


def test_add_existing_member_is_member_exists_and_earlier_members_stay_added(lab):
    error = lab.error(
        step("add", "Add-LocalGroupMember", Name="Administrators", Member=["LAB\\svc-cminstall", "LAB\\Domain Admins", "LAB\\svc-cmproxy"])
    )
    assert error == {
        "message": "LAB\\Domain Admins is already a member of group Administrators.",
        "category": "ResourceExists",
        "fqid": f"MemberExists,{NS}.AddLocalGroupMemberCommand",
        "exception": f"{NS}.MemberExistsException",
    }
    assert "LAB\\svc-cminstall" in admins(lab) and "LAB\\svc-cmproxy" not in admins(lab)


def test_unknown_principal_and_unknown_group(lab):
    before = lab.model.dump()
    assert lab.error(step("a", "Add-LocalGroupMember", Name="Administrators", Member=["LAB\\ghost$"])) == {
        "message": "Principal LAB\\ghost$ was not found.",
        "category": "ObjectNotFound",
        "fqid": f"PrincipalNotFound,{NS}.AddLocalGroupMemberCommand",
        "exception": f"{NS}.PrincipalNotFoundException",
    }
    assert lab.error(step("a", "Add-LocalGroupMember", Name="Administrators", Member=["OTHER\\cmadmin"]))["fqid"].startswith(
        "PrincipalNotFound,"
    )
    group = lab.error(step("g", "Get-LocalGroupMember", Name="Power Users"))
    assert (group["message"], group["fqid"], group["exception"]) == (
        "Group Power Users was not found.",
        f"GroupNotFound,{NS}.GetLocalGroupMemberCommand",
        f"{NS}.GroupNotFoundException",
    )
    missing = lab.error(step("g", "Get-LocalGroupMember", Name="Administrators", Member="LAB\\cmadmin"))
    assert missing["fqid"] == f"PrincipalNotFound,{NS}.GetLocalGroupMemberCommand"
    assert lab.ok(step("w", "Get-LocalGroupMember", Name="Administrators", Member="*cm*"))["w"] == []
    assert lab.model.dump() == before


def test_remove_member_and_remove_non_member(lab):
    lab.host("scp01.lab.example").local_group("Administrators").members.append("LAB\\CAS$")
    lab.ok(step("rm", "Remove-LocalGroupMember", Name="Administrators", Member=["LAB\\cas$"]))
    assert admins(lab) == ["LAB\\Domain Admins", "SCP01\\Administrator"]
    error = lab.error(step("rm", "Remove-LocalGroupMember", Name="Administrators", Member=["LAB\\CAS$"]))
    assert error == {
        "message": "Member LAB\\CAS$ was not found in group Administrators.",
        "category": "ObjectNotFound",
        "fqid": f"MemberNotFound,{NS}.RemoveLocalGroupMemberCommand",
        "exception": f"{NS}.MemberNotFoundException",
    }


def test_whatif_changes_nothing_and_group_objects_by_ref(lab):
    before = lab.model.dump()
    lab.ok(step("add", "Add-LocalGroupMember", Name="Administrators", Member=["LAB\\CAS$"], WhatIf=True))
    assert lab.model.dump() == before
    out = lab.ok(
        step("g", "Get-LocalGroup", {"Name": None, "SID": None}, Name=["Admin*"]),
        step("m", "Get-LocalGroupMember", {"Name": None}, Group={"$ref": "g"}),
        step("add", "Add-LocalGroupMember", Group={"$ref": "g"}, Member=["LAB\\PS1$"]),
        step("sid", "Get-LocalGroupMember", {"Name": None}, SID="S-1-5-32-544", Member="PS1$"),
    )
    assert out["g"] == [{"Name": "Administrators", "SID": "S-1-5-32-544"}]
    assert len(out["m"]) == 2 and out["sid"] == [{"Name": "LAB\\PS1$"}]


def test_is_local_admin_follows_the_cmdlets(lab):
    host = lab.host("scp01.lab.example")
    assert not host.is_local_admin("LAB\\CAS$")
    lab.ok(step("add", "Add-LocalGroupMember", Name="Administrators", Member=["LAB\\CAS$"]))
    assert host.is_local_admin("LAB\\CAS$") and host.is_local_admin("lab\\cmadmin")  # via Domain Admins
