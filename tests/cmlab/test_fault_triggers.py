"""Faults that wait for a command (cmlab/faults.py `at_command`, `phase`): a test can strike exactly the N-th
engine invocation of a run, before it starts or after it ran, and the plans journal says what each was."""

from __future__ import annotations

import time

import pytest
import winrm

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, TransportError
from cmlab.faults import Faults
from cmlab.lab import Lab
from tests.fixtures import LAB_PASSWORD
from tests.winrm_plan import run_plan_over

HOST = "scp01.lab.example"
KEY = "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab("inventories/lab/cmlab.yml", tmp_path_factory.mktemp("lab"), ephemeral_ports=True, password=LAB_PASSWORD) as running:
        yield running


@pytest.fixture(autouse=True)
def clean(lab):
    lab.faults.clear()
    lab.reset_counters()
    yield
    lab.faults.clear()


def protocol(lab: Lab) -> winrm.Protocol:
    ep = lab.endpoints()[HOST]
    return winrm.Protocol(
        f"http://{ep['address']}:{ep['http_port']}/wsman",
        transport="ntlm",
        username="LAB\\cmadmin",
        password=LAB_PASSWORD,
        operation_timeout_sec=2,
        read_timeout_sec=3,
    )


def write(value: int) -> Plan:
    plan = Plan()
    plan.add(f"write{value}", "Set-ItemProperty", {"LiteralPath": KEY, "Name": "Marker", "Value": value})
    return plan


def marker(lab: Lab):
    return lab.model.host(HOST).registry.get_value(f"Registry::{KEY.replace('HKLM:', 'HKEY_LOCAL_MACHINE')}", "Marker")


def answer_again(lab: Lab, plan: Plan) -> None:
    """After host_down the listener reopens within its fault poll (0.5 s)."""
    deadline = time.monotonic() + 5
    while True:
        try:
            run_plan_over(protocol(lab), plan)
            return
        except TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@pytest.mark.parametrize("kind, options", [("http_500", {}), ("wsman_fault", {}), ("host_down", {}), ("delay", {"seconds": 4})])
@pytest.mark.parametrize("phase, ran", [("before", False), ("after", True)])
def test_a_fault_strikes_the_nth_command_before_it_starts_or_after_it_ran(lab, kind, options, phase, ran):
    lab.faults.add(kind, HOST, at_command=2, phase=phase, **options)
    run_plan_over(protocol(lab), write(1))  # the first command is not struck
    assert marker(lab) == 1
    with pytest.raises(TransportError) as failed:
        run_plan_over(protocol(lab), write(2))
    assert marker(lab) == (2 if ran else 1)
    # The collection's runner never says "did not run" of a plan that ran (it may say "unknown" of one that
    # did not: pywinrm's own clean-up can hide where the exchange failed).
    if ran:
        assert failed.value.ran is None, failed.value.operation
    else:
        assert failed.value.ran in (False, None)
    lab.faults.clear()
    answer_again(lab, write(3))  # cleared: the lab answers again
    assert marker(lab) == 3
    assert lab.counters()[HOST]["plans"][-1] == "write3"


def test_a_request_fault_strikes_once_and_a_host_fault_stays():
    faults = Faults()
    faults.add("http_500", HOST, at_command=1)
    faults.add("host_down", HOST, at_command=2, phase="after")
    assert faults.fire(HOST, "http_500") is None and faults.peek(HOST, "host_down") is None  # dormant
    faults.note(HOST, "before")
    assert faults.fire(HOST, "http_500", "after") is None
    assert faults.fire(HOST, "http_500", "before") is not None
    assert faults.fire(HOST, "http_500", "before") is None  # once
    faults.note(HOST, "after")
    faults.note(HOST, "before")
    assert faults.peek(HOST, "host_down") is None
    faults.note(HOST, "after")
    assert faults.peek(HOST, "host_down") is not None and faults.peek(HOST, "host_down") is not None
    with pytest.raises(ValueError, match="at_command"):
        faults.add("http_500", HOST, at_command=0)
    with pytest.raises(ValueError, match="phase"):
        faults.add("http_500", HOST, at_command=1, phase="during")


@pytest.mark.parametrize("kind", ["http_500", "wsman_fault", "host_down"])
@pytest.mark.parametrize("phase, ran", [("before", False), ("after", True)])
def test_a_fault_strikes_a_plan_by_its_steps_whatever_ran_before(lab, kind, phase, ran):
    lab.faults.add(kind, HOST, at_plan="write2", occurrence=1, phase=phase)
    for _ in range(3):  # any number of other plans first
        run_plan_over(protocol(lab), write(1))
    with pytest.raises(TransportError) as failed:
        run_plan_over(protocol(lab), write(2))
    assert failed.value.ran is None  # the result was lost: nobody can tell
    assert marker(lab) == (2 if ran else 1)
    lab.faults.clear()
    answer_again(lab, write(3))
    assert lab.counters()[HOST]["plans"][-5:] == ["write1", "write1", "write1", "write2", "write3"]
