"""The SCP at work: the pending mode change (docs/configmgr-behaviour.md#scp-mode, #sms-executive-threads), the
endpoint connectivity check and its status messages (docs/configmgr-behaviour.md#internet-endpoints,
#status-messages), the DMP downloader, proxies, and Invoke-WebRequest."""

from __future__ import annotations

import pytest
from configmgr_harness import MESSAGE, ConfigMgrLab, step

from cmlab.model.internet import MSG_SEND, MSG_TIMEOUT, MSG_TLS

PS1 = "ps1.lab.example"
DMP_KEY = r"HKLM:\SOFTWARE\Microsoft\SMS\COMPONENTS\SMS_DMP_DOWNLOADER"


@pytest.fixture
def lab() -> ConfigMgrLab:
    lab = ConfigMgrLab()
    lab.enable_tls12(PS1)
    return lab


def connector_messages(lab: ConfigMgrLab) -> list[dict]:
    return lab.ok(step("m", "Get-CMSiteStatusMessage", MESSAGE, Component="SMS_SERVICE_CONNECTOR",
                       MessageId=[11410, 11411, 11412, 11488]))["m"]


def check(lab: ConfigMgrLab) -> tuple[list[int], list[str]]:
    """Restart SMS_SERVICE_CONNECTOR (it checks when it starts): the new message ids and log lines."""
    before_messages = len(connector_messages(lab))
    before_log = len(lab.tracing_log(PS1, "SMS_SERVICE_CONNECTOR"))
    lab.restart_thread(PS1, "SMS_SERVICE_CONNECTOR")
    new = connector_messages(lab)[before_messages:]
    return [m["MessageID"] for m in new], lab.tracing_log(PS1, "SMS_SERVICE_CONNECTOR")[before_log:]


# The mode change ---------------------------------------------------------------------------------

def test_a_mode_change_waits_for_sms_dmp_downloader_to_restart(lab):
    assert (lab.runtime(PS1)["configured_mode"], lab.runtime(PS1)["effective_mode"]) == ("Online", "Online")
    out = lab.ok(step("set", "Set-CMServiceConnectionPoint", {"Props": {"PropertyName": None, "Value": None}},
                      SiteSystemServerName=PS1, SiteCode="PS1", Mode="Offline", PassThru=True))
    assert out["set"][0]["Props"] == [{"PropertyName": "OfflineMode", "Value": 1}]       # configured at once
    assert (lab.runtime(PS1)["configured_mode"], lab.runtime(PS1)["effective_mode"]) == ("Offline", "Online")
    reg = lab.ok(step("r", "Get-ItemProperty", {"OfflineMode": None}, LiteralPath=[DMP_KEY]), host=PS1)["r"]
    assert reg == [{"OfflineMode": 0}]

    lab.advance(3600)                               # time alone changes nothing
    assert lab.runtime(PS1)["effective_mode"] == "Online"

    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    assert lab.runtime(PS1)["effective_mode"] == "Offline"
    assert lab.model.host(PS1).registry.get_value(DMP_KEY, "OfflineMode") == 1
    log = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert any("Service connection point mode: Offline" in line for line in log[-3:])


def test_an_sms_executive_restart_also_applies_the_mode(lab):
    lab.ok(step("set", "Set-CMServiceConnectionPoint", SiteSystemServerName=PS1, SiteCode="PS1", Mode="Offline"))
    with lab.model.lock:
        lab.model.host(PS1).executive.service_restarted()
    assert lab.runtime(PS1)["effective_mode"] == "Offline"
    assert lab.runtime(PS1)["last_connectivity_check"] == {"skipped": "offline"}    # an offline SCP does not check


# The endpoint connectivity check ----------------------------------------------------------------------

def test_all_endpoints_reachable_is_11410_informational(lab):
    ids, log = check(lab)
    assert ids == [11410]
    assert connector_messages(lab)[-1] == {"Component": "SMS_SERVICE_CONNECTOR", "MachineName": PS1, "MessageID": 11410,
                                           "Severity": 0x40000000, "SiteCode": "PS1"}
    assert log[-1].startswith("Endpoint connectivity check completed: 13 checked, 0 failed (0 critical).")
    rows = lab.summarizer("ComponentName='SMS_SERVICE_CONNECTOR'")
    assert [(r["MachineName"], r["Status"]) for r in rows] == [(PS1, 0)]


@pytest.mark.parametrize(("outcome", "text"), [
    ("timeout", MSG_TIMEOUT),
    ("tls_failure", MSG_TLS),
    (407, "The remote server returned an error: (407) Proxy Authentication Required."),
    ("http_451", "The remote server returned an error: (451) Unavailable For Legal Reasons."),
    (599, "The remote server returned an error: (599) Network connect timeout error."),
])
def test_a_non_critical_failure_is_11411_warning(lab, outcome, text):
    lab.model.internet.configure({"endpoints": {"download.windowsupdate.com": outcome}})
    ids, log = check(lab)
    assert ids == [11411]
    assert any(f"non-critical endpoint https://download.windowsupdate.com/: {text}" in line for line in log)
    assert [r["Status"] for r in lab.summarizer("ComponentName='SMS_SERVICE_CONNECTOR'")] == [1]


def test_a_critical_failure_is_11412_error(lab):
    lab.model.internet.configure({"endpoints": {"go.microsoft.com": 502, "*.blob.core.windows.net": "timeout"}})
    ids, log = check(lab)
    assert ids == [11412]
    assert connector_messages(lab)[-1]["Severity"] == 0xC0000000
    assert any("critical endpoint https://go.microsoft.com/: The remote server returned an error: (502) Bad Gateway."
               in line for line in log)
    assert log[-1].startswith("Endpoint connectivity check completed: 13 checked, 2 failed (1 critical).")
    assert lab.runtime(PS1)["last_connectivity_check"]["failed"] == {
        "cmbitsstore.blob.core.windows.net": "timeout", "go.microsoft.com": "http_502"}


def test_a_cloud_service_endpoint_failure_adds_11488(lab):
    lab.hierarchy.cloud_services.add("tenant_attach")
    lab.model.internet.configure({"endpoints": {"us.gateway.configmgr.manage.microsoft.com": 408}})
    ids, _ = check(lab)
    assert ids == [11412, 11488]
    assert [r["Status"] for r in lab.summarizer("ComponentName='SMS_SERVICE_CONNECTOR'")] == [2]


def test_tls_1_2_disabled_fails_the_tls_only_endpoint():
    lab = ConfigMgrLab()                       # ps1 without SchUseStrongCrypto / SystemDefaultTlsVersions
    ids, log = check(lab)
    assert ids == [11412]
    assert any(MSG_SEND in line and "configmgrbits.cdn.manage.microsoft.com" in line for line in log)


def test_the_check_repeats_on_its_schedule_while_the_connector_runs(lab):
    count = len(connector_messages(lab))
    lab.advance(lab.timing.connectivity_check_interval)
    assert len(connector_messages(lab)) == count + 1
    lab.model.host(PS1).registry.set_value(r"HKLM:\SOFTWARE\Microsoft\SMS\Components\SMS_EXECUTIVE\Threads\SMS_SERVICE_CONNECTOR",
                                           "Requested Operation", "Stop")
    lab.advance(10)
    lab.advance(lab.timing.connectivity_check_interval)
    assert len(connector_messages(lab)) == count + 1          # a stopped connector checks nothing


# Proxy -----------------------------------------------------------------------------------------------

def test_the_scp_uses_its_site_systems_proxy(lab):
    lab.model.internet.configure({"proxy_required": True, "proxies": {"proxy.lab.example": {"port": 8080,
                                                                                            "auth_required": True}}})
    ids, log = check(lab)
    assert ids == [11412]
    assert any(MSG_TIMEOUT in line for line in log)                      # no proxy: egress dropped

    lab.ok(step("acct", "New-CMAccount", SiteCode="PS1", UserName="LAB\\svc-cmproxy", Password={"$secret": "pw"}),
           step("proxy", "Set-CMSiteSystemServer", SiteSystemServerName=PS1, SiteCode="PS1", EnableProxy=True,
                ProxyServerName="proxy.lab.example", ProxyServerPort=8080))
    ids, log = check(lab)
    assert ids == [11412]                                                # anonymous: 407 from the proxy
    assert any("(407) Proxy Authentication Required" in line for line in log)

    lab.ok(step("acct", "Get-CMAccount", SiteCode="PS1", UserName="LAB\\svc-cmproxy"),
           step("proxy", "Set-CMSiteSystemServer", SiteSystemServerName=PS1, SiteCode="PS1", EnableProxy=True,
                ProxyServerName="proxy.lab.example", ProxyServerPort=8080, ProxyAccessAccount={"$ref": "acct"}))
    ids, log = check(lab)
    assert ids == [11410]
    assert "through proxy proxy.lab.example:8080" in log[0]


# SMS_DMP_DOWNLOADER ----------------------------------------------------------------------------------

def test_an_online_downloader_syncs_the_manifest(lab):
    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    log = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert any("Easysetup fwlink to download the manifest: https://go.microsoft.com/fwlink/?LinkId=2309745~~" in line
               for line in log)
    assert log[-1].startswith("Successfully Dropped the state message 0~~  $$<SMS_DMP_DOWNLOADER><")
    assert lab.model.host(PS1).registry.get_value(DMP_KEY, "LastSyncedTime") == int(lab.model.clock.now())
    updates = lab.ok(step("u", "Get-CimInstance", {"Name": None, "State": None}, Namespace="root\\SMS\\site_CAS",
                          ClassName="SMS_CM_UpdatePackages"))["u"]
    assert {"Name": "Configuration Manager 2503", "State": 262146} in updates


def test_a_failed_download_is_logged_and_retried_next_cycle(lab):
    lab.model.internet.configure({"endpoints": {"go.microsoft.com": "timeout"}})
    lab.restart_thread(PS1, "SMS_DMP_DOWNLOADER")
    log = lab.tracing_log(PS1, "SMS_DMP_DOWNLOADER")
    assert f"WARNING: Failed to download easy setup payload with exception: {MSG_TIMEOUT}~~" in log[-2]
    assert lab.runtime(PS1)["last_sync"]["ok"] is False
    lab.model.internet.configure({"endpoints": {"go.microsoft.com": "reachable"}})
    lab.advance(lab.timing.dmp_sync_interval)
    assert lab.runtime(PS1)["last_sync"] == {"ok": True}


# Invoke-WebRequest -------------------------------------------------------------------------------------

def web(lab: ConfigMgrLab, host: str = PS1, **params) -> dict:
    doc = lab.run(step("w", "Invoke-WebRequest", {"StatusCode": None}, **params), host=host)
    return doc["steps"][0]


@pytest.mark.parametrize(("outcome", "message"), [
    ("timeout", "The operation has timed out."),
    ("tls_failure", "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS "
                    "secure channel."),
    (407, "The remote server returned an error: (407) Proxy Authentication Required."),
    (426, "The remote server returned an error: (426) Upgrade Required."),
    (511, "The remote server returned an error: (511) Network Authentication Required."),
    (598, "The remote server returned an error: (598) Network read timeout error."),
])
def test_invoke_webrequest_gives_windows_errors(lab, outcome, message):
    lab.model.internet.configure({"endpoints": {"go.microsoft.com": outcome}})
    result = web(lab, Uri="https://go.microsoft.com", UseBasicParsing=True, TimeoutSec=10)
    assert result["error"] == {"message": message, "category": "InvalidOperation",
                               "fqid": "WebCmdletWebResponseException,Microsoft.PowerShell.Commands.InvokeWebRequestCommand",
                               "exception": "System.Net.WebException"}
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True)["output"] == [{"StatusCode": 200}]


def test_invoke_webrequest_needs_basic_parsing_tls_and_the_proxy(lab):
    assert "NonInteractive" in web(lab, Uri="https://aka.ms")["error"]["message"]
    assert web(lab, host="scp01.lab.example", Uri="https://configmgrbits.cdn.manage.microsoft.com",
               UseBasicParsing=True)["error"]["message"] == MSG_SEND
    lab.model.internet.configure({"proxy_required": True, "proxies": {"proxy.lab.example": {"port": 3128,
                                                                                            "auth_required": True}}})
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True)["error"]["message"] == MSG_TIMEOUT
    assert "(407)" in web(lab, Uri="https://aka.ms", UseBasicParsing=True, Proxy="http://proxy.lab.example:3128",
                          ProxyUseDefaultCredentials=True)["error"]["message"]
    assert web(lab, Uri="https://aka.ms", UseBasicParsing=True,
               Proxy="http://nowhere.lab.example:3128")["error"]["message"] == \
        "The proxy name could not be resolved: 'nowhere.lab.example'"
    assert "does not simulate" in web(lab, Uri="http://cas.lab.example/", UseBasicParsing=True)["error"]["message"]
