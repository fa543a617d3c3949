"""configmgr.scp.endpoint_check against the lab over WinRM: every failure class produced by the lab's internet and
classified with its cause, the authenticating proxy with and without its account, the severity rule, the SCP's
own last check and status messages, bad input, and a proxy password that never shows."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import LAB_TOPOLOGY, RunningLab

SCP = "scp01.lab.example"
TLS_READY = {"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1}
PROXY = "proxy.lab.example"


@pytest.fixture
def ready_lab(tmp_path):
    """The lab with TLS 1.2 for .NET on scp01 since its last boot, and an authenticating proxy on the internet."""
    topology = yaml.safe_load(LAB_TOPOLOGY.read_text())
    topology["hosts"][SCP]["registry"] = {
        "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319": TLS_READY,
        "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319": TLS_READY,
    }
    topology["internet"] = {"proxies": {PROXY: {"port": 8080, "auth_required": True}}}
    path = tmp_path / "topology.yml"
    path.write_text(yaml.safe_dump(topology))
    lab = RunningLab(tmp_path / "lab", path)
    try:
        yield lab
    finally:
        lab.stop()


def internet(lab, spec: dict) -> None:
    lab._control("POST", "/internet", spec)


def check(lab, name: str, args: dict, host: str = SCP, *flags: str, delegate: bool = True):
    task = {"name": name, "configmgr.scp.endpoint_check": args}
    if delegate:
        task["delegate_to"] = host
    book = lab.write_playbook(
        f"{name}.yml", json.dumps([{"hosts": "sms_provider" if delegate else host, "gather_facts": False, "tasks": [task]}])
    )
    return lab.playbook(book, *flags)


def by_url(result: dict) -> dict:
    return {e["url"]: e for e in result["endpoints"]}


# Each class the SCP's check knows, produced by the lab's internet on an endpoint of its own.
OUTCOMES = {
    "download.windowsupdate.com": ("timeout", "timeout", "no answer in time"),
    "definitionupdates.microsoft.com": ("dns_failure", "dns_failure", "could not be resolved by the SCP server's DNS"),
    "download.visualstudio.microsoft.com": ("tls_failure", "tls_failure", "certificate chain is not trusted"),
    "dl.delivery.mp.microsoft.com": ("connect_failure", "connect_failure", "refused"),
    "weus2watcab01.blob.core.windows.net": (408, "http_408", "HTTP 408 Request Timeout"),
    "weus2watcab02.blob.core.windows.net": (426, "http_426", "HTTP 426 Upgrade Required: the endpoint requires a newer TLS"),
    "cmbitsstore.blob.core.windows.net": (451, "http_451", "HTTP 451 Unavailable For Legal Reasons"),
    "ceuswatcab01.blob.core.windows.net": (502, "http_502", "HTTP 502 Bad Gateway"),
    "ceuswatcab02.blob.core.windows.net": (511, "http_511", "HTTP 511 Network Authentication Required"),
    "eaus2watcab01.blob.core.windows.net": (598, "http_598", "network read timeout"),
    "eaus2watcab02.blob.core.windows.net": (599, "http_599", "network connect timeout"),
    "umwatsonc.events.data.microsoft.com": (404, "other_status", "the endpoint answered: it is reachable"),
}
PROBABLE = {
    "http_426": "TLS configuration",
    "http_408": "proxy",
    "http_451": "proxy",
    "http_502": "proxy",
    "http_511": "proxy",
    "http_598": "proxy",
    "http_599": "proxy",
    "dns_failure": "DNS",
    "tls_failure": "TLS configuration",
}


def test_every_failure_class_is_classified_with_its_cause(ready_lab):
    lab = ready_lab
    internet(lab, {"endpoints": {host: outcome for host, (outcome, _, _) in OUTCOMES.items()}})
    run = check(lab, "classes", {"feature_groups": ["updates_and_servicing", "windows_servicing"]})
    assert run.rc == 0, run.stdout
    result = run.task("classes")["result"]
    rows = by_url(result)
    for host, (_, cls, cause) in OUTCOMES.items():
        row = next(r for url, r in rows.items() if f"//{host}/" in url)
        assert row["class"] == cls, (host, row)
        assert cause in row["cause"], (host, row["cause"])
        assert row["failed"] is (cls != "other_status")
        if cls in PROBABLE:
            assert row["probable_cause"] == PROBABLE[cls], row
    # Every failing endpoint here is non-critical: a warning, as 11411; the critical ones are reachable.
    assert rows["https://configmgrbits.cdn.manage.microsoft.com/"]["class"] == "ok"
    assert rows["https://aka.ms/"]["status"] == 200
    assert result["severity"] == "warning" and result["status_message_equivalent"] == 11411
    assert result["groups"]["windows_servicing"] == {"checked": 3, "failed": 1, "severity": "warning"}
    assert len(result["failed_endpoints"]) == len(OUTCOMES) - 1

    # A critical endpoint fails: an error, as 11412; with fail_on error (the default) the task fails, with the
    # findings in the result.
    internet(lab, {"endpoints": {"configmgrbits.cdn.manage.microsoft.com": "timeout"}})
    run = check(lab, "critical", {"feature_groups": ["console"]})
    failed = run.task("critical")
    assert failed["status"] == "failed"
    assert failed["result"]["severity"] == "error" and failed["result"]["status_message_equivalent"] == 11412
    assert "https://configmgrbits.cdn.manage.microsoft.com/ (critical): timeout" in failed["result"]["msg"]
    assert check(lab, "never", {"feature_groups": ["console"], "fail_on": "never"}).task("never")["status"] == "ok"
    warn = check(lab, "warn", {"feature_groups": ["windows_servicing"], "fail_on": "warning"}).task("warn")
    assert warn["status"] == "failed" and warn["result"]["severity"] == "warning"


def test_a_missing_root_and_tls_off_are_tls_failures_with_their_causes(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    # The default lab: TLS 1.2 is not on for .NET on scp01 yet.
    result = check(lab, "tls", {"feature_groups": ["tenant_attach"], "fail_on": "never"}).task("tls")["result"]
    rows = by_url(result)
    gateway = rows["https://aka.ms/configmgrgateway"]
    assert gateway["class"] == "tls_failure" and "TLS 1.2 is not enabled for .NET" in gateway["cause"]
    assert rows["http://crl3.digicert.com/"]["class"] == "ok"  # plain http has no TLS to fail
    assert result["severity"] == "error"


def test_an_authenticating_proxy_answers_407_without_the_account_and_lets_the_account_through(ready_lab):
    lab = ready_lab
    internet(lab, {"proxy_required": True})
    direct = check(lab, "direct", {"feature_groups": ["tenant_attach"], "fail_on": "never"}).task("direct")["result"]
    assert by_url(direct)["https://aka.ms/configmgrgateway"]["class"] == "timeout"  # egress only through the proxy

    no_account = check(
        lab, "anon", {"feature_groups": ["tenant_attach"], "fail_on": "never", "proxy_server": PROXY, "proxy_port": 8080}
    ).task("anon")["result"]
    row = by_url(no_account)["https://aka.ms/configmgrgateway"]
    assert row["class"] == "http_407" and row["probable_cause"] == "proxy" and "proxy_username and proxy_password" in row["cause"]
    assert no_account["proxy"] == {"server": PROXY, "port": 8080, "username": None, "authenticated": False, "source": "options"}

    password = (lab.state_dir / "password").read_text().strip()
    with_account = {
        "feature_groups": ["tenant_attach"],
        "proxy_server": PROXY,
        "proxy_port": 8080,
        "proxy_username": "LAB\\svc-cmproxy",
        "proxy_password": password,
    }
    run = check(lab, "account", with_account, SCP, "-vvvvv")
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task("account")["result"]
    assert result["severity"] == "ok" and result["failed_endpoints"] == []
    assert {r["class"] for r in result["endpoints"]} == {"ok"}
    assert result["proxy"]["authenticated"] is True and result["proxy"]["username"] == "LAB\\svc-cmproxy"
    # The password never shows: not in the result, not in the output at -vvvvv.
    assert password not in run.stdout and password not in run.stderr and password not in json.dumps(run.results)

    wrong = "Wr0ng-'\"$(whoami)`n-\u00e9-pass"
    run = check(lab, "wrong", {**with_account, "proxy_password": wrong, "fail_on": "never"}, SCP, "-vvvvv", "--diff")
    result = run.task("wrong")["result"]
    assert by_url(result)["https://aka.ms/configmgrgateway"]["class"] == "http_407"
    assert "Wr0ng" not in run.stdout and "Wr0ng" not in run.stderr and "Wr0ng" not in json.dumps(run.results)


def test_the_site_systems_proxy_comes_from_the_sms_provider(ready_lab):
    lab = ready_lab
    internet(lab, {"proxy_required": True})
    password = (lab.state_dir / "password").read_text().strip()
    site_system = lab.write_playbook(
        "ss.yml",
        json.dumps(
            [
                {
                    "hosts": "sms_provider",
                    "gather_facts": False,
                    "tasks": [
                        {"name": "account", "configmgr.scp.cm_account": {"name": "LAB\\svc-cmproxy", "password": password}, "no_log": True},
                        {
                            "name": "ss",
                            "configmgr.scp.site_system_server": {
                                "site_system_server": SCP,
                                "site_code": "CAS",
                                "enable_proxy": True,
                                "proxy_server": PROXY,
                                "proxy_port": 8080,
                                "proxy_account": "LAB\\svc-cmproxy",
                                "use_site_server_account": True,
                            },
                        },
                    ],
                }
            ]
        ),
    )
    assert lab.playbook(site_system).rc == 0
    provider = {"provider_server": "cas.lab.example", "provider_username": "LAB\\cmadmin", "provider_password": password}
    lab.reset_counters()
    run = check(
        lab,
        "fromsite",
        {
            "feature_groups": ["tenant_attach"],
            "use_site_system_proxy": True,
            "site_system_server": SCP,
            "proxy_password": password,
            **provider,
        },
    )
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task("fromsite")["result"]
    assert result["proxy"] == {
        "server": PROXY,
        "port": 8080,
        "username": "LAB\\svc-cmproxy",
        "authenticated": True,
        "source": "site_system",
    }
    assert result["severity"] == "ok"
    assert lab.counters()[SCP]["engine_invocations"] == 2  # the provider, then every endpoint at once

    # Without the password: the account is known, the password is not; the check says so and gets 407.
    run = check(
        lab,
        "nopass",
        {"feature_groups": ["tenant_attach"], "use_site_system_proxy": True, "site_system_server": SCP, "fail_on": "never", **provider},
    )
    result = run.task("nopass")["result"]
    assert by_url(result)["https://aka.ms/configmgrgateway"]["class"] == "http_407"
    assert any("proxy_password is not given" in w for w in result["warnings"])


def test_the_scps_own_last_check_and_status_messages_are_returned_beside_the_findings(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    # The lab's leftover SCP on ps1 checks its endpoints (tenant attach) and fails: no TLS 1.2 for .NET there.
    run = check(
        lab,
        "own",
        {"feature_groups": ["tenant_attach"], "fail_on": "never", "site_status": True, "site_system_server": "ps1.lab.example"},
        "ps1.lab.example",
        delegate=False,
    )
    assert run.rc == 0, run.stdout[-3000:]
    result = run.task("own")["result"]
    last = result["scp_last_check"]
    assert last["found"] is True and last["skipped"] is False and last["log"].endswith("EndpointConnectivityCheckWorker.log")
    assert last["status_messages"] == [11412, 11488] and last["checked"] == 12 and last["critical"] == 2
    gateway = next(e for e in last["endpoints"] if e["url"] == "https://aka.ms/configmgrgateway")
    assert gateway["reachable"] is False and gateway["level"] == "critical" and gateway["class"] == "send_failure"
    messages = result["site_status_messages"]
    assert messages["endpoint_check"]["message_id"] == 11412 and messages["endpoint_check"]["severity"] == "error"
    assert messages["endpoint_check"]["machine"] == "ps1.lab.example"
    assert messages["cloud_services"]["message_id"] == 11488
    # The module's own findings agree with the SCP's: the same endpoints fail, and both say error.
    own_failed = {e["url"] for e in last["endpoints"] if not e["reachable"]}
    assert own_failed <= set(result["failed_endpoints"]) and result["severity"] == "error"

    # On scp01 the SCP is not installed: no log, said so; an unreachable provider is a warning, not a failure.
    run = check(lab, "none", {"feature_groups": ["tenant_attach"], "fail_on": "never", "site_status": True, "site_system_server": SCP})
    result = run.task("none")["result"]
    assert result["scp_last_check"]["found"] is False and "not installed" in result["scp_last_check"]["reason"]
    assert result["site_status_messages"] is None
    assert any("site_status: the SMS Provider could not be read" in w for w in result["warnings"])


BAD = [
    ({"proxy_username": "LAB\\svc-cmproxy", "proxy_server": PROXY}, "proxy_username needs proxy_password"),
    ({"proxy_password": "a-long-password"}, "need proxy_server"),
    ({"proxy_server": "proxy host"}, "proxy_server must be an FQDN"),
    ({"proxy_server": PROXY, "proxy_port": 70000}, "proxy_port must be a port number"),
    ({"proxy_server": PROXY, "proxy_username": "svc-cmproxy", "proxy_password": "a-long-password"}, "DOMAIN\\user"),
    ({"proxy_server": PROXY, "proxy_username": "LAB\\svc", "proxy_password": ""}, "proxy_password must not be empty"),
    ({"proxy_server": PROXY, "use_site_system_proxy": True}, "mutually exclusive"),
    ({"site_status": True}, "need site_system_server"),
    ({"site_status": True, "site_system_server": "scp01"}, "site_system_server must be the fully qualified"),
    ({"feature_groups": ["desktop_analytics"]}, "feature_groups"),
    ({"timeout": 0}, "timeout must be between 1 and 300"),
    ({"fail_on": "sometimes"}, "fail_on"),
    # Hostile values of the string options: refused as data, before anything is sent.
    ({"proxy_server": "proxy.lab.example:8080@127.0.0.1"}, "proxy_server must be an FQDN"),
    ({"proxy_server": "http://proxy.lab.example"}, "proxy_server must be an FQDN"),
    ({"proxy_server": "$(whoami)"}, "proxy_server must be an FQDN"),
    ({"proxy_server": PROXY, "proxy_username": "LAB\\x'; whoami #", "proxy_password": "a-long-password"}, "DOMAIN\\user"),
    ({"site_status": True, "site_system_server": "scp01.lab.example' OR '1'='1"}, "site_system_server must be"),
    ({"site_status": True, "site_system_server": "scp01.lab.example\n"}, "site_system_server must be"),
]


def test_bad_input_fails_before_any_winrm_request(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    lab.reset_counters()
    for args, words in BAD:
        result = check(lab, "bad", args).task("bad")
        assert result["status"] == "failed" and words in result["result"]["msg"], (args, result["result"]["msg"])
    assert lab.requests_total() == 0
