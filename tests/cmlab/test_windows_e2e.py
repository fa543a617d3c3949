"""The Windows host behaviours through a real client: the collection's runner plans, its bootstrap,
pywinrm over NTLM to a running Lab; assertions on the result document and the state dump."""

from __future__ import annotations

import time

import pytest
import winrm

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    PlanResult,
    RunnerError,
    ref,
)
from cmlab.lab import Lab
from cmlab.model import ExecutiveTiming, LogWriter
from tests.fixtures import LAB_PASSWORD
from tests.winrm_plan import run_plan_over

SCP01, PS1 = "scp01.lab.example", "ps1.lab.example"
THREAD = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\SMS_E2E_COMPONENT"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab("inventories/lab/cmlab.yml", tmp_path_factory.mktemp("lab"), ephemeral_ports=True, password=LAB_PASSWORD) as running:
        yield running


def send(lab: Lab, host: str, plan: Plan) -> PlanResult:
    ep = lab.endpoints()[host]
    protocol = winrm.Protocol(
        f"http://{ep['address']}:{ep['http_port']}/wsman",
        transport="ntlm",
        username="LAB\\cmadmin",
        password=LAB_PASSWORD,
        operation_timeout_sec=5,
        read_timeout_sec=10,
    )
    return run_plan_over(protocol, plan)


def test_group_member_and_firewall_rule_over_winrm(lab):
    plan = Plan()
    plan.add("add", "Add-LocalGroupMember", {"Name": "Administrators", "Member": ["LAB\\CAS$"]})
    plan.add(
        "members", "Get-LocalGroupMember", {"Name": "Administrators"}, select={"Name": None, "ObjectClass": None, "PrincipalSource": None}
    )
    plan.add(
        "rule",
        "New-NetFirewallRule",
        {
            "Name": "CMSCP-Out-443",
            "DisplayName": "SCP HTTPS out",
            "Direction": "Outbound",
            "Protocol": "TCP",
            "RemotePort": ["443"],
            "Profile": "Any",
        },
        select={"Name": None, "Enabled": None},
    )
    plan.add(
        "ports", "Get-NetFirewallPortFilter", {"AssociatedNetFirewallRule": ref("rule")}, select={"Protocol": None, "RemotePort": None}
    )
    result = send(lab, SCP01, plan)
    assert {"Name": "LAB\\CAS$", "ObjectClass": "User", "PrincipalSource": "ActiveDirectory"} in result.output("members")
    assert result.output("rule") == [{"Name": "CMSCP-Out-443", "Enabled": "True"}]
    assert result.output("ports") == [{"Protocol": "TCP", "RemotePort": ["443"]}]
    host = lab.dump_state()["hosts"][SCP01]
    assert "LAB\\CAS$" in host["local_groups"]["Administrators"]
    assert host["firewall_rules"]["CMSCP-Out-443"]["remote_port"] == ["443"]

    again = Plan()
    again.add("add", "Add-LocalGroupMember", {"Name": "Administrators", "Member": ["LAB\\CAS$"]})
    with pytest.raises(RunnerError) as e:
        send(lab, SCP01, again)
    assert "LAB\\CAS$ is already a member of group Administrators." in str(e.value)


def test_thread_stop_is_observed_after_real_time_passes(lab):
    with lab.model.lock:
        executive = lab.model.host(PS1).executive
        executive.timing = ExecutiveTiming(pickup=0.2, stop=0.2)
        executive.add_component("SMS_E2E_COMPONENT")
    read = Plan()
    read.add("t", "Get-ItemProperty", {"LiteralPath": THREAD}, select={"Requested Operation": None, "Current State": None})
    write = Plan()
    write.add("w", "Set-ItemProperty", {"LiteralPath": THREAD, "Name": "Requested Operation", "Value": "Stop"})
    write.add("t", "Get-ItemProperty", {"LiteralPath": THREAD}, select={"Requested Operation": None, "Current State": None})
    assert send(lab, PS1, write).output("t") == [{"Requested Operation": "Stop", "Current State": "Running"}]
    seen = []
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        state = send(lab, PS1, read).output("t")[0]
        if not seen or seen[-1] != state:
            seen.append(state)
        if state["Current State"] == "Stopped":
            break
        time.sleep(0.15)
    # The lab picks the request up when a client next looks (the engine runs what is due first).
    assert seen[-2:] == [
        {"Requested Operation": "Stop", "Current State": "Stopping"},
        {"Requested Operation": "None", "Current State": "Stopped"},
    ]


def test_log_tail_and_missing_rule_errors(lab):
    with lab.model.lock:
        writer = LogWriter(
            lab.model.host(PS1), "C:\\Program Files\\Microsoft Configuration Manager\\Logs\\e2e.log", "SMS_E2E_COMPONENT", max_size=300
        )
        for i in range(8):
            writer.write(f"e2e line {i}", thread=4)
    plan = Plan()
    plan.add(
        "path",
        "Get-ItemProperty",
        {"LiteralPath": "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\SMS_E2E_COMPONENT", "Name": ["TraceFilename"]},
        select={"TraceFilename": None},
    )
    plan.add("tail", "Get-Content", {"LiteralPath": ref("path", "TraceFilename"), "Tail": 1})
    plan.add("rule", "Get-NetFirewallRule", {"Name": "NOPE"}, on_error="continue")
    result = send(lab, PS1, plan)
    assert result.output("tail")[0].startswith("e2e line 7  $$<SMS_E2E_COMPONENT><")
    assert "No MSFT_NetFirewallRule objects found with property 'Name' equal to 'NOPE'." in result.steps["rule"].error["message"]
