"""Plans sent with the runner's own bootstrap and payload through pywinrm: the hierarchy's rules are
enforced by the lab itself, and the transports an inventory may choose all work."""

from __future__ import annotations

import pytest
import winrm

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    Provider,
    RunnerError,
    TransportError,
    provider_value,
)
from tests.winrm_plan import run_plan_over


def host_info(lab, name: str) -> dict:
    return lab.info["hosts"][name]


def password(lab) -> str:
    return (lab.state_dir / "password").read_text().strip()


def admin(lab) -> str:
    return lab.info["admin_user"]


def send(protocol: winrm.Protocol, plan: Plan, provider: Provider | None = None):
    return run_plan_over(protocol, plan, provider)


def http_protocol(lab, host="cas.lab.example", **kwargs) -> winrm.Protocol:
    info = host_info(lab, host)
    return winrm.Protocol(
        f"http://{info['address']}:{info['http_port']}/wsman", transport="ntlm", username=admin(lab), password=password(lab), **kwargs
    )


def test_a_second_scp_is_refused_by_the_lab(lab):
    plan = Plan()
    plan.add("add", "Add-CMServiceConnectionPoint", {"SiteSystemServerName": "cas.lab.example", "SiteCode": "CAS", "Mode": "Online"})
    with pytest.raises(RunnerError) as e:
        send(http_protocol(lab), plan)
    assert "Add-CMServiceConnectionPoint" in str(e.value)
    scps = [
        (ss["site_code"], ss["server"])
        for h in lab.state()["hierarchies"].values()
        for ss in h["site_systems"]
        if "SMS Dmp Connector" in ss["roles"]
    ]
    assert scps == [("PS1", "ps1.lab.example")]


def test_an_scp_at_a_child_site_is_refused_by_the_lab(lab):
    plan = Plan()
    plan.add("remove", "Remove-CMServiceConnectionPoint", {"SiteSystemServerName": "ps1.lab.example", "SiteCode": "PS1", "Force": True})
    plan.add("add", "Add-CMServiceConnectionPoint", {"SiteSystemServerName": "ps1.lab.example", "SiteCode": "PS1", "Mode": "Online"})
    with pytest.raises(RunnerError) as e:
        send(http_protocol(lab), plan)
    assert e.value.step == "add"
    assert e.value.completed == ["remove"]


def test_ntlm_with_message_encryption(lab):
    plan = Plan()
    plan.add(
        "sites",
        "Get-CimInstance",
        {"Namespace": provider_value("namespace"), "ClassName": "SMS_Site"},
        select={"SiteCode": None, "ReportingSiteCode": None},
    )
    result = send(http_protocol(lab, message_encryption="always"), plan)
    assert sorted(s["SiteCode"] for s in result.output("sites")) == ["CAS", "PS1"]


@pytest.mark.parametrize("transport", ["ssl", "ntlm"])
def test_https_with_the_lab_ca(lab, transport):
    info = host_info(lab, "cas.lab.example")
    ca = lab.state_dir / "pki" / "ca.pem"
    protocol = winrm.Protocol(
        f"https://{info['address']}:{info['https_port']}/wsman",
        transport=transport,
        username=admin(lab),
        password=password(lab),
        server_cert_validation="validate",
        ca_trust_path=str(ca),
    )
    plan = Plan()
    plan.add("sites", "Get-CimInstance", {"Namespace": provider_value("namespace"), "ClassName": "SMS_Site"}, select={"SiteCode": None})
    if transport == "ssl":  # Basic: disabled on Windows by default, and so in the lab (docs/cmlab-wsman.md)
        with pytest.raises(TransportError, match="the credentials were rejected"):  # the runner's words for it
            send(protocol, plan)
        return
    assert {s["SiteCode"] for s in send(protocol, plan).output("sites")} == {"CAS", "PS1"}


def test_wrong_password_is_rejected(lab):
    protocol = winrm.Protocol(http_protocol(lab).transport.endpoint, transport="ntlm", username=admin(lab), password="wrong")
    with pytest.raises(winrm.exceptions.InvalidCredentialsError):
        protocol.open_shell()
