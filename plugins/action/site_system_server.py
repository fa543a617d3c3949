# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.site_system_server (documentation: plugins/modules/)."""

from __future__ import annotations

import ipaddress

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp, _site_system, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, diff_text
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import run_plan


def _proxy_server(value: str | None) -> str | None:
    """Facts §1.5: the proxy may be an FQDN, a host name, an IPv4 or an IPv6 address."""
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.split(".")
    if all(label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
           and not label.startswith("-") and not label.endswith("-") for label in labels) and len(value) <= 253:
        return value.lower()
    raise AnsibleActionFail(f"proxy_server must be an FQDN, a host name or an IP address, got {value!r}.")


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

    def execute(self, args, provider, task_vars):
        if args["use_site_server_account"] is False:
            raise AnsibleActionFail(
                "use_site_server_account: false needs an installation account: set installation_account "
                "(DOMAIN\\user) instead, which implies not using the site server's computer account.")
        desired = _site_system.check_proxy_options(_site_system.Desired(
            state=args["state"],
            server=_validation.fqdn(args["site_system_server"], "site_system_server"),
            site_code=_validation.site_code(args["site_code"]),
            use_site_server_account=args["use_site_server_account"],
            installation_account=_validation.account(args["installation_account"], "installation_account"),
            enable_proxy=args["enable_proxy"],
            proxy_server=_proxy_server(args["proxy_server"]),
            proxy_port=args["proxy_port"],
            proxy_account=(_validation.account(args["proxy_account"], "proxy_account") if args["proxy_account"] else args["proxy_account"]),
        ))
        server = desired.server
        lookups = [a for a in (desired.installation_account, desired.proxy_account) if a]

        current = run_plan(self, _site_system.read_plan(server, lookups), provider)
        accounts = [a for i in range(len(lookups)) for a in current.output(f"account_{i}")]
        decision = _site_system.decide(desired, sites=_scp.parse_sites(current.output("sites")), targets=current.output("target"),
                                       roles=current.output("roles"), accounts=accounts, check_mode=self.check_mode)
        result = {"changed": decision.changed, "before": decision.before.to_dict(), "after": decision.after.to_dict()}
        if decision.warnings:
            result["warnings"] = decision.warnings
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
