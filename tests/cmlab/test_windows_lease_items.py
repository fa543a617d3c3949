"""What the move lease and the prerequisite check of service_connection_point need of a host: registry keys
created only when absent and removed only when present (one of two runs wins), who the host is
(Win32_ComputerSystem), and the members of a domain group (Win32_GroupUser)."""

from __future__ import annotations

import pytest
from windows_harness import WindowsLab

from tests.fixtures import step

HOST = "cas.lab.example"
LEASES = "HKLM:\\SOFTWARE\\configmgr.scp\\Leases"
LEASE = f"{LEASES}\\ServiceConnectionPoint-CAS"


@pytest.fixture
def lab() -> WindowsLab:
    return WindowsLab()


def test_a_key_is_created_once_and_removed_once(lab):
    lab.ok(
        step("root", "New-Item", Path=["HKLM:\\SOFTWARE\\configmgr.scp"]),
        step("leases", "New-Item", Path=[LEASES]),
        step("lease", "New-Item", Path=[LEASE]),
        step("holder", "New-Item", Path=[f"{LEASE}\\run-a"]),
        step("value", "Set-ItemProperty", LiteralPath=[f"{LEASE}\\run-a"], Name="Target", Value="scp01.lab.example"),
        host=HOST,
    )
    again = lab.error(step("lease", "New-Item", Path=[LEASE]), host=HOST)
    assert again["message"] == "A key at this path already exists." and again["category"] == "ResourceExists"

    holders = lab.ok(step("read", "Get-ItemProperty", {"Target": None, "PSChildName": None}, Path=[f"{LEASE}\\*"]), host=HOST)
    assert holders["read"] == [{"Target": "scp01.lab.example", "PSChildName": "run-a"}]

    # A key with subkeys is not removed without -Recurse: PowerShell would ask, and cannot under -NonInteractive.
    asks = lab.error(step("unlock", "Remove-Item", LiteralPath=[LEASE]), host=HOST)
    assert asks["fqid"].startswith("HostException") and "NonInteractive" in asks["message"]

    lab.ok(step("release", "Remove-Item", LiteralPath=[f"{LEASE}\\run-a"], Recurse=True), host=HOST)
    gone = lab.error(step("release", "Remove-Item", LiteralPath=[f"{LEASE}\\run-a"], Recurse=True), host=HOST)
    assert gone["fqid"].startswith("PathNotFound") and "does not exist" in gone["message"]
    lab.ok(step("unlock", "Remove-Item", LiteralPath=[LEASE]), host=HOST)
    assert lab.ok(step("read", "Get-ItemProperty", Path=[f"{LEASE}\\*"]), host=HOST)["read"] == []


def test_who_the_host_is(lab):
    out = lab.ok(step("me", "Get-CimInstance", {"Name": None, "DNSHostName": None, "Domain": None}, ClassName="Win32_ComputerSystem"))
    assert out["me"] == [{"Name": "SCP01", "DNSHostName": "scp01", "Domain": "lab.example"}]


def test_members_of_a_domain_group_and_of_a_local_group(lab):
    lab.model.domain.groups["CM Installers"] = ["svc-cminstall", "CAS$"]
    select = {"PartComponent": {"Domain": None, "Name": None}}
    out = lab.ok(
        step(
            "domain",
            "Get-CimInstance",
            select,
            ClassName="Win32_GroupUser",
            Filter="GroupComponent = \"Win32_Group.Domain='LAB',Name='CM Installers'\"",
        ),
        step(
            "local",
            "Get-CimInstance",
            select,
            ClassName="Win32_GroupUser",
            Filter="GroupComponent = \"Win32_Group.Domain='SCP01',Name='Administrators'\"",
        ),
        step(
            "none",
            "Get-CimInstance",
            select,
            ClassName="Win32_GroupUser",
            Filter="GroupComponent = \"Win32_Group.Domain='LAB',Name='No Such Group'\"",
        ),
    )
    assert out["domain"] == [
        {"PartComponent": {"Domain": "LAB", "Name": "svc-cminstall"}},
        {"PartComponent": {"Domain": "LAB", "Name": "CAS$"}},
    ]
    assert {"Domain": "LAB", "Name": "Domain Admins"} in [o["PartComponent"] for o in out["local"]]
    assert out["none"] == []
    # An unfiltered query would enumerate every group of the domain: not simulated, and says so.
    loud = lab.error(step("all", "Get-CimInstance", select, ClassName="Win32_GroupUser"))
    assert loud["category"] == "NotImplemented"
