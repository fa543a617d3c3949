# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.service_connection_point (documentation: plugins/modules/)."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, replace

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import (
    _executive,
    _lease,
    _scp,
    _scp_health,
    _scp_prerequisites,
    _validation,
)
from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_lifecycle as lifecycle
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Aftermath, ConfigMgrAction
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller, WaitFailed
from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import RemoteHost, find_inventory_host
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, RunnerError, TransportError

# A lease step refused for want of rights (Windows: SecurityException, UnauthorizedAccessException), not lost to
# another run: retrying cannot help.
_ACCESS_DENIED = ("PermissionDenied", "SecurityError")


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
    break_lease: bool = False
    health: bool = False


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
        "break_lease": {"type": "bool", "default": False},
        "health": {"type": "bool", "default": False},
    }
    REQUIRED_IF = [["state", "present", ["site_system_server"]]]

    lease: _lease.Lease | None = None

    # -- declarations and decision ------------------------------------------------------------------

    def desired(self, args):
        timeout, interval = _validation.wait_options(args["wait_timeout"], args["poll_interval"])
        self.lease, self.lease_notes, self.baselines, self.more_warnings = None, [], {}, []
        return Want(
            args["state"],
            _validation.fqdn(args["site_system_server"], "site_system_server"),
            _validation.site_code(args["site_code"]),
            args["mode"],
            args["allow_move"],
            args["wait"],
            timeout,
            interval,
            args["restart_downloader"],
            args["check_prerequisites"],
            _validation.inventory_host(args["scp_host"], "scp_host", self.task_vars.get("hostvars", {})),
            args["break_lease"],
            args["health"] and args["state"] == "present",
        )

    def read_plan(self, want):
        plan = _scp.read_plan(want.server if want.state == "present" else None)
        if want.wait:
            lifecycle.status_plan(plan)  # whether it is installed and running: same round trip
        if want.health:
            _scp_health.provider_plan(plan)  # three CIM queries more in the same round trip
        return plan

    def decide(self, want, observed):
        self.hierarchy = Hierarchy.of(observed)
        if observed.steps.get("sitecomp") is not None:
            self.baselines[None] = lifecycle.all_log_lines(observed)  # this host's sitecomp.log before the task
        return _scp.decide(
            state=want.state,
            server=want.server,
            site_code=want.site_code,
            mode=want.mode,
            allow_move=want.allow_move,
            hierarchy=self.hierarchy,
            check_mode=self.check_mode,
        )

    def before_write(self, want, decision, observed):
        """Everything that can be checked before a change is checked before it: a move must not remove a
        working SCP and then fail to install the new one. An SCP left as it is may still wait for the restart
        of its downloader after an earlier mode change (a lost restart): the SCP server shows it."""
        changes = decision.changes
        self.lost_restart = False
        if want.state == "present" and not changes.actions and changes.after.present:
            return self._downloader_mode(want, decision, observed)
        restart = want.restart_downloader and changes.restart_required
        self.scp_host = None
        if restart or (want.check_prerequisites and changes.adding):
            self.scp_host = find_inventory_host(self.task_vars, changes.after.site_system_server or want.server or "", want.scp_host)
        if restart and self.scp_host is None:
            raise AnsibleActionFail(
                f"restart_downloader needs {changes.after.site_system_server} in the inventory (or scp_host) to restart "
                f"{_scp.RESTART_COMPONENT} there; add it, or restart it with configmgr.scp.sms_executive."
            )
        if not (changes.adding and want.check_prerequisites):
            return []
        try:
            warning = self._check_prerequisites(want.server, changes)
        except _scp_prerequisites.WrongHost:
            raise  # scp_host is another server: a mistake in the play, in check mode too
        except AnsibleActionFail as e:
            if not self.check_mode or isinstance(e, TransportError):
                raise
            # A check-mode plan of a whole play: an earlier task (local_group_member) would add it.
            warning = f"{e.message} (check mode: assuming an earlier task fixes this)"
        return [warning] if warning else []

    # -- running plans under the lease --------------------------------------------------------------

    def read(self, plan, host=None, purpose="reading the current state"):
        return super().read(self._renewed(plan, host), host, purpose)

    def run_writes(self, plan, host=None, purpose=None):
        return super().run_writes(self._renewed(plan, host), host, purpose)

    def _renewed(self, plan: Plan, host) -> Plan:
        """While this task holds the move lease, every plan on its own host renews it first; the plan stops there
        if another run has taken the lease over."""
        if host is None and self.lease is not None and self.lease.held:
            return self.lease.renew(plan, _lease.now())
        return plan

    def _run(self, call, *args, **kwargs):
        try:
            return call(*args, **kwargs)
        except RunnerError as e:
            if e.step == "lease_renew" and not isinstance(e, TransportError):
                self.lease.held = False
                raise AnsibleActionFail(self._lease_lost()) from None
            raise

    def _lease_lost(self) -> str:
        try:
            seen = _lease.Lease.seen(super().read(self.lease.read_steps(Plan()), purpose="reading the move lease"))
            holder = f" It is now held by {seen.holder.describe()}." if seen.holder else ""
        except AnsibleActionFail:
            holder = ""
        return (
            f"This task's move lease was taken over by another run (break_lease, or it had expired), so the task "
            f"stopped before its next step.{holder}"
        )

    # -- writing ------------------------------------------------------------------------------------

    def apply(self, want, decision):
        changes = decision.changes
        if not changes.adding and not any(a.kind == "remove" for a in changes.actions):
            return self._apply(want, decision)  # a mode change: nothing is added or removed, no lease
        updates, carried = self._take_lease(want, decision)
        if carried is not None:
            try:
                updates.update(self._apply(want, carried))
            except BaseException as e:
                self._release(after_transport=isinstance(e, TransportError))
                raise
        released = self._release()
        warnings = [*(carried or self._decision or decision).warnings, *self.more_warnings, *released.get("warnings", [])]
        if warnings:
            updates["warnings"] = list(dict.fromkeys(warnings))
        return updates

    def _apply(self, want, decision):
        changes = decision.changes
        self.pending_actions = [a.describe() for a in changes.actions]
        if changes.moving or want.wait:
            updates = self._step_by_step(want, changes)
        else:  # two invocations in all (read, then this): no waiting was asked for
            written = self._run(self.run_writes, _scp.write_plan(changes.actions))
            updates = {"after": _scp.after_state(Hierarchy.of(written), changes.after).to_dict()}
        if want.restart_downloader and changes.restart_required:
            updates.update(self._restart_downloader(want))
        return updates

    def _take_lease(self, want, decision):
        """Take the move lease before anything is added or removed (plugins/plugin_utils/_lease.py), and read the
        SCPs again under it: a run that read before another run's move ended decides again on what is there now.
        Returns the result updates and the decision to carry out (None: nothing is left to do)."""
        changes = decision.changes
        source = ", ".join(a.server for a in changes.actions if a.kind == "remove")
        target = next((a.server for a in changes.actions if a.kind == "add"), "")
        self.lease = _lease.Lease(
            changes.top_level_site.site_code, _lease.Owner.this_run(), source, target, self.host_name or "the SMS Provider host"
        )
        seen, verdict = None, _lease.Verdict("take")  # first as if free: one invocation when it is
        for _attempt in range(4):
            at = _lease.now()
            if seen is not None:
                verdict = self.lease.judge(seen, at, want.break_lease)
                if verdict.action == "refuse":
                    self.lease = None
                    raise AnsibleActionFail(verdict.why)
            plan = _scp.read_plan(want.server if want.state == "present" else None, self.lease.take_plan(seen, verdict, at))
            try:
                taken = self.read(plan, purpose="taking the move lease")
            except TransportError:
                self.lease_notes.append(self._lease_left_note("may have been taken"))
                raise
            except RunnerError as e:
                if e.step in ("lease_take", "lease_clear") and e.details.get("category") in _ACCESS_DENIED:
                    # Not another run: this connection user may not write the lease's registry key at all.
                    lease_host, self.lease = self.lease.host, None
                    raise AnsibleActionFail(
                        f"Could not take the move lease of the service connection point on {lease_host}: "
                        f"{e.message} The lease is a registry key under HKLM:\\SOFTWARE\\configmgr.scp on the SMS "
                        f"Provider host, so the connection user must be a local administrator there "
                        f"(docs/move-lease.md). This task changed nothing."
                    ) from None
                if e.step in ("lease_take", "lease_clear") and not isinstance(e, TransportError):
                    # Held, or another run was first: what the same invocation read says by whom, else read again.
                    read_first = e.plan_result is not None and "lease_key" in e.plan_result.steps
                    seen = (
                        _lease.Lease.seen(e.plan_result)
                        if read_first
                        else _lease.Lease.seen(self.read(self.lease.read_steps(Plan()), purpose="reading the move lease"))
                    )
                    continue
                raise
            self.lease.held = True
            updates: dict = {"lease": {"key": self.lease.key, "host": self.lease.host, "run_id": self.lease.owner.run_id}}
            self.partial["lease"] = updates["lease"]  # a failure still says which lease the task held
            if verdict.action == "take_over":
                self.lease.taken_over = verdict.holder
                taken_from = verdict.holder.describe() if verdict.holder else "no complete holder"
                updates["lease"]["taken_over"] = taken_from
                decision.warnings.append(f"Took over the move lease of the service connection point ({verdict.why}): {taken_from}.")
            return self._under_lease(want, decision, Hierarchy.of(taken), updates)
        self.lease = None
        raise AnsibleActionFail(
            "The move lease of the service connection point changed hands three times while this task "
            "tried to take it: other runs are moving the SCP. This task changed nothing; run it again."
        )

    def _under_lease(self, want, decision, fresh: Hierarchy, updates: dict):
        if _scp.placement(fresh) == _scp.placement(self.hierarchy):
            return updates, decision
        self.hierarchy = fresh
        again = _scp.decide(
            state=want.state,
            server=want.server,
            site_code=want.site_code,
            mode=want.mode,
            allow_move=want.allow_move,
            hierarchy=fresh,
            check_mode=False,
        )
        now = _scp.describe_placement(fresh)
        again.warnings = [
            *decision.warnings,
            f"Another run changed the service connection point while this task was "
            f"deciding (it is now {now}); the task decided again on that.",
        ]
        updates.update(
            before=again.before,
            after=again.after,
            actions=again.result["actions"],
            restart_required=again.result["restart_required"],
            restart_component=again.result["restart_component"],
            changed=again.changed,
        )
        self._decision = again
        return updates, (again if again.changed else None)

    def _release(self, after_transport: bool = False) -> dict:
        """Give the lease back (success or failure). If that cannot be done, say what it means for the next run.
        After a transport failure, on a fresh connection (the old one may be half-broken)."""
        lease = self.lease
        if lease is None or not lease.held:
            return {}
        lease.held = False
        try:
            if after_transport:
                self.fresh_read(Plan())  # a new connection: nothing to read
            ConfigMgrAction.read(self, lease.release_plan(), purpose="releasing the move lease")
        except AnsibleActionFail as e:
            if isinstance(e, RunnerError) and e.step == "lease_release" and not isinstance(e, TransportError):
                note = "The move lease had been taken over by another run (break_lease, or it expired) before this task released it."
                self.lease_notes.append(note)
                return {"warnings": [note]}
            reason = e.reason if isinstance(e, TransportError) else str(e.message)
            note = self._lease_left_note(f"could not be released ({reason})")
            self.lease_notes.append(note)
            return {"warnings": [note]}
        return {}

    def _lease_left_note(self, what: str) -> str:
        return (
            f"The move lease {self.lease.key} on {self.lease.host} {what}: a run from this controller takes it over at "
            f"once, a run from another controller once it expires ({_lease.TTL // 60} minutes after its last "
            f"renewal) or with break_lease: true."
        )

    def settle(self, want, decision, observed):
        """Nothing to change, but wait: the recorded role may still be installing (or a removed one
        uninstalling). Not a change of this task, so it stays unchanged. A lost downloader restart is done
        now when restart_downloader asks for it (a change)."""
        if self.lost_restart and want.restart_downloader:
            return {"changed": True, **self._restart_downloader(want)}
        if not want.wait:
            return {}
        after = decision.changes.after
        server = after.site_system_server
        progress: dict = {}
        self.partial["progress"] = progress
        first = observed  # the task's own read (with the status, read_plan) is the first wait's first poll
        if after.present and not lifecycle.installed(lifecycle.component_states(observed).get(server, {})):
            self._wait(want, server, after.site_code, "installed", progress, first=first)
            first = None
        for machine in lifecycle.leftovers(observed, server if after.present else None):
            self._wait(want, machine, self._site_of(machine), "removed", progress, first=first)
            first = None
        return {"progress": progress} if progress else {}

    def _step_by_step(self, want, changes):
        """A move, or a change with wait: remove, wait for the uninstall, add, wait for the install.

        Never two SCPs at once: before an add, wait until no SCP component is left on another server (the last
        read of the uninstall wait shows every server's components). The last write reads the SCPs back in
        its own invocation: that is the result's `after` (the site records the role when the cmdlet returns).
        Before the first write, the sitecomp.log of every site server that will log the change is read, so
        that the waits tell the lines this task caused from older ones.
        """
        progress: dict = {}
        self.partial["progress"] = progress
        status = written = None
        for action in changes.actions:
            if action.kind in ("add", "remove"):
                self._baseline(action.site_code)
        for index, action in enumerate(changes.actions):
            if action.kind == "add":
                status = status or self._run(self.read, lifecycle.status_plan(), purpose="reading the SCP components")
                for machine in lifecycle.leftovers(status, action.server):
                    if machine not in progress:
                        status = self._wait(want, machine, self._site_of(machine), "removed", progress)
            plan = _scp.write_plan([action], read_back=index == len(changes.actions) - 1)
            installs = action.kind == "add" and want.wait
            if action.kind == "remove" or installs:  # the wait's first poll in the write's own invocation
                lifecycle.status_plan(plan, log=self._log_host(action.site_code)[2] == self.OWN)
            if installs and want.health:
                _scp_health.provider_plan(plan)
            written = self._run(self.run_writes, plan)
            if action.kind == "remove":
                status = self._wait(want, action.server, action.site_code, "removed", progress, first=written)
            elif installs:
                status = self._wait(want, action.server, action.site_code, "installed", progress, first=written, health=want.health)
        result = {"progress": progress, "after": _scp.after_state(Hierarchy.of(written), changes.after).to_dict()}
        if want.health and want.wait and changes.actions[-1].kind == "add":
            result["health"] = self._health_after_install(want, changes.after, status, written)
        return result

    def _health_after_install(self, want, after, status: PlanResult, written: PlanResult) -> dict:
        """The SCP's health once the role it added has installed: the provider's part came with the wait's last poll
        (health: true adds its queries there), the SCP server is read once more - what service_connection_point_info
        would read next, so the role's verification has nothing new to read when the SCP already works."""
        hierarchy = replace(self.hierarchy, roles=Hierarchy.of(written).roles)  # the sites as read, the SCPs now
        scp_host = find_inventory_host(self.task_vars, after.site_system_server, want.scp_host)
        facts = None
        if scp_host is not None:
            with RemoteHost(self, scp_host, self.task_vars) as remote:
                read = self.read(_scp_health.server_plan(), remote, purpose=f"reading the SCP's health on {scp_host}")
                facts = _scp_health.ServerFacts.of(read, full=True)
        return _scp_health.derive(
            server=after.site_system_server,
            site_code=after.site_code,
            configured_mode=after.mode,
            placement_ok=_scp.placement_ok(hierarchy),
            provider=status,
            facts=facts,
            scp_host=scp_host,
        )

    # -- watching Site Component Manager where it logs ------------------------------------------------

    def _site_of(self, machine: str) -> str | None:
        """The site an SCP server held the role for (for leftovers: the site it was removed from)."""
        for s in _scp.scps(self.hierarchy):
            if s.server == machine:
                return s.site_code
        return None

    OWN, REMOTE, UNREAD = "own", "remote", "unread"

    def _log_host(self, site_code: str | None) -> tuple[str | None, str | None, str]:
        """Where sitecomp.log of the role's site is: (site server, inventory host, how it is read). `own`: the
        task's host is that site server (the log is read with the status); `remote`: another inventory host
        (through RemoteHost); `unread`: not in the inventory, or the site is unknown."""
        site = self.hierarchy.site(site_code) if site_code else None
        server = site.server if site else None
        if not server:
            return None, None, self.UNREAD
        host = find_inventory_host(self.task_vars, server)
        own = (self.host_name or "").lower()
        if (host is not None and host.lower() == own) or (host is None and server.split(".")[0] == own.split(".")[0]):
            return server, None, self.OWN
        if host is None:
            return server, None, self.UNREAD
        return server, host, self.REMOTE

    def _baseline(self, site_code: str | None) -> None:
        server, host, how = self._log_host(site_code)
        if how == self.OWN and None not in self.baselines:
            self.baselines[None] = lifecycle.all_log_lines(
                self._run(self.read, lifecycle.log_plan(), purpose="reading sitecomp.log before the change")
            )
        elif how == self.REMOTE and host not in self.baselines:
            with RemoteHost(self, host, self.task_vars) as remote:
                self.baselines[host] = lifecycle.all_log_lines(
                    self.read(lifecycle.log_plan(), remote, purpose=f"reading sitecomp.log on {host} before the change")
                )
        elif how == self.UNREAD and server:
            warning = (
                f"sitecomp.log of site {site_code} is on {server}, which is not in the inventory: only the "
                f"component states are watched there, and a failure of Site Component Manager shows only at "
                f"wait_timeout. Add {server} to the inventory to have it read."
            )
            if warning not in self.more_warnings:
                self.more_warnings.append(warning)

    def _wait(self, want, server, site_code, goal, progress, first=None, health=False):
        """Wait for `goal` on `server`; the progress goes into `progress`, the last status read is returned. The
        sitecomp.log read is the one of the site that owns the role, on its site server. `first`: the write's own
        read of the status (its first poll); the next read comes one poll interval later. `health`: every read also
        takes the provider's health facts (the last one is the SCP's health once installed)."""
        site_server, log_host, how = self._log_host(site_code)
        where = f" of site {site_code} on {site_server}" if site_code and site_server else ""
        if how != self.UNREAD:
            self._baseline(site_code)  # a wait of an unchanged task (settle) or of a leftover
        with ExitStack() as stack:
            remote = stack.enter_context(RemoteHost(self, log_host, self.task_vars)) if how == self.REMOTE else None

            def read() -> PlanResult:
                plan = lifecycle.status_plan(log=how == self.OWN)
                if health:
                    _scp_health.provider_plan(plan)
                status = self._run(self.read, plan, purpose=f"waiting for the service connection point on {server}")
                if remote is None:
                    return status
                log = self.read(lifecycle.log_plan(), remote, purpose=f"reading sitecomp.log on {log_host}")
                return lifecycle.with_log(status, log)

            baseline = self.baselines.get(log_host, frozenset())
            try:
                progress[server], last = lifecycle.wait_for(
                    read,
                    server,
                    goal,
                    Poller(want.timeout, want.interval),
                    baseline=baseline,
                    where=where,
                    site_server=site_server,
                    first=first,
                )
            except WaitFailed as e:
                progress[server] = e.progress
                raise
        return last

    # -- after a failure ----------------------------------------------------------------------------

    def aftermath(self, want, decision, unknown):
        """Where the SCP is now, read on a fresh connection: a move interrupted between the removal of the old SCP
        and the addition of the new one leaves the hierarchy without one, and the message says so."""
        said = list(self.lease_notes)
        changes = decision.changes if decision is not None else None
        touched = bool(self.completed_actions or unknown)
        if changes is None or not touched:
            return Aftermath(said)
        try:
            fresh = Hierarchy.of(self.fresh_read(_scp.read_plan(None)))
        except AnsibleActionFail as e:
            removed = [
                a for a in changes.actions if a.kind == "remove" and (a.describe() in self.completed_actions or a.describe() in unknown)
            ]
            added = [a for a in changes.actions if a.kind == "add" and a.describe() in self.completed_actions]
            if removed and not added:
                said.insert(
                    0,
                    f"The service connection point could not be read again ({e.message}): the hierarchy may "
                    f"have no service connection point right now.",
                )
            else:
                said.insert(0, f"The service connection point could not be read again ({e.message}).")
            return Aftermath(said)
        done, not_done = [], []
        placement = _scp.placement(fresh)
        servers = {server for _site, server, _mode in placement}
        for action in changes.actions:
            if action.describe() not in unknown:
                continue
            there = action.server in servers
            if action.kind == "remove":
                (not_done if there else done).append(action.describe())
            elif action.kind == "add":
                (done if there else not_done).append(action.describe())
        now = _scp.describe_placement(fresh)
        if not placement:
            target = changes.after.site_system_server
            finish = f" (the move to {target} is not finished)" if target and want.state == "present" else ""
            said.insert(0, f"A fresh read shows: the hierarchy has no service connection point right now{finish}.")
        else:
            said.insert(0, f"A fresh read shows: the service connection point is {now}.")
        return Aftermath(said, done, not_done)

    # -- the SCP server itself ----------------------------------------------------------------------

    def _check_prerequisites(self, server, changes):
        """docs/configmgr-behaviour.md#remote-site-system-requirements: the account the site uses to install the role
        (the site system's installation account, or else the site server's computer account) must be a local
        administrator of a remote SCP server. Checked on that server, following domain groups."""
        site_server = changes.top_level_site.server
        if site_server and site_server.lower() == server.lower():
            return None  # the SCP on the site server itself
        if self.scp_host is None:
            return (
                f"Could not check that {server} lets the site install the role (local Administrators): it is not "
                f"in the inventory. Set scp_host, or check_prerequisites: false."
            )
        account = _scp_prerequisites.installing_account(self.hierarchy, server, changes.after.site_code, site_server)
        with RemoteHost(self, self.scp_host, self.task_vars) as remote:
            return _scp_prerequisites.check(
                lambda plan: self.read(plan, remote, purpose=f"checking the prerequisites on {self.scp_host}"),
                self.scp_host,
                server,
                account,
            )

    def _downloader_mode(self, want, decision, observed):
        """docs/configmgr-behaviour.md#scp-mode: the mode takes effect when SMS_DMP_DOWNLOADER restarts. Whether it
        did is read on the SCP server (the downloader's last "started ... mode" log line, else its OfflineMode
        value), never remembered: a play that failed before its handler ran still restarts it on the next run.
        With `health`, the same read takes all the SCP server shows and the task returns the SCP's health (the
        provider's part came with the task's own read): what service_connection_point_info would read next."""
        after = decision.changes.after
        self.scp_host = find_inventory_host(self.task_vars, after.site_system_server, want.scp_host)
        facts = None
        if self.scp_host is not None:
            plan = _scp_health.server_plan() if want.health else _scp_health.downloader_plan()
            with RemoteHost(self, self.scp_host, self.task_vars) as remote:
                facts = _scp_health.ServerFacts.of(self.read(plan, remote), full=want.health)
        if want.health:
            decision.result["health"] = _scp_health.derive(
                server=after.site_system_server,
                site_code=after.site_code,
                configured_mode=after.mode,
                placement_ok=_scp.placement_ok(self.hierarchy),
                provider=observed,
                facts=facts,
                scp_host=self.scp_host,
            )
        if facts is None:
            decision.result["effective_mode"] = None
            return []
        mode, source, started = _scp_health.effective_mode(facts)
        decision.result["effective_mode"] = mode
        if mode is None or mode == after.mode:
            return []
        self.lost_restart = True
        decision.result.update(restart_required=True, restart_component=_scp.RESTART_COMPONENT)
        return [
            f"The service connection point is configured {after.mode}, but {_scp.RESTART_COMPONENT} on "
            f"{after.site_system_server} still runs {mode} ({source}{', started ' + started if started else ''}): "
            f"the restart after the mode change has not happened. It needs a restart "
            f"(restart_downloader: true, configmgr.scp.sms_executive, or the role's handler)."
        ]

    def _restart_downloader(self, want):
        """docs/configmgr-behaviour.md#sms-executive-threads: the mode change takes effect when SMS_DMP_DOWNLOADER
        restarts on the SCP server."""
        component = _scp.RESTART_COMPONENT
        poller = Poller(want.timeout, want.interval)
        with RemoteHost(self, self.scp_host, self.task_vars) as remote:
            state = _executive.thread_state(self.read(_executive.read_plan(component), remote))[0]
            if state is None:
                raise AnsibleActionFail(
                    f"{component} is not running on {self.scp_host} yet (no thread key): the role may "
                    f"still be installing; use wait: true, or restart it later with "
                    f"configmgr.scp.sms_executive."
                )
            poller.note(state)
            _executive.control_thread(self, remote, component, _executive.RESTART, poller, self.scp_host)
        return {"downloader_restarted": True, "restart_required": False, "downloader_states_seen": poller.seen}
