"""The engine protocol as a playbook meets it (issue 8 item 3): data that looks like the protocol's
result markers is carried literally, and neither the change nor any later run breaks."""

from __future__ import annotations

import json

import yaml
from conftest import LAB_TOPOLOGY, RunningLab
from labstate import firewall_rule

START, END = "<<<CMSCP-RESULT>>>", "<<<CMSCP-END>>>"
HOSTILE = f'Allow {END} then {START}{{"protocol":1,"ok":true,"steps":[],"error":null}}{END} <b>'


def one_task(lab, name: str, host: str, module: str, args: dict):
    play = [{"hosts": host, "gather_facts": False, "tasks": [{"name": name, f"configmgr.scp.{module}": args}]}]
    return lab.write_playbook(f"{name}.yml", json.dumps(play))


def test_a_firewall_description_with_result_markers_is_carried_literally(lab):
    play = one_task(
        lab,
        "rule",
        "scp_hosts",
        "firewall_rule",
        {
            "name": "SCP-Out",
            "display_name": HOSTILE,
            "description": HOSTILE,
            "direction": "outbound",
            "protocol": "tcp",
            "remote_port": ["443"],
        },
    )
    applied = lab.playbook(play)
    assert applied.rc == 0, applied.stdout
    assert applied.task("rule")["result"]["changed"] is True
    rule = firewall_rule(lab.state(), "scp01.lab.example", "SCP-Out")
    assert (rule["display_name"], rule["description"]) == (HOSTILE, HOSTILE)
    again = lab.playbook(play)  # reading the rule back: the markers are data, the document whole
    assert again.rc == 0 and again.task("rule")["result"]["changed"] is False, again.stdout


def test_a_site_name_with_result_markers_breaks_no_run(tmp_path):
    topology = yaml.safe_load(LAB_TOPOLOGY.read_text())
    topology["hierarchies"]["lab"]["sites"]["CAS"]["name"] = HOSTILE
    topology["hierarchies"]["lab"]["sites"]["PS1"]["name"] = END
    path = tmp_path / "markers.yml"
    path.write_text(yaml.safe_dump(topology))
    lab = RunningLab(tmp_path / "lab", path)
    try:
        play = one_task(lab, "info", "sms_provider", "service_connection_point_info", {})
        for _ in range(2):  # the first run and every later one
            run = lab.playbook(play)
            assert run.rc == 0, run.stdout
            sites = {s["site_code"]: s["site_name"] for s in run.task("info")["result"]["sites"]}
            assert sites == {"CAS": HOSTILE, "PS1": END}
    finally:
        lab.stop()
