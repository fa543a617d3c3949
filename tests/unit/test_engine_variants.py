"""Only the engine regions a payload needs travel (docs/engine-protocol.md 2.0): _protocol.engine_features,
the variants of minify, and what build_stdin packs. The variants' syntax is proven in
tests/static/test_engine_static.py; cmlab's refusal of another variant in tests/cmlab/test_scripts.py."""

from __future__ import annotations

import json

import pytest

from ansible_collections.configmgr.scp.plugins.plugin_utils import _endpoints, _hierarchy, _protocol, _tls
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import CATALOG, Plan, Provider, build_payload, engine_source, ref

ALL = frozenset(_protocol.ENGINE_FEATURES)


def features_of(plan: Plan, provider: Provider | None = None) -> frozenset:
    return _protocol.engine_features(build_payload(plan, provider)[0])


def payload(*steps: dict, **members) -> str:
    return json.dumps({"protocol": 1, "steps": list(steps), **members})


def test_a_registry_read_needs_no_region():
    assert features_of(_tls.read_plan([])) == frozenset()


def test_a_cim_read_of_the_provider_needs_the_provider_code_only():
    assert features_of(_hierarchy.read_plan(role_names=["SMS Dmp Connector"])) == {"provider"}


def test_a_configmgr_cmdlet_needs_the_cmsite_drive_and_the_provider():
    plan = Plan()
    plan.add("accounts", "Get-CMAccount", {})
    assert features_of(plan) == {"provider", "cmsite"}


def test_secrets_a_plan_value_or_the_providers_password():
    plan = Plan()
    plan.add("acct", "New-CMAccount", {"UserName": "LAB\\x", "Password": plan.add_secret("pw", "Secret-1!")})
    assert features_of(plan) == {"provider", "cmsite", "secrets"}
    reads = _hierarchy.read_plan()
    assert features_of(reads, Provider(server="cas.lab.example", username="LAB\\admin", password="P-1!")) == {"provider", "secrets"}
    # A user name without a password still reaches New-SecureText (its error says the secret is empty).
    assert features_of(reads, Provider(username="LAB\\admin")) == {"provider", "secrets"}
    assert features_of(reads, Provider(server="cas.lab.example")) == {"provider"}


def test_the_web_cmdlets_are_allow_listed():
    assert _protocol.WEB_CMDLETS <= set(CATALOG.names())


def test_a_web_request_needs_the_web_members_and_a_proxy_credential_the_secrets():
    endpoint = _endpoints.Endpoint("https://example.invalid/", "test")
    plan, _ = _endpoints.check_plan([endpoint], None, 5, scp_log=False)
    assert features_of(plan) == {"web"}
    proxy = _endpoints.Proxy("proxy.lab.example", 8080, "LAB\\proxy", "Proxy-1!")
    plan, _ = _endpoints.check_plan([endpoint], proxy, 5)
    assert features_of(plan) == {"web", "secrets"}
    assert json.loads(build_payload(plan, None)[0])["steps"][0]["params"]["ProxyCredential"]["$credential"]


@pytest.mark.parametrize(
    ("step", "features"),
    [
        ({"id": "a", "cmdlet": "Get-Service"}, set()),
        ({"id": "a", "cmdlet": "Get-CimInstance", "provider": "cim"}, {"provider"}),
        ({"id": "a", "cmdlet": "Get-CMAccount", "provider": "cmsite"}, {"provider", "cmsite"}),
        # Any other kind may still compare equal to 'cmsite' in PowerShell ($true -ceq 'cmsite' holds).
        ({"id": "a", "cmdlet": "Get-CMAccount", "provider": True}, {"provider", "cmsite"}),
        ({"id": "a", "cmdlet": "Get-CMAccount", "provider": ["cim"]}, {"provider", "cmsite"}),
        ({"id": "a", "cmdlet": "Get-CMAccount", "provider": "CIM"}, {"provider", "cmsite"}),
        # The allow-list compares cmdlet names ignoring case, and & runs the cmdlet so named.
        ({"id": "a", "cmdlet": "invoke-webrequest"}, {"web"}),
        ({"id": "a", "cmdlet": "Get-Item", "params": {"Credential": {"$secret": "x"}}}, {"secrets"}),
        # Not a valid form, but the engine with the secrets region answers it in its own words.
        ({"id": "a", "cmdlet": "Get-Item", "params": {"Path": {"$credential": "x"}}}, {"secrets"}),
        ({"id": "a", "cmdlet": "Get-Item", "params": {"Path": {"$provider": "server"}}}, set()),
    ],
)
def test_features_of_a_step(step, features):
    assert _protocol.engine_features(payload(step)) == features
    assert _protocol.engine_features(json.loads(payload(step))) == features  # the dict as well as its JSON


def test_a_payload_of_another_structure_gets_the_whole_engine():
    for forged in (
        "not json",
        "[1]",
        "NaN",
        payload({"id": "a"}),  # no cmdlet
        payload({"id": "a", "cmdlet": ["Get-Service"]}),
        payload({"id": "a", "cmdlet": "Get-Service", "params": [1]}),
        payload({"id": "a", "cmdlet": "Get-Service"}, provider=[]),
        payload({"id": "a", "cmdlet": "Get-Service"}, secrets=["x"]),
        json.dumps({"protocol": 1, "steps": {"a": 1}}),
        # A member named twice: which one JavaScriptSerializer keeps is not for the runner to guess.
        '{"protocol":1,"steps":[{"id":"a","cmdlet":"Get-CMAccount","provider":"cmsite","provider":null}]}',
    ):
        assert _protocol.engine_features(forged) == ALL, forged
    assert _protocol.engine_features(payload(secrets={})) == frozenset()


def test_build_stdin_sends_the_variant_and_round_trips():
    source = engine_source()
    for plan, provider in (
        (_tls.read_plan([]), None),
        (_hierarchy.read_plan(), Provider(server="cas.lab.example", username="LAB\\admin", password="P-1!")),
    ):
        text, _ = build_payload(plan, provider)
        engine, sent = _protocol.split_stdin(_protocol.build_stdin(source, text))
        assert sent == text
        assert engine == _protocol.minify(source, _protocol.engine_features(text))
    assert _protocol.split_stdin(_protocol.pack_stdin("a\nb", "{}")) == ("a\nb", "{}")


def test_a_registry_read_carries_no_provider_or_secrets_code():
    engine = _protocol.minify(engine_source(), features_of(_tls.read_plan([])))
    for code in ("New-CimSession", "SMS_ProviderLocation", "Import-Module", "New-PSDrive", "AppendChar", "[pscredential]", "WebException"):
        assert code not in engine, code
    for name in ("Test-LocalName", "Resolve-Provider", "Connect-CMSite", "New-SecureText", "Test-CredentialUser"):
        assert f"function {_protocol.ENGINE_FUNCTIONS[name]}" not in engine, name
    # The refusal of a value form stays: a stray secret value is an error, never data.
    assert '{"$secret": name} or {"$credential": secret, "username": name}.' in engine
    assert len(engine) < 0.75 * len(_protocol.minify(engine_source()))


def test_a_plan_with_a_credential_carries_the_secrets_code():
    plan = Plan()
    plan.add("tracing", "Get-ItemProperty", {"LiteralPath": "HKLM:\\SOFTWARE\\x"}, on_error="continue")
    plan.add(
        "web",
        "Invoke-WebRequest",
        {"Uri": "https://example.invalid/", "UseBasicParsing": True, "ProxyCredential": plan.add_credential("pw", "LAB\\p", "Pw-1!")},
    )
    plan.add("log", "Get-Content", {"LiteralPath": ref("tracing", "Property")}, on_error="continue")
    engine = _protocol.minify(engine_source(), features_of(plan))
    assert f"function {_protocol.ENGINE_FUNCTIONS['New-SecureText']}" in engine and "AppendChar" in engine
    assert "[pscredential]::new([string]$a['username']" in engine and "WebException" in engine
    assert "New-CimSession" not in engine


def test_variants_are_cached_per_source_and_features():
    source = engine_source()
    assert _protocol.minify(source, ["web", "secrets"]) is _protocol.minify(source, {"secrets", "web"})
    assert _protocol.minify(source) is _protocol.minify(source, _protocol.ENGINE_FEATURES)
    assert len({_protocol.minify(source, f) for f in _protocol.feature_sets()}) == 16
    with pytest.raises(ValueError, match="unknown engine features"):
        _protocol.minify(source, {"provider", "nosuch"})
