"""WinRS (Windows Remote Shell) message bodies: read the request bodies, write the response bodies.

Pure wire format; the shell state machine is in shell.py and the operation routing in service.py.
"""

from __future__ import annotations

import base64
import binascii
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from cmlab.wsman.soap import NS_SHELL, MalformedRequest, qname

RESOURCE_CMD = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd"
NS_POWERSHELL = "http://schemas.microsoft.com/powershell"  # PSRP's creationXml

ACTION_CREATE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create"
ACTION_DELETE = "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete"
ACTION_COMMAND = f"{NS_SHELL}/Command"
ACTION_SEND = f"{NS_SHELL}/Send"
ACTION_RECEIVE = f"{NS_SHELL}/Receive"
ACTION_SIGNAL = f"{NS_SHELL}/Signal"

STATE_DONE = f"{NS_SHELL}/CommandState/Done"
STATE_RUNNING = f"{NS_SHELL}/CommandState/Running"


def _sh(local: str) -> str:
    return qname(NS_SHELL, local)


def _child(body: ET.Element | None, local: str) -> ET.Element:
    node = body.find(_sh(local)) if body is not None else None
    if node is None:
        raise MalformedRequest(f"missing rsp:{local} in the body")
    return node


def _text(node: ET.Element | None) -> str:
    return (node.text or "").strip() if node is not None else ""


# ----------------------------------------------------------------------------------------------
# Requests


@dataclass(frozen=True)
class ShellSpec:
    input_streams: str = "stdin"
    output_streams: str = "stdout stderr"
    working_directory: str | None = None
    environment: dict[str, str] = field(default_factory=dict)
    shell_id: str | None = None  # PSRP: the client names its runspace pool
    creation_xml: bytes = b""  # PSRP: the pool's opening fragments


def _base64(text: str | None, what: str) -> bytes:
    try:
        return base64.b64decode(text or "", validate=False)
    except (binascii.Error, ValueError) as exc:
        raise MalformedRequest(f"{what} is not base64: {exc}") from exc


def parse_create(body: ET.Element | None) -> ShellSpec:
    shell = _child(body, "Shell")
    env = {var.get("Name", ""): var.text or "" for var in shell.iterfind(f"{_sh('Environment')}/{_sh('Variable')}")}
    return ShellSpec(
        input_streams=_text(shell.find(_sh("InputStreams"))) or "stdin",
        output_streams=_text(shell.find(_sh("OutputStreams"))) or "stdout stderr",
        working_directory=_text(shell.find(_sh("WorkingDirectory"))) or None,
        environment=env,
        shell_id=shell.get("ShellId") or None,
        creation_xml=_base64(shell.findtext(qname(NS_POWERSHELL, "creationXml")), "creationXml"),
    )


def parse_command_line(body: ET.Element | None) -> str:
    """rsp:Command + every rsp:Arguments, joined with single spaces (§1.5: pypsrp sends one
    Arguments element per argument, pywinrm one joined element)."""
    cmdline = _child(body, "CommandLine")
    command = (cmdline.findtext(_sh("Command")) or "").strip()
    args = [a.text or "" for a in cmdline.iterfind(_sh("Arguments"))]
    return " ".join(part for part in [command, *args] if part)


def parse_psrp_command(body: ET.Element | None) -> tuple[str, bytes]:
    """PSRP's Command: (the pipeline id the client chose, the CREATE_PIPELINE fragment)."""
    cmdline = _child(body, "CommandLine")
    command_id = cmdline.get("CommandId", "")
    if not command_id:
        raise MalformedRequest("rsp:CommandLine has no CommandId")
    return command_id, _base64("".join(a.text or "" for a in cmdline.iterfind(_sh("Arguments"))), "rsp:Arguments")


@dataclass(frozen=True)
class StdinChunk:
    command_id: str
    stream: str
    data: bytes
    end: bool


def parse_send(body: ET.Element | None) -> list[StdinChunk]:
    chunks: list[StdinChunk] = []
    for stream in _child(body, "Send").iterfind(_sh("Stream")):
        data = _base64(stream.text, "stdin")
        chunks.append(
            StdinChunk(
                command_id=stream.get("CommandId", ""),
                stream=stream.get("Name", "stdin"),
                data=data,
                # ansible omits End on all but the last chunk (§1.6): missing means false.
                end=stream.get("End", "false").strip().lower() == "true",
            )
        )
    return chunks


def parse_receive(body: ET.Element | None) -> str:
    """The CommandId of rsp:Receive/rsp:DesiredStream ("" when absent)."""
    desired = _child(body, "Receive").find(_sh("DesiredStream"))
    return desired.get("CommandId", "") if desired is not None else ""


def parse_signal(body: ET.Element | None) -> tuple[str, str]:
    """(CommandId, signal code URI)."""
    signal = _child(body, "Signal")
    return signal.get("CommandId", ""), _text(signal.find(_sh("Code")))


# ----------------------------------------------------------------------------------------------
# Responses (inner XML of s:Body, with the prefixes declared by soap.envelope)


def create_response(*, shell_id: str, address: str, owner: str, client_ip: str, spec: ShellSpec, resource_uri: str = RESOURCE_CMD) -> str:
    # pywinrm takes the first element anywhere with Name="ShellId": the w:Selector is mandatory (§1.4).
    return (
        "<x:ResourceCreated>"
        f"<a:Address>{escape(address)}</a:Address>"
        "<a:ReferenceParameters>"
        f"<w:ResourceURI>{resource_uri}</w:ResourceURI>"
        f'<w:SelectorSet><w:Selector Name="ShellId">{shell_id}</w:Selector></w:SelectorSet>'
        "</a:ReferenceParameters>"
        "</x:ResourceCreated>"
        "<rsp:Shell>"
        f"<rsp:ShellId>{shell_id}</rsp:ShellId>"
        f"<rsp:ResourceUri>{resource_uri}</rsp:ResourceUri>"
        f"<rsp:Owner>{escape(owner)}</rsp:Owner>"
        f"<rsp:ClientIP>{escape(client_ip)}</rsp:ClientIP>"
        "<rsp:IdleTimeOut>PT7200.000S</rsp:IdleTimeOut>"
        f"<rsp:InputStreams>{escape(spec.input_streams)}</rsp:InputStreams>"
        f"<rsp:OutputStreams>{escape(spec.output_streams)}</rsp:OutputStreams>"
        "<rsp:ShellRunTime>P0DT0H0M0S</rsp:ShellRunTime>"
        "<rsp:ShellInactivity>P0DT0H0M0S</rsp:ShellInactivity>"
        "</rsp:Shell>"
    )


def command_response(command_id: str) -> str:
    return f"<rsp:CommandResponse><rsp:CommandId>{command_id}</rsp:CommandId></rsp:CommandResponse>"


def send_response() -> str:
    return "<rsp:SendResponse/>"


def signal_response() -> str:
    return "<rsp:SignalResponse/>"


def receive_response(command_id: str, stdout: bytes, stderr: bytes, exit_code: int | None) -> str:
    """Streams, then (when exit_code is not None) the End markers and exactly one CommandState/Done
    with an integer ExitCode: clients treat two Done elements as "not done" (§1.7)."""
    cid = quoteattr(command_id)
    parts = ["<rsp:ReceiveResponse>"]
    for name, data in (("stdout", stdout), ("stderr", stderr)):
        if data:
            parts.append(f'<rsp:Stream Name="{name}" CommandId={cid}>{base64.b64encode(data).decode()}</rsp:Stream>')
    if exit_code is None:
        parts.append(f'<rsp:CommandState CommandId={cid} State="{STATE_RUNNING}"/>')
    else:
        parts.append(f'<rsp:Stream Name="stdout" CommandId={cid} End="true"/>')
        parts.append(f'<rsp:Stream Name="stderr" CommandId={cid} End="true"/>')
        parts.append(
            f'<rsp:CommandState CommandId={cid} State="{STATE_DONE}"><rsp:ExitCode>{int(exit_code)}</rsp:ExitCode></rsp:CommandState>'
        )
    parts.append("</rsp:ReceiveResponse>")
    return "".join(parts)


def psrp_receive_response(command_id: str, data: bytes, done: bool) -> str:
    """PSRP's Receive: the fragments on stdout (CommandId only for a pipeline), Done once the
    pipeline has finished and everything was sent."""
    cid = f" CommandId={quoteattr(command_id)}" if command_id else ""
    parts = ["<rsp:ReceiveResponse>"]
    if data:
        parts.append(f'<rsp:Stream Name="stdout"{cid}>{base64.b64encode(data).decode()}</rsp:Stream>')
    if done:
        parts.append(f'<rsp:Stream Name="stdout"{cid} End="true"/>')
        parts.append(f'<rsp:CommandState{cid} State="{STATE_DONE}"><rsp:ExitCode>0</rsp:ExitCode></rsp:CommandState>')
    elif command_id:
        parts.append(f'<rsp:CommandState{cid} State="{STATE_RUNNING}"/>')
    parts.append("</rsp:ReceiveResponse>")
    return "".join(parts)
