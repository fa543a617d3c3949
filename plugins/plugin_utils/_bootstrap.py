# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The fixed command line that starts the engine.

Kept apart from the runner, with no Ansible imports, so that cmlab can load the very same
constants to recognise the bootstrap (docs/engine-protocol.md section 1).
"""

from __future__ import annotations

import base64

# Read standard input, split at the separator line, run part one (the engine) with part two
# (the payload JSON) as its argument. It never changes with the plan: the command line stays
# short (cmd.exe limits a WinRS command line to 8,191 characters) and carries no data.
BOOTSTRAP = (
    "$ErrorActionPreference='Stop';"
    "$s=@($input) -join \"`n\";"
    "$i=$s.IndexOf(\"`n`0`0`0`0`n\");"
    "if($i -lt 0){[Console]::Error.WriteLine('configmgr.scp: no engine payload on stdin');exit 2};"
    "&([scriptblock]::Create($s.Substring(0,$i))) $s.Substring($i+6)"
)

# The exact prefix Ansible's powershell shell plugin uses; the winrm plugin (2.19) sends a command
# that starts with it as-is and the psrp plugin decodes it and runs the script in its runspace.
COMMAND_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "

SEPARATOR = "\n\0\0\0\0\n"

RESULT_START = "<<<CMSCP-RESULT>>>"
RESULT_END = "<<<CMSCP-END>>>"

PROTOCOL_VERSION = 1


def encode_command(script: str) -> str:
    return COMMAND_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


BOOTSTRAP_COMMAND = encode_command(BOOTSTRAP)


def build_stdin(engine_source: str, payload_json: str) -> bytes:
    """Engine, separator, payload. Both parts must be ASCII (see the protocol doc, section 2)."""
    return (engine_source.rstrip("\r\n") + SEPARATOR + payload_json + "\n").encode("ascii")


def split_stdin(data: bytes) -> tuple[str, str] | None:
    """What the bootstrap does with standard input, for cmlab: (engine, payload) or None."""
    text = data.decode("ascii", errors="replace").replace("\r\n", "\n")
    index = text.find(SEPARATOR)
    if index < 0:
        return None
    return text[:index], text[index + len(SEPARATOR):].strip("\n")
