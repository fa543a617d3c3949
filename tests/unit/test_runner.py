"""The runner: plan checks before sending, the payload on stdin, parsing of good, malformed and error results."""

from __future__ import annotations

import json

import pytest

from ansible_collections.configmgr.scp.plugins.plugin_utils import _protocol
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    Provider,
    RunnerError,
    build_payload,
    engine_source,
    parse_result,
    ref,
    run_plan,
    to_plan_result,
)


def doc(**overrides):
    d = {"protocol": 1, "ok": True, "steps": [{"id": "sites", "ok": True, "output": [{"SiteCode": "CAS"}], "error": None}], "error": None}
    d.update(overrides)
    return _protocol.RESULT_START + json.dumps(d) + _protocol.RESULT_END + "\r\n"


class FakeAction:
    """Stands in for ActionBase: records what would go over the connection."""

    class _PlayContext:
        remote_addr = "cas.lab.example"

    def __init__(self, stdout="", stderr="", rc=0):
        self.calls = []
        self._play_context = self._PlayContext()
        self.reply = {"stdout": stdout, "stderr": stderr, "rc": rc}

    def _low_level_execute_command(self, cmd, in_data=None, sudoable=True):
        self.calls.append((cmd, in_data, sudoable))
        return self.reply


def test_unknown_parameter_is_refused_before_sending():
    plan = Plan()
    with pytest.raises(RunnerError, match="A parameter cannot be found that matches parameter name 'Bogus'"):
        plan.add("x", "Get-CMAccount", {"Bogus": 1})


def test_missing_mandatory_is_refused_before_sending():
    plan = Plan()
    with pytest.raises(RunnerError, match="missing mandatory parameters: Mode"):
        plan.add("x", "Add-CMServiceConnectionPoint", {"SiteSystemServerName": "scp01.lab.example", "SiteCode": "CAS"})


def test_value_outside_the_set_is_refused():
    plan = Plan()
    with pytest.raises(RunnerError, match="does not belong to the set"):
        plan.add("x", "Set-CMServiceConnectionPoint", {"SiteSystemServerName": "s.lab.example", "Mode": "Sideways"})


def test_reference_to_a_later_step_is_refused():
    plan = Plan()
    with pytest.raises(RunnerError, match="refers to step 'acct'"):
        plan.add("x", "New-CMSiteSystemServer", {"SiteSystemServerName": "s.lab.example", "ProxyAccessAccount": ref("acct")})


def test_nothing_is_sent_for_an_empty_plan():
    action = FakeAction()
    assert run_plan(action, Plan()).steps == {}
    assert action.calls == []


def test_one_fixed_command_line_and_the_plan_on_stdin():
    plan = Plan()
    plan.add("sites", "Get-CMAccount", {}, select={"SiteCode": None})
    hostile = "a'b\"c$(whoami)`n\u00e9\u4e2d\n;rm -rf"
    plan.add("acct", "New-CMAccount", {"UserName": "LAB\\x", "Password": plan.add_secret("pw", hostile)})
    action = FakeAction(stdout=doc())
    run_plan(action, plan, Provider(site_code="CAS"))
    [(cmd, stdin, sudoable)] = action.calls
    assert sudoable is False
    assert cmd == _protocol.BOOTSTRAP_COMMAND
    assert hostile not in cmd and "pw" not in cmd
    assert stdin.isascii()
    engine, payload = _protocol.split_stdin(stdin)
    # minified: no comments, no indentation, short names (_protocol.ENGINE_VARIABLES); a ConfigMgr step and a
    # secret, no web request: every region but "web" (_protocol.engine_features)
    assert engine == _protocol.minify(engine_source(), {"provider", "cmsite", "secrets"}) and engine.startswith("param([string]$bb)")
    assert len(stdin) < len(engine) / 2  # packed: deflate + base64
    data = json.loads(payload)
    assert data["secrets"] == {"pw": hostile}  # data, escaped as JSON, never code
    assert data["steps"][1]["params"]["Password"] == {"$secret": "pw"}
    assert data["steps"][0]["provider"] == "cmsite"
    assert data["provider"]["site_code"] == "CAS"


def test_provider_password_travels_as_a_secret():
    plan = Plan()
    plan.add("sites", "Get-CMAccount", {})
    payload, secrets = build_payload(plan, Provider(username="LAB\\cm", password="S3cret!"))
    data = json.loads(payload)
    assert data["provider"]["password_secret"] == "provider_password"
    assert "S3cret!" not in json.dumps(data["provider"])
    assert secrets == {"provider_password": "S3cret!"}


def test_windows_only_plan_needs_no_provider():
    plan = Plan()
    plan.add("svc", "Get-Service", {"Name": "SMS_EXECUTIVE"})
    payload, _ = build_payload(plan, Provider(site_code="CAS"))
    assert json.loads(payload).get("provider") is None and "secrets" not in json.loads(payload)  # absent: null
    assert "provider" not in json.loads(payload)["steps"][0]  # absent: null (a host step)


def test_good_result_is_parsed_around_other_output():
    res = to_plan_result(parse_result("WARNING: noise\r\n" + doc() + "more noise", "", 0, {}), {})
    assert res.first("sites") == {"SiteCode": "CAS"}
    assert res.output("missing") == []


@pytest.mark.parametrize(
    "stdout",
    [
        "",
        "garbage",
        _protocol.RESULT_START + "{not json" + _protocol.RESULT_END,
        doc() + doc(),
        _protocol.RESULT_END + doc()[len(_protocol.RESULT_START) :],
        _protocol.RESULT_START + '{"protocol": 99, "steps": []}' + _protocol.RESULT_END,
    ],
)
def test_malformed_results_are_errors(stdout):
    with pytest.raises(RunnerError):
        parse_result(stdout, "boom", 1, {})


def test_no_document_error_shows_rc_and_stderr_without_secrets():
    with pytest.raises(RunnerError) as e:
        parse_result("", "The term 'x' is not recognized... hunter22", 1, {"pw": "hunter22"})
    assert "rc=1" in str(e.value) and "not recognized" in str(e.value)
    assert "hunter22" not in str(e.value)


def test_step_error_names_step_cmdlet_and_powershell_error():
    error = {
        "stage": "step",
        "step": "add_1",
        "cmdlet": "Add-CMServiceConnectionPoint",
        "message": "The site system role is already installed.",
        "category": "InvalidOperation",
        "fqid": "ItemAlreadyExists,Add",
        "exception": "System.InvalidOperationException",
    }
    steps = [{"id": "remove_0", "ok": True, "output": [], "error": None}, {"id": "add_1", "ok": False, "output": [], "error": error}]
    with pytest.raises(RunnerError) as e:
        to_plan_result(json.loads(json.dumps({"protocol": 1, "ok": False, "steps": steps, "error": error})), {})
    assert str(e.value) == (
        "Step 'add_1' (Add-CMServiceConnectionPoint) failed: The site system role is already installed. [ItemAlreadyExists,Add]"
    )
    assert e.value.completed == ["remove_0"]


def test_provider_error_is_reported_as_such():
    error = {"stage": "provider", "step": "sites", "cmdlet": "Get-CMAccount", "message": "The specified module was not loaded"}
    with pytest.raises(RunnerError, match="Could not connect to the SMS Provider"):
        to_plan_result({"protocol": 1, "ok": False, "steps": [], "error": error}, {})


class _Connection:
    def __init__(self, transport):
        self.transport = transport


@pytest.mark.parametrize(
    "transport, expected", [("winrm", _protocol.BOOTSTRAP), ("psrp", _protocol.BOOTSTRAP_COMMAND), ("ssh", _protocol.BOOTSTRAP_COMMAND)]
)
def test_each_connection_gets_what_its_exec_command_expects(transport, expected):
    # winrm (every version) encodes a command that is not already encoded, and 2.16-2.18 encode every
    # command: it gets the script. psrp decodes an encoded command and runs it in its runspace.
    action = FakeAction(stdout=doc())
    action._connection = _Connection(transport)
    plan = Plan()
    plan.add("svc", "Get-Service", {"Name": "WinRM"})
    run_plan(action, plan)
    assert action.calls[0][0] == expected


def test_what_the_winrm_plugin_makes_of_the_script_is_the_bootstrap_command():
    from ansible.plugins.loader import shell_loader

    shell = shell_loader.get("powershell")
    assert shell._encode_script(_protocol.BOOTSTRAP, strict_mode=False, preserve_rc=False) == _protocol.BOOTSTRAP_COMMAND
