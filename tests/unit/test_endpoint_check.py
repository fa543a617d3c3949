"""configmgr.scp.endpoint_check: the endpoint table, classification, severity, the site system's proxy, the SCP's
own log and status messages."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _endpoints
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult


def web_error(message: str, web_status: str | None = None, http_status: int | None = None) -> dict:
    error = {
        "message": message,
        "category": "InvalidOperation",
        "exception": "System.Net.WebException",
        "fqid": "WebCmdletWebResponseException,Microsoft.PowerShell.Commands.InvokeWebRequestCommand",
    }
    if web_status:
        error["web_status"] = web_status
    if http_status is not None:
        error["http_status"] = http_status
    return error


# -- the table ------------------------------------------------------------------------------------


def test_every_documented_group_has_endpoints_and_the_forwarders_are_always_checked():
    for group in _endpoints.GROUPS:
        urls = [e.url for e in _endpoints.endpoints_for([group])]
        assert any(e.group == group for e in _endpoints.ENDPOINTS), group
        assert "https://aka.ms/" in urls and "https://go.microsoft.com/" in urls
    assert all(e.url.startswith(("https://", "http://")) and "*" not in e.url for e in _endpoints.ENDPOINTS)


def test_a_url_is_critical_in_every_group_or_in_none():
    flags: dict = {}
    for e in _endpoints.ENDPOINTS:
        flags.setdefault(e.url, set()).add(e.critical)
    assert all(len(v) == 1 for v in flags.values()), {u: v for u, v in flags.items() if len(v) > 1}


def test_critical_endpoints_agree_with_the_labs_model_of_the_scps_own_check():
    """cmlab's SCP (cmlab/model/internet.py) raises 11412 for its critical checked endpoints and 11488 for the
    required endpoints of a cloud service; both are errors here too, and its non-critical checked ones warnings."""
    from cmlab.model.internet import ENDPOINTS as LAB

    ours = {e.url: e.critical for e in _endpoints.ENDPOINTS}
    for lab_endpoint in LAB:
        if not (lab_endpoint.check or lab_endpoint.services):
            continue
        assert lab_endpoint.url in ours, lab_endpoint.url
        assert ours[lab_endpoint.url] == (lab_endpoint.critical or bool(lab_endpoint.services)), lab_endpoint.url


def test_one_request_per_url_through_the_proxy_with_a_credential_never_the_password_as_text():
    endpoints = _endpoints.endpoints_for(list(_endpoints.GROUPS))
    proxy = _endpoints.Proxy("proxy.contoso.com", 8080, "CONTOSO\\svc-proxy", "p@ss'\"w0rd")
    plan, steps = _endpoints.check_plan(endpoints, proxy, 15)
    assert len(steps) == len({e.url for e in endpoints}) == len(set(steps.values()))
    first = plan.steps[0]
    assert first.cmdlet == "Invoke-WebRequest" and first.on_error == "continue"
    assert first.params["Proxy"] == "http://proxy.contoso.com:8080" and first.params["UseBasicParsing"] is True
    assert first.params["ProxyCredential"] == {"$credential": "proxy_password", "username": "CONTOSO\\svc-proxy"}
    assert plan.secrets == {"proxy_password": "p@ss'\"w0rd"}
    assert "p@ss" not in repr([s.params for s in plan.steps])
    assert [s.id for s in plan.steps][-2:] == ["tracing", "log"]
    # An IPv6 proxy is bracketed; no account means no credential at all.
    plan, _ = _endpoints.check_plan(endpoints[:1], _endpoints.Proxy("fd00::1", 3128), 5)
    assert plan.steps[0].params["Proxy"] == "http://[fd00::1]:3128" and "ProxyCredential" not in plan.steps[0].params
    assert plan.secrets == {}


def test_the_provider_read_escapes_the_server_in_its_filters():
    plan = _endpoints.provider_plan("scp01.contoso.com", proxy=True, messages=True)
    flt = {s.id: s.params["Filter"] for s in plan.steps}
    assert flt["site_system"] == "RoleName = 'SMS Site System' AND NetworkOSPath = '\\\\\\\\scp01.contoso.com'"
    assert "(MachineName = 'scp01.contoso.com' OR MachineName = 'scp01')" in flt["messages"]
    assert "MessageID = 11488" in flt["messages"]


# -- classification -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code, probable",
    [
        (407, "proxy"),
        (408, "proxy"),
        (426, "TLS configuration"),
        (451, "proxy"),
        (502, "proxy"),
        (511, "proxy"),
        (598, "proxy"),
        (599, "proxy"),
    ],
)
def test_the_documented_http_statuses_are_failures_with_their_probable_cause(code, probable):
    reason = _endpoints.FAILURE_STATUSES[code][0]
    by_status = _endpoints.classify(False, [], web_error("localised text", "ProtocolError", code))
    by_text = _endpoints.classify(False, [], web_error(f"The remote server returned an error: ({code}) {reason}."))
    for found in (by_status, by_text):
        assert found["class"] == f"http_{code}" and found["failed"] and found["status"] == code
        assert found["probable_cause"] == probable and found["cause"].startswith(f"HTTP {code} {reason}")


@pytest.mark.parametrize(
    "message, web_status, cls, words",
    [
        ("The operation has timed out.", "Timeout", "timeout", "no answer in time"),
        ("The remote name could not be resolved: 'x.microsoft.com'", "NameResolutionFailure", "dns_failure", "DNS"),
        ("The proxy name could not be resolved: 'proxy'", "ProxyNameResolutionFailure", "dns_failure", "proxy's name"),
        (
            "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel.",
            "TrustFailure",
            "tls_failure",
            "DigiCert Global Root G2",
        ),
        (
            "The underlying connection was closed: An unexpected error occurred on a send.",
            "SendFailure",
            "tls_failure",
            "TLS 1.2 is not enabled for .NET",
        ),
        ("The request was aborted: Could not create SSL/TLS secure channel.", "SecureChannelFailure", "tls_failure", "TLS 1.2"),
        ("Unable to connect to the remote server", "ConnectFailure", "connect_failure", "refused"),
    ],
)
def test_connection_failures_by_status_and_by_english_text(message, web_status, cls, words):
    for error in (web_error("Le délai d'attente de l'opération a expiré.", web_status), web_error(message)):
        found = _endpoints.classify(False, [], error)
        assert found["class"] == cls and found["failed"] and words in found["cause"], (error, found)


def test_other_statuses_mean_the_endpoint_answered():
    for code in (401, 403, 404, 500, 503):
        found = _endpoints.classify(False, [], web_error("x", "ProtocolError", code))
        assert found["class"] == "other_status" and found["failed"] is False and found["status"] == code
    assert _endpoints.classify(False, [], web_error("The remote server returned an error: (404) Not Found."))["class"] == "other_status"


def test_success_and_unknown_failures():
    assert _endpoints.classify(True, [{"StatusCode": 200}], None) == {
        "class": "ok",
        "failed": False,
        "cause": None,
        "probable_cause": None,
        "status": 200,
        "message": None,
    }
    odd = _endpoints.classify(False, [], {"message": "Something else broke", "fqid": "X"})
    assert odd["class"] == "error" and odd["failed"] and "Something else broke" in odd["cause"]
    assert _endpoints.classify(False, [], None)["class"] == "error"


# -- severity ---------------------------------------------------------------------------------------


def row(url, failed, critical):
    return {
        "url": url,
        "failed": failed,
        "critical": critical,
        "class": "timeout" if failed else "ok",
        "cause": "c",
        "groups": ["tenant_attach"],
    }


def test_severity_as_the_scp_computes_11410_11411_11412():
    assert _endpoints.severity([row("a", False, True), row("b", False, False)]) == "ok"
    assert _endpoints.severity([row("a", False, True), row("b", True, False)]) == "warning"
    assert _endpoints.severity([row("a", True, True), row("b", True, False)]) == "error"
    assert _endpoints.severity([]) == "ok"
    assert [_endpoints.MESSAGE_OF[s] for s in ("ok", "warning", "error")] == [11410, 11411, 11412]


@pytest.mark.parametrize(
    "level, fail_on, fails",
    [
        ("ok", "warning", False),
        ("warning", "warning", True),
        ("error", "warning", True),
        ("warning", "error", False),
        ("error", "error", True),
        ("error", "never", False),
    ],
)
def test_fail_on(level, fail_on, fails):
    assert _endpoints.should_fail(level, fail_on) is fails


def test_results_are_one_row_per_url_with_all_its_groups():
    endpoints = _endpoints.endpoints_for(["updates_and_servicing", "windows_servicing", "console"])
    _, steps = _endpoints.check_plan(endpoints, None, 15)
    observed = PlanResult({sid: StepResult(sid, True, [{"StatusCode": 200}], None) for sid in steps})
    rows = {r["url"]: r for r in _endpoints.results(endpoints, steps, observed)}
    assert rows["https://download.microsoft.com/"]["groups"] == ["updates_and_servicing", "windows_servicing"]
    assert rows["https://configmgrbits.cdn.manage.microsoft.com/"]["groups"] == ["updates_and_servicing", "console"]
    summary = _endpoints.group_summary(["windows_servicing"], list(rows.values()))
    assert summary == {
        "url_forwarders": {"checked": 2, "failed": 0, "severity": "ok"},
        "windows_servicing": {"checked": 3, "failed": 0, "severity": "ok"},
    }


# -- the site system's proxy and status messages ------------------------------------------------------


def props(**values):
    return [{"PropertyName": k, "Value": v[0], "Value1": "", "Value2": v[1]} for k, v in values.items()]


def test_the_site_systems_proxy_and_its_account():
    rows = [
        {
            "SiteCode": "CAS",
            "Props": props(
                UseProxy=(1, ""), ProxyName=(0, "proxy.contoso.com"), ProxyServerPort=(8080, ""), ProxyUserName=(0, "CONTOSO\\svc-proxy")
            ),
        }
    ]
    proxy, warnings = _endpoints.site_system_proxy(rows, "secret", None)
    assert (proxy.server, proxy.port, proxy.username, proxy.password, proxy.source) == (
        "proxy.contoso.com",
        8080,
        "CONTOSO\\svc-proxy",
        "secret",
        "site_system",
    ) and warnings == []
    proxy, warnings = _endpoints.site_system_proxy(rows, None, None)
    assert proxy.password is None and "proxy_password is not given" in warnings[0]
    off = [{"SiteCode": "CAS", "Props": props(UseProxy=(0, ""))}]
    assert _endpoints.site_system_proxy(off, None, None) == (None, [])
    with pytest.raises(AnsibleActionFail, match="no site system named"):
        _endpoints.site_system_proxy([], None, None)


def test_the_latest_status_messages_by_time():
    rows = [
        {
            "RecordID": 1,
            "MessageID": 11412,
            "Severity": 3221225472,
            "Time": "2026-11-29T06:00:00.0000000+00:00",
            "MachineName": "scp01.contoso.com",
            "SiteCode": "CAS",
            "InsString1": "1",
            "InsString2": "14",
            "InsString3": "https://aka.ms/configmgrgateway",
        },
        {
            "RecordID": 2,
            "MessageID": 11410,
            "Severity": 1073741824,
            "Time": "2026-11-29T07:00:00.0000000+01:00",
            "MachineName": "scp01.contoso.com",
            "SiteCode": "CAS",
            "InsString1": "14",
        },
    ]
    found = _endpoints.latest_messages(rows)
    # 07:00+01:00 is 06:00 UTC: the same instant; the later record wins.
    assert found["endpoint_check"]["message_id"] == 11410 and found["endpoint_check"]["severity"] == "informational"
    assert found["endpoint_check"]["insertion_strings"] == ["14"]
    assert found["cloud_services"] is None


# -- the SCP's own last check -------------------------------------------------------------------------


def log_lines(*messages, component="SMS_SERVICE_CONNECTOR"):
    return [f"{m}  $$<{component}><11-29-2026 06:50:0{i % 10}.123+000><thread=1234 (0x4D2)>" for i, m in enumerate(messages)]


def scp_log(lines, tracing_ok=True):
    steps = {
        "tracing": StepResult(
            "tracing",
            tracing_ok,
            [{"TraceFilename": "C:\\SMS\\Logs\\EndpointConnectivityCheckWorker.log"}] if tracing_ok else [],
            None if tracing_ok else {"message": "Cannot find path"},
        ),
        "log": StepResult("log", True, lines, None),
    }
    return _endpoints.scp_last_check(PlanResult(steps))


def test_the_last_completed_check_of_the_scps_log():
    lines = log_lines(
        "Starting endpoint connectivity check for 3 endpoints.~~",
        "Endpoint https://aka.ms/configmgrgateway is reachable.~~",
        "Endpoint connectivity check completed: 3 checked, 0 failed (0 critical). Status message 11410.~~",
        "Starting endpoint connectivity check for 3 endpoints through proxy proxy:8080.~~",
        "Endpoint http://crl3.digicert.com/ is reachable.~~",
        "Failed to connect to critical endpoint https://aka.ms/configmgrgateway: The remote server returned an error: "
        "(407) Proxy Authentication Required. (http_407)~~",
        "Failed to connect to non-critical endpoint https://dc.services.visualstudio.com/: The operation has timed out. (timeout)~~",
        "Cloud service tenant_attach cannot reach its required endpoint https://aka.ms/configmgrgateway: The remote "
        "server returned an error: (407) Proxy Authentication Required. (http_407)~~",
        "Something new Microsoft logs~~",
        "Endpoint connectivity check completed: 3 checked, 2 failed (1 critical). Status message 11412, 11488.~~",
        "Starting endpoint connectivity check for 3 endpoints.~~",
    )  # under way: not a completed check
    last = scp_log(lines)
    assert last["found"] and not last["skipped"]
    assert (last["checked"], last["failed"], last["critical"], last["status_messages"]) == (3, 2, 1, [11412, 11488])
    assert last["time"] == "2026-11-29T06:50:09.123+00:00"
    assert last["endpoints"][0] == {"url": "http://crl3.digicert.com/", "reachable": True}
    assert last["endpoints"][1] == {
        "url": "https://aka.ms/configmgrgateway",
        "reachable": False,
        "level": "critical",
        "cloud_service": None,
        "class": "http_407",
        "message": "The remote server returned an error: (407) Proxy Authentication Required.",
    }
    assert last["endpoints"][2]["level"] == "non-critical" and last["endpoints"][3]["cloud_service"] == "tenant_attach"
    assert last["lines"] == ["Something new Microsoft logs"]


def test_a_skipped_check_no_check_and_no_scp():
    skipped = scp_log(log_lines("The service connection point is in offline mode. Endpoint connectivity check skipped.~~"))
    assert skipped["found"] and skipped["skipped"] and skipped["endpoints"] == []
    assert scp_log(log_lines("Starting endpoint connectivity check for 3 endpoints.~~"))["found"] is False
    none = scp_log([], tracing_ok=False)
    assert none["found"] is False and "not installed" in none["reason"]


def test_a_proxy_password_with_nul_is_refused_before_anything_is_sent():
    """Found by the hostile-input suite: Windows cannot hold such a password (_validation.secret)."""
    from ansible_collections.configmgr.scp.plugins.action.endpoint_check import ActionModule

    action = object.__new__(ActionModule)
    args = {
        "feature_groups": None,
        "proxy_server": "proxy.contoso.com",
        "proxy_port": 8080,
        "proxy_username": "CONTOSO\\svc-proxy",
        "proxy_password": "a\x00b",
        "use_site_system_proxy": False,
        "site_status": False,
        "site_system_server": None,
        "timeout": 15,
        "fail_on": "error",
    }
    with pytest.raises(AnsibleActionFail, match="proxy_password must not contain a NUL"):
        action.desired(args)
    assert action.desired({**args, "proxy_password": "q'u\"ote $(whoami)\n"})["proxy"].password == "q'u\"ote $(whoami)\n"
