# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The fixed command line that starts the engine.

Kept apart from the runner, with no Ansible imports, so that cmlab can load the very same
constants to recognise the bootstrap (docs/engine-protocol.md section 1).
"""

from __future__ import annotations

import base64
import gzip

# Read standard input (one base64 line: gzip of engine + separator + payload), unpack it, split at
# the separator and run the engine with the payload JSON as its argument. It never changes with the
# plan: the command line stays short (cmd.exe limits a WinRS command line to 8,191 characters) and
# carries no data. Packing halves the bytes of every request (the engine is most of them).
BOOTSTRAP = (
    "$ErrorActionPreference='Stop';"
    "$z=[IO.Compression.GZipStream]::new([IO.MemoryStream]::new([Convert]::FromBase64String((@($input) -join ''))),"
    "[IO.Compression.CompressionMode]::Decompress);"
    "$s=[IO.StreamReader]::new($z).ReadToEnd();"
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


def minify(engine_source: str) -> str:
    """The engine without indentation, blank lines and whole-line comments (it has no here-strings)."""
    lines = (line.strip() for line in engine_source.splitlines())
    return "\n".join(line for line in lines if line and not line.startswith("#"))


def build_stdin(engine_source: str, payload_json: str) -> bytes:
    """base64(gzip(minified engine, separator, payload)) on one line. The payload must be ASCII (JSON
    escapes do that, see the protocol doc, section 2); gzip gets a fixed mtime, so the same plan
    always packs to the same bytes."""
    packed = gzip.compress((minify(engine_source) + SEPARATOR + payload_json).encode("ascii"), mtime=0)
    return base64.b64encode(packed) + b"\n"


def split_stdin(data: bytes) -> tuple[str, str] | None:
    """What the bootstrap does with standard input, for cmlab: (engine text, payload) or None."""
    try:
        text = gzip.decompress(base64.b64decode(b"".join(data.split()), validate=True)).decode("ascii")
    except (ValueError, OSError, EOFError, UnicodeDecodeError):
        return None
    index = text.find(SEPARATOR)
    if index < 0:
        return None
    return text[:index], text[index + len(SEPARATOR):]
