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
    """CommandLineToArgvW, simplified: whitespace separates, double quotes group ("" inside is a quote)."""
    args, current, quoted, has = [], [], False, False
    i = 0
    while i < len(text):
        c = text[i]
        if c == '"':
            if quoted and text[i + 1:i + 2] == '"':
                current.append('"')
                i += 1
            else:
                quoted = not quoted
            has = True
        elif c.isspace() and not quoted:
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
    return CmdletError.of(inv.cmdlet, "InvalidOperationException",
                          "This command cannot be run due to the error: The system cannot find the file specified.",
                          "InvalidOperation", "System.InvalidOperationException")


def _absolute(inv: Invocation, path: str) -> str:
    if is_file_system_path(path) and len(path) > 2:
        return path
    base = inv.get("WorkingDirectory")
    if base and is_file_system_path(str(base)):
        return f"{str(base).rstrip(chr(92))}\\{path}"
    raise not_simulated(inv.cmdlet, f"with the relative path {path!r} and no -WorkingDirectory")


@cmdlet("Start-Process", ("FilePath", "ArgumentList", "Wait", "PassThru", "NoNewWindow", "RedirectStandardOutput",
                          "RedirectStandardError", "WorkingDirectory", "WindowStyle"))
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
        tool = ServiceConnectionTool(inv.model, inv.host, path,
                                     access_denied=lambda: inv.faults.fire(inv.host.fqdn, "sct_access_denied") is not None)
        result = tool.run(argv, getattr(inv, "user", None))
        for param, lines in (("RedirectStandardOutput", result.stdout), ("RedirectStandardError", result.stderr)):
            target = inv.get(param)
            if target:
                fs.write_text(_absolute(inv, str(target)), "".join(line + "\r\n" for line in lines))
        if not inv.switch("PassThru"):
            return []
        waited = inv.switch("Wait")
        when = ps_datetime(started, inv.host.time_zone_bias)        # Process.StartTime is a Local DateTime
        # Without -Wait, Start-Process returns while the process runs: no exit code yet.
        return [PSObject(["System.Diagnostics.Process", "System.ComponentModel.Component", "System.Object"], {
            "Id": next(_PIDS),
            "ProcessName": ntpath.splitext(ntpath.basename(path))[0],
            "Path": path,
            "HasExited": waited,
            "ExitCode": result.exit_code if waited else None,
            "StartTime": when,
            "ExitTime": when if waited else None,
        }, f"System.Diagnostics.Process ({ntpath.splitext(ntpath.basename(path))[0]})")]
