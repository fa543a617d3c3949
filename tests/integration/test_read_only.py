"""Every module's check mode works with read-only rights (issue 8 item 19, docs/gitops.md): the lab's
LAB\\svc-cmreader is a member of Remote Management Users on every server (not a local administrator) and a
Read-only Analyst in ConfigMgr. With it, check mode reads and predicts; a real run fails at its first write with
the access error, and nothing is half changed."""

from __future__ import annotations

import json
from pathlib import Path

from labstate import scp_roles

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
READER = {"ansible_user": "LAB\\svc-cmreader"}  # the lab's password, like every account of its domain

# (play hosts, task name, module, arguments): each would change the lab.
TASKS = [
    ("sms_provider", "account", "cm_account", {"name": "LAB\\svc-cmproxy", "password": "Proxy-Pw-1"}),
    (
        "sms_provider",
        "site system",
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "proxy_server": "proxy.lab.example", "proxy_port": 3128},
    ),
    (
        "sms_provider",
        "move the scp",
        "service_connection_point",
        {"site_system_server": "scp01.lab.example", "allow_move": True, "scp_host": "scp01.lab.example"},
    ),
    ("sms_provider", "remove the scp", "service_connection_point", {"state": "absent"}),
    ("sms_provider", "placement", "service_connection_point_info", {}),
    ("scp_hosts", "administrators", "local_group_member", {"members": ["LAB\\CAS$"]}),
    (
        "scp_hosts",
        "firewall",
        "firewall_rule",
        {"name": "ConfigMgr-SCP-HTTPS-Out", "direction": "outbound", "protocol": "tcp", "remote_port": ["443"]},
    ),
    ("ps1.lab.example", "downloader", "sms_executive", {"state": "restarted", "component": "SMS_DMP_DOWNLOADER"}),
    ("ps1.lab.example", "executive", "sms_executive", {"state": "restarted"}),
]
INFO = {"placement"}


def every_module(lab) -> Path:
    plays = []
    for hosts in dict.fromkeys(t[0] for t in TASKS):
        tasks = [
            {"name": name, f"configmgr.scp.{module}": args, "ignore_errors": True}
            for play_hosts, name, module, args in TASKS
            if play_hosts == hosts
        ]
        plays.append({"hosts": hosts, "gather_facts": False, "tasks": tasks})
    return lab.write_playbook("every_module.json", json.dumps(plays))


def test_every_modules_check_mode_works_with_read_only_rights(lab):
    play = every_module(lab)
    before = lab.state()
    lab.reset_counters()
    run = lab.playbook(play, "--check", "--diff", extra_vars=READER)
    problems = [
        f"{name}: {r['status']} {r['result'].get('msg')!r}"
        for _h, name, _m, _a in TASKS
        if (r := run.task(name))["status"] != "ok" or r["result"].get("changed") is not (name not in INFO)
    ]
    assert problems == []
    assert lab.requests_total() > 0  # it did read
    assert lab.state() == before


def test_a_real_run_with_read_only_rights_fails_cleanly_and_changes_nothing(lab):
    play = every_module(lab)
    before = lab.state()
    run = lab.playbook(play, extra_vars=READER)
    assert run.task("placement")["status"] == "ok"
    for _hosts, name, _module, _args in TASKS:
        if name in INFO:
            continue
        result = run.task(name)
        assert result["status"] == "failed", (name, result)
        assert not result["result"].get("completed_actions"), (name, result)
        assert result["result"]["changed"] is False, (name, result)
    denied = {
        name
        for _h, name, _m, _a in TASKS
        if any(
            word in run.task(name)["result"].get("msg", "")
            for word in ("Access denied", "Access is denied", "Cannot open", "registry access")
        )
    }
    # Each write was refused by Windows or the SMS Provider; the move stops earlier, at its own check that scp01 is
    # not a site system server yet (a read).
    # The move lease is a registry key on the SMS Provider host: refused at once, said as a want of rights, not
    # retried as if another run held it.
    assert "must be a local administrator" in run.task("remove the scp")["result"]["msg"]
    assert denied == {name for _h, name, _m, _a in TASKS} - INFO - {"move the scp"}, denied
    assert lab.state() == before


def test_the_site_playbook_plans_with_read_only_rights(lab):
    before = lab.state()
    plan = lab.playbook(SITE, "--check", "--diff", extra_vars=READER)
    assert plan.rc == 0, plan.stdout + plan.stderr
    scp = plan.task("service_connection_point : Install, move or remove the service connection point")["result"]
    assert scp["changed"] is True and scp["before"]["site_system_server"] == "ps1.lab.example"
    assert lab.state() == before

    apply = lab.playbook(SITE, extra_vars=READER)
    assert apply.rc != 0
    failed = [r for r in apply.results if r["status"] == "failed"]
    assert len(failed) == 1 and "Access denied" in failed[0]["result"]["msg"], failed
    assert lab.state() == before
    assert scp_roles(lab.state()) == [("PS1", "ps1.lab.example")]
