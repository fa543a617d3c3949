"""PSRP against a whole lab through pypsrp (ansible's psrp connection plugin is in
test_transport_ansible.py): the runspace pool opens, the collection's bootstrap runs as a pipeline
with standard input as input lines, and other scripts fail as PowerShell would."""

from __future__ import annotations

import pytest
from pypsrp.exceptions import AuthenticationError
from pypsrp.host import PSHost, PSHostUserInterface
from pypsrp.powershell import PowerShell, RunspacePool
from pypsrp.wsman import WSMan

from ansible_collections.configmgr.scp.plugins.plugin_utils import _protocol
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    build_payload,
    engine_source,
    parse_result,
    provider_value,
    to_plan_result,
)
from cmlab.lab import Lab
from tests.fixtures import LAB_PASSWORD

CAS = "cas.lab.example"


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    # Basic over http (no encryption) allowed, as the topology switches would: Windows refuses both.
    with Lab(
        "inventories/lab/cmlab.yml",
        tmp_path_factory.mktemp("lab"),
        ephemeral_ports=True,
        password=LAB_PASSWORD,
        winrm={"allow_basic": True, "allow_unencrypted": True},
    ) as running:
        yield running


def wsman(lab: Lab, auth: str = "ntlm", encryption: str = "auto", https: bool = False, password: str = LAB_PASSWORD, **kwargs) -> WSMan:
    ep = lab.endpoints()[CAS]
    return WSMan(
        ep["address"],
        port=ep["https_port" if https else "http_port"],
        ssl=https,
        auth=auth,
        encryption=encryption,
        username="LAB\\cmadmin",
        password=password,
        cert_validation=lab.ca_cert if https else False,
        operation_timeout=5,
        read_timeout=10,
        **kwargs,
    )


def run_script(connection: WSMan, script: str, lines: list[str] | None = None) -> tuple[PowerShell, PSHost]:
    # The host ansible's psrp plugin uses: it records SetShouldExit as `rc`.
    host = PSHost(None, None, False, "cmlab test host", None, PSHostUserInterface(), None)
    with RunspacePool(connection, host=host) as pool:
        ps = PowerShell(pool)
        ps.add_script(script)
        ps.invoke(input=lines)
    return ps, host


def read_sites(connection: WSMan) -> set[str]:
    plan = Plan()
    plan.add("sites", "Get-CimInstance", {"Namespace": provider_value("namespace"), "ClassName": "SMS_Site"}, select={"SiteCode": None})
    payload, secrets = build_payload(plan, None)
    # What ansible's psrp plugin does with the bootstrap: decode the script, send stdin as lines.
    stdin = _protocol.build_stdin(engine_source(), payload).decode("ascii")
    ps, host = run_script(connection, _protocol.BOOTSTRAP, stdin.splitlines())
    stdout = "\r\n".join(str(o) for o in ps.output)
    doc = parse_result(stdout, "", host.rc or 0, secrets)
    return {s["SiteCode"] for s in to_plan_result(doc, secrets).output("sites")}


@pytest.mark.parametrize("auth,encryption", [("negotiate", "auto"), ("ntlm", "always"), ("basic", "never")])
def test_the_bootstrap_runs_as_a_pipeline(lab, auth, encryption):
    before = lab.counters().get(CAS, {}).get("engine_invocations", 0)
    assert read_sites(wsman(lab, auth, encryption)) == {"CAS", "PS1"}
    assert lab.counters()[CAS]["engine_invocations"] == before + 1


def test_https_with_the_lab_ca(lab):
    assert read_sites(wsman(lab, https=True)) == {"CAS", "PS1"}


def test_another_script_is_a_command_not_found_error_with_exit_code_1(lab):
    ps, host = run_script(wsman(lab), "ipconfig /all\nexit $LASTEXITCODE")
    assert ps.output == [] and host.rc == 1
    [error] = ps.streams.error
    assert str(error).startswith("The term 'ipconfig' is not recognized as the name of a cmdlet")
    assert error.fq_error == "CommandNotFoundException" and error.reason == "CommandNotFoundException"


def test_a_bad_password_is_rejected(lab):
    with pytest.raises(AuthenticationError):
        run_script(wsman(lab, password="Wrong-Password-1"), "x")


def test_pools_are_gone_after_close(lab):
    run_script(wsman(lab), "x")
    service = lab.listeners[CAS]["http"].service
    assert len(service.psrp_shells) == 0
