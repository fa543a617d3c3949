"""Run a plan over a pywinrm Protocol through the collection's own runner (tests only).

`run_plan()` in plugins/plugin_utils/_runner.py talks to the task's connection through
`_low_level_execute_command`; `WinRMHost` offers the same over pywinrm, so tests that drive cmlab
without Ansible still exercise the exact bootstrap, packing, payload and result parsing.
"""

from __future__ import annotations

from types import SimpleNamespace

import winrm

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, Provider, run_plan


class WinRMHost:
    def __init__(self, protocol: winrm.Protocol):
        self.protocol = protocol
        self._play_context = SimpleNamespace(remote_addr=protocol.transport.endpoint)

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
        command, arguments = cmd.split(" ", 1)
        shell = self.protocol.open_shell(codepage=65001)
        try:
            command_id = self.protocol.run_command(shell, command, [arguments], console_mode_stdin=in_data is None)
            if in_data is not None:
                self.protocol.send_command_input(shell, command_id, in_data, end=True)
            out, err, rc = self.protocol.get_command_output(shell, command_id)
            self.protocol.cleanup_command(shell, command_id)
        finally:
            self.protocol.close_shell(shell)
        return {"rc": rc, "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")}


def run_plan_over(protocol: winrm.Protocol, plan: Plan, provider: Provider | None = None) -> PlanResult:
    return run_plan(WinRMHost(protocol), plan, provider)
