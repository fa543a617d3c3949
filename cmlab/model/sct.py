"""The Service Connection Tool (ServiceConnectionTool.exe): the offline SCP's update workflow
(docs/configmgr-behaviour.md#service-connection-tool).

    -prepare -usagedatadest <file.cab>                       on the SCP host, SCP offline
    -connect -usagedatasrc <folder|file> -updatepackdest <folder>
             [-proxyserveruri <host[:port]> [-proxyusername <user>]]
             [-downloadall | -downloadhotfix | -downloadsiteversion]   on an internet-connected host
    -import -updatepacksrc <folder>                          on the SCP host: that hierarchy's updates only
    -export -dest <file.csv>                                 on the SCP host: the usage data to review

ServiceConnectionTool.log next to the tool is replaced by each run; -connect also writes ConfigMgrSetup.log
at the root of the system drive. Exit codes (assumption, not documented): 0 success, 1 a reported error,
-532462766 (0xE0434352) an unhandled .NET exception — a missing file next to the tool, or the harmless
UnauthorizedAccessException at the end of -connect (docs/configmgr-behaviour.md#service-connection-tool,
`sct_access_denied`
fault) after which the downloaded data is complete.
"""

from __future__ import annotations

import json
import ntpath
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from .cmtrace import LogWriter
from .configmgr import ROLE_SCP, Hierarchy, RoleState, SiteSystem
from .executive import ensure_executive
from .internet import AVAILABLE_UPDATES, ProxyUse, SiteUpdate, client_for, lab_internet
from .scp import DOWNLOAD_SUCCESS, DOWNLOADER
from .wellknown import SCT_DIR
from .windows import WindowsHost


class ToolEnvironment(Protocol):
    """What the tool needs of the lab (cmlab.model.state.LabModel has it)."""

    hierarchies: list[Hierarchy]
    internet: Any  # cmlab.model.internet.Internet
    clock: Any  # cmlab.model.clock.SimClock


TOOL_FOLDER = SCT_DIR  # under a site server's install dir (docs/configmgr-behaviour.md#service-connection-tool)
TOOL_EXE = "ServiceConnectionTool.exe"
# "All of these files must be in the same folder" (docs/configmgr-behaviour.md#service-connection-tool). The
# documentation names only the executable: the configuration file is assumed, and cmlab's executable is a
# text file that carries its version (what Windows shows as the file's FileVersion).
TOOL_FILES = ("ServiceConnectionTool.exe", "ServiceConnectionTool.exe.config")
UNHANDLED_EXIT = -532462766  # 0xE0434352: an unhandled .NET exception
MANIFEST = "ConfigMgr.Update.Manifest.enc"  # docs/configmgr-behaviour.md#service-connection-tool
MANIFEST_FWLINK = "https://go.microsoft.com/fwlink/?LinkId=2309745"
ADMINUI_CONTENT_URL = "https://configmgrbits.cdn.manage.microsoft.com/ConfigMgr.AdminUIContent.cab"
PAYLOAD_URL = "https://download.microsoft.com/configmgr/{guid}.cab"
REDIST_FWLINK = "https://go.microsoft.com/fwlink/?LinkId=2115685"
MODES = ("-prepare", "-connect", "-import", "-export")
DOWNLOAD_SWITCHES = ("-downloadall", "-downloadhotfix", "-downloadsiteversion")
USAGE = (
    "Usage: ServiceConnectionTool.exe -prepare -usagedatadest <file.cab> | -connect -usagedatasrc <folder|file> "
    "-updatepackdest <folder> [-proxyserveruri <proxy> -proxyusername <user>] [-downloadall|-downloadhotfix|"
    "-downloadsiteversion] | -import -updatepacksrc <folder> | -export -dest <file.csv>"
)


def tool_files(version: str) -> dict[str, str]:
    """The tool folder's files and their (simulated) content; the executable names its version."""
    return {
        "ServiceConnectionTool.exe": (
            f"cmlab simulated executable\r\nProductName: Microsoft Configuration Manager\r\n"
            f"FileDescription: Service Connection Tool\r\nFileVersion: {version}\r\n"
            f"ProductVersion: {version}\r\n"
        ),
        "ServiceConnectionTool.exe.config": (
            '<?xml version="1.0" encoding="utf-8"?>\r\n<configuration>\r\n  <startup>\r\n'
            '    <supportedRuntime version="v4.0" sku=".NETFramework,Version=v4.6.2"/>\r\n'
            "  </startup>\r\n</configuration>\r\n"
        ),
    }


def file_version(content: str) -> str:
    """The FileVersion a simulated executable carries ("" for any other file)."""
    for line in content.splitlines():
        if line.startswith("FileVersion: "):
            return line.split(": ", 1)[1].strip()
    return ""


def install_tool(host: WindowsHost, folder: str, version: str = "") -> str:
    """Put the tool's folder on a host (the version of the site it comes from); returns the executable's path."""
    for name, content in tool_files(version).items():
        host.fs.write_text(f"{folder}\\{name}", content)
    return f"{folder}\\{TOOL_EXE}"


def hierarchy_id(hierarchy: Hierarchy) -> str:
    top = hierarchy.top_level_site()
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"cmlab:{hierarchy.name}:{top.code if top else ''}")).upper()


@dataclass
class ToolResult:
    exit_code: int
    stdout: list[str] = field(default_factory=list)
    stderr: list[str] = field(default_factory=list)


class ToolFailed(Exception):
    def __init__(self, message: str, exit_code: int = 1, stderr: str = "") -> None:
        super().__init__(message)
        self.message, self.exit_code, self.stderr = message, exit_code, stderr


def parse_arguments(argv: list[str]) -> tuple[str, dict[str, str | bool]]:
    """(mode, {switch: value or True}); ToolFailed with the usage text for anything else."""
    options: dict[str, str | bool] = {}
    i = 0
    while i < len(argv):
        token = argv[i].lower()
        if not token.startswith("-"):
            raise ToolFailed(f"ERROR: Unexpected argument '{argv[i]}'. {USAGE}")
        if token in MODES or token in DOWNLOAD_SWITCHES:
            options[token] = True
            i += 1
            continue
        if i + 1 >= len(argv) or argv[i + 1].startswith("-"):
            raise ToolFailed(f"ERROR: The switch {argv[i]} needs a value. {USAGE}")
        options[token] = argv[i + 1]
        i += 2
    modes = [m for m in MODES if m in options]
    if len(modes) != 1:
        raise ToolFailed(f"ERROR: Specify exactly one of -prepare, -connect, -import, -export. {USAGE}")
    if sum(1 for s in DOWNLOAD_SWITCHES if s in options) > 1:
        raise ToolFailed(f"ERROR: Specify at most one of -downloadall, -downloadhotfix, -downloadsiteversion. {USAGE}")
    return modes[0], options


def select_updates(site_version: str, options: dict) -> list[SiteUpdate]:
    """docs/configmgr-behaviour.md#service-connection-tool: default the latest applicable update, no hotfixes;
    -downloadall everything;
    -downloadhotfix all hotfixes; -downloadsiteversion updates and hotfixes newer than the site."""
    current = tuple(int(p) for p in site_version.split("."))
    newer = [u for u in AVAILABLE_UPDATES if u.version_key > current]
    if "-downloadall" in options:
        return list(AVAILABLE_UPDATES)
    if "-downloadhotfix" in options:
        return [u for u in AVAILABLE_UPDATES if u.hotfix]
    if "-downloadsiteversion" in options:
        return newer
    updates = [u for u in newer if not u.hotfix]
    return [max(updates, key=lambda u: u.version_key)] if updates else []


class ServiceConnectionTool:
    """One run of the tool on a host, from the folder it was started in. Callers hold the model lock."""

    def __init__(self, model: ToolEnvironment, host: WindowsHost, exe_path: str, access_denied: Callable[[], bool] | None = None) -> None:
        self.model, self.host, self.exe_path = model, host, exe_path
        self.folder = ntpath.dirname(exe_path)
        self.access_denied = access_denied or (lambda: False)
        self.out: list[str] = []

    # Output ----------------------------------------------------------------------------------
    def _log(self) -> LogWriter:
        return LogWriter(self.host, f"{self.folder}\\ServiceConnectionTool.log", "ServiceConnectionTool", register=False)

    def _say(self, line: str, severity: int = 1) -> None:
        self.out.append(line)
        self._log().write(line, severity=severity)

    def run(self, argv: list[str], user: str | None = None) -> ToolResult:
        fs = self.host.fs
        log_path = f"{self.folder}\\ServiceConnectionTool.log"
        if fs.node(log_path) is not None:
            fs.delete(log_path)  # replaced each run (docs/configmgr-behaviour.md#service-connection-tool)
        for name in TOOL_FILES:
            if fs.kind(f"{self.folder}\\{name}") != "leaf":
                text = f"Unhandled Exception: System.IO.FileNotFoundException: Could not find file '{self.folder}\\{name}'."
                return ToolResult(UNHANDLED_EXIT, [], [text])
        try:
            mode, options = parse_arguments(argv)
            self._say(f"INFO: ServiceConnectionTool {' '.join(argv)}")
            admin = user is None or self.host.is_local_admin(user)
            if not admin:
                # docs/configmgr-behaviour.md#service-connection-tool: elevated command prompt, local administrator on the SCP host.
                raise ToolFailed("ERROR: The service connection tool must run elevated, as a local administrator of this computer.")
            handler = {"-prepare": self._prepare, "-connect": self._connect, "-import": self._import, "-export": self._export}[mode]
            return handler(options)
        except ToolFailed as e:
            self._say(e.message, severity=3)
            return ToolResult(e.exit_code, list(self.out), [e.stderr] if e.stderr else [])

    @property
    def version(self) -> str:
        node = self.host.fs.node(self.exe_path)
        return file_version(node.content) if node is not None and not node.is_dir else ""

    def _matches(self, site_version: str, what: str) -> None:
        """The tool must match the site's version (docs/configmgr-behaviour.md#service-connection-tool:
        "Always use the service connection tool that matches the version"); the refusal's wording is assumed."""
        if self.version != site_version:
            raise ToolFailed(
                f"ERROR: This service connection tool is version {self.version or 'unknown'}, but {what} "
                f"is version {site_version}. Use the service connection tool that matches the version of "
                "Configuration Manager (CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool on the site server)."
            )

    # Where the tool runs -----------------------------------------------------------------------
    def _scp_here(self) -> tuple[Hierarchy, SiteSystem]:
        for hierarchy in self.model.hierarchies:
            for ss, role in hierarchy.scps():
                if ss.server == self.host.fqdn and role.state == RoleState.INSTALLED:
                    return hierarchy, ss
        raise ToolFailed(
            f"ERROR: No service connection point is installed on {self.host.fqdn}. Run -prepare, "
            "-import and -export on the service connection point server."
        )

    def _offline_scp(self) -> tuple[Hierarchy, SiteSystem]:
        hierarchy, ss = self._scp_here()
        role = ss.role(ROLE_SCP)
        if role is None or hierarchy.scp_mode(role) != "Offline":
            # docs/configmgr-behaviour.md#service-connection-tool: the SCP must be configured for offline, on-demand connection.
            raise ToolFailed(
                "ERROR: The service connection point is in online mode. The service connection tool "
                "can only be used when the service connection point is in offline mode."
            )
        return hierarchy, ss

    def _path(self, options: dict, switch: str) -> str:
        value = options.get(switch)
        if not isinstance(value, str) or not value:
            raise ToolFailed(f"ERROR: {switch} is required. {USAGE}")
        if not (len(value) > 2 and value[1] == ":" and value[2] in "\\/"):
            raise ToolFailed(f"ERROR: {switch} must be a full path with a drive letter: {value}")
        return value.rstrip("\\")

    # -prepare -------------------------------------------------------------------------------------
    def _prepare(self, options: dict) -> ToolResult:
        hierarchy, ss = self._offline_scp()
        self._matches(hierarchy.sites[ss.site_code].version, f"site {ss.site_code}")
        dest = self._path(options, "-usagedatadest")
        if not dest.lower().endswith(".cab"):
            raise ToolFailed(f"ERROR: -usagedatadest must name a .cab file: {dest}")
        if self.host.fs.kind(ntpath.dirname(dest)) != "container":
            raise ToolFailed(f"ERROR: The folder {ntpath.dirname(dest)} does not exist.")
        site = hierarchy.sites[ss.site_code]
        data = {
            "hierarchy_id": hierarchy_id(hierarchy),
            "site_code": site.code,
            "site_version": site.version,
            "telemetry_level": hierarchy.telemetry_level,
            "files": [f"{site.version}.txt", "UsageData.xml"],
        }  # the text file named with the site version
        self.host.fs.write_text(dest, json.dumps(data, sort_keys=True))
        self._say(f"INFO: Exporting usage data of hierarchy {data['hierarchy_id']} (site {site.code}, version {site.version}).")
        self._say(f"INFO: Usage data saved to {dest}")
        return ToolResult(0, list(self.out))

    # -connect -------------------------------------------------------------------------------------
    def _usage_files(self, source: str) -> list[tuple[str, dict]]:
        fs = self.host.fs
        kind = fs.kind(source)
        if kind is None:
            raise ToolFailed(f"ERROR: The usage data source {source} does not exist.")
        paths = [source] if kind == "leaf" else [p for p, node in fs.entries(source) if not node.is_dir and p.lower().endswith(".cab")]
        if not paths:
            raise ToolFailed(f"ERROR: No usage data files (.cab) in {source}.")
        found = []
        for path in paths:
            try:
                data = json.loads(fs.file(path).content)
                found.append((path, {k: data[k] for k in ("hierarchy_id", "site_code", "site_version")}))
            except (ValueError, KeyError, TypeError):
                raise ToolFailed(f"ERROR: {path} is not a usage data file created by -prepare.") from None
        return found

    def _proxy(self, options: dict) -> ProxyUse | None:
        raw = options.get("-proxyserveruri")
        if not isinstance(raw, str):
            if "-proxyusername" in options:
                raise ToolFailed(f"ERROR: -proxyusername needs -proxyserveruri. {USAGE}")
            return None
        text = raw.split("://", 1)[-1].rstrip("/")
        server, _, port = text.partition(":")
        if port and not port.isdigit():
            raise ToolFailed(f"ERROR: Invalid proxy server URI: {raw}")
        # Port 80 when none is given (the console's default, docs/configmgr-behaviour.md#site-system-servers).
        return ProxyUse(server, int(port) if port else 80, authenticated="-proxyusername" in options)

    def _connect(self, options: dict) -> ToolResult:
        source = self._path(options, "-usagedatasrc")
        dest = self._path(options, "-updatepackdest")
        usage = self._usage_files(source)
        proxy = self._proxy(options)
        client = client_for(self.host, "sct", self.model.clock.now())
        internet = lab_internet(self.model)
        setup_log = LogWriter(self.host, "C:\\ConfigMgrSetup.log", "ConfigMgrSetup", register=False)
        for path, data in usage:
            self._say(f"INFO: Usage data {path}: hierarchy {data['hierarchy_id']}, site version {data['site_version']}")
            self._matches(data["site_version"], f"the usage data in {path} (site {data['site_code']})")

        def download(url: str, what: str) -> None:
            setup_log.write(f"INFO: Downloading {url} as {what}")
            setup_log.write(
                "No proxy information is specified. Connect without proxy."
                if proxy is None
                else f"Proxy information is specified. Connect with proxy {proxy.server}:{proxy.port}."
            )
            response = internet.request(url, proxy, client)
            if not response.ok:
                setup_log.write(f"ERROR: Failed to download {what}: {response.message}", severity=3)
                raise ToolFailed(f"ERROR: Failed to download {what}: {response.message}")
            setup_log.write(f"INFO: WinHttpQueryHeaders() in Download() returned OK ({response.status})")

        download(MANIFEST_FWLINK, "ConfigMgr.Update.Manifest.cab")
        self._say("INFO:ConfigMgr.Update.Manifest.cab (size = 15741046) downloaded successfully")
        # TLS 1.2 only (docs/configmgr-behaviour.md#service-connection-tool)
        download(ADMINUI_CONTENT_URL, "ConfigMgr.AdminUIContent.cab")
        wanted: dict[str, SiteUpdate] = {}
        for _, data in usage:
            for update in select_updates(data["site_version"], options):
                wanted[update.guid] = update
        fs = self.host.fs
        fs.make_dirs(dest)
        for update in sorted(wanted.values(), key=lambda u: u.version_key):
            self._say(
                f"INFO:Downloading Payload {update.guid} version {update.full_version}. More information: "
                "https://go.microsoft.com/fwlink/?LinkId=2166085"
            )
            download(PAYLOAD_URL.format(guid=update.guid.lower()), f"{update.guid}.cab")
            fs.write_text(f"{dest}\\{update.guid}\\{update.guid}.cab", f"simulated payload {update.name}\n")
            self._say(f"INFO:Downloaded Payload {update.guid} size = 967280807")
            self._say(f"INFO:Downloading Redists for {update.guid}")
            download(REDIST_FWLINK, "SQLSysClrTypes.msi")
            setup_log.write(f"INFO: Verifying hash for file '{dest}\\{update.guid}\\Redist\\SQLSysClrTypes.msi'")
            fs.write_text(f"{dest}\\{update.guid}\\Redist\\SQLSysClrTypes.msi", "simulated redistributable\n")
            self._say(f"INFO:Successfully downloaded Redists for {update.guid}")
        manifest = {
            "hierarchies": sorted({d["hierarchy_id"] for _, d in usage}),
            "updates": [
                {"guid": u.guid, "name": u.name, "full_version": u.full_version, "hotfix": u.hotfix}
                for u in sorted(wanted.values(), key=lambda u: u.version_key)
            ],
        }
        fs.write_text(f"{dest}\\{MANIFEST}", json.dumps(manifest, sort_keys=True))
        self._say(f"INFO: {len(wanted)} update package(s) saved to {dest}")
        if self.access_denied():
            # docs/configmgr-behaviour.md#service-connection-tool: known and harmless; the data is complete.
            text = (
                "Unhandled Exception: System.UnauthorizedAccessException: Access to the path "
                "'C:\\Windows\\Temp\\extractmanifestcab\\95F8A562.sql' is denied."
            )
            return ToolResult(UNHANDLED_EXIT, list(self.out), [text])
        return ToolResult(0, list(self.out))

    # -import --------------------------------------------------------------------------------------
    def _import(self, options: dict) -> ToolResult:
        hierarchy, ss = self._offline_scp()
        self._matches(hierarchy.sites[ss.site_code].version, f"site {ss.site_code}")
        source = self._path(options, "-updatepacksrc")
        fs = self.host.fs
        if fs.kind(f"{source}\\{MANIFEST}") != "leaf":
            raise ToolFailed(f"ERROR: {source} does not contain {MANIFEST}. Run -connect first.")
        try:
            manifest = json.loads(fs.file(f"{source}\\{MANIFEST}").content)
            hierarchies, updates = manifest["hierarchies"], manifest["updates"]
        except (ValueError, KeyError, TypeError):
            raise ToolFailed(f"ERROR: {source}\\{MANIFEST} is not a valid update manifest.") from None
        ident = hierarchy_id(hierarchy)
        if ident not in hierarchies:
            self._say(f"INFO: {source} holds no update packages for this hierarchy ({ident}). Nothing to import.")
            return ToolResult(0, list(self.out))
        site = hierarchy.sites[ss.site_code]
        current = tuple(int(p) for p in site.version.split("."))
        payload_root = f"{ensure_executive(self.host).install_dir}\\EasySetupPayload\\Offline"
        imported = 0
        for update in updates:
            guid = update["guid"]
            if fs.kind(f"{source}\\{guid}") != "container":
                raise ToolFailed(f"ERROR: The payload of update {guid} is missing from {source}.")
            if tuple(int(p) for p in update["full_version"].split(".")) <= current and not update.get("hotfix"):
                self._say(f"INFO: Update {update['name']} ({guid}) does not apply to site version {site.version}. Skipped.")
                continue
            if guid in hierarchy.updates:
                # Known to the hierarchy already (ConfigMgr's own list of updates): not imported twice.
                self._say(f"INFO: Update {update['name']} ({guid}) is already imported. Skipped.")
                continue
            fs.make_dirs(f"{payload_root}\\{guid}")
            hierarchy.updates[guid] = {
                "name": update["name"],
                "full_version": update["full_version"],
                "state": DOWNLOAD_SUCCESS,
                "source": "import",
            }
            self._say(f"INFO: Imported update {update['name']} ({guid}).")
            imported += 1
        ensure_executive(self.host).log(DOWNLOADER, "Dmpdownloader.log").write("Successfully Dropped the state message 4~~")
        self._say(f"INFO: {imported} update package(s) imported for hierarchy {ident}.")
        return ToolResult(0, list(self.out))

    # -export --------------------------------------------------------------------------------------
    def _export(self, options: dict) -> ToolResult:
        hierarchy, ss = self._scp_here()
        self._matches(hierarchy.sites[ss.site_code].version, f"site {ss.site_code}")
        dest = self._path(options, "-dest")
        if self.host.fs.kind(ntpath.dirname(dest)) != "container":
            raise ToolFailed(f"ERROR: The folder {ntpath.dirname(dest)} does not exist.")
        site = hierarchy.sites[ss.site_code]
        rows = [
            "HierarchyId,SiteCode,SiteVersion,TelemetryLevel",
            f"{hierarchy_id(hierarchy)},{site.code},{site.version},{hierarchy.telemetry_level}",
        ]
        self.host.fs.write_text(dest, "\r\n".join(rows) + "\r\n")
        self._say(f"INFO: Usage data exported to {dest}")
        return ToolResult(0, list(self.out))
