"""The hostile-input suite (issue 8): hostile strings in every string option of every module, through the real
ansible-playbook over WinRM against cmlab.

Each case ends one of three ways, and the table says which:

- REFUSED: the task fails with a message that names the option, before any WinRM request (cmlab's counters
  for that task are zero), and the lab is unchanged;
- LITERAL: the value reaches Windows or ConfigMgr exactly as written - the state dump holds it, byte for byte,
  where the case says (`where`) - and nothing else changed (every difference in the dump is under the case's
  `changes` paths);
- CARRIED: the value is sent as written and Windows or ConfigMgr finds nothing by that name (an unknown group,
  principal, account, module path, a wrong password): the task fails, its message quotes the value literally
  where `echo` is set, and the lab is unchanged.

All cases run in one ansible-playbook run (a play per host, a task per case, `ignore_errors`); the test-only
callback `lab_probe` records each task's WinRM requests and, when it changed, the state before and after it.

Adding rows for a new module (docs/development.md, "The hostile-input suite"): write a `cases_<module>()` that
returns Case rows - `refused(...)`, `literal(...)` or `carried(...)` - for each of its string options, over the
HOSTILE values that option could meet, and add it to CASES. A value the module's validator refuses is REFUSED; one
it sends must be LITERAL (say where the state shows it) or CARRIED.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

SCP01 = "scp01.lab.example"
CAS = "cas.lab.example"
PS1 = "ps1.lab.example"

# The hostile strings. Each module's rows pick the ones its options can meet.
HOSTILE: dict[str, str] = {
    "quotes": "q'u\"ote",
    "subexpression": "$(whoami)",
    "variable": "$env:USERNAME",
    "backticks": "a`whoami`b",
    "semicolon": "a;b",
    "pipe": "a|b",
    "ampersand": "a&b",
    "newline": "a\nb",
    "crlf": "a\r\nb",
    "nul": "a\x00b",
    "escape": "a\x1b[31mb",
    "bell": "a\x07b",
    "nel": "a\x85b",
    "line_separator": "a\u2028b",
    "kelvin": "K\u212ab",                          # KELVIN SIGN: lower-cases to 'k' in some foldings
    "dotted_i": "\u0130stanbul",                   # LATIN CAPITAL LETTER I WITH DOT ABOVE
    "rtl_override": "a\u202eb",                    # RIGHT-TO-LEFT OVERRIDE
    "zero_width": "a\u200bb",
    "accents": "\u00e9\u00e8\u00fc\u65e5\u672c",
    "emoji": "rocket\U0001f680",
    "star": "a*",
    "question": "a?b",
    "brackets": "[ab]",
    "long": "L" * 300,
    "very_long": "V" * 5000,
    "spaces": " padded ",
    "trailing_space": "trailing ",
    "marker_end": "<<<CMSCP-END>>>",
    "marker_start": "<<<CMSCP-RESULT>>>",
    "separator": "x\n\x00\x00\x00\x00\ny",
    "traversal": "..\\..\\Windows\\System32",
    "slash_traversal": "../../etc/passwd",
    "url": "host@127.10.0.12:5985/wsman?",
    "http_url": "http://evil.example/x",
    "unc": "\\\\evil\\share",
    "percent": "%TEMP%",
    "tilde": "~admin",
    "html": "<b>x</b>",
}
REFUSED, LITERAL, CARRIED = "refused", "literal", "carried"


@dataclass(frozen=True)
class Case:
    module: str
    hosts: str
    option: str
    label: str                      # which HOSTILE value (or a name of the case)
    value: Any                      # what the option is set to
    outcome: str
    args: dict = field(default_factory=dict)         # the task's other arguments
    check_mode: bool = False
    where: Callable[[dict], Any] | None = None       # LITERAL: what the state dump holds at the case's place
    expect: Any = None                               # LITERAL: what `where` must return (default: value)
    changes: tuple[tuple, ...] = ()                  # LITERAL: the state paths that may change
    echo: bool = False                               # CARRIED: the failure message quotes the value

    @property
    def name(self) -> str:
        return f"{self.module} {self.option} {self.label}"

    def task(self) -> dict:
        args = {**self.args, self.option: self.value}
        task = {"name": self.name, f"configmgr.scp.{self.module}": args, "ignore_errors": True}
        if self.check_mode:
            task["check_mode"] = True
        return task


def refused(module, hosts, option, label, value, args=None) -> Case:
    return Case(module, hosts, option, label, value, REFUSED, dict(args or {}))


def literal(module, hosts, option, label, value, args, where, changes, expect=None) -> Case:
    return Case(module, hosts, option, label, value, LITERAL, dict(args), where=where, changes=changes, expect=expect)


def carried(module, hosts, option, label, value, args=None, echo=True, check_mode=False) -> Case:
    return Case(module, hosts, option, label, value, CARRIED, dict(args or {}), check_mode=check_mode, echo=echo)


def values(*labels: str) -> list[tuple[str, str]]:
    return [(label, HOSTILE[label]) for label in labels]


ALL = list(HOSTILE)
# What no identifier may hold: control and invisible formatting characters, spaces at the ends (issue 8.4).
CONTROL = ["newline", "crlf", "nul", "escape", "bell", "nel", "line_separator", "rtl_override", "zero_width", "separator"]
ENDS = ["spaces", "trailing_space"]
# Characters Windows refuses in account and group names (docs/configmgr-behaviour.md#windows-names-and-paths).
NAME_FORBIDDEN = ["quotes", "semicolon", "pipe", "star", "question", "brackets", "marker_end", "marker_start",
                  "slash_traversal", "url", "http_url", "html", "traversal", "unc"]


# -- firewall_rule (on scp01) --------------------------------------------------------------------------------

def _rule(state: dict, name: str) -> dict | None:
    return state["hosts"][SCP01]["firewall_rules"].get(name)


RULE = {"direction": "outbound", "protocol": "tcp", "remote_port": ["443"]}
RULES = ("hosts", SCP01, "firewall_rules")


def cases_firewall_rule() -> list[Case]:
    rows = []
    taken_literally = [k for k in ALL if k not in CONTROL + ENDS + ["very_long"]]
    for label, value in values(*taken_literally):
        rows.append(literal("firewall_rule", "scp_hosts", "name", label, value, RULE,
                            where=lambda s, v=value: v if _rule(s, v) else None, changes=((*RULES, value),)))
    for label, value in values(*CONTROL, *ENDS, "very_long"):
        rows.append(refused("firewall_rule", "scp_hosts", "name", label, value, RULE))
    # 'K' (KELVIN SIGN) lower-cases to 'k': a rule of that name is another rule than "...-k", never the same one,
    # and as Windows matches -Name without regard to case, the module changes neither and says why.
    rows.append(literal("firewall_rule", "scp_hosts", "name", "fold plain", "Hostile-Fold-k", RULE,
                        where=lambda s: "Hostile-Fold-k" if _rule(s, "Hostile-Fold-k") else None,
                        changes=((*RULES, "Hostile-Fold-k"),)))
    rows.append(literal("firewall_rule", "scp_hosts", "name", "fold kelvin", "Hostile-Fold-\u212a", RULE,
                        where=lambda s: "Hostile-Fold-\u212a" if _rule(s, "Hostile-Fold-\u212a") else None,
                        changes=((*RULES, "Hostile-Fold-\u212a"),)))
    rows.append(carried("firewall_rule", "scp_hosts", "name", "fold kelvin again", "Hostile-Fold-\u212a",
                        {**RULE, "remote_port": ["8443"]}))
    for label, value in values(*[k for k in ALL if k not in CONTROL + ENDS + ["pipe", "very_long", "separator"]]):
        name = f"Hostile-DisplayName-{label}"
        rows.append(literal("firewall_rule", "scp_hosts", "display_name", label, value, {**RULE, "name": name},
                            where=lambda s, n=name: (_rule(s, n) or {}).get("display_name"), changes=((*RULES, name),)))
    for label, value in values(*CONTROL, *ENDS, "pipe", "very_long"):
        rows.append(refused("firewall_rule", "scp_hosts", "display_name", label, value, {**RULE, "name": "Hostile-DN"}))
    rows.append(refused("firewall_rule", "scp_hosts", "display_name", "all", "All", {**RULE, "name": "Hostile-DN"}))
    multiline = ["newline", "crlf"]
    for label, value in values(*[k for k in ALL if k not in [*CONTROL, "pipe"]], *multiline):
        name = f"Hostile-Description-{label}"
        rows.append(literal("firewall_rule", "scp_hosts", "description", label, value, {**RULE, "name": name},
                            where=lambda s, n=name: (_rule(s, n) or {}).get("description"), changes=((*RULES, name),)))
    for label, value in values(*[k for k in CONTROL if k not in multiline], "pipe"):
        rows.append(refused("firewall_rule", "scp_hosts", "description", label, value, {**RULE, "name": "Hostile-D"}))
    for option in ("direction", "action", "protocol", "state"):
        for label, value in values("subexpression", "newline", "star", "kelvin"):
            rows.append(refused("firewall_rule", "scp_hosts", option, label, value, {"name": "Hostile-Choice"}))
    for option in ("local_port", "remote_port"):
        for label, value in values("subexpression", "newline", "semicolon", "star", "very_long", "dotted_i"):
            rows.append(refused("firewall_rule", "scp_hosts", option, label, [value],
                                {"name": "Hostile-Port", "protocol": "tcp"}))
    for label, value in values("subexpression", "star", "newline"):
        rows.append(refused("firewall_rule", "scp_hosts", "profiles", label, [value], {"name": "Hostile-Profile"}))
    return rows


# -- local_group_member (on scp01) ----------------------------------------------------------------------------

def cases_local_group_member() -> list[Case]:
    rows = []
    group_ok = ["subexpression", "backticks", "ampersand", "kelvin", "dotted_i", "accents", "emoji", "percent", "tilde"]
    for label, value in values(*group_ok):
        # Sent as the group's name: no such group, nothing changes, the message names it as written.
        rows.append(carried("local_group_member", "scp_hosts", "group", label, value, {"members": ["LAB\\CAS$"]}))
    for label, value in values(*CONTROL, *ENDS, *NAME_FORBIDDEN, "variable", "long", "very_long"):
        rows.append(refused("local_group_member", "scp_hosts", "group", label, value, {"members": ["LAB\\CAS$"]}))
    member_ok = ["subexpression", "backticks", "ampersand", "kelvin", "dotted_i", "accents", "emoji", "percent", "tilde"]
    for label, value in values(*member_ok):
        # Windows resolves the principal when it adds it: not found, nothing changes.
        rows.append(carried("local_group_member", "scp_hosts", "members", label, ["LAB\\" + value]))
    for label, value in values(*CONTROL, *ENDS, *NAME_FORBIDDEN, "variable", "long"):
        rows.append(refused("local_group_member", "scp_hosts", "members", label, ["LAB\\" + value]))
    for label, value in values("subexpression", "newline"):
        rows.append(refused("local_group_member", "scp_hosts", "state", label, value, {"members": ["LAB\\CAS$"]}))
    return rows


# -- cm_account (on the SMS Provider) --------------------------------------------------------------------------

ACCOUNTS = ("hierarchies", "lab", "accounts")


def _accounts(state: dict) -> list[str]:
    return [a["user_name"] for a in state["hierarchies"]["lab"]["accounts"]]


def cases_cm_account() -> list[Case]:
    rows = []
    account_ok = ["subexpression", "backticks", "ampersand", "kelvin", "dotted_i", "accents", "emoji", "percent", "tilde"]
    for label, value in values(*account_ok):
        user = "LAB\\" + value
        rows.append(literal("cm_account", "sms_provider", "name", label, user, {"password": "Hostile-Pw-1"},
                            where=lambda s, u=user: u if u in _accounts(s) else None, changes=(ACCOUNTS,)))
    for label, value in values(*CONTROL, *ENDS, *NAME_FORBIDDEN, "variable", "long"):
        rows.append(refused("cm_account", "sms_provider", "name", label, "LAB\\" + value, {"password": "Hostile-Pw-1"}))
    for index, (label, value) in enumerate(values("quotes", "subexpression", "backticks", "newline", "rtl_override",
                                                  "marker_end", "very_long")):
        user = f"LAB\\hostile-pw-{index}"
        # The password is carried as a secret: the account exists afterwards; its value never shows (secrets suite).
        rows.append(literal("cm_account", "sms_provider", "password", label, value, {"name": user},
                            where=lambda s, u=user: u if u in _accounts(s) else None, expect=user, changes=(ACCOUNTS,)))
    rows.append(refused("cm_account", "sms_provider", "password", "nul", HOSTILE["nul"], {"name": "LAB\\hostile-pw-n"}))
    for option in ("update_password", "state"):
        for label, value in values("subexpression", "crlf"):
            rows.append(refused("cm_account", "sms_provider", option, label, value, {"name": "LAB\\svc-cmproxy"}))
    for label, value in values("subexpression", "semicolon", "newline", "kelvin", "star"):
        rows.append(refused("cm_account", "sms_provider", "site_code", label, value, {"name": "LAB\\svc-cmproxy"}))
    return rows


# -- the provider options (service_connection_point_info, cm_account) ------------------------------------------

def cases_provider() -> list[Case]:
    rows = []
    for label, value in values("subexpression", "semicolon", "newline", "url", "http_url", "unc", "spaces", "kelvin"):
        rows.append(refused("service_connection_point_info", "sms_provider", "provider_server", label, value))
    for label, value in values("subexpression", "newline", "star", "dotted_i"):
        rows.append(refused("service_connection_point_info", "sms_provider", "provider_site_code", label, value))
    remote = {"provider_server": PS1, "provider_password": "not-the-password-1"}
    for label, value in values("subexpression", "backticks", "kelvin", "percent"):
        # A remote provider: the CIM session logs on with it and is refused (no such account); nothing changes.
        rows.append(carried("service_connection_point_info", "sms_provider", "provider_username", label,
                            "LAB\\" + value, remote, echo=False))
    for label, value in values(*CONTROL[:4], *ENDS, "semicolon", "url", "quotes"):
        rows.append(refused("service_connection_point_info", "sms_provider", "provider_username", label,
                            "LAB\\" + value, remote))
    for label, value in values("quotes", "subexpression", "newline", "marker_end"):
        rows.append(carried("service_connection_point_info", "sms_provider", "provider_password", label, value,
                            {"provider_server": PS1, "provider_username": "LAB\\cmadmin"}, echo=False))
    rows.append(refused("service_connection_point_info", "sms_provider", "provider_password", "nul", HOSTILE["nul"],
                        {"provider_server": PS1, "provider_username": "LAB\\cmadmin"}))
    # module_path: only an absolute Windows path is sent; a write imports the module from it, as written.
    for label, folder in values("subexpression", "backticks", "semicolon", "ampersand", "kelvin", "percent", "tilde",
                                "accents", "emoji"):
        path = f"C:\\{folder}\\ConfigurationManager.psd1"
        rows.append(carried("cm_account", "sms_provider", "module_path", f"folder {label}", path,
                            {"name": "LAB\\svc-cmproxy", "password": "Hostile-Pw-1"}))
    for label, value in values("traversal", "slash_traversal", "url", "http_url", "tilde", "percent", "variable",
                               "newline", "nul", "star", "question", "brackets", "pipe", "quotes", "spaces"):
        rows.append(refused("cm_account", "sms_provider", "module_path", label, value,
                            {"name": "LAB\\svc-cmproxy", "password": "Hostile-Pw-1"}))
    for label, folder in values("traversal", "question", "brackets", "pipe", "quotes", "newline", "html"):
        rows.append(refused("cm_account", "sms_provider", "module_path", f"in a path {label}",
                            f"C:\\Modules\\{folder}\\ConfigurationManager.psd1",
                            {"name": "LAB\\svc-cmproxy", "password": "Hostile-Pw-1"}))
    return rows


# -- site_system_server and service_connection_point (on the SMS Provider) ----------------------------------------

def cases_site_system_server() -> list[Case]:
    rows = []
    server = {"site_system_server": SCP01}
    for label, value in values("subexpression", "semicolon", "newline", "url", "http_url", "unc", "spaces", "kelvin",
                               "star", "long"):
        rows.append(refused("site_system_server", "sms_provider", "site_system_server", label, value))
        rows.append(refused("service_connection_point", "sms_provider", "site_system_server", label, value))
    for label, value in values("subexpression", "crlf", "kelvin"):
        for module in ("site_system_server", "service_connection_point"):
            rows.append(refused(module, "sms_provider", "site_code", label, value, server))
            rows.append(refused(module, "sms_provider", "state", label, value, server))
        rows.append(refused("service_connection_point", "sms_provider", "mode", label, value, server))
    for label, value in values("subexpression", "newline", "url", "unc", "spaces", "star", "kelvin"):
        rows.append(refused("service_connection_point", "sms_provider", "scp_host", label, value, server))
    account_ok = ["subexpression", "backticks", "kelvin", "percent"]
    for option, extra in (("installation_account", {}), ("proxy_account", {"proxy_server": "proxy.lab.example"})):
        for label, value in values(*account_ok):
            # It must already be a ConfigMgr account: the module says it is not, naming it as written. ("nobody-":
            # cm_account's rows above created LAB\<value> accounts.)
            rows.append(carried("site_system_server", "sms_provider", option, label, "LAB\\nobody-" + value,
                                {**server, **extra}))
        for label, value in values("newline", "nul", "rtl_override", "spaces", "semicolon", "url", "quotes"):
            rows.append(refused("site_system_server", "sms_provider", option, label, "LAB\\" + value, {**server, **extra}))
    # An existing account whose name holds a backtick (created at the CAS by cm_account's rows above) becomes the
    # CAS site server's proxy account, found by its literal name: -UserName of Get-CMAccount takes wildcards, and
    # the backtick is their escape character.
    user = "LAB\\" + HOSTILE["backticks"]
    rows.append(literal("site_system_server", "sms_provider", "proxy_account", "existing with backticks", user,
                        {"site_system_server": CAS, "site_code": "CAS", "proxy_server": "proxy.lab.example",
                         "proxy_port": 3128},
                        where=lambda s: next(ss["proxy"]["account"] for ss in s["hierarchies"]["lab"]["site_systems"]
                                             if ss["server"] == CAS and ss["site_code"] == "CAS"),
                        changes=(("hierarchies", "lab", "site_systems"),)))
    for label, value in values("subexpression", "semicolon", "newline", "url", "http_url", "spaces", "kelvin",
                               "star", "percent"):
        rows.append(refused("site_system_server", "sms_provider", "proxy_server", label, value, server))
    for label, value in (("zone_subexpression", "fe80::1%$(whoami)"), ("zone_name", "fe80::1%eth0"),
                         ("zone_newline", "fe80::1%1\n")):
        rows.append(refused("site_system_server", "sms_provider", "proxy_server", label, value, server))
    return rows


# -- sms_executive (on ps1, a site server) ---------------------------------------------------------------------

def cases_sms_executive() -> list[Case]:
    rows = []
    for label, value in values("subexpression", "semicolon", "newline", "star", "kelvin", "traversal", "spaces",
                               "long"):
        rows.append(refused("sms_executive", PS1, "component", label, value, {"state": "started"}))
    rows.append(refused("sms_executive", PS1, "component", "dotless_i", "SMS_DMP_DOWNLOAD\u0131R", {"state": "started"}))
    for label, value in values("subexpression", "newline"):
        rows.append(refused("sms_executive", PS1, "state", label, value))
    return rows


CASES: list[Case] = [*cases_firewall_rule(), *cases_local_group_member(), *cases_cm_account(), *cases_provider(),
                     *cases_site_system_server(), *cases_sms_executive()]


def test_the_table_is_large_and_well_formed():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    assert len(CASES) >= 150
    assert {c.module for c in CASES} == {"firewall_rule", "local_group_member", "cm_account", "site_system_server",
                                         "service_connection_point", "service_connection_point_info", "sms_executive"}


# -- the run ----------------------------------------------------------------------------------------------------

def state_diff(before, after, path=()):
    """The paths where two state dumps differ (a missing key, a changed value, a list of another length)."""
    if type(before) is not type(after):
        yield path
    elif isinstance(before, dict):
        for key in sorted(set(before) | set(after)):
            if key not in before or key not in after:
                yield (*path, key)
            else:
                yield from state_diff(before[key], after[key], (*path, key))
    elif isinstance(before, list):
        if len(before) != len(after):
            yield path
        else:
            for index, (x, y) in enumerate(zip(before, after)):
                yield from state_diff(x, y, (*path, index))
    elif before != after:
        yield path


def judge(case: Case, result: dict, probe: dict) -> str | None:
    """What is wrong with one case, or None."""
    status, res = result["status"], result["result"]
    message = str(res.get("msg", ""))
    changed_paths = list(state_diff(probe["state_before"], probe["state_after"])) if "state_after" in probe else []
    if case.outcome == REFUSED:
        if status != "failed" or case.option not in message:
            return f"not refused by name: {status} {message[:300]!r}"
        if probe["requests"] or changed_paths:
            return f"refused after {probe['requests']} WinRM requests, changes {changed_paths[:3]}"
        return None
    if case.outcome == CARRIED:
        if changed_paths:
            return f"changed the lab: {changed_paths[:5]}"
        if not probe["requests"]:
            return "sent nothing"
        if status != "failed":
            return f"expected a failure naming the value, got {status}"
        shown = case.value[0] if isinstance(case.value, list) else case.value
        if case.echo and shown not in message:
            return f"the message does not quote {shown!r}: {message[:300]!r}"
        return None
    # LITERAL
    if status != "ok":
        return f"expected it carried, got {status}: {message[:300]!r}"
    if "state_after" not in probe:
        return "nothing changed in the lab"
    held = case.where(probe["state_after"])
    wanted = case.expect if case.expect is not None else case.value
    if held != wanted:
        return f"the lab holds {held!r}, not {wanted!r}"
    stray = [p for p in changed_paths if not any(p[:len(prefix)] == prefix for prefix in case.changes)]
    if stray:
        return f"something else changed: {stray[:5]}"
    return None


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from conftest import LAB_TOPOLOGY, RunningLab

    lab = RunningLab(tmp_path_factory.mktemp("hostile") / "lab", LAB_TOPOLOGY)
    try:
        plays = [{"hosts": hosts, "gather_facts": False, "tasks": [c.task() for c in CASES if c.hosts == hosts]}
                 for hosts in dict.fromkeys(c.hosts for c in CASES)]
        play = lab.write_playbook("hostile.json", json.dumps(plays))
        probe_file = lab.state_dir / "probe.jsonl"
        started = time.monotonic()
        run = lab.playbook(play, env={
            "ANSIBLE_CALLBACKS_ENABLED": "record_results,lab_probe", "LAB_PROBE_FILE": str(probe_file),
            "CMLAB_CONTROL_URL": lab.info["control_url"], "CMLAB_CONTROL_TOKEN_FILE": lab.info["control_token_file"],
        }, timeout=900)
        seconds = time.monotonic() - started
        probes = {row["task"]: row for row in map(json.loads, probe_file.read_text().splitlines())}
        yield run, probes, seconds
    finally:
        lab.stop()


def test_every_hostile_input_is_refused_or_carried_literally(hostile_run):
    run, probes, seconds = hostile_run
    problems = []
    for case in CASES:
        try:
            result = run.task(case.name)
        except AssertionError:
            problems.append(f"{case.name}: no result")
            continue
        wrong = judge(case, result, probes[case.name])
        if wrong:
            problems.append(f"{case.name}: {wrong}")
    print(f"\nhostile-input suite: {len(CASES)} cases in {seconds:.1f} s "
          f"({sum(c.outcome == REFUSED for c in CASES)} refused, {sum(c.outcome == LITERAL for c in CASES)} literal, "
          f"{sum(c.outcome == CARRIED for c in CASES)} carried)")
    assert problems == [], "\n".join(problems)
    assert "Traceback" not in run.stdout + run.stderr


if os.environ.get("HOSTILE_LIST"):      # HOSTILE_LIST=1 pytest --collect-only: print the table
    for _case in CASES:
        print(_case.outcome, _case.name)
