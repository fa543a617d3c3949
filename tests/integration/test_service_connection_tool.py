"""configmgr.scp.service_connection_tool, service_connection_tool_info and file_transfer against the lab, over
WinRM: an offline hierarchy through prepare -> connect -> import, and each documented failure in words."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import LAB_TOPOLOGY, RunningLab

SCP = "scp01.lab.example"
INET = "inet01.lab.example"
TOOL = "C:\\Tools\\ServiceConnectionTool"
CD_LATEST = ("C:\\Program Files\\Microsoft Configuration Manager\\CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool")
NETFX = "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319"


def offline_topology(tmp_path: Path, *, mode: str = "Offline", tool: bool = True, change=None) -> Path:
    """The default lab, its SCP already on scp01 at the top-level site (CAS) in `mode`, with (`tool`) the tool
    copied to scp01 (it is no site server)."""
    topology = yaml.safe_load(LAB_TOPOLOGY.read_text())
    topology["hierarchies"]["lab"]["site_systems"] = [
        {"site": "CAS", "server": SCP, "roles": [{"name": "SMS Dmp Connector", "mode": mode}]}]
    if tool:
        topology["hosts"][SCP]["service_connection_tool"] = TOOL
    topology["hosts"][SCP]["local_group_members"] = {"Administrators": ["LAB\\CAS$"]}
    if change:
        change(topology)
    path = tmp_path / "offline.yml"
    path.write_text(yaml.safe_dump(topology))
    return path


@pytest.fixture
def offline_lab(tmp_path):
    running = RunningLab(tmp_path / "lab", offline_topology(tmp_path))
    try:
        yield running
    finally:
        running.stop()


def play(lab: RunningLab, name: str, tasks: list[dict], hosts: str = "localhost") -> Path:
    return lab.write_playbook(f"{name}.yml", json.dumps([{"hosts": hosts, "gather_facts": False, "tasks": tasks}]))


def sct(name: str, host: str, **args) -> dict:
    return {"name": name, "configmgr.scp.service_connection_tool": args, "delegate_to": host}


PREPARE = {"action": "prepare", "tool_path": TOOL, "usage_data_dest": "C:\\Windows\\Temp\\UsageData.cab",
           "provider_host": "cas.lab.example"}


def test_prepare_runs_the_tool_on_the_scp_server(offline_lab):
    lab = offline_lab
    before = lab.state()
    path = play(lab, "prepare", [sct("prepare", SCP, **PREPARE)])
    check = lab.playbook(path, "--check")
    result = check.task("prepare")["result"]
    assert result["changed"] is True and result["ran"] is False, result
    assert result["command"] == [f"{TOOL}\\ServiceConnectionTool.exe", "-prepare", "-usagedatadest",
                                 "C:\\Windows\\Temp\\UsageData.cab"]
    assert lab.state() == before
    run = lab.playbook(path)
    result = run.task("prepare")["result"]
    assert run.rc == 0, run.stdout
    assert result["rc"] == 0 and result["ran"] is True and result["scp_mode"] == "offline"
    assert any("Usage data saved to C:\\Windows\\Temp\\UsageData.cab" in line for line in result["tool_log"]), result
    assert "C:\\Windows\\Temp\\UsageData.cab" in lab.state()["hosts"][SCP]["files"]


def transfer(name: str, host: str, **args) -> dict:
    return {"name": name, "configmgr.scp.file_transfer": args, "delegate_to": host}


def test_file_transfer_round_trip_is_idempotent(offline_lab, tmp_path):
    lab = offline_lab
    tree = tmp_path / "tree"
    (tree / "sub dir").mkdir(parents=True)
    (tree / "a.cab").write_bytes(bytes(range(256)) * 100)
    (tree / "sub dir" / "it's $(x) `n \u00e9.txt").write_bytes(b"hello\r\n")
    back = tmp_path / "back"
    tasks = [transfer("put", INET, direction="put", src=str(tree), dest="C:\\Trans fer\\tree"),
             transfer("fetch", INET, direction="fetch", src="C:\\Trans fer\\tree", dest=str(back))]
    path = play(lab, "transfer", tasks)
    before = lab.state()
    check = lab.playbook(path, "--check")
    assert check.task("put")["result"].get("transferred") == ["a.cab", "sub dir/it's $(x) `n \u00e9.txt"], check.stdout
    assert lab.state() == before
    first = lab.playbook(path)
    assert first.rc == 0, first.stdout
    assert first.task("put")["result"]["changed"] and first.task("fetch")["result"]["changed"]
    assert (back / "a.cab").read_bytes() == (tree / "a.cab").read_bytes()
    assert (back / "sub dir" / "it's $(x) `n \u00e9.txt").read_bytes() == b"hello\r\n"
    files = lab.state()["hosts"][INET]["files"]
    assert "C:\\Trans fer\\tree\\sub dir\\it's $(x) `n \u00e9.txt" in files
    again = lab.playbook(path)
    assert not again.task("put")["result"]["changed"] and not again.task("fetch")["result"]["changed"]
    assert again.task("put")["result"]["transferred"] == []


def test_usage_data_level(lab):
    """Converge, unchanged, check mode writes nothing, diff (the default lab: Enhanced, docs/configmgr-behaviour.md#usage-data-level)."""
    path = lab.write_playbook("level.yml", json.dumps([{"hosts": "sms_provider", "gather_facts": False, "tasks": [
        {"name": "level", "configmgr.scp.usage_data": {"level": "basic"}}]}]))
    before = lab.state()
    check = lab.playbook(path, "--check", "--diff")
    result = check.task("level")["result"]
    assert result["changed"] is True and result["before"] == {"level": "enhanced"} and result["after"] == {"level": "basic"}
    assert "-level: enhanced" in check.stdout and "+level: basic" in check.stdout
    assert lab.state() == before
    lab.reset_counters()
    applied = lab.playbook(path, "--diff")
    assert applied.rc == 0, applied.stdout
    assert applied.task("level")["result"]["after"] == {"level": "basic"}
    assert lab.state()["hierarchies"]["lab"]["telemetry_level"] == "Basic"
    assert lab.counters()["cas.lab.example"]["cmdlet_calls"].get("Set-CMHierarchySetting") == 1
    lab.reset_counters()
    again = lab.playbook(path)
    assert again.task("level")["result"]["changed"] is False
    counters = lab.counters()["cas.lab.example"]
    assert counters["engine_invocations"] == 1 and "Set-CMHierarchySetting" not in counters["cmdlet_calls"]


PLAYBOOK = Path(__file__).resolve().parents[2] / "playbooks" / "offline_updates.yml"


def update_names(state: dict) -> list[str]:
    return sorted(u["name"] for u in state["hierarchies"]["lab"]["updates"])


def test_offline_updates_playbook(tmp_path):
    """An online SCP put offline, then prepare -> connect -> import through the controller; a second run imports
    nothing and the import reports unchanged; check mode changes nothing."""
    lab = RunningLab(tmp_path / "lab", offline_topology(tmp_path, mode="Online", tool=False))
    try:
        extra = {"offline_updates_set_offline": True, "offline_updates_transfer_dir": str(tmp_path / "transfer")}
        before = lab.state()
        check = lab.playbook(PLAYBOOK, "--check", extra_vars=extra)
        assert check.rc == 0, check.stdout
        assert lab.state() == before
        assert any("offline mode" in w for w in check.task("Prepare - export the usage data on the SCP server")
                   ["result"].get("warnings", [])), check.stdout

        first = lab.playbook(PLAYBOOK, extra_vars=extra)
        assert first.rc == 0, first.stdout
        imported = first.task("Import - the update packs the hierarchy does not have yet")["result"]
        assert imported["changed"] is True
        assert [u["name"] for u in imported["imported"]] == ["Configuration Manager 2503"]
        assert update_names(lab.state()) == ["Configuration Manager 2503"]
        assert "Imported: Configuration Manager 2503" in first.task("What was imported")["result"]["msg"]
        runtime = [r for r in lab.state()["hierarchies"]["lab"]["scp_runtime"] if r["server"] == SCP][0]
        assert runtime["configured_mode"] == runtime["effective_mode"] == "Offline"      # the downloader restarted

        second = lab.playbook(PLAYBOOK, extra_vars=extra)
        assert second.rc == 0, second.stdout
        again = second.task("Import - the update packs the hierarchy does not have yet")["result"]
        assert again["changed"] is False and again["imported"] == [] and again["ran"] is False
        assert "Nothing new to import" in second.task("What was imported")["result"]["msg"]
        assert update_names(lab.state()) == ["Configuration Manager 2503"]
        # Idempotent transfers: the tool folder and the update packs are not copied again.
        for task in ("And to the SCP server and the internet-connected computer", "And on to the SCP server"):
            assert second.task(task)["result"]["changed"] is False, task
    finally:
        lab.stop()
