"""The move lease (plugins/plugin_utils/_lease.py): who may take it, and the plans that take, renew and release it
with operations only one run can win."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time

from ansible_collections.configmgr.scp.plugins.plugin_utils import _lease
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._lease import Holder, Lease, Owner, Seen
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult

AT = datetime.datetime(2026, 11, 29, 8, 0, 0, tzinfo=datetime.timezone.utc)
ME = Owner("me000000000a", "ctl.example", "alice", f"{os.getpid()}:1")
KEY = "HKLM:\\SOFTWARE\\configmgr.scp\\Leases\\ServiceConnectionPoint-CAS"


def lease(owner: Owner = ME) -> Lease:
    return Lease("cas", owner, "ps1.lab.example", "scp01.lab.example", "cas.lab.example")


def holder(**changes) -> Holder:
    values = {
        "key": "other0000001",
        "run_id": "other0000001",
        "controller": "ci.example",
        "user": "bob",
        "process": "4242:99",
        "source": "ps1.lab.example",
        "target": "cas.lab.example",
        "since": "2026-11-29T07:58:00Z",
        "expires": "2026-11-29T08:08:00Z",
        **changes,
    }
    return Holder(**values)


def dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_free_lease_is_taken_by_creating_its_key_which_fails_when_it_exists():
    verdict = lease().judge(Seen(False), AT, break_lease=False)
    assert verdict.action == "take"
    plan = lease().take_plan(Seen(False), verdict, AT)
    steps = {s.id: s for s in plan.steps}
    assert [s.id for s in plan.steps][:4] == ["lease_root", "lease_parent", "lease_take", "lease_holder"]
    assert steps["lease_take"].cmdlet == "New-Item" and steps["lease_take"].params == {"Path": [KEY]}
    assert "Force" not in steps["lease_take"].params and steps["lease_take"].on_error == "stop"
    assert steps["lease_root"].on_error == "continue"  # the parents: created when missing, never -Force
    assert all("Force" not in s.params for s in plan.steps)
    values = {s.params["Name"]: s.params["Value"] for s in plan.steps if s.cmdlet == "Set-ItemProperty"}
    assert values == {
        "RunId": "me000000000a",
        "Controller": "ctl.example",
        "User": "alice",
        "Process": f"{os.getpid()}:1",
        "Source": "ps1.lab.example",
        "Target": "scp01.lab.example",
        "Since": "2026-11-29T08:00:00Z",
        "Expires": "2026-11-29T08:10:00Z",
    }
    assert all(s.params["LiteralPath"] == [f"{KEY}\\me000000000a"] for s in plan.steps if s.cmdlet == "Set-ItemProperty")


def test_a_live_lease_of_another_run_is_refused_naming_its_holder():
    verdict = lease().judge(Seen(True, [holder()]), AT, break_lease=False)
    assert verdict.action == "refuse"
    assert (
        "run other0000001 of bob on ci.example (process 4242), since 2026-11-29T07:58:00Z, moving the service "
        "connection point from ps1.lab.example to cas.lab.example"
    ) in verdict.why
    assert "This task changed nothing" in verdict.why and "break_lease: true" in verdict.why
    # On this controller too, while its process lives (the worker of a killed ansible-playbook still moves).
    alive = holder(controller="ctl.example", process=f"{os.getppid()}")
    assert lease().judge(Seen(True, [alive]), AT, break_lease=False).action == "refuse"


def test_an_expired_lease_is_taken_over_by_removing_its_holder_key_which_only_one_run_can_do():
    old = holder(expires="2026-11-29T07:59:59Z")
    verdict = lease().judge(Seen(True, [old]), AT, break_lease=False)
    assert verdict.action == "take_over" and "expired at 2026-11-29T07:59:59Z" in verdict.why
    plan = lease().take_plan(Seen(True, [old]), verdict, AT)
    first = plan.steps[0]
    assert (first.id, first.cmdlet, first.params) == (
        "lease_take",
        "Remove-Item",
        {"LiteralPath": [f"{KEY}\\other0000001"], "Recurse": True},
    )
    assert first.on_error == "stop"


def test_a_lease_whose_run_ended_on_this_controller_is_taken_over_at_once():
    ended = holder(controller="ctl.example", process=f"{dead_pid()}:1")
    verdict = lease().judge(Seen(True, [ended]), AT, break_lease=False)
    assert verdict.action == "take_over" and "its run has ended" in verdict.why


def test_break_lease_takes_over_a_live_lease_and_a_lease_without_holder():
    assert lease().judge(Seen(True, [holder()]), AT, break_lease=True).action == "take_over"
    empty = lease().judge(Seen(True, []), AT, break_lease=True)
    assert empty.action == "take_over" and empty.holder is None
    plan = lease().take_plan(Seen(True, []), empty, AT)
    clear = plan.steps[0]
    assert (clear.cmdlet, clear.params) == ("Remove-Item", {"LiteralPath": [KEY]})  # no -Recurse: only while empty


def test_a_lease_without_complete_holder_is_refused_unless_broken():
    verdict = lease().judge(Seen(True, [Holder(key="half")]), AT, break_lease=False)
    assert verdict.action == "refuse" and "names no complete holder" in verdict.why
    assert lease().judge(Seen(True, []), AT, break_lease=False).action == "refuse"


def test_the_lease_is_read_from_its_holder_keys():
    result = PlanResult(
        {
            "lease_key": StepResult("lease_key", True, [{"PSChildName": "ServiceConnectionPoint-CAS"}], None),
            "lease_holders": StepResult(
                "lease_holders",
                True,
                [
                    {
                        "RunId": "other0000001",
                        "Controller": "ci.example",
                        "User": "bob",
                        "Process": "4242:99",
                        "Source": "ps1.lab.example",
                        "Target": "cas.lab.example",
                        "Since": "2026-11-29T07:58:00Z",
                        "Expires": "2026-11-29T08:08:00Z",
                        "PSChildName": "other0000001",
                    }
                ],
                None,
            ),
        }
    )
    seen = Lease.seen(result)
    assert seen.exists and seen.holder == holder()
    missing = PlanResult(
        {
            "lease_key": StepResult("lease_key", False, [], {"fqid": "PathNotFound"}),
            "lease_holders": StepResult("lease_holders", True, [], None),
        }
    )
    assert Lease.seen(missing) == Seen(False, [])


def test_renewal_comes_first_and_keeps_what_the_plan_does():
    plan = WritePlan()
    plan.write(
        "remove_0",
        "Remove-CMServiceConnectionPoint",
        {"SiteSystemServerName": "ps1.lab.example", "SiteCode": "PS1", "Force": True},
        does="remove it",
    )
    renewed = lease().renew(plan, AT)
    assert [s.id for s in renewed.steps] == ["lease_renew", "remove_0"] and renewed.actions == {"remove_0": "remove it"}
    assert renewed.steps[0].params == {"LiteralPath": [f"{KEY}\\me000000000a"], "Name": "Expires", "Value": "2026-11-29T08:10:00Z"}


def test_release_removes_the_own_holder_key_then_the_lease_only_if_empty():
    plan = lease().release_plan()
    assert [(s.id, s.cmdlet, s.params, s.on_error) for s in plan.steps] == [
        ("lease_release", "Remove-Item", {"LiteralPath": [f"{KEY}\\me000000000a"], "Recurse": True}, "stop"),
        ("lease_unlock", "Remove-Item", {"LiteralPath": [KEY]}, "continue"),
    ]


def test_the_owner_is_this_process_and_holds_no_secret():
    me = Owner.this_run()
    assert me.process.split(":")[0] == str(os.getpid()) and len(me.run_id) == 12
    assert _lease.VALUES == ("RunId", "Controller", "User", "Process", "Source", "Target", "Since", "Expires")


def test_the_first_try_reads_and_takes_in_one_invocation():
    plan = lease().take_plan(None, _lease.Verdict("take"), AT)
    ids = [s.id for s in plan.steps]
    assert ids[:6] == ["lease_key", "lease_holders", "lease_root", "lease_parent", "lease_take", "lease_holder"]
    assert plan.steps[0].on_error == plan.steps[1].on_error == "continue"


def test_a_holder_that_ended_but_was_not_reaped_has_ended():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        for _ in range(100):  # until it is a zombie (not reaped: nobody waits for it yet)
            if _lease._zombie(proc.pid):
                break
            time.sleep(0.05)
        zombie = holder(controller="ctl.example", process=f"{proc.pid}:{_lease._process_start(proc.pid)}")
        assert lease().judge(Seen(True, [zombie]), AT, break_lease=False).action == "take_over"
    finally:
        proc.wait()
