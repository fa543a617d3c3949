"""WinRS shells and commands: state, stdin accumulation, the dispatcher worker, long-poll receive.

No XML here. One `ShellTable` per listener; every object is safe to use from the listener's
connection threads concurrently.
"""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import dataclass

from cmlab.dispatch import CommandOutcome, Dispatcher

log = logging.getLogger(__name__)

# cmd.exe refuses longer command lines (when WinRS runs the command through cmd /c, i.e.
# WINRS_SKIP_CMD_SHELL=FALSE, the default).
CMD_MAX_COMMAND_LINE = 8191
CMD_TOO_LONG = CommandOutcome(stdout=b"", stderr=b"The command line is too long.\r\n", rc=1)


class UnknownShell(KeyError):
    pass


class UnknownCommand(KeyError):
    pass


@dataclass(frozen=True)
class Output:
    """What one Receive returns. exit_code None = still running."""

    stdout: bytes
    stderr: bytes
    exit_code: int | None


class Command:
    def __init__(
        self,
        host: str,
        command_line: str,
        dispatcher: Dispatcher,
        *,
        console_mode_stdin: bool,
        skip_cmd_shell: bool,
        owner: str | None = None,
    ) -> None:
        self.id = str(uuid.uuid4()).upper()
        self.owner = owner
        self.command_line = command_line
        self._host = host
        self._dispatcher = dispatcher
        self._console_mode_stdin = console_mode_stdin
        self._cond = threading.Condition()
        self._stdin = bytearray()
        self._stdin_seen = False
        self._stdin_closed = False
        self._started = False
        self._outcome: CommandOutcome | None = None
        self._delivered = False
        self._terminated = False
        if not skip_cmd_shell and len(command_line) > CMD_MAX_COMMAND_LINE:
            self._started = True
            self._outcome = CMD_TOO_LONG

    def send(self, data: bytes, end: bool) -> None:
        with self._cond:
            if self._stdin_closed or self._started:
                return  # stdin after End (or after the command ran) goes nowhere, as with a closed pipe
            self._stdin_seen = True
            self._stdin += data
            if end:
                self._stdin_closed = True
                self._start_locked()

    def receive(self, wait: float) -> Output | None:
        """Long-poll: block up to `wait` seconds for the command to finish. None = nothing to say yet."""
        with self._cond:
            # §1.7 rule 4: with WINRS_CONSOLEMODE_STDIN=TRUE and no Send, the first Receive runs it.
            if not self._started and self._console_mode_stdin and not self._stdin_seen:
                self._stdin_closed = True
                self._start_locked()
            # While stdin is still open, hold (never answer an empty Running in a tight loop).
            self._cond.wait_for(lambda: self._outcome is not None or self._terminated, timeout=max(wait, 0.0))
            if self._outcome is None:
                return None
            if self._delivered:
                return Output(b"", b"", self._outcome.rc)
            self._delivered = True
            return Output(self._outcome.stdout, self._outcome.stderr, self._outcome.rc)

    def terminate(self) -> None:
        with self._cond:
            self._terminated = True
            self._cond.notify_all()

    @property
    def reported_done(self) -> bool:
        """True once a Receive has returned the command's exit code."""
        with self._cond:
            return self._delivered

    def _start_locked(self) -> None:
        if self._started:
            return
        self._started = True
        stdin = bytes(self._stdin)
        self._stdin = bytearray()
        worker = threading.Thread(target=self._run, args=(stdin,), name=f"winrs-{self._host}-{self.id[:8]}", daemon=True)
        worker.start()

    def _run(self, stdin: bytes) -> None:
        try:
            outcome = self._dispatcher.run(self._host, self.command_line, stdin, identity=self.owner)
            if not isinstance(outcome, CommandOutcome):
                raise TypeError(f"dispatcher returned {type(outcome).__name__}, not CommandOutcome")
        except Exception as exc:  # a dispatcher bug must not leave the client polling forever
            log.exception("dispatcher failed on host %s", self._host)
            outcome = CommandOutcome(stderr=f"cmlab dispatcher error: {type(exc).__name__}\r\n".encode(), rc=1)
        with self._cond:
            self._outcome = outcome
            self._cond.notify_all()


class Shell:
    def __init__(self, host: str, dispatcher: Dispatcher, owner: str, client_ip: str) -> None:
        self.id = str(uuid.uuid4()).upper()
        self.owner = owner
        self.client_ip = client_ip
        self._host = host
        self._dispatcher = dispatcher
        self._lock = threading.Lock()
        self._commands: dict[str, Command] = {}

    def start_command(self, command_line: str, *, console_mode_stdin: bool, skip_cmd_shell: bool) -> Command:
        command = Command(
            self._host,
            command_line,
            self._dispatcher,
            console_mode_stdin=console_mode_stdin,
            skip_cmd_shell=skip_cmd_shell,
            owner=self.owner,
        )
        with self._lock:
            self._commands[command.id] = command
        return command

    def command(self, command_id: str) -> Command:
        with self._lock:
            command = self._commands.get(command_id.upper())
        if command is None:
            raise UnknownCommand(command_id)
        return command

    def signal(self, command_id: str) -> None:
        """Terminate and forget the command; unknown ids are fine (§1.8: always answer 200)."""
        with self._lock:
            command = self._commands.pop(command_id.upper(), None)
        if command is not None:
            command.terminate()

    def close(self) -> None:
        with self._lock:
            commands = list(self._commands.values())
            self._commands.clear()
        for command in commands:
            command.terminate()


class ShellTable:
    """The shells of one listener."""

    def __init__(self, host: str, dispatcher: Dispatcher) -> None:
        self._host = host
        self._dispatcher = dispatcher
        self._lock = threading.Lock()
        self._shells: dict[str, Shell] = {}

    def create(self, owner: str, client_ip: str) -> Shell:
        shell = Shell(self._host, self._dispatcher, owner, client_ip)
        with self._lock:
            self._shells[shell.id] = shell
        return shell

    def get(self, shell_id: str) -> Shell:
        with self._lock:
            shell = self._shells.get(shell_id.upper())
        if shell is None:
            raise UnknownShell(shell_id)
        return shell

    def delete(self, shell_id: str) -> None:
        with self._lock:
            shell = self._shells.pop(shell_id.upper(), None)
        if shell is None:
            raise UnknownShell(shell_id)
        shell.close()

    def close_all(self) -> None:
        with self._lock:
            shells = list(self._shells.values())
            self._shells.clear()
        for shell in shells:
            shell.close()

    def __len__(self) -> int:
        with self._lock:
            return len(self._shells)
