"""Fixtures for the cmlab tests: WinRM listeners on loopback with a fake dispatcher; fleet labs."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from cmlab.accounting import Accounting
from cmlab.dispatch import CommandOutcome
from cmlab.faults import Faults
from cmlab.wsman import ListenerConfig, Users, WSManListener
from cmlab.wsman.pki import CertPaths, ensure_ca, ensure_client_cert, ensure_server_cert
from tests.fixtures import LAB_PASSWORD
from tests.integration.conftest import RunningLab

WSMAN_HOST = "cas.lab.example"
WSMAN_UPN = "admin@lab.example"


@dataclass
class FakeDispatcher:
    """Echoes what it got; `behaviour` replaces that for a test."""

    behaviour: Callable[[str, str, bytes], CommandOutcome] | None = None
    calls: list[tuple[str, str, bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def run(self, host: str, command_line: str, stdin: bytes, runspace: dict | None = None, identity: str | None = None) -> CommandOutcome:
        with self._lock:
            self.calls.append((host, command_line, stdin))
        if self.behaviour is not None:
            return self.behaviour(host, command_line, stdin)
        return CommandOutcome(stdout=f"{host}|{command_line}".encode() + b"|" + stdin)


@dataclass(frozen=True)
class WsmanPki:
    ca: CertPaths
    server: CertPaths
    client: CertPaths
    stranger: CertPaths  # issued by the lab CA, but mapped to no account


@pytest.fixture(scope="session")
def wsman_pki(tmp_path_factory: pytest.TempPathFactory) -> WsmanPki:
    directory = tmp_path_factory.mktemp("pki")
    ca = ensure_ca(directory)
    return WsmanPki(
        ca=ca,
        server=ensure_server_cert(directory, WSMAN_HOST, ca),
        client=ensure_client_cert(directory, WSMAN_UPN, ca=ca),
        stranger=ensure_client_cert(directory, "nobody@lab.example", ca=ca),
    )


@pytest.fixture(scope="session")
def wsman_users(tmp_path_factory: pytest.TempPathFactory) -> Users:
    return Users(
        [("LAB", "admin", LAB_PASSWORD), ("", "localuser", "local-pw")],
        cert_map={WSMAN_UPN: "LAB\\admin"},
        state_dir=str(tmp_path_factory.mktemp("users")),
    )


@dataclass
class WsmanLab:
    accounting: Accounting
    faults: Faults
    dispatcher: FakeDispatcher
    listener: WSManListener

    @property
    def url(self) -> str:
        return self.listener.url

    def counters(self) -> dict:
        return self.accounting.host(WSMAN_HOST).snapshot()


@pytest.fixture
def wsman_lab_factory(wsman_users: Users, wsman_pki: WsmanPki) -> Iterator[Callable[..., WsmanLab]]:
    """make(scheme="http", client_certs=False, users=None) -> a started listener, stopped afterwards."""
    started: list[WSManListener] = []

    def make(scheme: str = "http", client_certs: bool = False, users: Users | None = None, **switches) -> WsmanLab:
        config = ListenerConfig(host_name=WSMAN_HOST, scheme=scheme, **switches)
        if scheme == "https":
            config.certfile, config.keyfile = wsman_pki.server.cert, wsman_pki.server.key
            config.client_ca = wsman_pki.ca.cert if client_certs else None
        lab = WsmanLab(Accounting(), Faults(), FakeDispatcher(), None)  # type: ignore[arg-type]
        lab.listener = WSManListener(config, users or wsman_users, lab.dispatcher, lab.accounting, lab.faults)
        lab.listener.start()
        started.append(lab.listener)
        return lab

    yield make
    for listener in started:
        listener.stop()


@pytest.fixture
def wsman_lab(wsman_lab_factory: Callable[..., WsmanLab]) -> WsmanLab:
    return wsman_lab_factory()


# ------------------------------------------------------------------------------------------------
# A whole lab through the CLI (tests/integration's RunningLab), as a fleet of hierarchies


class FleetLab(RunningLab):
    """`python -m cmlab start --fleet N`: per hierarchy i, cas<i> (sms_provider, console), ps<i>
    (child primary holding the SCP) and scp<i> (member server), named <host><iii>.fleet.example."""

    def __init__(self, state_dir: Path, size: int, *start_args: str) -> None:
        # Not RunningLab.__init__: that one starts a topology file and links its group_vars.
        self.state_dir = state_dir
        self.size = size
        self.cli(["start", "--fleet", str(size), "--state-dir", str(state_dir), "--ephemeral-ports", *start_args])
        self.info = json.loads((state_dir / "cmlab.json").read_text())
        self.inventory = state_dir / "inventory.yml"

    @property
    def password(self) -> str:
        return (self.state_dir / "password").read_text().strip()

    def url(self, fqdn: str, scheme: str = "http") -> str:
        host = self.info["hosts"][fqdn]
        return f"{scheme}://{host['address']}:{host[f'{scheme}_port']}/wsman"


@pytest.fixture(scope="module")
def fleet_lab_factory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[int], FleetLab]]:
    """make(size) -> a running fleet lab (stopped at the end of the test module)."""
    started: list[FleetLab] = []

    def make(size: int, *start_args: str) -> FleetLab:
        lab = FleetLab(tmp_path_factory.mktemp("fleet") / "lab", size, *start_args)
        started.append(lab)
        return lab

    yield make
    for lab in started:
        lab.stop()
