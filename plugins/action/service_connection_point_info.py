# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point_info (documentation: plugins/modules/)."""

from __future__ import annotations

from dataclasses import asdict

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC: dict = {}
    RESULT_STATE = False

    def read_plan(self, want):
        # Info modules read only; check mode changes nothing about that.
        return _scp.read_plan(None)

    def decide(self, want, observed):
        return placement(Hierarchy.of(observed))


def placement(hierarchy: Hierarchy) -> Decision:
    """Pure: where the SCP is, and whether that is where the hierarchy needs it."""
    top = hierarchy.top
    scps = _scp.scps(hierarchy)
    instances = [{"site_code": s.site_code, "mode": s.mode, "site_system_server": s.server,
                  "at_top_level_site": s.site_code == top.site_code} for s in scps]
    return Decision(changed=False, result={
        "top_level_site": asdict(top),
        "sites": [asdict(s) for s in hierarchy.sites],
        "service_connection_point": _scp.ScpState.of(scps[0] if scps else None).to_dict(),
        "service_connection_points": instances,
        "placement_ok": len(scps) == 1 and scps[0].site_code == top.site_code,
    })
