# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The shape every action plugin of the collection shares.

validate arguments (nothing is sent before this passes) -> the module's own logic (read plan,
decide in Python, write plan) -> result with no_log values removed.
"""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.parameters import remove_values
from ansible.plugins.action import ActionBase

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Provider, RunnerError

# Options of every module that talks to the SMS Provider (doc fragment configmgr.scp.provider).
PROVIDER_SPEC = {
    "provider_server": {"type": "str"},
    "provider_site_code": {"type": "str"},
    "provider_username": {"type": "str"},
    "provider_password": {"type": "str", "no_log": True},
    "module_path": {"type": "path"},
}


class ConfigMgrAction(ActionBase):
    """Subclasses set ARGUMENT_SPEC (and the rules) and implement execute()."""

    TRANSFERS_FILES = False
    _requires_connection = True
    _supports_check_mode = True
    _supports_async = False

    ARGUMENT_SPEC: dict = {}
    USES_PROVIDER = True
    MUTUALLY_EXCLUSIVE: list = []
    REQUIRED_IF: list = []
    REQUIRED_TOGETHER: list = []

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        del tmp
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
        try:
            provider = self.provider_from_args(args) if self.USES_PROVIDER else None
            result.update(self.execute(args, provider, task_vars or {}))
        except RunnerError as e:
            result.update(e.partial)
            result.update(failed=True, msg=str(e.message))
            if e.step:
                result["failed_step"] = {"id": e.step, "cmdlet": e.cmdlet, **{k: v for k, v in e.details.items() if v}}
        except AnsibleActionFail as e:
            result.update(failed=True, msg=str(e.message))
        result["changed"] = bool(result.get("changed", False))
        return remove_values(result, no_log_values)

    @staticmethod
    def provider_from_args(args: dict) -> Provider:
        return Provider(
            site_code=_validation.site_code(args.get("provider_site_code"), "provider_site_code"),
            server=_validation.fqdn(args.get("provider_server"), "provider_server"),
            module=args.get("module_path"),
            username=_validation.account(args.get("provider_username"), "provider_username"),
            password=args.get("provider_password"),
        )

    def execute(self, args: dict, provider: Provider | None, task_vars: dict) -> dict:
        raise NotImplementedError


def diff_text(state: dict) -> str:
    """A state as the stable `key: value` lines a reviewer reads in a --diff."""
    lines = []
    for key in sorted(state):
        value = state[key]
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif value is None:
            value = "null"
        lines.append(f"{key}: {value}")
    return "\n".join(lines) + "\n"
