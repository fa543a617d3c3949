"""The role's ergonomics (issue 11 item 4) through the real ansible-playbook: a missing required variable is
reported by the argument spec, and removing the SCP needs no server name."""

from __future__ import annotations

import shutil
from pathlib import Path

from labstate import scp_roles

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
REMOVE = REPO / "playbooks" / "remove.yml"


def bare_inventory(lab) -> Path:
    """The lab's inventory without its desired state: no service_connection_point_server anywhere (only the lab's
    quick polling, as the lab's own group_vars have it)."""
    directory = lab.state_dir / "bare"
    (directory / "group_vars").mkdir(parents=True, exist_ok=True)
    shutil.copy(lab.inventory, directory / "inventory.yml")
    (directory / "group_vars" / "all.yml").write_text(
        "service_connection_point_wait_timeout: 120\nservice_connection_point_poll_interval: 1\n"
    )
    return directory / "inventory.yml"


def test_a_missing_server_is_reported_by_the_argument_spec_before_anything_connects(lab):
    before = lab.state()
    lab.reset_counters()
    run = lab.playbook(SITE, inventory=bare_inventory(lab))
    assert run.rc != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    assert len(failed) == 1, run.stdout
    message = failed[0]["result"]["msg"]
    assert "missing required arguments: service_connection_point_server" in message, message
    assert "is undefined" not in run.stdout + run.stderr
    assert lab.requests_total() == 0
    assert lab.state() == before


def test_remove_needs_no_server_name(lab):
    assert scp_roles(lab.state()) == [("PS1", "ps1.lab.example")]
    run = lab.playbook(REMOVE, inventory=bare_inventory(lab))
    assert run.rc == 0, run.stdout + run.stderr
    assert scp_roles(lab.state()) == []
    again = lab.playbook(REMOVE, inventory=bare_inventory(lab))
    assert again.rc == 0 and again.changed == 0, again.stdout


def test_state_absent_through_the_role_needs_no_server_name(lab):
    play = lab.write_playbook(
        "absent.yml",
        """
- hosts: sms_provider
  gather_facts: false
  roles:
    - role: configmgr.scp.service_connection_point
      vars:
        service_connection_point_state: absent
        service_connection_point_wait: true
        service_connection_point_wait_timeout: 60
        service_connection_point_poll_interval: 1
""",
    )
    check = lab.playbook(play, "--check", inventory=bare_inventory(lab))
    assert check.rc == 0, check.stdout + check.stderr
    run = lab.playbook(play, inventory=bare_inventory(lab))
    assert run.rc == 0, run.stdout + run.stderr
    assert scp_roles(lab.state()) == []


def test_remove_with_the_site_system_removes_the_server_the_scp_was_on(lab):
    """Without a server name, scp_remove_site_system removes the server the SCP was removed from."""
    converge = lab.playbook(SITE)
    assert converge.rc == 0, converge.stdout
    run = lab.playbook(REMOVE, inventory=bare_inventory(lab), extra_vars={"scp_remove_site_system": True})
    assert run.rc == 0, run.stdout + run.stderr
    removed = run.task("Remove the site system server too")
    assert removed["result"]["before"]["site_system_server"] == "scp01.lab.example"
    assert removed["result"]["after"]["present"] is False
