"""The engine simulation against docs/engine-protocol.md, row by row."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cmlab.accounting import Accounting
from cmlab.engine import Engine, bootstrap_module, load_catalog, shape, to_engine_json
from cmlab.faults import Faults
from cmlab.topology import load_topology
from tests.fixtures import LAB_PASSWORD, step

SECRET = "Very-Secret-Value-42"
NO_PROVIDER = {"site_code": None, "server": None, "module": None, "username": None, "password_secret": None}
SYSRESUSE = {
    "SiteCode": None,
    "RoleName": None,
    "NetworkOSPath": None,
    "Props": {"PropertyName": None, "Value": None, "Value1": None, "Value2": None},
}
# Every cmdlet cmlab simulates (tests/cmlab/lab_catalog.json): the engine's rules do not depend on which
# ones plans use today. PLAN_CATALOG is the collection's own, the engine's allow-list.
CATALOG = load_catalog(str(Path(__file__).with_name("lab_catalog.json")))
PLAN_CATALOG = load_catalog()
MARKERS = bootstrap_module()


class Harness:
    def __init__(self) -> None:
        self.model = load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD)
        self.accounting = Accounting()
        self.faults = Faults()
        self.engine = Engine(self.model, CATALOG, self.accounting, self.faults)
        self.last_stdout = ""

    def raw(self, payload_text: str, host: str = "cas.lab.example") -> dict:
        self.last_stdout = self.engine.run(host, payload_text)
        start, end = MARKERS.RESULT_START, MARKERS.RESULT_END
        assert self.last_stdout.startswith(start) and self.last_stdout.endswith(end + "\r\n")
        assert self.last_stdout.count(start) == 1
        self.last_stdout.encode("ascii")
        return json.loads(self.last_stdout[len(start) : self.last_stdout.index(end)])

    def __call__(self, *steps: dict, provider=NO_PROVIDER, secrets=None, host: str = "cas.lab.example") -> dict:
        payload = {"protocol": 1, "provider": provider, "steps": list(steps), "secrets": secrets or {}}
        return self.raw(json.dumps(payload), host)


@pytest.fixture
def run() -> Harness:
    return Harness()


def outputs(doc: dict, sid: str) -> list:
    return next(s for s in doc["steps"] if s["id"] == sid)["output"]


# Result document ---------------------------------------------------------------------------------


def test_result_document_and_output_always_a_list(run):
    doc = run(
        step("sites", "Get-CMSite", {"SiteCode": None, "Type": None, "ReportingSiteCode": None}),
        step("none", "Get-CMSite", SiteCode="XYZ"),
        step("one", "Test-Path", Path="HKLM:\\SOFTWARE\\Microsoft\\SMS"),
    )
    assert doc == {
        "protocol": 1,
        "ok": True,
        "error": None,
        "steps": [
            {
                "id": "sites",
                "ok": True,
                "error": None,
                "output": [
                    {"SiteCode": "CAS", "Type": 4, "ReportingSiteCode": ""},
                    {"SiteCode": "PS1", "Type": 2, "ReportingSiteCode": "CAS"},
                ],
            },
            {"id": "none", "ok": True, "error": None, "output": []},
            {"id": "one", "ok": True, "error": None, "output": [True]},
        ],
    }


def test_json_is_ascii_with_escapes():
    assert to_engine_json({"a": 'é"\\\n', "b": [1, 2.5, True, None]}) == '{"a":"\\u00e9\\"\\\\\\u000a","b":[1,2.5,true,null]}'
    assert to_engine_json("\U0001f600") == '"\\ud83d\\ude00"'


# $ref ----------------------------------------------------------------------------------------------


def test_ref_one_object_stays_one_object(run):
    doc = run(
        step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", Force=True),
        step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", UseSiteServerAccount=True),
        step("add", "Add-CMServiceConnectionPoint", SYSRESUSE, InputObject={"$ref": "new"}, Mode="Offline"),
    )
    assert doc["ok"], doc["error"]
    assert outputs(doc, "add") == [
        {
            "SiteCode": "CAS",
            "RoleName": "SMS Dmp Connector",
            "NetworkOSPath": "\\\\scp01.lab.example",
            "Props": [{"PropertyName": "OfflineMode", "Value": 1, "Value1": "", "Value2": ""}],
        }
    ]


def test_ref_several_objects_become_a_list(run):
    doc = run(
        step("roles", "Get-CMSiteRole", SiteSystemServerName="cas.lab.example"),
        step("set", "Set-CMSiteSystemServer", InputObject={"$ref": "roles"}, PublicFqdn="x.example"),
    )
    assert doc["error"]["stage"] == "step" and doc["error"]["step"] == "set"
    assert "Cannot convert" in doc["error"]["message"] and "System.Object[]" in doc["error"]["message"]


def test_ref_checks_the_object_type(run):
    doc = run(
        step("site", "Get-CMSite", SiteCode="CAS"), step("add", "Add-CMServiceConnectionPoint", InputObject={"$ref": "site"}, Mode="Online")
    )
    assert doc["error"]["message"] == (
        "Cannot bind argument to parameter 'InputObject', because PSTypeNames of the "
        "argument do not match the PSTypeName required by the parameter: "
        "IResultObject#SMS_SCI_SysResUse."
    )


def test_ref_to_a_step_that_did_not_run_or_failed(run):
    doc = run(
        step("bad", "Get-Service", on_error="continue", Name="NoSuchService"),
        step("use", "Add-CMServiceConnectionPoint", InputObject={"$ref": "bad"}, Mode="Online"),
    )
    assert doc["steps"][0]["ok"] is False
    assert doc["error"] == {
        "stage": "step",
        "step": "use",
        "cmdlet": "Add-CMServiceConnectionPoint",
        "message": "Reference to step 'bad', which has not run.",
        "category": "OperationStopped",
        "fqid": "Reference to step 'bad', which has not run.",
        "exception": "System.Management.Automation.RuntimeException",
    }


def test_ref_output_is_a_snapshot(run):
    doc = run(
        step("before", "Get-CMServiceConnectionPoint", {"Props": {"Value": None}}, AllSite=True),
        step("set", "Set-CMServiceConnectionPoint", InputObject={"$ref": "before"}, Mode="Offline"),
        step("now", "Get-CMServiceConnectionPoint", {"Props": {"Value": None}}, AllSite=True),
        step("wrong", "Get-CMServiceConnectionPoint", on_error="continue", InputObject={"$ref": "before"}),
    )
    assert doc["ok"], doc["error"]
    assert outputs(doc, "before") == [{"Props": [{"Value": 0}]}] and outputs(doc, "now") == [{"Props": [{"Value": 1}]}]
    # -InputObject of Get-CMServiceConnectionPoint takes a site system object, not the SCP
    # (docs/configmgr-behaviour.md#service-connection-point-cmdlets).
    assert "IResultObject#SMS_SCI_SysResUse;RoleName=SMS Site System" in doc["steps"][3]["error"]["message"]


def test_other_objects_are_refused(run):
    doc = run(step("x", "Get-Service", Name={"name": "WinRM"}))
    # The protocol module's text, the PowerShell engine's text (tests/static/test_protocol_contract.py).
    assert doc["error"]["message"] == (
        'A parameter value may only be JSON data, {"$ref": step}, {"$ref": step, '
        '"property": name}, {"$provider": name}, {"$secret": name} or '
        '{"$credential": secret, "username": name}.'
    )


# $secret -------------------------------------------------------------------------------------------


def test_secret_becomes_a_securestring_and_never_leaves(run):
    doc = run(
        step("acct", "New-CMAccount", None, UserName="LAB\\svc-cminstall", Password={"$secret": "pw"}),
        step("read", "Get-CMAccount", None, UserName="LAB\\svc-cminstall"),
        secrets={"pw": SECRET},
    )
    assert doc["ok"], doc["error"]
    account = run.model.hierarchy("lab").account("CAS", "LAB\\svc-cminstall")
    assert account.fingerprint.matches(SECRET)
    assert SECRET not in run.last_stdout and SECRET not in json.dumps(run.model.dump())
    assert outputs(doc, "read") == ['SMS_SCI_Reserved.FileType=2,ItemName="LAB\\svc-cminstall",ItemType="User",SiteCode="CAS"']


def test_secret_errors_do_not_show_the_value(run):
    doc = run(step("acct", "New-CMAccount", UserName="bad-format", Password={"$secret": "pw"}), secrets={"pw": SECRET})
    assert doc["error"]["stage"] == "step" and "domain\\user" in doc["error"]["message"]
    assert SECRET not in run.last_stdout
    missing = run(step("acct", "New-CMAccount", UserName="LAB\\x", Password={"$secret": "nope"}))
    assert missing["error"]["message"] == "Secret 'nope' is not in the payload."
    plain = run(step("acct", "New-CMAccount", UserName="LAB\\x", Password=SECRET))
    assert plain["error"]["fqid"].startswith("SecureStringRequiresSecret,") and SECRET not in run.last_stdout


def test_securestring_is_never_shaped():
    from cmlab.cmdlets import SecureString

    assert shape(SecureString(SECRET), None) is None
    assert shape({"a": SecureString(SECRET)}, {"a": None}) == {"a": None}
    assert SECRET not in repr(SecureString(SECRET)) and SECRET not in str(SecureString(SECRET))


# select ------------------------------------------------------------------------------------------


def test_select_shaping(run):
    doc = run(
        step("svc", "Get-Service", {"Name": None, "Status": None, "Missing": None}, Name="SMS_EXECUTIVE"),
        step("whole", "Get-Service", None, Name="WinRM"),
        step("props", "Get-CMServiceConnectionPoint", {"Props": None, "RoleCount": None}, AllSite=True),
        step(
            "reg",
            "Get-ItemProperty",
            {"Site Code": None, "PSDrive": {"Name": None}},
            Path="HKLM:\\SOFTWARE\\Microsoft\\SMS\\Identification",
        ),
    )
    assert outputs(doc, "svc") == [{"Name": "SMS_EXECUTIVE", "Status": "Running", "Missing": None}]
    assert outputs(doc, "whole") == ["System.ServiceProcess.ServiceController"]
    assert outputs(doc, "props") == [{"Props": ["SMS_EmbeddedProperty"], "RoleCount": 4}]
    assert outputs(doc, "reg") == [{"Site Code": "CAS", "PSDrive": {"Name": "HKLM"}}]


def test_site_system_object_shape(run):
    doc = run(
        step("ss", "Get-CMSiteSystemServer", None, SiteSystemServerName="ps1.lab.example", SiteCode="PS1"),
        step(
            "full",
            "Get-CMSiteSystemServer",
            {
                k: None
                for k in (
                    "SiteCode",
                    "RoleName",
                    "NetworkOSPath",
                    "NALPath",
                    "NALType",
                    "ItemType",
                    "RoleCount",
                    "Type",
                    "SslState",
                    "PropLists",
                )
            },
            SiteSystemServerName="ps1.lab.example",
            SiteCode="PS1",
        ),
        step("cas", "Get-CMSiteSystemServer", {"Type": None}, SiteSystemServerName="cas.lab.example"),
    )
    assert outputs(doc, "full") == [
        {
            "SiteCode": "PS1",
            "RoleName": "SMS Site System",
            "NetworkOSPath": "\\\\ps1.lab.example",
            "NALPath": '["Display=\\\\ps1.lab.example\\"]MSWNET:["SMS_SITE=PS1"]\\\\ps1.lab.example\\',
            "NALType": "Windows NT Server",
            "ItemType": "System Resource Usage",
            "RoleCount": 4,
            "Type": 2,
            "SslState": 0,
            "PropLists": [],
        }
    ]
    assert outputs(doc, "cas") == [{"Type": 4}]


# on_error ----------------------------------------------------------------------------------------


def test_on_error_stop_ends_the_plan(run):
    doc = run(
        step("a", "Get-CMSite", {"SiteCode": None}, SiteCode="CAS"),
        step("b", "Set-CMServiceConnectionPoint", SiteSystemServerName="scp01.lab.example", Mode="Offline"),
        step("c", "Get-CMSite", SiteCode="PS1"),
    )
    assert doc["ok"] is False and [s["id"] for s in doc["steps"]] == ["a", "b"]
    assert doc["steps"][1]["ok"] is False and doc["steps"][1]["output"] == []
    error = doc["error"]
    assert (error["stage"], error["step"], error["cmdlet"], error["category"]) == (
        "step",
        "b",
        "Set-CMServiceConnectionPoint",
        "ObjectNotFound",
    )
    assert error["fqid"] == "ItemNotFound,Microsoft.ConfigurationManagement.Cmdlets.HS.Commands.SetServiceConnectionPointCommand"
    assert set(doc["steps"][1]["error"]) == {"message", "category", "fqid", "exception"}


def test_on_error_continue_captures(run):
    doc = run(step("b", "Get-Service", on_error="continue", Name="Nope"), step("c", "Get-CMSite", {"SiteCode": None}, SiteCode="PS1"))
    assert doc["ok"] is True and doc["error"] is None
    assert doc["steps"][0]["error"] == {
        "message": "Cannot find any service with service name 'Nope'.",
        "category": "ObjectNotFound",
        "fqid": "NoServiceFoundForGivenName,Microsoft.PowerShell.Commands.GetServiceCommand",
        "exception": "Microsoft.PowerShell.Commands.ServiceCommandException",
    }
    assert outputs(doc, "c") == [{"SiteCode": "PS1"}]


# Provider ----------------------------------------------------------------------------------------


def test_provider_site_code_discovered_at_the_local_provider(run):
    # CAS is discovered; without -AllSite the cmdlets look at the drive's site only.
    doc = run(
        step("scp", "Get-CMServiceConnectionPoint", SYSRESUSE),
        step("all", "Get-CMServiceConnectionPoint", {"SiteCode": None}, AllSite=True),
    )
    assert outputs(doc, "scp") == [] and outputs(doc, "all") == [{"SiteCode": "PS1"}]


def test_module_not_installed(run):
    doc = run(step("x", "Get-CMSite"), host="scp01.lab.example")
    assert doc["error"] == {
        "stage": "provider",
        "step": "x",
        "cmdlet": "Get-CMSite",
        "message": "The specified module 'ConfigurationManager' was not loaded because no valid module file was found "
        "in any module directory.",
        "category": "ResourceUnavailable",
        "fqid": "Modules_ModuleNotFound,Microsoft.PowerShell.Commands.ImportModuleCommand",
        "exception": "System.IO.FileNotFoundException",
    }
    assert doc["steps"] == []


def test_module_path(run):
    wrong = run(step("x", "Get-CMSite"), provider={**NO_PROVIDER, "module": "C:\\nowhere\\ConfigurationManager.psd1"})
    assert "'C:\\nowhere\\ConfigurationManager.psd1' was not loaded" in wrong["error"]["message"]
    right = run(
        step("x", "Get-CMSite", SiteCode="CAS"),
        provider={
            **NO_PROVIDER,
            "module": "C:\\Program Files (x86)\\Microsoft Endpoint Manager\\AdminConsole\\bin\\ConfigurationManager.psd1",
        },
    )
    assert right["ok"]


def test_provider_unknown_or_not_a_provider(run):
    doc = run(step("x", "Get-CMSite"), provider={**NO_PROVIDER, "site_code": "CAS", "server": "ghost.lab.example"})
    assert doc["error"]["stage"] == "provider" and "RPC server is unavailable" in doc["error"]["message"]
    assert doc["error"]["fqid"] == "NewDriveProviderException,Microsoft.PowerShell.Commands.NewPSDriveCommand"
    creds = {"username": "LAB\\cmadmin", "password_secret": "p"}
    doc = run(
        step("x", "Get-CMSite"),
        provider={**NO_PROVIDER, "site_code": "CAS", "server": "scp01.lab.example", **creds},
        secrets={"p": LAB_PASSWORD},
    )
    assert doc["error"]["stage"] == "provider" and "does not serve site 'CAS'" in doc["error"]["message"]


def test_provider_fault(run):
    run.faults.add("provider_unavailable", "cas.lab.example", count=1)
    doc = run(step("x", "Get-CMSite"))
    assert doc["error"]["stage"] == "provider" and "RPC server is unavailable" in doc["error"]["message"]
    assert run(step("x", "Get-CMSite"))["ok"]  # the counted fault is used up


def test_remote_provider_needs_explicit_credentials(run):
    remote = {**NO_PROVIDER, "site_code": "PS1", "server": "ps1.lab.example"}
    doc = run(step("x", "Get-CMSite"), provider=remote)
    assert doc["error"]["stage"] == "provider" and doc["error"]["message"].startswith("Access is denied.")
    creds = {**remote, "username": "LAB\\cmadmin", "password_secret": "p"}
    assert run(step("x", "Get-CMSite"), provider=creds, secrets={"p": "wrong"})["error"]["category"] == "PermissionDenied"
    doc = run(step("x", "Get-CMServiceConnectionPoint", {"SiteCode": None}), provider=creds, secrets={"p": LAB_PASSWORD})
    assert doc["ok"] and outputs(doc, "x") == [{"SiteCode": "PS1"}]
    assert LAB_PASSWORD not in run.last_stdout
    no_secret = run(step("x", "Get-CMSite"), provider=creds)
    assert no_secret["error"]["message"] == "Secret 'p' is not in the payload."


def test_remote_discovery_is_a_second_hop(run):
    # Discovering the site code on another machine opens a CIM session there: without explicit
    # credentials that is a second hop.
    doc = run(step("x", "Get-CMSite"), provider={**NO_PROVIDER, "server": "ps1.lab.example"})
    assert doc["error"]["fqid"] == "HRESULT 0x80070005,Microsoft.Management.Infrastructure.CimCmdlets.NewCimSessionCommand"
    creds = {**NO_PROVIDER, "server": "ps1.lab.example", "username": "LAB\\cmadmin", "password_secret": "p"}
    doc = run(step("x", "Get-CMSite", {"SiteCode": None}), provider=creds, secrets={"p": LAB_PASSWORD})
    assert doc["ok"] and outputs(doc, "x") == [{"SiteCode": "CAS"}, {"SiteCode": "PS1"}]


def test_site_code_clashing_with_a_drive(run):
    doc = run(step("x", "Get-CMSite"), provider={**NO_PROVIDER, "site_code": "ENV", "server": "cas.lab.example"})
    assert doc["error"]["message"] == "A drive with the name 'ENV' already exists."


def test_provider_only_for_configmgr_steps(run):
    doc = run(step("svc", "Get-Service", {"Name": None}, Name="WinRM"), provider=None, host="scp01.lab.example")
    assert doc["ok"] and outputs(doc, "svc") == [{"Name": "WinRM"}]


def test_configmgr_cmdlet_off_the_site_drive(run):
    doc = run({**step("x", "Get-CMSite"), "provider": None})
    assert doc["error"]["message"].startswith("This command cannot be run from the current drive.")


# Payload -----------------------------------------------------------------------------------------


def test_payload_not_json(run):
    doc = run.raw("{not json")
    assert doc == {
        "protocol": 1,
        "ok": False,
        "steps": [],
        "error": {
            "stage": "payload",
            "step": None,
            "cmdlet": None,
            "message": "The payload is not valid JSON.",
            "category": "InvalidData",
            "fqid": "InvalidPayload",
            "exception": None,
        },
    }
    # JSON has no NaN: neither engine reads it (Python's json would).
    assert run.raw('{"protocol": 1, "steps": [], "x": NaN}')["error"]["message"] == "The payload is not valid JSON."


def test_payload_protocol(run):
    doc = run.raw(json.dumps({"protocol": 2, "steps": []}))
    assert doc["error"]["message"] == "Unsupported protocol version (this engine speaks protocol 1)."
    assert doc["error"]["stage"] == "payload"


@pytest.mark.parametrize(
    "payload",
    [
        {"protocol": 1, "steps": {}},
        {"protocol": 1, "steps": [{"id": "a", "cmdlet": "Get-CMSite", "params": ["x"]}]},
        {"protocol": 1, "steps": [], "secrets": {"a": 1}},
    ],
)
def test_a_payload_of_another_structure_still_gets_a_document(run, payload):
    # The runner writes the structure; for anything else both engines still answer with a document,
    # each in its own words (docs/engine-protocol.md section 2).
    doc = run.raw(json.dumps(payload))
    assert doc["protocol"] == 1 and (doc["ok"] or doc["error"]["stage"] in ("engine", "step", "payload"))


def test_cmdlet_not_allowed_when_reached(run):
    doc = run(
        step("a", "Get-CMSite", SiteCode="CAS"), {"id": "b", "cmdlet": "Invoke-Expression", "cm": False, "params": {"Command": "whoami"}}
    )
    assert [s["id"] for s in doc["steps"]] == ["a"]
    assert doc["error"] == {
        "stage": "payload",
        "step": "b",
        "cmdlet": "Invoke-Expression",
        "message": "The cmdlet 'Invoke-Expression' is not allowed.",
        "category": "PermissionDenied",
        "fqid": "CmdletNotAllowed",
        "exception": None,
    }


# Binding -----------------------------------------------------------------------------------------


def test_binding_errors_use_powershell_messages(run):
    doc = run(
        step("a", "Get-CMSite", on_error="continue", Foo=1),
        step("b", "Set-CMServiceConnectionPoint", on_error="continue", SiteSystemServerName="x", Mode="Sideways"),
        step("c", "New-CMAccount", on_error="continue", UserName="LAB\\x"),
    )
    a, b, c = (s["error"] for s in doc["steps"])
    assert a == {
        "message": "A parameter cannot be found that matches parameter name 'Foo'.",
        "category": "InvalidArgument",
        "fqid": "NamedParameterNotFound,Microsoft.ConfigurationManagement.Cmdlets.HS.Commands.GetSiteCommand",
        "exception": "System.Management.Automation.ParameterBindingException",
    }
    assert b["message"].startswith("Cannot validate argument on parameter 'Mode'. The argument \"Sideways\" does not belong")
    assert b["exception"] == "System.Management.Automation.ParameterBindingValidationException"
    assert c["message"] == "Cannot process command because of one or more missing mandatory parameters: Password."
    assert run.accounting.host("cas.lab.example").snapshot()["cmdlet_calls"] == {}


def test_not_simulated_fails_loudly(run):
    doc = run(
        step("a", "Get-CMSiteComponent", on_error="continue"),
        step("b", "Get-Service", on_error="continue", Name="WinRM", DependentServices=True),
    )
    assert doc["steps"][0]["error"]["message"] == "cmlab does not simulate Get-CMSiteComponent."
    assert doc["steps"][0]["error"]["category"] == "NotImplemented"
    assert doc["steps"][1]["error"]["message"] == "cmlab does not simulate Get-Service with -DependentServices."


# Cmdlet behaviour through the engine ------------------------------------------------------------


def test_remove_needs_force_under_noninteractive(run):
    doc = run(step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1"))
    assert doc["error"]["message"] == "PowerShell is in NonInteractive mode. Read and Prompt functionality is not available."
    assert run.model.hierarchy("lab").scp() is not None


def test_whatif_changes_nothing_and_confirm_prompts(run):
    before = json.dumps(run.model.dump())
    doc = run(
        step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", Force=True, WhatIf=True),
        step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", WhatIf=True),
    )
    assert doc["ok"] and json.dumps(run.model.dump()) == before
    doc = run(step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", Confirm=True))
    assert doc["error"]["exception"] == "System.Management.Automation.Host.HostException"


def test_move_the_scp_to_the_cas(run):
    doc = run(
        step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", UseSiteServerAccount=True),
        step("early", "Add-CMServiceConnectionPoint", on_error="continue", SiteSystemServerName="scp01.lab.example", Mode="Online"),
        step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", Force=True),
        step(
            "child",
            "Add-CMServiceConnectionPoint",
            on_error="continue",
            SiteSystemServerName="ps1.lab.example",
            SiteCode="PS1",
            Mode="Online",
        ),
        step("add", "Add-CMServiceConnectionPoint", SYSRESUSE, SiteSystemServerName="scp01.lab.example", Mode="Online"),
        step(
            "set",
            "Set-CMServiceConnectionPoint",
            {"Props": {"Value": None}},
            SiteSystemServerName="scp01.lab.example",
            Mode="Offline",
            PassThru=True,
        ),
        step("ss", "Get-CMSiteSystemServer", {"RoleCount": None, "Type": None}, Name="scp01.*"),
        step("rm_ss", "Remove-CMSiteSystemServer", on_error="continue", SiteSystemServerName="scp01.lab.example", Force=True),
    )
    assert doc["ok"], doc["error"]
    assert "single instance" in doc["steps"][1]["error"]["message"]
    assert "top-level site" in doc["steps"][3]["error"]["message"]
    assert outputs(doc, "set") == [{"Props": [{"Value": 1}]}]
    assert outputs(doc, "ss") == [{"RoleCount": 2, "Type": 8}]
    assert "other site system roles (SMS Dmp Connector)" in doc["steps"][7]["error"]["message"]


def test_site_system_server_with_accounts_and_proxy(run):
    doc = run(
        step("acct", "Get-CMAccount", UserName="LAB\\svc-cmnaa"),
        step(
            "new",
            "New-CMSiteSystemServer",
            SiteSystemServerName="scp01.lab.example",
            AccountName="LAB\\svc-cmnaa",
            EnableProxy=True,
            ProxyServerName="proxy.lab.example",
            ProxyServerPort=3128,
            ProxyAccessAccount={"$ref": "acct"},
        ),
        step(
            "both",
            "Set-CMSiteSystemServer",
            on_error="continue",
            SiteSystemServerName="scp01.lab.example",
            UseSiteServerAccount=True,
            AccountName="LAB\\svc-cmnaa",
        ),
        step("ghost", "Set-CMSiteSystemServer", on_error="continue", SiteSystemServerName="scp01.lab.example", AccountName="LAB\\ghost"),
        step(
            "read",
            "Get-CMSiteSystemServer",
            {"Props": {"PropertyName": None, "Value": None, "Value2": None}},
            SiteSystemServerName="scp01.lab.example",
        ),
    )
    assert doc["ok"], doc["error"]
    assert "cannot be used together" in doc["steps"][2]["error"]["message"]
    assert "does not exist" in doc["steps"][3]["error"]["message"]
    props = {p["PropertyName"]: p for p in outputs(doc, "read")[0]["Props"]}
    assert props["UseMachineAccount"]["Value"] == 0 and props["UserName"]["Value2"] == "LAB\\svc-cmnaa"
    assert props["UseProxy"]["Value"] == 1 and props["ProxyName"]["Value2"] == "proxy.lab.example"
    assert props["ProxyServerPort"]["Value"] == 3128 and props["ProxyUserName"]["Value2"] == "LAB\\svc-cmnaa"
    assert props["AnonymousProxyAccess"]["Value"] == 0


def test_get_by_unknown_name_returns_nothing(run):
    doc = run(
        step("a", "Get-CMSiteSystemServer", Name="ghost.lab.example", AllSite=True),
        step("b", "Get-CMServiceConnectionPoint", Name="ghost.lab.example"),
        step("c", "Get-CMAccount", UserName="LAB\\ghost"),
        step("d", "Get-CMSiteRole", RoleName="SMS Nothing", AllSite=True),
        step("e", "Get-CMSite", Name="Nowhere"),
    )
    assert doc["ok"] and all(s["output"] == [] for s in doc["steps"])


def test_windows_cmdlets(run):
    doc = run(
        step(
            "loc",
            "Get-CimInstance",
            {"SiteCode": None, "Machine": None, "ProviderForLocalSite": None, "NamespacePath": None},
            Namespace="root\\SMS",
            ClassName="SMS_ProviderLocation",
        ),
        step("ns", "Get-CimInstance", on_error="continue", Namespace="root\\nothing", ClassName="X"),
        step("key", "Get-ItemProperty", on_error="continue", Path="HKLM:\\SOFTWARE\\Nothing"),
        step("val", "Get-ItemProperty", on_error="continue", Path="HKLM:\\SOFTWARE\\Microsoft\\SMS\\Identification", Name="Nope"),
        step("paths", "Test-Path", Path=["HKLM:\\SOFTWARE\\Microsoft\\SMS", "C:\\Windows", "C:\\nothing"]),
        step(
            "psd1",
            "Test-Path",
            LiteralPath="C:\\Program Files (x86)\\Microsoft Endpoint Manager\\AdminConsole\\bin\\ConfigurationManager.psd1",
            PathType="Leaf",
        ),
    )
    assert outputs(doc, "loc") == [
        {
            "SiteCode": "CAS",
            "Machine": "cas.lab.example",
            "ProviderForLocalSite": True,
            "NamespacePath": "\\\\cas.lab.example\\root\\sms\\site_CAS",
        }
    ]
    ns, key, val = (doc["steps"][i]["error"] for i in (1, 2, 3))
    assert ns["fqid"] == "HRESULT 0x8004100e,Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand"
    assert key["message"] == "Cannot find path 'HKLM:\\SOFTWARE\\Nothing' because it does not exist."
    assert val["message"] == "Property Nope does not exist at path HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\SMS\\Identification."
    assert outputs(doc, "paths") == [True, True, False] and outputs(doc, "psd1") == [True]


def test_local_group_members(run):
    doc = run(
        step("add", "Add-LocalGroupMember", Name="Administrators", Member=["LAB\\CAS$"]),
        step("again", "Add-LocalGroupMember", on_error="continue", Name="Administrators", Member=["lab\\cas$"]),
        step("ghost", "Add-LocalGroupMember", on_error="continue", Name="Administrators", Member=["LAB\\ghost"]),
        step("list", "Get-LocalGroupMember", {"Name": None, "PrincipalSource": None}, Name="Administrators"),
        host="scp01.lab.example",
        provider=None,
    )
    assert doc["ok"], doc["error"]
    assert doc["steps"][1]["error"]["message"] == "LAB\\CAS$ is already a member of group Administrators."
    assert doc["steps"][2]["error"]["message"] == "Principal LAB\\ghost was not found."
    assert {"Name": "LAB\\CAS$", "PrincipalSource": "ActiveDirectory"} in outputs(doc, "list")
    assert run.model.host("scp01.lab.example").is_local_admin("LAB\\CAS$")


def test_accounting(run):
    run(step("a", "Get-CMSite"), step("b", "Get-CMSite", Bogus=1))
    run(step("a", "Get-Service", Name="WinRM"), host="ps1.lab.example", provider=None)
    counters = run.accounting.snapshot()
    assert counters["cas.lab.example"]["engine_invocations"] == 1
    assert counters["cas.lab.example"]["cmdlet_calls"] == {"Get-CMSite": 1}
    assert counters["ps1.lab.example"]["cmdlet_calls"] == {"Get-Service": 1}


def test_ref_property(run):
    doc = run(
        step("id", "Get-ItemProperty", Path="HKLM:\\SOFTWARE\\Microsoft\\SMS\\Setup"),
        step("dir", "Test-Path", Path={"$ref": "id", "property": "PSPath"}),
        step("svc", "Get-Service", Name=["WinRM", "SMS_EXECUTIVE"]),
        step("names", "Get-Service", {"Name": None}, Name={"$ref": "svc", "property": "Name"}),
        step("none", "Test-Path", on_error="continue", Path={"$ref": "id", "property": "Nothing"}),
    )
    assert doc["ok"], doc["error"]
    assert outputs(doc, "dir") == [True]
    assert outputs(doc, "names") == [{"Name": "WinRM"}, {"Name": "SMS_EXECUTIVE"}]
    assert doc["steps"][4]["error"]["message"] == "Cannot bind argument to parameter 'Path' because it is null."


def test_install_failure_fault_and_missing_admin_rights_show_in_the_state(run):
    run.model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\CAS$")
    run.faults.add("install_failure", "scp01.lab.example", count=1)
    doc = run(step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example"))
    assert doc["ok"]  # the cmdlet only records the intent (docs/configmgr-behaviour.md#asynchronous-installation)

    def role_state() -> str:
        return next(ss for ss in run.model.dump()["hierarchies"]["lab"]["site_systems"] if ss["server"] == "scp01.lab.example")["roles"][
            "SMS Site System"
        ]["state"]

    assert role_state() == "installing"
    run.model.clock.advance(run.model.configmgr_timing.install_delay)
    run(step("site", "Get-CMSite"))  # Site Component Manager acts before the next payload
    assert role_state() == "install_failed"
    assert run.faults.to_list() == []


# Reads through CIM (provider kind "cim") -----------------------------------------------------------

SUMMARY = {"ComponentName": None, "MachineName": None, "SiteCode": None}
TALLY = "0001128000100008"


def cim_read(sid: str = "dmp") -> dict:
    return step(
        sid,
        "Get-CimInstance",
        SUMMARY,
        Namespace={"$provider": "namespace"},
        ClassName="SMS_ComponentSummarizer",
        Filter=f"TallyInterval='{TALLY}'",
    )


def test_a_cim_read_needs_no_module(run):
    # scp01 has no console: a cmsite step fails to import the module, a cim step never imports it.
    assert cim_read()["provider"] == "cim"
    provider = {"site_code": "CAS", "server": "cas.lab.example", "username": "LAB\\cmadmin", "password_secret": "p"}
    doc = run(cim_read(), provider=provider, secrets={"p": LAB_PASSWORD}, host="scp01.lab.example")
    assert doc["ok"], doc["error"]
    assert {r["SiteCode"] for r in outputs(doc, "dmp")} >= {"CAS"}
    doc = run(step("x", "Get-CMSite"), provider=provider, secrets={"p": LAB_PASSWORD}, host="scp01.lab.example")
    assert doc["error"]["stage"] == "provider" and "ConfigurationManager" in doc["error"]["message"]


def test_a_cim_read_of_a_provider_on_another_machine_goes_through_a_cim_session(run):
    remote = {"site_code": "PS1", "server": "ps1.lab.example"}
    doc = run(cim_read(), provider=remote)
    # Without credentials: a second hop, refused where the session is opened (stage provider).
    assert doc["error"]["stage"] == "provider"
    assert doc["error"]["fqid"] == "HRESULT 0x80070005,Microsoft.Management.Infrastructure.CimCmdlets.NewCimSessionCommand"
    creds = {**remote, "username": "LAB\\cmadmin", "password_secret": "p"}
    assert run(cim_read(), provider=creds, secrets={"p": "wrong"})["error"]["category"] == "PermissionDenied"
    doc = run(cim_read(), cim_read("again"), provider=creds, secrets={"p": LAB_PASSWORD})
    assert doc["ok"], doc["error"]
    assert {r["SiteCode"] for r in outputs(doc, "dmp")} == {"PS1"}  # PS1's provider knows its own site
    assert LAB_PASSWORD not in run.last_stdout


def test_provider_facts_without_the_module_and_an_unavailable_provider_fails_the_read(run):
    doc = run(
        cim_read(),
        step("code", "Get-CimInstance", {"SiteCode": None}, Namespace={"$provider": "namespace"}, ClassName="SMS_SCI_SCProperty"),
    )
    assert doc["ok"], doc["error"]  # site code and server discovered from root\SMS SMS_ProviderLocation
    run.faults.add("provider_unavailable", "cas.lab.example", count=1)
    doc = run(cim_read())
    assert (doc["error"]["stage"], doc["error"]["step"]) == ("step", "dmp")
    assert doc["error"]["message"] == "The RPC server is unavailable. "
