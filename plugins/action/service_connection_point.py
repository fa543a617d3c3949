# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, diff_text
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError, run_plan


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "site_system_server": {"type": "str", "aliases": ["server"]},
        "site_code": {"type": "str"},
        "mode": {"type": "str", "choices": ["online", "offline"]},
        "allow_move": {"type": "bool", "default": False},
    }
    REQUIRED_IF = [["state", "present", ["site_system_server"]]]

    def execute(self, args, provider, task_vars):
        server = _validation.fqdn(args["site_system_server"], "site_system_server")
        site_code = _validation.site_code(args["site_code"])

        current = run_plan(self, _scp.read_plan(server if args["state"] == "present" else None), provider)
        target_sites = [str(t.get("SiteCode") or "").upper() for t in current.output("target") if isinstance(t, dict)]
        decision = _scp.decide(
            state=args["state"], server=server, site_code=site_code, mode=args["mode"], allow_move=args["allow_move"],
            sites=_scp.parse_sites(current.output("sites")), scps=_scp.observed(current), target_site_codes=target_sites,
            check_mode=self.check_mode,
        )

        result = {
            "changed": decision.changed,
            "before": decision.before.to_dict(),
            "after": decision.after.to_dict(),
            "top_level_site": decision.top_level_site.site_code,
            "actions": [a.describe() for a in decision.actions],
            "restart_required": decision.restart_required,
            "restart_component": _scp.RESTART_COMPONENT if decision.restart_required else None,
        }
        if decision.warnings:
            result["warnings"] = decision.warnings
        if self.diff_mode and decision.changed:
            result["diff"] = {
                "before_header": "service connection point", "after_header": "service connection point",
                "before": diff_text(decision.before.to_dict()), "after": diff_text(decision.after.to_dict()),
            }
        if not decision.changed or self.check_mode:
            return result

        try:
            written = run_plan(self, _scp.write_plan(decision.actions), provider)
        except RunnerError as e:
            # Say exactly where the hierarchy stands: which actions ran before the failure.
            done = [decision.actions[int(s.rsplit("_", 1)[1])].describe() for s in e.completed if s != "after_scp"]
            message = e.message
            if done:
                message += f" Already done: {'; '.join(done)}. Run the task again to finish: it reads the state first."
            raise RunnerError(message, step=e.step, cmdlet=e.cmdlet, details=e.details, completed=e.completed,
                              partial={"changed": bool(done), "completed_actions": done}) from None
        scps = _scp.observed(written, "after_scp")
        in_place = [s for s in scps if s.server == decision.after.site_system_server and s.site_code == decision.after.site_code]
        result["after"] = _scp.ScpState.of(in_place[0] if in_place else (scps[0] if scps else None)).to_dict()
        return result
