"""What must be refused: a second SCP, an SCP at a child site, and bad input (before any WinRM request)."""

from __future__ import annotations

import json

CONVERGED_PLAY = """
- hosts: sms_provider
  gather_facts: false
  tasks:
    - name: scp
      configmgr.scp.service_connection_point:
        site_system_server: "{{ server }}"
        site_code: "{{ site | default(omit) }}"
        mode: "{{ mode | default(omit) }}"
        allow_move: "{{ move | default(false) }}"
"""


def test_scp_at_a_child_site_is_refused_by_the_module(lab):
    play = lab.write_playbook("child.yml", CONVERGED_PLAY)
    before = lab.state()
    run = lab.playbook(play, extra_vars={"server": "ps1.lab.example", "site": "PS1", "move": True})
    result = run.task("scp")
    assert result["status"] == "failed"
    assert "not the top-level site" in result["result"]["msg"] and "CAS" in result["result"]["msg"]
    assert lab.state() == before


BAD_INPUT = [
    ("service_connection_point", {"site_system_server": "scp01.lab.example", "site_code": "CA"}, "site_code"),
    ("service_connection_point", {"site_system_server": "scp01", "mode": "online"}, "site_system_server"),
    ("service_connection_point", {"site_system_server": "scp01.lab.example", "mode": "sideways"}, "mode"),
    ("service_connection_point", {"mode": "online"}, "site_system_server"),
    (
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "use_site_server_account": True, "installation_account": "LAB\\cm-install"},
        "use_site_server_account|installation_account",
    ),
    ("site_system_server", {"site_system_server": "scp01.lab.example", "installation_account": "cm-install"}, "installation_account"),
    ("site_system_server", {"site_system_server": "scp01.lab.example$(calc)"}, "site_system_server"),
    ("site_system_server", {"site_system_server": "scp01.lab.example", "proxy_port": 8080}, "proxy_server"),
    ("site_system_server", {"site_system_server": "scp01.lab.example", "enable_proxy": True}, "proxy_server"),
    (
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "enable_proxy": False, "proxy_server": "proxy.lab.example"},
        "enable_proxy",
    ),
    (
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "proxy_server": "proxy.lab.example", "proxy_port": 70000},
        "proxy_port",
    ),
    ("site_system_server", {"site_system_server": "scp01.lab.example", "proxy_server": "pro xy;rm"}, "proxy_server"),
    (
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "proxy_server": "proxy.lab.example", "proxy_account": "proxyuser"},
        "proxy_account",
    ),
    ("service_connection_point", {"site_system_server": "scp01.lab.example", "wait_timeout": 0}, "wait_timeout"),
    ("service_connection_point", {"site_system_server": "scp01.lab.example", "restart_downloader": "maybe"}, "restart_downloader"),
    ("cm_account", {"name": "svc-cmproxy", "password": "x"}, "name"),
    ("cm_account", {"name": "LAB\\svc-cmproxy", "update_password": "sometimes"}, "update_password"),
    ("local_group_member", {"members": ["CAS$"]}, "members"),
    ("local_group_member", {"group": "Admins\nistrators", "members": ["LAB\\CAS$"]}, "group"),
    ("firewall_rule", {"name": "r", "remote_port": ["https"], "protocol": "tcp"}, "remote_port"),
    ("firewall_rule", {"name": "r", "remote_port": ["70000"], "protocol": "tcp"}, "remote_port"),
    ("firewall_rule", {"name": "r", "direction": "sideways"}, "direction"),
    ("firewall_rule", {"name": "r", "profiles": ["home"]}, "profiles"),
    ("sms_executive", {"state": "restarted", "component": "SMS DMP; rm"}, "component"),
    ("sms_executive", {"state": "paused"}, "state"),
]


def test_bad_input_fails_before_any_winrm_request(lab):
    """Every case is one task of one play (ignore_errors), so the whole list costs one ansible-playbook run."""
    tasks = [
        {"name": f"bad {index}", f"configmgr.scp.{module}": args, "ignore_errors": True}
        for index, (module, args, _) in enumerate(BAD_INPUT)
    ]
    play = lab.write_playbook("bad.yml", json.dumps([{"hosts": "sms_provider", "gather_facts": False, "tasks": tasks}]))
    lab.reset_counters()
    run = lab.playbook(play)
    problems = []
    for index, (module, args, option) in enumerate(BAD_INPUT):
        result = run.task(f"bad {index}")
        if result["status"] != "failed" or option not in result["result"].get("msg", ""):
            problems.append(f"{module} {args}: {result['status']} {result['result'].get('msg')!r} does not name {option}")
    assert problems == []
    assert lab.requests_total() == 0
