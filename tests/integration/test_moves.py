"""Moves under concurrency and failure (issue 12; issue 8 items 7, 9, 11), with the real ansible-playbook over
WinRM against labs whose SMS Provider accepts a second SCP (`refuse_second_scp: false`): only the collection
keeps the hierarchy at one.

- two moves toward different servers, at the same time or one while the other waits for the uninstall: one
  SCP at the end, and the loser names the lease holder;
- a killed controller: a run from the same controller takes its lease over at once, a lease of another
  controller once it expires, or with break_lease, which says so;
- a de-install that fails ends the wait early with the lines of the old site's sitecomp.log;
- an interrupted move says that the hierarchy has no SCP right now;
- the prerequisite check looks at the right host and at the account the site really uses.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
import winrm
import yaml
from conftest import ANSIBLE_PLAYBOOK, CALLBACKS, LAB_TOPOLOGY, REPO, PlaybookRun, RunningLab
from labstate import components_on, role_state, scp_roles

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan
from tests.winrm_plan import run_plan_over

LEASE = "HKLM:\\SOFTWARE\\configmgr.scp\\Leases\\ServiceConnectionPoint-CAS"
MOVE = REPO / "playbooks" / "move.yml"
SCP_TASK = "service_connection_point : Install, move or remove the service connection point"

# One task: move the SCP to {server}. The site system and the admin right are made by `prepare`.
MOVE_TO = """
- hosts: sms_provider
  gather_facts: false
  tasks:
    - name: move
      configmgr.scp.service_connection_point:
        site_system_server: {server}
        allow_move: true
        wait: true
        wait_timeout: 60
        poll_interval: 1
        break_lease: {break_lease}
"""
PREPARE = """
- hosts: scp_hosts
  gather_facts: false
  tasks:
    - name: admins
      configmgr.scp.local_group_member:
        members: ['LAB\\CAS$']
- hosts: sms_provider
  gather_facts: false
  tasks:
    - name: site system
      configmgr.scp.site_system_server:
        site_system_server: scp01.lab.example
"""


def relaxed_lab(tmp_path: Path, edit=None) -> RunningLab:
    """The default lab with the second-SCP refusal off (and `edit` applied to the topology)."""
    topology = yaml.safe_load(LAB_TOPOLOGY.read_text())
    topology["hierarchies"]["lab"]["refuse_second_scp"] = False
    if edit:
        edit(topology)
    path = tmp_path / "topology.yml"
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return RunningLab(tmp_path / "lab", path)


@pytest.fixture
def lab(tmp_path):
    running = relaxed_lab(tmp_path, lambda t: t["configmgr"].update(uninstall_delay_seconds=4))
    try:
        yield running
    finally:
        running.stop()


def move_play(lab: RunningLab, server: str, break_lease: bool = False) -> Path:
    return lab.write_playbook(f"move-{server}-{break_lease}.yml", MOVE_TO.format(server=server, break_lease=str(break_lease).lower()))


class Background:
    """ansible-playbook running in its own process group (so that a test can kill all of it)."""

    def __init__(self, lab: RunningLab, playbook: Path):
        self.record = lab.state_dir / f"bg-{time.monotonic_ns()}.jsonl"
        env = {
            **os.environ,
            "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
            "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
            "ANSIBLE_CALLBACKS_ENABLED": "record_results",
            "ANSIBLE_NOCOLOR": "1",
            "RECORD_RESULTS_FILE": str(self.record),
        }
        self.proc = subprocess.Popen(
            [ANSIBLE_PLAYBOOK, "-i", str(lab.inventory), str(playbook)],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )

    def wait(self, timeout: float = 240) -> PlaybookRun:
        out, err = self.proc.communicate(timeout=timeout)
        results = [json.loads(line) for line in self.record.read_text().splitlines()] if self.record.exists() else []
        return PlaybookRun(self.proc.returncode, out, err, results)

    def kill_main(self) -> None:
        """SIGKILL of ansible-playbook's main process only: its worker runs on (in a session of its own)."""
        self.proc.kill()
        self.proc.communicate(timeout=30)

    def crash(self) -> None:
        """SIGKILL of ansible-playbook and every process it started, as a controller that crashed."""
        family = descendants(self.proc.pid)
        for pid in [self.proc.pid, *family]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.communicate(timeout=30)


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        children = [child for child, parent in parents.items() if parent == current]
        found += children
        todo += children
    return found


def scp_servers(state: dict) -> set[str]:
    """Servers with SCP components (installed, installing or de-installing) or an SCP in the site control."""
    servers = {server for _site, server in scp_roles(state)}
    for host in state["hosts"]:
        if any(c.startswith("SMS_DMP") or c == "SMS_SERVICE_CONNECTOR" for c in components_on(state, host)):
            servers.add(host)
    return servers


def deinstalling(state: dict) -> bool:
    return scp_roles(state) == [] and bool(components_on(state, "ps1.lab.example"))


def registry_plan(lab: RunningLab, plan: Plan):
    info = lab.info["hosts"]["cas.lab.example"]
    protocol = winrm.Protocol(
        f"http://{info['address']}:{info['http_port']}/wsman",
        transport="ntlm",
        username=lab.info["admin_user"],
        password=(lab.state_dir / "password").read_text().strip(),
    )
    return run_plan_over(protocol, plan)


def lease_holders(lab: RunningLab) -> list[dict]:
    plan = Plan()
    plan.add(
        "holders",
        "Get-ItemProperty",
        {"Path": f"{LEASE}\\*"},
        select={"RunId": None, "Controller": None, "Expires": None, "PSChildName": None},
        on_error="continue",
    )
    return registry_plan(lab, plan).output("holders")


def set_lease_value(lab: RunningLab, run_id: str, name: str, value: str) -> None:
    plan = Plan()
    plan.add("set", "Set-ItemProperty", {"LiteralPath": f"{LEASE}\\{run_id}", "Name": name, "Value": value})
    registry_plan(lab, plan)


# -- two moves at once ---------------------------------------------------------------------------------


def test_two_simultaneous_moves_to_different_servers_leave_one_scp_and_the_loser_names_the_holder(lab):
    assert lab.playbook(lab.write_playbook("prepare.yml", PREPARE)).rc == 0
    runs = [Background(lab, move_play(lab, "scp01.lab.example")), Background(lab, move_play(lab, "cas.lab.example"))]
    done = [r.wait() for r in runs]
    results = [d.task("move") for d in done]
    winners = [r for r in results if r["status"] == "ok"]
    losers = [r for r in results if r["status"] == "failed"]
    assert len(winners) == 1 and len(losers) == 1, [r["result"].get("msg") for r in results]
    msg = losers[0]["result"]["msg"]
    winner_target = winners[0]["result"]["after"]["site_system_server"]
    assert "Another run holds the move lease of the service connection point: run " in msg
    assert f"to {winner_target}" in msg and ", since 20" in msg and "This task changed nothing" in msg
    assert winners[0]["result"]["lease"]["run_id"] in msg
    assert losers[0]["result"]["changed"] is False
    state = lab.wait_until(lambda s: len(scp_servers(s)) == 1)
    assert scp_roles(state) == [("CAS", winner_target)]
    assert lease_holders(lab) == []  # released


def test_a_move_that_reads_while_another_uninstalls_the_old_scp_fails_at_once_naming_the_holder(lab):
    assert lab.playbook(lab.write_playbook("prepare.yml", PREPARE)).rc == 0
    first = Background(lab, move_play(lab, "scp01.lab.example"))
    lab.wait_until(deinstalling, timeout=60)  # ps1 removed from the site control, still uninstalling
    second = lab.playbook(move_play(lab, "cas.lab.example"))
    result = second.task("move")
    assert result["status"] == "failed" and result["result"]["changed"] is False
    assert "Another run holds the move lease" in result["result"]["msg"]
    assert "from ps1.lab.example to scp01.lab.example" in result["result"]["msg"]
    assert "progress" not in result["result"]  # it never waited: it failed at once
    assert first.wait().task("move")["status"] == "ok"
    state = lab.wait_until(lambda s: role_state(s, "scp01.lab.example") == "installed")
    assert scp_roles(state) == [("CAS", "scp01.lab.example")] and scp_servers(state) == {"scp01.lab.example"}


# -- a killed controller ---------------------------------------------------------------------------------


def test_a_killed_ansible_playbook_whose_worker_goes_on_keeps_its_lease_and_a_crashed_ones_is_taken_over(lab):
    assert lab.playbook(lab.write_playbook("prepare.yml", PREPARE)).rc == 0
    # SIGKILL of the main process: its worker goes on moving the SCP and renewing the lease (issue 12).
    orphan = Background(lab, move_play(lab, "scp01.lab.example"))
    lab.wait_until(deinstalling, timeout=60)
    orphan.kill_main()
    refused = lab.playbook(move_play(lab, "cas.lab.example")).task("move")
    assert refused["status"] == "failed" and "Another run holds the move lease" in refused["result"]["msg"]
    assert "to scp01.lab.example" in refused["result"]["msg"]
    state = lab.wait_until(lambda s: role_state(s, "scp01.lab.example") == "installed" and not lease_holders(lab), timeout=60)
    assert scp_servers(state) == {"scp01.lab.example"}

    # The whole controller crashes: its lease stays, and the next run from this controller takes it over at once.
    crashed = Background(lab, move_play(lab, "cas.lab.example"))
    lab.wait_until(lambda s: scp_roles(s) == [] and bool(components_on(s, "scp01.lab.example")), timeout=60)
    crashed.crash()
    [holder] = lease_holders(lab)
    back = lab.playbook(move_play(lab, "cas.lab.example")).task("move")
    assert back["status"] == "ok", back["result"].get("msg")
    assert back["result"]["lease"]["taken_over"].startswith(f"run {holder['RunId']} of ")
    assert any("its run has ended" in w for w in back["result"]["warnings"])
    assert lease_holders(lab) == []
    assert lab.wait_until(lambda s: scp_servers(s) == {"cas.lab.example"})


def plant_lease(lab: RunningLab, run_id: str, controller: str, expires: str) -> None:
    """A lease as a run on another controller leaves it."""
    plan = Plan()
    plan.add("lease", "New-Item", {"Path": [LEASE]}, on_error="continue")
    plan.add("holder", "New-Item", {"Path": [f"{LEASE}\\{run_id}"]})
    for name, value in {
        "RunId": run_id,
        "Controller": controller,
        "User": "ci",
        "Process": "7",
        "Source": "ps1.lab.example",
        "Target": "cas.lab.example",
        "Since": "2026-01-01T00:00:00Z",
        "Expires": expires,
    }.items():
        plan.add(f"v_{name}", "Set-ItemProperty", {"LiteralPath": f"{LEASE}\\{run_id}", "Name": name, "Value": value})
    registry_plan(lab, plan)


def test_another_controllers_lease_holds_until_it_expires_or_break_lease_takes_it_over(lab):
    assert lab.playbook(lab.write_playbook("prepare.yml", PREPARE)).rc == 0
    root = Plan()
    root.add("root", "New-Item", {"Path": ["HKLM:\\SOFTWARE\\configmgr.scp"]})
    root.add("leases", "New-Item", {"Path": ["HKLM:\\SOFTWARE\\configmgr.scp\\Leases"]})
    registry_plan(lab, root)
    plant_lease(lab, "aaaaaaaaaaaa", "build-agent-7.example", "2999-01-01T00:00:00Z")
    refused = lab.playbook(move_play(lab, "scp01.lab.example")).task("move")
    assert refused["status"] == "failed" and refused["result"]["changed"] is False
    assert (
        "run aaaaaaaaaaaa of ci on build-agent-7.example (process 7), since 2026-01-01T00:00:00Z, moving the service "
        "connection point from ps1.lab.example to cas.lab.example"
    ) in refused["result"]["msg"]
    assert scp_roles(lab.state()) == [("PS1", "ps1.lab.example")]

    set_lease_value(lab, "aaaaaaaaaaaa", "Expires", "2020-01-01T00:00:00Z")  # its time has come
    moved = lab.playbook(move_play(lab, "scp01.lab.example")).task("move")
    assert moved["status"] == "ok", moved["result"].get("msg")
    assert any("Took over the move lease" in w and "it expired at 2020-01-01T00:00:00Z" in w for w in moved["result"]["warnings"])
    assert lease_holders(lab) == []

    plant_lease(lab, "bbbbbbbbbbbb", "build-agent-7.example", "2999-01-01T00:00:00Z")
    assert lab.playbook(move_play(lab, "cas.lab.example")).task("move")["status"] == "failed"
    broken = lab.playbook(move_play(lab, "cas.lab.example", break_lease=True)).task("move")
    assert broken["status"] == "ok", broken["result"].get("msg")
    assert broken["result"]["lease"]["taken_over"].startswith("run bbbbbbbbbbbb of ci on build-agent-7.example")
    assert any("(break_lease)" in w for w in broken["result"]["warnings"])
    assert lease_holders(lab) == []
    assert lab.wait_until(lambda s: scp_servers(s) == {"cas.lab.example"})


# -- the old server watched ----------------------------------------------------------------------------------


def test_a_failing_deinstall_ends_the_wait_early_with_the_old_sites_sitecomp_lines(tmp_path):
    def old_scp_on_a_member_server(topology):
        # The SCP of PS1 sits on scp01, a site system of PS1: its de-install is logged on ps1, PS1's site server.
        topology["hierarchies"]["lab"]["site_systems"] = [
            {"site": "PS1", "server": "scp01.lab.example", "roles": [{"name": "SMS Dmp Connector", "mode": "Online"}]}
        ]
        topology["hosts"]["scp01.lab.example"]["local_group_members"] = {"Administrators": ["LAB\\PS1$"]}

    lab = relaxed_lab(tmp_path, old_scp_on_a_member_server)
    try:
        lab.add_fault("host_down", host="scp01.lab.example")  # Site Component Manager cannot reach it
        to_cas = {"service_connection_point_server": "cas.lab.example", "service_connection_point_host": "cas.lab.example"}
        run = lab.playbook(MOVE, extra_vars=to_cas)
        result = run.task(SCP_TASK)["result"]
        assert run.task(SCP_TASK)["status"] == "failed"
        msg = result["msg"]
        assert msg.startswith(
            "Site Component Manager of site PS1 on ps1.lab.example could not uninstall the service "
            "connection point from scp01.lab.example: ERROR: Cannot connect to server scp01.lab.example "
            "to deinstall SMS Dmp Connector: the server cannot be reached"
        )
        assert "did not uninstall" not in msg  # not the timeout: the failure read in the log
        assert "the hierarchy has no service connection point right now" in msg
        assert "Not done: add the service connection point on cas.lab.example" in msg
        assert any(
            "Failed to deinstall SMS Dmp Connector from server scp01.lab.example" in line
            for line in result["progress"]["scp01.lab.example"]["sitecomp_log"]
        )

        lab.clear_faults()
        rerun = lab.playbook(MOVE, extra_vars=to_cas)
        assert rerun.rc == 0, rerun.stdout
        assert scp_roles(lab.state()) == [("CAS", "cas.lab.example")]
        assert lab.playbook(MOVE, extra_vars=to_cas).changed == 0
    finally:
        lab.stop()


# -- an interrupted move says where the SCP is (8.9) ----------------------------------------------------------


def test_a_move_cut_after_the_removal_says_the_hierarchy_has_no_scp_and_a_rerun_finishes_it(lab):
    assert lab.playbook(lab.write_playbook("prepare.yml", PREPARE)).rc == 0
    # The 3rd engine invocation on cas is the removal (read, take the lease, remove): its answer is lost.
    lab.add_fault("wsman_fault", host="cas.lab.example", at_command=3, phase="after")
    result = lab.playbook(move_play(lab, "scp01.lab.example")).task("move")
    assert result["status"] == "failed" and result["result"]["changed"] is True
    msg = result["result"]["msg"]
    assert msg.startswith(
        "cas.lab.example could not be reached: the WinRM service answered with a WS-Management fault, "
        "while reading the result (the plan may have run). Step: remove the service connection point "
        "from ps1.lab.example (site PS1)"
    )
    assert "Already done: remove the service connection point from ps1.lab.example (site PS1)." in msg
    assert "Not done: add the service connection point on scp01.lab.example (site CAS, online)." in msg
    assert (
        "A fresh read shows: the hierarchy has no service connection point right now (the move to "
        "scp01.lab.example is not finished). Run the task again to finish"
    ) in msg
    assert result["result"]["transport_failure"]["plan_ran"] is None
    rerun = lab.playbook(move_play(lab, "scp01.lab.example")).task("move")
    assert rerun["status"] == "ok", rerun["result"].get("msg")
    assert scp_roles(lab.state()) == [("CAS", "scp01.lab.example")]


# -- the prerequisite check (8.7, 8.11) -----------------------------------------------------------------------


def test_scp_host_must_be_the_scp_server(lab):
    assert lab.playbook(lab.write_playbook("prepare.yml", PREPARE)).rc == 0
    before = lab.state()
    play = lab.write_playbook(
        "wrong-host.yml",
        MOVE_TO.format(server="scp01.lab.example", break_lease="false").replace("break_lease: false", "scp_host: ps1.lab.example"),
    )
    for args in ((), ("--check",)):
        result = lab.playbook(play, *args).task("move")
        assert result["status"] == "failed"
        assert result["result"]["msg"].startswith("scp_host ps1.lab.example is ps1.lab.example, not site_system_server scp01.lab.example")
    assert scp_roles(lab.state()) == scp_roles(before) == [("PS1", "ps1.lab.example")]


INSTALLATION_ACCOUNT = """
- hosts: sms_provider
  gather_facts: false
  tasks:
    - name: account
      configmgr.scp.cm_account:
        name: LAB\\svc-cminstall
        password: "{{{{ lookup('ansible.builtin.file', inventory_dir ~ '/password') }}}}"
      no_log: true
    - name: site system
      configmgr.scp.site_system_server:
        site_system_server: scp01.lab.example
        installation_account: LAB\\svc-cminstall
- hosts: scp_hosts
  gather_facts: false
  tasks:
    - name: admins
      configmgr.scp.local_group_member:
        members: [{admins}]
"""


def test_the_check_is_of_the_installation_account_the_site_uses_through_domain_groups(tmp_path):
    def installers_group(topology):
        topology["domain"]["users"] = [u for u in topology["domain"]["users"] if u != "svc-cminstall"]
        topology["domain"]["users"].append({"name": "svc-cminstall", "groups": ["CM Installers"]})

    lab = relaxed_lab(tmp_path, installers_group)
    try:
        # The computer account is an administrator, the installation account the site will use is not: refused.
        assert lab.playbook(lab.write_playbook("acct.yml", INSTALLATION_ACCOUNT.format(admins="'LAB\\CAS$'"))).rc == 0
        refused = lab.playbook(move_play(lab, "scp01.lab.example")).task("move")
        assert refused["status"] == "failed"
        assert refused["result"]["msg"].startswith(
            "Prerequisite missing on scp01.lab.example: LAB\\svc-cminstall (the "
            "site system installation account) is not a member of the local "
            "Administrators group"
        )
        assert scp_roles(lab.state()) == [("PS1", "ps1.lab.example")]

        # An administrator through the domain group CM Installers: accepted, and the role installs.
        assert lab.playbook(lab.write_playbook("grp.yml", INSTALLATION_ACCOUNT.format(admins="'LAB\\CM Installers'"))).rc == 0
        moved = lab.playbook(move_play(lab, "scp01.lab.example")).task("move")
        assert moved["status"] == "ok", moved["result"].get("msg")
        assert role_state(lab.state(), "scp01.lab.example") == "installed"
    finally:
        lab.stop()
