"""The WinRS service: one parsed WS-Man request in, one SOAP reply out.

Sits between the HTTP layer (server.py, which owns auth, encryption and transport faults) and the
shell state machine (shell.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from cmlab.accounting import Accounting
from cmlab.dispatch import Authorizer, Dispatcher
from cmlab.faults import Faults
from cmlab.wsman import soap, winrs
from cmlab.wsman.psrp import RESOURCE_PSRP, PsrpShell, PsrpShellTable
from cmlab.wsman.shell import ShellTable, UnknownCommand, UnknownShell

DEFAULT_OPERATION_TIMEOUT = 60.0  # WinRM's MaxTimeoutms default when the client sends none


@dataclass(frozen=True)
class Reply:
    status: int
    body: bytes
    action: str = ""  # short WS-Man action name (Create, Command, ...), for per-action accounting
    completed: bool = False  # a Receive that carries a WinRS command's exit code (its output is complete)


def long_poll_budget(operation_timeout: float | None) -> float:
    """How long a Receive may be held: answer TimedOut a couple of seconds before the client's
    OperationTimeout, since its read timeout may be only a little longer (§1.7)."""
    timeout = operation_timeout if operation_timeout and operation_timeout > 0 else DEFAULT_OPERATION_TIMEOUT
    return max(timeout - 2.0, timeout / 3.0)


class WinRSService:
    def __init__(
        self,
        host_name: str,
        dispatcher: Dispatcher,
        accounting: Accounting,
        faults: Faults,
        address: Callable[[], str],
    ) -> None:
        self._host = host_name
        self._accounting = accounting
        self._faults = faults
        self._address = address  # the listener URL, for x:ResourceCreated/a:Address
        self._authorizer = dispatcher if isinstance(dispatcher, Authorizer) else None
        self.shells = ShellTable(host_name, dispatcher)
        self.psrp_shells = PsrpShellTable(host_name, dispatcher)  # PSRP runspace pools
        self._handlers: dict[str, Callable[[soap.WsmanRequest, str, str], str]] = {
            winrs.ACTION_CREATE: self._create,
            winrs.ACTION_COMMAND: self._command,
            winrs.ACTION_SEND: self._send,
            winrs.ACTION_RECEIVE: self._receive,
            winrs.ACTION_SIGNAL: self._signal,
            winrs.ACTION_DELETE: self._delete,
        }
        self._psrp_handlers: dict[str, Callable[[soap.WsmanRequest, str, str], str]] = {
            winrs.ACTION_CREATE: self._psrp_create,
            winrs.ACTION_COMMAND: self._psrp_command,
            winrs.ACTION_SEND: self._psrp_send,
            winrs.ACTION_RECEIVE: self._psrp_receive,
            winrs.ACTION_SIGNAL: self._psrp_signal,
            winrs.ACTION_DELETE: self._psrp_delete,
        }

    @staticmethod
    def is_command(data: bytes) -> bool:
        """Whether a request body is a Command (a WinRS command or a PSRP pipeline), before it is handled:
        faults that wait for a command (cmlab/faults.py) count these."""
        match = _ACTION.search(data[:4096])
        return bool(match) and match.group(1).strip() == winrs.ACTION_COMMAND.encode()

    def injected_fault(self, options: dict) -> Reply:
        return self._fault(_injected_fault(options), "")

    def handle(self, data: bytes, principal: str, client_ip: str) -> Reply:
        try:
            request = soap.parse_request(data)
        except soap.MalformedRequest as exc:
            return replace(self._fault(soap.schema_validation(str(exc)), ""), action="malformed")
        return replace(self._handle(request, principal, client_ip), action=request.action.rsplit("/", 1)[-1])

    def _handle(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> Reply:
        handler = self._handlers.get(request.action)
        if handler is None:
            return self._fault(soap.action_not_supported(request.action), request.message_id)
        resource = request.resource_uri.lower()
        if resource == RESOURCE_PSRP.lower():
            handler = self._psrp_handlers[request.action]
        elif resource != winrs.RESOURCE_CMD:
            return self._fault(soap.resource_not_found(request.resource_uri), request.message_id)
        try:
            body = handler(request, principal, client_ip)
            return Reply(200, soap.response(request, body), completed=isinstance(body, _Finished))
        except _Fault as exc:
            return self._fault(exc.fault, request.message_id)
        except UnknownShell as exc:
            return self._fault(soap.unknown_shell(str(exc.args[0])), request.message_id)
        except UnknownCommand as exc:
            return self._fault(soap.unknown_command(str(exc.args[0])), request.message_id)
        except soap.MalformedRequest as exc:
            return self._fault(soap.schema_validation(str(exc)), request.message_id)

    def close(self) -> None:
        self.shells.close_all()
        self.psrp_shells.close_all()

    # ------------------------------------------------------------------------------------------

    def _fault(self, fault: soap.WsmanFault, relates_to: str) -> Reply:
        return Reply(500, fault.to_xml(relates_to, self._host))

    @staticmethod
    def _shell_id(request: soap.WsmanRequest) -> str:
        shell_id = request.selectors.get("ShellId")
        if not shell_id:
            raise _Fault(soap.unknown_shell("(none)"))
        return shell_id

    def _authorize(self, principal: str) -> None:
        """WinRM's own access check: who may not use the service gets Access is denied at Create."""
        if self._authorizer is not None and not self._authorizer.authorize(self._host, principal):
            raise _Fault(soap.ACCESS_DENIED)

    def _create(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        self._authorize(principal)
        spec = winrs.parse_create(request.body)
        shell = self.shells.create(principal, client_ip)
        self._accounting.charge(self._host, "shell_create")
        return winrs.create_response(shell_id=shell.id, address=self._address(), owner=principal, client_ip=client_ip, spec=spec)

    def _command(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        shell = self.shells.get(self._shell_id(request))
        command_line = winrs.parse_command_line(request.body)
        skip_cmd_shell = request.option_bool("WINRS_SKIP_CMD_SHELL", False)
        command = shell.start_command(
            command_line,
            console_mode_stdin=request.option_bool("WINRS_CONSOLEMODE_STDIN", True),
            skip_cmd_shell=skip_cmd_shell,
        )
        self._accounting.host(self._host).add_command()
        if not skip_cmd_shell:
            self._accounting.charge(self._host, "process_start")  # cmd.exe /c
        return winrs.command_response(command.id)

    def _send(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        shell = self.shells.get(self._shell_id(request))
        for chunk in winrs.parse_send(request.body):
            if chunk.stream.lower() == "stdin":
                shell.command(chunk.command_id).send(chunk.data, chunk.end)
        return winrs.send_response()

    def _receive(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        shell = self.shells.get(self._shell_id(request))
        command_id = winrs.parse_receive(request.body)
        command = shell.command(command_id)
        # "In the middle of a command": any Receive before the exit code went out. (Checking whether
        # the dispatcher is still busy would make the fault miss every fast command.)
        if not command.reported_done:
            injected = self._faults.fire(self._host, "wsman_fault")
            if injected is not None:
                raise _Fault(_injected_fault(injected.options))
        output = command.receive(long_poll_budget(request.operation_timeout))
        if output is None:
            raise _Fault(soap.TIMED_OUT)
        body = winrs.receive_response(command.id, output.stdout, output.stderr, output.exit_code)
        return _Finished(body) if output.exit_code is not None else body

    def _signal(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        command_id, _code = winrs.parse_signal(request.body)
        try:
            self.shells.get(self._shell_id(request)).signal(command_id)
        except (UnknownShell, _Fault):
            pass  # §1.8: always 200, ansible ignores cleanup errors anyway
        return winrs.signal_response()

    def _delete(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        self.shells.delete(self._shell_id(request))
        return ""

    # -- PSRP (cmlab/wsman/psrp.py): the same verbs on the Microsoft.PowerShell resource URI --------

    def _psrp_shell(self, request: soap.WsmanRequest) -> PsrpShell:
        shell = self.psrp_shells.get(self._shell_id(request))
        if shell is None:
            raise UnknownShell(self._shell_id(request))
        return shell

    def _psrp_create(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        self._authorize(principal)
        spec = winrs.parse_create(request.body)
        shell = self.psrp_shells.create(spec.shell_id, principal, client_ip)
        # The pool is a wsmprovhost.exe hosting PowerShell: started once here; its pipelines (ansible
        # opens a pool per task and runs each engine invocation as a pipeline) reuse the runspace.
        self._accounting.charge(self._host, "shell_create")
        self._accounting.charge(self._host, "powershell_start")
        shell.open(spec.creation_xml)
        return winrs.create_response(
            shell_id=shell.id, address=self._address(), owner=principal, client_ip=client_ip, spec=spec, resource_uri=RESOURCE_PSRP
        )

    def _psrp_command(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        shell = self._psrp_shell(request)
        command_id, fragment = winrs.parse_psrp_command(request.body)
        command_id = shell.command(command_id, fragment)
        self._accounting.host(self._host).add_command()
        return winrs.command_response(command_id)

    def _psrp_send(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        shell = self._psrp_shell(request)
        for chunk in winrs.parse_send(request.body):
            shell.send(chunk.command_id, chunk.stream, chunk.data)
        return winrs.send_response()

    def _psrp_receive(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        shell = self._psrp_shell(request)
        command_id = winrs.parse_receive(request.body)
        injected = self._faults.fire(self._host, "wsman_fault") if command_id else None
        if injected is not None:
            raise _Fault(_injected_fault(injected.options))
        received = shell.receive(command_id, long_poll_budget(request.operation_timeout))
        if received is None:
            raise _Fault(soap.TIMED_OUT)
        return winrs.psrp_receive_response(command_id, *received)

    def _psrp_signal(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        command_id, _code = winrs.parse_signal(request.body)
        shell = self.psrp_shells.get(self._shell_id(request))
        if shell is not None:
            shell.signal(command_id)
        return winrs.signal_response()

    def _psrp_delete(self, request: soap.WsmanRequest, principal: str, client_ip: str) -> str:
        if not self.psrp_shells.delete(self._shell_id(request)):
            raise UnknownShell(self._shell_id(request))
        return ""


class _Finished(str):
    """A Receive response that carries the command's exit code."""


_ACTION = re.compile(rb"<(?:[A-Za-z0-9_]+:)?Action\b[^>]*>([^<]+)</")


class _Fault(Exception):
    def __init__(self, fault: soap.WsmanFault) -> None:
        super().__init__(fault.subcode)
        self.fault = fault


def _injected_fault(options: dict) -> soap.WsmanFault:
    code = int(options.get("code", 2150858843))
    return soap.WsmanFault(
        code,
        str(options.get("subcode", "w:InvalidSelectors" if code == 2150858843 else "w:InternalError")),
        str(options.get("message", "The WS-Management service cannot process the request (injected fault). ")),
    )
