# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point_info (documentation: plugins/modules/)."""

from __future__ import annotations

from dataclasses import asdict

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp, _scp_health, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, Decision
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller, WaitFailed, progress
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import RemoteHost, find_inventory_host


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC: dict = {
        "health": {"type": "bool", "default": True},
        "scp_host": {"type": "str"},
        "wait_timeout": {"type": "int", "default": 0},
        "poll_interval": {"type": "int", "default": 15},
    }
    RESULT_STATE = False

    def desired(self, args):
        # The same rule as service_connection_point's scp_host: an inventory host, without invisible characters.
        args["scp_host"] = _validation.inventory_host(args["scp_host"], "scp_host", self.task_vars.get("hostvars", {}))
        if args["wait_timeout"] < 0:
            raise AnsibleActionFail("wait_timeout must be 0 (do not wait) or a number of seconds.")
        if args["wait_timeout"]:
            args["wait_timeout"], args["poll_interval"] = _validation.wait_options(args["wait_timeout"], args["poll_interval"])
        return args

    def read_plan(self, want):
        # Info modules read only; check mode changes nothing about that. One invocation on the provider:
        # the placement, and with health the components, the SCP's status messages and the alerts.
        plan = _scp.read_plan(None)
        return _scp_health.provider_plan(plan) if want["health"] else plan

    def decide(self, want, observed):
        hierarchy = Hierarchy.of(observed)
        decision = placement(hierarchy)
        if want["health"]:
            decision.result["health"] = self.health(want, observed, hierarchy, decision.result)
        return decision

    def settle(self, want, decision, observed):
        """With wait_timeout: read again until the SCP works, or the time is up (the task never fails because of
        health: the last read is the result). Not in check mode."""
        health = decision.result.get("health")
        if not want["health"] or not want["wait_timeout"] or health is None or health["healthy"]:
            return {}
        if not decision.result["placement_ok"] or health.get("scp_host") is None:
            return {}  # waiting cannot help: the placement is wrong, or the SCP server cannot be read

        def poll() -> dict:
            again = self.read(self.read_plan(want))
            hierarchy = Hierarchy.of(again)
            placed = placement(hierarchy).result
            return self.health(want, again, hierarchy, placed)

        poller = Poller(want["wait_timeout"], want["poll_interval"])
        poller.note(_scp_health.describe(health))
        last = [health]

        def read() -> dict:
            last[0] = poll()
            return last[0]

        try:
            poller.until(read, lambda h: h["healthy"], describe=_scp_health.describe, on_timeout=lambda p: "not healthy")
        except WaitFailed:
            pass
        return {"health": last[0], "wait": progress(poller)}

    def health(self, want, observed, hierarchy, placed) -> dict:
        scps = _scp.scps(hierarchy)
        if not scps:
            return _scp_health.absent()
        scp = scps[0]
        host = find_inventory_host(self.task_vars, scp.server, want["scp_host"])
        facts, failure = None, None
        if host is not None:
            # One invocation on the SCP server, as delegate_to would open it (docs/development.md).
            try:
                with RemoteHost(self, host, self.task_vars) as remote:
                    facts = _scp_health.ServerFacts.of(self.read(_scp_health.server_plan(), remote))
            except AnsibleActionFail as e:  # RunnerError included: health says what it could not read
                failure = str(e.message)
        result = _scp_health.derive(
            server=scp.server,
            site_code=scp.site_code,
            configured_mode=scp.mode,
            placement_ok=placed["placement_ok"],
            provider=observed,
            facts=facts,
            scp_host=host,
        )
        if failure:
            result["unreadable"].append(failure)
        return result


def placement(hierarchy: Hierarchy) -> Decision:
    """Pure: where the SCP is, and whether that is where the hierarchy needs it."""
    top = hierarchy.top
    scps = _scp.scps(hierarchy)
    instances = [
        {"site_code": s.site_code, "mode": s.mode, "site_system_server": s.server, "at_top_level_site": s.site_code == top.site_code}
        for s in scps
    ]
    return Decision(
        changed=False,
        result={
            "top_level_site": asdict(top),
            "sites": [asdict(s) for s in hierarchy.sites],
            "service_connection_point": _scp.ScpState.of(scps[0] if scps else None).to_dict(),
            "service_connection_points": instances,
            "placement_ok": _scp.placement_ok(hierarchy),
        },
    )
