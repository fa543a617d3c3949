# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.site_system_server (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp, _site_system, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, diff_text
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import run_plan


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "site_system_server": {"type": "str", "required": True, "aliases": ["server"]},
        "site_code": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "use_site_server_account": {"type": "bool"},
        "installation_account": {"type": "str"},
    }
    MUTUALLY_EXCLUSIVE = [["use_site_server_account", "installation_account"]]

    def execute(self, args, provider, task_vars):
        server = _validation.fqdn(args["site_system_server"], "site_system_server")
        site_code = _validation.site_code(args["site_code"])
        account = _validation.account(args["installation_account"], "installation_account")
        if args["use_site_server_account"] is False:
            raise AnsibleActionFail(
                "use_site_server_account: false needs an installation account: set installation_account "
                "(DOMAIN\\user) instead, which implies not using the site server's computer account.")

        current = run_plan(self, _site_system.read_plan(server, account), provider)
        decision = _site_system.decide(
            state=args["state"], server=server, site_code=site_code,
            use_site_server_account=args["use_site_server_account"], installation_account=account,
            sites=_scp.parse_sites(current.output("sites")), targets=current.output("target"),
            roles=current.output("roles"), accounts=current.output("account"),
        )
        result = {"changed": decision.changed, "before": decision.before.to_dict(), "after": decision.after.to_dict()}
        if self.diff_mode and decision.changed:
            result["diff"] = {"before_header": f"site system server {server}", "after_header": f"site system server {server}",
                              "before": diff_text(decision.before.to_dict()), "after": diff_text(decision.after.to_dict())}
        if not decision.changed or self.check_mode:
            return result

        written = run_plan(self, _site_system.write_plan(decision, server), provider)
        site = decision.after.site_code or decision.before.site_code
        now = [t for t in written.output("after") if isinstance(t, dict) and str(t.get("SiteCode") or "").upper() == site]
        result["after"] = (_site_system.state_from_object(now[0]) if now else _site_system.SiteSystemState()).to_dict()
        return result
