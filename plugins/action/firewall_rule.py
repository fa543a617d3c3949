# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.firewall_rule (documentation: plugins/modules/)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _firewall
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, diff_text
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError, run_plan

_PORT = re.compile(r"^(?:[0-9]{1,5}(?:-[0-9]{1,5})?)$")


def _check_ports(option: str, ports: list[str] | None) -> None:
    for port in ports or []:
        text = str(port).strip()
        if not _PORT.fullmatch(text) or any(not 1 <= int(p) <= 65535 for p in text.split("-")):
            raise AnsibleActionFail(f"{option} must list port numbers 1-65535 or ranges such as 5000-5010, got {port!r}.")


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

    def execute(self, args, provider, task_vars):
        name = args["name"]
        if not name.strip() or "\n" in name or "\r" in name:
            raise AnsibleActionFail("name must be the rule's unique name (one line, not empty).")
        _check_ports("local_port", args["local_port"])
        _check_ports("remote_port", args["remote_port"])

        current_plan = run_plan(self, _firewall.read_plan(name))
        rule_step = current_plan.steps["rule"]
        if not rule_step.ok and (rule_step.error or {}).get("category") != "ObjectNotFound":
            raise RunnerError(f"Could not read firewall rule {name}: {(rule_step.error or {}).get('message')}",
                              step="rule", cmdlet="Get-NetFirewallRule", details=rule_step.error)
        current = _firewall.observed(rule_step.first if rule_step.ok else None, current_plan.first("ports"))

        if args["state"] == "absent":
            want, changes = None, (["present"] if current.present else [])
            after = _firewall.RuleState()
        else:
            want = _firewall.desired(args, current)
            if want.protocol == "any" and (want.local_port or want.remote_port):
                raise AnsibleActionFail("local_port and remote_port need protocol tcp or udp (Windows refuses ports "
                                        "with protocol Any); set protocol.")
            changes = ["present"] if not current.present else _firewall.differences(current, want)
            after = want
        result = {"changed": bool(changes), "changes": changes, "before": current.to_dict(), "after": after.to_dict()}
        if self.diff_mode and changes:
            result["diff"] = {"before_header": f"firewall rule {name}", "after_header": f"firewall rule {name}",
                              "before": diff_text(current.to_dict()), "after": diff_text(after.to_dict())}
        if not changes or self.check_mode:
            return result
        written = run_plan(self, _firewall.write_plan(current, want))
        if want is not None:
            result["after"] = _firewall.observed(written.first("after_rule"), written.first("after_ports")).to_dict()
        return result
