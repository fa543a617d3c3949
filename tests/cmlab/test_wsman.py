"""cmlab.wsman driven by the real pywinrm client (and raw HTTP where a client hides the wire)."""

from __future__ import annotations

import base64
import socket
import time
import uuid
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import requests
import winrm
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from winrm.exceptions import (
    InvalidCredentialsError,
    WinRMTransportError,
    WSManFaultError,
)

from cmlab.dispatch import CommandOutcome
from cmlab.wsman import Users, encryption, soap
from cmlab.wsman.pki import ensure_ca, ensure_client_cert, ensure_server_cert
from cmlab.wsman.service import long_poll_budget
from cmlab.wsman.winrs import parse_command_line, parse_send
from tests.fixtures import LAB_PASSWORD

HOST = "cas.lab.example"
NS = {"s": soap.NS_SOAP, "a": soap.NS_ADDRESSING, "w": soap.NS_WSMAN, "rsp": soap.NS_SHELL}


def protocol(url: str, transport: str = "basic", user: str = "LAB\\admin", password: str = LAB_PASSWORD, **kw):
    kw.setdefault("operation_timeout_sec", 3)
    kw.setdefault("read_timeout_sec", 5)
    kw.setdefault("ca_trust_path", None)  # no REQUESTS_CA_BUNDLE fallback (deprecated in pywinrm)
    return winrm.Protocol(url, transport=transport, username=user, password=password, **kw)


def run(p: winrm.Protocol, command: str, args: tuple[str, ...] = (), **kw) -> tuple[bytes, bytes, int]:
    shell = p.open_shell(codepage=65001)
    try:
        cid = p.run_command(shell, command, args, **kw)
        out = p.get_command_output(shell, cid)
        p.cleanup_command(shell, cid)
        return out
    finally:
        p.close_shell(shell)


def wait_for(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


RELAXED = {"allow_basic": True, "allow_unencrypted": True, "allow_certificate": True}


@pytest.fixture
def wsman_lab(wsman_lab_factory):
    """The wire tests below drive the listener with Basic over http, the simplest client: a listener
    with Windows' defaults relaxed. Those defaults have their own tests (next section)."""
    return wsman_lab_factory(**RELAXED)


# ------------------------------------------------------------------------------------------------
# Windows' defaults (issue 8 item 18): Basic off, AllowUnencrypted false, certificates off


def test_by_default_basic_is_refused_and_not_offered(wsman_lab_factory):
    lab = wsman_lab_factory()
    with pytest.raises(InvalidCredentialsError):
        run(protocol(lab.url, transport="basic"), "x")
    reply = requests.post(lab.url, data=b"", timeout=5)
    assert reply.status_code == 401 and reply.headers["WWW-Authenticate"] == "Negotiate"
    assert lab.dispatcher.calls == []


def test_by_default_ntlm_over_http_must_encrypt(wsman_lab_factory):
    lab = wsman_lab_factory()
    with pytest.raises(InvalidCredentialsError):
        run(protocol(lab.url, transport="ntlm", message_encryption="never"), "x")
    assert lab.dispatcher.calls == []
    assert run(protocol(lab.url, transport="ntlm", message_encryption="auto"), "x")[2] == 0
    assert lab.listener.encrypted_requests == 5


def test_by_default_https_takes_ntlm_but_neither_basic_nor_certificates(wsman_lab_factory, wsman_pki):
    lab = wsman_lab_factory("https", client_certs=True)
    tls = {"ca_trust_path": wsman_pki.ca.cert, "server_cert_validation": "validate"}
    assert run(protocol(lab.url, transport="ntlm", **tls), "x")[2] == 0  # TLS: no message encryption needed
    with pytest.raises(InvalidCredentialsError):
        run(protocol(lab.url, transport="ssl", **tls), "x")
    with pytest.raises(InvalidCredentialsError):
        run(protocol(lab.url, transport="certificate", cert_pem=wsman_pki.client.cert, cert_key_pem=wsman_pki.client.key, **tls), "x")


# ------------------------------------------------------------------------------------------------
# Authentication and transports


@pytest.mark.parametrize("user", ["admin", "LAB\\admin", "lab\\ADMIN", "admin@lab.example"])
def test_basic_over_http_accepts_every_user_name_form(wsman_lab, user):
    stdout, stderr, rc = run(protocol(wsman_lab.url, user=user), "ipconfig", ("/all",))
    assert (stdout, stderr, rc) == (f"{HOST}|ipconfig /all|".encode(), b"", 0)


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
@pytest.mark.parametrize("user", ["localuser", ".\\localuser"])
def test_local_account(wsman_lab, transport, user):
    assert run(protocol(wsman_lab.url, transport=transport, user=user, password="local-pw"), "x")[2] == 0


def test_session_run_cmd_and_counters(wsman_lab):
    session = winrm.Session(wsman_lab.url, auth=("LAB\\admin", LAB_PASSWORD), transport="basic")
    result = session.run_cmd("hostname")
    assert result.status_code == 0
    assert result.std_out == f"{HOST}|hostname|".encode()
    counters = wsman_lab.counters()
    # Create, Command, Receive, Signal, Delete
    assert counters["requests"] == 5 and counters["commands"] == 1
    assert counters["bytes_in"] > 0 and counters["bytes_out"] > 0
    session.run_cmd("hostname")
    assert wsman_lab.counters()["commands"] == 2


@pytest.mark.parametrize("user", ["LAB\\admin", "admin"])
def test_ntlm_with_message_encryption(wsman_lab, user):
    p = protocol(wsman_lab.url, transport="ntlm", user=user, message_encryption="always")
    stdout, _, rc = run(p, "whoami")
    assert (stdout, rc) == (f"{HOST}|whoami|".encode(), 0)
    # open_shell, run_command, get_command_output, cleanup_command, close_shell: all encrypted
    assert wsman_lab.listener.encrypted_requests == 5


def test_ntlm_auto_encrypts_over_http(wsman_lab):
    session = winrm.Session(wsman_lab.url, auth=("LAB\\admin", LAB_PASSWORD), transport="ntlm")
    assert session.run_cmd("ver").status_code == 0
    assert wsman_lab.listener.encrypted_requests == 5


def test_ntlm_without_encryption(wsman_lab):
    # The SOAP body then rides on the NTLM AUTHENTICATE request itself.
    stdout, _, rc = run(protocol(wsman_lab.url, transport="ntlm", message_encryption="never"), "ver")
    assert (stdout, rc) == (f"{HOST}|ver|".encode(), 0)
    assert wsman_lab.listener.encrypted_requests == 0


@pytest.mark.parametrize("transport", ["basic", "ntlm"])
@pytest.mark.parametrize(
    ("user", "password"),
    [
        ("LAB\\admin", "wrong"),
        ("LAB\\nobody", LAB_PASSWORD),
        ("OTHER\\admin", LAB_PASSWORD),
        ("LAB\\localuser", "local-pw"),
    ],
)
def test_bad_credentials_are_rejected(wsman_lab, transport, user, password):
    with pytest.raises(InvalidCredentialsError):
        protocol(wsman_lab.url, transport=transport, user=user, password=password).open_shell()
    assert wsman_lab.dispatcher.calls == []


def test_unauthenticated_request_gets_challenge(wsman_lab):
    reply = requests.post(wsman_lab.url, data=b"", timeout=5)
    assert reply.status_code == 401
    assert "Negotiate" in reply.headers["WWW-Authenticate"]
    assert 'Basic realm="WSMAN"' in reply.headers["WWW-Authenticate"]


def test_https_basic_with_validated_certificate(wsman_lab_factory, wsman_pki):
    lab = wsman_lab_factory(scheme="https", **RELAXED)
    assert lab.url.startswith("https://127.0.0.1:")
    p = protocol(lab.url, transport="ssl", ca_trust_path=wsman_pki.ca.cert, server_cert_validation="validate")
    assert run(p, "hostname")[2] == 0
    # NTLM over TLS: no message encryption (auto), channel binding token ignored
    p = protocol(lab.url, transport="ntlm", ca_trust_path=wsman_pki.ca.cert, server_cert_validation="validate")
    assert run(p, "hostname")[2] == 0
    assert lab.listener.encrypted_requests == 0


def test_client_certificate_auth(wsman_lab_factory, wsman_pki):
    lab = wsman_lab_factory(scheme="https", client_certs=True, **RELAXED)
    p = winrm.Protocol(
        lab.url,
        transport="certificate",
        cert_pem=wsman_pki.client.cert,
        cert_key_pem=wsman_pki.client.key,
        ca_trust_path=wsman_pki.ca.cert,
        server_cert_validation="validate",
    )
    shell = p.open_shell()
    assert lab.listener.service.shells.get(shell).owner == "LAB\\admin"
    cid = p.run_command(shell, "whoami")
    assert p.get_command_output(shell, cid)[2] == 0
    p.close_shell(shell)
    # Basic still works on the same listener (CERT_OPTIONAL).
    assert run(protocol(lab.url, transport="ssl", server_cert_validation="ignore"), "x")[2] == 0


def test_unmapped_client_certificate_is_rejected(wsman_lab_factory, wsman_pki):
    lab = wsman_lab_factory(scheme="https", client_certs=True, **RELAXED)
    p = winrm.Protocol(
        lab.url,
        transport="certificate",
        cert_pem=wsman_pki.stranger.cert,
        cert_key_pem=wsman_pki.stranger.key,
        server_cert_validation="ignore",
    )
    with pytest.raises(InvalidCredentialsError):
        p.open_shell()


def test_listeners_with_different_users_in_one_process(wsman_lab_factory, tmp_path):
    # pyspnego reads NTLM_USER_FILE from the environment: each lab must still see its own accounts.
    other = Users([("LAB", "admin", "other-password")], state_dir=str(tmp_path))
    lab_a, lab_b = wsman_lab_factory(), wsman_lab_factory(users=other)
    assert run(protocol(lab_a.url, transport="ntlm"), "a")[2] == 0
    assert run(protocol(lab_b.url, transport="ntlm", password="other-password"), "b")[2] == 0
    with pytest.raises(InvalidCredentialsError):
        protocol(lab_b.url, transport="ntlm").open_shell()
    assert "other-password" not in Path(other.ntlm_user_file).read_text()


# ------------------------------------------------------------------------------------------------
# WinRS behaviour


def test_rc_and_stderr_pass_through(wsman_lab):
    wsman_lab.dispatcher.behaviour = lambda h, c, s: CommandOutcome(b"out\r\n", "fehler ü\r\n".encode(), 42)
    assert run(protocol(wsman_lab.url), "fail") == (b"out\r\n", "fehler ü\r\n".encode(), 42)


def test_stdin_arrives_intact(wsman_lab):
    payload1 = bytes(range(256))
    payload2 = "Grüße, 世界 € \x00\r\n".encode()
    p = protocol(wsman_lab.url, transport="ntlm")
    shell = p.open_shell(codepage=65001)
    cid = p.run_command(shell, "PowerShell", ("-Command", "-"), console_mode_stdin=False)
    p.send_command_input(shell, cid, payload1)
    p.send_command_input(shell, cid, payload2, end=True)
    stdout, _, rc = p.get_command_output(shell, cid)
    p.cleanup_command(shell, cid)
    p.close_shell(shell)
    assert rc == 0
    assert wsman_lab.dispatcher.calls == [(HOST, "PowerShell -Command -", payload1 + payload2)]
    assert stdout == f"{HOST}|PowerShell -Command -|".encode() + payload1 + payload2


def test_long_poll_outlasts_operation_timeout(wsman_lab):
    def slow(host, command_line, stdin):
        time.sleep(2.5)
        return CommandOutcome(b"finally", b"", 7)

    wsman_lab.dispatcher.behaviour = slow
    # Encrypted, so the TimedOut faults (HTTP 500) are encrypted too.
    p = protocol(wsman_lab.url, transport="ntlm", operation_timeout_sec=3, read_timeout_sec=5)
    started = time.monotonic()
    assert run(p, "slow") == (b"finally", b"", 7)
    assert time.monotonic() - started < 4.5
    # 3 NTLM handshake requests, Create, Command, Signal, Delete, and the Receives: each held ~1 s
    # (OperationTimeout 3 s minus 2 s), so 2 TimedOut faults were retried, with no busy loop.
    receives = wsman_lab.counters()["requests"] - 3 - 4
    assert 2 <= receives <= 4


def test_long_poll_budget():
    assert long_poll_budget(20) == 18
    assert long_poll_budget(3) == 1
    assert 0 < long_poll_budget(1) < 1
    assert long_poll_budget(None) > 0


def test_cmd_line_limit(wsman_lab):
    p = protocol(wsman_lab.url)
    too_long = "x" * (8191 - len("echo "))
    assert run(p, "echo", (too_long,))[2] == 0
    assert run(p, "echo", (too_long + "y",)) == (b"", b"The command line is too long.\r\n", 1)
    assert len(wsman_lab.dispatcher.calls) == 1
    # WINRS_SKIP_CMD_SHELL=TRUE bypasses cmd.exe and its limit.
    assert run(p, "echo", (too_long + "y",), skip_cmd_shell=True)[2] == 0
    assert wsman_lab.counters()["commands"] == 3


def test_unknown_shell_is_invalid_selectors_fault(wsman_lab):
    p = protocol(wsman_lab.url)
    with pytest.raises(WSManFaultError) as info:
        p.run_command(str(uuid.uuid4()).upper(), "hostname")
    assert info.value.code == 500
    assert info.value.wsman_fault_code == 2150858843
    assert info.value.fault_subcode == "w:InvalidSelectors"


def test_signal_of_unknown_command_is_fine(wsman_lab):
    p = protocol(wsman_lab.url)
    shell = p.open_shell()
    p.cleanup_command(shell, str(uuid.uuid4()).upper())  # asserts RelatesTo itself
    p.close_shell(shell)


# Raw WS-Man: pypsrp-style prefixes, upper-case MessageID, one Arguments element per argument,
# and ansible's Send that omits End on all but the last chunk.

_ENVELOPE = """<?xml version="1.0" encoding="utf-8"?>
<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"
 xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing"
 xmlns:wsman="http://schemas.dmtf.org/wbem/wsman/1/wsman.xsd"
 xmlns:sh="http://schemas.microsoft.com/wbem/wsman/1/windows/shell">
<s:Header>
<wsa:Action s:mustUnderstand="true">{action}</wsa:Action>
<wsa:MessageID>{message_id}</wsa:MessageID>
<wsman:OperationTimeout>PT3.000S</wsman:OperationTimeout>
<wsman:ResourceURI s:mustUnderstand="true">http://schemas.microsoft.com/wbem/wsman/1/windows/shell/cmd</wsman:ResourceURI>
{selectors}{options}
</s:Header>
<s:Body>{body}</s:Body>
</s:Envelope>"""


def _post(url: str, action: str, body: str, shell: str | None = None, options: str = "") -> tuple[int, ET.Element, str]:
    message_id = f"uuid:{str(uuid.uuid4()).upper()}"
    selectors = f'<wsman:SelectorSet><wsman:Selector Name="ShellId">{shell}</wsman:Selector></wsman:SelectorSet>' if shell else ""
    xml = _ENVELOPE.format(action=action, message_id=message_id, selectors=selectors, options=options, body=body)
    reply = requests.post(
        url,
        data=xml.encode(),
        auth=("LAB\\admin", LAB_PASSWORD),
        timeout=10,
        headers={"Content-Type": "application/soap+xml;charset=UTF-8"},
    )
    root = ET.fromstring(reply.content)
    assert root.findtext("s:Header/a:RelatesTo", namespaces=NS) == message_id
    return reply.status_code, root, message_id


def test_raw_wsman_with_other_prefixes_and_ansible_send(wsman_lab):
    url, sh = wsman_lab.url, soap.NS_SHELL
    status, root, _ = _post(
        url, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Create", "<sh:Shell><sh:InputStreams>stdin</sh:InputStreams></sh:Shell>"
    )
    assert status == 200
    shell = root.find(".//w:Selector[@Name='ShellId']", NS).text
    assert root.findtext(".//rsp:Shell/rsp:ShellId", namespaces=NS) == shell
    options = '<wsman:OptionSet><wsman:Option Name="WINRS_CONSOLEMODE_STDIN">FALSE</wsman:Option></wsman:OptionSet>'
    status, root, _ = _post(
        url,
        f"{sh}/Command",
        "<sh:CommandLine><sh:Command>PowerShell</sh:Command><sh:Arguments>-File</sh:Arguments>"
        "<sh:Arguments>C:\\a b.ps1</sh:Arguments></sh:CommandLine>",
        shell,
        options,
    )
    cid = root.findtext(".//rsp:CommandId", namespaces=NS)
    for chunk, end in ((b"one,", ""), (b"two", ' End="true"')):
        status, _, _ = _post(
            url,
            f"{sh}/Send",
            f'<sh:Send><sh:Stream Name="stdin" CommandId="{cid}"{end}>{base64.b64encode(chunk).decode()}</sh:Stream></sh:Send>',
            shell,
        )
        assert status == 200
    status, root, _ = _post(
        url, f"{sh}/Receive", f'<sh:Receive><sh:DesiredStream CommandId="{cid}">stdout stderr</sh:DesiredStream></sh:Receive>', shell
    )
    assert status == 200
    done = [e for e in root.iter() if e.get("State", "").endswith("CommandState/Done")]
    assert len(done) == 1 and done[0].findtext("rsp:ExitCode", namespaces=NS) == "0"
    assert wsman_lab.dispatcher.calls == [(HOST, "PowerShell -File C:\\a b.ps1", b"one,two")]
    status, root, _ = _post(url, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", "", shell)
    assert status == 200
    status, root, _ = _post(url, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Delete", "", shell)
    assert status == 500
    assert root.find(f".//{{{soap.NS_WSMAN_FAULT}}}WSManFault").get("Code") == "2150858843"


def test_unsupported_action_and_garbage(wsman_lab):
    status, root, _ = _post(wsman_lab.url, "http://schemas.xmlsoap.org/ws/2004/09/transfer/Get", "")
    assert status == 500 and root.findtext(".//s:Subcode/s:Value", namespaces=NS) == "a:ActionNotSupported"
    reply = requests.post(wsman_lab.url, data=b"<not-xml", auth=("admin", LAB_PASSWORD), timeout=5)
    assert reply.status_code == 500 and b"SchemaValidationError" in reply.content


def test_parsers_read_by_namespace():
    body = ET.fromstring(
        f'<b:Body xmlns:b="{soap.NS_SOAP}" xmlns:z="{soap.NS_SHELL}"><z:Send>'
        '<z:Stream Name="stdin" CommandId="C1">aGk=</z:Stream>'
        '<z:Stream Name="stdin" CommandId="C1" End="TRUE"></z:Stream></z:Send></b:Body>'
    )
    chunks = parse_send(body)
    assert [(c.data, c.end) for c in chunks] == [(b"hi", False), (b"", True)]
    cmd = ET.fromstring(
        f'<b:Body xmlns:b="{soap.NS_SOAP}" xmlns:z="{soap.NS_SHELL}"><z:CommandLine>'
        "<z:Command>powershell -encodedcommand AAA</z:Command></z:CommandLine></b:Body>"
    )
    assert parse_command_line(cmd) == "powershell -encodedcommand AAA"
    assert soap.parse_duration("PT20S") == 20 and soap.parse_duration("PT20.500S") == 20.5
    assert soap.parse_duration("P0DT1H1M0S") == 3660 and soap.parse_duration("bogus") is None


# ------------------------------------------------------------------------------------------------
# Injected faults


def test_fault_host_down_refuses_connections(wsman_lab):
    session = winrm.Session(wsman_lab.url, auth=("LAB\\admin", LAB_PASSWORD), transport="basic")
    assert session.run_cmd("a").status_code == 0
    wsman_lab.faults.add("host_down", host=HOST)
    with pytest.raises(requests.exceptions.ConnectionError):
        winrm.Session(wsman_lab.url, auth=("LAB\\admin", LAB_PASSWORD), transport="basic").run_cmd("a")

    def refused() -> bool:
        try:
            socket.create_connection(("127.0.0.1", wsman_lab.listener.port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        return False

    assert wait_for(refused)
    wsman_lab.faults.clear("host_down")
    assert wait_for(lambda: not refused())
    assert session.run_cmd("b").status_code == 0


def test_fault_http_500(wsman_lab):
    wsman_lab.faults.add("http_500", host=HOST, count=1)
    p = protocol(wsman_lab.url)
    with pytest.raises(WinRMTransportError) as info:
        p.open_shell()
    assert info.value.code == 500
    assert run(p, "after")[2] == 0


def test_fault_wsman_on_receive(wsman_lab):
    wsman_lab.faults.add("wsman_fault", host="*", count=1)
    wsman_lab.faults.add("wsman_fault", host=HOST, count=1, code=2150859174)
    p = protocol(wsman_lab.url, transport="ntlm")
    shell = p.open_shell()
    for expected in (2150858843, 2150859174):
        cid = p.run_command(shell, "x")
        with pytest.raises(WSManFaultError) as info:
            p.get_command_output(shell, cid)
        assert info.value.wsman_fault_code == expected
    cid = p.run_command(shell, "x")
    assert p.get_command_output(shell, cid)[2] == 0
    p.close_shell(shell)


def test_fault_wsman_on_receive_after_stdin(wsman_lab):
    # ansible's pattern: the command runs when stdin ends, and is over before the first Receive.
    wsman_lab.faults.add("wsman_fault", host=HOST, count=1)
    p = protocol(wsman_lab.url)
    shell = p.open_shell()
    cid = p.run_command(shell, "x", console_mode_stdin=False)
    p.send_command_input(shell, cid, b"input", end=True)
    assert wait_for(lambda: len(wsman_lab.dispatcher.calls) == 1)
    with pytest.raises(WSManFaultError):
        p.get_command_output(shell, cid)
    assert p.get_command_output(shell, cid)[0].endswith(b"|input")
    p.close_shell(shell)


def test_fault_delay(wsman_lab):
    p = protocol(wsman_lab.url)
    wsman_lab.faults.add("delay", host=HOST, count=1, seconds=0.4)
    started = time.monotonic()
    shell = p.open_shell()
    assert time.monotonic() - started >= 0.4
    started = time.monotonic()
    p.close_shell(shell)
    assert time.monotonic() - started < 0.4


def test_other_hosts_faults_do_not_apply(wsman_lab):
    wsman_lab.faults.add("http_500", host="other.lab.example")
    assert run(protocol(wsman_lab.url), "fine")[2] == 0


def test_listener_restarts_and_stop_drops_connections(wsman_lab):
    session = winrm.Session(wsman_lab.url, auth=("LAB\\admin", LAB_PASSWORD), transport="ntlm")
    assert session.run_cmd("a").status_code == 0
    port = wsman_lab.listener.port
    wsman_lab.listener.stop()
    with pytest.raises(requests.exceptions.ConnectionError):
        session.run_cmd("b")
    wsman_lab.listener.start()
    assert wsman_lab.listener.port == port
    session = winrm.Session(wsman_lab.url, auth=("LAB\\admin", LAB_PASSWORD), transport="ntlm")
    assert session.run_cmd("c").status_code == 0


# ------------------------------------------------------------------------------------------------
# Encryption framing and PKI


def test_encryption_round_trip_is_byte_exact():
    class Plain:  # identity "sealing" to check the framing alone
        def wrap_winrm(self, data):
            return type("W", (), {"header": b"S" * 16, "data": data})()

        def unwrap_winrm(self, header, data):
            assert header == b"S" * 16
            return data

    framed = encryption.encrypt(Plain(), b"<xml/>")
    assert framed == (
        b"--Encrypted Boundary\r\n\tContent-Type: application/HTTP-SPNEGO-session-encrypted\r\n"
        b"\tOriginalContent: type=application/soap+xml;charset=UTF-8;Length=6\r\n"
        b"--Encrypted Boundary\r\n\tContent-Type: application/octet-stream\r\n"
        b"\x10\x00\x00\x00" + b"S" * 16 + b"<xml/>--Encrypted Boundary--\r\n"
    )
    assert encryption.decrypt(Plain(), framed) == b"<xml/>"
    with pytest.raises(encryption.EncryptionError):
        encryption.decrypt(Plain(), framed.replace(b"Length=6", b"Length=7"))


def test_pki_files_are_reused(tmp_path):
    ca = ensure_ca(tmp_path)
    server = ensure_server_cert(tmp_path, "pri.lab.example", ca)
    client = ensure_client_cert(tmp_path, "svc@lab.example", ca=ca)
    before = {p: Path(p).read_bytes() for p in (ca.cert, ca.key, server.cert, server.key, client.cert, client.key)}
    assert ensure_server_cert(tmp_path, "pri.lab.example") == server
    assert ensure_client_cert(tmp_path, "svc@lab.example") == client
    assert {p: Path(p).read_bytes() for p in before} == before
    assert Path(server.cert).read_text().count("BEGIN CERTIFICATE") == 2  # leaf + CA chain
    assert oct(Path(server.key).stat().st_mode & 0o777) == "0o600"
    other = ensure_server_cert(tmp_path, "pri.lab.example", ca, addresses=("127.10.0.5", "127.0.0.1"))
    assert other != server
    san = (
        x509.load_pem_x509_certificate(Path(other.cert).read_bytes()).extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    )
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.10.0.5", "127.0.0.1"]
    users = Users([("LAB", "svc", "pw")], cert_map={"svc@lab.example": "LAB\\svc"}, state_dir=str(tmp_path))
    der = x509.load_pem_x509_certificate(Path(client.cert).read_bytes()).public_bytes(Encoding.DER)
    assert users.principal_for_certificate(der) == "LAB\\svc"
