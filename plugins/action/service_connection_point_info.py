# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point_info (documentation: plugins/modules/)."""

from __future__ import annotations

from dataclasses import asdict

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import run_plan


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC: dict = {}

    def execute(self, args, provider, task_vars):
        # Info modules read only; check mode changes nothing about that.
        current = run_plan(self, _scp.read_plan(None), provider)
        sites = _scp.parse_sites(current.output("sites"))
        top = _scp.top_level_site(sites)
        scps = _scp.observed(current)
        instances = [
            {**asdict(s), "site_system_server": s.server, "at_top_level_site": s.site_code == top.site_code}
            for s in scps
        ]
        for item in instances:
            item.pop("server")
        return {
            "changed": False,
            "top_level_site": asdict(top),
            "sites": [asdict(s) for s in sites],
            "service_connection_point": _scp.ScpState.of(scps[0] if scps else None).to_dict(),
            "service_connection_points": instances,
            "placement_ok": len(scps) == 1 and scps[0].site_code == top.site_code,
        }
