"""SMS_EXECUTIVE: thread control through the registry (docs/configmgr-behaviour.md#sms-executive-threads) and
the service, on the simulated clock."""

from __future__ import annotations

import pytest
import yaml
from windows_harness import THREADS, WindowsLab

from cmlab.model import ExecutiveTiming, ensure_executive
from cmlab.model.executive import default_dll
from cmlab.topology import TopologyError, parse_topology
from tests.fixtures import step

HOST = "ps1.lab.example"
THREAD = {"Requested Operation": None, "Current State": None}
COMPONENT = "SMS_TEST_COMPONENT"
KEY = f"{THREADS}\\{COMPONENT}"


@pytest.fixture
def lab() -> WindowsLab:
    lab = WindowsLab()
    executive = lab.host(HOST).executive
    executive.add_component(COMPONENT)
    lab.started = []
    executive.on_component_started(lambda fqdn, component: lab.started.append((fqdn, component)))
    return lab


def thread(lab: WindowsLab) -> dict:
    return lab.ok(step("t", "Get-ItemProperty", THREAD, LiteralPath=KEY), host=HOST)["t"][0]


def request(lab: WindowsLab, operation: str) -> None:
    lab.ok(step("r", "Set-ItemProperty", LiteralPath=KEY, Name="Requested Operation", Value=operation), host=HOST)


def test_the_thread_key_as_site_component_manager_leaves_it(lab):
    out = lab.ok(
        step(
            "t",
            "Get-ItemProperty",
            {"Requested Operation": None, "Current State": None, "DLL": None, "Startup Type": None},
            LiteralPath=KEY,
        ),
        step("kids", "Get-ChildItem", None, Path=THREADS, Name=True),
        host=HOST,
    )
    assert out["t"] == [
        {"Requested Operation": "None", "Current State": "Running", "DLL": "\\bin\\x64\\testcomponent.dll", "Startup Type": "Automatic"}
    ]
    assert COMPONENT in out["kids"]
    # docs/configmgr-behaviour.md#sms-executive-threads names the DLL
    assert default_dll("SMS_DMP_DOWNLOADER") == "\\bin\\x64\\dmpdownloader.dll"


def test_stop_is_picked_up_after_the_delay_then_start(lab):
    executive = lab.host(HOST).executive
    request(lab, "Stop")
    assert thread(lab) == {"Requested Operation": "Stop", "Current State": "Running"}  # not yet picked up
    lab.advance(executive.timing.pickup + 0.1)
    assert thread(lab) == {"Requested Operation": "Stop", "Current State": "Stopping"}
    lab.advance(executive.timing.stop + 0.1)
    assert thread(lab) == {"Requested Operation": "None", "Current State": "Stopped"}
    assert executive.component_state(COMPONENT) == "Stopped" and lab.started == []

    request(lab, "Start")
    lab.advance(executive.timing.pickup + 0.1)
    assert thread(lab) == {"Requested Operation": "None", "Current State": "Running"}
    assert lab.started == [(HOST, COMPONENT)]


def test_start_written_while_stopping_waits_for_the_stop(lab):
    executive = lab.host(HOST).executive
    request(lab, "Stop")
    lab.advance(executive.timing.pickup + 0.1)
    request(lab, "Start")  # Current State is Stopping
    lab.advance(executive.timing.pickup + 0.1)
    lab.advance(executive.timing.stop + 0.1)
    assert thread(lab) == {"Requested Operation": "None", "Current State": "Running"}
    assert lab.started == [(HOST, COMPONENT)]


def test_requests_that_change_nothing_and_unknown_values(lab):
    executive = lab.host(HOST).executive
    request(lab, "Start")  # already running
    lab.advance(executive.timing.pickup + 0.1)
    assert thread(lab) == {"Requested Operation": "None", "Current State": "Running"} and lab.started == []
    request(lab, "Pause")  # not an operation the executive knows
    lab.advance(executive.timing.pickup + 0.1)
    assert thread(lab)["Requested Operation"] == "Pause"


def test_new_item_property_also_triggers_and_kinds_are_kept(lab):
    executive = lab.host(HOST).executive
    lab.ok(
        step("n", "New-ItemProperty", LiteralPath=KEY, Name="Requested Operation", Value="Stop", PropertyType="String", Force=True),
        host=HOST,
    )
    lab.advance(executive.timing.pickup + 0.1)
    lab.advance(executive.timing.stop + 0.1)
    assert executive.component_state(COMPONENT) == "Stopped"
    values = lab.dump_host(HOST)["registry"]["HKEY_LOCAL_MACHINE"]["keys"]["SOFTWARE"]["keys"]["Microsoft"]["keys"]["SMS"]["keys"][
        "Components"
    ]["keys"]["SMS_EXECUTIVE"]["keys"]["Threads"]["keys"][COMPONENT]["values"]
    assert values["Requested Operation"] == {"kind": "String", "data": "None"}


def test_service_restart_restarts_every_thread_and_notifies(lab):
    executive = lab.host(HOST).executive
    request(lab, "Stop")
    lab.advance(executive.timing.pickup + 0.1)
    lab.advance(executive.timing.stop + 0.1)
    assert executive.component_state(COMPONENT) == "Stopped"
    out = lab.ok(
        step("r", "Restart-Service", {"Name": None, "Status": None}, Name="SMS_EXECUTIVE", Force=True, PassThru=True),
        step("s", "Get-Service", {"Status": None}, Name="SMS_EXECUTIVE"),
        host=HOST,
    )
    assert out == {"r": [{"Name": "SMS_EXECUTIVE", "Status": "Running"}], "s": [{"Status": "Running"}]}
    assert thread(lab) == {"Requested Operation": "None", "Current State": "Running"}
    assert set(executive.components()) <= {c for _, c in lab.started} and (HOST, COMPONENT) in lab.started


def test_stopped_service_stops_threads_and_ignores_requests(lab):
    executive = lab.host(HOST).executive
    lab.ok(step("stop", "Stop-Service", Name="SMS_EXECUTIVE", Force=True), host=HOST)
    assert executive.component_state(COMPONENT) == "Stopped"
    request(lab, "Start")
    lab.advance(executive.timing.pickup + 0.1)
    assert thread(lab) == {"Requested Operation": "Start", "Current State": "Stopped"} and lab.started == []
    lab.ok(step("start", "Start-Service", Name="SMS_EXECUTIVE"), host=HOST)
    assert thread(lab) == {"Requested Operation": "None", "Current State": "Running"}
    assert (HOST, COMPONENT) in lab.started


def test_service_errors(lab):
    assert lab.error(step("s", "Get-Service", Name="SMS_NOPE"), host=HOST) == {
        "message": "Cannot find any service with service name 'SMS_NOPE'.",
        "category": "ObjectNotFound",
        "fqid": "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand",
        "exception": "Microsoft.PowerShell.Commands.ServiceCommandException",
    }
    assert (
        lab.error(step("s", "Restart-Service", Name="SMS_NOPE"), host=HOST)["fqid"]
        == "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.RestartServiceCommand"
    )
    lab.host(HOST).service("SMS_EXECUTIVE").start_type = "Disabled"
    lab.host(HOST).service("SMS_EXECUTIVE").status = "Stopped"
    error = lab.error(step("s", "Start-Service", Name="SMS_EXECUTIVE"), host=HOST)
    assert error == {
        "message": "Service 'SMS_EXECUTIVE (SMS_EXECUTIVE)' cannot be started due to the following error: "
        "Cannot start service SMS_EXECUTIVE on computer '.'.",
        "category": "OpenError",
        "fqid": "CouldNotStartService,Microsoft.PowerShell.Commands.StartServiceCommand",
        "exception": "Microsoft.PowerShell.Commands.ServiceCommandException",
    }


def test_service_whatif_and_by_display_name(lab):
    before = lab.model.dump()
    out = lab.ok(
        step("w", "Stop-Service", Name="SMS_EXECUTIVE", WhatIf=True),
        step("d", "Get-Service", {"Name": None}, DisplayName=["Windows Remote*"]),
        host=HOST,
    )
    assert out["d"] == [{"Name": "WinRM"}] and lab.model.dump() == before


def test_ensure_executive_on_a_member_server():
    lab = WindowsLab()
    host = lab.host("scp01.lab.example")
    assert host.executive is None and host.service("SMS_EXECUTIVE") is None
    executive = ensure_executive(host, ExecutiveTiming(pickup=0.5, stop=0.25))
    assert ensure_executive(host) is executive and host.service("SMS_EXECUTIVE").status == "Running"
    assert executive.install_dir == "C:\\SMS" and executive.log_dir == "C:\\SMS\\Logs"
    assert host.fs.kind("C:\\SMS\\Logs") == "container"
    executive.add_component("SMS_DMP_DOWNLOADER")
    assert executive.components() == ["SMS_DMP_DOWNLOADER"] and executive.component_state("SMS_DMP_DOWNLOADER") == "Running"
    executive.remove_component("SMS_DMP_DOWNLOADER")
    assert executive.components() == [] and executive.component_state("SMS_DMP_DOWNLOADER") is None


def test_topology_sets_the_executive_timing_and_time_zone_bias():
    data = yaml.safe_load(open("inventories/lab/cmlab.yml", encoding="utf-8"))
    data["hosts"]["ps1.lab.example"]["sms_executive"] = {"pickup_seconds": 0.5, "stop_seconds": 0}
    data["hosts"]["ps1.lab.example"]["time_zone_bias"] = 240
    model = parse_topology(data).build_model("Topology-Test-1!")
    host = model.host(HOST)
    assert (host.executive.timing.pickup, host.executive.timing.stop, host.time_zone_bias) == (0.5, 0.0, 240)
    assert model.host("cas.lab.example").executive.timing == ExecutiveTiming()
    data["hosts"]["ps1.lab.example"]["sms_executive"] = {"pickup_seconds": -1}
    with pytest.raises(TopologyError, match=r"hosts\.ps1\.lab\.example\.sms_executive\.pickup_seconds"):
        parse_topology(data)
    data["hosts"]["ps1.lab.example"]["sms_executive"] = {"pickup": 1}
    with pytest.raises(TopologyError, match="unknown field"):
        parse_topology(data)
