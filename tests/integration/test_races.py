"""Races converge (issue 12 item 4): a create that finds its object there already, after a read that said it was
not, is the desired state reached - another run made it in between. (local_group_member adds member by member and
already takes "already a member" as reached: tests/integration/test_hardening.py.) Each case holds the first run's write
request in the lab (a `delay` fault on its second command) while a second run reads and creates, then lets it go."""

from __future__ import annotations

import json
import time

import pytest
from test_moves import Background

CASES = {
    "site_system_server": ("sms_provider", "cas.lab.example", {"site_system_server": "scp01.lab.example"}),
    "cm_account": ("sms_provider", "cas.lab.example", {"name": "LAB\\svc-cmproxy", "password": "Race-Pass-1!"}),
    "firewall_rule": (
        "scp_hosts",
        "scp01.lab.example",
        {"name": "SCP-Out", "direction": "outbound", "protocol": "tcp", "remote_port": ["443"]},
    ),
}


@pytest.mark.parametrize("module", sorted(CASES))
def test_a_create_that_another_run_made_first_converges(lab, module):
    hosts, host, args = CASES[module]
    play = lab.write_playbook(
        "race.yml", json.dumps([{"hosts": hosts, "gather_facts": False, "tasks": [{"name": "race", f"configmgr.scp.{module}": args}]}])
    )
    lab.add_fault("delay", host=host, at_command=2, phase="before", seconds=5)  # the first run's write waits
    first = Background(lab, play)
    deadline = time.monotonic() + 60
    while lab._control("GET", "/faults"):  # struck (and so gone): the write is being held
        assert time.monotonic() < deadline and first.proc.poll() is None, "the first run never wrote"
        time.sleep(0.2)
    second = lab.playbook(play).task("race")  # reads and creates while the first one's write waits
    assert second["status"] == "ok" and second["result"]["changed"] is True
    late = first.wait().task("race")
    assert late["status"] == "ok", late["result"].get("msg")
    assert late["result"]["changed"] is False
    assert any("another run" in w for w in late["result"].get("warnings", [])), late["result"]
    assert lab.playbook(play).task("race")["result"]["changed"] is False
