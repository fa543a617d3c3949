"""The SCP at work: the pending mode change (docs/configmgr-behaviour.md#scp-mode, #sms-executive-threads),
the endpoint connectivity check and its status messages (docs/configmgr-behaviour.md#internet-endpoints,
#status-messages), TLS 1.2 and root certificates (#tls-prerequisites), the DMP downloader and uploader,
proxies, the console notification (#console-notifications), and Invoke-WebRequest."""

from __future__ import annotations

import pytest
from configmgr_harness import MESSAGE, ConfigMgrLab, default_topology

from cmlab.model.certificates import stand_in_pem
from cmlab.model.internet import ENDPOINTS, MSG_SEND, MSG_TIMEOUT, MSG_TLS, WEB_EXCEPTION_STATUS
from cmlab.model.netsettings import TLS12_CLIENT_KEY
from tests.fixtures import step

PS1 = "ps1.lab.example"
DMP_KEY = r"HKLM:\SOFTWARE\Microsoft\SMS\COMPONENTS\SMS_DMP_DOWNLOADER"
THREADS = r"HKLM:\SOFTWARE\Microsoft\SMS\Components\SMS_EXECUTIVE\Threads"
CHECKED = [e for e in ENDPOINTS if e.check]  # tenant attach: what the 2010 check validates
TENANT_REQUIRED = [e for e in ENDPOINTS if "tenant_attach" in e.services]
ROOT_STORE = "Cert:\\LocalMachine\\Root"


@pytest.fixture
def lab() -> ConfigMgrLab:
    lab = ConfigMgrLab()
    lab.enable_tls12(PS1)
    return lab


def connector_messages(lab: ConfigMgrLab) -> list[dict]:
    return lab.ok(step("m", "Get-CMSiteStatusMessage", MESSAGE, Component="SMS_SERVICE_CONNECTOR", MessageId=[11410, 11411, 11412, 11488]))[
        "m"
    ]


def check(lab: ConfigMgrLab, host: str = PS1) -> tuple[list[int], list[str]]:
    """Restart SMS_SERVICE_CONNECTOR (it checks when it starts): the new message ids and log lines."""
    before_messages = len(connector_messages(lab))
    before_log = len(lab.tracing_log(host, "SMS_SERVICE_CONNECTOR"))
    lab.restart_thread(host, "SMS_SERVICE_CONNECTOR")
    new = connector_messages(lab)[before_messages:]
    return [m["MessageID"] for m in new], lab.tracing_log(host, "SMS_SERVICE_CONNECTOR")[before_log:]


def connector_status(lab: ConfigMgrLab, server: str = PS1) -> int:
    rows = lab.summarizer(f"ComponentName='SMS_SERVICE_CONNECTOR' AND MachineName='{server}'")
    assert len(rows) == 1
    return rows[0]["Status"]


# A fresh server: the story `make demo` fixes ----------------------------------------------------------


def test_an_scp_on_a_fresh_server_is_critical_until_tls_1_2_is_set_and_the_server_restarted():
    lab = ConfigMgrLab()  # ps1 as installed: no TLS values for .NET
    runtime = lab.runtime(PS1)
    assert runtime["last_connectivity_check"]["message_ids"] == [11412, 11488]
    assert runtime["last_sync"] == {"ok": False, "error": "send_failure", "url": "https://go.microsoft.com/fwlink/?LinkId=2309745"}
    assert connector_status(lab) == 2
    log = lab.tracing_log(PS1, "SMS_SERVICE_CONNECTOR")
    assert any("critical endpoint https://aka.ms/configmgrgateway: " + MSG_SEND + " (send_failure)" in line for line in log)
    dmp = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert f"WARNING: Failed to download easy setup payload with exception: {MSG_SEND}~~" in dmp[-2]
    registry = lab.model.host(PS1).registry
    assert registry.get_value(DMP_KEY, "LastSyncedTime") is None
    assert registry.get_value(DMP_KEY, "LastSyncRequestTime") == int(lab.model.clock.now())

    lab.set_tls12(PS1)  # both views, as Microsoft's TLS page asks
    assert check(lab)[0] == [11412, 11488]  # "requires a restart": a running service sees nothing new
    assert lab.model.host(PS1).net.pending_reboot()
    lab.reboot(PS1)
    runtime = lab.runtime(PS1)
    assert runtime["last_connectivity_check"] == {"message_ids": [11410], "failed": {}}
    assert runtime["last_sync"] == {"ok": True}
    assert connector_status(lab) == 0
    assert registry.get_value(DMP_KEY, "LastSyncedTime") == int(lab.model.clock.now())


# The mode change ---------------------------------------------------------------------------------


def test_a_mode_change_waits_for_sms_dmp_downloader_to_restart(lab):
    assert (lab.runtime(PS1)["configured_mode"], lab.runtime(PS1)["effective_mode"]) == ("Online", "Online")
    out = lab.ok(
        step(
            "set",
            "Set-CMServiceConnectionPoint",
            {"Props": {"PropertyName": None, "Value": None}},
            SiteSystemServerName=PS1,
            SiteCode="PS1",
            Mode="Offline",
            PassThru=True,
        )
    )
    assert out["set"][0]["Props"] == [{"PropertyName": "OfflineMode", "Value": 1}]  # configured at once
    assert (lab.runtime(PS1)["configured_mode"], lab.runtime(PS1)["effective_mode"]) == ("Offline", "Online")
    reg = lab.ok(step("r", "Get-ItemProperty", {"OfflineMode": None}, LiteralPath=[DMP_KEY]), host=PS1)["r"]
    assert reg == [{"OfflineMode": 0}]

    lab.advance(3600)  # time alone changes nothing
    assert lab.runtime(PS1)["effective_mode"] == "Online"

    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    assert lab.runtime(PS1)["effective_mode"] == "Offline"
    assert lab.model.host(PS1).registry.get_value(DMP_KEY, "OfflineMode") == 1
    log = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert any("SMS_DMP_DOWNLOADER started. Service connection point mode: Offline~~" in line for line in log[-3:])


def test_an_sms_executive_restart_also_applies_the_mode(lab):
    lab.ok(step("set", "Set-CMServiceConnectionPoint", SiteSystemServerName=PS1, SiteCode="PS1", Mode="Offline"))
    with lab.model.lock:
        lab.model.host(PS1).executive.service_restarted()
    assert lab.runtime(PS1)["effective_mode"] == "Offline"
    assert lab.runtime(PS1)["last_connectivity_check"] == {"skipped": "offline"}  # an offline SCP does not check
    assert lab.runtime(PS1)["last_upload"] == {"skipped": "offline"}


# The endpoint connectivity check ----------------------------------------------------------------------


def test_all_endpoints_reachable_is_11410_informational(lab):
    ids, log = check(lab)
    assert ids == [11410]
    assert connector_messages(lab)[-1] == {
        "Component": "SMS_SERVICE_CONNECTOR",
        "MachineName": PS1,
        "MessageID": 11410,
        "Severity": 0x40000000,
        "SiteCode": "PS1",
    }
    targets = len({*CHECKED, *TENANT_REQUIRED})
    assert sum(line.startswith("Endpoint ") and " is reachable.~~" in line for line in log) == targets
    assert log[-1].startswith(
        f"Endpoint connectivity check completed: {targets} checked, 0 failed (0 critical). "
        "Status message 11410.~~  $$<SMS_SERVICE_CONNECTOR><"
    )
    assert connector_status(lab) == 0


@pytest.mark.parametrize("host", ["dc.services.visualstudio.com", "crl3.digicert.com", "www.microsoft.com"])
def test_a_non_critical_failure_is_11411_warning(lab, host):
    lab.model.internet.configure({"endpoints": {host: 502}})
    ids, log = check(lab)
    assert ids == [11411]
    assert any("Failed to connect to non-critical endpoint http" in line and host in line and "(http_502)" in line for line in log)
    assert connector_status(lab) == 1


def test_a_critical_tenant_attach_failure_is_11412_and_11488(lab):
    lab.model.internet.configure(
        {"endpoints": {"us.gateway.configmgr.manage.microsoft.com": 408, "dc.services.visualstudio.com": "timeout"}}
    )
    ids, log = check(lab)
    assert ids == [11412, 11488]
    assert connector_messages(lab)[-2]["Severity"] == 0xC0000000 and connector_messages(lab)[-1]["Severity"] == 0xC0000000
    assert any(
        "Cloud service tenant_attach cannot reach its required endpoint "
        "https://us.gateway.configmgr.manage.microsoft.com/api/gateway: The remote server returned an error: "
        "(408) Request Timeout. (http_408)~~" in line
        for line in log
    )
    assert lab.runtime(PS1)["last_connectivity_check"]["failed"] == {
        "dc.services.visualstudio.com": "timeout",
        "us.gateway.configmgr.manage.microsoft.com": "http_408",
    }
    assert connector_status(lab) == 2


def test_a_failing_azure_services_endpoint_is_11488_alone(lab):
    lab.hierarchy.cloud_services.add("azure_services")
    lab.model.internet.configure({"endpoints": {"management.azure.com": 502}})
    ids, log = check(lab)
    assert ids == [11410, 11488]  # the tenant attach check passed; a cloud service cannot connect
    assert connector_status(lab) == 2
    assert any("Cloud service azure_services cannot reach its required endpoint https://management.azure.com/" in line for line in log)


def test_without_a_cloud_connected_service_nothing_is_checked():
    data = default_topology()
    data["hierarchies"]["lab"]["cloud_services"] = []
    lab = ConfigMgrLab(data=data)
    assert lab.runtime(PS1)["last_connectivity_check"] == {"skipped": "no cloud-connected service"}
    assert connector_messages(lab) == [] and connector_status(lab) == 0
    assert lab.tracing_log(PS1, "SMS_SERVICE_CONNECTOR")[-1].startswith(
        "No cloud-connected service needs the endpoint connectivity check. Skipped.~~"
    )


@pytest.mark.parametrize(
    ("version", "build", "ids"),
    [
        ("5.00.9012.1000", 9012, [11412, 11488][1:]),  # 2006: before the 2010 check, after 11488 (2002)
        ("5.00.8913.1000", 8913, []),  # 1910: neither
    ],
)
def test_the_checks_follow_the_sites_version(version, build, ids):
    data = default_topology()
    for site in data["hierarchies"]["lab"]["sites"].values():
        site.update({"version": version, "build_number": build})
    lab = ConfigMgrLab(data=data)  # no TLS on ps1: everything fails
    runtime = lab.runtime(PS1)
    if ids:
        assert runtime["last_connectivity_check"]["message_ids"] == ids
    else:
        assert runtime["last_connectivity_check"] == {"skipped": "no cloud-connected service"}


def test_the_check_repeats_on_its_schedule_while_the_connector_runs(lab):
    count = len(connector_messages(lab))
    lab.advance(lab.timing.connectivity_check_interval)
    assert len(connector_messages(lab)) == count + 1
    lab.model.host(PS1).registry.set_value(rf"{THREADS}\SMS_SERVICE_CONNECTOR", "Requested Operation", "Stop")
    lab.advance(10)
    lab.advance(lab.timing.connectivity_check_interval)
    assert len(connector_messages(lab)) == count + 1  # a stopped connector checks nothing


# Every failure class, as the check logs it and Invoke-WebRequest reports it --------------------------------

FAILURES = [
    ("dns_failure", "dns_failure", "The remote name could not be resolved: 'aka.ms'"),
    ("timeout", "timeout", MSG_TIMEOUT),
    ("connect_failure", "connect_failure", "Unable to connect to the remote server"),
    ("tls_failure", "tls_failure", MSG_TLS),
    (407, "http_407", "The remote server returned an error: (407) Proxy Authentication Required."),
    (408, "http_408", "The remote server returned an error: (408) Request Timeout."),
    (426, "http_426", "The remote server returned an error: (426) Upgrade Required."),
    (451, "http_451", "The remote server returned an error: (451) Unavailable For Legal Reasons."),
    (502, "http_502", "The remote server returned an error: (502) Bad Gateway."),
    (511, "http_511", "The remote server returned an error: (511) Network Authentication Required."),
    (598, "http_598", "The remote server returned an error: (598) Network read timeout error."),
    (599, "http_599", "The remote server returned an error: (599) Network connect timeout error."),
    (403, "http_403", "The remote server returned an error: (403) Forbidden."),
    (500, "http_500", "The remote server returned an error: (500) Internal Server Error."),
    (418, "http_418", "The remote server returned an error: (418)."),
]


@pytest.mark.parametrize(("outcome", "kind", "message"), FAILURES)
def test_each_failure_class_in_the_check_and_in_invoke_webrequest(lab, outcome, kind, message):
    lab.model.internet.configure({"endpoints": {"aka.ms": outcome}})
    ids, log = check(lab)
    assert ids == [11412, 11488]
    assert any(f"critical endpoint https://aka.ms/configmgrgateway: {message} ({kind})~~" in line for line in log)
    result = web(lab, Uri="https://aka.ms/configmgrgateway", UseBasicParsing=True, TimeoutSec=10)
    # The engine adds the WebException's Status, and the HTTP status of an answer (docs/engine-protocol.md 3).
    status = (
        {"web_status": "ProtocolError", "http_status": outcome} if isinstance(outcome, int) else {"web_status": WEB_EXCEPTION_STATUS[kind]}
    )
    assert result["error"] == {
        "message": message,
        "category": "InvalidOperation",
        "fqid": "WebCmdletWebResponseException,Microsoft.PowerShell.Commands.InvokeWebRequestCommand",
        "exception": "System.Net.WebException",
        **status,
    }


# Proxy -----------------------------------------------------------------------------------------------


def test_the_scp_uses_its_site_systems_proxy_and_proxy_account(lab):
    lab.model.internet.configure({"proxy_required": True, "proxies": {"proxy.lab.example": {"port": 8080, "auth_required": True}}})
    ids, log = check(lab)
    assert ids == [11412, 11488]
    assert any(MSG_TIMEOUT in line for line in log)  # no proxy: egress dropped

    lab.ok(
        step("acct", "New-CMAccount", SiteCode="PS1", UserName="LAB\\svc-cmproxy", Password={"$secret": "pw"}),
        step(
            "proxy",
            "Set-CMSiteSystemServer",
            SiteSystemServerName=PS1,
            SiteCode="PS1",
            EnableProxy=True,
            ProxyServerName="proxy.lab.example",
            ProxyServerPort=8080,
        ),
    )
    ids, log = check(lab)
    assert ids == [11412, 11488]  # anonymous: 407 from the proxy
    assert any("(407) Proxy Authentication Required" in line for line in log)

    lab.ok(
        step("acct", "Get-CMAccount", SiteCode="PS1", UserName="LAB\\svc-cmproxy"),
        step(
            "proxy",
            "Set-CMSiteSystemServer",
            SiteSystemServerName=PS1,
            SiteCode="PS1",
            EnableProxy=True,
            ProxyServerName="proxy.lab.example",
            ProxyServerPort=8080,
            ProxyAccessAccount={"$ref": "acct"},
        ),
    )
    ids, log = check(lab)
    assert ids == [11410]
    assert "through proxy proxy.lab.example:8080" in log[0]
    lab.model.internet.configure({"endpoints": {"aka.ms": "dns_failure"}})
    ids, log = check(lab)  # the proxy resolves names: 502 from it
    assert ids == [11412, 11488] and any("(502) Bad Gateway. (http_502)" in line for line in log)


# TLS: per process, SCHANNEL and root certificates ---------------------------------------------------------


def web(lab: ConfigMgrLab, host: str = PS1, **params) -> dict:
    doc = lab.run(step("w", "Invoke-WebRequest", {"StatusCode": None}, **params), host=host)
    return doc["steps"][0]


def test_schannel_tls_1_2_disabled_affects_new_processes_at_once_and_sms_executive_when_it_restarts(lab):
    registry = lab.model.host(PS1).registry
    registry.set_value(TLS12_CLIENT_KEY, "Enabled", 0, "DWord")
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True)["error"]["message"] == MSG_SEND
    assert check(lab)[0] == [11410]  # SMS_EXECUTIVE still has its old view
    with lab.model.lock:
        lab.model.host(PS1).executive.service_restarted()
    assert lab.runtime(PS1)["last_connectivity_check"]["message_ids"] == [11412, 11488]
    registry.set_value(TLS12_CLIENT_KEY, "Enabled", 1, "DWord")
    registry.set_value(TLS12_CLIENT_KEY, "DisabledByDefault", 1, "DWord")
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True)["error"]["message"] == MSG_SEND
    registry.set_value(TLS12_CLIENT_KEY, "DisabledByDefault", 0, "DWord")
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True)["output"] == [{"StatusCode": 200}]
    assert web(lab, Uri="http://crl3.digicert.com/", UseBasicParsing=True)["output"] == [{"StatusCode": 200}]


def roots_topology(missing=(), expired=()) -> dict:
    data = default_topology()
    ps1 = data["hosts"]["ps1.lab.example"]
    ps1["registry"] = {
        r"HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319": {"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1},
        r"HKLM:\SOFTWARE\WOW6432Node\Microsoft\.NETFramework\v4.0.30319": {"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1},
    }
    ps1["root_certificates"] = {"missing": list(missing), "expired": list(expired)}
    ps1["certificate_files"] = {r"C:\Certs\DigiCertGlobalRootG2.crt": "DigiCert Global Root G2"}
    return data


@pytest.mark.parametrize(
    ("variant", "state"), [({"missing": ["DigiCert Global Root G2"]}, "missing"), ({"expired": ["DigiCert Global Root G2"]}, "expired")]
)
def test_a_missing_or_expired_root_is_a_trust_failure_until_the_root_is_installed(variant, state):
    lab = ConfigMgrLab(data=roots_topology(**variant))
    assert lab.runtime(PS1)["last_connectivity_check"]["message_ids"] == [11412, 11488]
    assert lab.runtime(PS1)["last_connectivity_check"]["failed"]["aka.ms"] == "tls_failure"
    assert web(lab, Uri="https://go.microsoft.com", UseBasicParsing=True)["error"]["message"] == MSG_TLS
    assert web(lab, Uri="http://crl3.digicert.com/", UseBasicParsing=True)["output"] == [{"StatusCode": 200}]
    roots = lab.ok(step("r", "Get-ChildItem", {"Subject": None, "NotAfter": None}, Path=ROOT_STORE), host=PS1)["r"]
    g2 = [r for r in roots if r["Subject"].startswith("CN=DigiCert Global Root G2")]
    assert (g2 == []) if state == "missing" else (g2[0]["NotAfter"].startswith("2024-01-15"))
    assert lab.model.dump()["hosts"][PS1]["certificates"]["LocalMachine\\Root"]  # the store in the state dump

    out = lab.ok(
        step("i", "Import-Certificate", {"Subject": None}, FilePath=r"C:\Certs\DigiCertGlobalRootG2.crt", CertStoreLocation=ROOT_STORE),
        host=PS1,
    )["i"]
    assert out == [{"Subject": "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US"}]
    assert web(lab, Uri="https://go.microsoft.com", UseBasicParsing=True)["output"] == [{"StatusCode": 200}]
    assert check(lab)[0] == [11410]  # no restart needed for a root


def test_import_certificate_errors():
    lab = ConfigMgrLab(data=roots_topology())
    missing = lab.run(step("i", "Import-Certificate", FilePath=r"C:\Certs\none.crt", CertStoreLocation=ROOT_STORE), host=PS1)["steps"][0][
        "error"
    ]
    assert missing["message"] == "The system cannot find the file specified. 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)"
    lab.model.host(PS1).add_file(r"C:\Certs\junk.crt", "not a certificate")
    junk = lab.run(step("i", "Import-Certificate", FilePath=r"C:\Certs\junk.crt", CertStoreLocation=ROOT_STORE), host=PS1)["steps"][0][
        "error"
    ]
    assert junk["message"] == "Cannot find the requested object. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)"
    lab.model.host(PS1).add_file(r"C:\Certs\g2.pem", stand_in_pem("DigiCert Global Root G2"))
    what_if = lab.ok(step("i", "Import-Certificate", FilePath=r"C:\Certs\g2.pem", CertStoreLocation=ROOT_STORE, WhatIf=True), host=PS1)
    assert what_if == {"i": []}


def test_the_cert_drive():
    lab = ConfigMgrLab()
    stores = lab.ok(step("s", "Get-ChildItem", {"Name": None}, Path="Cert:\\LocalMachine"), host=PS1)["s"]
    assert {"Root", "CA", "My"} <= {s["Name"] for s in stores}
    one = lab.ok(
        step(
            "c",
            "Get-Item",
            {"Thumbprint": None, "FriendlyName": None, "NotAfter": None},
            Path="Cert:\\LocalMachine\\Root\\D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
        ),
        host=PS1,
    )["c"]
    assert one == [
        {
            "Thumbprint": "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
            "FriendlyName": "Baltimore CyberTrust Root",
            "NotAfter": "2025-05-12T23:59:00.0000000+00:00",
        }
    ]  # retired and expired (Azure CA details)
    assert lab.ok(step("t", "Test-Path", Path="Cert:\\LocalMachine\\Root\\0000"), host=PS1)["t"] == [False]
    nothing = lab.run(step("c", "Get-Item", Path="Cert:\\LocalMachine\\Root\\0000"), host=PS1)["steps"][0]["error"]
    assert nothing["message"] == "Cannot find path 'Cert:\\LocalMachine\\Root\\0000' because it does not exist."


# Console notification ----------------------------------------------------------------------------------------

ALERT = {"AlertState": None, "Name": None, "TypeInstanceID": None, "Severity": None, "ClosedBy": None}


def alerts(lab: ConfigMgrLab) -> list[dict]:
    return lab.ok(
        step("a", "Get-CimInstance", ALERT, Namespace="root\\SMS\\site_CAS", ClassName="SMS_Alert", Filter=f"TypeInstanceID = '{PS1}'")
    )["a"]


def test_a_microsoft_configuration_change_asks_to_restart_sms_executive_until_it_restarts(lab):
    assert alerts(lab) == []
    lab.model.internet.configure({"service_configuration_change": True})
    raised = alerts(lab)
    assert len(raised) == 1 and raised[0]["AlertState"] == 0 and raised[0]["Severity"] == 2
    assert "Restart the SMS_EXECUTIVE service on the service connection point server ps1.lab.example" in raised[0]["Name"]
    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")  # a thread restart is not enough
    assert alerts(lab)[0]["AlertState"] == 0
    with lab.model.lock:
        lab.model.host(PS1).executive.service_restarted()
    assert alerts(lab)[0]["AlertState"] == 2 and alerts(lab)[0]["ClosedBy"] == "SYSTEM"
    assert lab.dump()["console_notifications"][0]["state"] == "canceled"
    lab.model.internet.configure({"service_configuration_change": True})  # raised again
    assert alerts(lab)[0]["AlertState"] == 0


def test_an_offline_scp_gets_no_notification(lab):
    lab.ok(step("set", "Set-CMServiceConnectionPoint", SiteSystemServerName=PS1, SiteCode="PS1", Mode="Offline"))
    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    lab.model.internet.configure({"service_configuration_change": True})
    assert alerts(lab) == []


# SMS_DMP_DOWNLOADER, SMS_DMP_UPLOADER -------------------------------------------------------------------------


def test_an_online_downloader_syncs_the_manifest(lab):
    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    log = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert any("Easysetup fwlink to download the manifest: https://go.microsoft.com/fwlink/?LinkId=2309745~~" in line for line in log)
    assert log[-1].startswith("Successfully Dropped the state message 0~~  $$<SMS_DMP_DOWNLOADER><")
    assert lab.model.host(PS1).registry.get_value(DMP_KEY, "LastSyncedTime") == int(lab.model.clock.now())
    updates = lab.ok(
        step("u", "Get-CimInstance", {"Name": None, "State": None}, Namespace="root\\SMS\\site_CAS", ClassName="SMS_CM_UpdatePackages")
    )["u"]
    assert {"Name": "Configuration Manager 2503", "State": 262146} in updates


def test_a_failed_download_is_logged_and_retried_next_cycle(lab):
    registry = lab.model.host(PS1).registry
    synced = registry.get_value(DMP_KEY, "LastSyncedTime")
    lab.model.internet.configure({"endpoints": {"go.microsoft.com": "timeout"}})
    lab.advance(60)
    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    log = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert f"WARNING: Failed to download easy setup payload with exception: {MSG_TIMEOUT}~~" in log[-2]
    assert lab.runtime(PS1)["last_sync"]["ok"] is False
    assert registry.get_value(DMP_KEY, "LastSyncedTime") == synced  # only a success moves it
    assert registry.get_value(DMP_KEY, "LastSyncRequestTime") == int(lab.model.clock.now())
    lab.model.internet.configure({"endpoints": {"go.microsoft.com": "reachable"}})
    lab.advance(lab.timing.dmp_sync_interval)
    assert lab.runtime(PS1)["last_sync"] == {"ok": True}


def test_the_uploader_writes_dmpuploader_log(lab):
    log = lab.tracing_log(PS1, "SMS_DMP_UPLOADER")
    assert (
        lab.model.host(PS1)
        .registry.get_value(r"HKLM:\SOFTWARE\Microsoft\SMS\Tracing\SMS_DMP_UPLOADER", "TraceFilename")
        .endswith("\\Logs\\Dmpuploader.log")
    )
    assert any(line.startswith("SMS_DMP_UPLOADER started. Service connection point mode: Online~~") for line in log)
    assert log[-1].startswith("Successfully uploaded usage data.~~")
    lab.model.internet.configure({"endpoints": {"sccmconnected-a01.cloudapp.net": 503}})
    lab.advance(lab.timing.dmp_upload_interval)
    assert lab.tracing_log(PS1, "SMS_DMP_UPLOADER")[-1].startswith(
        "ERROR: Failed to upload usage data with exception: The remote server returned an error: (503) Service Unavailable.~~"
    )
    assert lab.runtime(PS1)["last_upload"] == {"ok": False, "error": "http_503"}


# Restart-Computer ------------------------------------------------------------------------------------------


def test_restart_computer_restarts_the_host_and_the_scp(lab):
    host = lab.model.host(PS1)
    host.restart_timing.down = 2 * lab.timing.connectivity_check_interval  # a long boot, to see nothing runs
    boot = lab.ok(step("o", "Get-CimInstance", {"LastBootUpTime": None}, ClassName="Win32_OperatingSystem"), host=PS1)
    lab.model.internet.configure({"service_configuration_change": True})
    checks = len(connector_messages(lab))
    assert lab.ok(step("r", "Restart-Computer", Force=True), host=PS1) == {"r": []}
    assert host.power_state == "shutting_down" and lab.faults.to_list() == []
    lab.advance(host.restart_timing.shutdown_delay)
    assert host.power_state == "down"
    assert lab.faults.to_list() == [{"kind": "host_down", "host": PS1, "count": None, "options": {"reason": "restart"}}]
    assert host.service("SMS_EXECUTIVE").status == "Stopped"
    lab.advance(lab.timing.connectivity_check_interval)  # nothing runs on a host that is down
    assert len(connector_messages(lab)) == checks
    lab.advance(host.restart_timing.down - lab.timing.connectivity_check_interval)
    assert host.is_up and lab.faults.to_list() == []
    assert host.executive.component_state("SMS_DMP_DOWNLOADER") == "Running"
    after = lab.ok(step("o", "Get-CimInstance", {"LastBootUpTime": None}, ClassName="Win32_OperatingSystem"), host=PS1)
    assert after != boot
    assert len(connector_messages(lab)) == checks + 1  # the connector checked when it started
    assert alerts(lab)[0]["AlertState"] == 2  # SMS_EXECUTIVE restarted with the host


def test_restart_computer_needs_force_and_the_local_computer(lab):
    error = lab.run(step("r", "Restart-Computer"), host=PS1)["steps"][0]["error"]
    assert error["fqid"] == "RestartcomputerFailed,Microsoft.PowerShell.Commands.RestartComputerCommand"
    assert "other users logged on" in error["message"]
    remote = lab.run(step("r", "Restart-Computer", ComputerName=["cas.lab.example"], Force=True), host=PS1)
    # A plan never reaches another machine: the binder refuses -ComputerName (docs/cmdlet-catalog.md).
    assert "not allowed in a plan" in (remote.get("error") or remote["steps"][0]["error"])["message"]
    assert lab.ok(step("r", "Restart-Computer", Force=True, WhatIf=True), host=PS1) == {"r": []}
    assert lab.model.host(PS1).power_state == "running"


# Invoke-WebRequest -------------------------------------------------------------------------------------


def test_invoke_webrequest_needs_basic_parsing_tls_and_the_proxy(lab):
    assert "NonInteractive" in web(lab, Uri="https://aka.ms")["error"]["message"]
    assert (
        web(lab, host="scp01.lab.example", Uri="https://configmgrbits.cdn.manage.microsoft.com", UseBasicParsing=True)["error"]["message"]
        == MSG_SEND
    )
    lab.model.internet.configure({"proxy_required": True, "proxies": {"proxy.lab.example": {"port": 3128, "auth_required": True}}})
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True)["error"]["message"] == MSG_TIMEOUT
    assert (
        "(407)"
        in web(lab, Uri="https://aka.ms", UseBasicParsing=True, Proxy="http://proxy.lab.example:3128", ProxyUseDefaultCredentials=True)[
            "error"
        ]["message"]
    )
    assert (
        web(lab, Uri="https://aka.ms", UseBasicParsing=True, Proxy="http://nowhere.lab.example:3128")["error"]["message"]
        == "The proxy name could not be resolved: 'nowhere.lab.example'"
    )
    assert (
        web(lab, Uri="https://aka.ms", UseBasicParsing=True, Proxy="http://proxy.lab.example:8080")["error"]["message"]
        == "Unable to connect to the remote server"
    )
    assert "does not simulate" in web(lab, Uri="http://cas.lab.example/", UseBasicParsing=True)["error"]["message"]
