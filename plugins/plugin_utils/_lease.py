# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The move lease: one run at a time adds or removes the SCP.

A hierarchy has one service connection point (docs/configmgr-behaviour.md#placement-and-move). Two runs that
move it toward different servers, each reading before the other changed anything, would each remove and add,
and leave two. So a task that adds or removes the SCP first takes a lease that every run of the collection
sees, and holds it until the change is done (docs/move-lease.md).

Where: registry keys on the host the task runs on, the SMS Provider host of the hierarchy:

    HKLM:\\SOFTWARE\\configmgr.scp\\Leases\\ServiceConnectionPoint-<top-level site code>     the lease
        <run id>                                                                        its holder

Every change of hands is one operation that only one run can win:
- taking a free lease: `New-Item` of the lease key, which fails when the key exists (no -Force: -Force
  would replace an existing key);
- taking over a lease whose holder is gone (its expiry passed, its process on this controller ended, or
  break_lease): `Remove-Item -Recurse` of the holder's key, which fails when it is already gone;
- releasing: `Remove-Item` of the own holder key (which fails if another run took the lease over), then of
  the lease key without -Recurse (which fails when another holder key is already there).
The holder key's values say who holds it: RunId, Controller, User, Process (pid:start on the controller),
Source, Target, Since and Expires (UTC). Never a secret. The holder renews Expires at each step of its move.
"""

from __future__ import annotations

import datetime
import getpass
import os
import socket
import uuid
from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult

ROOT = "HKLM:\\SOFTWARE\\configmgr.scp"
LEASES = ROOT + "\\Leases"
# Seconds a lease outlives its holder's last renewal. The holder renews it at every step and every poll of
# its move, so this only has to cover the longest single step (an engine invocation: the ConfigMgr module's
# import and one cmdlet, seconds on a real server) with a wide margin.
TTL = 600
VALUES = ("RunId", "Controller", "User", "Process", "Source", "Target", "Since", "Expires")
HOLDER_SELECT = {**{v: None for v in VALUES}, "PSChildName": None}


def now() -> datetime.datetime:
    return datetime.datetime.now(datetime.timezone.utc)


def stamp(when: datetime.datetime) -> str:
    return when.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str | None) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(str(text), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    except (TypeError, ValueError):
        return None


def _proc_stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (Linux), or [] where the controller has none."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return []


def _process_start(pid: int) -> str:
    """When a process started, where the controller can tell (Linux /proc): with the pid, it tells a live
    holder from a later process that got the same pid. Empty where unknown."""
    fields = _proc_stat(pid)
    return fields[19] if len(fields) > 19 else ""


def _zombie(pid: int) -> bool:
    """A process that ended but was not reaped yet (its parent was killed too) is not alive."""
    fields = _proc_stat(pid)
    return bool(fields) and fields[0] in ("Z", "X")


@dataclass(frozen=True)
class Owner:
    """Who takes a lease: this run, on this controller. The process is the one running the task (the worker
    that would go on moving the SCP even if ansible-playbook's main process were killed)."""

    run_id: str
    controller: str
    user: str
    process: str

    @classmethod
    def this_run(cls) -> Owner:
        pid = os.getpid()
        try:
            user = getpass.getuser()
        except (KeyError, OSError):
            user = str(os.getuid()) if hasattr(os, "getuid") else "unknown"
        return cls(uuid.uuid4().hex[:12], socket.getfqdn().lower(), user, f"{pid}:{_process_start(pid)}".rstrip(":"))


@dataclass(frozen=True)
class Holder:
    """A holder key as read back."""

    key: str
    run_id: str | None = None
    controller: str | None = None
    user: str | None = None
    process: str | None = None
    source: str | None = None
    target: str | None = None
    since: str | None = None
    expires: str | None = None

    @property
    def complete(self) -> bool:
        return bool(self.run_id and self.expires)

    def expired(self, at: datetime.datetime) -> bool:
        expires = parse_stamp(self.expires)
        return expires is not None and expires <= at

    def process_ended(self, me: Owner) -> bool:
        """Whether the holder ran on this controller and its process is gone (checked here: another
        controller's processes cannot be seen)."""
        if not self.process or (self.controller or "").lower() != me.controller:
            return False
        pid_text, start = [*self.process.split(":", 1), ""][:2]
        try:
            pid = int(pid_text)
        except ValueError:
            return False
        if pid == os.getpid() and self.run_id != me.run_id:
            return True  # this very process, in an earlier task: that task has ended
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return _zombie(pid)  # another user's process: alive unless it has ended
        except OSError:
            return False
        return _zombie(pid) or (bool(start) and _process_start(pid) not in ("", start))

    def describe(self) -> str:
        who = f"run {self.run_id} of {self.user or 'an unknown user'} on {self.controller or 'an unknown controller'}"
        if self.process:
            who += f" (process {self.process.split(':')[0]})"
        return (
            f"{who}, since {self.since or 'an unknown time'}, moving the service connection point from "
            f"{self.source or 'nowhere'} to {self.target or 'nowhere'}"
        )


@dataclass
class Seen:
    """What a read of the lease showed: no lease key, a lease and its holders (complete or not)."""

    exists: bool
    holders: list[Holder] = field(default_factory=list)

    @property
    def holder(self) -> Holder | None:
        complete = [h for h in self.holders if h.complete]
        return complete[0] if len(complete) == 1 and len(self.holders) == 1 else None


@dataclass(frozen=True)
class Verdict:
    """What to do about a lease: take (free), take_over (its holder is gone), or refuse (with why)."""

    action: str
    holder: Holder | None = None
    why: str = ""


class Lease:
    """The move lease of one hierarchy, held (or wanted) by `owner` for a move from `source` to `target`."""

    def __init__(self, site_code: str, owner: Owner, source: str, target: str, host: str):
        self.name = f"ServiceConnectionPoint-{site_code.upper()}"
        self.key = f"{LEASES}\\{self.name}"
        self.owner = owner
        self.source = source or "nowhere"
        self.target = target or "nowhere"
        self.host = host  # where the keys are: named in messages
        self.held = False
        self.taken_over: Holder | None = None

    @property
    def holder_key(self) -> str:
        return f"{self.key}\\{self.owner.run_id}"

    # -- plans ------------------------------------------------------------------------------------

    def read_steps(self, plan: Plan) -> Plan:
        """The lease key and its holders (the read changes nothing; both steps may fail: no lease)."""
        plan.add("lease_key", "Get-ItemProperty", {"LiteralPath": self.key}, select={"PSChildName": None}, on_error="continue")
        plan.add("lease_holders", "Get-ItemProperty", {"Path": f"{self.key}\\*"}, select=HOLDER_SELECT, on_error="continue")
        return plan

    def take_plan(self, seen: Seen | None, verdict: Verdict, at: datetime.datetime) -> Plan:
        """Take the lease in one invocation: the one operation only one run wins, then the holder key.
        The steps after it do not run when it fails (on_error stop). Without `seen` (nothing read yet), the plan
        first reads the lease and then tries to take it as free: when it is not, the take fails, and the read of
        the same invocation says who holds it (one invocation when the lease is free, as it usually is)."""
        plan = Plan()
        if seen is None:
            self.read_steps(plan)
        if verdict.action == "take":
            if seen is None or not seen.exists:
                # The parents, created when missing (never with -Force, which would empty an existing key).
                plan.add("lease_root", "New-Item", {"Path": [ROOT]}, on_error="continue")
                plan.add("lease_parent", "New-Item", {"Path": [LEASES]}, on_error="continue")
            plan.add("lease_take", "New-Item", {"Path": [self.key]})
        elif verdict.holder is not None and verdict.holder.key:
            plan.add("lease_take", "Remove-Item", {"LiteralPath": [f"{self.key}\\{verdict.holder.key}"], "Recurse": True})
        else:  # break_lease of a lease key without a holder: only while it still has none (no -Recurse)
            plan.add("lease_clear", "Remove-Item", {"LiteralPath": [self.key]})
            plan.add("lease_take", "New-Item", {"Path": [self.key]})
        plan.add("lease_holder", "New-Item", {"Path": [self.holder_key]})
        values = {
            "RunId": self.owner.run_id,
            "Controller": self.owner.controller,
            "User": self.owner.user,
            "Process": self.owner.process,
            "Source": self.source,
            "Target": self.target,
            "Since": stamp(at),
            "Expires": stamp(at + datetime.timedelta(seconds=TTL)),
        }
        for name in VALUES:
            plan.add(f"lease_{name.lower()}", "Set-ItemProperty", {"LiteralPath": [self.holder_key], "Name": name, "Value": values[name]})
        return plan

    def renew(self, plan: Plan, at: datetime.datetime) -> Plan:
        """`plan` with the renewal first: it fails, and so nothing else of the plan runs, when another run has
        taken the lease over."""
        renewed = type(plan)()
        expires = stamp(at + datetime.timedelta(seconds=TTL))
        renewed.add("lease_renew", "Set-ItemProperty", {"LiteralPath": [self.holder_key], "Name": "Expires", "Value": expires})
        renewed.steps.extend(plan.steps)
        renewed.secrets.update(plan.secrets)
        if hasattr(plan, "actions"):
            renewed.actions.update(plan.actions)  # type: ignore[attr-defined]
        return renewed

    def release_plan(self) -> Plan:
        plan = Plan()
        plan.add("lease_release", "Remove-Item", {"LiteralPath": [self.holder_key], "Recurse": True})
        # Without -Recurse: only when no other run's holder key is there.
        plan.add("lease_unlock", "Remove-Item", {"LiteralPath": [self.key]}, on_error="continue")
        return plan

    # -- reading what came back -------------------------------------------------------------------

    @staticmethod
    def seen(result: PlanResult) -> Seen:
        key_step = result.steps.get("lease_key")
        exists = bool(key_step and key_step.ok)
        holders = []
        for raw in result.output("lease_holders"):
            if not isinstance(raw, dict) or not raw.get("PSChildName"):
                continue
            values = {v.lower(): (str(raw[v]) if raw.get(v) is not None else None) for v in VALUES}
            holders.append(
                Holder(
                    key=str(raw["PSChildName"]),
                    run_id=values["runid"],
                    controller=values["controller"],
                    user=values["user"],
                    process=values["process"],
                    source=values["source"],
                    target=values["target"],
                    since=values["since"],
                    expires=values["expires"],
                )
            )
        return Seen(exists or bool(holders), holders)

    def judge(self, seen: Seen, at: datetime.datetime, break_lease: bool) -> Verdict:
        """Free: take it. Held: take it over when its holder is gone (expired, or its process on this controller
        ended) or with break_lease; refuse otherwise, saying who holds it."""
        if not seen.exists:
            return Verdict("take")
        holder = seen.holder
        if holder is None:
            if break_lease and not seen.holders:
                return Verdict("take_over", None, "break_lease: a lease key without a holder")
            if break_lease and len(seen.holders) == 1:
                return Verdict("take_over", seen.holders[0], "break_lease")
            return Verdict("refuse", None, self.busy_message(seen))
        if holder.run_id == self.owner.run_id:
            return Verdict("refuse", holder, "this run already holds the lease")  # not reached: one take per task
        if break_lease:
            return Verdict("take_over", holder, "break_lease")
        if holder.expired(at):
            return Verdict("take_over", holder, f"it expired at {holder.expires}")
        if holder.process_ended(self.owner):
            return Verdict("take_over", holder, "its run has ended (its process on this controller is gone)")
        return Verdict("refuse", holder, self.held_message(holder))

    def held_message(self, holder: Holder) -> str:
        return (
            f"Another run holds the move lease of the service connection point: {holder.describe()}. It expires "
            f"at {holder.expires} unless that run renews it. This task changed nothing. Run it again when that "
            f"move has ended; only if no run of the collection is moving the SCP (a controller that crashed), set "
            f"break_lease: true to take the lease over now (lease {self.key} on {self.host})."
        )

    def busy_message(self, seen: Seen) -> str:
        if len(seen.holders) > 1:
            named = "; ".join(h.describe() for h in seen.holders)
            return (
                f"The move lease {self.key} on {self.host} names several holders ({named}). This task changed "
                f"nothing. Check that no run of the collection is moving the SCP, then set break_lease: true."
            )
        return (
            f"The move lease {self.key} on {self.host} names no complete holder: another run is taking or releasing "
            f"it right now, or one was interrupted in between. This task changed nothing. Run it again in a "
            f"moment; if that says the same and no run of the collection is moving the SCP, set break_lease: true."
        )
