"""SOAP 1.2 / WS-Management envelopes: parse a request header, build a response or a fault.

Requests are parsed by namespace URI, never by prefix: pywinrm writes `env:`/`w:`/`p:`, pypsrp writes
`s:`/`wsman:`/`wsmv:` (reference doc §1.1). Responses are written in the Windows format, which every
client accepts (winrm-wire-samples.xml).
"""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

NS_SOAP = "http://www.w3.org/2003/05/soap-envelope"
NS_ADDRESSING = "http://schemas.xmlsoap.org/ws/2004/08/addressing"
NS_WSMAN = "http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
NS_MS_WSMAN = "http://schemas.microsoft.com/wbem/wsman/1/wsman.xsd"
NS_SHELL = "http://schemas.microsoft.com/wbem/wsman/1/windows/shell"
NS_TRANSFER = "http://schemas.xmlsoap.org/ws/2004/09/transfer"
NS_WSMAN_FAULT = "http://schemas.microsoft.com/wbem/wsman/1/wsmanfault"

ANONYMOUS = "http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous"
FAULT_ACTION = "http://schemas.dmtf.org/wbem/wsman/1/wsman/fault"

# Prefixes of the response envelope, as Windows writes them.
_RESPONSE_NS_DECLS = (
    f'xmlns:s="{NS_SOAP}" xmlns:a="{NS_ADDRESSING}" xmlns:x="{NS_TRANSFER}" '
    f'xmlns:w="{NS_WSMAN}" xmlns:rsp="{NS_SHELL}" xmlns:p="{NS_MS_WSMAN}"'
)


def qname(ns: str, local: str) -> str:
    """ElementTree's `{namespace}local` tag form."""
    return f"{{{ns}}}{local}"


class MalformedRequest(Exception):
    """The body is not a WS-Management SOAP envelope this server can read."""


@dataclass(frozen=True)
class WsmanRequest:
    action: str
    message_id: str
    resource_uri: str
    operation_timeout: float | None
    selectors: dict[str, str] = field(default_factory=dict)
    options: dict[str, str] = field(default_factory=dict)  # keys upper-cased: option names are case-insensitive
    body: ET.Element | None = None  # the s:Body element

    def option(self, name: str, default: str | None = None) -> str | None:
        return self.options.get(name.upper(), default)

    def option_bool(self, name: str, default: bool) -> bool:
        value = self.option(name)
        if value is None:
            return default
        return value.strip().upper() in ("TRUE", "1")


def parse_request(data: bytes) -> WsmanRequest:
    # A DOCTYPE has no business in WS-Man and is the only way to an entity-expansion bomb.
    if b"<!DOCTYPE" in data[:4096].upper():
        raise MalformedRequest("DOCTYPE is not allowed")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise MalformedRequest(f"invalid XML: {exc}") from exc
    if root.tag != qname(NS_SOAP, "Envelope"):
        raise MalformedRequest("not a SOAP 1.2 envelope")
    header = root.find(qname(NS_SOAP, "Header"))
    if header is None:
        raise MalformedRequest("no SOAP header")

    def text(ns: str, local: str) -> str:
        node = header.find(qname(ns, local))
        return (node.text or "").strip() if node is not None else ""

    action = text(NS_ADDRESSING, "Action")
    if not action:
        raise MalformedRequest("no a:Action")
    timeout_text = text(NS_WSMAN, "OperationTimeout")

    selectors: dict[str, str] = {}
    for sel in header.iterfind(f"{qname(NS_WSMAN, 'SelectorSet')}/{qname(NS_WSMAN, 'Selector')}"):
        selectors[sel.get("Name", "")] = (sel.text or "").strip()
    options: dict[str, str] = {}
    for opt in header.iterfind(f"{qname(NS_WSMAN, 'OptionSet')}/{qname(NS_WSMAN, 'Option')}"):
        options[opt.get("Name", "").upper()] = (opt.text or "").strip()

    return WsmanRequest(
        action=action,
        # Echoed verbatim in RelatesTo: pypsrp compares the strings exactly (reference §1.2).
        message_id=text(NS_ADDRESSING, "MessageID"),
        resource_uri=text(NS_WSMAN, "ResourceURI"),
        operation_timeout=parse_duration(timeout_text) if timeout_text else None,
        selectors=selectors,
        options=options,
        body=root.find(qname(NS_SOAP, "Body")),
    )


_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: str) -> float | None:
    """xs:duration (`PT20S`, `PT20.000S`, `P0DT0H1M0S`) in seconds; None if unreadable."""
    match = _DURATION.match(value.strip().upper())
    if match is None or value.strip().upper() in ("P", "PT"):
        return None
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def new_message_id() -> str:
    return f"uuid:{str(uuid.uuid4()).upper()}"


def envelope(action: str, relates_to: str, body_xml: str) -> bytes:
    """A complete response envelope around `body_xml` (the inner XML of s:Body, already serialised)."""
    body = f"<s:Body>{body_xml}</s:Body>" if body_xml else "<s:Body/>"
    return (
        f'<s:Envelope xml:lang="en-US" {_RESPONSE_NS_DECLS}>'
        "<s:Header>"
        f"<a:Action>{escape(action)}</a:Action>"
        f"<a:MessageID>{new_message_id()}</a:MessageID>"
        f"<a:To>{ANONYMOUS}</a:To>"
        f"<a:RelatesTo>{escape(relates_to)}</a:RelatesTo>"
        "</s:Header>"
        f"{body}"
        "</s:Envelope>"
    ).encode()


def response(request: WsmanRequest, body_xml: str) -> bytes:
    """The reply to `request`: its action + "Response", RelatesTo = its MessageID."""
    return envelope(request.action + "Response", request.message_id, body_xml)


@dataclass(frozen=True)
class WsmanFault:
    """A WS-Management fault; always sent with HTTP 500 (a 200 fault is invisible to pywinrm, §1.10)."""

    wsman_code: int
    subcode: str  # qualified with the response prefixes, e.g. "w:TimedOut"
    reason: str
    code: str = "s:Receiver"  # or "s:Sender"

    def to_xml(self, relates_to: str, machine: str) -> bytes:
        reason = escape(self.reason)
        body = (
            "<s:Fault>"
            f"<s:Code><s:Value>{escape(self.code)}</s:Value>"
            f"<s:Subcode><s:Value>{escape(self.subcode)}</s:Value></s:Subcode></s:Code>"
            f'<s:Reason><s:Text xml:lang="en-US">{reason}</s:Text></s:Reason>'
            "<s:Detail>"
            f'<f:WSManFault xmlns:f="{NS_WSMAN_FAULT}" Code="{self.wsman_code}" Machine={quoteattr(machine)}>'
            f"<f:Message>{reason}</f:Message>"
            "</f:WSManFault>"
            "</s:Detail>"
            "</s:Fault>"
        )
        return envelope(FAULT_ACTION, relates_to, body)


# The faults this server produces. Codes are Windows' ERROR_WSMAN_* values.
TIMED_OUT = WsmanFault(
    2150858793,
    "w:TimedOut",
    "The WS-Management service cannot complete the operation within the time specified in OperationTimeout.  ",
)


# An authenticated user who is neither a local administrator nor a member of Remote Management Users
# (docs/simulator-assumptions.md, "WinRM access").
ACCESS_DENIED = WsmanFault(5, "w:AccessDenied", "Access is denied. ")


def unknown_shell(shell_id: str) -> WsmanFault:
    return WsmanFault(
        2150858843,
        "w:InvalidSelectors",
        "The request for the Windows Remote Shell with ShellId "
        f"{shell_id} failed because the shell was not found on the server. "
        "Possible causes are: the specified ShellId is incorrect or the shell no longer exists on the server. "
        "Provide the correct ShellId or create a new shell and retry the operation. ",
        code="s:Sender",
    )


def unknown_command(command_id: str) -> WsmanFault:
    return WsmanFault(
        2150858843,
        "w:InvalidSelectors",
        f"The request for the command with CommandId {command_id} failed because the command was not found. ",
        code="s:Sender",
    )


def action_not_supported(action: str) -> WsmanFault:
    return WsmanFault(
        2150858753,
        "a:ActionNotSupported",
        f"The WS-Management service cannot process the request. The action {action} is not supported. ",
        code="s:Sender",
    )


def resource_not_found(resource_uri: str) -> WsmanFault:
    return WsmanFault(
        2150858752,
        "w:DestinationUnreachable",
        "The WS-Management service cannot process the request. The service cannot find the resource "
        f"identified by the resource URI {resource_uri} and selectors. ",
        code="s:Sender",
    )


def schema_validation(detail: str) -> WsmanFault:
    return WsmanFault(
        2150858817,
        "w:SchemaValidationError",
        f"The SOAP XML in the message does not match the corresponding XML schema definition. {detail} ",
        code="s:Sender",
    )
