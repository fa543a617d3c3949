"""A running lab: model + engine + dispatcher + accounting + faults + WinRM listeners per host."""

from __future__ import annotations

import inspect
import ipaddress
import json
import logging
import os
import secrets
from pathlib import Path
from typing import Any

import yaml

from cmlab.accounting import Accounting
from cmlab.costmodel import CostModel
from cmlab.engine import Engine, load_catalog
from cmlab.faults import Faults
from cmlab.scripts import ScriptDispatcher
from cmlab.topology import Topology, load_topology

log = logging.getLogger(__name__)


class LabError(RuntimeError):
    """The lab cannot start (port in use, bad state dir...)."""


def generate_password() -> str:
    # The fixed prefix satisfies a Windows domain's complexity rules (upper, lower, digit, symbol); no '%'
    # (a command line would expand it) and nothing a YAML or INI inventory would need to quote.
    return "Cm1-" + secrets.token_urlsafe(18).replace("_", "x")


def write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.chmod(path, 0o600)


def _server_cert(pki, directory: Path, fqdn: str, address: str, ca):
    """A server certificate that also names the host's own loopback address, so that https clients
    validating against the lab CA can connect by address (the inventory's ansible_host)."""
    if "addresses" in inspect.signature(pki.ensure_server_cert).parameters:
        return pki.ensure_server_cert(directory, fqdn, ca, addresses=[address])
    from cryptography import x509

    names: list = [x509.DNSName(fqdn), x509.DNSName(fqdn.split(".")[0])]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in dict.fromkeys((address, "127.0.0.1"))]
    return pki._issue(directory, f"server-{fqdn}-{address}", fqdn, names, x509.oid.ExtendedKeyUsageOID.SERVER_AUTH, ca)


class Lab:
    def __init__(
        self,
        topology: Topology | str | Path,
        state_dir: str | Path,
        ephemeral_ports: bool = False,
        password: str | None = None,
        cost_model: CostModel | None = None,
        catalog=None,
        winrm: dict[str, bool] | None = None,
    ) -> None:
        self.topology = topology if isinstance(topology, Topology) else load_topology(topology)
        self.state_dir = Path(state_dir)
        self.ephemeral_ports = ephemeral_ports
        self.password = password or os.environ.get("CMLAB_PASSWORD") or generate_password()
        # Estimated Windows seconds in the counters: the default figures unless a model is given.
        self.accounting = Accounting(cost_model or CostModel())
        self.faults = Faults()
        self.model = self.topology.build_model(self.password)
        # The collection's cmdlet catalog: the engine allows exactly what plans may run. Tests of
        # simulated cmdlets no plan uses yet pass a wider one (tests/cmlab/lab_catalog.json).
        self.engine = Engine(self.model, catalog or load_catalog(), self.accounting, self.faults)
        self.dispatcher = ScriptDispatcher(self.engine)
        # The WinRM service's switches: Windows' defaults (all false), relaxed by the topology's
        # `winrm:` section or by `winrm` here (docs/cmlab-wsman.md "Windows' defaults").
        from cmlab.wsman.server import WINRM_SWITCHES

        self.winrm = {**dict.fromkeys(WINRM_SWITCHES, False), **self.topology.winrm, **(winrm or {})}
        unknown = sorted(set(self.winrm) - set(WINRM_SWITCHES))
        if unknown:
            raise LabError(f"unknown WinRM switch(es): {', '.join(unknown)}; known: {', '.join(WINRM_SWITCHES)}")
        self.listeners: dict[str, dict[str, Any]] = {}
        self.ca_cert: str | None = None
        self.client_cert: Any = None
        self._started = False

    # Lifecycle ------------------------------------------------------------------------------
    def start(self) -> None:
        # Imported here: the model, engine and their tests need no network stack.
        from cmlab.wsman import pki
        from cmlab.wsman.auth import Users
        from cmlab.wsman.server import ListenerConfig, WSManListener

        if self._started:
            raise LabError("the lab is already started")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        write_private(self.state_dir / "password", self.password + "\n")
        pki_dir = self.state_dir / "pki"
        ca = pki.ensure_ca(pki_dir)
        self.ca_cert = ca.cert
        domain = self.topology.domain
        upn = f"{domain.admin_user}@{domain.dns}"
        self.client_cert = pki.ensure_client_cert(pki_dir, upn, ca=ca)
        accounts = [(domain.netbios, domain.admin_user, self.password)]
        accounts += [(domain.netbios, user, self.password) for user in domain.users]
        users = Users(accounts, cert_map={upn: self.topology.admin_principal}, state_dir=self.state_dir)

        for spec in self.faults_from_topology():
            self.faults.add(spec.kind, spec.host, spec.count, **spec.options)
        try:
            for host in self.topology.hosts:
                cert = _server_cert(pki, pki_dir, host.fqdn, host.address, ca)
                pair = {}
                for scheme, port in (("http", host.http_port), ("https", host.https_port)):
                    config = ListenerConfig(
                        host_name=host.fqdn,
                        bind=host.address,
                        port=0 if self.ephemeral_ports else port,
                        scheme=scheme,
                        certfile=cert.cert if scheme == "https" else None,
                        keyfile=cert.key if scheme == "https" else None,
                        client_ca=ca.cert if scheme == "https" else None,
                        **self.winrm,
                    )
                    listener = WSManListener(config, users, self.dispatcher, self.accounting, self.faults)
                    try:
                        listener.start()
                    except OSError as e:
                        raise LabError(
                            f"{host.fqdn}: cannot listen on {host.address}:{config.port} ({scheme}): "
                            f"{e.strerror or e}. Is another lab running? Use --ephemeral-ports "
                            "or free the port."
                        ) from None
                    pair[scheme] = listener
                self.listeners[host.fqdn] = pair
        except BaseException:
            self.stop()
            raise
        self._started = True
        log.info("cmlab started: %d hosts", len(self.listeners))

    def faults_from_topology(self):
        return list(self.topology.faults)

    def stop(self) -> None:
        for pair in self.listeners.values():
            for listener in pair.values():
                try:
                    listener.stop()
                except Exception:  # stopping must go on for the other listeners
                    log.exception("stopping %s", listener.url)
        self.listeners.clear()
        self._started = False

    def __enter__(self) -> Lab:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # What tests and the control API read ------------------------------------------------------
    def endpoints(self) -> dict[str, dict[str, Any]]:
        out = {}
        for host in self.topology.hosts:
            pair = self.listeners.get(host.fqdn, {})
            out[host.fqdn] = {
                "address": host.address,
                "http_port": pair["http"].port if "http" in pair else host.http_port,
                "https_port": pair["https"].port if "https" in pair else host.https_port,
                "groups": list(host.groups),
            }
        return out

    def dump_state(self) -> dict:
        """Deterministic: sorted, no secrets, no timestamps or counters."""
        return self.model.dump()

    def counters(self) -> dict:
        return self.accounting.snapshot()

    def reset_counters(self) -> None:
        self.accounting.reset()

    def inventory(self) -> dict:
        """A complete Ansible YAML inventory for this running lab."""
        hosts = {}
        for fqdn, ep in self.endpoints().items():
            hosts[fqdn] = {
                "ansible_host": ep["address"],
                "ansible_port": ep["http_port"],
                "cmlab_https_port": ep["https_port"],
                **self.topology.inventory_vars.get(fqdn, {}),
            }
        children = {group: {"hosts": {fqdn: None for fqdn in members}} for group, members in self.topology.groups().items()}
        return {
            "all": {
                "vars": {
                    "ansible_connection": "winrm",
                    "ansible_winrm_scheme": "http",
                    "ansible_winrm_transport": "ntlm",
                    "ansible_user": self.topology.admin_principal,
                    "ansible_password": self.password,
                    "cmlab_ca_cert": self.ca_cert,
                },
                "hosts": hosts,
                "children": children,
            }
        }

    def write_inventory(self, path: str | Path | None = None) -> Path:
        target = Path(path) if path else self.state_dir / "inventory.yml"
        text = "# Written by cmlab for the running lab; regenerated at every start.\n"
        text += yaml.safe_dump(self.inventory(), sort_keys=False, default_flow_style=False)
        write_private(target, text)
        return target

    def describe(self) -> dict:
        return {
            "topology": self.topology.source,
            "admin_user": self.topology.admin_principal,
            "hosts": self.endpoints(),
            "password_file": str(self.state_dir / "password"),
            "inventory": str(self.state_dir / "inventory.yml"),
            "ca_cert": self.ca_cert,
            # The admin's client certificate (transport=certificate), mapped to admin_user by its UPN.
            "client_cert": self.client_cert.cert if self.client_cert else None,
            "client_key": self.client_cert.key if self.client_cert else None,
            "winrm": dict(self.winrm),
        }

    def to_json(self) -> str:
        return json.dumps(self.describe(), indent=2, sort_keys=True)
