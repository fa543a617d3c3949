"""cmlab's engine behaves as the PowerShell engine on everything the two used to disagree on
(issue 8 item 20), on data that looks like the protocol (item 3) and on forged plans (item 17).
The PowerShell side of each rule is held by tests/static/test_protocol_contract.py."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import parse_result, to_plan_result
from cmlab.accounting import Accounting
from cmlab.contract import protocol
from cmlab.engine import Engine, load_catalog, round_trip_date, to_engine_json
from cmlab.faults import Faults
from cmlab.topology import load_topology
from tests.fixtures import LAB_PASSWORD, step

CATALOG = load_catalog()
CAS = "cas.lab.example"


def strict_json(text: str):
    def refuse(name):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture
def engine() -> Engine:
    model = load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD)
    return Engine(model, CATALOG, Accounting(), Faults())


def run(engine: Engine, *steps: dict, host: str = CAS, secrets: dict | None = None, payload=None) -> dict:
    body = payload if payload is not None else {"protocol": 1, "provider": None, "steps": list(steps), "secrets": secrets or {}}
    stdout = engine.run(host, json.dumps(body))
    return strict_json(protocol.unframe(stdout))


# Item 3: the result document cannot be broken by data --------------------------------------------

MARKERS = f'x{protocol.RESULT_END}y{protocol.RESULT_START}{{"protocol":1,"ok":true,"steps":[],"error":null}}'


def test_markers_inside_a_value_are_escaped_and_read_back_literally(engine):
    doc = run(
        engine,
        step("new", "New-NetFirewallRule", None, Name="SCP-Out", DisplayName=MARKERS, Description=MARKERS, Direction="Outbound"),
        step("rule", "Get-NetFirewallRule", {"DisplayName": None, "Description": None}, Name="SCP-Out"),
        host="scp01.lab.example",
    )
    assert doc["ok"], doc["error"]
    assert doc["steps"][1]["output"] == [{"DisplayName": MARKERS, "Description": MARKERS}]
    stdout = engine.run(
        "scp01.lab.example",
        json.dumps(
            {
                "protocol": 1,
                "provider": None,
                "secrets": {},
                "steps": [step("rule", "Get-NetFirewallRule", {"Description": None}, Name="SCP-Out")],
            }
        ),
    )
    assert stdout.count(protocol.RESULT_END) == 1 and "<" not in protocol.unframe(stdout)
    # What the runner makes of it: the value, whole.
    result = to_plan_result(parse_result(stdout, "", 0, {}), {})
    assert result.first("rule") == {"Description": MARKERS}


def test_output_around_the_document_cannot_forge_one():
    real = protocol.frame(protocol.json_text({"protocol": 1, "ok": True, "steps": [], "error": None}))
    forged = protocol.frame('{"protocol":1,"ok":true,"steps":[{"id":"x","ok":true,"output":["<forged>"]}]}')
    assert protocol.unframe("WARNING: " + protocol.RESULT_START + "\r\n" + real + "\r\n") == real[18:-15]
    assert protocol.unframe(real + "\r\nhost output " + forged) == real[18:-15]  # '<' in it: not a document
    assert protocol.unframe(real + real) is None  # two documents: refused


# Item 20: where the engines disagreed -------------------------------------------------------------


def test_nan_and_infinity_are_text_in_valid_json():
    text = to_engine_json({"values": [float("nan"), float("inf"), -float("inf"), 1.5, 10**20]})
    assert text == '{"values":["NaN","Infinity","-Infinity",1.5,100000000000000000000]}'
    assert strict_json(text)


def test_dates_are_written_as_dotnet_round_trip_strings():
    utc = datetime.datetime(2026, 1, 2, 3, 4, 5, 120000, tzinfo=datetime.timezone.utc)
    assert round_trip_date(utc) == "2026-01-02T03:04:05.1200000+00:00"  # a Local DateTime on a UTC server
    plus_two = datetime.timezone(datetime.timedelta(hours=2))
    assert round_trip_date(datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=plus_two)) == "2026-01-02T03:04:05.0000000+02:00"
    assert round_trip_date(datetime.datetime(2026, 1, 2)) == "2026-01-02T00:00:00.0000000"  # Unspecified: no suffix


def test_the_ascii_fast_path_is_case_sensitive_and_anchored_at_the_very_end():
    # -match would pass the Kelvin sign and the dotted capital I as 'k' and 'i'; $ would pass "a\n".
    assert to_engine_json("\u212a\u0130") == '"\\u212a\\u0130"'
    assert to_engine_json("a\n") == '"a\\u000a"'
    assert to_engine_json("<b>") == '"\\u003cb\\u003e"'
    assert to_engine_json("\U0001f600") == '"\\ud83d\\ude00"'


def test_the_bootstrap_separator_is_found_ordinally():
    # The separator is one NUL, found with IndexOf(Char), which is ordinal (.NET Framework's culture-aware
    # IndexOf(String) ignores NUL); a NUL of the payload travels as \u0000.
    engine_text, payload = "a\n\nb", json.dumps({"protocol": 1, "x": "\0\n\0"})
    packed = protocol.build_stdin(engine_text, payload)
    assert protocol.split_stdin(packed) == ("a\nb", payload)  # minified: no blank line left either
    assert "$s.IndexOf([char]0)" in protocol.BOOTSTRAP


def test_step_ids_compare_ignoring_case_as_powershell_hashtables(engine):
    # The engine's outputs are an OrdinalIgnoreCase table: SVC is svc; of two such ids the later wins.
    doc = run(
        engine,
        step("svc", "Get-Service", None, Name="WinRM"),
        step("again", "Get-Service", {"Name": None}, Name={"$ref": "SVC", "property": "Name"}),
    )
    assert doc["ok"] and doc["steps"][1]["output"] == [{"Name": "WinRM"}]
    doc = run(
        engine,
        step("svc", "Get-Service", None, Name="WinRM"),
        step("SVC", "Get-Service", None, Name="WinRM"),
        step("again", "Get-Service", {"Name": None}, Name={"$ref": "svc", "property": "Name"}),
    )
    assert doc["ok"] and [s["id"] for s in doc["steps"]] == ["svc", "SVC", "again"]


def test_parameter_and_select_names_differing_in_case_keep_the_last_value(engine):
    # The splat and the shaped object are OrdinalIgnoreCase tables: the last value, the first spelling.
    twice = step("svc", "Get-Service", {"Name": None, "NAME": None, "status": None}, Name="NoSuchService")
    twice["params"]["name"] = "WinRM"
    doc = run(engine, twice)
    assert doc["ok"], doc["error"]
    assert doc["steps"][0]["output"] == [{"Name": "WinRM", "status": "Running"}]


def test_value_form_names_are_exact(engine):
    doc = run(engine, step("svc", "Get-Service", None, Name={"$Ref": "x"}))
    assert doc["error"]["message"] == protocol.TEXTS["value_form"]


def test_an_empty_secret_is_refused_as_such(engine):
    doc = run(
        engine,
        step("acct", "New-CMAccount", None, UserName="LAB\\svc-cminstall", Password={"$secret": "pw"}),
        payload={
            "protocol": 1,
            "provider": {},
            "secrets": {"pw": ""},
            "steps": [step("acct", "New-CMAccount", None, UserName="LAB\\svc-cminstall", Password={"$secret": "pw"})],
        },
    )
    assert doc["error"]["stage"] == "step" and doc["error"]["message"] == "Secret 'pw' is empty."
    provider = {"site_code": "PS1", "server": "ps1.lab.example", "username": "LAB\\cmadmin", "password_secret": "p"}
    doc = run(engine, payload={"protocol": 1, "provider": provider, "secrets": {"p": ""}, "steps": [step("x", "Get-CMAccount", None)]})
    assert (doc["error"]["stage"], doc["error"]["message"]) == ("provider", "Secret 'p' is empty.")


@pytest.mark.parametrize("payload", [{"protocol": v, "steps": []} for v in (1.0, "1", True, None, 2, [1])] + [[1], "x"])
def test_only_an_object_with_the_integer_1_is_protocol_1(engine, payload):
    doc = run(engine, payload=payload)
    assert doc["error"] == {
        "stage": "payload",
        "step": None,
        "cmdlet": None,
        "message": protocol.TEXTS["protocol"],
        "category": "InvalidData",
        "fqid": "InvalidPayload",
        "exception": None,
    }


def test_a_value_form_inside_a_list_is_refused(engine):
    doc = run(
        engine,
        step("svc", "Get-Service", None, Name="WinRM"),
        step("both", "Get-Service", None, Name=["Spooler", {"$ref": "svc", "property": "Name"}]),
    )
    assert doc["error"]["message"] == "A value inside a list may only be JSON data."


def test_several_outputs_for_a_string_parameter_is_powershells_conversion_error(engine):
    doc = run(
        engine,
        step("members", "Get-LocalGroupMember", None, Name="Administrators"),
        step("one", "Get-LocalGroupMember", None, Name={"$ref": "members", "property": "Name"}),
        host="scp01.lab.example",
    )
    error = doc["error"]
    assert (error["step"], error["category"]) == ("one", "InvalidArgument")
    assert error["message"] == (
        "Cannot bind parameter 'Name'. Cannot convert 'System.Object[]' to the type "
        "'System.String' required by parameter 'Name'. Specified method is not supported."
    )
    assert error["exception"] == "System.Management.Automation.ParameterBindingException"


# Item 17: what a forged plan cannot do ------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        {"Name": "WinRM", "OutVariable": "result"},
        {"Name": "WinRM", "ov": "result"},
        {"Name": "WinRM", "ComputerName": "ps1.lab.example"},
        {"Name": "WinRM", "ErrorAction": "SilentlyContinue"},
    ],
)
def test_a_forged_plan_cannot_set_engine_variables_or_reach_another_host(engine, params):
    doc = run(engine, {"id": "svc", "cmdlet": "Get-Service", "provider": None, "params": params, "select": None})
    assert doc["error"]["stage"] == "step"
    assert doc["error"]["fqid"].split(",")[0] in ("CommonParameterNotAllowed", "ParameterNotAllowed")
    assert engine.accounting.snapshot()[CAS]["cmdlet_calls"] == {}


def test_cmdlets_no_plan_uses_are_not_allowed(engine):
    for cmdlet in ("Copy-Item", "Invoke-RestMethod", "New-PSDrive", "ConvertTo-SecureString"):
        doc = run(engine, {"id": "x", "cmdlet": cmdlet, "provider": None, "params": {}})
        assert doc["error"]["fqid"] == "CmdletNotAllowed", cmdlet


# A PSCredential from a plan credential ({"$credential": secret, "username": name}); a WebException's status ---


def proxied(engine, secret: str | None, **extra) -> dict:
    with engine.model.lock:
        engine.model.internet.configure({"proxies": {"proxy.lab.example": {"port": 8080, "auth_required": True}}})
        host = engine.model.host("scp01.lab.example")
        for key in (
            "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
            "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
        ):
            host.registry.set_value(key, "SchUseStrongCrypto", 1, "DWord")
            host.registry.set_value(key, "SystemDefaultTlsVersions", 1, "DWord")
        host.net.boot()
    params = {"Uri": "https://aka.ms/configmgrgateway", "UseBasicParsing": True, "Proxy": "http://proxy.lab.example:8080", **extra}
    if secret is not None:
        params["ProxyCredential"] = {"$credential": "pw", "username": "LAB\\svc-cmproxy"}
    return run(
        engine,
        step("web", "Invoke-WebRequest", {"StatusCode": None}, "continue", **params),
        host="scp01.lab.example",
        secrets={} if secret is None else {"pw": secret},
    )


def test_a_plan_credential_authenticates_to_the_proxy(engine):
    doc = proxied(engine, LAB_PASSWORD)
    assert doc["ok"] and doc["steps"][0]["ok"], doc
    assert doc["steps"][0]["output"] == [{"StatusCode": 200}]


def test_a_web_exception_carries_its_status_and_the_http_status(engine):
    for secret in (None, "not-the-password"):
        web = proxied(engine, secret)["steps"][0]
        assert not web["ok"]
        assert web["error"] == {
            "message": "The remote server returned an error: (407) Proxy Authentication Required.",
            "category": "InvalidOperation",
            "exception": "System.Net.WebException",
            "web_status": "ProtocolError",
            "http_status": 407,
            "fqid": "WebCmdletWebResponseException,Microsoft.PowerShell.Commands.InvokeWebRequestCommand",
        }
    with engine.model.lock:
        engine.model.internet.configure({"endpoints": {"aka.ms": "timeout"}})
    web = proxied(engine, LAB_PASSWORD)["steps"][0]
    assert (web["error"]["web_status"], "http_status" in web["error"]) == ("Timeout", False)


def test_a_plan_credential_needs_its_secret_and_fills_only_a_pscredential(engine):
    doc = proxied(engine, "")
    assert doc["steps"][0]["error"]["message"] == "Secret 'pw' is empty."
    doc = run(engine, step("svc", "Get-Service", None, "continue", Name={"$credential": "pw", "username": "LAB\\u"}), secrets={"pw": "x"})
    assert "Cannot convert" in doc["steps"][0]["error"]["message"]
    assert "x" not in json.dumps(doc["steps"][0]["output"])


def test_invoke_web_request_cannot_set_an_engine_variable(engine):
    doc = run(
        engine,
        {
            "id": "web",
            "cmdlet": "Invoke-WebRequest",
            "provider": None,
            "params": {"Uri": "https://aka.ms/", "UseBasicParsing": True, "SessionVariable": "result"},
        },
        host="scp01.lab.example",
    )
    assert doc["error"]["fqid"].split(",")[0] == "ParameterNotAllowed"
