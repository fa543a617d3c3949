"""Transport and faults of a whole lab (the default topology, its own PKI and accounts, the real
engine behind the listeners) through pywinrm, with the collection's own bootstrap and plans.

tests/cmlab/test_wsman.py covers the listener alone with a fake dispatcher; this file covers what a
user of a running lab meets: the lab CA, the lab admin's client certificate, the lab password,
faults set at run time, and how the engine reports the provider and role installation faults.
"""

from __future__ import annotations

import socket
import time

import pytest
import requests
import winrm
from winrm.exceptions import InvalidCredentialsError

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    PlanResult,
    RunnerError,
    provider_value,
)
from cmlab.lab import Lab
from cmlab.wsman.pki import ensure_ca
from tests.fixtures import LAB_PASSWORD
from tests.winrm_plan import run_plan_over

CAS = "cas.lab.example"
PS1 = "ps1.lab.example"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # Basic, unencrypted http and certificates enabled, as a topology's `winrm:` switches would (Windows: all off).
    with Lab(
        "inventories/lab/cmlab.yml",
        tmp_path_factory.mktemp("lab"),
        ephemeral_ports=True,
        password=LAB_PASSWORD,
        winrm={"allow_basic": True, "allow_unencrypted": True, "allow_certificate": True},
    ) as running:
        yield running


@pytest.fixture(autouse=True)
def no_faults_left(lab):
    yield
    lab.faults.clear()


def url(lab: Lab, host: str = CAS, scheme: str = "http") -> str:
    ep = lab.endpoints()[host]
    return f"{scheme}://{ep['address']}:{ep[f'{scheme}_port']}/wsman"


def protocol(
    lab: Lab, host: str = CAS, scheme: str = "http", transport: str = "ntlm", password: str = LAB_PASSWORD, **kwargs
) -> winrm.Protocol:
    kwargs.setdefault("ca_trust_path", lab.ca_cert if scheme == "https" else None)
    kwargs.setdefault("server_cert_validation", "validate")
    kwargs.setdefault("operation_timeout_sec", 5)
    kwargs.setdefault("read_timeout_sec", 10)
    if transport == "certificate":
        kwargs.update(cert_pem=lab.client_cert.cert, cert_key_pem=lab.client_cert.key)
    return winrm.Protocol(url(lab, host, scheme), transport=transport, username="LAB\\cmadmin", password=password, **kwargs)


def one_step(step_id: str, cmdlet: str, params: dict | None = None, select: dict | None = None) -> Plan:
    plan = Plan()
    plan.add(step_id, cmdlet, params, select=select)
    return plan


def sites_plan() -> Plan:
    return one_step(
        "sites", "Get-CimInstance", {"Namespace": provider_value("namespace"), "ClassName": "SMS_Site"}, select={"SiteCode": None}
    )


def run_plan(p: winrm.Protocol, plan: Plan) -> PlanResult:
    """One engine invocation, as the collection's runner makes it (bootstrap + engine + payload)."""
    return run_plan_over(p, plan)


def site_codes(p: winrm.Protocol) -> set[str]:
    return {s["SiteCode"] for s in run_plan(p, sites_plan()).output("sites")}


# ------------------------------------------------------------------------------------------------
# HTTPS and the lab PKI


def test_windows_defaults_refuse_basic_unencrypted_and_certificates(tmp_path):
    with Lab("inventories/lab/cmlab.yml", tmp_path / "lab", ephemeral_ports=True, password=LAB_PASSWORD) as default:
        assert default.describe()["winrm"] == {"allow_basic": False, "allow_unencrypted": False, "allow_certificate": False}
        refused = [
            protocol(default, transport="basic"),
            protocol(default, transport="ntlm", message_encryption="never"),
            protocol(default, scheme="https", transport="ssl"),
            protocol(default, scheme="https", transport="certificate"),
        ]
        for p in refused:
            with pytest.raises(InvalidCredentialsError):
                p.open_shell()
        assert site_codes(protocol(default)) == {"CAS", "PS1"}  # NTLM with message encryption
        assert site_codes(protocol(default, scheme="https")) == {"CAS", "PS1"}  # NTLM over TLS
        assert sum(c["engine_invocations"] for c in default.counters().values()) == 2


@pytest.mark.parametrize("transport", ["ntlm", "ssl", "certificate"])
def test_https_validates_against_the_lab_ca(lab, transport):
    assert site_codes(protocol(lab, scheme="https", transport=transport)) == {"CAS", "PS1"}


def test_a_wrong_ca_fails_certificate_verification(lab, tmp_path):
    other = ensure_ca(tmp_path, name="Some Other Root CA")
    with pytest.raises(requests.exceptions.SSLError, match="certificate verify failed"):
        protocol(lab, scheme="https", ca_trust_path=other.cert).open_shell()


def test_the_client_certificate_logs_on_as_the_lab_admin(lab):
    p = protocol(lab, scheme="https", transport="certificate")
    shell = p.open_shell()
    try:
        assert lab.listeners[CAS]["https"].service.shells.get(shell).owner == "LAB\\cmadmin"
    finally:
        p.close_shell(shell)


# ------------------------------------------------------------------------------------------------
# Credentials


@pytest.mark.parametrize("transport,scheme", [("ntlm", "http"), ("basic", "http"), ("ssl", "https")])
def test_a_bad_password_is_rejected(lab, transport, scheme):
    with pytest.raises(InvalidCredentialsError, match="the specified credentials were rejected by the server"):
        protocol(lab, scheme=scheme, transport=transport, password="Wrong-Password-1").open_shell()


@pytest.mark.parametrize("transport,scheme", [("ntlm", "http"), ("basic", "http"), ("certificate", "https")])
def test_bad_credentials_fault_rejects_every_login_until_cleared(lab, transport, scheme):
    lab.faults.add("bad_credentials", CAS)
    for _ in range(2):
        with pytest.raises(InvalidCredentialsError):
            protocol(lab, scheme=scheme, transport=transport).open_shell()
    winrm_service = one_step("svc", "Get-Service", {"Name": "WinRM"}, select={"Status": None})
    assert run_plan(protocol(lab, PS1, scheme, transport), winrm_service).output("svc") == [{"Status": "Running"}]
    lab.faults.clear("bad_credentials")
    assert site_codes(protocol(lab, scheme=scheme, transport=transport)) == {"CAS", "PS1"}


def test_bad_credentials_with_a_count_rejects_that_many_logins(lab):
    lab.faults.add("bad_credentials", CAS, count=1)
    with pytest.raises(InvalidCredentialsError):
        protocol(lab).open_shell()
    assert site_codes(protocol(lab)) == {"CAS", "PS1"}


def test_an_authenticated_ntlm_connection_outlives_a_bad_credentials_fault(lab):
    # As on Windows after a password change: HTTP.sys keeps the connection's logon.
    p = protocol(lab)
    shell = p.open_shell()
    lab.faults.add("bad_credentials", CAS)
    p.close_shell(shell)
    with pytest.raises(InvalidCredentialsError):
        protocol(lab).open_shell()


# ------------------------------------------------------------------------------------------------
# Host down, timeouts


def _until(predicate, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _refused(lab: Lab) -> bool:
    ep = lab.endpoints()[CAS]
    try:
        socket.create_connection((ep["address"], ep["http_port"]), timeout=1).close()
    except ConnectionRefusedError:
        return True
    return False


def test_host_down_refuses_connections_until_cleared(lab):
    lab.faults.add("host_down", CAS)
    try:
        assert _until(lambda: _refused(lab))  # the listener closes within its 0.5 s poll
        with pytest.raises(requests.exceptions.ConnectionError, match="Connection refused"):
            protocol(lab).open_shell()
    finally:
        lab.faults.clear("host_down")
        assert _until(lambda: not _refused(lab))  # and reopens on the same port
    assert site_codes(protocol(lab)) == {"CAS", "PS1"}


def test_a_reply_slower_than_the_read_timeout_raises_read_timeout(lab):
    lab.faults.add("delay", CAS, count=1, seconds=3)
    with pytest.raises(requests.exceptions.ReadTimeout):
        protocol(lab, operation_timeout_sec=1, read_timeout_sec=2).open_shell()


# ------------------------------------------------------------------------------------------------
# Faults the engine reports


def test_provider_unavailable_is_the_engines_provider_stage(lab):
    lab.faults.add("provider_unavailable", CAS, count=1)
    with pytest.raises(RunnerError) as info:
        run_plan(protocol(lab), one_step("sites", "Get-CMAccount", select={"UserName": None}))  # a ConfigMgr cmdlet
    assert info.value.details["stage"] == "provider" and info.value.step == "sites"
    assert "Could not connect to the SMS Provider on 'cas.lab.example': The RPC server is unavailable." in str(info.value)
    assert site_codes(protocol(lab)) == {"CAS", "PS1"}  # count=1: the next connection works


def _role_states(lab: Lab, site: str, server: str) -> dict[str, str]:
    systems = lab.dump_state()["hierarchies"]["lab"]["site_systems"]
    ss = next(s for s in systems if s["site_code"] == site and s["server"] == server)
    return {name: role["state"] for name, role in ss["roles"].items()}


def _let_site_component_manager_work(lab: Lab) -> None:
    """Past any installation delay, short of a retry (works whether installs are immediate or scheduled)."""
    lab.model.scheduler.clock.advance(30)
    with lab.model.lock:
        lab.model.scheduler.run_due()


@pytest.mark.parametrize("fault", [False, True])
def test_install_failure_fault_fails_the_role_installation(lab, fault):
    # ps1's Administrators hold LAB\CAS$, so a CAS site system there installs unless the fault says no.
    if fault:
        lab.faults.add("install_failure", PS1)
    target = {"SiteSystemServerName": PS1, "SiteCode": "CAS"}
    run_plan(protocol(lab), one_step("new", "New-CMSiteSystemServer", target))  # records the intent: succeeds
    try:
        _let_site_component_manager_work(lab)
        assert _role_states(lab, "CAS", PS1)["SMS Site System"] == ("install_failed" if fault else "installed")
    finally:
        lab.faults.clear("install_failure")
        run_plan(protocol(lab), one_step("remove", "Remove-CMSiteSystemServer", {**target, "Force": True}))
