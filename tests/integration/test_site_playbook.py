"""playbooks/site.yml against the lab, over the real winrm connection: converge, idempotence, check, diff."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"


def scp_roles(state: dict) -> list[tuple[str, str]]:
    """(site code, server) of every SCP role in a state dump."""
    return [(ss["site_code"], ss["server"]) for h in state["hierarchies"].values()
            for ss in h["site_systems"] if "SMS Dmp Connector" in ss["roles"]]


def test_converge_moves_the_scp_then_second_run_changes_nothing(lab):
    assert scp_roles(lab.state()) == [("PS1", "ps1.lab.example")]

    first = lab.playbook(SITE)
    assert first.rc == 0, first.stdout + first.stderr
    assert first.changed == 2
    moved = first.task("Install or move the service connection point")["result"]
    assert moved["before"]["site_system_server"] == "ps1.lab.example"
    assert moved["after"] == {"present": True, "site_code": "CAS", "site_system_server": "scp01.lab.example", "mode": "online"}
    assert scp_roles(lab.state()) == [("CAS", "scp01.lab.example")]

    second = lab.playbook(SITE)
    assert second.rc == 0, second.stdout
    assert second.changed == 0
    assert all(not r["result"].get("changed") for r in second.results)


def test_check_mode_reports_changes_and_writes_nothing(lab):
    before = lab.state()
    run = lab.playbook(SITE, "--check")
    assert run.rc == 0, run.stdout + run.stderr
    assert run.changed == 2
    assert lab.state() == before


def test_diff_shows_the_scp_moving(lab):
    run = lab.playbook(SITE, "--check", "--diff")
    assert run.rc == 0, run.stdout
    assert "-site_system_server: ps1.lab.example" in run.stdout
    assert "+site_system_server: scp01.lab.example" in run.stdout
    assert "-site_code: PS1" in run.stdout and "+site_code: CAS" in run.stdout


def test_without_allow_move_it_fails_and_names_the_current_server(lab):
    before = lab.state()
    run = lab.playbook(SITE, extra_vars={"scp_allow_move": False})
    assert run.rc != 0
    failed = run.task("Install or move the service connection point")
    assert failed["status"] == "failed"
    assert "ps1.lab.example (site PS1)" in failed["result"]["msg"]
    assert scp_roles(lab.state()) == scp_roles(before)
