"""The rights of an identity (cmlab.cmdlets.rights, docs/simulator-assumptions.md "Rights of an identity"):
WinRM lets in local administrators and members of Remote Management Users; a user who is neither is refused at
Create. Reads are open to whoever is let in; a change on a host needs a local administrator, a change through a
ConfigMgr cmdlet a security role that may modify the site. Each refusal is the error the real cmdlet gives."""

from __future__ import annotations

import json

import pytest
import winrm
from winrm.exceptions import WSManFaultError

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, RunnerError, provider_value
from cmlab.accounting import Accounting
from cmlab.engine import Engine, bootstrap_module
from cmlab.faults import Faults
from cmlab.lab import Lab
from cmlab.topology import load_topology
from tests.fixtures import LAB_PASSWORD, step
from tests.winrm_plan import run_plan_over

READER = "LAB\\svc-cmreader"
ADMIN = "LAB\\cmadmin"
MARKERS = bootstrap_module()
THREADS = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads\\SMS_DMP_DOWNLOADER"
DRIVE = {"site_code": "CAS", "server": "cas.lab.example"}


@pytest.fixture
def engine():
    from tests.cmlab.configmgr_harness import CATALOG

    return Engine(load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD), CATALOG, Accounting(), Faults())


def run(engine, identity, *steps, host="cas.lab.example", provider=None, secrets=None):
    payload = {"protocol": 1, "provider": provider, "steps": list(steps), "secrets": secrets or {}}
    text = engine.run(host, json.dumps(payload), identity=identity)
    return json.loads(MARKERS.unframe(text))


def error_of(doc):
    assert not doc["ok"], doc
    return doc["error"]


READS = [
    ("scp01.lab.example", step("m", "Get-LocalGroupMember", select={"Name": None}, SID="S-1-5-32-544")),
    ("scp01.lab.example", step("r", "Get-NetFirewallRule", select={"Name": None}, Name="WINRM-HTTP-In-TCP")),
    ("ps1.lab.example", step("s", "Get-Service", select={"Status": None}, Name="SMS_EXECUTIVE")),
    ("ps1.lab.example", step("t", "Get-ItemProperty", select={"Current State": None}, LiteralPath=THREADS)),
]


@pytest.mark.parametrize("host, read", READS, ids=[r[1]["cmdlet"] for r in READS])
def test_a_reader_reads(engine, host, read):
    assert run(engine, READER, read, host=host)["ok"]


def test_a_reader_reads_the_sms_provider_through_cim(engine):
    doc = run(
        engine,
        READER,
        step("sites", "Get-CimInstance", select={"SiteCode": None}, Namespace={"$provider": "namespace"}, ClassName="SMS_Site"),
    )
    assert doc["ok"] and {s["SiteCode"] for s in doc["steps"][0]["output"]} == {"CAS", "PS1"}


WRITES = [
    (
        "scp01.lab.example",
        step("w", "Add-LocalGroupMember", SID="S-1-5-32-544", Member=["LAB\\CAS$"]),
        "Access denied.",
        "AccessDenied,Microsoft.PowerShell.Commands.AddLocalGroupMemberCommand",
        "Microsoft.PowerShell.Commands.AccessDeniedException",
    ),
    (
        "scp01.lab.example",
        step("w", "New-NetFirewallRule", Name="X", DisplayName="X"),
        "Access is denied. ",
        "Windows System Error 5,New-NetFirewallRule",
        "Microsoft.Management.Infrastructure.CimException",
    ),
    (
        "scp01.lab.example",
        step("w", "Set-NetFirewallRule", Name="WINRM-HTTP-In-TCP", Enabled="False"),
        "Access is denied. ",
        "Windows System Error 5,Set-NetFirewallRule",
        "Microsoft.Management.Infrastructure.CimException",
    ),
    (
        "ps1.lab.example",
        step("w", "Restart-Service", Name="SMS_EXECUTIVE", Force=True),
        "cannot be stopped due to the following error: Cannot open SMS_EXECUTIVE service on computer '.'.",
        "CouldNotStopService,Microsoft.PowerShell.Commands.RestartServiceCommand",
        "Microsoft.PowerShell.Commands.ServiceCommandException",
    ),
    (
        "ps1.lab.example",
        step("w", "Set-ItemProperty", LiteralPath=THREADS, Name="Requested Operation", Value="Stop"),
        "Requested registry access is not allowed.",
        "System.Security.SecurityException,Microsoft.PowerShell.Commands.SetItemPropertyCommand",
        "System.Security.SecurityException",
    ),
]


@pytest.mark.parametrize("host, write, message, fqid, exception", WRITES, ids=[w[1]["cmdlet"] for w in WRITES])
def test_a_reader_cannot_change_a_host_and_gets_the_real_error(engine, host, write, message, fqid, exception):
    before = engine.model.dump()
    error = error_of(run(engine, READER, write, host=host))
    assert message in error["message"]
    assert (error["fqid"], error["exception"], error["category"] in ("PermissionDenied", "CloseError")) == (fqid, exception, True)
    assert engine.model.dump() == before
    assert run(engine, ADMIN, write, host=host)["ok"]  # the administrator may


def test_a_reader_cannot_change_configmgr(engine):
    before = engine.model.dump()
    new = step("new", "New-CMAccount", UserName="LAB\\svc-cmproxy", SiteCode="CAS", Password={"$secret": "pw"})
    error = error_of(run(engine, READER, new, provider=DRIVE, secrets={"pw": "Proxy-Pw-1"}))
    assert "Access denied" in error["message"] and "WBEM_E_ACCESS_DENIED" in error["message"]
    assert error["category"] == "PermissionDenied" and error["exception"] == "System.UnauthorizedAccessException"
    assert engine.model.dump() == before
    assert run(engine, ADMIN, new, provider=DRIVE, secrets={"pw": "Proxy-Pw-1"})["ok"]


def test_the_providers_credentials_decide_for_configmgr(engine):
    """A drive opened with explicit credentials acts as that account, whoever the session is."""
    new = step("new", "New-CMAccount", UserName="LAB\\svc-cmproxy", SiteCode="CAS", Password={"$secret": "pw"})
    provider = {**DRIVE, "username": READER, "password_secret": "p"}
    error = error_of(run(engine, ADMIN, new, provider=provider, secrets={"pw": "Proxy-Pw-1", "p": LAB_PASSWORD}))
    assert READER in error["message"]


@pytest.fixture(scope="module")
def running_lab(tmp_path_factory):
    with Lab("inventories/lab/cmlab.yml", tmp_path_factory.mktemp("lab"), ephemeral_ports=True, password=LAB_PASSWORD) as lab:
        yield lab


def protocol(lab, user, host="scp01.lab.example"):
    ep = lab.endpoints()[host]
    return winrm.Protocol(
        f"http://{ep['address']}:{ep['http_port']}/wsman",
        transport="ntlm",
        username=user,
        password=LAB_PASSWORD,
        operation_timeout_sec=5,
        read_timeout_sec=10,
    )


def test_winrm_lets_in_members_of_remote_management_users_only(running_lab):
    reader = protocol(running_lab, READER)
    shell = reader.open_shell()
    reader.close_shell(shell)
    stranger = protocol(running_lab, "LAB\\svc-cminstall")  # a domain user, neither admin nor member
    with pytest.raises(WSManFaultError) as refused:
        stranger.open_shell()
    assert refused.value.code == 500 and refused.value.wsman_fault_code == 5
    assert "Access is denied" in refused.value.reason


def test_a_session_runs_as_its_user(running_lab):
    plan = Plan()
    plan.add("w", "Add-LocalGroupMember", {"SID": "S-1-5-32-544", "Member": ["LAB\\CAS$"]})
    with pytest.raises(RunnerError, match="Access denied"):
        run_plan_over(protocol(running_lab, READER), plan)
    read = Plan()
    read.add("sites", "Get-CimInstance", {"Namespace": provider_value("namespace"), "ClassName": "SMS_Site"}, select={"SiteCode": None})
    assert run_plan_over(protocol(running_lab, READER, "cas.lab.example"), read).output("sites")
