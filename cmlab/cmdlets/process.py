"""Start-Process on a simulated host: only the Service Connection Tool runs
(docs/configmgr-behaviour.md#service-connection-tool).

`Start-Process -FilePath <...>\\ServiceConnectionTool.exe -ArgumentList ... -Wait -PassThru -NoNewWindow
[-RedirectStandardOutput <file>] [-RedirectStandardError <file>]`. Any other existing program fails
with "cmlab does not simulate"; a missing file with Windows' own error.
"""

from __future__ import annotations

import itertools
import ntpath

from cmlab.model.files import is_file_system_path
from cmlab.model.sct import TOOL_EXE, ServiceConnectionTool

from .base import Invocation, cmdlet
from .errors import CmdletError, not_simulated
from .pstypes import PSObject, ps_datetime

_PIDS = itertools.count(4412, 4)


def split_command_line(text: str) -> list[str]:
    """The arguments a program gets from its command line, by the rules of the Microsoft C runtime and
    CommandLineToArgvW (docs/configmgr-behaviour.md#service-connection-tool): spaces and tabs separate;
    double quotes group; 2n backslashes before a quote give n backslashes and the quote groups, 2n+1 give
    n backslashes and a literal quote; other backslashes are literal; "" inside quotes is a literal quote.
    Start-Process joins -ArgumentList with single spaces and quotes nothing, so this is what the tool sees."""
    args: list[str] = []
    current: list[str] = []
    quoted = has = False
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            j = i
            while j < n and text[j] == "\\":
                j += 1
            count = j - i
            has = True
            if j < n and text[j] == '"':
                current.append("\\" * (count // 2))
                if count % 2:
                    current.append('"')
                    j += 1
            else:
                current.append("\\" * count)
            i = j
            continue
        if c == '"':
            has = True
            if quoted and text[i + 1 : i + 2] == '"':
                current.append('"')
                i += 2
                continue
            quoted = not quoted
        elif c in " \t" and not quoted:
            if has:
                args.append("".join(current))
                current, has = [], False
        else:
            current.append(c)
            has = True
        i += 1
    if has:
        args.append("".join(current))
    return args


def _file_not_found(inv: Invocation) -> CmdletError:
    return CmdletError.of(
        inv.cmdlet,
        "InvalidOperationException",
        "This command cannot be run due to the error: The system cannot find the file specified.",
        "InvalidOperation",
        "System.InvalidOperationException",
    )


def _absolute(inv: Invocation, path: str) -> str:
    if is_file_system_path(path) and len(path) > 2:
        return path
    base = inv.get("WorkingDirectory")
    if base and is_file_system_path(str(base)):
        return f"{str(base).rstrip(chr(92))}\\{path}"
    raise not_simulated(inv.cmdlet, f"with the relative path {path!r} and no -WorkingDirectory")


@cmdlet(
    "Start-Process",
    (
        "FilePath",
        "ArgumentList",
        "Wait",
        "PassThru",
        "NoNewWindow",
        "RedirectStandardOutput",
        "RedirectStandardError",
        "WorkingDirectory",
        "WindowStyle",
    ),
)
def start_process(inv: Invocation) -> list:
    with inv.model.lock:
        path = _absolute(inv, str(inv.get("FilePath")))
        fs = inv.host.fs
        if fs.kind(path) != "leaf":
            raise _file_not_found(inv)
        path = fs.full_path(path)
        if ntpath.basename(path).lower() != TOOL_EXE.lower():
            raise not_simulated(inv.cmdlet, f"for {path} (only {TOOL_EXE} runs in cmlab)")
        argv = split_command_line(" ".join(str(a) for a in inv.get("ArgumentList") or []))
        started = inv.model.clock.now()
        tool = ServiceConnectionTool(
            inv.model, inv.host, path, access_denied=lambda: inv.faults.fire(inv.host.fqdn, "sct_access_denied") is not None
        )
        result = tool.run(argv, getattr(inv, "user", None))
        for param, lines in (("RedirectStandardOutput", result.stdout), ("RedirectStandardError", result.stderr)):
            target = inv.get(param)
            if target:
                fs.write_text(_absolute(inv, str(target)), "".join(line + "\r\n" for line in lines))
        if not inv.switch("PassThru"):
            return []
        waited = inv.switch("Wait")
        when = ps_datetime(started, inv.host.time_zone_bias)  # Process.StartTime is a Local DateTime
        # Without -Wait, Start-Process returns while the process runs: no exit code yet.
        return [
            PSObject(
                ["System.Diagnostics.Process", "System.ComponentModel.Component", "System.Object"],
                {
                    "Id": next(_PIDS),
                    "ProcessName": ntpath.splitext(ntpath.basename(path))[0],
                    "Path": path,
                    "HasExited": waited,
                    "ExitCode": result.exit_code if waited else None,
                    "StartTime": when,
                    "ExitTime": when if waited else None,
                },
                f"System.Diagnostics.Process ({ntpath.splitext(ntpath.basename(path))[0]})",
            )
        ]
