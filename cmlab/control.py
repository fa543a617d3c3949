"""The control API: a small JSON HTTP server on loopback for tests, benchmarks and the CLI.

GET /state, GET /counters, POST /counters/reset, GET/POST/DELETE /faults, GET/POST /internet,
POST /clock/advance, POST /shutdown, GET /.
It listens on 127.0.0.1 only, and every request must carry `Authorization: Bearer <token>`: the
token is random per lab and `python -m cmlab start` writes it to <state-dir>/control-token (mode
0600), so another local user can neither stop nor alter a lab they do not own (docs/cmlab.md
"Control API"). The state it shows holds no secrets.
"""

from __future__ import annotations

import hmac
import json
import logging
import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from cmlab.faults import KINDS
from cmlab.lab import Lab
from cmlab.model.errors import InvalidArgument
from cmlab.model.scp import lab_internet

log = logging.getLogger(__name__)


TOKEN_FILE = "control-token"


class ControlServer:
    def __init__(self, lab: Lab, port: int = 0, token: str | None = None) -> None:
        self.lab = lab
        self.token = token or secrets.token_urlsafe(32)
        self.shutdown_requested = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), _Handler)
        self._server.daemon_threads = True
        self._server.control = self  # type: ignore[attr-defined]
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def start(self) -> None:
        # A short poll interval: stop() (and so `cmlab stop`) waits for at most one interval.
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1}, name="cmlab-control", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread:
            self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    server_version = "cmlab-control"

    @property
    def control(self) -> ControlServer:
        return self.server.control  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("control: " + format, *args)

    def _send(self, status: int, body: Any) -> None:
        data = (json.dumps(body, indent=2, sort_keys=True) + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorized(self) -> bool:
        """The token, compared in constant time; a 401 otherwise (nothing is read or changed)."""
        scheme, _, given = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.control.token.encode()):
            return True
        self._send(401, {"error": f"the control API needs 'Authorization: Bearer <token>' (<state-dir>/{TOKEN_FILE})"})
        return False

    def _body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        return json.loads(raw) if raw.strip() else {}

    def do_GET(self) -> None:
        if not self._authorized():
            return
        lab = self.control.lab
        path = urlsplit(self.path).path.rstrip("/")
        if path == "":
            self._send(200, lab.describe())
        elif path == "/state":
            self._send(200, lab.dump_state())
        elif path == "/counters":
            self._send(200, lab.counters())
        elif path == "/faults":
            self._send(200, lab.faults.to_list())
        elif path == "/internet":
            with lab.model.lock:
                self._send(200, lab_internet(lab.model).to_dict())
        else:
            self._send(404, {"error": f"no such resource: {path}"})

    def do_POST(self) -> None:
        if not self._authorized():
            return
        lab = self.control.lab
        path = urlsplit(self.path).path.rstrip("/")
        try:
            body = self._body()
        except ValueError:
            self._send(400, {"error": "the body is not JSON"})
            return
        if path == "/counters/reset":
            lab.reset_counters()
            self._send(200, lab.counters())
        elif path == "/faults":
            if not isinstance(body, dict) or body.get("kind") not in KINDS:
                self._send(400, {"error": f"'kind' must be one of {', '.join(sorted(KINDS))}"})
                return
            count = body.get("count")
            options = body.get("options") or {}
            if (count is not None and (not isinstance(count, int) or count < 1)) or not isinstance(options, dict):
                self._send(400, {"error": "'count' must be a positive integer and 'options' an object"})
                return
            try:
                fault = lab.faults.add(body["kind"], str(body.get("host") or "*"), count, **options)
            except ValueError as e:  # at_command / phase of a fault that waits for a command
                self._send(400, {"error": str(e)})
                return
            self._send(201, fault.to_dict())
        elif path == "/internet":
            # Endpoint outcomes and proxies (docs/cmlab.md "ConfigMgr behaviour"); merged unless "replace".
            if not isinstance(body, dict):
                self._send(400, {"error": "the body must be an object"})
                return
            replace = bool(body.pop("replace", False))
            try:
                with lab.model.lock:
                    lab_internet(lab.model).configure(body, replace=replace)
                    self._send(200, lab_internet(lab.model).to_dict())
            except InvalidArgument as e:
                self._send(400, {"error": e.message})
        elif path == "/clock/advance":
            seconds = body.get("seconds") if isinstance(body, dict) else None
            if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
                self._send(400, {"error": "'seconds' must be a number of seconds, 0 or more"})
                return
            with lab.model.lock:
                lab.model.clock.advance(seconds)
                ran = lab.model.scheduler.run_due()  # what became due runs now, not at the next tick
            self._send(200, {"advanced": seconds, "jobs_run": ran})
        elif path == "/shutdown":
            self.control.shutdown_requested.set()  # before the answer: a client that got 202 may rely on it
            self._send(202, {"shutdown": True})
        else:
            self._send(404, {"error": f"no such resource: {path}"})

    def do_DELETE(self) -> None:
        if not self._authorized():
            return
        parts = urlsplit(self.path)
        if parts.path.rstrip("/") != "/faults":
            self._send(404, {"error": f"no such resource: {parts.path}"})
            return
        query = parse_qs(parts.query)
        self.control.lab.faults.clear(kind=(query.get("kind") or [None])[0], host=(query.get("host") or [None])[0])
        self._send(200, self.control.lab.faults.to_list())
