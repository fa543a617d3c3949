"""Each module against the lab: converge, unchanged second run, check mode writes nothing, diff."""

from __future__ import annotations

import json

from labstate import administrators, firewall_rule, role_state, site_system


def one_task(lab, name: str, host: str, module: str, args: dict, delegate: str | None = None):
    body = {"name": name, f"configmgr.scp.{module}": args}
    if delegate:
        body["delegate_to"] = delegate
    play = [{"hosts": host, "gather_facts": False, "tasks": [body]}]
    return lab.write_playbook(f"{name}.yml", json.dumps(play))


def converge_cycle(lab, play, task, *, diff_contains=()):
    """check (changed, nothing written) -> apply (changed) -> again (unchanged). Returns the apply result."""
    before = lab.state()
    check = lab.playbook(play, "--check", "--diff")
    assert check.rc == 0, check.stdout + check.stderr
    assert check.task(task)["result"]["changed"] is True
    for text in diff_contains:
        assert text in check.stdout, check.stdout
    assert lab.state() == before
    applied = lab.playbook(play)
    assert applied.rc == 0, applied.stdout
    assert applied.task(task)["result"]["changed"] is True
    again = lab.playbook(play)
    assert again.rc == 0 and again.task(task)["result"]["changed"] is False, again.stdout
    return applied.task(task)["result"]


def test_local_group_member(lab):
    play = one_task(lab, "admins", "scp_hosts", "local_group_member", {"members": ["LAB\\CAS$", "lab\\svc-cminstall"]})
    result = converge_cycle(lab, play, "admins", diff_contains=["+LAB\\CAS$"])
    assert result["added"] == ["LAB\\CAS$", "lab\\svc-cminstall"]
    members = [m.lower() for m in administrators(lab.state(), "scp01.lab.example")]
    assert "lab\\cas$" in members and "lab\\svc-cminstall" in members

    remove = one_task(lab, "remove", "scp_hosts", "local_group_member", {"members": ["LAB\\CAS$"], "state": "absent"})
    result = converge_cycle(lab, remove, "remove", diff_contains=["-LAB\\CAS$"])
    assert result["removed"] == ["LAB\\CAS$"]
    assert "lab\\cas$" not in [m.lower() for m in administrators(lab.state(), "scp01.lab.example")]


def test_local_group_that_does_not_exist(lab):
    play = one_task(lab, "nogroup", "scp_hosts", "local_group_member", {"group": "No Such Group", "members": ["LAB\\CAS$"]})
    result = lab.playbook(play).task("nogroup")
    assert result["status"] == "failed" and "group No Such Group does not exist" in result["result"]["msg"]


def test_firewall_rule_compares_every_property(lab):
    args = {
        "name": "SCP-Out",
        "display_name": "SCP out",
        "direction": "outbound",
        "action": "allow",
        "protocol": "tcp",
        "remote_port": ["443"],
        "profiles": ["domain"],
    }
    play = one_task(lab, "rule", "scp_hosts", "firewall_rule", args)
    converge_cycle(lab, play, "rule", diff_contains=["+present: true"])
    rule = firewall_rule(lab.state(), "scp01.lab.example", "SCP-Out")
    assert (rule["direction"], rule["action"], rule["protocol"], rule["remote_port"]) == ("Outbound", "Allow", "TCP", ["443"])

    changed = one_task(lab, "rule2", "scp_hosts", "firewall_rule", {**args, "remote_port": ["443", "8443"], "enabled": False})
    result = converge_cycle(lab, changed, "rule2", diff_contains=["-enabled: true", "+enabled: false"])
    assert result["changes"] == ["enabled", "remote_port"]
    rule = firewall_rule(lab.state(), "scp01.lab.example", "SCP-Out")
    assert rule["remote_port"] == ["443", "8443"] and rule["enabled"] is False
    assert rule["display_name"] == "SCP out"

    gone = one_task(lab, "gone", "scp_hosts", "firewall_rule", {"name": "SCP-Out", "state": "absent"})
    converge_cycle(lab, gone, "gone")
    assert firewall_rule(lab.state(), "scp01.lab.example", "SCP-Out") is None


def test_sms_executive_restarts_one_thread_and_reports_the_states(lab):
    play = one_task(
        lab,
        "restart",
        "ps1.lab.example",
        "sms_executive",
        {"component": "SMS_DMP_DOWNLOADER", "state": "restarted", "poll_interval": 1, "wait_timeout": 60},
    )
    before = lab.state()
    check = lab.playbook(play, "--check")
    assert check.task("restart")["result"]["changed"] is True and lab.state() == before
    result = lab.playbook(play).task("restart")
    assert result["status"] == "ok", result
    assert result["result"]["states_seen"][0] == "Running" and result["result"]["states_seen"][-1] == "Running"
    assert "Stopped" in result["result"]["states_seen"]

    started = one_task(lab, "started", "ps1.lab.example", "sms_executive", {"component": "SMS_DMP_DOWNLOADER", "state": "started"})
    assert lab.playbook(started).task("started")["result"]["changed"] is False


def test_sms_executive_refuses_a_component_that_is_not_there(lab):
    play = one_task(lab, "nothread", "scp_hosts", "sms_executive", {"component": "SMS_DMP_DOWNLOADER", "state": "restarted"})
    result = lab.playbook(play).task("nothread")
    assert result["status"] == "failed"
    assert "SMS_EXECUTIVE service does not exist" in result["result"]["msg"] or "not a component" in result["result"]["msg"]


def test_cm_account_never_shows_its_password(lab):
    secret = "S3cr3t-'\"$(whoami)`n-\u00e9"
    play = one_task(lab, "account", "sms_provider", "cm_account", {"name": "LAB\\svc-cmproxy", "password": secret})
    before = lab.state()
    check = lab.playbook(play, "--check", "--diff", "-vvvvv")
    assert check.task("account")["result"]["changed"] is True and lab.state() == before
    applied = lab.playbook(play, "--diff", "-vvvvv")
    assert applied.rc == 0, applied.stdout
    assert applied.task("account")["result"]["password_updated"] is True
    again = lab.playbook(play)
    assert again.task("account")["result"]["changed"] is False
    for run in (check, applied, again):
        assert secret not in run.stdout and secret not in run.stderr
        assert "S3cr3t" not in json.dumps(run.results)
    assert "S3cr3t" not in json.dumps(lab.state())

    always = one_task(
        lab, "rotate", "sms_provider", "cm_account", {"name": "LAB\\svc-cmproxy", "password": "another-one", "update_password": "always"}
    )
    assert lab.playbook(always).task("rotate")["result"]["changed"] is True
    accounts = [a for h in lab.state()["hierarchies"].values() for a in h["accounts"] if a["user_name"] == "LAB\\svc-cmproxy"]
    assert accounts[0]["password_version"] == 2


def test_site_system_server_proxy(lab):
    # The site must be able to install on scp01, or its retries would change the lab during the check runs.
    admins = one_task(lab, "admins", "scp_hosts", "local_group_member", {"members": ["LAB\\CAS$"]})
    assert lab.playbook(admins).rc == 0
    setup = one_task(lab, "ss", "sms_provider", "site_system_server", {"site_system_server": "scp01.lab.example"})
    assert lab.playbook(setup).rc == 0
    lab.wait_until(lambda s: role_state(s, "scp01.lab.example", "SMS Site System") == "installed")
    accounts = one_task(lab, "acct", "sms_provider", "cm_account", {"name": "LAB\\svc-cmproxy", "password": "pw-proxy-1"})
    assert lab.playbook(accounts).rc == 0
    play = one_task(
        lab,
        "proxy",
        "sms_provider",
        "site_system_server",
        {
            "site_system_server": "scp01.lab.example",
            "proxy_server": "proxy.lab.example",
            "proxy_port": 3128,
            "proxy_account": "LAB\\svc-cmproxy",
        },
    )
    converge_cycle(lab, play, "proxy", diff_contains=["+proxy_server: proxy.lab.example", "+proxy_port: 3128"])
    proxy = site_system(lab.state(), "scp01.lab.example", "CAS")["proxy"]
    assert proxy == {"enabled": True, "server": "proxy.lab.example", "port": 3128, "account": "LAB\\svc-cmproxy"}

    port_only = one_task(
        lab,
        "port",
        "sms_provider",
        "site_system_server",
        {"site_system_server": "scp01.lab.example", "proxy_server": "proxy.lab.example", "proxy_port": 8080},
    )
    converge_cycle(lab, port_only, "port", diff_contains=["-proxy_port: 3128", "+proxy_port: 8080"])
    proxy = site_system(lab.state(), "scp01.lab.example", "CAS")["proxy"]
    assert proxy["port"] == 8080 and proxy["account"] == "LAB\\svc-cmproxy"  # kept, although the cmdlet resets it

    off = one_task(lab, "off", "sms_provider", "site_system_server", {"site_system_server": "scp01.lab.example", "enable_proxy": False})
    converge_cycle(lab, off, "off")
    assert site_system(lab.state(), "scp01.lab.example", "CAS")["proxy"]["enabled"] is False


def test_explicit_provider_credentials_work_and_never_show(lab):
    password = (lab.state_dir / "password").read_text().strip()
    play = one_task(
        lab,
        "info",
        "sms_provider",
        "service_connection_point_info",
        {
            "provider_server": "cas.lab.example",
            "provider_site_code": "CAS",
            "provider_username": lab.info["admin_user"],
            "provider_password": password,
        },
    )
    run = lab.playbook(play, "-vvvvv")
    result = run.task("info")
    assert result["status"] == "ok", result
    assert result["result"]["top_level_site"]["site_code"] == "CAS"
    assert password not in run.stdout and password not in run.stderr
    assert password not in json.dumps(run.results)

    # From another host the provider is remote, so the credentials are used (on the provider itself WMI
    # takes the session's own identity: local connections accept no credentials).
    wrong = one_task(
        lab,
        "wrong",
        "ps1.lab.example",
        "service_connection_point_info",
        {
            "provider_server": "cas.lab.example",
            "provider_site_code": "CAS",
            "provider_username": lab.info["admin_user"],
            "provider_password": "not-" + password,
        },
    )
    failed = lab.playbook(wrong).task("wrong")
    assert failed["status"] == "failed"
    assert "Could not connect to the SMS Provider" in failed["result"]["msg"]
    assert password not in json.dumps(failed)
