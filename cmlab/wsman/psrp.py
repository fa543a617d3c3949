"""PSRP (the PowerShell Remoting Protocol) on the WinRM listener: pypsrp and ansible's `psrp` plugin.

Resource URI `http://schemas.microsoft.com/powershell/Microsoft.PowerShell` (reference doc §5).
psrpcore's server-side RunspacePool and Pipeline speak the protocol (fragments, CLIXML, state
messages, host calls); this module moves their payloads in and out of the WS-Man operations and
runs each pipeline through the same Dispatcher as a WinRS command:

- the pipeline's script becomes the command line PowerShell would run it from
  (`PowerShell ... -EncodedCommand <base64 UTF-16LE>`), so the bootstrap is recognised as over WinRS
  and anything else gets PowerShell's "is not recognized" error; it runs in the pool's runspace
  (`runspace`: what the runspace keeps between pipelines), so no powershell.exe starts for it;
- the pipeline input lines, joined with "\\n", are its standard input: exactly what the
  collection's bootstrap does with them (`@($input) -join "`n"`);
- stdout lines become output objects, stderr becomes error records (the CLIXML `<S S="Error">`
  messages one each), a non-zero exit code a `SetShouldExit` host call, as `exit N` makes in a
  remote runspace.

Only what ansible and pypsrp use is implemented: no key exchange (secure strings), disconnect and
reconnect, GetCommandMetadata or `is_alive`.
"""

from __future__ import annotations

import base64
import logging
import re
import threading
import uuid
from dataclasses import dataclass, field
from html import unescape

from psrpcore import (
    CreatePipelineEvent,
    EndOfPipelineInputEvent,
    PipelineInputEvent,
    PSRPCoreError,
    PSRPPayload,
    ServerPipeline,
    ServerRunspacePool,
    StreamType,
)
from psrpcore.types import ErrorCategory, ErrorCategoryInfo, HostMethodIdentifier, NETException, PSInvocationState

from cmlab.dispatch import CommandOutcome, Dispatcher
from cmlab.wsman.shell import UnknownCommand
from cmlab.wsman.soap import MalformedRequest

log = logging.getLogger(__name__)

RESOURCE_PSRP = "http://schemas.microsoft.com/powershell/Microsoft.PowerShell"
NS_POWERSHELL = "http://schemas.microsoft.com/powershell"
POWERSHELL_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "
_CLIXML_ERROR = re.compile(r'<S S="Error">(.*?)</S>', re.DOTALL)
_CLIXML_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")
_NOT_RECOGNIZED = re.compile(r"^The term '(.*?)' is not recognized as the name of a cmdlet")


class UnknownPipeline(UnknownCommand):
    pass


def _pipeline_id(command_id: str) -> uuid.UUID:
    try:
        return uuid.UUID(command_id)
    except ValueError:
        raise MalformedRequest(f"{command_id!r} is not a PSRP pipeline id") from None


def command_line(script: str) -> str:
    """The command line that runs `script` in powershell.exe (what the shell plugin encodes)."""
    return POWERSHELL_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


def error_messages(stderr: bytes) -> list[str]:
    """powershell.exe's stderr as error record messages: CLIXML `<S S="Error">` entries, or the text."""
    text = stderr.decode("utf-8", errors="replace")
    if text.startswith("#< CLIXML"):
        lines = [_CLIXML_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), unescape(s)) for s in _CLIXML_ERROR.findall(text)]
        return ["".join(lines).rstrip("\r\n")] if lines else []
    return [text.rstrip("\r\n")] if text.strip() else []


def _error_category(message: str) -> tuple[ErrorCategoryInfo, None, str]:
    """(category info, target object, fully qualified error id) of an error record, as PowerShell
    makes them for an unknown command and for anything else a script writes or throws."""
    unknown = _NOT_RECOGNIZED.match(message)
    if unknown:
        return (
            ErrorCategoryInfo(
                Category=ErrorCategory.ObjectNotFound, Reason="CommandNotFoundException", TargetName=unknown.group(1), TargetType="String"
            ),
            None,
            "CommandNotFoundException",
        )
    return ErrorCategoryInfo(Category=ErrorCategory.NotSpecified, Reason="RuntimeException"), None, "RuntimeException"


@dataclass
class _Run:
    pipeline: ServerPipeline
    script: str = ""
    lines: list[str] = field(default_factory=list)
    started: bool = False
    finished: bool = False


class PsrpShell:
    """One runspace pool (a WS-Man shell of the PSRP resource URI). Thread-safe."""

    def __init__(self, shell_id: str, host: str, dispatcher: Dispatcher, owner: str, client_ip: str) -> None:
        self.id = shell_id.upper()
        self.owner = owner
        self.client_ip = client_ip
        self._host = host
        self._dispatcher = dispatcher
        self._cond = threading.Condition()
        self._pool = ServerRunspacePool()
        self._out: dict[uuid.UUID | None, bytearray] = {}  # pending payload bytes: pool (None) or pipeline
        self._runs: dict[uuid.UUID, _Run] = {}
        self._closed = False
        # What the pool's runspace keeps between pipelines (imported modules, PowerShell drives):
        # ansible's psrp plugin runs every pipeline of a task in this one runspace.
        self.runspace: dict = {}

    # -- WS-Man operations ---------------------------------------------------------------------

    def open(self, creation_xml: bytes) -> None:
        """Create: the SESSION_CAPABILITY and INIT_RUNSPACEPOOL fragments; the answers are queued
        at once (pypsrp does not tolerate a TimedOut Receive while it opens the pool)."""
        with self._cond:
            self._feed(creation_xml, StreamType.default, None)

    def command(self, command_id: str, fragment: bytes) -> str:
        pipeline_id = _pipeline_id(command_id)
        with self._cond:
            self._runs[pipeline_id] = _Run(ServerPipeline(self._pool, pipeline_id))
            self._feed(fragment, StreamType.default, pipeline_id)
        return str(pipeline_id).upper()

    def send(self, command_id: str, stream: str, data: bytes) -> None:
        pipeline_id = _pipeline_id(command_id) if command_id else None
        stream_type = StreamType.prompt_response if stream.lower() == "pr" else StreamType.default
        with self._cond:
            if pipeline_id is not None and pipeline_id not in self._runs:
                raise UnknownPipeline(command_id)
            self._feed(data, stream_type, pipeline_id)

    def receive(self, command_id: str, wait: float) -> tuple[bytes, bool] | None:
        """Long-poll for the pool's (no command id) or a pipeline's data: (data, pipeline done), or
        None when nothing came within `wait` seconds."""
        key = _pipeline_id(command_id) if command_id else None
        with self._cond:
            if key is not None and key not in self._runs:
                raise UnknownPipeline(command_id)

            def ready() -> bool:
                run = self._runs.get(key) if key is not None else None
                return bool(self._out.get(key)) or self._closed or (run is not None and run.finished)

            self._cond.wait_for(ready, timeout=max(wait, 0.0))
            data = bytes(self._out.pop(key, b""))
            run = self._runs.get(key) if key is not None else None
            done = run is not None and run.finished
            if not data and not done:
                return None
            return data, done

    def signal(self, command_id: str) -> None:
        """ctrl_c / terminate: stop the pipeline if it still runs, then forget it (always fine)."""
        try:
            key = uuid.UUID(command_id)
        except ValueError:
            return
        with self._cond:
            run = self._runs.pop(key, None)
            if run is not None and run.pipeline.state == PSInvocationState.Running:
                run.pipeline.stop()
            self._out.pop(key, None)
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()

    @property
    def running_commands(self) -> int:
        with self._cond:
            return sum(1 for run in self._runs.values() if run.started and not run.finished)

    # -- under the lock ------------------------------------------------------------------------

    def _feed(self, data: bytes, stream_type: StreamType, pipeline_id: uuid.UUID | None) -> None:
        try:
            self._pool.receive_data(PSRPPayload(data, stream_type, pipeline_id))
            self._process_events()
        except PSRPCoreError as exc:
            raise MalformedRequest(f"PSRP: {exc}") from None
        self._flush()

    def _process_events(self) -> None:
        while (event := self._pool.next_event()) is not None:
            if isinstance(event, CreatePipelineEvent):
                run = self._runs[event.pipeline_id]
                metadata = event.pipeline
                run.script = "\n".join(c.command_text for c in metadata.commands)
                if metadata.no_input:
                    self._start(run)
            elif isinstance(event, PipelineInputEvent):
                self._runs[event.pipeline_id].lines.append(str(event.data))
            elif isinstance(event, EndOfPipelineInputEvent):
                self._start(self._runs[event.pipeline_id])

    def _flush(self) -> None:
        while (payload := self._pool.data_to_send()) is not None:
            self._out.setdefault(payload.pipeline_id, bytearray()).extend(payload.data)
        self._cond.notify_all()

    def _start(self, run: _Run) -> None:
        if run.started:
            return
        run.started = True
        run.pipeline.start()
        self._flush()
        threading.Thread(target=self._execute, args=(run,), name=f"psrp-{self._host}-{run.pipeline.pipeline_id}", daemon=True).start()

    def _execute(self, run: _Run) -> None:
        stdin = "\n".join(run.lines).encode("utf-8")
        try:
            outcome = self._dispatcher.run(self._host, command_line(run.script), stdin, runspace=self.runspace, identity=self.owner)
        except Exception as exc:  # a dispatcher bug must not leave the client polling forever
            log.exception("dispatcher failed on host %s (PSRP)", self._host)
            outcome = CommandOutcome(stderr=f"cmlab dispatcher error: {type(exc).__name__}".encode(), rc=1)
        with self._cond:
            if run.pipeline.pipeline_id not in self._runs:  # stopped meanwhile
                return
            try:
                self._report(run, outcome)
            except PSRPCoreError:
                log.exception("%s: cannot report a PSRP pipeline's result", self._host)
            run.finished = True
            self._flush()

    def _report(self, run: _Run, outcome: CommandOutcome) -> None:
        pipeline = run.pipeline
        text = outcome.stdout.decode("utf-8", errors="replace")
        lines = text.replace("\r\n", "\n").split("\n")
        if lines and lines[-1] == "":
            lines.pop()  # powershell.exe ends every output object with a newline
        for line in lines:
            pipeline.write_output(line)
        for message in error_messages(outcome.stderr):
            pipeline.write_error(NETException(Message=message), *_error_category(message))
        if outcome.rc:
            pipeline.host_call(HostMethodIdentifier.SetShouldExit, [outcome.rc])
        pipeline.complete()


class PsrpShellTable:
    """The runspace pools of one listener."""

    def __init__(self, host: str, dispatcher: Dispatcher) -> None:
        self._host = host
        self._dispatcher = dispatcher
        self._lock = threading.Lock()
        self._shells: dict[str, PsrpShell] = {}

    def create(self, shell_id: str | None, owner: str, client_ip: str) -> PsrpShell:
        shell = PsrpShell(shell_id or str(uuid.uuid4()), self._host, self._dispatcher, owner, client_ip)
        with self._lock:
            self._shells[shell.id] = shell
        return shell

    def get(self, shell_id: str) -> PsrpShell | None:
        with self._lock:
            return self._shells.get(shell_id.upper())

    def delete(self, shell_id: str) -> bool:
        with self._lock:
            shell = self._shells.pop(shell_id.upper(), None)
        if shell is not None:
            shell.close()
        return shell is not None

    def close_all(self) -> None:
        with self._lock:
            shells = list(self._shells.values())
            self._shells.clear()
        for shell in shells:
            shell.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._shells)
