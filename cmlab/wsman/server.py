"""A WinRM listener for one simulated host: HTTP(S), authentication, message encryption, injected
transport faults and request accounting, in front of the WinRS service (service.py).

One `WSManListener` = one listening socket on loopback, an accept thread and a daemon thread per
keep-alive connection (ThreadingHTTPServer). NTLM authenticates a *connection*, so its state lives
in the per-connection handler (reference doc §2.1, §2.3).
"""

from __future__ import annotations

import ipaddress
import logging
import selectors
import socket
import socketserver
import ssl
import sys
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from cmlab.accounting import Accounting
from cmlab.dispatch import Dispatcher
from cmlab.faults import Faults
from cmlab.wsman import encryption
from cmlab.wsman.auth import ConnectionAuth, Users
from cmlab.wsman.service import WinRSService

log = logging.getLogger(__name__)

SOAP_CONTENT_TYPE = "application/soap+xml;charset=UTF-8"
# How often an idle accept loop looks at the host_down fault (and, while down, for its clearing).
FAULT_POLL_SECONDS = 0.5
# Seconds a keep-alive connection may sit idle. Long: an NTLM client whose connection was dropped
# re-authenticates on a new socket but replays a body sealed with the old context, which fails (400).
IDLE_CONNECTION_TIMEOUT = 3600.0
MAX_BODY = 64 * 1024 * 1024  # sanity cap only; WS-Man MaxEnvelopeSize is NOT enforced (§1.6)
_DROP = 0  # _process: answer nothing and drop the connection (host_down struck)


@dataclass
class ListenerConfig:
    host_name: str  # simulated host FQDN, e.g. "cas.lab.example"
    bind: str = "127.0.0.1"
    port: int = 0  # 0 = ephemeral; the real port is WSManListener.port after start()
    scheme: str = "http"  # "http" | "https"
    certfile: str | None = None  # https server certificate chain (PEM)
    keyfile: str | None = None
    client_ca: str | None = None  # https: accept client certificates issued by this CA
    # The WinRM service's configuration, false as on Windows (docs/cmlab-wsman.md "Windows' defaults"):
    # Service/Auth/Basic, Service/AllowUnencrypted (plain bodies over http), Service/Auth/Certificate.
    allow_basic: bool = False
    allow_unencrypted: bool = False
    allow_certificate: bool = False


WINRM_SWITCHES = ("allow_basic", "allow_unencrypted", "allow_certificate")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, listener: WSManListener) -> None:
        self.listener = listener
        # After a restart, the port of the first start (inventories point at it).
        super().__init__((listener.config.bind, listener.port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind asks reverse DNS for the address (socket.getfqdn): seconds per
        # listener when 127.x.y.z has no name, which a fleet of hundreds of listeners cannot afford.
        socketserver.TCPServer.server_bind(self)
        self.server_name = self.listener.config.host_name
        self.server_port = self.server_address[1]

    def handle_error(self, request, client_address) -> None:  # type: ignore[override]
        # Called from socketserver's except block. TLS handshake failures and clients vanishing
        # mid-request are not worth a traceback on stderr.
        log.debug("connection from %s ended with %r", client_address, sys.exc_info()[1])


class WSManListener:
    def __init__(
        self,
        config: ListenerConfig,
        users: Users,
        dispatcher: Dispatcher,
        accounting: Accounting,
        faults: Faults,
    ) -> None:
        if config.scheme not in ("http", "https"):
            raise ValueError(f"scheme must be http or https, not {config.scheme!r}")
        if config.scheme == "https" and not (config.certfile and config.keyfile):
            raise ValueError("https needs certfile and keyfile")
        if not ipaddress.ip_address(config.bind).is_loopback:
            raise ValueError(f"cmlab listeners bind to loopback only, not {config.bind}")
        self.config = config
        self.users = users
        self.accounting = accounting
        self.faults = faults
        self.service = WinRSService(config.host_name, dispatcher, accounting, faults, lambda: self.url)
        self.ssl_context = self._ssl_context() if config.scheme == "https" else None
        # Requests whose body arrived encrypted (multipart/encrypted); tests read it.
        self.encrypted_requests = 0
        self._lock = threading.Lock()
        self._connections: set[socket.socket] = set()
        self._server: _Server | None = None
        self._listening = False
        self._port = config.port
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._wake_r: socket.socket | None = None  # stop() writes to _wake_w to end the select
        self._wake_w: socket.socket | None = None

    # -- public ---------------------------------------------------------------------------------

    @property
    def host_name(self) -> str:
        return self.config.host_name

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"{self.config.scheme}://{self.config.bind}:{self._port}/wsman"

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("listener already started")
        self._server = _Server(self)
        self._server.socket.setblocking(False)
        self._port = self._server.server_address[1]
        self._listening = True
        self._stopping.clear()
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread = threading.Thread(target=self._accept_loop, name=f"wsman-{self.config.host_name}-{self._port}", daemon=True)
        self._thread.start()
        log.info("WinRM listener for %s on %s", self.config.host_name, self.url)

    def stop(self) -> None:
        if self._thread is None:
            return
        assert self._server is not None and self._wake_r is not None and self._wake_w is not None
        self._stopping.set()
        self._wake_w.send(b"x")
        self._thread.join(timeout=5)
        self._thread = None
        self._server.server_close()
        self._close_connections()
        self.service.close()
        self._wake_r.close()
        self._wake_w.close()

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- accept loop ----------------------------------------------------------------------------

    def _host_down(self) -> bool:
        return self.faults.peek(self.config.host_name, "host_down") is not None

    def _accept_loop(self) -> None:
        assert self._server is not None and self._wake_r is not None
        server = self._server
        with selectors.DefaultSelector() as sel:
            sel.register(self._wake_r, selectors.EVENT_READ)
            sel.register(server.socket, selectors.EVENT_READ)
            while not self._stopping.is_set():
                if self._host_down():
                    if self._listening:
                        # host_down: close the listening socket so that clients get "connection
                        # refused", and drop live connections, as a powered-off machine would.
                        sel.unregister(server.socket)
                        server.socket.close()
                        self._listening = False
                        self._close_connections()
                elif not self._listening and self._reopen(server):
                    sel.register(server.socket, selectors.EVENT_READ)
                for key, _ in sel.select(timeout=FAULT_POLL_SECONDS):
                    if key.fileobj is server.socket and not self._stopping.is_set():
                        self._accept_one(server)

    def _reopen(self, server: _Server) -> bool:
        server.socket = socket.socket(server.address_family, server.socket_type)
        server.server_address = (self.config.bind, self._port)
        try:
            server.server_bind()
            server.server_activate()
            server.socket.setblocking(False)
        except OSError as exc:  # the port is busy for a moment: try again on the next poll
            log.warning("%s: cannot reopen port %d yet: %s", self.config.host_name, self._port, exc)
            server.socket.close()
            return False
        self._listening = True
        return True

    def _accept_one(self, server: _Server) -> None:
        try:
            conn, addr = server.socket.accept()  # non-blocking: the client may have gone already
        except OSError:
            return
        if self._host_down():
            conn.close()
            return
        server.process_request(conn, addr)

    # -- connection bookkeeping (so stop() and host_down can drop keep-alive connections) -------

    def _track(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.add(conn)

    def _untrack(self, conn: socket.socket) -> None:
        with self._lock:
            self._connections.discard(conn)

    def _close_connections(self) -> None:
        with self._lock:
            conns = list(self._connections)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.config.certfile or "", self.config.keyfile)
        if self.config.client_ca:
            ctx.verify_mode = ssl.CERT_OPTIONAL  # certificate auth is one choice among several
            ctx.load_verify_locations(self.config.client_ca)
        return ctx

    def _count_encrypted(self) -> None:
        with self._lock:
            self.encrypted_requests += 1


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: NTLM authenticates the connection
    server_version = "Microsoft-HTTPAPI/2.0"
    sys_version = ""
    timeout = IDLE_CONNECTION_TIMEOUT
    disable_nagle_algorithm = True  # headers and body are separate writes: avoid the 40 ms stall
    server: _Server

    # -- connection lifecycle -------------------------------------------------------------------

    def setup(self) -> None:
        self.listener: WSManListener = self.server.listener
        self._raw = self.request
        peer_cert: bytes | None = None
        ctx = self.listener.ssl_context
        if ctx is not None:
            self.request.settimeout(30)  # a client that never finishes the handshake
            self.request = ctx.wrap_socket(self.request, server_side=True)
            peer_cert = self.request.getpeercert(binary_form=True)
        host, faults = self.listener.config.host_name, self.listener.faults
        config = self.listener.config
        self.auth = ConnectionAuth(
            self.listener.users,
            peer_cert,
            login_allowed=lambda: faults.fire(host, "bad_credentials") is None,
            allow_basic=config.allow_basic,
            allow_certificate=config.allow_certificate,
        )
        self.listener._track(self._raw)
        super().setup()

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.listener._untrack(self._raw)

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s %s - " + format, self.listener.config.host_name, self.client_address[0], *args)

    # -- requests -------------------------------------------------------------------------------

    def do_GET(self) -> None:
        self._read_body()
        self._reply(405, b"", "text/plain")

    def do_POST(self) -> None:
        listener = self.listener
        host = listener.config.host_name
        body_in = self._read_body()
        if body_in is None:
            return
        if listener._host_down():
            self.close_connection = True  # no reply at all: the client sees the connection drop
            listener.accounting.host(host).add_request(len(body_in), 0, "refused")
            return
        self._action = "auth"  # until a WS-Man body says otherwise: handshake and empty POSTs
        status, body_out, content_type, headers = self._process(body_in)
        if status == _DROP:
            # host_down struck at this command: no answer at all, the connection drops.
            self.close_connection = True
            listener.accounting.host(host).add_request(len(body_in), 0, "refused")
            return
        # Counted before the reply goes out, so a client that has its answer sees the count.
        listener.accounting.host(host).add_request(len(body_in), len(body_out), self._action)
        listener.accounting.charge(host, "winrm_auth" if self._action == "auth" else "winrm_request")
        self._reply(status, body_out, content_type, headers)

    def _process(self, body_in: bytes) -> tuple[int, bytes, str, tuple[tuple[str, str], ...]]:
        listener = self.listener
        host = listener.config.host_name
        if self.path.split("?", 1)[0].rstrip("/").lower() != "/wsman":
            return 404, b"", "text/plain", ()

        result = self.auth.authenticate(self.headers.get("Authorization"))
        if result.principal is None:
            return 401, b"", "text/plain", result.headers

        encrypted = encryption.is_encrypted(self.headers.get("Content-Type"))
        session = self.auth.session
        if encrypted:
            if session is None:
                return 400, b"", "text/plain", result.headers  # Windows: encrypted data on a new socket
            try:
                plaintext = encryption.decrypt(session.context, body_in)
            except encryption.EncryptionError as exc:
                log.info("%s: cannot decrypt a request: %s", host, exc)
                return 400, b"", "text/plain", result.headers
            listener._count_encrypted()
        else:
            plaintext = body_in
            if plaintext and self.listener.config.scheme == "http" and not self.listener.config.allow_unencrypted:
                # AllowUnencrypted=false: a SOAP body in clear over http is refused (a simulator
                # assumption on the exact answer: docs/cmlab-wsman.md).
                return 401, b"", "text/plain", self.auth.challenge

        if not plaintext:
            # Empty authenticated POSTs set up auth and encryption; they must get 200 (§2.1).
            return 200, b"", SOAP_CONTENT_TYPE, result.headers

        # A fault waiting for a command strikes its Command request (phase "before").
        if listener.service.is_command(plaintext):
            listener.faults.note(host, "before")
            struck = self._strike("before", result.headers, encrypted, session)
            if struck is not None:
                return struck

        delay = listener.faults.fire(host, "delay")
        if delay is not None:
            time.sleep(float(delay.options.get("seconds", 1.0)))
        if listener.faults.fire(host, "http_500") is not None:
            self._action = "fault"
            return 500, b"Internal Server Error (injected fault)\r\n", "text/plain", result.headers

        reply = listener.service.handle(plaintext, result.principal, self.client_address[0])
        self._action = reply.action
        if reply.completed:
            # ... or the Receive that carries the finished command's output (phase "after").
            listener.faults.note(host, "after")
            struck = self._strike("after", result.headers, encrypted, session)
            if struck is not None:
                return struck
        if encrypted and session is not None:
            # Faults too: pywinrm decrypts error bodies (§2.3).
            return reply.status, encryption.encrypt(session.context, reply.body), encryption.CONTENT_TYPE, result.headers
        return reply.status, reply.body, SOAP_CONTENT_TYPE, result.headers

    def _strike(self, phase: str, headers: tuple, encrypted: bool, session) -> tuple | None:
        """What a fault waiting for this command does to this request (cmlab/faults.py); None: nothing."""
        listener = self.listener
        host = listener.config.host_name
        delay = listener.faults.fire(host, "delay", phase)
        if delay is not None:  # held past the client's read timeout; the request itself goes on
            time.sleep(float(delay.options.get("seconds", 1.0)))
        if listener.faults.peek(host, "host_down") is not None:
            return _DROP, b"", "", ()
        if listener.faults.fire(host, "http_500", phase) is not None:
            self._action = "fault"
            return 500, b"Internal Server Error (injected fault)\r\n", "text/plain", headers
        injected = listener.faults.fire(host, "wsman_fault", phase)
        if injected is not None:
            self._action = "fault"
            reply = listener.service.injected_fault(injected.options)
            if encrypted and session is not None:
                return 500, encryption.encrypt(session.context, reply.body), encryption.CONTENT_TYPE, headers
            return 500, reply.body, SOAP_CONTENT_TYPE, headers
        return None

    def _read_body(self) -> bytes | None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_BODY or self.headers.get("Transfer-Encoding"):
            self.close_connection = True
            self._reply(400, b"", "text/plain")
            return None
        return self.rfile.read(length) if length else b""

    def _reply(self, status: int, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...] = ()) -> None:
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        if body or status == 200:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body:
            self.wfile.write(body)
        self.wfile.flush()
