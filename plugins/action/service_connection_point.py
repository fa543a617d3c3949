# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point (documentation: plugins/modules/)."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _executive, _local_group, _scp, _site_system, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_lifecycle as lifecycle
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, diff_text
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import RemoteHost, find_inventory_host
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import RunnerError, run_plan


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

    def execute(self, args, provider, task_vars):
        server = _validation.fqdn(args["site_system_server"], "site_system_server")
        site_code = _validation.site_code(args["site_code"])
        if args["wait_timeout"] < 1 or args["poll_interval"] < 1:
            raise AnsibleActionFail("wait_timeout and poll_interval must be at least 1 second.")
        self._args, self._provider, self._task_vars = args, provider, task_vars

        read = _scp.read_plan(server if args["state"] == "present" else None)
        if args["wait"]:
            lifecycle.status_plan(read)   # whether it is installed and running: same round trip
        current = run_plan(self, read, provider)
        self._baseline = lifecycle.all_log_lines(current)   # sitecomp.log as it was before this task
        target_sites = [str(t.get("SiteCode") or "").upper() for t in current.output("target") if isinstance(t, dict)]
        decision = _scp.decide(
            state=args["state"], server=server, site_code=site_code, mode=args["mode"], allow_move=args["allow_move"],
            sites=_scp.parse_sites(current.output("sites")), scps=_scp.observed(current), target_site_codes=target_sites,
            check_mode=self.check_mode,
        )
        moving = {a.kind for a in decision.actions} >= {"remove", "add"}
        restart = args["restart_downloader"] and decision.restart_required
        result = {
            "changed": decision.changed,
            "before": decision.before.to_dict(),
            "after": decision.after.to_dict(),
            "top_level_site": decision.top_level_site.site_code,
            "actions": [a.describe() for a in decision.actions],
            "restart_required": decision.restart_required,   # until restart_downloader has done it
            "restart_component": _scp.RESTART_COMPONENT if decision.restart_required else None,
            "downloader_restarted": False,
        }
        warnings = list(decision.warnings)
        if self.diff_mode and decision.changed:
            result["diff"] = {
                "before_header": "service connection point", "after_header": "service connection point",
                "before": diff_text(decision.before.to_dict()), "after": diff_text(decision.after.to_dict()),
            }

        # Everything that can be checked before a change is checked before it: a move must not remove a
        # working SCP and then fail to install the new one.
        scp_host = None
        if restart or (moving and args["check_prerequisites"]) or (
                args["check_prerequisites"] and any(a.kind == "add" for a in decision.actions)):
            scp_host = find_inventory_host(task_vars, decision.after.site_system_server or server or "", args["scp_host"])
        if restart and scp_host is None:
            raise AnsibleActionFail(
                f"restart_downloader needs {decision.after.site_system_server} in the inventory (or scp_host) to restart "
                f"{_scp.RESTART_COMPONENT} there; add it, or restart it with configmgr.scp.sms_executive.")
        if any(a.kind == "add" for a in decision.actions) and args["check_prerequisites"]:
            site_system = next((_site_system.state_from_object(t) for t in current.output("target")
                                if isinstance(t, dict) and str(t.get("SiteCode") or "").upper() == decision.after.site_code), None)
            try:
                warning = self._check_prerequisites(scp_host, server, decision, site_system)
            except AnsibleActionFail as e:
                if not self.check_mode:
                    raise
                # A check-mode plan of a whole play: an earlier task (local_group_member) would add it.
                warning = f"{e.message} (check mode: assuming an earlier task fixes this)"
            if warning:
                warnings.append(warning)
        if warnings:
            result["warnings"] = warnings
        if self.check_mode:
            return result
        if not decision.changed:
            if args["wait"]:
                self._wait_unchanged(current, decision, result)
            return result

        if moving or args["wait"]:
            self._apply_step_by_step(decision, result)
        else:
            self._apply_at_once(decision, result)
        if restart:
            self._restart_downloader(scp_host, result)
        return result

    # -- writing -------------------------------------------------------------------------------

    def _apply_at_once(self, decision, result):
        """Two invocations in all (read, then this): no waiting was asked for."""
        try:
            written = run_plan(self, _scp.write_plan(decision.actions), self._provider)
        except RunnerError as e:
            done = [decision.actions[int(s.rsplit("_", 1)[1])].describe() for s in e.completed if s != "after_scp"]
            self._fail_partially(e.message, done, e)
        self._read_back(written, decision, result)

    def _wait_unchanged(self, current, decision, result):
        """Nothing to change, but wait: the recorded role may still be installing (or a removed one
        uninstalling). Not a change of this task, so it stays unchanged."""
        states = lifecycle.component_states(current)
        server = decision.after.site_system_server
        progress = {}
        try:
            if decision.after.present and not lifecycle.installed(states.get(server, {})):
                progress[server] = self._wait(server, "installed").to_dict()
            for machine in lifecycle.leftovers(current, server if decision.after.present else None):
                progress[machine] = self._wait(machine, "removed").to_dict()
        except lifecycle.WaitFailed as e:
            progress[server] = e.progress.to_dict()
            raise RunnerError(e.message, partial={"progress": progress}) from None
        if progress:
            result["progress"] = progress

    def _apply_step_by_step(self, decision, result):
        """A move, or a change with wait: remove, wait for the uninstall, add, wait for the install.

        Never two SCPs at once: before an add, wait until no SCP component is left on another server.
        """
        done: list[str] = []
        progress: dict = {}
        args = self._args
        for action in decision.actions:
            try:
                if action.kind == "add":
                    self._wait_for_leftovers(action.server, progress)
                run_plan(self, _scp.write_plan([action]), self._provider)
                done.append(action.describe())
                if action.kind == "remove":
                    progress[action.server] = self._wait(action.server, "removed").to_dict()
                elif action.kind == "add" and args["wait"]:
                    progress[action.server] = self._wait(action.server, "installed").to_dict()
            except lifecycle.WaitFailed as e:
                progress[action.server] = e.progress.to_dict()
                result["progress"] = progress
                self._fail_partially(e.message, done, None, progress)
            except RunnerError as e:
                self._fail_partially(e.message, done, e, progress)
        result["progress"] = progress
        self._read_back(run_plan(self, _scp.read_plan(None), self._provider), decision, result, step="scp")

    def _wait(self, server, goal):
        args = self._args
        return lifecycle.wait_for(lambda: run_plan(self, lifecycle.status_plan(), self._provider), server, goal,
                                  timeout=args["wait_timeout"], interval=args["poll_interval"], baseline=self._baseline)

    def _wait_for_leftovers(self, keep, progress):
        for machine in lifecycle.leftovers(run_plan(self, lifecycle.status_plan(), self._provider), keep):
            if machine not in progress:
                progress[machine] = self._wait(machine, "removed").to_dict()

    def _fail_partially(self, message, done, error=None, progress=None):
        if done:
            message += f" Already done: {'; '.join(done)}. Run the task again to finish: it reads the state first."
        partial = {"changed": bool(done), "completed_actions": done}
        if progress:
            partial["progress"] = progress
        raise RunnerError(message, step=getattr(error, "step", None), cmdlet=getattr(error, "cmdlet", None),
                          details=getattr(error, "details", None), completed=getattr(error, "completed", None),
                          partial=partial) from None

    @staticmethod
    def _read_back(written, decision, result, step="after_scp"):
        scps = _scp.observed(written, step)
        in_place = [s for s in scps if s.server == decision.after.site_system_server and s.site_code == decision.after.site_code]
        result["after"] = _scp.ScpState.of(in_place[0] if in_place else (scps[0] if scps else None)).to_dict()

    # -- the SCP server itself -----------------------------------------------------------------

    def _check_prerequisites(self, scp_host, server, decision, site_system):
        """Facts §9: the site server's computer account must be a local administrator of a remote SCP server,
        or the site system's installation account must be one."""
        site_server = decision.top_level_site.server
        if site_server and site_server.lower() == server.lower():
            return None  # the SCP on the site server itself
        if scp_host is None:
            return (f"Could not check that {server} lets the site install the role (local Administrators): it is not "
                    f"in the inventory. Set scp_host, or check_prerequisites: false.")
        with RemoteHost(self, scp_host, self._task_vars) as remote:
            members = _local_group.member_names(run_plan(remote, _local_group.read_plan("Administrators")).output("members"))
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

    def _restart_downloader(self, scp_host, result):
        """Facts §4: the mode change takes effect when SMS_DMP_DOWNLOADER restarts on the SCP server."""
        args = self._args
        watch = _executive.Watch(timeout=args["wait_timeout"], interval=args["poll_interval"])
        component = _scp.RESTART_COMPONENT
        with RemoteHost(self, scp_host, self._task_vars) as remote:
            def read():
                return _executive.thread_state(run_plan(remote, _executive.read_plan(component)))[0]
            state = read()
            if state is None:
                raise AnsibleActionFail(f"{component} is not running on {scp_host} yet (no thread key): the role may still be "
                                        f"installing; use wait: true, or restart it later with configmgr.scp.sms_executive.")
            watch.note(state)
            for operation, reached in (("Stop", "Stopped"), ("Start", "Running")):
                run_plan(remote, _executive.request_plan(component, operation))
                watch.until(read, reached, f"{component} on {scp_host}")
        result["downloader_restarted"] = True
        result["restart_required"] = False
        result["downloader_states_seen"] = watch.seen
