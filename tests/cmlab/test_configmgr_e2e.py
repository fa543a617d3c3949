"""The ConfigMgr behaviour seen by a real client: plans over WinRM (pywinrm, NTLM), the lab's clock
and internet driven through the control API."""

from __future__ import annotations

import json
import socket
import time
import urllib.request

import pytest
import winrm
from configmgr_harness import CATALOG, MESSAGE, SUMMARY, TALLY

from cmlab.control import ControlServer
from cmlab.engine import bootstrap_module
from cmlab.lab import Lab
from cmlab.model.netsettings import NETFX_KEY, NETFX_WOW_KEY
from cmlab.scripts import ENGINE_FILE
from tests.fixtures import LAB_PASSWORD

B = bootstrap_module()
DISCOVER = {"site_code": None, "server": None, "module": None, "username": None, "password_secret": None}


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    with Lab(
        "inventories/lab/cmlab.yml", tmp_path_factory.mktemp("lab"), ephemeral_ports=True, password=LAB_PASSWORD, catalog=CATALOG
    ) as lab:
        control = ControlServer(lab)
        control.start()
        try:
            yield lab, control
        finally:
            control.stop()


def plan(lab: Lab, host: str, *steps: tuple) -> dict:
    """One engine invocation over WinRM: steps are (id, cmdlet, params, select)."""
    payload = {
        "protocol": 1,
        "provider": DISCOVER if any(CATALOG.provider_kind(s[1], s[2]) for s in steps) else None,
        "steps": [
            {"id": i, "cmdlet": c, "provider": CATALOG.provider_kind(c, p), "params": p, "select": sel, "on_error": "continue"}
            for i, c, p, sel in steps
        ],
        "secrets": {},
    }
    ep = lab.endpoints()[host]
    p = winrm.Protocol(
        endpoint=f"http://{ep['address']}:{ep['http_port']}/wsman", transport="ntlm", username="LAB\\cmadmin", password=LAB_PASSWORD
    )
    shell = p.open_shell()
    try:
        command = p.run_command(shell, B.BOOTSTRAP_COMMAND)
        p.send_command_input(shell, command, B.build_stdin(ENGINE_FILE.read_text(encoding="utf-8"), json.dumps(payload)), end=True)
        out, _err, _rc = p.get_command_output(shell, command)
        p.cleanup_command(shell, command)
    finally:
        p.close_shell(shell)
    text = out.decode("ascii")
    doc = json.loads(text[text.index(B.RESULT_START) + len(B.RESULT_START) : text.index(B.RESULT_END)])
    return {s["id"]: s for s in doc["steps"]}


def control(ctl: ControlServer, path: str, body: dict) -> dict:
    request = urllib.request.Request(
        ctl.url + path, data=json.dumps(body).encode(), method="POST", headers={"Authorization": f"Bearer {ctl.token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def components(lab: Lab, server: str) -> dict[str, tuple[int, int]]:
    rows = plan(
        lab,
        "cas.lab.example",
        (
            "c",
            "Get-CimInstance",
            {
                "Namespace": "root\\SMS\\site_CAS",
                "ClassName": "SMS_ComponentSummarizer",
                "Filter": f"TallyInterval='{TALLY}' AND MachineName='{server}'",
            },
            SUMMARY,
        ),
    )["c"]["output"]
    return {r["ComponentName"]: (r["State"], r["Status"]) for r in rows}


def test_install_fails_without_the_right_then_installs_and_checks_the_internet(running):
    lab, ctl = running
    timing = lab.model.configmgr_timing
    out = plan(
        lab,
        "cas.lab.example",
        ("rm", "Remove-CMServiceConnectionPoint", {"SiteSystemServerName": "ps1.lab.example", "SiteCode": "PS1", "Force": True}, None),
        ("new", "New-CMSiteSystemServer", {"SiteSystemServerName": "scp01.lab.example", "SiteCode": "CAS"}, None),
        (
            "add",
            "Add-CMServiceConnectionPoint",
            {"SiteSystemServerName": "scp01.lab.example", "SiteCode": "CAS", "Mode": "Online"},
            {"RoleName": None, "NetworkOSPath": None},
        ),
    )
    assert all(s["ok"] for s in out.values()), out
    assert out["add"]["output"] == [{"RoleName": "SMS Dmp Connector", "NetworkOSPath": "\\\\scp01.lab.example"}]
    assert {c: s for c, (s, _) in components(lab, "scp01.lab.example").items()} == {
        "SMS_DMP_DOWNLOADER": 3,
        "SMS_DMP_UPLOADER": 3,
        "SMS_SERVICE_CONNECTOR": 3,
    }

    control(ctl, "/clock/advance", {"seconds": timing.install_delay})
    assert components(lab, "cas.lab.example")["SMS_SITE_COMPONENT_MANAGER"] == (1, 2)  # critical: it failed
    assert components(lab, "scp01.lab.example")["SMS_DMP_DOWNLOADER"] == (3, 0)

    grant = plan(lab, "scp01.lab.example", ("g", "Add-LocalGroupMember", {"Group": "Administrators", "Member": ["LAB\\CAS$"]}, None))
    assert grant["g"]["ok"], grant
    control(ctl, "/clock/advance", {"seconds": timing.install_retry})
    assert components(lab, "scp01.lab.example") == {
        "SMS_DMP_DOWNLOADER": (1, 0),
        "SMS_DMP_UPLOADER": (1, 0),
        "SMS_SERVICE_CONNECTOR": (1, 2),
    }  # critical
    assert components(lab, "cas.lab.example")["SMS_SITE_COMPONENT_MANAGER"] == (1, 0)
    assert connector_messages(lab) == [(11412, 0xC0000000), (11488, 0xC0000000)]  # no TLS 1.2 for .NET yet

    # The prerequisites, then Restart-Computer: scp01's listener goes away, and comes back with a new boot time.
    booted = plan(lab, "scp01.lab.example", OS_STEP)["os"]["output"][0]["LastBootUpTime"]
    steps = [
        (f"{view}{name}", "New-ItemProperty", {"Path": key, "Name": name, "Value": 1, "PropertyType": "DWord", "Force": True}, None)
        for view, key in (("x64", NETFX_KEY), ("x86", NETFX_WOW_KEY))
        for name in ("SchUseStrongCrypto", "SystemDefaultTlsVersions")
    ]
    out = plan(lab, "scp01.lab.example", *steps, ("restart", "Restart-Computer", {"Force": True}, None))
    assert all(s["ok"] for s in out.values()), out
    host = lab.model.host("scp01.lab.example")
    control(ctl, "/clock/advance", {"seconds": host.restart_timing.shutdown_delay})
    assert refused(lab, "scp01.lab.example")
    assert lab.dump_state()["hosts"]["scp01.lab.example"]["power_state"] == "down"
    control(ctl, "/clock/advance", {"seconds": host.restart_timing.down})
    assert not refused(lab, "scp01.lab.example", expect=False)  # listening again
    assert plan(lab, "scp01.lab.example", OS_STEP)["os"]["output"][0]["LastBootUpTime"] != booted
    assert connector_messages(lab)[-1] == (11410, 0x40000000)  # healthy after the restart
    assert components(lab, "scp01.lab.example")["SMS_SERVICE_CONNECTOR"] == (1, 0)

    # Break one checked endpoint through the control API, wait for the next check.
    internet = control(ctl, "/internet", {"endpoints": {"aka.ms": 407}})
    assert internet["endpoints"] == {"aka.ms": {"outcome": 407}}
    control(ctl, "/clock/advance", {"seconds": timing.connectivity_check_interval})
    assert connector_messages(lab)[-2:] == [(11412, 0xC0000000), (11488, 0xC0000000)]

    web = plan(lab, "scp01.lab.example", ("w", "Invoke-WebRequest", {"Uri": "https://aka.ms", "UseBasicParsing": True}, None))["w"]
    assert web["error"]["message"] == "The remote server returned an error: (407) Proxy Authentication Required."
    state = lab.dump_state()["hierarchies"]["lab"]
    assert state["scp_runtime"][0]["last_connectivity_check"] == {"message_ids": [11412, 11488], "failed": {"aka.ms": "http_407"}}

    # Microsoft changes its services: the console asks for an SMS_EXECUTIVE restart on scp01, until it restarts.
    control(ctl, "/internet", {"service_configuration_change": True})
    alert = {"AlertState": None, "TypeInstanceID": None}
    query = ("a", "Get-CimInstance", {"Namespace": "root\\SMS\\site_CAS", "ClassName": "SMS_Alert"}, alert)
    assert plan(lab, "cas.lab.example", query)["a"]["output"] == [{"AlertState": 0, "TypeInstanceID": "scp01.lab.example"}]
    assert plan(lab, "scp01.lab.example", ("r", "Restart-Service", {"Name": ["SMS_EXECUTIVE"]}, None))["r"]["ok"]
    assert plan(lab, "cas.lab.example", query)["a"]["output"] == [{"AlertState": 2, "TypeInstanceID": "scp01.lab.example"}]


def connector_messages(lab: Lab) -> list[tuple[int, int]]:
    messages = plan(
        lab,
        "cas.lab.example",
        (
            "m",
            "Get-CMSiteStatusMessage",
            {"Component": ["SMS_SERVICE_CONNECTOR"], "ComputerName": ["scp01.lab.example"], "MessageId": [11410, 11411, 11412, 11488]},
            MESSAGE,
        ),
    )["m"]["output"]
    return [(m["MessageID"], m["Severity"]) for m in messages]


OS_STEP = ("os", "Get-CimInstance", {"ClassName": "Win32_OperatingSystem"}, {"LastBootUpTime": None})


def refused(lab: Lab, host: str, expect: bool = True) -> bool:
    """Whether the host's WinRM listener refuses connections, once it has had the time its fault poll
    takes to follow the host's state (a second or so): waits while the answer is not `expect`."""
    ep = lab.endpoints()[host]
    answer = not expect
    for _ in range(40):
        try:
            with socket.create_connection((ep["address"], ep["http_port"]), timeout=1):
                answer = False
        except OSError:
            answer = True
        if answer == expect:
            break
        time.sleep(0.1)
    return answer


def test_telemetry_level_over_winrm(running):
    lab, _ = running
    out = plan(
        lab,
        "cas.lab.example",
        ("set", "Set-CMHierarchySetting", {"TelemetryLevel": "Basic"}, None),
        (
            "get",
            "Get-CimInstance",
            {"Namespace": "root\\SMS\\site_CAS", "ClassName": "SMS_SCI_SCProperty", "Filter": "PropertyName='TelemetryLevel'"},
            {"Value": None},
        ),
    )
    assert out["get"]["output"] == [{"Value": 1}]
    assert lab.dump_state()["hierarchies"]["lab"]["telemetry_level"] == "Basic"


def test_control_api_refuses_a_bad_internet_document(running):
    _, ctl = running
    request = urllib.request.Request(
        ctl.url + "/internet",
        data=json.dumps({"default": "maybe"}).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {ctl.token}"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(request, timeout=10)
    assert e.value.code == 400
