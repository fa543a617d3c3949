"""What a command line is: the engine bootstrap, Ansible's file transfer, or something Windows would refuse.

cmlab never interprets a script. The one command it runs is the fixed bootstrap of the protocol
module (plugins/plugin_utils/_protocol.py) with this checkout's engine on standard input (the variant
with exactly the regions the payload needs, _protocol.engine_features), as
Ansible's connection plugins send it: `PowerShell ... -EncodedCommand <bootstrap>`, or that command
line encoded once more as a script (what the winrm plugin of ansible-core 2.16-2.18 makes of an
encoded command: Windows runs it as a powershell.exe started by another, and so does cmlab).
The winrm connection plugin's own put_file and fetch_file scripts of the supported ansible-core
versions are recognised by digest (cmlab.transfer) and carried out as data on the host's simulated
file system. Anything else gets the error cmd.exe or powershell.exe would print for an unknown command.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import re
from pathlib import Path
from xml.sax.saxutils import escape

from cmlab import transfer
from cmlab.contract import ENGINE_FILE
from cmlab.contract import protocol as _protocol
from cmlab.dispatch import CommandOutcome
from cmlab.engine import Engine
from cmlab.model.errors import ModelError
from cmlab.model.files import is_file_system_path

log = logging.getLogger(__name__)

# How many powershell.exe wrap the bootstrap at most: Ansible encodes once, old winrm plugins twice.
MAX_WRAPPING = 2
CLIXML_HEADER = '#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04">'


def normalise_source(text: str) -> str:
    """Engine text as compared: LF line ends, no trailing whitespace on lines or at the end."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).rstrip()


def not_recognized_term(word: str) -> str:
    return (
        f"The term '{word}' is not recognized as the name of a cmdlet, function, script file, or operable "
        "program. Check the spelling of the name, or if a path was included, verify that the path is correct "
        "and try again."
    )


def clixml_error(message: str) -> bytes:
    """powershell.exe writes errors to a redirected stderr as CLIXML."""
    body = escape(message).replace("\r", "_x000D_").replace("\n", "_x000A_")
    return (CLIXML_HEADER + f'<S S="Error">{body}_x000D__x000A_</S></Objs>').encode("utf-8")


def _first_word(text: str) -> str:
    text = text.strip().lstrip("&.").strip()
    if text.startswith(("'", '"')):
        quote = text[0]
        end = text.find(quote, 1)
        return text[1:end] if end > 0 else text[1:]
    match = re.match(r"[^\s;|&(){}]+", text)
    return match.group(0) if match else text[:1]


_PS_EXE = re.compile(r"^\s*(?:\"?[^\"]*\\)?powershell(?:\.exe)?\"?(\s|$)", re.IGNORECASE)
_ENCODED = re.compile(r"\s-(?:e|ec|enc|encodedcommand|encodedc\w*)\s+(\S+)", re.IGNORECASE)
_COMMAND = re.compile(r"\s-(?:c|command)\s+(.*)$", re.IGNORECASE | re.DOTALL)


def bootstrap_wrapping(command_line: str) -> int | None:
    """How many powershell.exe a command line starts before the bootstrap runs: 1 for
    BOOTSTRAP_COMMAND (its words in any case, as Windows reads them: ansible-core 2.21's winrm plugin
    writes `powershell`), 2 for it encoded again as a script (ansible-core 2.16-2.18 winrm with an
    encoded command); None when it is not the bootstrap. Only ever compares with the fixed text."""
    line = command_line.strip()
    for depth in range(1, MAX_WRAPPING + 1):
        script = _protocol.decode_command(line)
        if script is None:
            return None
        if script == _protocol.BOOTSTRAP:
            return depth
        # Ansible's _encode_script keeps the script's non-blank lines, stripped: the command is one line.
        line = script.strip()
    return None


class ScriptDispatcher:
    """cmlab.dispatch.Dispatcher for the simulated hosts."""

    def __init__(self, engine: Engine, engine_file: Path = ENGINE_FILE) -> None:
        self.engine = engine
        self.engine_file = engine_file
        self._bootstrap = _protocol

    def expected_engine(self, payload: str) -> str | None:
        """This checkout's engine as the runner sends it with this payload (read each time: a developer may
        edit it while the lab runs): minified, with exactly the regions the payload needs
        (_protocol.engine_features). So a runner that leaves out a region a plan needs is refused, as is
        one that sends more than the plan needs."""
        try:
            source = self.engine_file.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return None
        return normalise_source(self._bootstrap.minify(source, self._bootstrap.engine_features(payload)))

    def authorize(self, host: str, principal: str) -> bool:
        """WinRM's access check (cmlab.dispatch.Authorizer): a local administrator or a member of Remote
        Management Users of the host."""
        machine = self.engine.model.host(host)
        return machine is None or machine.may_use_winrm(principal)

    def run(self, host: str, command_line: str, stdin: bytes, runspace: dict | None = None, identity: str | None = None) -> CommandOutcome:
        """`runspace`: a PSRP pipeline's runspace state; the script runs in it, no powershell.exe starts.
        `identity`: the shell's principal, whose rights the engine's steps have."""
        depth = bootstrap_wrapping(command_line)
        starts = (depth or 1) - (1 if runspace is not None else 0)
        if depth is not None:
            with self.engine.accounting.invocation(host):
                self.engine.accounting.charge(host, "powershell_start", starts)
                return self._run_bootstrap(host, stdin, runspace, identity)
        if runspace is None:
            try:
                moved = transfer.recognise(command_line, stdin)
            except transfer.NotTransfer:
                moved = None
            if moved is not None:
                self.engine.accounting.charge(host, "powershell_start", 1)
                return self._run_transfer(host, moved)
        if _PS_EXE.match(command_line):
            self.engine.accounting.charge(host, "powershell_start", starts)
        return self._refuse(command_line)

    def _run_bootstrap(self, host: str, stdin: bytes, runspace: dict | None = None, identity: str | None = None) -> CommandOutcome:
        parts = self._bootstrap.split_stdin(stdin)
        if parts is None:
            # What the bootstrap itself does without a separator.
            return CommandOutcome(stderr=clixml_error(_protocol.NO_PAYLOAD_MESSAGE), rc=1)
        engine_text, payload = parts
        expected = self.expected_engine(payload)
        if expected is not None and normalise_source(engine_text) != expected:
            log.warning("%s: engine on stdin differs from %s", host, self.engine_file)
            return CommandOutcome(
                stderr=clixml_error(
                    f"cmlab: the engine on standard input is not this checkout's {self.engine_file.name} with the regions "
                    "this payload needs; cmlab only runs the project's own engine (is the collection out of date?)"
                ),
                rc=1,
            )
        self.engine.accounting.charge(host, "engine_load")
        stdout = self.engine.run(host, payload, runspace, identity=identity)
        return CommandOutcome(stdout=stdout.encode("ascii"), rc=0)

    def _run_transfer(self, host_name: str, moved: transfer.Transfer) -> CommandOutcome:
        """What put_file / fetch_file do (cmlab.transfer), on the host's simulated file system."""
        model = self.engine.model
        path = moved.path
        with model.lock:
            host = model.host(host_name)
            if host is None:
                return CommandOutcome(stderr=clixml_error(f"cmlab has no host named {host_name}."), rc=1)
            fs = host.fs
            if not is_file_system_path(path) or len(path.strip()) < 3 or path.strip()[2] not in "\\/":
                return CommandOutcome(
                    stderr=clixml_error(f"cmlab does not simulate a file transfer to or from the relative path {path!r}."), rc=1
                )
            try:
                node = fs.node(path)
            except ModelError:  # "..": not simulated
                return CommandOutcome(stderr=clixml_error(f"cmlab does not simulate the path {path!r}."), rc=1)
            if moved.kind == "fetch":
                if node is not None and not node.is_dir:
                    chunk = node.data[moved.offset : moved.offset + moved.buffer_size] if moved.offset >= 0 else b""
                    return CommandOutcome(stdout=base64.b64encode(chunk) + b"\r\n" if chunk else b"", rc=0)
                if node is not None:
                    return CommandOutcome(stdout=b"[DIR]\r\n", rc=0)
                if moved.generation == "inline":  # Write-Error, then exit 1
                    return CommandOutcome(stderr=clixml_error(f"{path} does not exist"), rc=1)
                return CommandOutcome(stderr=f"{path} does not exist\r\n".encode(), rc=1)  # WriteErrorLine
            # put: [IO.File]::Create($path), the base64 lines, the file's SHA-1
            parent = path.rstrip("\\/").replace("/", "\\").rpartition("\\")[0]
            try:
                parent_kind = fs.kind(parent if len(parent) > 2 else parent + "\\")
            except ModelError:
                parent_kind = None
            if node is not None and node.is_dir:
                return CommandOutcome(
                    stderr=clixml_error(f'Exception calling "Create" with "1" argument(s): "Access to the path \'{path}\' is denied."'),
                    rc=1,
                )
            if parent_kind != "container":
                return CommandOutcome(
                    stderr=clixml_error(
                        f'Exception calling "Create" with "1" argument(s): "Could not find a part of the path \'{path}\'."'
                    ),
                    rc=1,
                )
            try:
                data = transfer.decode_data(moved.data_lines)
            except ValueError as e:
                fs.write_bytes(path, b"")  # File.Create ran before the input was read
                return CommandOutcome(stderr=clixml_error(f'Exception calling "FromBase64String" with "1" argument(s): "{e}"'), rc=1)
            fs.write_bytes(path, data)
        sha1 = hashlib.sha1(data).hexdigest()
        return CommandOutcome(stdout=('{"sha1":"' + sha1 + '"}\r\n').encode("ascii"), rc=0)

    def _refuse(self, command_line: str) -> CommandOutcome:
        if _PS_EXE.match(command_line):
            script = ""
            encoded = _ENCODED.search(command_line)
            if encoded:
                try:
                    script = base64.b64decode(encoded.group(1), validate=True).decode("utf-16-le")
                except (binascii.Error, UnicodeDecodeError, ValueError):
                    message = (
                        "Cannot process the command because the value specified with -EncodedCommand is not "
                        "properly encoded. The value must be Base64 encoded."
                    )
                    return CommandOutcome(stderr=message.encode() + b"\r\n", rc=1)
            else:
                command = _COMMAND.search(command_line)
                script = command.group(1) if command else ""
            if not script.strip():
                return CommandOutcome(stderr=clixml_error("cmlab: an interactive PowerShell session is not simulated."), rc=1)
            return CommandOutcome(stderr=clixml_error(not_recognized_term(_first_word(script))), rc=1)
        word = _first_word(command_line)
        return CommandOutcome(
            stderr=f"'{word}' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n".encode(), rc=1
        )
