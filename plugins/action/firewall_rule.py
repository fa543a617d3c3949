# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.firewall_rule (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible_collections.configmgr.scp.plugins.plugin_utils import _firewall, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    ARGUMENT_SPEC = {
        "name": {"type": "str", "required": True},
        "display_name": {"type": "str"},
        "description": {"type": "str"},
        "direction": {"type": "str", "choices": ["inbound", "outbound"]},
        "action": {"type": "str", "choices": ["allow", "block"]},
        "protocol": {"type": "str", "choices": ["tcp", "udp", "any"]},
        "local_port": {"type": "list", "elements": "str"},
        "remote_port": {"type": "list", "elements": "str"},
        "profiles": {"type": "list", "elements": "str", "choices": ["any", "domain", "private", "public"]},
        "enabled": {"type": "bool"},
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
    }

    def desired(self, args):
        _validation.firewall_rule_name(args["name"])
        _validation.firewall_display_name(args["display_name"])
        _validation.firewall_description(args["description"])
        _validation.ports("local_port", args["local_port"])
        _validation.ports("remote_port", args["remote_port"])
        return args

    def read_plan(self, want):
        return _firewall.read_plan(want["name"])

    def decide(self, want, observed):
        rule = observed.steps["rule"]
        if not rule.ok and (rule.error or {}).get("category") != "ObjectNotFound":
            raise RunnerError(
                f"Could not read firewall rule {want['name']}: {(rule.error or {}).get('message')}",
                step="rule",
                cmdlet="Get-NetFirewallRule",
                details=rule.error,
            )
        _firewall.one_rule(observed.output("rule") if rule.ok else [], want["name"])
        return _firewall.decide(want["state"], want, _firewall.state_in(observed, want["name"]))

    def write_plan(self, want, decision):
        return _firewall.write_plan(*decision.changes)

    def read_back(self, want, decision, written):
        if decision.changes[1] is None:
            return {}
        return {"after": _firewall.state_in(written, want["name"], _firewall.written_step(written), "after_ports").to_dict()}
