# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.status_message_info (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _status, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision


class ActionModule(ConfigMgrAction):
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "component": {"type": "str", "default": _status.CONNECTOR},
        "site_system_server": {"type": "str", "aliases": ["machine"]},
        "site_code": {"type": "str"},
        "since": {"type": "str", "default": "7d"},
        "message_ids": {"type": "list", "elements": "int"},
        "severity": {"type": "list", "elements": "str", "choices": list(_status.SEVERITIES)},
        "limit": {"type": "int", "default": 50},
    }

    def desired(self, args):
        if args["limit"] < 0:
            raise AnsibleActionFail("limit must be 0 (every message) or a positive number of messages.")
        query = _status.Query(
            component=_validation.component(args["component"]),
            machine=_validation.fqdn(args["site_system_server"], "site_system_server"),
            site_code=_validation.site_code(args["site_code"]),
            since=_validation.since(args["since"]),
            message_ids=tuple(_validation.message_ids(args["message_ids"]) or ()),
            severities=tuple(dict.fromkeys(args["severity"] or ())),
        )
        return query, args["limit"]

    def read_plan(self, want):
        query, _limit = want
        return _status.read_plan(query)  # one invocation, two CIM queries, no ConfigMgr module

    def decide(self, want, observed):
        query, limit = want
        messages, rows = _status.read(observed)
        result = _status.result(messages, rows, query.component, limit)
        result["since"] = query.since.strftime("%Y-%m-%dT%H:%M:%S+00:00") if query.since else None
        return Decision(changed=False, result=result)
