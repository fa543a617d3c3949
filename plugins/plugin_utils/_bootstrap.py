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

# Read standard input, split at the separator line, unpack part one (the engine, gzip + base64)
# and run it with part two (the payload JSON) as its argument. It never changes with the plan:
# the command line stays short (cmd.exe limits a WinRS command line to 8,191 characters) and
# carries no data. The engine is packed because it is most of every request's bytes.
BOOTSTRAP = (
    "$ErrorActionPreference='Stop';"
    "$s=@($input) -join \"`n\";"
    "$i=$s.IndexOf(\"`n`0`0`0`0`n\");"
    "if($i -lt 0){[Console]::Error.WriteLine('configmgr.scp: no engine payload on stdin');exit 2};"
    "$z=[IO.Compression.GZipStream]::new([IO.MemoryStream]::new([Convert]::FromBase64String($s.Substring(0,$i))),"
    "[IO.Compression.CompressionMode]::Decompress);"
    "&([scriptblock]::Create([IO.StreamReader]::new($z).ReadToEnd())) $s.Substring($i+6)"
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


def pack(engine_source: str) -> str:
    """Minified, gzipped (fixed mtime: the same engine always packs to the same bytes), base64."""
    return base64.b64encode(gzip.compress(minify(engine_source).encode("ascii"), mtime=0)).decode("ascii")


def build_stdin(engine_source: str, payload_json: str) -> bytes:
    """Packed engine, separator, payload. All ASCII (see the protocol doc, section 2)."""
    return (pack(engine_source) + SEPARATOR + payload_json + "\n").encode("ascii")


def split_stdin(data: bytes) -> tuple[str, str] | None:
    """What the bootstrap does with standard input, for cmlab: (engine text, payload) or None."""
    text = data.decode("ascii", errors="replace").replace("\r\n", "\n")
    index = text.find(SEPARATOR)
    if index < 0:
        return None
    try:
        engine = gzip.decompress(base64.b64decode(text[:index], validate=True)).decode("ascii")
    except (ValueError, OSError, EOFError):
        return None
    return engine, text[index + len(SEPARATOR):].strip("\n")
