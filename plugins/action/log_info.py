# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.log_info (documentation: plugins/modules/)."""

from __future__ import annotations

from dataclasses import dataclass

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace, _logs, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision


@dataclass
class Want:
    logs: list
    max_bytes: int
    rollover: bool
    tail: int
    filters: _logs.Filters
    query: object


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "name": {"type": "list", "elements": "str", "required": True, "aliases": ["log"]},
        "max_bytes": {"type": "int", "default": _logs.DEFAULT_MAX_BYTES},
        "rollover": {"type": "bool", "default": True},
        "tail": {"type": "int", "default": 200},
        "component": {"type": "list", "elements": "str"},
        "severity": {"type": "str", "choices": list(_cmtrace.SEVERITIES)},
        "since": {"type": "str"},
        "regex": {"type": "str"},
        "query": {"type": "str"},
    }

    def desired(self, args):
        names = [_validation.log_name(n, "name") for n in args["name"]]
        if not names:
            raise AnsibleActionFail("name must list at least one log, such as Dmpdownloader.log.")
        if not 1 <= args["max_bytes"] <= _logs.MAX_MAX_BYTES:
            raise AnsibleActionFail(
                f"max_bytes must be between 1 and {_logs.MAX_MAX_BYTES} (bytes read from the end of each file), got {args['max_bytes']}."
            )
        if args["tail"] < 0:
            raise AnsibleActionFail("tail must be 0 (every entry read) or a positive number of entries.")
        components = []
        for value in args["component"] or []:
            if not value or not value.strip() or any(c in value for c in '\r\n\t<>"') or len(value) > 128:
                raise AnsibleActionFail(f"component must list CMTrace component names (one line each), got {value!r}.")
            components.append(value.strip())
        filters = _logs.Filters(tuple(components), args["severity"], _validation.since(args["since"]), _validation.regex(args["regex"]))
        logs = list({_logs.LogRead.of(n).name.lower(): _logs.LogRead.of(n) for n in names}.values())
        return Want(logs, args["max_bytes"], args["rollover"], args["tail"], filters, _validation.jmespath_query(args["query"]))

    def read_plan(self, want):
        return _logs.read_plan(want.logs, want.max_bytes, want.rollover)

    def decide(self, want, observed):
        logs = _logs.parse(observed, want.logs, want.rollover)
        return Decision(changed=False, result=result(logs, want), warnings=[log.problem for log in logs if log.problem])


def result(logs: list[_logs.LogResult], want: Want) -> dict:
    """Pure: the return values from what was read."""
    chosen = _logs.select(logs, want.filters)
    shown = chosen[-want.tail :] if want.tail else chosen
    entries = [e.as_dict() for e in shown]
    out = {
        "logs": [log.to_dict() for log in logs],
        "entries": entries,
        "entries_matched": len(chosen),
        "truncated": len(shown) < len(chosen),
    }
    if want.query is not None:  # over every entry that passed the filters, not only the last `tail`
        out["query_result"] = want.query.search([e.as_dict() for e in chosen])
    return out
