# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The one shape of every action plugin of the collection.

A module is its declarations (argument spec, rules) and a few hooks; `ConfigMgrAction.run` owns the
rest, in this order (docs/development.md, "How a module is built"):

    desired(args)                   validate and normalise the options; nothing is sent before it passes
    read_plan(want)                 one engine invocation reads everything the decision needs
    decide(want, observed)          pure: a Decision (before, after, changed, warnings, diff header)
    before_write(want, decision, observed)
                                    optional: checks that need another read (runs in check mode too)
    -- check mode stops here --
    write_plan(want, decision)      a WritePlan: only what differs; each write step names what it does
    read_back(want, decision, written)
                                    result keys read back by the write plan's own read steps
    apply(want, decision)           default: write_plan, run, read_back; a module with waits or several
                                    invocations overrides it and runs its writes through run_writes()
    settle(want, decision, observed)
                                    optional: what an unchanged task still does (waiting for an install)

The base owns check mode, the diff, warnings, the removal of every no_log value from the result, and a
failure after a change: the result says `changed: true` and lists `completed_actions` whenever a write
step completed before the failure (the runner's RunnerError.completed), in this invocation or an
earlier one of the same task.

A transport failure (the runner's TransportError) becomes words: which host, what the task was doing,
which WinRM operation failed, and what is done, not done or unknown. Nothing changed and the task's own
host unreachable: the result is UNREACHABLE; a change that may have happened: FAILED with
`changed: true`. After an unknown outcome the base reads the state again on a fresh connection
(`aftermath`, a hook a module may refine) and says what that read shows. The transport's own text is
shown at -vvv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    PlanResult,
    Provider,
    RunnerError,
    TransportError,
    run_plan,
    transport_reason,
)

# Options of every module that talks to the SMS Provider (doc fragment configmgr.scp.provider).
PROVIDER_SPEC = {
    "provider_server": {"type": "str"},
    "provider_site_code": {"type": "str"},
    "provider_username": {"type": "str"},
    "provider_password": {"type": "str", "no_log": True},
    # A Windows path is a string: the controller must not expand ~ or $VAR in it (_validation.module_path).
    "module_path": {"type": "str"},
}

RERUN_HINT = "Run the task again to finish: it reads the state first."

# What a failed WinRM operation means for the plan (TransportError.operation).
_WHEN = {
    "connect": "while connecting (nothing was sent)",
    "start the command": "while starting the command (the plan was not sent)",
    "send the plan": "while sending the plan (it may have run)",
    "read the result": "while reading the result (the plan may have run)",
    "close the command": "while closing the command (the plan ran; its result was lost)",
}


@dataclass
class Aftermath:
    """What the state shows after a failure that may have left a change half-done (ConfigMgrAction.aftermath):
    sentences for the message, and which of the actions whose outcome was unknown it shows done or not done."""

    said: list[str] = field(default_factory=list)
    done: list[str] = field(default_factory=list)
    not_done: list[str] = field(default_factory=list)


# Why become is refused rather than ignored: docs/development.md, "become".
BECOME_REFUSED = (
    "{module} does not support become: it sends its engine through the task's own {connection} connection, not "
    "through Ansible's module wrapper, so runas would never take effect and the task would run as the connection "
    "user. Remove become from this task (become: false). To reach a remote SMS Provider as another account, give "
    "provider_username and provider_password; for a step on another server, run the task on that server "
    '(delegate_to) with a connection user that has the rights there (docs/development.md, "become").'
)


@dataclass
class Decision:
    """What a module will do, decided in Python from what it read. The one shape of every module.

    before / after: the state as the result (`before`, `after`) and the diff show it: a dict (shown as
    `key: value` lines), a list (one item per line) or text. changed: whether the task changes anything.
    warnings: shown to the user. diff_header: what the diff is about ("firewall rule X").
    changes: what write_plan() needs (module-specific; the base never looks inside).
    result: further result keys of the module (actions, restart_required, ...).
    """

    before: Any = None
    after: Any = None
    changed: bool = False
    warnings: list[str] = field(default_factory=list)
    diff_header: str = ""
    changes: Any = None
    result: dict = field(default_factory=dict)


class WritePlan(Plan):
    """A plan whose write steps say what they do: the step id -> action mapping of partial failures."""

    def __init__(self, catalog=None):
        super().__init__(catalog)
        self.actions: dict[str, str] = {}

    def write(self, step_id: str, cmdlet: str, params: dict | None = None, *, does: str, **kwargs):
        step = self.add(step_id, cmdlet, params, **kwargs)
        self.actions[step_id] = does
        return step

    def done(self, result: PlanResult | None, completed: list[str] | None = None) -> list[str]:
        """The actions of the write steps that succeeded (in plan order)."""
        ok = set(completed or []) if result is None else {s for s, r in result.steps.items() if r.ok}
        return [does for step_id, does in self.actions.items() if step_id in ok]


def diff_text(state: Any) -> str:
    """A state as the stable lines a reviewer reads in a --diff."""
    if state is None:
        return ""
    if isinstance(state, dict):
        lines = []
        for key in sorted(state):
            value = state[key]
            if isinstance(value, bool):
                value = "true" if value else "false"
            elif value is None:
                value = "null"
            lines.append(f"{key}: {value}")
        return "\n".join(lines) + "\n"
    if isinstance(state, (list, tuple)):
        return "".join(f"{item}\n" for item in state)
    return f"{state}\n"


class ConfigMgrAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC (and the rules) and implement the hooks; see the module docstring."""

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    ARGUMENT_SPEC: dict = {}
    USES_PROVIDER = True
    MUTUALLY_EXCLUSIVE: list = []
    REQUIRED_IF: list = []
    REQUIRED_TOGETHER: list = []
    # The result carries `before` and `after` (a module whose RETURN documents other keys sets False).
    RESULT_STATE = True

    # -- the hooks ----------------------------------------------------------------------------------

    def desired(self, args: dict) -> Any:
        """The task's wishes, validated and normalised (`_validation`); refusals raise AnsibleActionFail."""
        return args

    def read_plan(self, want: Any) -> Plan:
        raise NotImplementedError

    def decide(self, want: Any, observed: PlanResult) -> Decision:
        raise NotImplementedError

    def before_write(self, want: Any, decision: Decision, observed: PlanResult) -> list[str]:
        """Checks that need another read (another host) before anything is written; returns warnings."""
        return []

    def write_plan(self, want: Any, decision: Decision) -> WritePlan:
        raise NotImplementedError

    def read_back(self, want: Any, decision: Decision, written: PlanResult) -> dict:
        """Result keys from the write plan's own read steps (usually {"after": ...})."""
        return {}

    def apply(self, want: Any, decision: Decision) -> dict:
        """Write, then read back. When a write finds its object there already although the read said it was not
        (another run made it in between), that is the desired state reached, not a failure: the task reads again,
        decides again, and writes only what still differs (docs/development.md, "Races converge")."""
        try:
            written = self.run_writes(self.write_plan(want, decision))
        except RunnerError as e:
            if isinstance(e, TransportError) or not already_there(e) or getattr(self, "_raced", False):
                raise
            self._raced = True
            note = (
                f"{e.cmdlet} found it there already: another run made it after this task read the state. The task "
                f"read the state again and changed only what still differed."
            )
            again = self.decide(want, self.read(self.read_plan(want), purpose="reading the state again"))
            updates = self.apply(want, again) if again.changed else {}
            result = {
                "changed": bool(again.changed or self.completed_actions),
                **updates,
                "warnings": [*decision.warnings, note, *updates.get("warnings", [])],
            }
            if self.RESULT_STATE and "after" not in updates:
                result["after"] = again.after
            return result
        return self.read_back(want, decision, written)

    def settle(self, want: Any, decision: Decision, observed: PlanResult) -> dict:
        return {}

    def aftermath(self, want: Any, decision: Decision | None, unknown: list[str]) -> Aftermath:
        """After a failure: what the state shows now. Called when a write's outcome is unknown (`unknown`: its
        actions), and after any failure once something was changed. Default: when something is unknown, read
        the state again on a fresh connection and decide again - nothing left to do means it was done. A module
        whose change takes several steps refines this (service_connection_point says where the SCP is)."""
        if not unknown or decision is None:
            return Aftermath()
        try:
            fresh = self.decide(want, self.fresh_read(self.read_plan(want)))
        except AnsibleActionFail as e:
            return Aftermath([f"The state could not be read again ({_short(e)}), so that stays unknown."])
        if not fresh.changed:
            return Aftermath(["A fresh read shows the desired state in place: it was done."], done=list(unknown))
        if fresh.before == decision.before:
            return Aftermath(["A fresh read shows the state as it was before: it was not done."], not_done=list(unknown))
        return Aftermath(["A fresh read shows the state changed, but not as far as the desired state."])

    # -- what the hooks use -------------------------------------------------------------------------

    def read(self, plan: Plan, host=None, purpose: str = "reading the current state") -> PlanResult:
        """One engine invocation of a plan that changes nothing (through `host`, default the task's own).
        `purpose` says what the task was doing, should the connection fail."""
        try:
            return run_plan(host or self, plan, self.provider if host is None else None)
        except TransportError as e:
            e.purpose = e.purpose or purpose
            raise

    def run_writes(self, plan: WritePlan, host=None, purpose: str | None = None) -> PlanResult:
        """One engine invocation of a write plan; the actions its write steps complete are remembered,
        so that a failure later in the task still reports what was changed."""
        try:
            result = run_plan(host or self, plan, self.provider if host is None else None)
        except TransportError as e:
            e.writes = list(plan.actions.values())
            e.purpose = e.purpose or purpose or "; ".join(e.writes) or "running a plan"
            raise
        except RunnerError as e:
            self.completed_actions.extend(plan.done(None, e.completed))
            raise
        self.completed_actions.extend(plan.done(result))
        return result

    def fresh_read(self, plan: Plan) -> PlanResult:
        """A read on a fresh connection to the task's own host (after a transport failure)."""
        reset = getattr(self._connection, "reset", None)
        if reset is not None:
            try:
                reset()
            except Exception as e:  # noqa: BLE001 - the read below says what is wrong with the connection
                raise AnsibleActionFail(transport_reason(f"{type(e).__name__}: {e}")) from None
        return self.read(plan, purpose="reading the state again")

    # -- the flow -----------------------------------------------------------------------------------

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
        if self._play_context.become:
            connection = getattr(self._connection, "transport", None) or "WinRM"
            return {
                **result,
                "failed": True,
                "changed": False,
                "msg": BECOME_REFUSED.format(module=self._task.action, connection=connection),
            }
        spec = dict(self.ARGUMENT_SPEC)
        required_together = list(self.REQUIRED_TOGETHER)
        if self.USES_PROVIDER:
            spec.update(PROVIDER_SPEC)
            required_together.append(["provider_username", "provider_password"])
        validation, args = self.validate_argument_spec(
            argument_spec=spec,
            mutually_exclusive=self.MUTUALLY_EXCLUSIVE,
            required_if=self.REQUIRED_IF,
            required_together=required_together,
        )
        no_log_values = validation._no_log_values
        self.check_mode = bool(self._play_context.check_mode)
        self.diff_mode = bool(self._play_context.diff)
        self.task_vars = task_vars or {}
        # The inventory name of the task's host (the delegated one with delegate_to): named in transport failures.
        self.host_name = (
            self._task.delegate_to or self.task_vars.get("inventory_hostname") or getattr(self._play_context, "remote_addr", None)
        )
        self.completed_actions: list[str] = []
        self.pending_actions: list[str] = []  # a module with several steps lists them, in order (for "Not done")
        self._raced = False
        self.partial: dict = {}  # result keys a failure should still show (progress of a wait, ...)
        self._want = self._decision = None
        try:
            self.provider = self.provider_from_args(args) if self.USES_PROVIDER else None
            result.update(self._execute(args))
        except TransportError as e:
            result.update(self.partial)
            result.update(self.transport_failure(e))
        except AnsibleActionFail as e:  # RunnerError included
            result.update(self.partial)
            result.update(getattr(e, "partial", None) or {})
            message = str(e.message)
            if self.completed_actions:
                result.update(changed=True, completed_actions=list(self.completed_actions))
                message += f" Already done: {'; '.join(self.completed_actions)}."
                not_done = [a for a in self.pending_actions if a not in self.completed_actions]
                if not_done:
                    message += f" Not done: {'; '.join(not_done)}."
                message = " ".join([message, *self._aftermath([]).said, RERUN_HINT])
            result.update(failed=True, msg=message)
            if isinstance(e, RunnerError) and e.step:
                result["failed_step"] = {"id": e.step, "cmdlet": e.cmdlet, **{k: v for k, v in e.details.items() if v}}
        result["changed"] = bool(result.get("changed", False))
        return remove_values(result, no_log_values)

    def _aftermath(self, unknown: list[str]) -> Aftermath:
        try:
            return self.aftermath(self._want, self._decision, unknown)
        except AnsibleActionFail as e:  # explaining must not hide the failure it explains
            return Aftermath([f"The state could not be read again ({_short(e)})."])

    def transport_failure(self, e: TransportError) -> dict:
        """The result of a task whose connection failed: the host, what the task was doing, the WinRM operation,
        and what is done, not done or unknown (docs/development.md, "When the connection fails")."""
        done = list(self.completed_actions)
        unknown = list(e.writes) if e.ran is None else []
        not_done = list(e.writes) if e.ran is False else []
        not_done += [a for a in self.pending_actions if a not in done and a not in e.writes]
        after = self._aftermath(unknown)
        done += [a for a in after.done if a not in done]
        unknown = [a for a in unknown if a not in after.done and a not in after.not_done]
        not_done += [a for a in after.not_done if a not in not_done]
        parts = [
            f"{e.host} could not be reached: {e.reason}, {_WHEN.get(e.operation, e.operation)}. "
            f"Step: {e.purpose or 'running a plan'} (plan steps {', '.join(e.steps)})."
        ]
        if done:
            parts.append(f"Already done: {'; '.join(done)}.")
        if unknown:
            parts.append(f"Unknown whether it was done: {'; '.join(unknown)}.")
        if not_done:
            parts.append(f"Not done: {'; '.join(not_done)}.")
        parts += after.said
        changed = bool(done or unknown)
        own_host = e.host == self.host_name
        if not changed:
            parts.append(f"Nothing was changed. Run the task again when {e.host} answers.")
        elif unknown or not_done:
            parts.append(RERUN_HINT)
        else:
            parts.append("Nothing is left to do: running the task again reports no change.")
        result: dict = {
            "msg": " ".join(parts),
            "changed": changed,
            "transport_failure": {"host": e.host, "operation": e.operation, "reason": e.reason, "plan_ran": e.ran},
        }
        if done:
            result["completed_actions"] = done
        if unknown:
            result["unknown_actions"] = unknown
        if own_host and not changed:
            result["unreachable"] = True  # nothing changed, and the task's own host did not answer
        else:
            result["failed"] = True
        return result

    def _execute(self, args: dict) -> dict:
        want = self._want = self.desired(args)
        observed = self.read(self.read_plan(want))
        decision = self._decision = self.decide(want, observed)
        decision.warnings.extend(self.before_write(want, decision, observed) or [])
        result = self.render(decision)
        if self.check_mode:
            return result
        updates = self.apply(want, decision) if decision.changed else self.settle(want, decision, observed)
        result.update(updates or {})
        if result.get("warnings") == []:
            del result["warnings"]
        return result

    def render(self, decision: Decision) -> dict:
        result: dict = {"changed": bool(decision.changed)}
        if self.RESULT_STATE:
            result["before"], result["after"] = decision.before, decision.after
        result.update(decision.result)
        if decision.warnings:
            result["warnings"] = list(decision.warnings)
        if self.diff_mode and decision.changed and decision.before != decision.after:
            result["diff"] = {
                "before_header": decision.diff_header,
                "after_header": decision.diff_header,
                "before": diff_text(decision.before),
                "after": diff_text(decision.after),
            }
        return result

    @staticmethod
    def provider_from_args(args: dict) -> Provider:
        return Provider(
            site_code=_validation.site_code(args.get("provider_site_code"), "provider_site_code"),
            server=_validation.fqdn(args.get("provider_server"), "provider_server"),
            module=_validation.module_path(args.get("module_path"), "module_path"),
            username=_validation.account(args.get("provider_username"), "provider_username"),
            password=_validation.secret(args.get("provider_password"), "provider_password"),
        )


def _short(e: Exception) -> str:
    text = str(getattr(e, "message", None) or e)
    return text if len(text) <= 200 else text[:197] + "..."


def already_there(error: RunnerError) -> bool:
    """A write refused because its object exists (New-CMSiteSystemServer, New-CMAccount, New-NetFirewallRule ...)."""
    category = str((error.details or {}).get("category") or "")
    return category == "ResourceExists" or "already exists" in str(error.message).lower()
