# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.local_group_member (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _local_group, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError, describe_error


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    RESULT_STATE = False  # the result is group / added / removed / members
    ARGUMENT_SPEC = {
        "group": {"type": "str", "default": "Administrators"},
        "members": {"type": "list", "elements": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }

    def desired(self, args):
        args = {**args, "group": _validation.local_group(args["group"])}
        if not args["members"]:
            raise AnsibleActionFail("members must list at least one principal in DOMAIN\\name form.")
        self.group = args["group"]
        return {**args, "members": [_validation.principal(m, "members") for m in args["members"]]}

    def read(self, plan, host=None, **kwargs):
        try:
            return super().read(plan, host, **kwargs)
        except RunnerError as e:
            if (e.details.get("fqid") or "").startswith("GroupNotFound"):
                raise AnsibleActionFail(f"group {self.group} does not exist on this host.") from None
            raise

    def read_plan(self, want):
        return _local_group.read_plan(want["group"])

    def decide(self, want, observed):
        return _local_group.decide(want["state"], want["group"], want["members"], _local_group.members(observed.output("members")))

    def write_plan(self, want, decision):
        return _local_group.write_plan(want["group"], decision.changes)

    def read_back(self, want, decision, written):
        done = _local_group.outcome(decision.changes, written)
        if done.failed:
            step, cmdlet, error = done.failed[0]
            raise RunnerError(
                describe_error({**error, "stage": "step", "step": step, "cmdlet": cmdlet}),
                step=step,
                cmdlet=cmdlet,
                details={k: error.get(k) for k in ("category", "fqid", "exception")},
            )
        result = {
            "changed": bool(done.added or done.removed),
            "added": done.added,
            "removed": done.removed,
            "members": _local_group.member_names(written.output("after")),
        }
        if done.already:
            result["warnings"] = [
                *decision.warnings,
                f"{', '.join(done.already)}: Windows found the desired state there already (the same principal under "
                f"another name, or another run was first); nothing was changed for it.",
            ]
        return result
