"""The hostile-input suite (issue 8): hostile strings in every string option of every module, through the real
ansible-playbook over WinRM against cmlab.

Each case ends one of four ways, and the table says which:

- REFUSED: the task fails with a message that names the option, before any WinRM request (cmlab's counters
  for that task are zero), and the lab is unchanged;
- LITERAL: the value reaches Windows or ConfigMgr exactly as written - the state dump holds it, byte for byte,
  where the case says (`where`) - and nothing else changed (every difference in the dump is under the case's
  `changes` paths);
- CARRIED: the value is sent as written and Windows or ConfigMgr finds nothing by that name (an unknown group,
  principal, account, module path, a wrong password): the task fails, its message quotes the value literally
  where `echo` is set (or the text `echo` names: the folder of a path, say), and the lab is unchanged;
- ANSWERED: a module that changes nothing (an _info module, a filter, a check, a check-mode prediction) takes the
  value as written, sends the task's reads and succeeds, the lab unchanged, and `check(result)` holds: the
  result shows the value where the case says (the tool's command line, the path it looked at, no entry matched).

All cases run in one ansible-playbook run (a play per host, a task per case, `ignore_errors`); the test-only
callback `lab_probe` records each task's WinRM requests and, when it changed, the state before and after it.

Adding rows for a new module (docs/development.md, "The hostile-input suite"): write a `cases_<module>()` that
returns Case rows - `refused(...)`, `literal(...)`, `carried(...)` or `answered(...)` - for each of its string
options, over the HOSTILE values that option could meet, and add it to CASES. A value the module's validator
refuses is REFUSED; one it sends must be LITERAL (say where the state shows it), CARRIED or, for a module that only
reads, ANSWERED (say what the result shows). Every module of plugins/modules/ must have rows
(test_the_table_is_large_and_well_formed).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]

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
    "kelvin": "K\u212ab",  # KELVIN SIGN: lower-cases to 'k' in some foldings
    "dotted_i": "\u0130stanbul",  # LATIN CAPITAL LETTER I WITH DOT ABOVE
    "rtl_override": "a\u202eb",  # RIGHT-TO-LEFT OVERRIDE
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
REFUSED, LITERAL, CARRIED, ANSWERED = "refused", "literal", "carried", "answered"


@dataclass(frozen=True)
class Case:
    module: str
    hosts: str
    option: str
    label: str  # which HOSTILE value (or a name of the case)
    value: Any  # what the option is set to
    outcome: str
    args: dict = field(default_factory=dict)  # the task's other arguments
    check_mode: bool = False
    where: Callable[[dict], Any] | None = None  # LITERAL: what the state dump holds at the case's place
    expect: Any = None  # LITERAL: what `where` must return (default: value)
    changes: tuple[tuple, ...] = ()  # LITERAL: the state paths that may change
    echo: bool | str = False  # CARRIED: the failure message quotes the value (or this text)
    check: Callable[[dict], Any] | None = None  # ANSWERED: true of the task's result

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


def answered(module, hosts, option, label, value, args, check, check_mode=False) -> Case:
    return Case(module, hosts, option, label, value, ANSWERED, dict(args), check_mode=check_mode, check=check)


def values(*labels: str) -> list[tuple[str, str]]:
    return [(label, HOSTILE[label]) for label in labels]


ALL = list(HOSTILE)
# What no identifier may hold: control and invisible formatting characters, spaces at the ends (issue 8.4).
CONTROL = ["newline", "crlf", "nul", "escape", "bell", "nel", "line_separator", "rtl_override", "zero_width", "separator"]
ENDS = ["spaces", "trailing_space"]
# Characters Windows refuses in account and group names (docs/configmgr-behaviour.md#windows-names-and-paths).
NAME_FORBIDDEN = [
    "quotes",
    "semicolon",
    "pipe",
    "star",
    "question",
    "brackets",
    "marker_end",
    "marker_start",
    "slash_traversal",
    "url",
    "http_url",
    "html",
    "traversal",
    "unc",
]


# -- firewall_rule (on scp01) --------------------------------------------------------------------------------


def _rule(state: dict, name: str) -> dict | None:
    return state["hosts"][SCP01]["firewall_rules"].get(name)


RULE = {"direction": "outbound", "protocol": "tcp", "remote_port": ["443"]}
RULES = ("hosts", SCP01, "firewall_rules")


def cases_firewall_rule() -> list[Case]:
    rows = []
    taken_literally = [k for k in ALL if k not in CONTROL + ENDS + ["very_long"]]
    for label, value in values(*taken_literally):
        rows.append(
            literal(
                "firewall_rule",
                "scp_hosts",
                "name",
                label,
                value,
                RULE,
                where=lambda s, v=value: v if _rule(s, v) else None,
                changes=((*RULES, value),),
            )
        )
    for label, value in values(*CONTROL, *ENDS, "very_long"):
        rows.append(refused("firewall_rule", "scp_hosts", "name", label, value, RULE))
    # 'K' (KELVIN SIGN) lower-cases to 'k': a rule of that name is another rule than "...-k", never the same one,
    # and as Windows matches -Name without regard to case, the module changes neither and says why.
    rows.append(
        literal(
            "firewall_rule",
            "scp_hosts",
            "name",
            "fold plain",
            "Hostile-Fold-k",
            RULE,
            where=lambda s: "Hostile-Fold-k" if _rule(s, "Hostile-Fold-k") else None,
            changes=((*RULES, "Hostile-Fold-k"),),
        )
    )
    rows.append(
        literal(
            "firewall_rule",
            "scp_hosts",
            "name",
            "fold kelvin",
            "Hostile-Fold-\u212a",
            RULE,
            where=lambda s: "Hostile-Fold-\u212a" if _rule(s, "Hostile-Fold-\u212a") else None,
            changes=((*RULES, "Hostile-Fold-\u212a"),),
        )
    )
    rows.append(
        carried("firewall_rule", "scp_hosts", "name", "fold kelvin again", "Hostile-Fold-\u212a", {**RULE, "remote_port": ["8443"]})
    )
    for label, value in values(*[k for k in ALL if k not in CONTROL + ENDS + ["pipe", "very_long", "separator"]]):
        name = f"Hostile-DisplayName-{label}"
        rows.append(
            literal(
                "firewall_rule",
                "scp_hosts",
                "display_name",
                label,
                value,
                {**RULE, "name": name},
                where=lambda s, n=name: (_rule(s, n) or {}).get("display_name"),
                changes=((*RULES, name),),
            )
        )
    for label, value in values(*CONTROL, *ENDS, "pipe", "very_long"):
        rows.append(refused("firewall_rule", "scp_hosts", "display_name", label, value, {**RULE, "name": "Hostile-DN"}))
    rows.append(refused("firewall_rule", "scp_hosts", "display_name", "all", "All", {**RULE, "name": "Hostile-DN"}))
    multiline = ["newline", "crlf"]
    for label, value in values(*[k for k in ALL if k not in [*CONTROL, "pipe"]], *multiline):
        name = f"Hostile-Description-{label}"
        rows.append(
            literal(
                "firewall_rule",
                "scp_hosts",
                "description",
                label,
                value,
                {**RULE, "name": name},
                where=lambda s, n=name: (_rule(s, n) or {}).get("description"),
                changes=((*RULES, name),),
            )
        )
    for label, value in values(*[k for k in CONTROL if k not in multiline], "pipe"):
        rows.append(refused("firewall_rule", "scp_hosts", "description", label, value, {**RULE, "name": "Hostile-D"}))
    for option in ("direction", "action", "protocol", "state"):
        for label, value in values("subexpression", "newline", "star", "kelvin"):
            rows.append(refused("firewall_rule", "scp_hosts", option, label, value, {"name": "Hostile-Choice"}))
    for option in ("local_port", "remote_port"):
        for label, value in values("subexpression", "newline", "semicolon", "star", "very_long", "dotted_i"):
            rows.append(refused("firewall_rule", "scp_hosts", option, label, [value], {"name": "Hostile-Port", "protocol": "tcp"}))
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
        rows.append(
            literal(
                "cm_account",
                "sms_provider",
                "name",
                label,
                user,
                {"password": "Hostile-Pw-1"},
                where=lambda s, u=user: u if u in _accounts(s) else None,
                changes=(ACCOUNTS,),
            )
        )
    for label, value in values(*CONTROL, *ENDS, *NAME_FORBIDDEN, "variable", "long"):
        rows.append(refused("cm_account", "sms_provider", "name", label, "LAB\\" + value, {"password": "Hostile-Pw-1"}))
    for index, (label, value) in enumerate(
        values("quotes", "subexpression", "backticks", "newline", "rtl_override", "marker_end", "very_long")
    ):
        user = f"LAB\\hostile-pw-{index}"
        # The password is carried as a secret: the account exists afterwards; its value never shows (secrets suite).
        rows.append(
            literal(
                "cm_account",
                "sms_provider",
                "password",
                label,
                value,
                {"name": user},
                where=lambda s, u=user: u if u in _accounts(s) else None,
                expect=user,
                changes=(ACCOUNTS,),
            )
        )
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
        rows.append(
            carried("service_connection_point_info", "sms_provider", "provider_username", label, "LAB\\" + value, remote, echo=False)
        )
    for label, value in values(*CONTROL[:4], *ENDS, "semicolon", "url", "quotes"):
        rows.append(refused("service_connection_point_info", "sms_provider", "provider_username", label, "LAB\\" + value, remote))
    for label, value in values("quotes", "subexpression", "newline", "marker_end"):
        rows.append(
            carried(
                "service_connection_point_info",
                "sms_provider",
                "provider_password",
                label,
                value,
                {"provider_server": PS1, "provider_username": "LAB\\cmadmin"},
                echo=False,
            )
        )
    rows.append(
        refused(
            "service_connection_point_info",
            "sms_provider",
            "provider_password",
            "nul",
            HOSTILE["nul"],
            {"provider_server": PS1, "provider_username": "LAB\\cmadmin"},
        )
    )
    # module_path: only an absolute Windows path is sent; a write imports the module from it, as written.
    for label, folder in values("subexpression", "backticks", "semicolon", "ampersand", "kelvin", "percent", "tilde", "accents", "emoji"):
        path = f"C:\\{folder}\\ConfigurationManager.psd1"
        rows.append(
            carried(
                "cm_account",
                "sms_provider",
                "module_path",
                f"folder {label}",
                path,
                {"name": "LAB\\svc-cmproxy", "password": "Hostile-Pw-1"},
            )
        )
    for label, value in values(
        "traversal",
        "slash_traversal",
        "url",
        "http_url",
        "tilde",
        "percent",
        "variable",
        "newline",
        "nul",
        "star",
        "question",
        "brackets",
        "pipe",
        "quotes",
        "spaces",
    ):
        rows.append(
            refused("cm_account", "sms_provider", "module_path", label, value, {"name": "LAB\\svc-cmproxy", "password": "Hostile-Pw-1"})
        )
    for label, folder in values("traversal", "question", "brackets", "pipe", "quotes", "newline", "html"):
        rows.append(
            refused(
                "cm_account",
                "sms_provider",
                "module_path",
                f"in a path {label}",
                f"C:\\Modules\\{folder}\\ConfigurationManager.psd1",
                {"name": "LAB\\svc-cmproxy", "password": "Hostile-Pw-1"},
            )
        )
    return rows


# -- site_system_server and service_connection_point (on the SMS Provider) ----------------------------------------


def cases_site_system_server() -> list[Case]:
    rows = []
    server = {"site_system_server": SCP01}
    for label, value in values("subexpression", "semicolon", "newline", "url", "http_url", "unc", "spaces", "kelvin", "star", "long"):
        rows.append(refused("site_system_server", "sms_provider", "site_system_server", label, value))
        rows.append(refused("service_connection_point", "sms_provider", "site_system_server", label, value))
    for label, value in values("subexpression", "crlf", "kelvin"):
        for module in ("site_system_server", "service_connection_point"):
            rows.append(refused(module, "sms_provider", "site_code", label, value, server))
            rows.append(refused(module, "sms_provider", "state", label, value, server))
        rows.append(refused("service_connection_point", "sms_provider", "mode", label, value, server))
    for label, value in values("subexpression", "newline", "url", "unc", "spaces", "star", "kelvin"):
        rows.append(refused("service_connection_point", "sms_provider", "scp_host", label, value, server))
        rows.append(refused("service_connection_point_info", "sms_provider", "scp_host", label, value))
    account_ok = ["subexpression", "backticks", "kelvin", "percent"]
    for option, extra in (("installation_account", {}), ("proxy_account", {"proxy_server": "proxy.lab.example"})):
        for label, value in values(*account_ok):
            # It must already be a ConfigMgr account: the module says it is not, naming it as written. ("nobody-":
            # cm_account's rows above created LAB\<value> accounts.)
            rows.append(carried("site_system_server", "sms_provider", option, label, "LAB\\nobody-" + value, {**server, **extra}))
        for label, value in values("newline", "nul", "rtl_override", "spaces", "semicolon", "url", "quotes"):
            rows.append(refused("site_system_server", "sms_provider", option, label, "LAB\\" + value, {**server, **extra}))
    # An existing account whose name holds a backtick (created at the CAS by cm_account's rows above) becomes the
    # CAS site server's proxy account, found by its literal name: -UserName of Get-CMAccount takes wildcards, and
    # the backtick is their escape character.
    user = "LAB\\" + HOSTILE["backticks"]
    rows.append(
        literal(
            "site_system_server",
            "sms_provider",
            "proxy_account",
            "existing with backticks",
            user,
            {"site_system_server": CAS, "site_code": "CAS", "proxy_server": "proxy.lab.example", "proxy_port": 3128},
            where=lambda s: next(
                ss["proxy"]["account"] for ss in s["hierarchies"]["lab"]["site_systems"] if ss["server"] == CAS and ss["site_code"] == "CAS"
            ),
            changes=(("hierarchies", "lab", "site_systems"),),
        )
    )
    for label, value in values("subexpression", "semicolon", "newline", "url", "http_url", "spaces", "kelvin", "star", "percent"):
        rows.append(refused("site_system_server", "sms_provider", "proxy_server", label, value, server))
    for label, value in (("zone_subexpression", "fe80::1%$(whoami)"), ("zone_name", "fe80::1%eth0"), ("zone_newline", "fe80::1%1\n")):
        rows.append(refused("site_system_server", "sms_provider", "proxy_server", label, value, server))
    return rows


# -- sms_executive (on ps1, a site server) ---------------------------------------------------------------------


def cases_sms_executive() -> list[Case]:
    rows = []
    for label, value in values("subexpression", "semicolon", "newline", "star", "kelvin", "traversal", "spaces", "long"):
        rows.append(refused("sms_executive", PS1, "component", label, value, {"state": "started"}))
    rows.append(refused("sms_executive", PS1, "component", "dotless_i", "SMS_DMP_DOWNLOAD\u0131R", {"state": "started"}))
    for label, value in values("subexpression", "newline"):
        rows.append(refused("sms_executive", PS1, "state", label, value))
    return rows


# -- status_message_info (on the SMS Provider) -------------------------------------------------------------------

# Points in time the controller cannot represent (before year 1, after 9999 in UTC): refused, never a traceback.
OUT_OF_RANGE = (
    ("duration_days", "999999d"),
    ("duration_weeks", "999999w"),
    ("before_year_one", "0001-01-01T00:00:00+14:00"),
    ("after_9999", "9999-12-31T23:59:59-14:00"),
)


def since_rows(module: str, hosts: str, args: dict) -> list[Case]:
    rows = []
    for label, value in [
        *values("subexpression", "newline", "semicolon", "marker_end", "very_long", "kelvin", "nul", "star"),
        *OUT_OF_RANGE,
    ]:
        rows.append(refused(module, hosts, "since", label, value, args))
    return rows


def cases_status_message_info() -> list[Case]:
    rows = []
    module, hosts = "status_message_info", "sms_provider"
    for label, value in values(
        "subexpression",
        "semicolon",
        "newline",
        "star",
        "kelvin",
        "dotted_i",
        "traversal",
        "spaces",
        "long",
        "nul",
        "rtl_override",
        "quotes",
        "marker_end",
    ):
        rows.append(refused(module, hosts, "component", label, value))
        rows.append(refused(module, hosts, "component", f"SMS_ then {label}", "SMS_" + value))
    for label, value in values(
        "subexpression", "semicolon", "newline", "url", "http_url", "unc", "spaces", "kelvin", "star", "long", "quotes", "nul"
    ):
        rows.append(refused(module, hosts, "site_system_server", label, value))
    for label, value in values("subexpression", "crlf", "kelvin", "star"):
        rows.append(refused(module, hosts, "site_code", label, value))
    rows += since_rows(module, hosts, {})
    for label, value in (
        *values("subexpression", "semicolon", "newline"),
        ("hex", "0x2C92"),
        ("too_large", "4294967296"),
        ("negative", "-1"),
        ("list_in_one", "11410, 11411"),
    ):
        rows.append(refused(module, hosts, "message_ids", label, [value]))
    for label, value in (*values("subexpression", "newline", "star"), ("other_case", "Error")):
        rows.append(refused(module, hosts, "severity", label, [value]))
    for label, value in values("subexpression", "newline"):
        rows.append(refused(module, hosts, "provider_server", label, value))
        rows.append(refused(module, hosts, "module_path", label, value))
    return rows


# -- log_info (on ps1, a site server with the SCP's logs) ----------------------------------------------------------

LOG = {"name": ["Dmpdownloader.log"]}


def cases_log_info() -> list[Case]:
    rows = []
    module = "log_info"
    for label, value in values(*ALL):
        # Never a path, a pattern, a short name or anything but letters, digits and _ . - ( ) in ASCII.
        rows.append(refused(module, PS1, "name", label, [value + ".log"]))
    for label, value in (
        ("bare", "Dmpdownloader"),
        ("trailing_newline", "Dmpdownloader.log\n"),
        ("double_dot", "Dmp..downloader.log"),
        ("folder", "Logs\\Dmpdownloader.log"),
        ("wildcard", "*.log"),
        ("short_name", "DMPDOW~1.LOG"),
        # KELVIN SIGN lower-cases to 'k': the name of another log, never that one.
        ("kelvin_in_a_known_name", "EndpointConnectivityChec\u212aWorker.log"),
        ("dotless_i", "EndpointConnect\u0131vityCheckWorker.log"),
        ("long_s", "\u017fitecomp.log"),
    ):
        rows.append(refused(module, PS1, "name", label, [value]))
    for label, value in (("parentheses", "Hostile(1).log"), ("dashes", "hostile-a_b.c.log")):
        # A legal name of no log there: read as written, reported as not found.
        rows.append(
            answered(
                module,
                PS1,
                "name",
                label,
                [value],
                {},
                check=lambda r, v=value: r["logs"][0]["name"] == v and r["logs"][0]["found"] is False,
            )
        )
    rows.append(
        answered(
            module,
            PS1,
            "name",
            "a log that is there",
            ["dmpdownloader.log"],
            {},
            check=lambda r: r["logs"][0]["found"] is True and r["logs"][0]["name"] == "Dmpdownloader.log",
        )
    )
    # component, regex and query are filters applied on the controller to what was read: data, never sent.
    one_line = ["newline", "crlf", "separator", "quotes", "html", "marker_end", "marker_start", "very_long", "long"]
    for label, value in values(*[k for k in ALL if k not in one_line]):
        rows.append(answered(module, PS1, "component", label, [value], LOG, check=lambda r: r["entries_matched"] == 0))
    for label, value in (*values(*one_line), ("empty", ""), ("blank", "   ")):
        rows.append(refused(module, PS1, "component", label, [value], LOG))
    for label, value in (*values("subexpression", "newline", "star"), ("other_case", "Error")):
        rows.append(refused(module, PS1, "severity", label, value, LOG))
    rows += since_rows(module, PS1, LOG)
    for label, value in values(*[k for k in ALL if k != "escape"]):
        rows.append(answered(module, PS1, "regex", label, value, LOG, check=lambda r: isinstance(r["entries_matched"], int)))
    for label, value in (*values("escape"), ("open_group", "("), ("nothing_to_repeat", "*a"), ("open_set", "[a")):
        rows.append(refused(module, PS1, "regex", label, value, LOG))
    # JMESPath over the entries: an expression that parses is applied (to data, on the controller); one that does not
    # is refused before anything is read.
    for label, value in (
        ("subexpression_literal", "[?component=='$(whoami)']"),
        ("backtick_literal", "[?message=='a`b']"),
        ("json_literal", '`"$(whoami)"`'),
        ("pipe", "[*].message | [0]"),
        ("brackets", HOSTILE["brackets"]),
    ):
        rows.append(answered(module, PS1, "query", label, value, LOG, check=lambda r: "query_result" in r))
    for label, value in values(
        "quotes", "subexpression", "backticks", "newline", "nul", "marker_end", "kelvin", "star", "rtl_override", "html"
    ):
        rows.append(refused(module, PS1, "query", label, value, LOG))
    return rows


# -- usage_data (on the SMS Provider) -------------------------------------------------------------------------------


def cases_usage_data() -> list[Case]:
    rows = []
    for label, value in (
        *values("subexpression", "newline", "kelvin", "star", "spaces"),
        ("other_case", "Full"),
        ("trailing_newline", "full\n"),
        ("number", "3"),
    ):
        rows.append(refused("usage_data", "sms_provider", "level", label, value))
    rows.append(refused("usage_data", "sms_provider", "provider_server", "subexpression", HOSTILE["subexpression"], {"level": "full"}))
    return rows


# -- the Service Connection Tool (inet01, the internet-connected machine; ps1, where the SCP is) -----------------------

INET = "inet01.lab.example"
TOOL = "C:\\Tools\\ServiceConnectionTool"
# Legal in a Windows file name: carried literally (as the path given to -LiteralPath, and as one argument of the
# tool's command line, quoted by the C runtime's rules).
PATH_OK = ["subexpression", "backticks", "semicolon", "ampersand", "percent", "tilde", "kelvin", "dotted_i", "accents", "emoji", "brackets"]
EXTRA_PATH_OK = (("apostrophe", "o'brien"), ("smart_quote", "o\u2019brien"), ("space_inside", "a b"))
# Not a file name Windows can hold, or not one the reader sees: refused, inside a full path.
PATH_REFUSED = [
    "quotes",
    "variable",
    "newline",
    "crlf",
    "nul",
    "escape",
    "bell",
    "nel",
    "line_separator",
    "rtl_override",
    "zero_width",
    "separator",
    "star",
    "question",
    "pipe",
    "html",
    "marker_end",
    "marker_start",
    "spaces",
    "trailing_space",
    "long",
    "very_long",
]
# Not a full path with a drive letter: refused as a whole value.
NOT_A_PATH = ["traversal", "slash_traversal", "url", "http_url", "unc", "percent", "tilde", "subexpression"]


def path_values(folder: str, suffix: str = "") -> list[tuple[str, str]]:
    """(label, path) pairs whose last name is hostile and legal."""
    return [(label, f"{folder}\\{value}{suffix}") for label, value in [*values(*PATH_OK), *EXTRA_PATH_OK]]


def refused_paths(folder: str, suffix: str = "") -> list[tuple[str, str]]:
    # As a folder of the path: a space at the end of a name (before a separator, not before an extension) is refused.
    rows = [(label, f"{folder}\\{value}\\x{suffix}") for label, value in values(*PATH_REFUSED)]
    rows += [(f"whole {label}", value) for label, value in values(*NOT_A_PATH)]
    rows += [
        ("dot_dot", f"{folder}\\..\\..\\Windows\\System32{suffix}"),
        ("dot", f"{folder}\\.\\x{suffix}"),
        ("colon", f"{folder}\\a:b{suffix}"),
        ("trailing_dot", f"{folder}\\x.\\y{suffix}"),
    ]
    return rows


def command_holds(*expected: str):
    """The predicted command holds the values, as single arguments, and its command line parses back to it by the
    C runtime's rules (cmlab's split_command_line)."""
    from cmlab.cmdlets.process import split_command_line

    def check(result: dict) -> bool:
        command = result.get("command") or []
        return all(value in command for value in expected) and split_command_line(result["command_line"]) == command

    return check


CONNECT = {
    "action": "connect",
    "tool_path": TOOL,
    "usage_data_src": "C:\\Tools\\UsageData.cab",
    "update_pack_dest": "C:\\Tools\\UpdatePacks",
}
EXPORT = {"action": "export", "tool_path": TOOL, "export_dest": "C:\\Tools\\usage.csv"}
# prepare and import run on the SCP server (ps1 in the lab, online: in check mode the module predicts and warns).
PREPARE = {"action": "prepare", "tool_path": TOOL, "usage_data_dest": "C:\\Windows\\Temp\\UsageData.cab", "provider_host": CAS}
IMPORT = {"action": "import", "tool_path": TOOL, "update_pack_src": "C:\\Windows\\Temp\\UpdatePacks", "provider_host": CAS}


def cases_service_connection_tool() -> list[Case]:
    rows = []
    module = "service_connection_tool"

    def options(option, base, folder, suffix, hosts=INET, carried_echo=None, predicted=True, brackets_refused=False):
        for label, path in path_values(folder, suffix):
            if brackets_refused and ("[" in path or "]" in path):
                # Start-Process takes these paths as wildcard patterns (it has no -LiteralPath): refused.
                rows.append(refused(module, hosts, option, label, path, base))
                continue
            if carried_echo is not None:
                rows.append(carried(module, hosts, option, label, path, base, echo=carried_echo(path)))
            if predicted:
                rows.append(answered(module, hosts, option, f"{label} predicted", path, base, check=command_holds(path), check_mode=True))
        for label, path in refused_paths(folder, suffix):
            rows.append(refused(module, hosts, option, label, path, base))

    # Not there: the message quotes the path (or its folder) as written.
    options("usage_data_src", CONNECT, "C:\\Tools", ".cab", carried_echo=lambda p: p)
    options("update_pack_dest", CONNECT, "C:\\Tools", "\\Packs", carried_echo=lambda p: p.rsplit("\\", 1)[0])
    options("export_dest", EXPORT, "C:\\Tools", "\\usage.csv", carried_echo=lambda p: p.rsplit("\\", 1)[0])
    options("tool_path", EXPORT, "C:\\Tools", "", carried_echo=lambda p: p, predicted=False, brackets_refused=True)
    options("usage_data_dest", PREPARE, "C:\\Windows\\Temp", ".cab", hosts=PS1)
    options("update_pack_src", IMPORT, "C:\\Windows\\Temp", "", hosts=PS1)
    proxy = {**CONNECT, "proxy_server_uri": "http://proxy.lab.example:8080"}
    for label, value in (
        ("http", "http://proxy.lab.example:8080"),
        ("https", "https://proxy.lab.example"),
        ("ipv6", "[fe80::1]:8080"),
        ("upper", "PROXY.LAB.EXAMPLE:3128"),
    ):
        rows.append(
            answered(
                module,
                INET,
                "proxy_server_uri",
                label,
                value,
                CONNECT,
                check_mode=True,
                check=command_holds("-proxyserveruri", value.rstrip("/")),
            )
        )
    for label, value in (
        *values(
            "subexpression", "semicolon", "newline", "url", "http_url", "unc", "spaces", "kelvin", "star", "quotes", "nul", "marker_end"
        ),
        ("host_subexpression", "http://$(whoami):8080"),
        ("trailing_newline", "proxy.lab.example\n"),
        ("port_too_large", "proxy.lab.example:99999"),
        ("ftp", "ftp://proxy.lab.example"),
        ("credentials", "http://user:pw@proxy.lab.example"),
        ("switch", "-downloadall"),
    ):
        rows.append(refused(module, INET, "proxy_server_uri", label, value, CONNECT))
    for label, value in (
        *[(k, "LAB\\" + v) for k, v in values("subexpression", "backticks", "ampersand", "percent", "kelvin", "accents", "emoji")],
        ("upn", "svc-proxy@lab.example"),
        ("apostrophe", "LAB\\o'brien"),
    ):
        rows.append(
            answered(module, INET, "proxy_username", label, value, proxy, check_mode=True, check=command_holds("-proxyusername", value))
        )
    for label, value in (
        *values(
            "newline",
            "crlf",
            "nul",
            "escape",
            "nel",
            "line_separator",
            "rtl_override",
            "zero_width",
            "spaces",
            "quotes",
            "semicolon",
            "pipe",
            "star",
            "html",
            "marker_end",
        ),
        ("switch", "-downloadall"),
        ("space_inside", "LAB\\a b"),
    ):
        rows.append(refused(module, INET, "proxy_username", label, value, proxy))
    prepare_here = {**PREPARE, "tool_path": TOOL}
    for label, value in (
        *values("subexpression", "newline", "spaces", "semicolon", "star"),
        ("not_in_the_inventory", "nothere.lab.example"),
    ):
        rows.append(refused(module, INET, "provider_host", label, value, prepare_here))
    for option in ("action", "download"):
        for label, value in (*values("subexpression", "newline", "star"), ("switch", "-connect")):
            rows.append(refused(module, INET, option, label, value, {} if option == "action" else CONNECT))
    rows.append(refused(module, INET, "module_path", "traversal", HOSTILE["traversal"], CONNECT))
    return rows


def cases_service_connection_tool_info() -> list[Case]:
    rows = []
    module = "service_connection_tool_info"
    for label, path in path_values("C:\\Tools", ""):
        # Looked for as written: not there.
        rows.append(
            answered(module, INET, "tool_path", label, path, {}, check=lambda r, p=path: r["found"] is False and r["tool_path"] == p)
        )
        exe = f"{path}\\ServiceConnectionTool.exe"
        rows.append(
            answered(
                module,
                INET,
                "tool_path",
                f"{label} executable",
                exe,
                {},
                check=lambda r, p=path, e=exe: r["found"] is False and r["tool_path"] == p and r["executable"] == e,
            )
        )
    rows.append(answered(module, INET, "tool_path", "the tool", TOOL, {}, check=lambda r: r["found"] is True and r["tool_path"] == TOOL))
    for label, path in refused_paths("C:\\Tools", ""):
        rows.append(refused(module, INET, "tool_path", label, path))
    return rows


# -- file_transfer (inet01) -------------------------------------------------------------------------------------------

FILES = ("hosts", INET, "files")
# The controller's file put by the rows (the fixture writes files/hostile.txt next to the playbook).
PUT = {"direction": "put", "src": "hostile.txt"}


def cases_file_transfer() -> list[Case]:
    rows = []
    module = "file_transfer"
    for label, path in path_values("C:\\Windows\\Temp", ".txt"):
        # Through the connection's own put_file (the path in a PowerShell single-quoted string): as written.
        rows.append(
            literal(
                module,
                INET,
                "dest",
                label,
                path,
                PUT,
                where=lambda s, p=path: p if p in s["hosts"][INET]["files"] else None,
                changes=((*FILES, path),),
            )
        )
    for label, path in refused_paths("C:\\Windows\\Temp", ".txt"):
        rows.append(refused(module, INET, "dest", label, path, PUT))
    for label, path in path_values("C:\\Windows\\Temp", ".txt"):
        # The files the rows above put, fetched back by their names as written.
        rows.append(
            answered(
                module,
                INET,
                "src",
                f"{label} fetched",
                path,
                {"direction": "fetch", "dest": f"fetched-{label}.txt"},
                check=lambda r, p=path: r["src"] == p and r["files"] and r["bytes"] > 0,
            )
        )
        missing = path.replace("\\Temp\\", "\\Temp\\Missing-")
        rows.append(carried(module, INET, "src", f"{label} missing", missing, {"direction": "fetch", "dest": f"missing-{label}.txt"}))
    for label, path in refused_paths("C:\\Windows\\Temp", ".txt"):
        rows.append(refused(module, INET, "src", f"fetch {label}", path, {"direction": "fetch", "dest": "x.txt"}))
    # dest of a fetch is a controller path, written as given (relative to the playbook).
    fetch = {"direction": "fetch", "src": "C:\\Tools\\ServiceConnectionTool\\ServiceConnectionTool.exe.config"}
    for label, value in values(
        "subexpression", "backticks", "semicolon", "ampersand", "quotes", "percent", "accents", "emoji", "brackets", "star"
    ):
        name = f"local-{value}.txt"
        rows.append(
            answered(
                module, INET, "dest", f"fetch {label}", name, fetch, check=lambda r, n=name: r["dest"].endswith("/" + n) and r["bytes"] > 0
            )
        )
    for label, value in values("nul", "separator"):
        rows.append(refused(module, INET, "dest", f"fetch {label}", f"local-{value}.txt", fetch))
    for label, value in values("nul", "subexpression"):
        rows.append(
            refused(module, INET, "src", f"put {label}", f"hostile{value}.txt", {"direction": "put", "dest": "C:\\Windows\\Temp\\x.txt"})
        )
    for label, value in (*values("subexpression", "newline"), ("other_case", "Put")):
        rows.append(refused(module, INET, "direction", label, value, {"src": "hostile.txt", "dest": "C:\\Temp\\x.txt"}))
    return rows


# -- tls_settings (on scp01) ------------------------------------------------------------------------------------------

# Only the certificates: the registry values are left as they are.
CERTS_ONLY = {"dotnet_tls12": False, "schannel_tls12_client": False}


def cases_tls_settings() -> list[Case]:
    rows = []
    for label, path in path_values("C:\\Certs", ".crt"):
        if label == "brackets":
            continue  # Import-Certificate -FilePath reads wildcards: refused below
        # Read as written: there is no such file; the message quotes it.
        rows.append(carried("tls_settings", "scp_hosts", "certificate_files", label, [path], CERTS_ONLY))
    for label, path in [*refused_paths("C:\\Certs", ".crt"), ("brackets", "C:\\Certs\\[ab].crt"), ("folder", "C:\\Certs\\")]:
        rows.append(refused("tls_settings", "scp_hosts", "certificate_files", label, [path], CERTS_ONLY))
    return rows


# -- endpoint_check (on scp01) ---------------------------------------------------------------------------------------

# tenant_attach's endpoints only, through a proxy that does not answer in the lab: the result shows what was sent.
CHECK = {"feature_groups": ["tenant_attach"], "fail_on": "never", "timeout": 2}
WITH_PROXY = {**CHECK, "proxy_server": "proxy.lab.example", "proxy_port": 8080}


def cases_endpoint_check() -> list[Case]:
    rows = []
    module, hosts = "endpoint_check", "scp_hosts"
    account = {**WITH_PROXY, "proxy_password": "Hostile-Pw-1"}
    for label, value in values(
        "subexpression",
        "semicolon",
        "newline",
        "url",
        "http_url",
        "unc",
        "spaces",
        "kelvin",
        "star",
        "percent",
        "quotes",
        "nul",
        "marker_end",
        "long",
    ):
        rows.append(refused(module, hosts, "proxy_server", label, value, CHECK))
    for label, value in values("subexpression", "backticks", "ampersand", "kelvin", "percent", "accents", "emoji"):
        user = "LAB\\" + value
        rows.append(
            answered(
                module,
                hosts,
                "proxy_username",
                label,
                user,
                account,
                check=lambda r, u=user: r["proxy"]["username"] == u and r["proxy"]["authenticated"],
            )
        )
    for label, value in values(*CONTROL, *ENDS, "semicolon", "url", "quotes", "star", "pipe", "html"):
        rows.append(refused(module, hosts, "proxy_username", label, "LAB\\" + value, account))
    rows.append(refused(module, hosts, "proxy_username", "no_domain", "svc-proxy", account))
    for label, value in values(
        "quotes", "subexpression", "backticks", "newline", "crlf", "rtl_override", "marker_end", "marker_start", "emoji", "very_long"
    ):
        # A secret: carried as written (the proxy account is unknown to the lab's proxy); it never shows.
        rows.append(
            answered(
                module,
                hosts,
                "proxy_password",
                label,
                value,
                {**WITH_PROXY, "proxy_username": "LAB\\px"},
                check=lambda r: r["proxy"]["authenticated"] is True,
            )
        )
    for label, value in (*values("nul", "separator"), ("empty", "")):
        rows.append(refused(module, hosts, "proxy_password", label, value, {**WITH_PROXY, "proxy_username": "LAB\\px"}))
    for label, value in values("subexpression", "semicolon", "newline", "url", "unc", "spaces", "kelvin", "star", "long"):
        rows.append(refused(module, hosts, "site_system_server", label, value, {**CHECK, "site_status": True}))
    for label, value in (*values("subexpression", "newline", "star", "kelvin"), ("other_case", "Tenant_Attach")):
        rows.append(refused(module, hosts, "feature_groups", label, [value], {"fail_on": "never"}))
    for label, value in (*values("subexpression", "newline", "star"), ("other_case", "Never")):
        rows.append(refused(module, hosts, "fail_on", label, value, CHECK))
    for label, value in values("subexpression", "newline"):
        rows.append(refused(module, hosts, "provider_server", label, value, {**CHECK, "site_status": True, "site_system_server": SCP01}))
    return rows


CASES: list[Case] = [
    *cases_firewall_rule(),
    *cases_local_group_member(),
    *cases_cm_account(),
    *cases_provider(),
    *cases_site_system_server(),
    *cases_sms_executive(),
    *cases_status_message_info(),
    *cases_log_info(),
    *cases_usage_data(),
    *cases_service_connection_tool(),
    *cases_service_connection_tool_info(),
    *cases_file_transfer(),
    *cases_tls_settings(),
    *cases_endpoint_check(),
]


def test_the_table_is_large_and_well_formed():
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), [n for n in names if names.count(n) > 1]
    assert len(CASES) >= 150
    # Every module has rows: a new module without them fails here.
    modules = {p.stem for p in (REPO / "plugins" / "modules").glob("*.py") if not p.name.startswith("_")}
    assert {c.module for c in CASES} == modules
    assert all(c.outcome in (REFUSED, LITERAL, CARRIED, ANSWERED) for c in CASES)
    assert all(c.check is not None for c in CASES if c.outcome == ANSWERED)


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
        shown = case.echo if isinstance(case.echo, str) else case.value[0] if isinstance(case.value, list) else case.value
        if case.echo and shown not in message:
            return f"the message does not quote {shown!r}: {message[:300]!r}"
        return None
    if case.outcome == ANSWERED:
        if status != "ok":
            return f"expected an answer, got {status}: {message[:300]!r}"
        if changed_paths:
            return f"changed the lab: {changed_paths[:5]}"
        if not probe["requests"]:
            return "sent nothing"
        if not case.check(res):
            return f"the result does not show it: {json.dumps(res, default=str)[:400]}"
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
    stray = [p for p in changed_paths if not any(p[: len(prefix)] == prefix for prefix in case.changes)]
    if stray:
        return f"something else changed: {stray[:5]}"
    return None


@pytest.fixture(scope="module")
def hostile_run(tmp_path_factory):
    from conftest import LAB_TOPOLOGY, RunningLab

    lab = RunningLab(tmp_path_factory.mktemp("hostile") / "lab", LAB_TOPOLOGY)
    try:
        plays = [
            {"hosts": hosts, "gather_facts": False, "tasks": [c.task() for c in CASES if c.hosts == hosts]}
            for hosts in dict.fromkeys(c.hosts for c in CASES)
        ]
        play = lab.write_playbook("hostile.json", json.dumps(plays))
        (lab.state_dir / "files").mkdir()
        (lab.state_dir / "files" / "hostile.txt").write_text("put by the hostile-input suite\n")
        probe_file = lab.state_dir / "probe.jsonl"
        started = time.monotonic()
        run = lab.playbook(
            play,
            env={
                "ANSIBLE_CALLBACKS_ENABLED": "record_results,lab_probe",
                "LAB_PROBE_FILE": str(probe_file),
                "CMLAB_CONTROL_URL": lab.info["control_url"],
                "CMLAB_CONTROL_TOKEN_FILE": lab.info["control_token_file"],
            },
            timeout=900,
        )
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
    print(
        f"\nhostile-input suite: {len(CASES)} cases in {seconds:.1f} s "
        f"({sum(c.outcome == REFUSED for c in CASES)} refused, {sum(c.outcome == LITERAL for c in CASES)} literal, "
        f"{sum(c.outcome == CARRIED for c in CASES)} carried, {sum(c.outcome == ANSWERED for c in CASES)} answered)"
    )
    assert problems == [], "\n".join(problems)
    assert "Traceback" not in run.stdout + run.stderr


if os.environ.get("HOSTILE_LIST"):  # HOSTILE_LIST=1 pytest --collect-only: print the table
    for _case in CASES:
        print(_case.outcome, _case.name)
