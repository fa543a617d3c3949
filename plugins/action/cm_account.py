# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.cm_account (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, diff_text
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, run_plan

ACCOUNT_SELECT = {"UserName": None, "SiteCode": None}


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True, "aliases": ["user_name"]},
        "password": {"type": "str", "no_log": True},
        "update_password": {"type": "str", "default": "on_create", "choices": ["always", "on_create"], "no_log": False},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "site_code": {"type": "str"},
    }

    def execute(self, args, provider, task_vars):
        name = _validation.account(args["name"], "name")
        site_code = _validation.site_code(args["site_code"])
        read = Plan()
        read.add("account", "Get-CMAccount", {"UserName": name}, select=ACCOUNT_SELECT)
        found = [a for a in run_plan(self, read, provider).output("account")
                 if isinstance(a, dict) and str(a.get("UserName") or "").lower() == name.lower()]
        exists = bool(found)
        before = {"present": exists, "name": found[0]["UserName"] if exists else None}

        write = Plan()
        target = {"UserName": name, **({"SiteCode": site_code} if site_code else {})}
        password_updated = False
        if args["state"] == "absent":
            if exists:
                write.add("remove", "Remove-CMAccount", {"UserName": found[0]["UserName"], "Force": True})
            after = {"present": False, "name": None}
        else:
            if not exists:
                if not args["password"]:
                    raise AnsibleActionFail(f"password is required to create the ConfigMgr account {name}.")
                write.add("new", "New-CMAccount", {**target, "Password": write.add_secret("password", args["password"])})
                password_updated = True
            elif args["password"] and args["update_password"] == "always":
                # The password cannot be read back to compare: "always" resets it on every run.
                write.add("set", "Set-CMAccount", {**target, "UserName": found[0]["UserName"],
                                                   "Password": write.add_secret("password", args["password"])})
                password_updated = True
            after = {"present": True, "name": found[0]["UserName"] if exists else name}

        result = {"changed": bool(write.steps), "before": before, "after": after, "password_updated": password_updated}
        if self.diff_mode and before != after:
            result["diff"] = {"before_header": f"ConfigMgr account {name}", "after_header": f"ConfigMgr account {name}",
                              "before": diff_text(before), "after": diff_text(after)}
        if write.steps and not self.check_mode:
            run_plan(self, write, provider)
        return result
