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
CD_LATEST = "C:\\Program Files\\Microsoft Configuration Manager\\CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool"
NETFX = "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319"


def offline_topology(tmp_path: Path, *, mode: str = "Offline", tool: bool = True, change=None) -> Path:
    """The default lab, its SCP already on scp01 at the top-level site (CAS) in `mode`, with (`tool`) the tool
    copied to scp01 (it is no site server)."""
    topology = yaml.safe_load(LAB_TOPOLOGY.read_text())
    topology["hierarchies"]["lab"]["site_systems"] = [
        {"site": "CAS", "server": SCP, "roles": [{"name": "SMS Dmp Connector", "mode": mode}]}
    ]
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


PREPARE = {
    "action": "prepare",
    "tool_path": TOOL,
    "usage_data_dest": "C:\\Windows\\Temp\\UsageData.cab",
    "provider_host": "cas.lab.example",
}


def test_prepare_runs_the_tool_on_the_scp_server(offline_lab):
    lab = offline_lab
    before = lab.state()
    path = play(lab, "prepare", [sct("prepare", SCP, **PREPARE)])
    check = lab.playbook(path, "--check")
    result = check.task("prepare")["result"]
    assert result["changed"] is True and result["ran"] is False, result
    assert result["command"] == [f"{TOOL}\\ServiceConnectionTool.exe", "-prepare", "-usagedatadest", "C:\\Windows\\Temp\\UsageData.cab"]
    assert lab.state() == before
    run = lab.playbook(path)
    result = run.task("prepare")["result"]
    assert run.rc == 0, run.stdout
    assert result["exit_code"] == 0 and result["ran"] is True and result["scp_mode"] == "offline"
    assert any("Usage data saved to C:\\Windows\\Temp\\UsageData.cab" in line for line in result["tool_log"]), result
    assert "C:\\Windows\\Temp\\UsageData.cab" in lab.state()["hosts"][SCP]["files"]
    export = lab.playbook(
        play(lab, "export", [sct("export", SCP, action="export", tool_path=TOOL, export_dest="C:\\Windows\\Temp\\usage data.csv")])
    )
    result = export.task("export")["result"]
    assert export.rc == 0 and result["changed"] is True and result["exit_code"] == 0, export.stdout
    assert "C:\\Windows\\Temp\\usage data.csv" in lab.state()["hosts"][SCP]["files"]


def transfer(name: str, host: str, **args) -> dict:
    return {"name": name, "configmgr.scp.file_transfer": args, "delegate_to": host}


def test_file_transfer_round_trip_is_idempotent(offline_lab, tmp_path):
    lab = offline_lab
    tree = tmp_path / "tree"
    (tree / "sub dir").mkdir(parents=True)
    (tree / "a.cab").write_bytes(bytes(range(256)) * 100)
    (tree / "sub dir" / "it's $(x) `n \u00e9.txt").write_bytes(b"hello\r\n")
    back = tmp_path / "back"
    tasks = [
        transfer("put", INET, direction="put", src=str(tree), dest="C:\\Trans fer\\tree"),
        transfer("fetch", INET, direction="fetch", src="C:\\Trans fer\\tree", dest=str(back)),
    ]
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
    path = lab.write_playbook(
        "level.yml",
        json.dumps(
            [{"hosts": "sms_provider", "gather_facts": False, "tasks": [{"name": "level", "configmgr.scp.usage_data": {"level": "basic"}}]}]
        ),
    )
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
        assert any(
            "offline mode" in w for w in check.task("Prepare - export the usage data on the SCP server")["result"].get("warnings", [])
        ), check.stdout

        first = lab.playbook(PLAYBOOK, extra_vars=extra)
        assert first.rc == 0, first.stdout
        imported = first.task("Import - the update packs the hierarchy does not have yet")["result"]
        assert imported["changed"] is True
        assert [u["name"] for u in imported["imported"]] == ["Configuration Manager 2503"]
        assert update_names(lab.state()) == ["Configuration Manager 2503"]
        assert "Imported: Configuration Manager 2503" in first.task("What was imported")["result"]["msg"]
        runtime = next(r for r in lab.state()["hierarchies"]["lab"]["scp_runtime"] if r["server"] == SCP)
        assert runtime["configured_mode"] == runtime["effective_mode"] == "Offline"  # the downloader restarted

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


def usage_cab(tmp_path: Path, site_version: str = "5.00.9128.1000") -> Path:
    """A usage data file as -prepare writes it in the lab (its content is simulated, docs/simulator-assumptions.md)."""
    folder = tmp_path / "usage"
    folder.mkdir(exist_ok=True)
    cab = folder / "UsageData-CAS.cab"
    cab.write_text(
        json.dumps(
            {"hierarchy_id": "X", "site_code": "CAS", "site_version": site_version, "telemetry_level": "Enhanced", "files": []},
            sort_keys=True,
        )
    )
    return folder


def failed(run, task: str) -> str:
    result = run.task(task)
    assert result["status"] == "failed", result
    return result["result"]["msg"]


def test_failures_end_in_clear_messages(tmp_path):
    def change(topology):
        topology["hosts"][INET]["service_connection_tool"] = {"path": TOOL, "version": "5.00.9106.1000"}

    lab = RunningLab(tmp_path / "lab", offline_topology(tmp_path, mode="Online", change=change))
    try:
        usage = usage_cab(tmp_path)
        connect = {"action": "connect", "tool_path": TOOL, "usage_data_src": "C:\\Usage", "update_pack_dest": "C:\\Packs"}
        tasks = [
            transfer("cab to inet01", INET, direction="put", src=str(usage), dest="C:\\Usage"),
            transfer("cab to scp01", SCP, direction="put", src=str(usage), dest="C:\\Usage"),
            sct("online prepare", SCP, **PREPARE),
            sct("online import", SCP, action="import", tool_path=TOOL, update_pack_src="C:\\Windows", provider_host="cas.lab.example"),
            sct("no registry", SCP, action="export", export_dest="C:\\Windows\\Temp\\u.csv"),
            sct("tool missing", INET, **{**connect, "tool_path": "C:\\Nowhere\\ServiceConnectionTool"}),
            sct("version mismatch", INET, **connect),
            sct("no tls", SCP, **connect),
            sct("disk missing", INET, **{**connect, "update_pack_dest": "D:\\Packs"}),
            sct("source missing", INET, **{**connect, "usage_data_src": "C:\\No Usage"}),
            transfer("drive missing", INET, direction="put", src=str(usage), dest="D:\\Usage"),
        ]
        for task in tasks[2:]:
            task["ignore_errors"] = True
        lab.reset_counters()
        run = lab.playbook(play(lab, "failures", tasks))
        assert "in online mode" in failed(run, "online prepare")
        assert "works only with an SCP in offline mode" in failed(run, "online import")
        assert "Installation Directory" in failed(run, "no registry") and "Set tool_path" in failed(run, "no registry")
        assert "The Service Connection Tool is not on inet01.lab.example" in failed(run, "tool missing")
        assert "C:\\Nowhere\\ServiceConnectionTool\\ServiceConnectionTool.exe does not exist" in failed(run, "tool missing")
        message = failed(run, "version mismatch")
        assert "exit code 1" in message and "service connection tool is version 5.00.9106.1000" in message
        mismatch = run.task("version mismatch")["result"]
        assert mismatch["exit_code"] == 1 and mismatch["ran"] is True and mismatch["tool_log"], mismatch
        message = failed(run, "no tls")
        assert "An unexpected error occurred on a send" in message and "cannot use TLS 1.2 from .NET" in message
        assert any("unexpected error occurred on a send" in line for line in run.task("no tls")["result"]["setup_log"])
        assert "The folder D:\\ (of update_pack_dest) does not exist on inet01.lab.example" in failed(run, "disk missing")
        assert "usage_data_src C:\\No Usage does not exist on inet01.lab.example" in failed(run, "source missing")
        assert "The drive D: does not exist on inet01.lab.example" in failed(run, "drive missing")
        # The refusals before the tool: it ran only for the version mismatch and the TLS failure.
        counters = lab.counters()
        assert counters[SCP]["cmdlet_calls"].get("Start-Process") == 1
        assert counters[INET]["cmdlet_calls"].get("Start-Process") == 1
        assert update_names(lab.state()) == []
    finally:
        lab.stop()


BAD_INPUTS = [
    ({"action": "prepare", "usage_data_dest": "UsageData.cab"}, "usage_data_dest must be a full Windows path"),
    ({"action": "prepare", "usage_data_dest": 'C:\\a"b\\UsageData.cab'}, "usage_data_dest must be a full Windows path"),
    ({"action": "prepare", "usage_data_dest": "C:\\a\nb\\UsageData.cab"}, "usage_data_dest must be a full Windows path"),
    ({"action": "prepare", "usage_data_dest": "C:\\a\\*.cab"}, "usage_data_dest must be a full Windows path"),
    ({"action": "prepare", "usage_data_dest": "C:\\a\\..\\b.cab"}, "usage_data_dest must be a full Windows path"),
    ({"action": "prepare", "usage_data_dest": "C:\\a\\UsageData.txt"}, "usage_data_dest must name a .cab file"),
    ({"action": "prepare"}, "action=prepare needs usage_data_dest"),
    ({"action": "import", "update_pack_src": "C:\\P", "usage_data_dest": "C:\\u.cab"}, "usage_data_dest is an option of action=prepare"),
    ({"action": "export", "export_dest": "C:\\u.csv", "proxy_server_uri": "proxy:8080"}, "proxy_server_uri is an option of action=connect"),
    (
        {"action": "connect", "usage_data_src": "C:\\U", "update_pack_dest": "C:\\P", "proxy_server_uri": "p:8080 -x"},
        "proxy_server_uri must be a proxy server name",
    ),
    (
        {"action": "connect", "usage_data_src": "C:\\U", "update_pack_dest": "C:\\P", "proxy_server_uri": "$(whoami)"},
        "proxy_server_uri must be a proxy server name",
    ),
    (
        {
            "action": "connect",
            "usage_data_src": "C:\\U",
            "update_pack_dest": "C:\\P",
            "proxy_server_uri": "p",
            "proxy_username": "-downloadall",
        },
        "proxy_username must be a user name",
    ),
    (
        {"action": "connect", "usage_data_src": "C:\\U", "update_pack_dest": "C:\\P", "proxy_server_uri": "p", "proxy_username": "a b"},
        "proxy_username must be a user name",
    ),
    (
        {"action": "connect", "usage_data_src": "C:\\U", "update_pack_dest": "C:\\P", "proxy_username": "u"},
        "proxy_username needs proxy_server_uri",
    ),
    (
        {"action": "connect", "usage_data_src": "C:\\U", "update_pack_dest": "C:\\P", "tool_path": "C:\\T\r\\x"},
        "tool_path must be a full Windows path",
    ),
    (
        {"action": "export", "export_dest": "C:\\u.csv", "provider_host": "cas.lab.example"},
        "provider_host is used by action=prepare and action=import only",
    ),
    (
        {"action": "import", "update_pack_src": "C:\\P", "provider_host": "nohost.lab.example"},
        "provider_host nohost.lab.example is not a host of the inventory",
    ),
]


def test_bad_input_is_refused_before_any_winrm_request(lab, tmp_path):
    tasks = [
        {"name": f"bad{i}", "configmgr.scp.service_connection_tool": args, "ignore_errors": True} for i, (args, _) in enumerate(BAD_INPUTS)
    ]
    tasks += [
        {
            "name": "bad transfer",
            "configmgr.scp.file_transfer": {"direction": "put", "src": str(tmp_path), "dest": "C:\\x|y"},
            "ignore_errors": True,
        },
        {
            "name": "bad fetch",
            "configmgr.scp.file_transfer": {"direction": "fetch", "src": "relative\\path", "dest": str(tmp_path)},
            "ignore_errors": True,
        },
        {"name": "bad level", "configmgr.scp.usage_data": {"level": "Everything"}, "ignore_errors": True},
    ]
    (tmp_path / "bad?name.txt").write_text("x")
    tasks.append(
        {
            "name": "bad file name",
            "configmgr.scp.file_transfer": {"direction": "put", "src": str(tmp_path), "dest": "C:\\x"},
            "ignore_errors": True,
        }
    )
    lab.reset_counters()
    run = lab.playbook(play(lab, "bad", tasks, hosts=INET))
    for i, (_, message) in enumerate(BAD_INPUTS):
        assert message in failed(run, f"bad{i}"), (i, failed(run, f"bad{i}"))
    assert "dest must be a full Windows path" in failed(run, "bad transfer")
    assert "src must be a full Windows path" in failed(run, "bad fetch")
    assert "value of level must be one of" in failed(run, "bad level")
    assert "bad?name.txt of src cannot be copied" in failed(run, "bad file name")
    assert lab.requests_total() == 0


HOSTILE = "it's $(whoami) `n %TEMP% ;& \u00e9\u65e5"


def test_hostile_strings_are_carried_literally(tmp_path):
    """Paths with quotes, $(), backticks, %, ;, & and non-ASCII letters, and a proxy account with $() and a backtick,
    reach the tool as single, unchanged arguments; the internet is reached through an authenticating proxy."""

    def change(topology):
        topology["internet"] = {"proxy_required": True, "proxies": {"proxy.lab.example": {"port": 8080, "auth_required": True}}}

    lab = RunningLab(tmp_path / "lab", offline_topology(tmp_path, change=change))
    try:
        hostile_workflow(lab, tmp_path)
    finally:
        lab.stop()


def hostile_workflow(lab, tmp_path):
    folder = f"C:\\{HOSTILE}"
    seed = tmp_path / "seed"
    seed.mkdir()
    (seed / "keep.txt").write_text("x")
    lab.add_fault("sct_access_denied", INET, count=1)
    cab = f"{folder}\\Usage Data.cab"
    tasks = [
        transfer("folder on scp01", SCP, direction="put", src=str(seed), dest=folder),
        sct("prepare", SCP, **{**PREPARE, "usage_data_dest": cab}),
        transfer("cab to controller", SCP, direction="fetch", src=cab, dest=str(tmp_path / "usage" / "u.cab")),
        transfer("cab to inet01", INET, direction="put", src=str(tmp_path / "usage"), dest=f"{folder}\\Usage"),
        sct(
            "connect",
            INET,
            action="connect",
            tool_path=TOOL,
            usage_data_src=f"{folder}\\Usage",
            update_pack_dest=f"{folder}\\Packs",
            proxy_server_uri="proxy.lab.example:8080",
            proxy_username="LAB\\a$(b)`c",
        ),
    ]
    run = lab.playbook(play(lab, "hostile", tasks))
    assert run.rc == 0, run.stdout
    prepare = run.task("prepare")["result"]
    assert prepare["command"][-1] == cab
    assert prepare["command_line"].endswith(f'-prepare -usagedatadest "{cab}"')
    assert cab in lab.state()["hosts"][SCP]["files"]
    connect = run.task("connect")["result"]
    # What the tool got, argument by argument (its log line repeats its arguments).
    assert any(
        f"-usagedatasrc {folder}\\Usage -updatepackdest {folder}\\Packs" in line and "LAB\\a$(b)`c" in line for line in connect["tool_log"]
    ), connect["tool_log"]
    # The harmless UnauthorizedAccessException at the end of -connect is a warning.
    assert connect["exit_code"] == -532462766 and "harmless" in " ".join(connect["warnings"])
    assert any(name.startswith(f"{folder}\\Packs\\") for name in lab.state()["hosts"][INET]["files"])
