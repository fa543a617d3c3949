# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.cm_account (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _hierarchy, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import ref


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True, "aliases": ["user_name"]},
        "password": {"type": "str", "no_log": True},
        "update_password": {"type": "str", "default": "on_create", "choices": ["always", "on_create"], "no_log": False},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "site_code": {"type": "str"},
    }

    def desired(self, args):
        return {
            **args,
            "name": _validation.account(args["name"], "name"),
            "site_code": _validation.site_code(args["site_code"]),
            "password": _validation.secret(args["password"], "password"),
        }

    def read_plan(self, want):
        # The account at every site that has it (SMS_SCI_Reserved: one instance per site).
        return _hierarchy.read_plan(accounts=[want["name"]])

    def decide(self, want, observed):
        return decide(want, _hierarchy.Hierarchy.of(observed))

    def write_plan(self, want, decision):
        kind, site, stored = decision.changes
        plan = WritePlan()
        if kind == "remove":
            # Exactly one object: the account at this site (by name, Get-CMAccount returns one per site), named
            # literally (-UserName takes wildcards; a backtick, legal in an account name, is their escape).
            plan.add("account", "Get-CMAccount", {"UserName": stored, "SiteCode": site, "DisableWildcardHandling": True})
            plan.write(
                "remove",
                "Remove-CMAccount",
                {"InputObject": ref("account"), "Force": True},
                does=f"remove the ConfigMgr account {stored} (site {site})",
            )
        elif kind == "new":
            plan.write(
                "new",
                "New-CMAccount",
                {"UserName": want["name"], "SiteCode": site, "Password": plan.add_secret("password", want["password"])},
                does=f"create the ConfigMgr account {want['name']} (site {site})",
            )
        else:
            plan.write(
                "set",
                "Set-CMAccount",
                {"UserName": stored, "SiteCode": site, "Password": plan.add_secret("password", want["password"])},
                does=f"set the password of the ConfigMgr account {stored} (site {site})",
            )
        return plan


def decide(want: dict, hierarchy: _hierarchy.Hierarchy) -> Decision:
    """Pure: the account at exactly one site, the one asked for or the SMS Provider's own."""
    name = want["name"]
    site = want["site_code"] or hierarchy.provider_site or hierarchy.top.site_code
    hierarchy.check_site(site)
    found = hierarchy.account(name, site)
    before = {"present": found is not None, "name": found.user_name if found else None, "site_code": site if found else None}
    changes, password_updated = None, False
    if want["state"] == "absent":
        after = {"present": False, "name": None, "site_code": None}
        if found:
            changes = ("remove", site, found.user_name)
    else:
        after = {"present": True, "name": found.user_name if found else name, "site_code": site}
        if not found:
            if not want["password"]:
                raise AnsibleActionFail(f"password is required to create the ConfigMgr account {name} (site {site}).")
            changes, password_updated = ("new", site, None), True
        elif want["password"] and want["update_password"] == "always":
            # The password cannot be read back to compare: "always" resets it on every run.
            changes, password_updated = ("set", site, found.user_name), True
    return Decision(
        before=before,
        after=after,
        changed=changes is not None,
        diff_header=f"ConfigMgr account {name}",
        changes=changes,
        result={"password_updated": password_updated},
    )
