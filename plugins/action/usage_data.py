# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.usage_data (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible_collections.configmgr.scp.plugins.plugin_utils import _usage_data
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "level": {"type": "str", "required": True, "choices": list(_usage_data.LEVELS.values())},
    }

    def desired(self, args):
        return args["level"]

    def read_plan(self, want):
        return _usage_data.read_plan()

    def decide(self, want, observed):
        self.top = Hierarchy.of(observed).top.site_code
        return _usage_data.decide(want, _usage_data.level_of(observed.output("telemetry"), self.top), self.top)

    def write_plan(self, want, decision):
        return _usage_data.write_plan(want, self.top)

    def read_back(self, want, decision, written):
        return {"after": _usage_data.after(written, self.top)}
