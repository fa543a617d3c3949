"""End to end: a Lab on ephemeral ports, the real bootstrap over WinRM (pywinrm, NTLM), the control API."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest
import winrm

from cmlab.control import ControlServer
from cmlab.engine import bootstrap_module
from cmlab.lab import Lab
from cmlab.scripts import ENGINE_FILE
from tests.fixtures import LAB_PASSWORD

B = bootstrap_module()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    with Lab("inventories/lab/cmlab.yml", tmp_path_factory.mktemp("lab"), ephemeral_ports=True, password=LAB_PASSWORD) as running:
        yield running


def protocol(lab: Lab, host: str) -> winrm.Protocol:
    ep = lab.endpoints()[host]
    return winrm.Protocol(
        endpoint=f"http://{ep['address']}:{ep['http_port']}/wsman", transport="ntlm", username="LAB\\cmadmin", password=LAB_PASSWORD
    )


def run_command(p: winrm.Protocol, command: str, stdin: bytes) -> tuple[bytes, bytes, int]:
    shell = p.open_shell()
    try:
        command_id = p.run_command(shell, command)
        p.send_command_input(shell, command_id, stdin, end=True)
        out, err, rc = p.get_command_output(shell, command_id)
        p.cleanup_command(shell, command_id)
        return out, err, rc
    finally:
        p.close_shell(shell)


def test_bootstrap_over_winrm(lab):
    payload = json.dumps(
        {
            "protocol": 1,
            "provider": {"site_code": None, "server": None, "module": None, "username": None, "password_secret": None},
            "steps": [
                {
                    "id": "scp",
                    "cmdlet": "Get-CimInstance",
                    "provider": "cim",
                    "params": {
                        "Namespace": {"$provider": "namespace"},
                        "ClassName": "SMS_SCI_SysResUse",
                        "Filter": "RoleName = 'SMS Dmp Connector'",
                    },
                    "select": {"SiteCode": None, "NetworkOSPath": None},
                    "on_error": "stop",
                }
            ],
            "secrets": {},
        }
    )
    before = lab.dump_state()
    stdin = B.build_stdin(ENGINE_FILE.read_text(encoding="utf-8"), payload)
    out, err, rc = run_command(protocol(lab, "cas.lab.example"), B.BOOTSTRAP_COMMAND, stdin)
    assert (rc, err) == (0, b"")
    text = out.decode("ascii")
    doc = json.loads(text[text.index(B.RESULT_START) + len(B.RESULT_START) : text.index(B.RESULT_END)])
    assert doc["ok"] and doc["steps"][0]["output"] == [{"SiteCode": "PS1", "NetworkOSPath": "\\\\ps1.lab.example"}]
    assert lab.dump_state() == before  # a read changes nothing
    counters = lab.counters()["cas.lab.example"]
    assert counters["engine_invocations"] == 1 and counters["cmdlet_calls"] == {"Get-CimInstance": 1}
    assert counters["requests"] > 0


def test_other_commands_are_refused_over_winrm(lab):
    out, err, rc = run_command(protocol(lab, "scp01.lab.example"), "hostname", b"")
    assert rc == 1 and out == b"" and b"'hostname' is not recognized" in err


def test_control_api(lab):
    control = ControlServer(lab)
    control.start()
    try:

        def call(method: str, path: str, body=None, token: str | None = control.token):
            data = None if body is None else json.dumps(body).encode()
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            req = urllib.request.Request(control.url + path, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=10) as resp:
                    return resp.status, json.loads(resp.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())

        assert call("GET", "/state", token=None)[0] == 401
        assert call("POST", "/shutdown", {}, token="guess")[0] == 401 and not control.shutdown_requested.is_set()
        status, state = call("GET", "/state")
        assert status == 200 and state == lab.dump_state()
        assert call("GET", "/counters")[0] == 200
        status, fault = call("POST", "/faults", {"kind": "delay", "host": "ps1.lab.example", "count": 1, "options": {"seconds": 0}})
        assert status == 201 and fault["kind"] == "delay"
        assert call("GET", "/faults")[1] == [fault]
        assert call("POST", "/faults", {"kind": "meteor"})[0] == 400
        assert call("DELETE", "/faults?kind=delay")[1] == []
        status, counters = call("POST", "/counters/reset", {})
        assert status == 200 and all(c["requests"] == 0 for c in counters.values())
        assert call("GET", "/nothing")[0] == 404
        assert call("POST", "/shutdown", {})[0] == 202 and control.shutdown_requested.is_set()
    finally:
        control.stop()
