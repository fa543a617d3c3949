# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The Service Connection Tool (ServiceConnectionTool.exe): where it is, the
command line it gets, what a run did, and the decisions of configmgr.scp.service_connection_tool.

The tool serves an SCP in offline mode (docs/configmgr-behaviour.md#service-connection-tool):
`-prepare -usagedatadest <cab>` and `-import -updatepacksrc <folder>` on the SCP server,
`-connect -usagedatasrc <cab or folder> -updatepackdest <folder> [-proxyserveruri ..] [-proxyusername ..]
[-downloadall | -downloadhotfix | -downloadsiteversion]` on a computer with internet access, `-export -dest <csv>`.

It starts through `Start-Process -FilePath <exe> -ArgumentList <args> -Wait -PassThru -NoNewWindow
-RedirectStandardOutput <file> -RedirectStandardError <file>`. Start-Process joins -ArgumentList with single
spaces and quotes nothing (docs/configmgr-behaviour.md#service-connection-tool), and Windows hands the tool the
arguments it parses out of that one command line by the C runtime's rules. So each argument is quoted here, in
Python, by exactly those rules (`quote_argument`): whatever a path holds, the tool gets it as one argument,
unchanged. Characters no Windows file name may hold (`"`, control characters, newlines) are refused earlier
(_validation.drive_path). Nothing here is PowerShell: the arguments are data of the plan.
"""

from __future__ import annotations

import datetime
import ntpath
import re
from dataclasses import dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace, _hierarchy, _scp
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value

TOOL_EXE = "ServiceConnectionTool.exe"
# docs/configmgr-behaviour.md#service-connection-tool: CD.Latest under the installation directory the registry names.
SETUP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Setup"
INSTALL_DIR = "Installation Directory"
TOOL_FOLDER = "CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool"
MANIFEST = "ConfigMgr.Update.Manifest.enc"
TOOL_LOG = "ServiceConnectionTool.log"
SETUP_LOG = "ConfigMgrSetup.log"  # at the root of the system drive, written by -connect
STDOUT_FILE = "ServiceConnectionTool.stdout.txt"  # next to the tool's own log, replaced by each run
STDERR_FILE = "ServiceConnectionTool.stderr.txt"
SETUP_LOG_TAIL = 2000
UNHANDLED_EXIT = -532462766  # 0xE0434352: an unhandled .NET exception
ACTIONS = ("prepare", "connect", "import", "export")
DOWNLOADS = {"latest": None, "all": "-downloadall", "hotfix": "-downloadhotfix", "site_version": "-downloadsiteversion"}
# The update pack folder holds one folder per update, named by its package GUID (cmlab's layout; the
# documentation does not describe the folder: docs/simulator-assumptions.md).
_GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
# What each action needs of the task's options; any other path option is refused.
PATH_OPTIONS = {
    "prepare": ("usage_data_dest",),
    "connect": ("usage_data_src", "update_pack_dest"),
    "import": ("update_pack_src",),
    "export": ("export_dest",),
}
CONNECT_ONLY = ("proxy_server_uri", "proxy_username")
UPDATE_SELECT = {"PackageGuid": None, "Name": None, "FullVersion": None, "State": None}


@dataclass
class Want:
    action: str
    tool_path: str | None = None
    usage_data_dest: str | None = None
    usage_data_src: str | None = None
    update_pack_dest: str | None = None
    update_pack_src: str | None = None
    export_dest: str | None = None
    proxy_server_uri: str | None = None
    proxy_username: str | None = None
    download: str = "latest"
    provider_host: str | None = None

    @property
    def needs_offline_scp(self) -> bool:
        """-prepare and -import refuse an online SCP (docs/configmgr-behaviour.md#service-connection-tool)."""
        return self.action in ("prepare", "import")


# -- the command line ----------------------------------------------------------------------------------------


def quote_argument(arg: str) -> str:
    """One argument, quoted so that the C runtime's parser (and CommandLineToArgvW) gives it back unchanged:
    wrapped in double quotes when it is empty or holds a space, a tab or a quote; a quote escaped with a
    backslash; backslashes doubled only where they come before a quote (inside, or the closing one)."""
    if arg and not any(c in arg for c in ' \t\n\v"'):
        return arg
    out, backslashes = ['"'], 0
    for c in arg:
        if c == "\\":
            backslashes += 1
            continue
        if c == '"':
            out.append("\\" * (2 * backslashes + 1) + '"')
        else:
            out.append("\\" * backslashes + c)
        backslashes = 0
    out.append("\\" * (2 * backslashes) + '"')
    return "".join(out)


def command_line(args: list[str]) -> str:
    """What the tool's process gets: Start-Process joins the quoted arguments with single spaces."""
    return " ".join(quote_argument(a) for a in args)


def arguments(want: Want) -> list[str]:
    """The tool's arguments for the task, as the documentation spells the switches."""
    if want.action == "prepare":
        return ["-prepare", "-usagedatadest", want.usage_data_dest]
    if want.action == "export":
        return ["-export", "-dest", want.export_dest]
    if want.action == "import":
        return ["-import", "-updatepacksrc", want.update_pack_src]
    args = ["-connect", "-usagedatasrc", want.usage_data_src, "-updatepackdest", want.update_pack_dest]
    if want.proxy_server_uri:
        args += ["-proxyserveruri", want.proxy_server_uri]
    if want.proxy_username:
        args += ["-proxyusername", want.proxy_username]
    if DOWNLOADS[want.download]:
        args.append(DOWNLOADS[want.download])
    return args


def check_options(want: Want, given: dict) -> None:
    """Each action takes its own paths, and only connect takes a proxy or a download choice."""
    for option in PATH_OPTIONS[want.action]:
        if not given.get(option):
            raise AnsibleActionFail(f"action={want.action} needs {option}.")
    for action, options in PATH_OPTIONS.items():
        for option in options:
            if action != want.action and given.get(option):
                raise AnsibleActionFail(f"{option} is an option of action={action}, not of action={want.action}.")
    if want.action != "connect":
        for option in CONNECT_ONLY:
            if given.get(option):
                raise AnsibleActionFail(f"{option} is an option of action=connect, not of action={want.action}.")
        if want.download != "latest":
            raise AnsibleActionFail(f"download is an option of action=connect, not of action={want.action}.")
    if want.proxy_username and not want.proxy_server_uri:
        raise AnsibleActionFail("proxy_username needs proxy_server_uri.")
    if want.action == "prepare" and not want.usage_data_dest.lower().endswith(".cab"):
        raise AnsibleActionFail(f"usage_data_dest must name a .cab file, got {want.usage_data_dest!r}.")
    if want.provider_host and not want.needs_offline_scp:
        raise AnsibleActionFail(f"provider_host is used by action=prepare and action=import only, not by action={want.action}.")


# -- where the tool is --------------------------------------------------------------------------------------


def tool_location(tool_path: str | None, install_dir: str | None) -> tuple[str, str] | None:
    """(folder, executable) of the tool: `tool_path` (the folder, or the executable itself), else CD.Latest under
    the installation directory; None when neither is known."""
    if tool_path:
        if ntpath.basename(tool_path).lower() == TOOL_EXE.lower():
            return ntpath.dirname(tool_path), tool_path
        return tool_path, f"{tool_path.rstrip(chr(92))}\\{TOOL_EXE}"
    if install_dir:
        folder = f"{str(install_dir).rstrip(chr(92))}\\{TOOL_FOLDER}"
        return folder, f"{folder}\\{TOOL_EXE}"
    return None


def locate_plan(plan: Plan | None = None) -> Plan:
    """The installation directory from the registry (a site server has it)."""
    plan = plan if plan is not None else Plan()
    plan.add("setup", "Get-ItemProperty", {"LiteralPath": SETUP_KEY, "Name": INSTALL_DIR}, select={INSTALL_DIR: None}, on_error="continue")
    return plan


def install_dir(result: PlanResult) -> str | None:
    first = result.first("setup")
    value = first.get(INSTALL_DIR) if isinstance(first, dict) else None
    return str(value) if value else None


def tool_plan(folder: str, exe: str, plan: Plan | None = None) -> Plan:
    """The executable (its file version) and the files of its folder."""
    plan = plan if plan is not None else Plan()
    plan.add("exe", "Get-Item", {"LiteralPath": exe}, select={"FullName": None, "VersionInfo": {"FileVersion": None}}, on_error="continue")
    plan.add("folder", "Get-ChildItem", {"LiteralPath": folder, "File": True}, select={"Name": None}, on_error="continue")
    return plan


@dataclass
class Tool:
    folder: str
    executable: str
    found: bool
    version: str | None = None
    files: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"found": self.found, "tool_path": self.folder, "executable": self.executable, "version": self.version, "files": self.files}


def tool_of(folder: str, exe: str, result: PlanResult) -> Tool:
    step = result.steps.get("exe")
    first = step.first if step is not None and step.ok else None
    if not isinstance(first, dict):
        return Tool(folder, exe, False)
    version = (first.get("VersionInfo") or {}).get("FileVersion") if isinstance(first.get("VersionInfo"), dict) else None
    files = sorted(str(f.get("Name")) for f in result.output("folder") if isinstance(f, dict) and f.get("Name"))
    return Tool(folder, exe, True, str(version) if version else None, files)


def missing_tool_message(tool: Tool, host: str, action: str) -> str:
    where = (
        f"Copy the whole ServiceConnectionTool folder from {TOOL_FOLDER} under the installation directory of "
        "the top-level site server (all its files in one folder; the tool's version must match the site's), "
        "for example with configmgr.scp.file_transfer, and set tool_path."
    )
    return f"The Service Connection Tool is not on {host}: {tool.executable} does not exist. {where}"


# -- the read -------------------------------------------------------------------------------------------------


def _parent(path: str) -> str:
    head = ntpath.dirname(path)
    return head if len(head) > 2 else head.rstrip("\\") + "\\"


def read_plan(want: Want, with_provider: bool) -> Plan:
    """One invocation on the task's host: the installation directory, the host's name and system drive, the
    paths the action needs; and, with_provider, the SMS Provider's records (through CIM)."""
    plan = Plan()
    if not want.tool_path:
        locate_plan(plan)
    plan.add(
        "os",
        "Get-CimInstance",
        {"Namespace": "root\\cimv2", "ClassName": "Win32_OperatingSystem"},
        select={"CSName": None, "SystemDrive": None},
    )
    if want.action == "prepare":
        plan.add("dest_folder", "Test-Path", {"LiteralPath": _parent(want.usage_data_dest), "PathType": "Container"})
    elif want.action == "export":
        plan.add("dest_folder", "Test-Path", {"LiteralPath": _parent(want.export_dest), "PathType": "Container"})
    elif want.action == "connect":
        plan.add(
            "src", "Get-Item", {"LiteralPath": want.usage_data_src}, select={"FullName": None, "PSIsContainer": None}, on_error="continue"
        )
        plan.add(
            "cabs",
            "Get-ChildItem",
            {"LiteralPath": want.usage_data_src, "Filter": "*.cab", "File": True},
            select={"Name": None},
            on_error="continue",
        )
        plan.add("dest_folder", "Test-Path", {"LiteralPath": _parent(want.update_pack_dest), "PathType": "Container"})
    else:
        plan.add("packs", "Test-Path", {"LiteralPath": want.update_pack_src, "PathType": "Container"})
        plan.add("manifest", "Test-Path", {"LiteralPath": f"{want.update_pack_src}\\{MANIFEST}", "PathType": "Leaf"})
        plan.add(
            "pack_folders",
            "Get-ChildItem",
            {"LiteralPath": want.update_pack_src, "Directory": True},
            select={"Name": None},
            on_error="continue",
        )
    if with_provider:
        provider_plan(want, plan)
    return plan


def provider_plan(want: Want, plan: Plan | None = None) -> Plan:
    """What the SMS Provider records: the sites, the SCP and its mode, and (import) the hierarchy's updates."""
    plan = _scp.read_plan(None, plan)
    if want.action == "import":
        updates_step(plan, "updates")
    return plan


def updates_step(plan: Plan, step_id: str) -> None:
    """ConfigMgr's own list of updates (docs/configmgr-behaviour.md#service-connection-tool)."""
    plan.add(
        step_id, "Get-CimInstance", {"Namespace": provider_value("namespace"), "ClassName": "SMS_CM_UpdatePackages"}, select=UPDATE_SELECT
    )


def updates_of(output: list) -> dict[str, dict]:
    """PackageGuid (upper case) -> {package_guid, name, full_version, state}."""
    found = {}
    for raw in output:
        if isinstance(raw, dict) and raw.get("PackageGuid"):
            guid = str(raw["PackageGuid"]).upper()
            found[guid] = {"package_guid": guid, "name": raw.get("Name"), "full_version": raw.get("FullVersion"), "state": raw.get("State")}
    return found


@dataclass
class HostFacts:
    """What the read of the task's host found."""

    name: str  # the computer's NetBIOS name (Win32_OperatingSystem.CSName)
    system_drive: str
    install_dir: str | None
    checks: dict  # step id -> first output (Test-Path booleans, Get-Item objects)
    cabs: list[str]
    pack_folders: list[str]

    @classmethod
    def of(cls, result: PlanResult) -> HostFacts:
        os_info = result.first("os") or {}
        checks = {
            sid: result.first(sid) for sid in ("dest_folder", "src", "packs", "manifest") if sid in result.steps and result.steps[sid].ok
        }
        names = [str(r.get("Name")) for r in result.output("pack_folders") if isinstance(r, dict) and r.get("Name")]
        cabs = [str(r.get("Name")) for r in result.output("cabs") if isinstance(r, dict) and r.get("Name")]
        return cls(str(os_info.get("CSName") or ""), str(os_info.get("SystemDrive") or "C:"), install_dir(result), checks, cabs, names)


@dataclass
class ProviderFacts:
    hierarchy: _hierarchy.Hierarchy
    updates: dict[str, dict]

    @classmethod
    def of(cls, result: PlanResult) -> ProviderFacts:
        return cls(_hierarchy.Hierarchy.of(result), updates_of(result.output("updates")))


# -- the decision -----------------------------------------------------------------------------------------------


def _same_computer(netbios: str, fqdn: str) -> bool:
    """A NetBIOS name is the first label of the DNS name, cut to 15 characters."""
    return bool(netbios) and netbios.lower() == fqdn.split(".")[0][:15].lower()


class Problems:
    """Refusals. In check mode, those an earlier task of the play may fix (a folder it creates, a file it copies,
    the mode it sets) are warnings of the prediction instead, as configmgr.scp.service_connection_point does."""

    SUFFIX = " (check mode: assuming an earlier task of the play takes care of this; a real run fails otherwise)"

    def __init__(self, check_mode: bool):
        self.check_mode = check_mode
        self.warnings: list[str] = []

    def fixable(self, message: str) -> None:
        if not self.check_mode:
            raise AnsibleActionFail(message)
        self.warnings.append(message + self.SUFFIX)


def check_scp(want: Want, provider: ProviderFacts, host: HostFacts, where: str, problems: Problems) -> dict:
    """docs/configmgr-behaviour.md#service-connection-tool: prepare and import run on the SCP server, and only
    when the SCP is offline."""
    found = _scp.scps(provider.hierarchy)
    if not found:
        raise AnsibleActionFail(
            f"The hierarchy has no service connection point, so there is nothing to {want.action}: the Service "
            "Connection Tool serves an SCP in offline mode. Install one with configmgr.scp.service_connection_point "
            "(mode: offline)."
        )
    scp = found[0]
    if host.name and not _same_computer(host.name, scp.server):
        raise AnsibleActionFail(
            f"action={want.action} runs on the service connection point server, {scp.server}, not on {where} "
            f"({host.name}): run the task there (hosts or delegate_to)."
        )
    if scp.mode != "offline":
        problems.fixable(
            f"The service connection point on {scp.server} (site {scp.site_code}) is in {scp.mode or 'an unknown'} mode. "
            f"The Service Connection Tool's {want.action} works only with an SCP in offline mode; it would refuse. "
            "Set the mode first: configmgr.scp.service_connection_point with mode: offline and restart_downloader: true."
        )
    return {"scp_server": scp.server, "scp_mode": scp.mode}


def check_paths(want: Want, host: HostFacts, where: str, problems: Problems) -> dict:
    """The paths the action reads must exist, and the folders it writes into; refusals name the option."""
    checks = host.checks
    result: dict = {}
    if want.action in ("prepare", "export", "connect") and checks.get("dest_folder") is not True:
        option = {"prepare": "usage_data_dest", "export": "export_dest", "connect": "update_pack_dest"}[want.action]
        path = getattr(want, option)
        problems.fixable(
            f"The folder {_parent(path)} (of {option}) does not exist on {where}: create it, or choose a path on a disk that exists."
        )
    if want.action == "connect":
        src = checks.get("src")
        if not isinstance(src, dict):
            problems.fixable(
                f"usage_data_src {want.usage_data_src} does not exist on {where}: copy the usage data "
                "(.cab) there first, for example with configmgr.scp.file_transfer."
            )
            result["usage_data_files"] = []
        elif src.get("PSIsContainer"):
            if not host.cabs:
                problems.fixable(f"usage_data_src {want.usage_data_src} on {where} holds no usage data file (.cab) to upload.")
            result["usage_data_files"] = sorted(host.cabs, key=str.lower)
        else:
            result["usage_data_files"] = [ntpath.basename(want.usage_data_src)]
    if want.action == "import":
        if checks.get("packs") is not True:
            problems.fixable(
                f"update_pack_src {want.update_pack_src} does not exist on {where}: copy the update "
                "packs downloaded by action=connect there first."
            )
        elif checks.get("manifest") is not True:
            problems.fixable(
                f"update_pack_src {want.update_pack_src} on {where} has no {MANIFEST}: it is not a "
                "folder of update packs downloaded by action=connect."
            )
    return result


def decide(want: Want, host: HostFacts, provider: ProviderFacts | None, where: str, check_mode: bool = False) -> Decision:
    """What the task will run, and why not when it cannot."""
    problems = Problems(check_mode)
    location = tool_location(want.tool_path, host.install_dir)
    if location is None:
        raise AnsibleActionFail(
            f"Could not find the Service Connection Tool on {where}: {SETUP_KEY} has no '{INSTALL_DIR}' (the host is "
            f"not a site server). Set tool_path to the folder that holds {TOOL_EXE}; copy the whole folder from "
            f"{TOOL_FOLDER} on the site server first."
        )
    folder, exe = location
    args = arguments(want)
    result: dict = {
        "action": want.action,
        "tool_path": folder,
        "executable": exe,
        "command": [exe, *args],
        "command_line": f'"{exe}" {command_line(args)}',
        "ran": False,
    }
    if want.needs_offline_scp and provider is not None:
        result.update(check_scp(want, provider, host, where, problems))
    result.update(check_paths(want, host, where, problems))
    changed = True
    if want.action == "import":
        known = provider.updates if provider else {}
        folders = [f for f in host.pack_folders if _GUID.fullmatch(f)]
        pending = sorted({f.upper() for f in folders} - set(known))
        result.update(already_imported=sorted({f.upper() for f in folders} & set(known)), pending=pending, imported=[], not_imported=[])
        # docs/configmgr-behaviour.md#service-connection-tool: import takes the updates the hierarchy does not have
        # yet; when it has every one, there is nothing to run.
        # In check mode, packs an earlier task would copy are not there yet: predict a run.
        changed = bool(pending) or (check_mode and checks_missing(host))
    return Decision(changed=changed, result=result, changes=(folder, exe, args), warnings=problems.warnings)


def checks_missing(host: HostFacts) -> bool:
    return host.checks.get("packs") is not True or host.checks.get("manifest") is not True


# -- the run ----------------------------------------------------------------------------------------------------


def write_plan(want: Want, folder: str, exe: str, args: list[str], system_drive: str, where: str, with_provider: bool) -> WritePlan:
    """Start the tool and wait; read its output, its log (replaced by each run) and, for connect,
    ConfigMgrSetup.log and the update packs; for import through CIM, the updates again."""
    plan = WritePlan()
    out, err = f"{folder}\\{STDOUT_FILE}", f"{folder}\\{STDERR_FILE}"
    plan.write(
        "run",
        "Start-Process",
        {
            "FilePath": exe,
            "ArgumentList": [quote_argument(a) for a in args],
            "WorkingDirectory": folder,
            "Wait": True,
            "PassThru": True,
            "NoNewWindow": True,
            "RedirectStandardOutput": out,
            "RedirectStandardError": err,
        },
        select={"ExitCode": None, "StartTime": None},
        does=f"run {TOOL_EXE} -{want.action} on {where}",
    )
    plan.add("stdout", "Get-Content", {"LiteralPath": out}, on_error="continue")
    plan.add("stderr", "Get-Content", {"LiteralPath": err}, on_error="continue")
    plan.add("log", "Get-Content", {"LiteralPath": f"{folder}\\{TOOL_LOG}"}, on_error="continue")
    if want.action == "connect":
        plan.add("setup_log", "Get-Content", {"LiteralPath": f"{system_drive}\\{SETUP_LOG}", "Tail": SETUP_LOG_TAIL}, on_error="continue")
        plan.add(
            "packs_after",
            "Get-ChildItem",
            {"LiteralPath": want.update_pack_dest, "Directory": True},
            select={"Name": None},
            on_error="continue",
        )
    if want.action == "import" and with_provider:
        updates_step(plan, "updates_after")
    return plan


def _lines(output: list) -> list[str]:
    return [str(line) for line in output if line is not None]


def _started(value) -> datetime.datetime | None:
    try:
        when = datetime.datetime.fromisoformat(str(value))
    except (TypeError, ValueError):
        return None
    return when if when.tzinfo else when.replace(tzinfo=datetime.timezone.utc)


def log_messages(lines: list[str], source: str, since: datetime.datetime | None = None) -> list[str]:
    """The messages of a CMTrace log (docs/configmgr-behaviour.md#logs), from `since` on (to the second)."""
    entries = _cmtrace.parse("\r\n".join(lines), source=source)
    if since is not None:
        floor = since.astimezone(datetime.timezone.utc).replace(microsecond=0)
        entries = [e for e in entries if e.utc is None or e.utc >= floor]
    return [e.message for e in entries if e.message]


@dataclass
class Run:
    rc: int | None
    stdout: list[str]
    stderr: list[str]
    tool_log: list[str]
    setup_log: list[str]
    packs: list[str]

    @classmethod
    def of(cls, result: PlanResult) -> Run:
        first = result.first("run") or {}
        rc = first.get("ExitCode") if isinstance(first, dict) else None
        started = _started(first.get("StartTime")) if isinstance(first, dict) else None
        packs = sorted(str(r.get("Name")) for r in result.output("packs_after") if isinstance(r, dict) and r.get("Name"))
        return cls(
            int(rc) if rc is not None else None,
            _lines(result.output("stdout")),
            _lines(result.output("stderr")),
            log_messages(_lines(result.output("log")), TOOL_LOG),
            log_messages(_lines(result.output("setup_log")), SETUP_LOG, started),
            packs,
        )

    @property
    def harmless(self) -> bool:
        """docs/configmgr-behaviour.md#service-connection-tool: after -connect, an UnauthorizedAccessException on
        a file under extractmanifestcab is known and safe to ignore; the downloaded data is complete."""
        text = "\n".join(self.stderr)
        return self.rc == UNHANDLED_EXIT and "System.UnauthorizedAccessException" in text and "extractmanifestcab" in text

    def result(self) -> dict:
        return {"exit_code": self.rc, "stdout_lines": self.stdout, "stderr_lines": self.stderr, "tool_log": self.tool_log}


_SEND_FAILURE = "An unexpected error occurred on a send"


def failure_message(want: Want, run: Run, where: str) -> str:
    """A non-zero exit: the tool's own error lines, and what to do about the documented causes."""
    errors = [line for line in run.tool_log if line.upper().startswith("ERROR")]
    shown = errors or run.stderr or run.tool_log[-5:] or run.stdout[-5:]
    message = f"{TOOL_EXE} -{want.action} failed on {where} with exit code {run.rc}: " + (
        " | ".join(shown) if shown else "it wrote nothing."
    )
    everything = "\n".join(run.tool_log + run.setup_log + run.stderr)
    if "System.IO.FileNotFoundException" in "\n".join(run.stderr):
        # docs/configmgr-behaviour.md#service-connection-tool: all the files of the folder belong together.
        message += (
            " A file of the tool is missing: copy the whole ServiceConnectionTool folder again, from "
            f"{TOOL_FOLDER} on the top-level site server."
        )
    if _SEND_FAILURE in everything:
        # docs/configmgr-behaviour.md#service-connection-tool, #tls-prerequisites
        message += (
            f" {where} cannot use TLS 1.2 from .NET: set SchUseStrongCrypto and SystemDefaultTlsVersions to 1 "
            "under HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319 (and WOW6432Node) and restart it."
        )
    return message


def import_outcome(before: dict[str, dict], after: dict[str, dict], pending: list[str]) -> dict:
    """What the import added to ConfigMgr's list of updates."""
    imported = [after[g] for g in sorted(set(after) - set(before))]
    return {"imported": imported, "not_imported": [g for g in pending if g not in after]}
