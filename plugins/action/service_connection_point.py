# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point (documentation: plugins/modules/)."""

from __future__ import annotations

from dataclasses import dataclass

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _executive, _local_group, _scp, _site_system, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_lifecycle as lifecycle
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller, WaitFailed
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import RemoteHost, find_inventory_host


@dataclass
class Want:
    state: str
    server: str | None
    site_code: str | None
    mode: str | None
    allow_move: bool
    wait: bool
    timeout: int
    interval: int
    restart_downloader: bool
    check_prerequisites: bool
    scp_host: str | None


class ActionModule(ConfigMgrAction):
    ARGUMENT_SPEC = {
        "state": {"type": "str", "default": "present", "choices": ["present", "absent"]},
        "site_system_server": {"type": "str", "aliases": ["server"]},
        "site_code": {"type": "str"},
        "mode": {"type": "str", "choices": ["online", "offline"]},
        "allow_move": {"type": "bool", "default": False},
        "wait": {"type": "bool", "default": False},
        "wait_timeout": {"type": "int", "default": 1800},
        "poll_interval": {"type": "int", "default": 15},
        "restart_downloader": {"type": "bool", "default": False},
        "check_prerequisites": {"type": "bool", "default": True},
        "scp_host": {"type": "str"},
    }
    REQUIRED_IF = [["state", "present", ["site_system_server"]]]

    # -- declarations and decision ------------------------------------------------------------------

    def desired(self, args):
        timeout, interval = _validation.wait_options(args["wait_timeout"], args["poll_interval"])
        return Want(args["state"], _validation.fqdn(args["site_system_server"], "site_system_server"),
                    _validation.site_code(args["site_code"]), args["mode"], args["allow_move"], args["wait"], timeout,
                    interval, args["restart_downloader"], args["check_prerequisites"],
                    _validation.inventory_host(args["scp_host"], "scp_host", self.task_vars.get("hostvars", {})))

    def read_plan(self, want):
        plan = _scp.read_plan(want.server if want.state == "present" else None)
        if want.wait:
            lifecycle.status_plan(plan)   # whether it is installed and running: same round trip
        return plan

    def decide(self, want, observed):
        self.hierarchy = Hierarchy.of(observed)
        self.baseline = lifecycle.all_log_lines(observed)   # sitecomp.log as it was before this task
        return _scp.decide(state=want.state, server=want.server, site_code=want.site_code, mode=want.mode,
                           allow_move=want.allow_move, hierarchy=self.hierarchy, check_mode=self.check_mode)

    def before_write(self, want, decision, observed):
        """Everything that can be checked before a change is checked before it: a move must not remove a
        working SCP and then fail to install the new one."""
        changes = decision.changes
        restart = want.restart_downloader and changes.restart_required
        self.scp_host = None
        if restart or (want.check_prerequisites and changes.adding):
            self.scp_host = find_inventory_host(self.task_vars, changes.after.site_system_server or want.server or "",
                                                want.scp_host)
        if restart and self.scp_host is None:
            raise AnsibleActionFail(
                f"restart_downloader needs {changes.after.site_system_server} in the inventory (or scp_host) to restart "
                f"{_scp.RESTART_COMPONENT} there; add it, or restart it with configmgr.scp.sms_executive.")
        if not (changes.adding and want.check_prerequisites):
            return []
        row = self.hierarchy.site_system(want.server, changes.after.site_code)
        try:
            warning = self._check_prerequisites(want.server, changes, _site_system.state_of(row) if row else None)
        except AnsibleActionFail as e:
            if not self.check_mode:
                raise
            # A check-mode plan of a whole play: an earlier task (local_group_member) would add it.
            warning = f"{e.message} (check mode: assuming an earlier task fixes this)"
        return [warning] if warning else []

    # -- writing ------------------------------------------------------------------------------------

    def apply(self, want, decision):
        changes = decision.changes
        if changes.moving or want.wait:
            updates = self._step_by_step(want, changes)
        else:   # two invocations in all (read, then this): no waiting was asked for
            written = self.run_writes(_scp.write_plan(changes.actions))
            updates = {"after": _scp.after_state(Hierarchy.of(written), changes.after).to_dict()}
        if want.restart_downloader and changes.restart_required:
            updates.update(self._restart_downloader(want))
        return updates

    def settle(self, want, decision, observed):
        """Nothing to change, but wait: the recorded role may still be installing (or a removed one
        uninstalling). Not a change of this task, so it stays unchanged."""
        if not want.wait:
            return {}
        after = decision.changes.after
        server = after.site_system_server
        progress: dict = {}
        self.partial["progress"] = progress
        if after.present and not lifecycle.installed(lifecycle.component_states(observed).get(server, {})):
            self._wait(want, server, "installed", progress)
        for machine in lifecycle.leftovers(observed, server if after.present else None):
            self._wait(want, machine, "removed", progress)
        return {"progress": progress} if progress else {}

    def _step_by_step(self, want, changes):
        """A move, or a change with wait: remove, wait for the uninstall, add, wait for the install.

        Never two SCPs at once: before an add, wait until no SCP component is left on another server (the last
        read of the uninstall wait shows every server's components). The last write reads the SCPs back in
        its own invocation: that is the result's `after` (the site records the role when the cmdlet returns).
        """
        progress: dict = {}
        self.partial["progress"] = progress
        status = written = None
        for index, action in enumerate(changes.actions):
            if action.kind == "add":
                status = status or self.read(lifecycle.status_plan())
                for machine in lifecycle.leftovers(status, action.server):
                    if machine not in progress:
                        status = self._wait(want, machine, "removed", progress)
            written = self.run_writes(_scp.write_plan([action], read_back=index == len(changes.actions) - 1))
            if action.kind == "remove":
                status = self._wait(want, action.server, "removed", progress)
            elif action.kind == "add" and want.wait:
                status = self._wait(want, action.server, "installed", progress)
        return {"progress": progress, "after": _scp.after_state(Hierarchy.of(written), changes.after).to_dict()}

    def _wait(self, want, server, goal, progress):
        """Wait for `goal` on `server`; the progress goes into `progress`, the last status read is returned."""
        try:
            progress[server], last = lifecycle.wait_for(lambda: self.read(lifecycle.status_plan()), server, goal,
                                                        Poller(want.timeout, want.interval), baseline=self.baseline)
        except WaitFailed as e:
            progress[server] = e.progress
            raise
        return last

    # -- the SCP server itself ----------------------------------------------------------------------

    def _check_prerequisites(self, server, changes, site_system):
        """docs/configmgr-behaviour.md#remote-site-system-requirements: the site server's computer account must be
        a local administrator of a remote SCP server, or the site system's installation account must be one."""
        site_server = changes.top_level_site.server
        if site_server and site_server.lower() == server.lower():
            return None  # the SCP on the site server itself
        if self.scp_host is None:
            return (f"Could not check that {server} lets the site install the role (local Administrators): it is not "
                    f"in the inventory. Set scp_host, or check_prerequisites: false.")
        with RemoteHost(self, self.scp_host, self.task_vars) as remote:
            members = _local_group.member_names(self.read(_local_group.read_plan(_local_group.ADMINISTRATORS), remote)
                                                .output("members"))
        computer = (site_server or "").split(".")[0].lower() + "$"
        if any(m.lower().split("\\")[-1] == computer for m in members):
            return None
        account = site_system.installation_account if site_system else None
        if account and any(m.lower() == account.lower() for m in members):
            return None
        raise AnsibleActionFail(
            f"Prerequisite missing on {server}: the site server's computer account ({computer.upper()}) is not a member "
            f"of the local Administrators group, so Site Component Manager cannot install the role there "
            f"(members: {', '.join(members) or 'none'}). Add it with configmgr.scp.local_group_member, or use an "
            f"installation account (configmgr.scp.site_system_server) and set check_prerequisites: false.")

    def _restart_downloader(self, want):
        """docs/configmgr-behaviour.md#sms-executive-threads: the mode change takes effect when SMS_DMP_DOWNLOADER
        restarts on the SCP server."""
        component = _scp.RESTART_COMPONENT
        poller = Poller(want.timeout, want.interval)
        with RemoteHost(self, self.scp_host, self.task_vars) as remote:
            state = _executive.thread_state(self.read(_executive.read_plan(component), remote))[0]
            if state is None:
                raise AnsibleActionFail(f"{component} is not running on {self.scp_host} yet (no thread key): the role may "
                                        f"still be installing; use wait: true, or restart it later with "
                                        f"configmgr.scp.sms_executive.")
            poller.note(state)
            _executive.control_thread(self, remote, component, _executive.RESTART, poller, self.scp_host)
        return {"downloader_restarted": True, "restart_required": False, "downloader_states_seen": poller.seen}
