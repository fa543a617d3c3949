# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Waiting for the service connection point to install or uninstall.

The cmdlets return as soon as the site records the change; Site Component Manager installs or
uninstalls the role later (facts §8.1). Progress is read where the facts say it shows:
SMS_ComponentSummarizer rows of SMS_DMP_DOWNLOADER, SMS_DMP_UPLOADER and SMS_SERVICE_CONNECTOR
for the server (State 1 = started, 5 = de-installing), and sitecomp.log on the site server, found
through its Tracing key's TraceFilename (facts §4, §7).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value, ref

COMPONENTS = ("SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR")
STATE_NAMES = {0: "stopped", 1: "started", 2: "paused", 3: "installing", 4: "re-installing", 5: "de-installing"}
# Facts §3: SMS_ComponentSummarizer queries must include a TallyInterval; this one is the common "since
# site start" interval of community scripts.
TALLY = "0001128000100008"
SUMMARY_SELECT = {"ComponentName": None, "MachineName": None, "SiteCode": None, "State": None, "Status": None}
SITECOMP_TRACING = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\SMS_SITE_COMPONENT_MANAGER"
LOG_TAIL = 80
_FAILURE = re.compile(r"fail|error|not a local administrator|access is denied|cannot", re.IGNORECASE)


def status_plan(plan: Plan | None = None) -> Plan:
    """The SCP components anywhere in the hierarchy, and the tail of sitecomp.log: a plan of its own while
    waiting, or appended to the module's read plan (still one invocation)."""
    namespace = provider_value("namespace")   # root\SMS\site_<code> of the provider the engine connected to
    plan = plan or Plan()
    plan.add("dmp", "Get-CimInstance", {
        "Namespace": namespace, "ClassName": "SMS_ComponentSummarizer",
        "Filter": f"TallyInterval='{TALLY}' AND ComponentName LIKE 'SMS_DMP_%'"}, select=SUMMARY_SELECT)
    plan.add("connector", "Get-CimInstance", {
        "Namespace": namespace, "ClassName": "SMS_ComponentSummarizer",
        "Filter": f"TallyInterval='{TALLY}' AND ComponentName='SMS_SERVICE_CONNECTOR'"}, select=SUMMARY_SELECT)
    # The log is diagnostics: when this host is not the site server it is simply not there.
    plan.add("tracing", "Get-ItemProperty", {"LiteralPath": SITECOMP_TRACING}, select={"TraceFilename": None},
             on_error="continue")
    plan.add("sitecomp", "Get-Content", {"LiteralPath": ref("tracing", "TraceFilename"), "Tail": LOG_TAIL},
             on_error="continue")
    return plan


def component_states(result: PlanResult) -> dict[str, dict[str, int]]:
    """{machine fqdn: {component: State}} for the SCP components."""
    states: dict[str, dict[str, int]] = {}
    for row in result.output("dmp") + result.output("connector"):
        if not isinstance(row, dict) or row.get("ComponentName") not in COMPONENTS:
            continue
        try:
            state = int(row.get("State"))
        except (TypeError, ValueError):
            continue
        states.setdefault(str(row.get("MachineName") or "").lower(), {})[row["ComponentName"]] = state
    return states


def describe_states(states: dict[str, int]) -> str:
    if not states:
        return "no components"
    return ", ".join(f"{c} {STATE_NAMES.get(s, s)}" for c, s in sorted(states.items()))


def all_log_lines(result: PlanResult) -> frozenset[str]:
    return frozenset(str(line) for line in result.output("sitecomp") if isinstance(line, str))


def log_lines(result: PlanResult, server: str) -> list[str]:
    """The sitecomp.log lines that name the server (FQDN or NetBIOS name)."""
    names = (server.lower(), server.split(".")[0].lower())
    lines = [str(line) for line in result.output("sitecomp") if isinstance(line, str)]
    return [line for line in lines if any(n in line.lower() for n in names)]


def latest_failure(lines: list[str]) -> list[str]:
    """The failure lines of the latest attempt: the trailing run of failure lines (an attempt logs the
    reason, then "failed ... will retry"), without the CMTrace suffix."""
    run: list[str] = []
    for line in reversed(lines):
        if not _FAILURE.search(line):
            break
        run.append(line.split("$$<", 1)[0].strip())
    return list(reversed(run))[-3:]


def installed(states: dict[str, int]) -> bool:
    return all(states.get(c) == 1 for c in COMPONENTS)


@dataclass
class Progress:
    """What a wait saw: per poll, the component states of the server, and the log lines about it."""

    seen: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    polls: int = 0
    elapsed: float = 0.0

    def note(self, text: str) -> None:
        if not self.seen or self.seen[-1] != text:
            self.seen.append(text)

    def to_dict(self) -> dict:
        return {"states_seen": self.seen, "sitecomp_log": self.log[-20:], "polls": self.polls, "elapsed": round(self.elapsed, 1)}


class WaitFailed(Exception):
    def __init__(self, message: str, progress: Progress):
        super().__init__(message)
        self.message = message
        self.progress = progress


def wait_for(read: Callable[[], PlanResult], server: str, goal: str, timeout: float, interval: float,
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
             baseline: frozenset[str] = frozenset()) -> Progress:
    """Poll until the SCP components on `server` are all started (goal "installed") or gone ("removed").

    Fails early when a sitecomp.log line about the server written during the wait (not in `baseline`,
    the lines read before) reports a failure while the role is not installed: Site Component Manager
    retries on its own schedule, which can be an hour; an old failure may already be fixed.
    """
    progress = Progress()
    start = clock()
    while True:
        result = read()
        progress.polls += 1
        states = component_states(result).get(server.lower(), {})
        progress.note(describe_states(states))
        progress.log = log_lines(result, server)
        progress.elapsed = clock() - start
        if goal == "installed" and installed(states):
            return progress
        if goal == "removed" and not states:
            return progress
        failure = latest_failure([line for line in progress.log if line not in baseline])
        if goal == "installed" and failure:
            raise WaitFailed(f"Site Component Manager could not install the service connection point on {server}: "
                             f"{' '.join(failure)}", progress)
        if progress.elapsed >= timeout:
            what = "install" if goal == "installed" else "uninstall"
            raise WaitFailed(f"The service connection point did not {what} on {server} within {timeout:g} seconds "
                             f"(last seen: {progress.seen[-1]}).", progress)
        sleep(interval)


def leftovers(result: PlanResult, keep: str | None) -> dict[str, dict[str, int]]:
    """SCP components on servers other than `keep`: an SCP still there, or still uninstalling."""
    return {m: s for m, s in component_states(result).items() if m != (keep or "").lower() and s}
