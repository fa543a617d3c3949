# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.endpoint_check (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _endpoints, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError


class ActionModule(ConfigMgrAction):
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "feature_groups": {"type": "list", "elements": "str", "choices": list(_endpoints.GROUPS)},
        "proxy_server": {"type": "str"},
        "proxy_port": {"type": "int", "default": 80},
        "proxy_username": {"type": "str"},
        "proxy_password": {"type": "str", "no_log": True},
        "use_site_system_proxy": {"type": "bool", "default": False},
        "site_status": {"type": "bool", "default": False},
        "site_system_server": {"type": "str"},
        "timeout": {"type": "int", "default": 15},
        "fail_on": {"type": "str", "default": "error", "choices": ["never", "warning", "error"]},
    }
    MUTUALLY_EXCLUSIVE = [["proxy_server", "use_site_system_proxy"]]

    def desired(self, args):
        if not 1 <= args["timeout"] <= 300:
            raise AnsibleActionFail("timeout must be between 1 and 300 seconds (per endpoint).")
        if not 1 <= args["proxy_port"] <= 65535:
            raise AnsibleActionFail(f"proxy_port must be a port number 1-65535, got {args['proxy_port']}.")
        username = _validation.account(args["proxy_username"], "proxy_username")
        password = _validation.secret(args["proxy_password"], "proxy_password")
        if password is not None and password == "":
            raise AnsibleActionFail("proxy_password must not be empty; leave it out for a proxy without an account.")
        if username and password is None:
            raise AnsibleActionFail(
                "proxy_username needs proxy_password: the password of the proxy account cannot be read from Configuration Manager."
            )
        if (username or password) and not (args["proxy_server"] or args["use_site_system_proxy"]):
            raise AnsibleActionFail("proxy_username and proxy_password need proxy_server (or use_site_system_proxy).")
        if password and not username and not args["use_site_system_proxy"]:
            raise AnsibleActionFail(
                "proxy_password needs proxy_username (or use_site_system_proxy, which takes the account from the site system)."
            )
        server = _validation.fqdn(args["site_system_server"], "site_system_server")
        if (args["use_site_system_proxy"] or args["site_status"]) and not server:
            raise AnsibleActionFail(
                "use_site_system_proxy and site_status need site_system_server: the FQDN of this "
                "SCP server as Configuration Manager knows it."
            )
        groups = list(dict.fromkeys(args["feature_groups"] or _endpoints.GROUPS))
        proxy = None
        if args["proxy_server"]:
            proxy = _endpoints.Proxy(_validation.proxy_server(args["proxy_server"]), args["proxy_port"], username, password)
        return {**args, "groups": groups, "proxy": proxy, "proxy_username": username, "site_system_server": server}

    def read_plan(self, want):
        # What only the SMS Provider knows comes first, in an invocation of its own: the proxy settings must
        # be known to build the requests, and a provider that cannot be reached must not stop the check.
        self.site = {"warnings": [], "messages": None, "error": None}
        if want["use_site_system_proxy"] or want["site_status"]:
            plan = _endpoints.provider_plan(want["site_system_server"], proxy=want["use_site_system_proxy"], messages=want["site_status"])
            try:
                found = self.read(plan)
            except RunnerError as e:
                if want["use_site_system_proxy"]:
                    raise AnsibleActionFail(
                        f"use_site_system_proxy: the site system's proxy could not be read from the SMS Provider: {e.message}"
                    ) from None
                self.site["error"] = str(e.message)
                self.site["warnings"].append(
                    f"site_status: the SMS Provider could not be read ({e.message}); the site's status messages are not in the result."
                )
            else:
                if want["use_site_system_proxy"]:
                    proxy, warnings = _endpoints.site_system_proxy(
                        found.output("site_system"), want["proxy_password"], want["proxy_username"]
                    )
                    want["proxy"] = proxy
                    self.site["warnings"].extend(warnings)
                if want["site_status"]:
                    self.site["messages"] = _endpoints.latest_messages(found.output("messages"))
        self.endpoints = _endpoints.endpoints_for(want["groups"])
        plan, self.steps = _endpoints.check_plan(self.endpoints, want["proxy"], want["timeout"])
        return plan

    def decide(self, want, observed):
        rows = _endpoints.results(self.endpoints, self.steps, observed)
        level = _endpoints.severity(rows)
        failed = [r for r in rows if r["failed"]]
        result = {
            "severity": level,
            "status_message_equivalent": _endpoints.MESSAGE_OF[level],
            "endpoints": rows,
            "failed_endpoints": [r["url"] for r in failed],
            "groups": _endpoints.group_summary(want["groups"], rows),
            "proxy": want["proxy"].to_result() if want["proxy"] else None,
            "not_checked": list(_endpoints.NOT_CHECKED),
            "scp_last_check": _endpoints.scp_last_check(observed),
        }
        if want["site_status"]:
            result["site_status_messages"] = self.site["messages"]
        decision = Decision(changed=False, warnings=list(self.site["warnings"]), result=result)
        if _endpoints.should_fail(level, want["fail_on"]):
            self.partial = {**result, "warnings": decision.warnings} if decision.warnings else dict(result)
            raise AnsibleActionFail(
                f"Endpoint check: {level} ({len(failed)} of {len(rows)} endpoints failed, fail_on={want['fail_on']}): "
                + _endpoints.failure_text(rows)
            )
        return decision
