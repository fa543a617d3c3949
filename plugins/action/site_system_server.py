# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.site_system_server (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _site_system, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "site_system_server": {"type": "str", "required": True, "aliases": ["server"]},
        "site_code": {"type": "str"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "use_site_server_account": {"type": "bool"},
        "installation_account": {"type": "str"},
        "enable_proxy": {"type": "bool"},
        "proxy_server": {"type": "str"},
        "proxy_port": {"type": "int"},
        "proxy_account": {"type": "str"},
    }
    MUTUALLY_EXCLUSIVE = [["use_site_server_account", "installation_account"]]

    def desired(self, args):
        if args["use_site_server_account"] is False:
            raise AnsibleActionFail(
                "use_site_server_account: false needs an installation account: set installation_account "
                "(DOMAIN\\user) instead, which implies not using the site server's computer account."
            )
        return _site_system.check_proxy_options(
            _site_system.Desired(
                state=args["state"],
                server=_validation.fqdn(args["site_system_server"], "site_system_server"),
                site_code=_validation.site_code(args["site_code"]),
                use_site_server_account=args["use_site_server_account"],
                installation_account=_validation.account(args["installation_account"], "installation_account"),
                enable_proxy=args["enable_proxy"],
                proxy_server=_validation.proxy_server(args["proxy_server"]),
                proxy_port=args["proxy_port"],
                proxy_account=(
                    _validation.account(args["proxy_account"], "proxy_account") if args["proxy_account"] else args["proxy_account"]
                ),
            )
        )

    def read_plan(self, want):
        return _site_system.read_plan(want.server, [a for a in (want.installation_account, want.proxy_account) if a])

    def decide(self, want, observed):
        return _site_system.decide(want, Hierarchy.of(observed), check_mode=self.check_mode)

    def write_plan(self, want, decision):
        return _site_system.write_plan(decision.changes, want.server)

    def read_back(self, want, decision, written):
        return {"after": _site_system.state_after(Hierarchy.of(written), want.server, decision.changes.site_code).to_dict()}
