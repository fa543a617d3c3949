# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Waiting for the service connection point to install or uninstall.

The cmdlets return as soon as the site records the change; Site Component Manager installs or
uninstalls the role later (docs/configmgr-behaviour.md#asynchronous-installation). Progress is read
where it shows: SMS_ComponentSummarizer rows of SMS_DMP_DOWNLOADER, SMS_DMP_UPLOADER and
SMS_SERVICE_CONNECTOR for the server (State 1 = started, 5 = de-installing; through CIM, like every
read) and of SMS_SITE_COMPONENT_MANAGER (its Status), and sitecomp.log, found through its Tracing key's
TraceFilename (docs/configmgr-behaviour.md#sms-executive-threads, #logs). sitecomp.log is written by the
Site Component Manager of the site that owns the role, on that site's server: for the new SCP the
top-level site's server, for the old one the server of the site it was at (the primary site of an
expanded hierarchy). The action reads it there (`log_plan`, through RemoteHost when that server is not
the task's host). The waiting itself is the collection's one poller (`_poll.Poller`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ansible_collections.configmgr.scp.plugins.plugin_utils._poll import Poller, WaitFailed, progress
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value, ref

COMPONENTS = ("SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR")
STATE_NAMES = {0: "stopped", 1: "started", 2: "paused", 3: "installing", 4: "re-installing", 5: "de-installing"}
# docs/configmgr-behaviour.md#wmi-classes: SMS_ComponentSummarizer queries must include a TallyInterval;
# this one is the common "since site start" interval of community scripts.
TALLY = "0001128000100008"
SUMMARY_SELECT = {"ComponentName": None, "MachineName": None, "SiteCode": None, "State": None, "Status": None}
SITECOMP_TRACING = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\SMS_SITE_COMPONENT_MANAGER"
LOG_TAIL = 80
_FAILURE = re.compile(r"fail|error|not a local administrator|access is denied|cannot", re.IGNORECASE)
# The role a Site Component Manager line is about: "Failed to install <role> on server", "... to deinstall <role>:".
_ROLE_IN_LINE = re.compile(r"(?:to (?:de)?install|deinstall) (?P<role>SMS [A-Za-z ]+?)(?: on server| from server|:)")
SITECOMP = "SMS_SITE_COMPONENT_MANAGER"
STATUS_NAMES = {0: "OK", 1: "Warning", 2: "Critical"}
SCP_ROLE = "SMS Dmp Connector"


def status_plan(plan: Plan | None = None, log: bool = True) -> Plan:
    """The SCP components anywhere in the hierarchy, Site Component Manager's status, and (`log`) the tail of
    this host's sitecomp.log: a plan of its own while waiting, or appended to the module's read plan (still one
    invocation)."""
    namespace = provider_value("namespace")  # root\SMS\site_<code> of the provider the engine connected to
    plan = plan if plan is not None else Plan()
    components = (
        f"TallyInterval='{TALLY}' AND (ComponentName LIKE 'SMS_DMP_%' OR ComponentName='SMS_SERVICE_CONNECTOR' "
        f"OR ComponentName='{SITECOMP}')"
    )
    plan.add(
        "components",
        "Get-CimInstance",
        {"Namespace": namespace, "ClassName": "SMS_ComponentSummarizer", "Filter": components},
        select=SUMMARY_SELECT,
    )
    return log_plan(plan) if log else plan


def log_plan(plan: Plan | None = None) -> Plan:
    """The tail of sitecomp.log on the host the plan runs on. The log is diagnostics: on a host that is no site
    server it is simply not there (both steps may fail)."""
    plan = plan if plan is not None else Plan()
    plan.add("tracing", "Get-ItemProperty", {"LiteralPath": SITECOMP_TRACING}, select={"TraceFilename": None}, on_error="continue")
    plan.add("sitecomp", "Get-Content", {"LiteralPath": ref("tracing", "TraceFilename"), "Tail": LOG_TAIL}, on_error="continue")
    return plan


def with_log(result: PlanResult, log: PlanResult | None) -> PlanResult:
    """A status read and the sitecomp.log read of another host, as one result."""
    if log is None:
        return result
    return PlanResult({**result.steps, **{k: v for k, v in log.steps.items() if k in ("tracing", "sitecomp")}})


def site_component_manager(result: PlanResult, site_server: str | None) -> str | None:
    """The Status of SMS_SITE_COMPONENT_MANAGER on a site server (OK, Warning, Critical), if read."""
    for row in result.output("components"):
        if (
            isinstance(row, dict)
            and row.get("ComponentName") == SITECOMP
            and str(row.get("MachineName") or "").lower() == (site_server or "").lower()
        ):
            try:
                return STATUS_NAMES.get(int(row.get("Status")), str(row.get("Status")))
            except (TypeError, ValueError):
                return None
    return None


def component_states(result: PlanResult) -> dict[str, dict[str, int]]:
    """{machine fqdn: {component: State}} for the SCP components."""
    states: dict[str, dict[str, int]] = {}
    for row in result.output("components"):
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


def failure_message(server: str, goal: str, lines: list[str], where: str = "") -> str:
    """What Site Component Manager's failure lines mean, naming the role that failed: when the site system
    itself (SMS Site System) could not be installed, the SCP is not to blame."""
    roles = list(dict.fromkeys(m["role"].strip() for m in map(_ROLE_IN_LINE.search, lines) if m))
    who = f"Site Component Manager{where}"
    text = " ".join(lines)
    if goal == "removed":
        return f"{who} could not uninstall the service connection point from {server}: {text}"
    others = [r for r in roles if r != SCP_ROLE]
    if others:
        return (
            f"{who} could not install {', '.join(others)} on {server}, so the service connection point cannot install there either: {text}"
        )
    return f"{who} could not install the service connection point on {server}: {text}"


def wait_for(
    read: Callable[[], PlanResult],
    server: str,
    goal: str,
    poller: Poller,
    baseline: frozenset[str] = frozenset(),
    where: str = "",
    site_server: str | None = None,
    first: PlanResult | None = None,
) -> tuple[dict, PlanResult]:
    """Poll until the SCP components on `server` are all started (goal "installed") or gone ("removed");
    returns the progress the result reports (states seen, sitecomp.log lines, polls, elapsed) and the last
    read (it shows the components of every server: what the next step needs to know).

    Fails early when a sitecomp.log line about the server written during the wait (not in `baseline`,
    the lines read before) reports a failure while the goal is not reached - an install or a de-install
    that failed: Site Component Manager retries on its own schedule, which can be an hour; an old failure
    may already be fixed. `where` names the Site Component Manager in the message (" of site PS1 on
    ps1.contoso.com"); `site_server` is the server whose SMS_SITE_COMPONENT_MANAGER status the progress
    shows. `first`: the status the write plan read back in its own invocation (status_plan's steps), the
    wait's first poll: the next read comes one poll interval later. WaitFailed carries the same progress in
    `progress`.
    """
    log: list[str] = []
    last: list[PlanResult] = []

    def observe(result: PlanResult) -> dict[str, int]:
        last[:] = [result]
        log[:] = log_lines(result, server)
        return component_states(result).get(server.lower(), {})

    def poll() -> dict[str, int]:
        return observe(read())

    def reached(states: dict[str, int]) -> bool:
        return installed(states) if goal == "installed" else not states

    def failure(states: dict[str, int]) -> str | None:
        lines = latest_failure([line for line in log if line not in baseline])
        return failure_message(server, goal, lines, where) if lines else None

    def on_timeout(p: Poller) -> str:
        what = "install" if goal == "installed" else "uninstall"
        return f"The service connection point did not {what} on {server} within {p.timeout:g} seconds (last seen: {p.last_seen()})."

    def report() -> dict:
        extra: dict = {"sitecomp_log": log[-20:]}
        status = site_component_manager(last[0], site_server) if last else None
        if status:
            extra["site_component_manager"] = status
        return progress(poller, **extra)

    try:
        poller.until(
            poll,
            reached,
            describe=describe_states,
            failure=failure,
            on_timeout=on_timeout,
            first=None if first is None else observe(first),
        )
    except WaitFailed as e:
        e.progress = report()
        raise
    return report(), last[0]


def leftovers(result: PlanResult, keep: str | None) -> dict[str, dict[str, int]]:
    """SCP components on servers other than `keep`: an SCP still there, or still uninstalling."""
    return {m: s for m, s in component_states(result).items() if m != (keep or "").lower() and s}
