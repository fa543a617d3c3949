"""Defects a hostile or careless user met (issue 8), each through the real ansible-playbook over WinRM
against the lab: the rule name taken as a pattern, a host variable redirecting the connection, a failure
after a change reported unchanged, names compared as text, accounts at several sites, the display name
that could not change."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import winrm
from labstate import administrators, firewall_rule, role_state, site_system

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan
from tests.winrm_plan import run_plan_over

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
VALIDATION_TASK = "service_connection_point : Refuse host names that are not plain host names"


def one_task(lab, name: str, host: str, module: str, args: dict, play_vars: dict | None = None, **keywords):
    play = [
        {
            "hosts": host,
            "gather_facts": False,
            "vars": play_vars or {},
            "tasks": [{"name": name, f"configmgr.scp.{module}": args, **keywords}],
        }
    ]
    return lab.write_playbook(f"{name}.yml", json.dumps(play))


# 8.1: a firewall rule's name is a literal ----------------------------------------------------------------


def test_a_rule_name_with_wildcards_never_touches_another_rule(lab):
    before = lab.state()
    winrm_rule = firewall_rule(before, "scp01.lab.example", "WINRM-HTTP-In-TCP")
    assert winrm_rule["enabled"] is True

    play = one_task(
        lab,
        "pattern",
        "scp_hosts",
        "firewall_rule",
        {"name": "WINRM*", "direction": "inbound", "protocol": "tcp", "local_port": ["5985"], "enabled": False},
    )
    run = lab.playbook(play)
    assert run.rc == 0, run.stdout
    after = lab.state()
    assert firewall_rule(after, "scp01.lab.example", "WINRM-HTTP-In-TCP") == winrm_rule
    created = firewall_rule(after, "scp01.lab.example", "WINRM*")  # a rule of that literal name, nothing else
    assert created["enabled"] is False
    again = lab.playbook(play)
    assert again.task("pattern")["result"]["changed"] is False

    rules = set(lab.state()["hosts"]["scp01.lab.example"]["firewall_rules"])
    gone = lab.playbook(one_task(lab, "star", "scp_hosts", "firewall_rule", {"name": "*", "state": "absent"}))
    assert gone.rc == 0 and gone.task("star")["result"]["changed"] is False
    assert set(lab.state()["hosts"]["scp01.lab.example"]["firewall_rules"]) == rules

    removed = lab.playbook(one_task(lab, "literal", "scp_hosts", "firewall_rule", {"name": "WINRM*", "state": "absent"}))
    assert removed.task("literal")["result"]["changed"] is True
    assert set(lab.state()["hosts"]["scp01.lab.example"]["firewall_rules"]) == rules - {"WINRM*"}
    assert firewall_rule(lab.state(), "scp01.lab.example", "WINRM-HTTP-In-TCP") == winrm_rule


# 8.13: the display name can change -----------------------------------------------------------------------


def test_a_rules_display_name_changes(lab):
    args = {"name": "SCP-Out", "display_name": "SCP out", "direction": "outbound", "protocol": "tcp", "remote_port": ["443"]}
    assert lab.playbook(one_task(lab, "create", "scp_hosts", "firewall_rule", args)).rc == 0
    play = one_task(lab, "rename", "scp_hosts", "firewall_rule", {**args, "display_name": "SCP (HTTPS out)"})
    run = lab.playbook(play, "--diff")
    result = run.task("rename")["result"]
    assert run.task("rename")["status"] == "ok", result
    assert result["changes"] == ["display_name"] and result["after"]["display_name"] == "SCP (HTTPS out)"
    assert "+display_name: SCP (HTTPS out)" in run.stdout
    assert firewall_rule(lab.state(), "scp01.lab.example", "SCP-Out")["display_name"] == "SCP (HTTPS out)"
    assert lab.playbook(play).task("rename")["result"]["changed"] is False


# 8.2: host variables of the role are plain names before anything connects --------------------------------


@pytest.mark.parametrize(
    "variables",
    [
        {"service_connection_point_host": "host@{ps1}/wsman?"},
        {"service_connection_point_server": "host@{ps1}/wsman?"},
        {"service_connection_point_server": "scp01.lab.example\nx"},
        {"service_connection_point_host": "scp01"},  # a short name that is not in the inventory
        {"service_connection_point_proxy_server": "proxy@{ps1}"},
    ],
)
def test_a_host_variable_that_is_not_a_plain_name_is_refused_before_any_connection(lab, variables):
    ps1 = lab.info["hosts"]["ps1.lab.example"]
    address = f"{ps1['address']}:{ps1['http_port']}"
    variables = {k: v.format(ps1=address) for k, v in variables.items()}
    before = lab.state()
    lab.reset_counters()
    run = lab.playbook(SITE, extra_vars=variables)
    assert run.rc != 0
    assert run.task(VALIDATION_TASK)["status"] == "failed"
    assert lab.requests_total() == 0
    assert lab.state() == before


def test_an_inventory_name_is_accepted_as_the_scp_host(lab):
    run = lab.playbook(SITE, "--check", extra_vars={"service_connection_point_host": "scp01.lab.example"})
    assert run.rc == 0, run.stdout
    assert run.task(VALIDATION_TASK)["status"] == "ok"


# 8.8 and 8.10: local group members -----------------------------------------------------------------------


def test_a_failure_after_a_member_was_added_reports_the_change(lab):
    play = one_task(lab, "partial", "scp_hosts", "local_group_member", {"members": ["LAB\\CAS$", "LAB\\no-such-user"]})
    run = lab.playbook(play)
    result = run.task("partial")
    assert result["status"] == "failed"
    assert result["result"]["changed"] is True
    assert result["result"]["completed_actions"] == ["add LAB\\CAS$ to Administrators"]
    assert "LAB\\no-such-user" in result["result"]["msg"] and "Already done: add LAB\\CAS$" in result["result"]["msg"]
    assert "LAB\\CAS$" in administrators(lab.state(), "scp01.lab.example")
    assert run.recap["scp01.lab.example"]["failed"] == 1


def sid_of(lab, host: str, name: str) -> str:
    info = lab.info["hosts"][host]
    protocol = winrm.Protocol(
        f"http://{info['address']}:{info['http_port']}/wsman",
        transport="ntlm",
        username=lab.info["admin_user"],
        password=(lab.state_dir / "password").read_text().strip(),
    )
    plan = Plan()
    plan.add("members", "Get-LocalGroupMember", {"SID": "S-1-5-32-544"}, select={"Name": None, "SID": None})
    members = run_plan_over(protocol, plan).output("members")
    return next(m["SID"] for m in members if m["Name"].lower() == name.lower())


def test_members_compare_by_sid_and_another_spelling_of_a_member_is_no_change(lab):
    # ps1's Administrators has LAB\CAS$ from the start.
    sid = sid_of(lab, "ps1.lab.example", "LAB\\CAS$")
    by_sid = one_task(lab, "sid", "ps1.lab.example", "local_group_member", {"members": [sid]})
    check = lab.playbook(by_sid, "--check")
    assert check.task("sid")["result"]["changed"] is False

    dns_form = one_task(lab, "dns", "ps1.lab.example", "local_group_member", {"members": ["lab.example\\CAS$"]})
    before = lab.state()
    run = lab.playbook(dns_form)
    result = run.task("dns")
    assert result["status"] == "ok", result  # not "already a member"
    assert result["result"]["changed"] is False and result["result"]["added"] == []
    assert any("desired state there already" in w for w in result["result"]["warnings"])
    assert administrators(lab.state(), "ps1.lab.example") == administrators(before, "ps1.lab.example")


# 8.12: accounts that exist at several sites ----------------------------------------------------------------


def test_an_account_at_two_sites_is_read_and_used_per_site(lab):
    # LAB\svc-cmnaa exists at the CAS. At PS1 it does not exist yet: "exists" must not come from the CAS.
    at_ps1 = one_task(lab, "ps1acct", "sms_provider", "cm_account", {"name": "LAB\\svc-cmnaa", "password": "pw-naa-1", "site_code": "PS1"})
    check = lab.playbook(at_ps1, "--check")
    assert check.task("ps1acct")["result"]["changed"] is True
    assert lab.playbook(at_ps1).task("ps1acct")["result"]["changed"] is True
    accounts = sorted(
        a["site_code"] for h in lab.state()["hierarchies"].values() for a in h["accounts"] if a["user_name"] == "LAB\\svc-cmnaa"
    )
    assert accounts == ["CAS", "PS1"]
    assert lab.playbook(at_ps1).task("ps1acct")["result"]["changed"] is False

    # The proxy account of a site system: one object, not one per site.
    assert lab.playbook(one_task(lab, "admins", "scp_hosts", "local_group_member", {"members": ["LAB\\CAS$"]})).rc == 0
    assert lab.playbook(one_task(lab, "ss", "sms_provider", "site_system_server", {"site_system_server": "scp01.lab.example"})).rc == 0
    lab.wait_until(lambda s: role_state(s, "scp01.lab.example", "SMS Site System") == "installed")
    proxy = one_task(
        lab,
        "proxy",
        "sms_provider",
        "site_system_server",
        {
            "site_system_server": "scp01.lab.example",
            "proxy_server": "proxy.lab.example",
            "proxy_port": 3128,
            "proxy_account": "LAB\\svc-cmnaa",
        },
    )
    run = lab.playbook(proxy)
    assert run.task("proxy")["status"] == "ok", run.task("proxy")
    assert site_system(lab.state(), "scp01.lab.example", "CAS")["proxy"]["account"] == "LAB\\svc-cmnaa"

    # Removing the PS1 account leaves the CAS one.
    gone = one_task(lab, "gone", "sms_provider", "cm_account", {"name": "LAB\\svc-cmnaa", "state": "absent", "site_code": "PS1"})
    assert lab.playbook(gone).task("gone")["result"]["changed"] is True
    accounts = [a["site_code"] for h in lab.state()["hierarchies"].values() for a in h["accounts"] if a["user_name"] == "LAB\\svc-cmnaa"]
    assert accounts == ["CAS"]


# 8.4, 8.5, 8.6: identifiers, zone ids and Windows paths are refused before anything is sent -----------------

REFUSED_BEFORE_SENDING = [
    # (module, play hosts, arguments, the option the message must name)
    ("cm_account", "sms_provider", {"name": "LAB\\svc-cmproxy\r\nLAB\\x", "password": "pw-1"}, "name"),
    ("cm_account", "sms_provider", {"name": "LAB\\svc-cmproxy\nx", "password": "pw-1"}, "name"),
    ("cm_account", "sms_provider", {"name": "LAB\\svc\u0000cmproxy", "password": "pw-1"}, "name"),
    (
        "site_system_server",
        "sms_provider",
        {"site_system_server": "scp01.lab.example", "installation_account": "LAB\\svc-cminstall\r"},
        "installation_account",
    ),
    (
        "site_system_server",
        "sms_provider",
        {"site_system_server": "scp01.lab.example", "proxy_server": "proxy.lab.example", "proxy_account": "LAB\\svc\u0000cmproxy"},
        "proxy_account",
    ),
    (
        "service_connection_point_info",
        "sms_provider",
        {"provider_username": "LAB\\cmadmin\n", "provider_password": "x-1"},
        "provider_username",
    ),
    ("local_group_member", "scp_hosts", {"members": ["LAB\\CAS$\u0000"]}, "members"),
    ("local_group_member", "scp_hosts", {"group": "Administrators\u0000", "members": ["LAB\\CAS$"]}, "group"),
    ("firewall_rule", "scp_hosts", {"name": "SCP-Out\u0000", "direction": "outbound"}, "name"),
    ("firewall_rule", "scp_hosts", {"name": "SCP-Out", "display_name": "SCP\u202eout"}, "display_name"),
    # 8.5: nothing but an interface index after an IPv6 zone id
    (
        "site_system_server",
        "sms_provider",
        {"site_system_server": "scp01.lab.example", "proxy_server": "fe80::1%$(whoami)"},
        "proxy_server",
    ),
    ("site_system_server", "sms_provider", {"site_system_server": "scp01.lab.example", "proxy_server": "fe80::1%eth0;x"}, "proxy_server"),
    # 8.6: a Windows path is a string the controller never expands, and an absolute one
    ("service_connection_point_info", "sms_provider", {"module_path": "~/ConfigurationManager.psd1"}, "module_path"),
    ("service_connection_point_info", "sms_provider", {"module_path": "$HOME/ConfigurationManager.psd1"}, "module_path"),
    ("service_connection_point_info", "sms_provider", {"module_path": "bin\\ConfigurationManager.psd1"}, "module_path"),
    (
        "service_connection_point_info",
        "sms_provider",
        {"module_path": "C:\\Program Files (x86)\\..\\..\\Windows\\ConfigurationManager.psd1"},
        "module_path",
    ),
    ("service_connection_point_info", "sms_provider", {"module_path": "C:\\Temp\\Configuration\nManager.psd1"}, "module_path"),
    ("service_connection_point_info", "sms_provider", {"module_path": "C:\\Temp\\ConfigurationManager.txt"}, "module_path"),
]


def test_identifiers_zone_ids_and_paths_are_refused_before_any_winrm_request(lab):
    tasks = [
        {"name": f"refused {index}", f"configmgr.scp.{module}": args, "ignore_errors": True}
        for index, (module, _hosts, args, _option) in enumerate(REFUSED_BEFORE_SENDING)
    ]
    plays = [
        {"hosts": hosts, "gather_facts": False, "tasks": [t for t, case in zip(tasks, REFUSED_BEFORE_SENDING) if case[1] == hosts]}
        for hosts in ("sms_provider", "scp_hosts")
    ]
    play = lab.write_playbook("refused.json", json.dumps(plays))
    before = lab.state()
    lab.reset_counters()
    run = lab.playbook(play)
    problems = []
    for index, (module, _hosts, args, option) in enumerate(REFUSED_BEFORE_SENDING):
        result = run.task(f"refused {index}")
        message = result["result"].get("msg", "")
        if result["status"] != "failed" or not message.startswith(option):
            problems.append(f"{module} {args!r}: {result['status']} {message!r}")
    assert problems == []
    assert lab.requests_total() == 0
    assert lab.state() == before


def test_a_zone_id_that_is_an_interface_index_is_accepted(lab):
    play = one_task(
        lab,
        "zone",
        "sms_provider",
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "proxy_server": "FE80::1%12", "proxy_port": 3128},
    )
    run = lab.playbook(play, "--check")
    result = run.task("zone")
    assert result["status"] == "ok", result
    assert result["result"]["after"]["proxy_server"] == "fe80::1%12"


def test_module_path_is_sent_as_written(lab):
    """The console's module path imports the module for a write; the same path in another case is the same path
    (Windows compares paths case-insensitively), a path where there is no module fails where Import-Module does."""
    console = "C:\\Program Files (x86)\\Microsoft Endpoint Manager\\AdminConsole\\bin\\ConfigurationManager.psd1"
    good = one_task(
        lab, "good", "sms_provider", "cm_account", {"name": "LAB\\svc-cmproxy", "password": "Proxy-Pw-1", "module_path": console.upper()}
    )
    run = lab.playbook(good)
    assert run.task("good")["status"] == "ok", run.task("good")
    elsewhere = one_task(
        lab,
        "elsewhere",
        "sms_provider",
        "cm_account",
        {"name": "LAB\\svc-cminstall", "password": "Install-Pw-1", "module_path": "D:\\ConfigMgr\\ConfigurationManager.psd1"},
    )
    result = lab.playbook(elsewhere).task("elsewhere")
    assert result["status"] == "failed"
    assert "D:\\ConfigMgr\\ConfigurationManager.psd1" in result["result"]["msg"]


# 8.14: become is refused, never ignored --------------------------------------------------------------------


@pytest.mark.parametrize(
    "module, hosts, args",
    [
        ("service_connection_point_info", "sms_provider", {}),
        ("firewall_rule", "scp_hosts", {"name": "SCP-Out", "direction": "outbound"}),
    ],
)
def test_become_is_refused_before_any_winrm_request(lab, module, hosts, args):
    play = one_task(
        lab,
        "become",
        hosts,
        module,
        args,
        become=True,
        become_method="runas",
        become_user="LAB\\cmadmin",
        play_vars={"ansible_become_password": "certainly-not-the-password"},
    )
    lab.reset_counters()
    run = lab.playbook(play)
    result = run.task("become")
    assert result["status"] == "failed", result
    assert "become" in result["result"]["msg"] and "provider_username" in result["result"]["msg"]
    assert lab.requests_total() == 0
