# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.tls_settings (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _reboot, _tls
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "dotnet_tls12": {"type": "bool", "default": True},
        "schannel_tls12_client": {"type": "bool", "default": True},
        "certificate_files": {"type": "list", "elements": "str", "default": []},
        "reboot": {"type": "bool", "default": False},
        "reboot_timeout": {"type": "int", "default": 600},
    }

    def desired(self, args):
        if not 1 <= args["reboot_timeout"] <= 86400:
            raise AnsibleActionFail("reboot_timeout must be between 1 and 86400 seconds.")
        files = list(dict.fromkeys(_tls.certificate_path(p) for p in args["certificate_files"]))
        return _tls.Want(
            dotnet_tls12=args["dotnet_tls12"],
            schannel_tls12_client=args["schannel_tls12_client"],
            certificate_files=files,
            reboot=args["reboot"],
            reboot_timeout=args["reboot_timeout"],
        )

    def read_plan(self, want):
        return _tls.read_plan(want.certificate_files)

    def decide(self, want, observed):
        return _tls.decide(want, _tls.observed(observed, want.certificate_files))

    def write_plan(self, want, decision):
        return _tls.write_plan(decision.changes, want.certificate_files)

    def apply(self, want, decision):
        changes = decision.changes
        plan = self.write_plan(want, decision)
        if not changes.reboot:
            return _tls.read_back(decision, self.run_writes(plan))
        # The restart is the write plan's last step: one invocation writes, reads back and starts the reboot.
        plan.write("restart", "Restart-Computer", {"Force": True}, does="start a reboot of the server")
        written = []

        def restart():
            written.append(self.run_writes(plan))

        self.partial = {**decision.result, "rebooted": False}
        self.pending_actions = [*plan.actions.values(), _reboot.CONFIRM]  # a wait cut short says what is not done
        outcome = _reboot.reboot_and_wait(
            restart=restart,
            read_boot_time=lambda: (self.read(_tls.boot_plan()).first("os") or {}).get("LastBootUpTime"),
            reset=lambda: _reboot.reset_connection(self._connection),
            previous=changes.boot_time,
            timeout=want.reboot_timeout,
        )
        if written:
            result = _tls.read_back(decision, written[0])
        else:  # the host went down before the answer came back: read what the writes left
            result = _tls.read_back(decision, self.read(_tls.read_plan([], prefix="after_")))
        problems = [p for p in result["problems"] if not p.startswith("a reboot is needed")]
        result.update(
            rebooted=True,
            reboot_required=False,
            executive_restart_required=False,
            last_boot_time=outcome.boot_time,
            reboot_elapsed=outcome.elapsed,
            problems=problems,
            ready=not problems,
        )
        return result
