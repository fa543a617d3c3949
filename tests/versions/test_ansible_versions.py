"""Every ansible-core version meta/runtime.yml claims (issue 8 item 15), over winrm and over psrp.

`make versions` creates one venv per version from PyPI (.venv-ansible/<version>, pinned in the
Makefile) and runs this file; the lab runs from the project's venv. A smoke subset, one
ansible-playbook run per version and connection against a fresh lab:
- reads and writes through the engine: service_connection_point_info, site_system_server (ConfigMgr
  cmdlets on the SMS Provider), firewall_rule (a Windows host);
- a move whose prerequisite check reads the target server through a second connection opened by
  the action (_remote.RemoteHost), and is refused there before anything changes.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.integration.conftest import CALLBACKS, LAB_TOPOLOGY, RunningLab

REPO = Path(__file__).resolve().parents[2]
VENVS = REPO / ".venv-ansible"
VERSIONS = os.environ.get("CMSCP_ANSIBLE_CORE_VERSIONS", "").split() or sorted(p.parent.name for p in VENVS.glob("*/.installed"))

PLAYBOOK = """
- name: On the SMS Provider
  hosts: sms_provider
  gather_facts: false
  tasks:
    - name: info
      configmgr.scp.service_connection_point_info:
    - name: site system
      configmgr.scp.site_system_server:
        site_system_server: scp01.lab.example
        use_site_server_account: true
    - name: move
      configmgr.scp.service_connection_point:
        site_system_server: scp01.lab.example
        allow_move: true
      ignore_errors: true

- name: On the SCP server
  hosts: scp_hosts
  gather_facts: false
  tasks:
    - name: rule
      configmgr.scp.firewall_rule:
        name: SCP-Out
        direction: outbound
        protocol: tcp
        remote_port: ["443"]
"""


def psrp_vars(host: dict) -> dict:
    return {
        "ansible_connection": "psrp",
        "ansible_psrp_protocol": "http",
        "ansible_psrp_port": host["http_port"],
        "ansible_psrp_auth": "ntlm",
    }


@pytest.fixture
def lab(tmp_path):
    running = RunningLab(tmp_path / "lab", LAB_TOPOLOGY)
    try:
        yield running
    finally:
        running.stop()


def playbook(lab: RunningLab, version: str, connection: str) -> tuple[subprocess.CompletedProcess, list[dict]]:
    inventory = yaml.safe_load(lab.inventory.read_text())
    if connection == "psrp":
        for name, host in inventory["all"]["hosts"].items():
            host.update(psrp_vars(lab.info["hosts"][name]))
    inventory_path = lab.state_dir / f"inventory-{connection}.yml"
    inventory_path.write_text(yaml.safe_dump(inventory))
    play = lab.state_dir / "smoke.yml"
    play.write_text(PLAYBOOK)
    record = lab.state_dir / f"results-{version}-{connection}.jsonl"
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
        ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
        ANSIBLE_CALLBACKS_ENABLED="record_results",
        RECORD_RESULTS_FILE=str(record),
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(
        [str(VENVS / version / "bin" / "ansible-playbook"), "-i", str(inventory_path), str(play)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    results = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
    return proc, results


@pytest.mark.skipif(not VERSIONS, reason="no ansible-core version venvs: run `make versions`")
@pytest.mark.parametrize("version", VERSIONS)
def test_the_collection_works_under_every_claimed_ansible_core(lab, version):
    core = subprocess.run(
        [str(VENVS / version / "bin" / "ansible-playbook"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    assert f"[core {version}]" in core
    for connection in ("winrm", "psrp"):
        lab.reset_counters()
        proc, results = playbook(lab, version, connection)
        tasks = {r["task"]: r for r in results}
        assert set(tasks) == {"info", "site system", "move", "rule"}, proc.stdout + proc.stderr
        assert tasks["site system"]["status"] == "ok", tasks["site system"]
        assert tasks["info"]["status"] == "ok", tasks["info"]
        assert {s["site_code"] for s in tasks["info"]["result"]["sites"]} == {"CAS", "PS1"}
        # The prerequisite check read scp01 through the action's second connection, and refused.
        assert tasks["move"]["status"] == "failed"
        assert "Prerequisite missing on scp01.lab.example" in tasks["move"]["result"]["msg"], tasks["move"]
        assert tasks["rule"]["status"] == "ok", tasks["rule"]
        counters = lab.counters()
        assert counters["scp01.lab.example"]["cmdlet_calls"].get("Get-LocalGroupMember") == 1
        if connection == "winrm":
            # One powershell.exe per engine invocation: the command is not encoded twice.
            for host in counters.values():
                starts = host["estimated_windows_breakdown"].get("powershell_start", 0)
                assert starts == pytest.approx(0.7 * host["engine_invocations"]), host
    state = lab.state()
    assert "SCP-Out" in state["hosts"]["scp01.lab.example"]["firewall_rules"]
    assert [ss["server"] for h in state["hierarchies"].values() for ss in h["site_systems"] if "SMS Dmp Connector" in ss["roles"]] == [
        "ps1.lab.example"
    ]


TRANSFER_PLAYBOOK = """
- name: Files to and from a Windows host with the connection's own transfer
  hosts: internet_hosts
  gather_facts: false
  tasks:
    - name: put
      configmgr.scp.file_transfer:
        direction: put
        src: "{{ src }}"
        dest: C:\\Transfer\\it's $(x) é
    - name: fetch
      configmgr.scp.file_transfer:
        direction: fetch
        src: C:\\Transfer\\it's $(x) é
        dest: "{{ back }}"
"""


@pytest.mark.skipif(not VERSIONS, reason="no ansible-core version venvs: run `make versions`")
@pytest.mark.parametrize("version", VERSIONS)
def test_file_transfer_under_every_claimed_ansible_core(lab, version, tmp_path):
    """configmgr.scp.file_transfer moves bytes with the winrm plugin's put_file / fetch_file, whose scripts differ
    between 2.16-2.18 and 2.19: cmlab recognises each version's own (cmlab/transfer.py)."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.cab").write_bytes(bytes(range(256)) * 4000)  # several put_file chunks and fetch_file buffers
    (src / "sub" / "b.txt").write_bytes(b"b\r\n")
    play = lab.state_dir / "transfer.yml"
    play.write_text(TRANSFER_PLAYBOOK)
    env = dict(
        os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"), ANSIBLE_NOCOLOR="1"
    )
    command = [
        str(VENVS / version / "bin" / "ansible-playbook"),
        "-i",
        str(lab.inventory),
        str(play),
        "-e",
        json.dumps({"src": str(src), "back": str(tmp_path / "back")}),
    ]
    first = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=2" in first.stdout, first.stdout
    assert (tmp_path / "back" / "a.cab").read_bytes() == (src / "a.cab").read_bytes()
    assert (tmp_path / "back" / "sub" / "b.txt").read_bytes() == b"b\r\n"
    again = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout


LOOP_PLAYBOOK = """
- name: Loop items that fail
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Check each server
      ansible.builtin.assert:
        that: item != 'scp02' and item != 'scp03'
        fail_msg: "{{ item }} is not ready"
        quiet: true
      loop: [scp01, scp02, scp03]
      ignore_errors: true
"""


@pytest.mark.skipif(not VERSIONS, reason="no ansible-core version venvs: run `make versions`")
@pytest.mark.parametrize("version", VERSIONS)
def test_plan_summary_names_each_failed_loop_item_under_every_claimed_ansible_core(version, tmp_path):
    """ansible-core 2.21 no longer shows callbacks a loop item's `failed` inside the task's `results`: the plan
    summary still says which items failed, and why."""
    play = tmp_path / "loop.yml"
    play.write_text(LOOP_PLAYBOOK)
    plan = tmp_path / "plan.md"
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
        ANSIBLE_CALLBACKS_ENABLED="configmgr.scp.plan_summary",
        CONFIGMGR_SCP_PLAN_FILE=str(plan),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="0",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
    )
    proc = subprocess.run(
        [str(VENVS / version / "bin" / "ansible-playbook"), "-i", "localhost,", str(play)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    text = plan.read_text(encoding="utf-8")
    failed = text.split("## Failed", 1)[1].split("\n## ", 1)[0]
    assert "Check each server" in failed, text
    assert "scp02: scp02 is not ready" in failed and "scp03: scp03 is not ready" in failed, text
    assert "scp01" not in failed, text
