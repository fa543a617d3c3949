"""The Service Connection Tool through Start-Process (docs/configmgr-behaviour.md#service-connection-tool):
prepare, connect, import, export, and each documented failure."""

from __future__ import annotations

import json

import pytest
from configmgr_harness import ConfigMgrLab

from cmlab.model.internet import MSG_SEND
from cmlab.model.netsettings import NETFX_KEY, NETFX_WOW_KEY
from cmlab.model.sct import UNHANDLED_EXIT, install_tool, select_updates
from tests.fixtures import step

PS1 = "ps1.lab.example"
TOOL_DIR = r"C:\Program Files\Microsoft Configuration Manager\CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool"
TOOL = TOOL_DIR + r"\ServiceConnectionTool.exe"
PROCESS = {"ExitCode": None, "HasExited": None, "ProcessName": None}


@pytest.fixture
def lab() -> ConfigMgrLab:
    lab = ConfigMgrLab()
    lab.enable_tls12(PS1)  # the reboot restarts the online SCP, which syncs: start from no updates
    lab.hierarchy.updates.clear()
    lab.model.host(PS1).fs.make_dirs(r"D:\USB")
    return lab


def sct(lab: ConfigMgrLab, *args: str, host: str = PS1, tool: str = TOOL, out: str | None = r"D:\USB\out.txt", **params) -> dict:
    extra = {"RedirectStandardOutput": out} if out else {}
    doc = lab.run(
        step(
            "p",
            "Start-Process",
            PROCESS,
            FilePath=tool,
            ArgumentList=list(args),
            Wait=True,
            PassThru=True,
            NoNewWindow=True,
            **extra,
            **params,
        ),
        host=host,
    )
    assert doc["ok"], doc["error"]
    return doc["steps"][0]["output"][0]


def offline(lab: ConfigMgrLab) -> None:
    lab.ok(step("set", "Set-CMServiceConnectionPoint", SiteSystemServerName=PS1, SiteCode="PS1", Mode="Offline"))


def tool_log(lab: ConfigMgrLab, host: str = PS1) -> list[str]:
    return lab.log(host, TOOL_DIR + r"\ServiceConnectionTool.log")


def test_the_offline_workflow(lab):
    offline(lab)
    assert sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab") == {
        "ExitCode": 0,
        "HasExited": True,
        "ProcessName": "ServiceConnectionTool",
    }
    cab = json.loads(lab.model.host(PS1).fs.file(r"D:\USB\UsageData.cab").content)
    assert cab["site_version"] == "5.00.9128.1000" and f"{cab['site_version']}.txt" in cab["files"]

    assert sct(lab, "-connect", "-usagedatasrc", r"D:\USB", "-updatepackdest", r"D:\USB\UpdatePacks")["ExitCode"] == 0
    fs = lab.model.host(PS1).fs
    assert fs.kind(r"D:\USB\UpdatePacks\ConfigMgr.Update.Manifest.enc") == "leaf"
    lines = fs.file(r"D:\USB\out.txt").lines()
    assert "INFO:ConfigMgr.Update.Manifest.cab (size = 15741046) downloaded successfully" in lines
    setup_log = lab.log(PS1, r"C:\ConfigMgrSetup.log")
    assert any("No proxy information is specified. Connect without proxy." in line for line in setup_log)
    assert "-connect" in tool_log(lab)[0] and "-prepare" not in "".join(tool_log(lab))  # replaced each run

    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\UpdatePacks")["ExitCode"] == 0
    updates = lab.ok(
        step(
            "u",
            "Get-CimInstance",
            {"Name": None, "FullVersion": None, "State": None},
            Namespace="root\\SMS\\site_CAS",
            ClassName="SMS_CM_UpdatePackages",
        )
    )["u"]
    # Default selection: the latest applicable update, no hotfixes (docs/configmgr-behaviour.md#service-connection-tool).
    assert updates == [{"Name": "Configuration Manager 2503", "FullVersion": "5.00.9135.1000", "State": 262146}]
    dmp = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert dmp[-1].startswith("Successfully Dropped the state message 4~~")
    guid = lab.dump()["updates"][0]["guid"]
    assert fs.kind(rf"C:\Program Files\Microsoft Configuration Manager\EasySetupPayload\Offline\{guid}") == "container"

    assert sct(lab, "-export", "-dest", r"D:\USB\usagedata.csv")["ExitCode"] == 0
    assert fs.file(r"D:\USB\usagedata.csv").lines()[0] == "HierarchyId,SiteCode,SiteVersion,TelemetryLevel"


def test_prepare_needs_an_offline_scp(lab):
    result = sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    assert result["ExitCode"] == 1
    assert "only be used when the service connection point is in offline mode" in tool_log(lab)[-1]
    assert lab.model.host(PS1).fs.node(r"D:\USB\UsageData.cab") is None


def test_prepare_and_import_only_on_the_scp_server(lab):
    lab.model.host("cas.lab.example").fs.make_dirs(r"D:\USB")
    tool = r"C:\Program Files\Microsoft Configuration Manager\CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool\ServiceConnectionTool.exe"
    assert sct(lab, "-prepare", "-usagedatadest", r"D:\USB\u.cab", host="cas.lab.example", tool=tool)["ExitCode"] == 1
    assert (
        "No service connection point is installed on cas.lab.example"
        in lab.log("cas.lab.example", tool.rsplit("\\", 1)[0] + r"\ServiceConnectionTool.log")[-1]
    )


def test_tls_1_2_for_net_counts_from_the_next_boot(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    args = ("-connect", "-usagedatasrc", r"D:\USB\UsageData.cab", "-updatepackdest", r"D:\USB\Packs")
    lab.model.host(PS1).registry.set_value(NETFX_KEY, "SchUseStrongCrypto", 0)
    assert sct(lab, *args)["ExitCode"] == 0  # "requires a restart": nothing changed yet
    lab.reboot(PS1)
    assert sct(lab, *args)["ExitCode"] == 1
    assert tool_log(lab)[-1].startswith(f"ERROR: Failed to download ConfigMgr.Update.Manifest.cab: {MSG_SEND}")
    assert any(MSG_SEND in line for line in lab.log(PS1, r"C:\ConfigMgrSetup.log"))


def test_connect_through_a_proxy_and_the_internet_outcomes(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    lab.model.internet.configure({"proxy_required": True, "proxies": {"proxy.lab.example": {"port": 8080, "auth_required": True}}})
    args = ("-connect", "-usagedatasrc", r"D:\USB\UsageData.cab", "-updatepackdest", r"D:\USB\Packs")
    assert sct(lab, *args)["ExitCode"] == 1
    assert "The operation has timed out." in tool_log(lab)[-1]
    assert sct(lab, *args, "-proxyserveruri", "proxy.lab.example:8080")["ExitCode"] == 1
    assert "(407) Proxy Authentication Required" in tool_log(lab)[-1]
    assert (
        sct(lab, *args, "-proxyserveruri", "proxy.lab.example:8080", "-proxyusername", "LAB\\svc-cmproxy", "-downloadall")["ExitCode"] == 0
    )
    manifest = json.loads(lab.model.host(PS1).fs.file(r"D:\USB\Packs\ConfigMgr.Update.Manifest.enc").content)
    assert len(manifest["updates"]) == 3
    assert any("Connect with proxy proxy.lab.example:8080" in line for line in lab.log(PS1, r"C:\ConfigMgrSetup.log"))


def test_the_harmless_unauthorized_access_exception(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    lab.faults.add("sct_access_denied", PS1, count=1)
    result = sct(lab, "-connect", "-usagedatasrc", r"D:\USB", "-updatepackdest", r"D:\USB\Packs", RedirectStandardError=r"D:\USB\err.txt")
    assert result["ExitCode"] == UNHANDLED_EXIT
    err = lab.model.host(PS1).fs.file(r"D:\USB\err.txt").lines()
    assert err[0].startswith("Unhandled Exception: System.UnauthorizedAccessException: Access to the path")
    # docs/configmgr-behaviour.md#service-connection-tool: safe to ignore — the data is complete and imports.
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\Packs")["ExitCode"] == 0


def test_a_missing_file_next_to_the_tool(lab):
    lab.model.host(PS1).fs.delete(TOOL_DIR + r"\ServiceConnectionTool.exe.config")
    result = sct(lab, "-export", "-dest", r"D:\USB\x.csv", RedirectStandardError=r"D:\USB\err.txt")
    assert result["ExitCode"] == UNHANDLED_EXIT
    assert "FileNotFoundException" in lab.model.host(PS1).fs.file(r"D:\USB\err.txt").content


def test_not_an_administrator(lab):
    from cmlab.model.sct import ServiceConnectionTool

    with lab.model.lock:
        result = ServiceConnectionTool(lab.model, lab.model.host(PS1), TOOL).run(
            ["-export", "-dest", r"D:\USB\x.csv"], user="LAB\\svc-cmnaa"
        )
    assert result.exit_code == 1
    assert "must run elevated, as a local administrator" in result.stdout[-1]


def test_import_skips_another_hierarchys_updates(lab):
    offline(lab)
    fs = lab.model.host(PS1).fs
    fs.write_text(r"D:\USB\Other\ConfigMgr.Update.Manifest.enc", json.dumps({"hierarchies": ["OTHER"], "updates": []}))
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\Other")["ExitCode"] == 0
    assert "Nothing to import" in tool_log(lab)[-1] and lab.dump()["updates"] == []
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\Nothing")["ExitCode"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "Specify exactly one of"),
        (("-prepare", "-connect"), "Specify exactly one of"),
        (("-prepare", "-usagedatadest"), "needs a value"),
        (("-connect", "-usagedatasrc", r"D:\USB", "-updatepackdest", r"D:\P", "-downloadall", "-downloadhotfix"), "at most one"),
        (("-connect", "-usagedatasrc", "USB", "-updatepackdest", r"D:\P"), "full path with a drive letter"),
        (("-connect", "-usagedatasrc", r"D:\Empty", "-updatepackdest", r"D:\P"), "does not exist"),
    ],
)
def test_usage_errors(lab, args, message):
    assert sct(lab, *args)["ExitCode"] == 1
    assert message in tool_log(lab)[-1]


def test_start_process_errors(lab):
    doc = lab.run(step("p", "Start-Process", FilePath=r"C:\Tools\Nothing.exe", Wait=True), host=PS1)
    assert doc["steps"][0]["error"]["message"] == "This command cannot be run due to the error: The system cannot find the file specified."
    lab.model.host(PS1).fs.write_text(r"C:\Tools\other.exe", "")
    doc = lab.run(step("p", "Start-Process", FilePath=r"C:\Tools\other.exe", Wait=True), host=PS1)
    assert "does not simulate" in doc["steps"][0]["error"]["message"]
    no_wait = lab.run(
        step("p", "Start-Process", PROCESS, FilePath=TOOL, ArgumentList=["-export", "-dest", r"D:\USB\a.csv"], PassThru=True), host=PS1
    )
    assert no_wait["steps"][0]["output"] == [{"ExitCode": None, "HasExited": False, "ProcessName": "ServiceConnectionTool"}]


def test_update_selection():
    names = lambda updates: [u.name for u in updates]  # noqa: E731
    assert names(select_updates("5.00.9128.1000", {})) == ["Configuration Manager 2503"]
    assert names(select_updates("5.00.9132.1000", {"-downloadsiteversion": True})) == [
        "Configuration Manager 2503",
        "Configuration Manager 2503 Hotfix Rollup",
    ]
    assert names(select_updates("5.00.9135.1000", {"-downloadhotfix": True})) == ["Configuration Manager 2503 Hotfix Rollup"]
    assert len(select_updates("5.00.9999.1000", {"-downloadall": True})) == 3
    assert select_updates("5.00.9999.1000", {}) == []


# The internet-connected host (inet01, group internet_hosts) -------------------------------------------

INET = "inet01.lab.example"
INET_TOOL_DIR = r"C:\Tools\ServiceConnectionTool"
INET_TOOL = INET_TOOL_DIR + r"\ServiceConnectionTool.exe"


def carry(lab: ConfigMgrLab, source_host: str, source: str, target_host: str, target: str) -> None:
    """What the collection does with Ansible's fetch and copy: the file, byte for byte."""
    text = lab.model.host(source_host).fs.file(source).content
    lab.model.host(target_host).fs.write_text(target, text)


def test_the_tool_folder_is_on_the_internet_host_with_the_sites_version(lab):
    listing = lab.ok(step("l", "Get-ChildItem", {"Name": None, "Length": None}, Path=INET_TOOL_DIR), host=INET)["l"]
    assert [f["Name"] for f in listing] == ["ServiceConnectionTool.exe", "ServiceConnectionTool.exe.config"]
    assert all(f["Length"] > 0 for f in listing)
    version = lab.ok(step("v", "Get-Item", {"VersionInfo": {"FileVersion": None, "ProductName": None}}, Path=INET_TOOL), host=INET)["v"]
    assert version == [{"VersionInfo": {"FileVersion": "5.00.9128.1000", "ProductName": "Microsoft Configuration Manager"}}]
    on_site_server = lab.ok(step("v", "Get-Item", {"VersionInfo": {"FileVersion": None}}, Path=TOOL), host=PS1)["v"]
    assert on_site_server == [{"VersionInfo": {"FileVersion": "5.00.9128.1000"}}]


def test_prepare_connect_import_across_two_hosts(lab):
    offline(lab)
    assert sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")["ExitCode"] == 0
    carry(lab, PS1, r"D:\USB\UsageData.cab", INET, r"C:\Transfer\UsageData.cab")
    lab.set_tls12(INET)
    lab.reboot(INET)
    result = sct(
        lab,
        "-connect",
        "-usagedatasrc",
        r"C:\Transfer",
        "-updatepackdest",
        r"C:\Transfer\UpdatePacks",
        host=INET,
        tool=INET_TOOL,
        out=r"C:\Transfer\out.txt",
    )
    assert result["ExitCode"] == 0
    assert lab.log(INET, INET_TOOL_DIR + r"\ServiceConnectionTool.log")  # next to the tool
    assert lab.log(INET, r"C:\ConfigMgrSetup.log")  # system drive root
    fs = lab.model.host(INET).fs
    packs = [path for path, node in fs.walk(r"C:\Transfer\UpdatePacks") if not node.is_dir]
    assert r"C:\Transfer\UpdatePacks\ConfigMgr.Update.Manifest.enc" in packs
    for path in packs:  # carried back, file by file
        carry(lab, INET, path, PS1, path.replace(r"C:\Transfer", r"D:\USB"))
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\UpdatePacks")["ExitCode"] == 0
    assert [u["name"] for u in lab.dump()["updates"]] == ["Configuration Manager 2503"]


def test_the_tool_needs_tls_1_2_for_net_in_both_registry_views(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    carry(lab, PS1, r"D:\USB\UsageData.cab", INET, r"C:\Transfer\UsageData.cab")
    args = ("-connect", "-usagedatasrc", r"C:\Transfer\UsageData.cab", "-updatepackdest", r"C:\Transfer\Packs")
    for key in (NETFX_KEY, NETFX_WOW_KEY):  # the lab's inet01 has TLS 1.2: make it a fresh server
        lab.model.host(INET).registry.key(key).delete_value("SchUseStrongCrypto")
    lab.reboot(INET)
    assert sct(lab, *args, host=INET, tool=INET_TOOL, out=None)["ExitCode"] == 1  # a fresh server
    lab.set_tls12(INET, views=(NETFX_KEY,))
    lab.reboot(INET)
    assert sct(lab, *args, host=INET, tool=INET_TOOL, out=None)["ExitCode"] == 1  # the 64-bit view is not enough
    assert MSG_SEND in lab.log(INET, INET_TOOL_DIR + r"\ServiceConnectionTool.log")[-1]
    lab.set_tls12(INET, views=(NETFX_WOW_KEY,))
    lab.reboot(INET)
    assert sct(lab, *args, host=INET, tool=INET_TOOL, out=None)["ExitCode"] == 0


def test_a_tool_of_another_version_is_refused(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    carry(lab, PS1, r"D:\USB\UsageData.cab", INET, r"C:\Transfer\UsageData.cab")
    lab.enable_tls12(INET)
    install_tool(lab.model.host(INET), r"C:\OldTool", "5.00.9122.1000")
    result = sct(
        lab,
        "-connect",
        "-usagedatasrc",
        r"C:\Transfer",
        "-updatepackdest",
        r"C:\Transfer\Packs",
        host=INET,
        tool=r"C:\OldTool\ServiceConnectionTool.exe",
        out=None,
    )
    assert result["ExitCode"] == 1
    line = lab.log(INET, r"C:\OldTool\ServiceConnectionTool.log")[-1]
    assert "This service connection tool is version 5.00.9122.1000" in line and "is version 5.00.9128.1000" in line
    assert lab.model.host(INET).fs.node(r"C:\Transfer\Packs") is None
    # On the SCP server, a tool from another version refuses too.
    install_tool(lab.model.host(PS1), r"C:\OldTool", "5.00.9122.1000")
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB", tool=r"C:\OldTool\ServiceConnectionTool.exe")["ExitCode"] == 1


def test_a_second_import_skips_what_the_hierarchy_already_has(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    sct(lab, "-connect", "-usagedatasrc", r"D:\USB", "-updatepackdest", r"D:\USB\Packs", "-downloadall")
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\Packs")["ExitCode"] == 0
    first = lab.dump()["updates"]
    assert [u["name"] for u in first] == [
        "Configuration Manager 2409",
        "Configuration Manager 2503",
        "Configuration Manager 2503 Hotfix Rollup",
    ]
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\Packs")["ExitCode"] == 0
    log = tool_log(lab)
    assert sum("is already imported. Skipped." in line for line in log) == 3
    assert "0 update package(s) imported" in log[-1]
    assert lab.dump()["updates"] == first


def test_import_is_refused_while_the_scp_is_online(lab):
    offline(lab)
    sct(lab, "-prepare", "-usagedatadest", r"D:\USB\UsageData.cab")
    sct(lab, "-connect", "-usagedatasrc", r"D:\USB", "-updatepackdest", r"D:\USB\Packs")
    lab.ok(step("set", "Set-CMServiceConnectionPoint", SiteSystemServerName=PS1, SiteCode="PS1", Mode="Online"))
    assert sct(lab, "-import", "-updatepacksrc", r"D:\USB\Packs")["ExitCode"] == 1
    assert "only be used when the service connection point is in offline mode" in tool_log(lab)[-1]
    assert lab.dump()["updates"] == []


@pytest.mark.parametrize(
    "folder", ["D:\\USB\\with space", "D:\\USB\\it's $(whoami) `n %TEMP% ;&", "D:\\USB\\\u00e9\u65e5", "D:\\USB\\trailing\\"]
)
def test_start_process_hands_the_tool_what_windows_parses(lab, folder):
    """Start-Process joins -ArgumentList with spaces and quotes nothing; the tool gets the arguments Windows
    splits out of that line (docs/configmgr-behaviour.md#service-connection-tool). Quoted as the collection quotes
    them, each comes back whole."""
    from ansible_collections.configmgr.scp.plugins.plugin_utils._sct import quote_argument

    offline(lab)
    lab.model.host(PS1).fs.make_dirs(folder)
    dest = folder.rstrip("\\") + "\\UsageData.cab"
    args = ["-prepare", "-usagedatadest", dest]
    assert sct(lab, *[quote_argument(a) for a in args])["ExitCode"] == 0
    assert lab.model.host(PS1).fs.kind(dest) == "leaf"
    assert tool_log(lab)[0].startswith(f"INFO: ServiceConnectionTool -prepare -usagedatadest {dest}  $$<")
    # Unquoted, a path with a space is two arguments: the tool refuses it.
    if " " in dest:
        assert sct(lab, *args)["ExitCode"] == 1
