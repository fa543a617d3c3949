"""Windows Firewall rules: MSFT_NetFirewallRule objects, port and application filters, CDXML errors."""

from __future__ import annotations

import pytest
from windows_harness import WindowsLab

from tests.fixtures import step

RULE = {
    "Name": None,
    "DisplayName": None,
    "Description": None,
    "Group": None,
    "Direction": None,
    "Action": None,
    "Enabled": None,
    "Profile": None,
    "PrimaryStatus": None,
}
PORTS = {"Protocol": None, "LocalPort": None, "RemotePort": None, "IcmpType": None}


@pytest.fixture
def lab() -> WindowsLab:
    return WindowsLab()


def new_rule(**params) -> dict:
    base = {
        "Name": "CMSCP-Out-443",
        "DisplayName": "ConfigMgr SCP (HTTPS-Out)",
        "Direction": "Outbound",
        "Protocol": "TCP",
        "RemotePort": ["443"],
        "Description": "Service connection point to Microsoft",
    }
    return step("new", "New-NetFirewallRule", RULE, **{**base, **params})


def test_create_read_and_dump(lab):
    out = lab.ok(
        new_rule(Group="ConfigMgr", Profile="Domain,Private"),
        step("rule", "Get-NetFirewallRule", RULE, Name="CMSCP-Out-443"),
        step("ports", "Get-NetFirewallPortFilter", PORTS, AssociatedNetFirewallRule={"$ref": "rule"}),
        step("app", "Get-NetFirewallApplicationFilter", {"Program": None}, AssociatedNetFirewallRule={"$ref": "rule"}),
    )
    expected = {
        "Name": "CMSCP-Out-443",
        "DisplayName": "ConfigMgr SCP (HTTPS-Out)",
        "Description": "Service connection point to Microsoft",
        "Group": "ConfigMgr",
        "Direction": "Outbound",
        "Action": "Allow",
        "Enabled": "True",
        "Profile": "Domain, Private",
        "PrimaryStatus": "OK",
    }
    assert out["new"] == [expected] and out["rule"] == [expected]
    assert out["ports"] == [{"Protocol": "TCP", "LocalPort": ["Any"], "RemotePort": ["443"], "IcmpType": ["Any"]}]
    assert out["app"] == [{"Program": "Any"}]
    dumped = lab.dump_host("scp01.lab.example")["firewall_rules"]["CMSCP-Out-443"]
    assert dumped == {
        "display_name": "ConfigMgr SCP (HTTPS-Out)",
        "description": "Service connection point to Microsoft",
        "group": "ConfigMgr",
        "direction": "Outbound",
        "action": "Allow",
        "enabled": True,
        "profile": "Domain, Private",
        "protocol": "TCP",
        "local_port": ["Any"],
        "remote_port": ["443"],
        "program": "Any",
    }


def test_all_three_profiles_are_any_and_object_shape(lab):
    out = lab.ok(new_rule(Profile=["Domain", "Private", "Public"]), step("raw", "Get-NetFirewallRule", None, Name="CMSCP-Out-443"))
    assert out["new"][0]["Profile"] == "Any"
    assert out["raw"] == [
        'MSFT_NetFirewallRule (CreationClassName = "MSFT|FW|FirewallRule|CMSCP-Out-443", '
        'PolicyRuleName = "", SystemCreationClassName = "", SystemName = "")'
    ]


def test_builtin_rules_and_wildcards(lab):
    out = lab.ok(
        step("winrm", "Get-NetFirewallRule", {"Name": None, "Profile": None}, Name=["WINRM-HTTP-In-*"]),
        step("by_display", "Get-NetFirewallRule", {"Name": None}, DisplayName=["File and Printer*"]),
        step("none", "Get-NetFirewallRule", {"Name": None}, Name=["NOPE-*"]),
        step("outbound", "Get-NetFirewallRule", {"Name": None}, Direction=["Outbound"]),
        step("all", "Get-NetFirewallRule", {"Name": None}),
    )
    assert out["winrm"] == [
        {"Name": "WINRM-HTTP-In-TCP", "Profile": "Domain, Private"},
        {"Name": "WINRM-HTTP-In-TCP-PUBLIC", "Profile": "Public"},
    ]
    assert out["by_display"] == [{"Name": "FPS-SMB-In-TCP"}] and out["none"] == []
    assert out["outbound"] == [{"Name": "CoreNet-DNS-Out-UDP"}] and len(out["all"]) == 4


def test_not_found_is_the_cdxml_error(lab):
    for cmdlet, params, prop in (
        ("Get-NetFirewallRule", {"Name": "Nope"}, "Name"),
        ("Get-NetFirewallRule", {"DisplayName": "Nope"}, "DisplayName"),
        ("Set-NetFirewallRule", {"Name": "Nope", "Enabled": "False"}, "Name"),
        ("Remove-NetFirewallRule", {"Name": "Nope"}, "Name"),
    ):
        error = lab.error(step("x", cmdlet, **params))
        assert error == {
            "message": f"No MSFT_NetFirewallRule objects found with property '{prop}' equal to 'Nope'.  Verify the "
            "value of the property and retry.",
            "category": "ObjectNotFound",
            "fqid": f"CmdletizationQuery_NotFound_{prop},{cmdlet}",
            "exception": "Microsoft.PowerShell.Cmdletization.Cim.CimJobException",
        }


def test_duplicate_name_and_invalid_ports_change_nothing(lab):
    lab.ok(new_rule())
    before = lab.model.dump()
    assert lab.error(new_rule(DisplayName="Another")) == {
        "message": "Cannot create a file when that file already exists.",
        "category": "ResourceExists",
        "fqid": "Windows System Error 183,New-NetFirewallRule",
        "exception": "Microsoft.Management.Infrastructure.CimException",
    }
    invalid = lab.error(new_rule(Name="No-Protocol", Protocol="Any"))
    assert (invalid["message"], invalid["fqid"]) == ("The parameter is incorrect.", "Windows System Error 87,New-NetFirewallRule")
    assert lab.error(new_rule(Name="Bad-Port", RemotePort=["70000"]))["fqid"] == "Windows System Error 87,New-NetFirewallRule"
    assert (
        lab.error(step("s", "Set-NetFirewallRule", Name="CMSCP-Out-443", Protocol="Any"))["fqid"]
        == "Windows System Error 87,Set-NetFirewallRule"
    )
    assert lab.model.dump() == before


def test_set_changes_only_the_given_properties(lab):
    lab.ok(new_rule(Profile="Domain"))
    out = lab.ok(
        step("set", "Set-NetFirewallRule", RULE, Name="CMSCP-Out-443", Enabled="False", RemotePort=["443", "8443"], PassThru=True),
        step("ports", "Get-NetFirewallPortFilter", PORTS, AssociatedNetFirewallRule={"$ref": "set"}),
        step("quiet", "Set-NetFirewallRule", Name="CMSCP-Out-443", Action="Block"),
    )
    assert out["set"][0]["Enabled"] == "False" and out["set"][0]["Profile"] == "Domain"
    assert out["set"][0]["Direction"] == "Outbound" and out["quiet"] == []
    assert out["ports"][0]["RemotePort"] == ["443", "8443"] and out["ports"][0]["Protocol"] == "TCP"
    rule = lab.dump_host("scp01.lab.example")["firewall_rules"]["CMSCP-Out-443"]
    assert (rule["enabled"], rule["action"], rule["description"]) == (False, "Block", "Service connection point to Microsoft")


def test_remove_and_whatif(lab):
    lab.ok(new_rule())
    before = lab.model.dump()
    lab.ok(
        step("rm", "Remove-NetFirewallRule", Name="CMSCP-Out-443", WhatIf=True),
        step("new", "New-NetFirewallRule", Name="X", DisplayName="X", WhatIf=True),
    )
    assert lab.model.dump() == before
    out = lab.ok(
        step("get", "Get-NetFirewallRule", Name="CMSCP-*"),
        step("rm", "Remove-NetFirewallRule", {"Name": None}, InputObject={"$ref": "get"}, PassThru=True),
    )
    assert out["rm"] == [{"Name": "CMSCP-Out-443"}]
    assert "CMSCP-Out-443" not in lab.dump_host("scp01.lab.example")["firewall_rules"]


def test_port_filter_refuses_other_objects(lab):
    doc = lab.run(
        step("svc", "Get-Service", Name="WinRM"), step("p", "Get-NetFirewallPortFilter", AssociatedNetFirewallRule={"$ref": "svc"})
    )
    assert doc["error"]["fqid"].startswith("MismatchedPSTypeName,") and "MSFT_NetFirewallRule" in doc["error"]["message"]
