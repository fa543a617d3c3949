"""The action skeleton (plugin_utils/_action.py) without WinRM: check mode, diff, warnings, secrets, and
`changed: true` after a failure that follows a completed write step."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from ansible.errors import AnsibleActionFail
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task

from ansible_collections.configmgr.scp.plugins.plugin_utils import _action
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    PlanResult,
    RunnerError,
    StepResult,
    TransportError,
)

SECRET = "s3cr3t-Value!"


class Thing(ConfigMgrAction):
    """A module of four hooks: a registry value that should hold `value`."""

    USES_PROVIDER = False
    ARGUMENT_SPEC = {
        "value": {"type": "str", "required": True},
        "token": {"type": "str", "no_log": True},
        "fail_after_first": {"type": "bool", "default": False},
    }

    def read_plan(self, want):
        plan = Plan()
        plan.add("read", "Get-ItemProperty", {"LiteralPath": "HKLM:\\SOFTWARE\\Thing"}, select={"Value": None})
        return plan

    def decide(self, want, observed):
        have = (observed.first("read") or {}).get("Value")
        return Decision(
            before={"value": have},
            after={"value": want["value"]},
            changed=have != want["value"],
            warnings=["mind the gap"],
            diff_header="thing",
            changes=want["value"],
            result={"token_used": bool(want["token"])},
        )

    def write_plan(self, want, decision):
        plan = WritePlan()
        plan.write(
            "first",
            "Set-ItemProperty",
            {"LiteralPath": "HKLM:\\SOFTWARE\\Thing", "Name": "Value", "Value": decision.changes},
            does="set Value",
        )
        plan.write(
            "second",
            "Set-ItemProperty",
            {"LiteralPath": "HKLM:\\SOFTWARE\\Thing", "Name": "Stamp", "Value": want["token"] or "x"},
            does="set Stamp",
        )
        plan.add("after", "Get-ItemProperty", {"LiteralPath": "HKLM:\\SOFTWARE\\Thing"}, select={"Value": None})
        return plan

    def read_back(self, want, decision, written):
        return {"after": {"value": written.first("after")["Value"]}}


class Runner:
    """Stands in for the runner: answers reads from `state`, applies writes, fails where told."""

    def __init__(self, value="old", fail_step=None, fail_message="Step failed"):
        self.value = value
        self.fail_step = fail_step
        self.fail_message = fail_message
        self.plans: list[list[str]] = []

    def __call__(self, host, plan, provider=None):
        self.plans.append([s.id for s in plan.steps])
        steps, done = {}, []
        for step in plan.steps:
            if step.id == self.fail_step:
                raise RunnerError(self.fail_message, step=step.id, cmdlet=step.cmdlet, details={"fqid": "Boom"}, completed=done)
            if step.cmdlet == "Set-ItemProperty" and step.params["Name"] == "Value":
                self.value = step.params["Value"]
            output = [{"Value": self.value}] if step.cmdlet == "Get-ItemProperty" else []
            steps[step.id] = StepResult(step.id, True, output, None)
            done.append(step.id)
        return PlanResult(steps)


def run(monkeypatch, runner, check=False, diff=False, action_class=Thing, become=False, **args):
    monkeypatch.setattr(_action, "run_plan", runner)
    task = Task()
    task.args = {"value": "new", **args}
    task.check_mode = check
    context = PlayContext()
    context.check_mode, context.diff, context.become = check, diff, become
    action = action_class(task, SimpleNamespace(_shell=SimpleNamespace(tmpdir=None)), context, None, None, None)
    return action.run(task_vars={})


def test_a_change_is_written_once_and_read_back(monkeypatch):
    runner = Runner()
    result = run(monkeypatch, runner)
    assert result["changed"] is True and not result.get("failed")
    assert result["before"] == {"value": "old"} and result["after"] == {"value": "new"}
    assert runner.plans == [["read"], ["first", "second", "after"]]  # one read, one write invocation


def test_become_is_refused_before_anything_is_sent(monkeypatch):
    runner = Runner()
    result = run(monkeypatch, runner, become=True)
    assert result["failed"] is True and result["changed"] is False
    assert "does not support become" in result["msg"] and "provider_username" in result["msg"]
    assert runner.plans == []


def test_unchanged_reads_only(monkeypatch):
    runner = Runner(value="new")
    result = run(monkeypatch, runner)
    assert result["changed"] is False and runner.plans == [["read"]]
    assert "diff" not in result


def test_check_mode_reports_the_change_and_never_writes(monkeypatch):
    runner = Runner()
    result = run(monkeypatch, runner, check=True, diff=True)
    assert result["changed"] is True and result["after"] == {"value": "new"}
    assert runner.plans == [["read"]] and runner.value == "old"
    assert result["diff"] == {"before_header": "thing", "after_header": "thing", "before": "value: old\n", "after": "value: new\n"}


def test_diff_only_when_asked(monkeypatch):
    assert "diff" not in run(monkeypatch, Runner())
    assert run(monkeypatch, Runner(), diff=True)["diff"]["after"] == "value: new\n"


def test_warnings_and_module_result_keys(monkeypatch):
    result = run(monkeypatch, Runner(), token="t-1")
    assert result["warnings"] == ["mind the gap"]
    assert result["token_used"] is True


def test_a_failure_after_a_completed_write_step_reports_changed_and_what_was_done(monkeypatch):
    result = run(monkeypatch, Runner(fail_step="second", fail_message="Step 'second' (Set-ItemProperty) failed: no"))
    assert result["failed"] is True and result["changed"] is True
    assert result["completed_actions"] == ["set Value"]
    assert result["msg"].startswith("Step 'second' (Set-ItemProperty) failed: no Already done: set Value.")
    assert "Run the task again" in result["msg"]
    assert result["failed_step"] == {"id": "second", "cmdlet": "Set-ItemProperty", "fqid": "Boom"}


def test_a_failure_of_the_first_write_step_is_not_a_change(monkeypatch):
    result = run(monkeypatch, Runner(fail_step="first"))
    assert result["failed"] is True and result["changed"] is False
    assert "completed_actions" not in result and "Already done" not in result["msg"]


def test_a_failure_of_the_read_is_not_a_change(monkeypatch):
    result = run(monkeypatch, Runner(fail_step="read"))
    assert result["failed"] is True and result["changed"] is False


class TwoInvocations(Thing):
    """apply() of its own: a write, then a wait that fails (another invocation of the same task)."""

    def apply(self, want, decision):
        self.run_writes(self.write_plan(want, decision))
        self.partial["progress"] = {"polls": 3}
        raise AnsibleActionFail("The wait timed out.")


def test_a_failure_in_a_later_invocation_still_reports_the_earlier_change(monkeypatch):
    result = run(monkeypatch, Runner(), action_class=TwoInvocations)
    assert result["failed"] is True and result["changed"] is True
    assert result["completed_actions"] == ["set Value", "set Stamp"]
    assert result["progress"] == {"polls": 3}


def test_no_log_values_never_reach_the_result(monkeypatch):
    result = run(monkeypatch, Runner(fail_step="second", fail_message=f"Step failed near {SECRET}"), token=SECRET)
    assert SECRET not in repr(result)
    assert "********" in result["msg"]


def test_bad_input_fails_before_any_plan(monkeypatch):
    runner = Runner()
    with pytest.raises(AnsibleActionFail, match="Unsupported parameters"):  # the task executor reports it as failed
        run(monkeypatch, runner, valeu="new")
    assert runner.plans == []


def test_diff_text_of_each_state_shape():
    assert _action.diff_text({"b": None, "a": True}) == "a: true\nb: null\n"
    assert _action.diff_text(["LAB\\x", "LAB\\y"]) == "LAB\\x\nLAB\\y\n"
    assert _action.diff_text(None) == ""


def test_write_plan_knows_what_each_write_step_does():
    plan = WritePlan()
    plan.write("a", "Set-ItemProperty", {"LiteralPath": "HKLM:\\X", "Name": "N", "Value": 1}, does="set N")
    plan.add("r", "Get-ItemProperty", {"LiteralPath": "HKLM:\\X"})
    assert plan.actions == {"a": "set N"}
    assert plan.done(None, ["a", "r"]) == ["set N"] and plan.done(None, []) == []
    with pytest.raises(RunnerError, match="would be refused by PowerShell"):
        plan.write("b", "Set-ItemProperty", {"Nope": 1}, does="x")


# -- races converge (issue 12 item 4) ------------------------------------------------------------------------


class Racing(Runner):
    """Another run writes the value between this task's read and its write: the write is refused as existing."""

    def __call__(self, host, plan, provider=None):
        if any(s.id == "first" for s in plan.steps) and self.value == "old":
            self.value = "new"  # the other run
            self.plans.append([s.id for s in plan.steps])
            raise RunnerError(
                "Step 'first' (Set-ItemProperty) failed: The item already exists.",
                step="first",
                cmdlet="Set-ItemProperty",
                details={"category": "ResourceExists"},
                completed=[],
            )
        return super().__call__(host, plan, provider)


def test_already_there_after_a_read_that_said_otherwise_is_the_desired_state_reached(monkeypatch):
    runner = Racing()
    result = run(monkeypatch, runner)
    assert not result.get("failed") and result["changed"] is False
    assert result["after"] == {"value": "new"}
    assert any("found it there already: another run made it" in w for w in result["warnings"])
    assert runner.plans == [["read"], ["first", "second", "after"], ["read"]]


# -- every failure in words (issue 12 item 3) ----------------------------------------------------------------


class Cut(Runner):
    """The connection fails at the plan containing `at`: before it ran, or after it ran (its result lost)."""

    def __init__(self, at, ran, **kwargs):
        super().__init__(**kwargs)
        self.at, self.ran = at, ran

    def __call__(self, host, plan, provider=None):
        if any(s.id == self.at for s in plan.steps):
            self.at = None  # once
            if self.ran:
                super().__call__(host, plan, provider)
                self.plans.pop()
            raise TransportError(
                "x",
                "cas.lab.example",
                "read the result" if self.ran else "connect",
                "the connection was dropped",
                "ConnectionError: ('Connection aborted.', ...)",
                [s.id for s in plan.steps],
            )
        return super().__call__(host, plan, provider)


class Connection:
    _shell = SimpleNamespace(tmpdir=None)

    def reset(self):
        pass


def run_on_cas(monkeypatch, runner, **args):
    task = Task()
    task.args = {"value": "new", **args}
    action = Thing(task, Connection(), PlayContext(), None, None, None)
    return action.run(task_vars={"inventory_hostname": "cas.lab.example"})


def test_a_host_that_cannot_be_reached_before_anything_changed_is_unreachable_in_words(monkeypatch):
    monkeypatch.setattr(_action, "run_plan", Cut("read", ran=False))
    result = run_on_cas(monkeypatch, None)
    assert result["unreachable"] is True and result["changed"] is False and not result.get("failed")
    assert result["msg"] == (
        "cas.lab.example could not be reached: the connection was dropped, while connecting "
        "(nothing was sent). Step: reading the current state (plan steps read). Nothing was "
        "changed. Run the task again when cas.lab.example answers."
    )
    assert "Connection aborted" not in repr(result)  # the raw text is for -vvv only


def test_a_write_whose_result_was_lost_is_read_again_and_said_done(monkeypatch):
    runner = Cut("first", ran=True)
    monkeypatch.setattr(_action, "run_plan", runner)
    result = run_on_cas(monkeypatch, runner)
    assert result["failed"] is True and result["changed"] is True and not result.get("unreachable")
    assert result["completed_actions"] == ["set Value", "set Stamp"] and "unknown_actions" not in result
    assert "while reading the result (the plan may have run). Step: set Value; set Stamp" in result["msg"]
    assert "A fresh read shows the desired state in place: it was done." in result["msg"]
    assert result["transport_failure"] == {
        "host": "cas.lab.example",
        "operation": "read the result",
        "reason": "the connection was dropped",
        "plan_ran": None,
    }


def test_a_write_that_never_ran_is_not_done_and_nothing_changed(monkeypatch):
    monkeypatch.setattr(_action, "run_plan", Cut("first", ran=False))
    result = run_on_cas(monkeypatch, None)
    assert result["unreachable"] is True and result["changed"] is False
    assert "Not done: set Value; set Stamp." in result["msg"]
