"""playbooks/site.yml (the role) against the lab over the real winrm connection: converge, idempotence,
check mode, diff, and the refusal to move without allow_move."""

from __future__ import annotations

from pathlib import Path

from labstate import administrators, components_on, firewall_rule, role_state, scp_roles, scp_runtime

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
SCP_TASK = "service_connection_point : Install, move or remove the service connection point"


def test_converge_moves_the_scp_then_second_run_changes_nothing(lab):
    before = lab.state()
    assert scp_roles(before) == [("PS1", "ps1.lab.example")]
    assert "LAB\\CAS$" not in administrators(before, "scp01.lab.example")

    first = lab.playbook(SITE)
    assert first.rc == 0, first.stdout + first.stderr
    moved = first.task(SCP_TASK)["result"]
    assert moved["before"]["site_system_server"] == "ps1.lab.example"
    assert moved["after"] == {"present": True, "site_code": "CAS", "site_system_server": "scp01.lab.example", "mode": "online"}
    assert moved["actions"] == [
        "remove the service connection point from ps1.lab.example (site PS1)",
        "add the service connection point on scp01.lab.example (site CAS, online)",
    ]

    state = lab.state()
    assert scp_roles(state) == [("CAS", "scp01.lab.example")]
    assert role_state(state, "scp01.lab.example") == "installed"
    assert components_on(state, "scp01.lab.example") == {
        "SMS_DMP_DOWNLOADER": "STARTED",
        "SMS_DMP_UPLOADER": "STARTED",
        "SMS_SERVICE_CONNECTOR": "STARTED",
    }
    assert not any(c.startswith("SMS_DMP") for c in components_on(state, "ps1.lab.example"))
    assert "LAB\\CAS$" in administrators(state, "scp01.lab.example")
    rule = firewall_rule(state, "scp01.lab.example", "ConfigMgr-SCP-HTTPS-Out")
    assert rule["direction"] == "Outbound" and rule["remote_port"] == ["443"] and rule["protocol"] == "TCP"
    assert scp_runtime(state, "scp01.lab.example")["effective_mode"] == "Online"

    second = lab.playbook(SITE)
    assert second.rc == 0, second.stdout
    assert second.changed == 0, second.stdout
    assert lab.state() == state


def test_check_mode_reports_the_plan_and_writes_nothing(lab):
    before = lab.state()
    run = lab.playbook(SITE, "--check")
    assert run.rc == 0, run.stdout + run.stderr
    changed = [r["task"] for r in run.results if r["result"].get("changed")]
    assert SCP_TASK in changed
    assert "service_connection_point : Let the site install roles on the SCP server (local Administrators)" in changed
    assert "service_connection_point : Open outbound TCP 443 on the SCP server" in changed
    assert lab.state() == before


def test_diff_shows_the_scp_moving(lab):
    run = lab.playbook(SITE, "--check", "--diff")
    assert run.rc == 0, run.stdout
    assert "-site_system_server: ps1.lab.example" in run.stdout
    assert "+site_system_server: scp01.lab.example" in run.stdout
    assert "-site_code: PS1" in run.stdout and "+site_code: CAS" in run.stdout
    assert "+LAB\\CAS$" in run.stdout


def test_without_allow_move_it_fails_and_names_the_current_server(lab):
    before = lab.state()
    run = lab.playbook(SITE, extra_vars={"service_connection_point_allow_move": False})
    assert run.rc != 0
    failed = run.task(SCP_TASK)
    assert failed["status"] == "failed"
    assert "ps1.lab.example (site PS1)" in failed["result"]["msg"]
    assert scp_roles(lab.state()) == scp_roles(before)


def test_plan_summary_for_a_pull_request(lab):
    plan = lab.state_dir / "plan.md"
    run = lab.playbook(
        SITE,
        "--check",
        "--diff",
        env={"ANSIBLE_CALLBACKS_ENABLED": "record_results,configmgr.scp.plan_summary", "CONFIGMGR_SCP_PLAN_FILE": str(plan)},
    )
    assert run.rc == 0, run.stdout
    text = plan.read_text()
    assert "# configmgr.scp plan" in text
    assert "- remove the service connection point from ps1.lab.example (site PS1)" in text
    assert "- add the service connection point on scp01.lab.example (site CAS, online)" in text
    assert "+site_system_server: scp01.lab.example" in text
    assert "(cas.lab.example → scp01.lab.example)" in text  # delegated tasks name their target
    assert "| cas.lab.example |" in text
