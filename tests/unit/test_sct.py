"""The Service Connection Tool's command line and decisions (plugin_utils/_sct.py), without a host."""

from __future__ import annotations

import random

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _sct, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy, RoleRow, Site
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult
from cmlab.cmdlets.process import split_command_line

# -- quoting --------------------------------------------------------------------------------------------------

# The C runtime's rules (Microsoft's "Parsing C command-line arguments" table, read backwards): what each
# argument must look like on the command line.
QUOTED = [
    ("abc", "abc"),
    ("", '""'),
    ("a b", '"a b"'),
    ("a\tb", '"a\tb"'),
    ('a"b', '"a\\"b"'),
    ("C:\\Program Files\\x", '"C:\\Program Files\\x"'),
    ("C:\\a b\\", '"C:\\a b\\\\"'),  # a trailing backslash is doubled before the closing quote
    ("C:\\a\\", "C:\\a\\"),  # not quoted: backslashes stay as they are
    ('a\\"b', '"a\\\\\\"b"'),  # a backslash before a quote: doubled, then the escaped quote
    ("a\\\\b c", '"a\\\\b c"'),  # backslashes not before a quote stay single
    ("$(whoami) `n %TEMP% ;& 'x'", "\"$(whoami) `n %TEMP% ;& 'x'\""),
    ("\u00e9\u65e5", "\u00e9\u65e5"),
]


@pytest.mark.parametrize(("arg", "quoted"), QUOTED)
def test_quote_argument(arg, quoted):
    assert _sct.quote_argument(arg) == quoted
    assert split_command_line(quoted) == [arg]


def test_every_argument_comes_back_unchanged():
    """Start-Process joins the quoted arguments with spaces; Windows splits them again (cmlab's parser follows the
    documented rules): any mix of spaces, tabs, quotes, backslashes and shell characters survives."""
    alphabet = " \t\"\\'$`%;&()|<>^*?abc\u00e9\u65e5:/"
    rng = random.Random(20261129)
    for _ in range(3000):
        args = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(rng.randint(1, 5))]
        assert split_command_line(_sct.command_line(args)) == args, args


# -- arguments and options ------------------------------------------------------------------------------------


def want(**kw) -> _sct.Want:
    return _sct.Want(**kw)


@pytest.mark.parametrize(
    ("kw", "args"),
    [
        ({"action": "prepare", "usage_data_dest": "D:\\U.cab"}, ["-prepare", "-usagedatadest", "D:\\U.cab"]),
        ({"action": "export", "export_dest": "D:\\U.csv"}, ["-export", "-dest", "D:\\U.csv"]),
        ({"action": "import", "update_pack_src": "D:\\P"}, ["-import", "-updatepacksrc", "D:\\P"]),
        (
            {"action": "connect", "usage_data_src": "D:\\U", "update_pack_dest": "D:\\P"},
            ["-connect", "-usagedatasrc", "D:\\U", "-updatepackdest", "D:\\P"],
        ),
        (
            {
                "action": "connect",
                "usage_data_src": "D:\\U",
                "update_pack_dest": "D:\\P",
                "proxy_server_uri": "p:8080",
                "proxy_username": "C\\u",
                "download": "site_version",
            },
            [
                "-connect",
                "-usagedatasrc",
                "D:\\U",
                "-updatepackdest",
                "D:\\P",
                "-proxyserveruri",
                "p:8080",
                "-proxyusername",
                "C\\u",
                "-downloadsiteversion",
            ],
        ),
        (
            {"action": "connect", "usage_data_src": "D:\\U", "update_pack_dest": "D:\\P", "download": "all"},
            ["-connect", "-usagedatasrc", "D:\\U", "-updatepackdest", "D:\\P", "-downloadall"],
        ),
        (
            {"action": "connect", "usage_data_src": "D:\\U", "update_pack_dest": "D:\\P", "download": "hotfix"},
            ["-connect", "-usagedatasrc", "D:\\U", "-updatepackdest", "D:\\P", "-downloadhotfix"],
        ),
    ],
)
def test_arguments_are_the_documented_switches(kw, args):
    assert _sct.arguments(want(**kw)) == args


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"action": "prepare"}, "action=prepare needs usage_data_dest"),
        ({"action": "prepare", "usage_data_dest": "D:\\u.txt"}, "must name a .cab file"),
        ({"action": "import", "update_pack_src": "D:\\P", "export_dest": "D:\\x.csv"}, "export_dest is an option of action=export"),
        ({"action": "export", "export_dest": "D:\\x.csv", "download": "all"}, "download is an option of action=connect"),
        (
            {"action": "connect", "usage_data_src": "D:\\U", "update_pack_dest": "D:\\P", "proxy_username": "u"},
            "proxy_username needs proxy_server_uri",
        ),
        (
            {"action": "connect", "usage_data_src": "D:\\U", "update_pack_dest": "D:\\P", "provider_host": "cas"},
            "provider_host is used by action=prepare and action=import only",
        ),
    ],
)
def test_options_that_do_not_belong_to_the_action(kw, message):
    w = want(**kw)
    with pytest.raises(AnsibleActionFail, match=message):
        _sct.check_options(w, kw)


def test_the_tool_is_found_under_the_installation_directory_or_in_tool_path():
    folder, exe = _sct.tool_location(None, "C:\\Program Files\\Microsoft Configuration Manager\\")
    assert folder == "C:\\Program Files\\Microsoft Configuration Manager\\CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool"
    assert exe == folder + "\\ServiceConnectionTool.exe"
    assert _sct.tool_location("D:\\T", "C:\\x") == ("D:\\T", "D:\\T\\ServiceConnectionTool.exe")
    assert _sct.tool_location("D:\\T\\serviceconnectiontool.EXE", None) == ("D:\\T", "D:\\T\\serviceconnectiontool.EXE")
    assert _sct.tool_location(None, None) is None


# -- decisions ------------------------------------------------------------------------------------------------

CAS = Site("CAS", "Central", None, "cas", "cas.lab.example")


def provider(mode: str | None = "offline", server: str = "scp01.lab.example", updates=()) -> _sct.ProviderFacts:
    roles = (
        []
        if mode is None
        else [
            RoleRow(
                "CAS",
                server,
                "SMS Dmp Connector",
                2,
                {"OfflineMode": {"PropertyName": "OfflineMode", "Value": 1 if mode == "offline" else 0}},
            )
        ]
    )
    return _sct.ProviderFacts(Hierarchy(sites=[CAS], roles=roles), {g: {"package_guid": g} for g in updates})


def host(**checks) -> _sct.HostFacts:
    return _sct.HostFacts("SCP01", "C:", checks.pop("install_dir", None), checks, checks.pop("cabs_", []), checks.pop("folders_", []))


PREPARE = {"action": "prepare", "usage_data_dest": "D:\\U\\u.cab", "tool_path": "D:\\T"}
G1, G2 = "A1C3E5F7-2B4D-4F6A-8C0E-1D3F5A7B9C2E", "B2D4F6A8-3C5E-4A7B-9D1F-2E4A6C8B0D3F"


def test_prepare_runs_with_an_offline_scp():
    decision = _sct.decide(want(**PREPARE), host(dest_folder=True), provider(), "scp01")
    assert decision.changed and decision.result["scp_mode"] == "offline"
    assert decision.result["command"] == ["D:\\T\\ServiceConnectionTool.exe", "-prepare", "-usagedatadest", "D:\\U\\u.cab"]
    assert decision.result["command_line"] == '"D:\\T\\ServiceConnectionTool.exe" -prepare -usagedatadest D:\\U\\u.cab'


def test_prepare_is_refused_online_and_says_why():
    with pytest.raises(AnsibleActionFail, match=r"is in online mode.*only with an SCP in offline mode.*mode: offline"):
        _sct.decide(want(**PREPARE), host(dest_folder=True), provider("online"), "scp01")
    decision = _sct.decide(want(**PREPARE), host(dest_folder=True), provider("online"), "scp01", check_mode=True)
    assert decision.changed and "check mode: assuming an earlier task" in decision.warnings[0]


def test_prepare_runs_on_the_scp_server_only():
    with pytest.raises(AnsibleActionFail, match=r"runs on the service connection point server, scp02\.lab\.example"):
        _sct.decide(want(**PREPARE), host(dest_folder=True), provider(server="scp02.lab.example"), "scp01")
    with pytest.raises(AnsibleActionFail, match="has no service connection point"):
        _sct.decide(want(**PREPARE), host(dest_folder=True), provider(None), "scp01")


def test_a_missing_folder_or_tool_location_is_refused():
    with pytest.raises(AnsibleActionFail, match=r"The folder D:\\U \(of usage_data_dest\) does not exist on scp01"):
        _sct.decide(want(**PREPARE), host(dest_folder=False), provider(), "scp01")
    with pytest.raises(AnsibleActionFail, match=r"Installation Directory.*Set tool_path"):
        _sct.decide(want(**{**PREPARE, "tool_path": None}), host(dest_folder=True), provider(), "scp01")


def test_import_runs_only_for_packs_the_hierarchy_does_not_have():
    w = want(action="import", update_pack_src="D:\\P", tool_path="D:\\T")
    facts = host(packs=True, manifest=True, folders_=[G1.lower(), G2, "Redist", "notes"])
    decision = _sct.decide(w, facts, provider(updates=[G1]), "scp01")
    assert decision.changed and decision.result["pending"] == [G2] and decision.result["already_imported"] == [G1]
    decision = _sct.decide(w, facts, provider(updates=[G1, G2]), "scp01")
    assert not decision.changed and decision.result["pending"] == []
    with pytest.raises(AnsibleActionFail, match=r"has no ConfigMgr\.Update\.Manifest\.enc"):
        _sct.decide(w, host(packs=True, manifest=False), provider(), "scp01")
    assert _sct.import_outcome({G1: {}}, {G1: {}, G2: {"package_guid": G2}}, [G2]) == {
        "imported": [{"package_guid": G2}],
        "not_imported": [],
    }


def test_connect_uploads_a_file_or_the_cabs_of_a_folder():
    w = want(action="connect", usage_data_src="D:\\U", update_pack_dest="D:\\P", tool_path="D:\\T")
    decision = _sct.decide(w, host(src={"PSIsContainer": True}, dest_folder=True, cabs_=["b.cab", "A.cab"]), None, "inet")
    assert decision.result["usage_data_files"] == ["A.cab", "b.cab"]
    with pytest.raises(AnsibleActionFail, match="holds no usage data file"):
        _sct.decide(w, host(src={"PSIsContainer": True}, dest_folder=True), None, "inet")
    with pytest.raises(AnsibleActionFail, match=r"usage_data_src D:\\U does not exist on inet"):
        _sct.decide(w, host(dest_folder=True), None, "inet")


# -- a run ----------------------------------------------------------------------------------------------------


def result(**outputs) -> PlanResult:
    return PlanResult({k: StepResult(k, True, v, None) for k, v in outputs.items()})


LOG = [
    "INFO: ServiceConnectionTool -connect  $$<ServiceConnectionTool><11-29-2026 06:50:04.000+000><thread=1 (0x1)>",
    "ERROR: Failed to download ConfigMgr.Update.Manifest.cab: The underlying connection was closed: An unexpected "
    "error occurred on a send.  $$<ServiceConnectionTool><11-29-2026 06:50:05.000+000><thread=1 (0x1)>",
]
SETUP = [
    "old run  $$<ConfigMgrSetup><11-28-2026 06:00:00.000+000><thread=1 (0x1)>",
    "this run  $$<ConfigMgrSetup><11-29-2026 06:50:04.500+000><thread=1 (0x1)>",
]


def test_a_failed_run_says_what_the_tool_said_and_what_to_do():
    run = _sct.Run.of(
        result(run=[{"ExitCode": 1, "StartTime": "2026-11-29T06:50:04.7000000+00:00"}], log=LOG, setup_log=SETUP, stdout=[], stderr=[])
    )
    assert run.tool_log[1].startswith("ERROR: Failed to download") and run.setup_log == ["this run"]
    message = _sct.failure_message(want(action="connect"), run, "inet01")
    assert "exit code 1: ERROR: Failed to download" in message and "cannot use TLS 1.2 from .NET" in message
    assert not run.harmless


def test_the_harmless_exception_of_connect():
    stderr = [
        "Unhandled Exception: System.UnauthorizedAccessException: Access to the path "
        "'C:\\Windows\\Temp\\extractmanifestcab\\95F8A562.sql' is denied."
    ]
    assert _sct.Run.of(result(run=[{"ExitCode": _sct.UNHANDLED_EXIT}], stderr=stderr)).harmless
    other = ["Unhandled Exception: System.IO.FileNotFoundException: Could not find file 'x'."]
    missing = _sct.Run.of(result(run=[{"ExitCode": _sct.UNHANDLED_EXIT}], stderr=other))
    assert not missing.harmless
    assert "copy the whole ServiceConnectionTool folder again" in _sct.failure_message(want(action="export"), missing, "x")


# -- input rules ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["D:\\it's $(whoami) `n %TEMP% ;&\\x.cab", "C:\\", "D:/a/b.cab", "D:\\\u00e9\u65e5\\x"])
def test_paths_that_windows_accepts_are_kept(value):
    assert _validation.drive_path(value, "p") == value.replace("/", "\\")


@pytest.mark.parametrize(
    "value",
    [
        "x.cab",
        "\\\\srv\\share\\x",
        'D:\\a"b',
        "D:\\a\nb",
        "D:\\a\rb",
        "D:\\a\x00",
        "D:\\a|b",
        "D:\\a<b",
        "D:\\a?",
        "D:\\a*",
        "D:\\a:b",
        "D:\\..\\x",
        "D:\\a\\.\\b",
        "D:\\a \\b",
        "D:\\a.\\b",
        "D:",
        "D:\\" + "a" * 300,
    ],
)
def test_paths_that_cannot_be_carried_are_refused(value):
    with pytest.raises(AnsibleActionFail, match="p must be a full Windows path"):
        _validation.drive_path(value, "p")


def test_proxy_options():
    assert _validation.proxy_uri("http://proxy.contoso.com:8080/") == "http://proxy.contoso.com:8080"
    for bad in ("proxy:0", "proxy:65536", "ftp://proxy", "proxy 8080", "$(x)", "proxy;rm", "-proxy"):
        with pytest.raises(AnsibleActionFail, match="proxy_server_uri must be"):
            _validation.proxy_uri(bad)
    assert _validation.proxy_username("CONTOSO\\a$(b)`c") == "CONTOSO\\a$(b)`c"
    for bad in ("-downloadall", "a b", 'a"b', "a\nb", "A\\B\\C", ""):
        with pytest.raises(AnsibleActionFail, match="proxy_username must be"):
            _validation.proxy_username(bad)
