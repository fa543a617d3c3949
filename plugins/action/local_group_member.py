# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.local_group_member (documentation: plugins/modules/)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _local_group, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError, run_plan

# Local group names: 1-256 characters, none of " / \ [ ] : ; | = , + * ? < > @
_GROUP = re.compile(r'^[^"/\\\[\]:;|=,+*?<>@\r\n]{1,256}$')


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    ARGUMENT_SPEC = {
        "group": {"type": "str", "default": "Administrators"},
        "members": {"type": "list", "elements": "str", "required": True},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }

    def execute(self, args, provider, task_vars):
        group = args["group"]
        if not _GROUP.fullmatch(group) or group != group.strip():
            raise AnsibleActionFail(f"group must be the name of a local group (for example Administrators), got {group!r}.")
        if not args["members"]:
            raise AnsibleActionFail("members must list at least one principal in DOMAIN\\name form.")
        members = [_validation.account(m, "members") for m in args["members"]]

        try:
            current = _local_group.member_names(run_plan(self, _local_group.read_plan(group)).output("members"))
        except RunnerError as e:
            if (e.details.get("fqid") or "").startswith("GroupNotFound"):
                raise AnsibleActionFail(f"group {group} does not exist on this host.") from None
            raise
        decision = _local_group.decide(args["state"], members, current)
        result = {
            "changed": decision.changed, "group": group,
            "added": decision.to_add, "removed": decision.to_remove,
            "members": decision.after,
        }
        if self.diff_mode and decision.changed:
            result["diff"] = {"before_header": f"local group {group}", "after_header": f"local group {group}",
                              "before": "".join(m + "\n" for m in sorted(decision.before, key=str.lower)),
                              "after": "".join(m + "\n" for m in sorted(decision.after, key=str.lower))}
        if decision.changed and not self.check_mode:
            written = run_plan(self, _local_group.write_plan(group, decision))
            result["members"] = _local_group.member_names(written.output("after"))
        return result
