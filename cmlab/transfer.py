"""Ansible's file transfer over WinRM, recognised exactly and carried out on the simulated file system.

The winrm connection plugin moves files with two PowerShell scripts of its own (ansible-core's
``put_file`` and ``fetch_file``), which configmgr.scp.file_transfer uses:

- ansible-core 2.16 to 2.18 send an inline script: ``put_file`` embeds the target path
  (``$path = '...'``, single quotes doubled) and reads the file's bytes from standard input, one
  base64 line per chunk, answering ``{"sha1":"<hex>"}``; ``fetch_file`` embeds the path, the buffer size
  and the offset of one chunk, reads no input and answers the chunk in base64, ``[DIR]`` for a
  folder, or fails "<path> does not exist" (exit code 1).
- ansible-core 2.19 and later send one fixed bootstrap (``bootstrap_wrapper.ps1``) as the command, and on
  standard input a JSON line that carries the text of ``exec_wrapper.ps1``, a NUL line, the manifest
  (the action script ``winrm_put_file.ps1`` / ``winrm_fetch_file.ps1`` in base64 and its parameters
  ``Path``, ``BufferSize``, ``Offset``) and, for ``put_file``, a NUL line and the data lines.

cmlab never runs any of these scripts. It recognises them by the SHA-256 digest of their text with the
variable values (the path, buffer size and offset) replaced by placeholders, compared with the digests
of the ansible-core versions the collection supports (``DIGESTS``, made by ``tools/transfer_digests.py``
from each version's own plugin), reads the values and does what the script does: data, never code.
Any other script, including one that differs in a single character, is refused as before ("is not
recognized", cmlab.scripts).

Standard library only: tools/transfer_digests.py imports this file under each ansible-core version.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
from dataclasses import dataclass, field

PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
NUL_LINE = "\0\0\0\0"
# PowerShell's single-quoted string: any of these five characters quotes, and a doubled one is a literal
# (what Ansible's powershell shell plugin _escape() writes).
_QUOTES = "'\u2018\u2019\u201a\u201b"
_PATH_LINE = re.compile(r"^\$path = '(.*)'$")
_NUMBER_LINE = re.compile(r"^\$(buffer_size|offset) = ([0-9]{1,19})$")

# sha256 of each recognised text -> what it is. Inline scripts (2.16-2.18) are hashed with their
# values replaced (see normalise_inline); the 2.19 texts are hashed as sent.
DIGESTS: dict[str, str] = {
    # ansible-core 2.16.19, 2.17.14, 2.18.19 (the same scripts in all three)
    "aa2e5175bc8d0ebc8dcd4495c59051c763bff9a9cbb8c31659893e367545887e": "inline-put",
    "f76cf90e49d91637189c1ce496f5efb54ffbd24d8699dceae35a7180ea1d1c08": "inline-fetch",
    # ansible-core 2.19.14: the bootstrap (put_file without, fetch_file with Set-StrictMode), the exec
    # wrapper it runs, and the two action scripts
    "dd3b1b8be03fbd83c4137324d97eea1b833634802f67a19952baedd667232a5c": "bootstrap-wrapper",
    "2f39890f5fe6d1cc41d9ac0ea6fa105252b956792fd7827fdffbfdb0d64629ad": "bootstrap-wrapper",
    "03f8625c1950b5c7196c76665c4cee63183d26a2af122890b31f5b1ec86f2fe8": "exec-wrapper",
    "e2ab1cf8696a0b76741377d0497915ea8312573c6c4b5dd9c135ebc7b92b9605": "bootstrap-put",
    "c0e827306170361abd73ffbc92e18135c8468faf51d1476ff9a9b7f4cdc1103c": "bootstrap-fetch",
    # ansible-core 2.20.10 sends exactly what 2.19.14 sends. 2.21.5: its own bootstrap (one for both) and exec
    # wrapper, the same two action scripts; the command line spells the executable `powershell`.
    "1c7c52c2333d153430b5a48ca7b5d13a430ee2238db636b1cf8461c9f99713bc": "bootstrap-wrapper",
    "788f9ca4869dd3593766ffb616d84d20e432e7612601ab8c052dde1eb07e14b0": "exec-wrapper",
}
# The exec wrapper's parameters as the file transfer sends them: 2.19-2.20, and 2.21 (PwshPath added).
WRAPPER_PARAMS = (
    {"MinOSVersion": None, "MinPSVersion": None, "TempPath": None},
    {"MinOSVersion": None, "MinPSVersion": None, "TempPath": None, "PwshPath": None},
)


class NotTransfer(Exception):
    """The command is not one of Ansible's transfer scripts (cmlab.scripts then refuses it)."""


@dataclass
class Transfer:
    kind: str  # "put" or "fetch"
    path: str
    generation: str  # "inline" (2.16-2.18) or "bootstrap" (2.19)
    buffer_size: int = 0
    offset: int = 0
    data_lines: list[bytes] = field(default_factory=list)


def digest(text: str | bytes) -> str:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return hashlib.sha256(data).hexdigest()


def decode_command(command_line: str) -> str | None:
    """The script of `PowerShell ... -EncodedCommand <base64 UTF-16LE>` (Ansible's form), else None."""
    line = command_line.strip()
    if line[: len(PREFIX)].lower() != PREFIX.lower():  # Windows reads the words without case (2.21: `powershell`)
        return None
    encoded = line[len(PREFIX) :].strip()
    if not encoded or " " in encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-16-le")
    except (binascii.Error, ValueError, UnicodeDecodeError):
        return None


def ps_single_quoted(value: str) -> str:
    """What Ansible's powershell shell plugin writes between single quotes (_escape)."""
    return re.sub(f"([{_QUOTES}])", r"\1\1", value)


def _unquote(raw: str) -> str | None:
    """The value of a single-quoted PowerShell string's body, or None when the body is not one string."""
    out, i = [], 0
    while i < len(raw):
        c = raw[i]
        if c in _QUOTES:
            if i + 1 < len(raw) and raw[i + 1] == c:
                out.append(c)
                i += 2
                continue
            return None  # the string would end here: more follows on the line
        out.append(c)
        i += 1
    value = "".join(out)
    return value if ps_single_quoted(value) == raw else None


def normalise_inline(script: str) -> tuple[str, dict[str, str | int]]:
    """The inline script with its values replaced by placeholders, and the values."""
    values: dict[str, str | int] = {}
    lines = []
    for line in script.split("\n"):
        match = _PATH_LINE.match(line)
        if match and "path" not in values:
            path = _unquote(match.group(1))
            if path is None:
                raise NotTransfer("the path is not one single-quoted string")
            values["path"] = path
            lines.append("$path = '{path}'")
            continue
        match = _NUMBER_LINE.match(line)
        if match and match.group(1) not in values:
            values[match.group(1)] = int(match.group(2))
            lines.append(f"${match.group(1)} = {{{match.group(1)}}}")
            continue
        lines.append(line)
    return "\n".join(lines), values


def _split_lines(data: bytes) -> list[bytes]:
    """Standard input as PowerShell's $input gives it to a script: lines split at LF, CR LF removed."""
    if not data:
        return []
    lines = data.split(b"\n")
    if lines[-1] == b"":
        lines.pop()
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _bootstrap_transfer(stdin: bytes) -> Transfer:
    """ansible-core 2.19: the exec wrapper's JSON line, a NUL line, the manifest, [a NUL line, data]."""
    lines = _split_lines(stdin)
    if len(lines) < 3 or lines[1] != NUL_LINE.encode():
        raise NotTransfer("not the exec wrapper's input")
    try:
        wrapper = json.loads(lines[0])
        manifest = json.loads(lines[2])
    except ValueError:
        raise NotTransfer("the exec wrapper's input is not JSON") from None
    if (
        not isinstance(wrapper, dict)
        or set(wrapper) != {"name", "script", "params"}
        or wrapper["name"] != "exec_wrapper"
        or wrapper["params"] not in WRAPPER_PARAMS
        or not isinstance(wrapper["script"], str)
        or DIGESTS.get(digest(wrapper["script"])) != "exec-wrapper"
    ):
        raise NotTransfer("not the exec wrapper of a supported ansible-core")
    if (
        not isinstance(manifest, dict)
        or set(manifest) != {"scripts", "actions", "signed_hashlist"}
        or manifest["signed_hashlist"] != []
        or not isinstance(manifest["actions"], list)
        or len(manifest["actions"]) != 1
        or not isinstance(manifest["scripts"], dict)
        or len(manifest["scripts"]) != 1
    ):
        raise NotTransfer("not a transfer manifest")
    action = manifest["actions"][0]
    if not isinstance(action, dict) or set(action) != {"name", "params", "secure_params"} or action["secure_params"] != {}:
        raise NotTransfer("not a transfer action")
    name = action["name"]
    script = manifest["scripts"].get(name)
    if not isinstance(script, dict) or set(script) != {"path", "script"} or script["path"] != name:
        raise NotTransfer("the manifest does not carry its action's script")
    try:
        content = base64.b64decode(script["script"], validate=True)
    except (binascii.Error, ValueError, TypeError):
        raise NotTransfer("the action script is not base64") from None
    kind = {"winrm_put_file.ps1": "bootstrap-put", "winrm_fetch_file.ps1": "bootstrap-fetch"}.get(name)
    if kind is None or DIGESTS.get(digest(content)) != kind:
        raise NotTransfer("not a transfer script of a supported ansible-core")
    params = action["params"]
    if kind == "bootstrap-put":
        if not isinstance(params, dict) or set(params) != {"Path"} or not isinstance(params["Path"], str):
            raise NotTransfer("put_file's parameters")
        if len(lines) > 3 and lines[3] != NUL_LINE.encode():
            raise NotTransfer("put_file's data must follow a NUL line")
        return Transfer("put", params["Path"], "bootstrap", data_lines=lines[4:])
    if (
        not isinstance(params, dict)
        or set(params) != {"Path", "BufferSize", "Offset"}
        or not isinstance(params["Path"], str)
        or type(params["BufferSize"]) is not int
        or type(params["Offset"]) is not int
    ):
        raise NotTransfer("fetch_file's parameters")
    if len(lines) != 3:
        raise NotTransfer("fetch_file takes no data")
    return Transfer("fetch", params["Path"], "bootstrap", buffer_size=params["BufferSize"], offset=params["Offset"])


def recognise(command_line: str, stdin: bytes) -> Transfer:
    """The transfer a command is, or NotTransfer."""
    script = decode_command(command_line)
    if script is None:
        raise NotTransfer("not an encoded PowerShell command")
    kind = DIGESTS.get(digest(script))
    if kind == "bootstrap-wrapper":
        return _bootstrap_transfer(stdin)
    normalised, values = normalise_inline(script)
    kind = DIGESTS.get(digest(normalised))
    if kind == "inline-put":
        if set(values) != {"path"}:
            raise NotTransfer("put_file's values")
        return Transfer("put", str(values["path"]), "inline", data_lines=_split_lines(stdin))
    if kind == "inline-fetch":
        if set(values) != {"path", "buffer_size", "offset"} or stdin:
            raise NotTransfer("fetch_file's values")
        return Transfer("fetch", str(values["path"]), "inline", buffer_size=int(values["buffer_size"]), offset=int(values["offset"]))
    raise NotTransfer("not a transfer script of a supported ansible-core")


def decode_data(lines: list[bytes]) -> bytes:
    """put_file's data: each line is one chunk in base64 (a chunk is encoded on its own)."""
    try:
        return b"".join(base64.b64decode(line, validate=True) for line in lines)
    except (binascii.Error, ValueError) as e:
        raise ValueError(f"The input is not a valid Base-64 string: {e}") from None
