# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_tool_info (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible_collections.configmgr.scp.plugins.plugin_utils import _sct, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    RESULT_STATE = False
    ARGUMENT_SPEC = {"tool_path": {"type": "str"}}

    def desired(self, args):
        return _validation.drive_path(args["tool_path"], "tool_path")

    def read_plan(self, want):
        if want:
            return _sct.tool_plan(*_sct.tool_location(want, None))
        return _sct.locate_plan()

    def decide(self, want, observed):
        install_dir = None if want else _sct.install_dir(observed)
        location = _sct.tool_location(want, install_dir)
        if location is None:
            return Decision(
                result={"found": False, "installation_directory": None, "tool_path": None, "executable": None, "version": None, "files": []}
            )
        if not want:  # a second read: the folder the registry names
            observed = self.read(_sct.tool_plan(*location))
        tool = _sct.tool_of(*location, observed)
        return Decision(result={**tool.to_dict(), "installation_directory": install_dir})
