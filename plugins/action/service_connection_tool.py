# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_tool (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _sct, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import RemoteHost
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, RunnerError

PROVIDER_HINT = (
    "action={action} reads the service connection point's mode from the SMS Provider: run the task on "
    "an SCP server that is also an SMS Provider, or set provider_host (the inventory host of the SMS "
    "Provider), or provider_server with provider_username and provider_password."
)


class ActionModule(ConfigMgrAction):
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "action": {"type": "str", "required": True, "choices": list(_sct.ACTIONS)},
        "tool_path": {"type": "str"},
        "usage_data_dest": {"type": "str"},
        "usage_data_src": {"type": "str"},
        "update_pack_dest": {"type": "str"},
        "update_pack_src": {"type": "str"},
        "export_dest": {"type": "str"},
        "proxy_server_uri": {"type": "str"},
        "proxy_username": {"type": "str"},
        "download": {"type": "str", "default": "latest", "choices": list(_sct.DOWNLOADS)},
        "provider_host": {"type": "str"},
    }

    def desired(self, args):
        paths = {
            o: _validation.drive_path(args[o], o)
            for o in ("tool_path", "usage_data_dest", "usage_data_src", "update_pack_dest", "update_pack_src", "export_dest")
        }
        tool_path = paths["tool_path"] or ""
        if "[" in tool_path or "]" in tool_path:
            # The tool starts through Start-Process, whose -FilePath, -WorkingDirectory and redirection paths are
            # wildcard patterns (it has no -LiteralPath): a bracket would name other files or none.
            raise AnsibleActionFail(
                f"tool_path must not hold [ or ]: the tool is started with Start-Process, which reads its path as a "
                f"wildcard pattern (docs/configmgr-behaviour.md#service-connection-tool). Copy the tool's folder to a "
                f"path without brackets, got {tool_path!r}."
            )
        want = _sct.Want(
            args["action"],
            **paths,
            proxy_server_uri=_validation.proxy_uri(args["proxy_server_uri"]),
            proxy_username=_validation.proxy_username(args["proxy_username"]),
            download=args["download"],
            provider_host=args["provider_host"],
        )
        _sct.check_options(want, args)
        if want.provider_host and want.provider_host not in self.task_vars.get("hostvars", {}):
            raise AnsibleActionFail(f"provider_host {want.provider_host} is not a host of the inventory.")
        self.want = want
        return want

    # -- reads ------------------------------------------------------------------------------------------------

    @property
    def where(self) -> str:
        delegated = self._task.delegate_to
        return str(delegated or self.task_vars.get("inventory_hostname") or self._play_context.remote_addr)

    def _engine_provider(self, want) -> bool:
        """The SMS Provider is read in the task's own invocation (through the engine's CIM session)."""
        return want.needs_offline_scp and not want.provider_host

    def read_plan(self, want):
        return _sct.read_plan(want, with_provider=self._engine_provider(want))

    def read(self, plan, host=None):
        try:
            return super().read(plan, host)
        except RunnerError as e:
            if "SMS Provider" not in str(e.message):
                raise
            raise RunnerError(
                f"{e.message} {PROVIDER_HINT.format(action=self.want.action)}",
                step=e.step,
                cmdlet=e.cmdlet,
                details=e.details,
                completed=e.completed,
            ) from None

    def _provider_read(self, plan):
        if not self.want.provider_host:
            return self.read(plan)
        with RemoteHost(self, self.want.provider_host, self.task_vars) as remote:
            return self.read(plan, remote)

    def decide(self, want, observed):
        self.host = _sct.HostFacts.of(observed)
        provider = None
        if want.needs_offline_scp:
            raw = observed if self._engine_provider(want) else self._provider_read(_sct.provider_plan(want))
            provider = _sct.ProviderFacts.of(raw)
        self.provider_facts = provider
        return _sct.decide(want, self.host, provider, self.where, self.check_mode)

    def before_write(self, want, decision, observed):
        """The tool must be there before anything runs (also in check mode)."""
        if not decision.changed:
            return []
        folder, exe = decision.changes[:2]
        tool = _sct.tool_of(folder, exe, self.read(_sct.tool_plan(folder, exe)))
        decision.result["tool_version"] = tool.version
        if not tool.found:
            problems = _sct.Problems(self.check_mode)
            problems.fixable(_sct.missing_tool_message(tool, self.where, want.action))
            return problems.warnings
        return []

    # -- the run -----------------------------------------------------------------------------------------------

    def apply(self, want, decision):
        folder, exe, args = decision.changes
        plan = _sct.write_plan(want, folder, exe, args, self.host.system_drive, self.where, with_provider=self._engine_provider(want))
        written = self.run_writes(plan)
        run = _sct.Run.of(written)
        result = {"ran": True, **run.result()}
        if want.action == "connect":
            result.update(setup_log=run.setup_log, update_packs=run.packs)
        if want.action == "import":
            if self._engine_provider(want):
                after = _sct.updates_of(written.output("updates_after"))
            else:
                plan = Plan()
                _sct.updates_step(plan, "updates_after")
                after = _sct.updates_of(self._provider_read(plan).output("updates_after"))
            outcome = _sct.import_outcome(self.provider_facts.updates, after, decision.result["pending"])
            result.update(outcome, changed=bool(outcome["imported"]))
        if run.rc != 0 and not run.harmless:
            # The tool ran and failed: nothing of the task is "already done"; what it did is in the result.
            self.completed_actions.clear()
            self.partial.update(result)
            self.partial.setdefault("changed", False)
            raise AnsibleActionFail(_sct.failure_message(want, run, self.where))
        if run.harmless:
            result["warnings"] = [
                f"{_sct.TOOL_EXE} ended with the known, harmless UnauthorizedAccessException "
                "(extractmanifestcab) after downloading; the update packs are complete."
            ]
        return result
