"""The SCP's health, and the mode its downloader runs in, derived from what the provider and the SCP server
show (no memory of earlier runs)."""

from __future__ import annotations

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace, _scp_health
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult

SCP = "scp01.lab.example"


def step(step_id, output, ok=True):
    return StepResult(step_id, ok, output, None)


def summary(status=0, state=1, machine=SCP):
    return [
        {
            "ComponentName": c,
            "MachineName": machine,
            "SiteCode": "CAS",
            "State": state,
            "Status": status if c == "SMS_SERVICE_CONNECTOR" else 0,
        }
        for c in _scp_health.COMPONENTS
    ]


def message(record, message_id, time, machine=SCP):
    severity = {11410: 0x40000000, 11411: 0x80000000}.get(message_id, 0xC0000000)
    return {
        "RecordID": record,
        "MessageID": message_id,
        "Severity": severity,
        "Time": time,
        "MachineName": machine,
        "Component": "SMS_SERVICE_CONNECTOR",
        "SiteCode": "CAS",
        "InsString1": "x",
    }


def provider(status=0, messages=(), alerts=(), rows=None):
    return PlanResult(
        {
            "health_summary": step("health_summary", rows if rows is not None else summary(status)),
            "health_messages": step("health_messages", list(messages)),
            "health_alerts": step("health_alerts", list(alerts)),
        }
    )


def lines(*messages, component="SMS_DMP_DOWNLOADER"):
    text = "".join(f"{m}  $$<{component}><11-29-2026 08:0{i}:00.000+000><thread=4 (0x4)>\r\n" for i, m in enumerate(messages))
    return _cmtrace.parse(text, source="C:\\SMS\\Logs\\x.log")


STARTED_ONLINE = "SMS_DMP_DOWNLOADER started. Service connection point mode: Online~~"
CHECK_OK = [
    "Starting endpoint connectivity check for 12 endpoints.~~",
    "Endpoint https://aka.ms/configmgrgateway is reachable.~~",
    "Endpoint connectivity check completed: 12 checked, 0 failed (0 critical). Status message 11410.~~",
]
CHECK_FAILED = [
    "Starting endpoint connectivity check for 12 endpoints through proxy proxy.lab.example:8080.~~",
    "Failed to connect to critical endpoint https://aka.ms/configmgrgateway: The remote server returned an "
    "error: (407) Proxy Authentication Required. (http_407)~~",
    "Failed to connect to non-critical endpoint http://crl3.digicert.com/: The operation has timed out. (timeout)~~",
    "Cloud service tenant_attach cannot reach its required endpoint https://aka.ms/configmgrgateway: The remote "
    "server returned an error: (407) Proxy Authentication Required. (http_407)~~",
    "Endpoint connectivity check completed: 12 checked, 2 failed (1 critical). Status message 11412, 11488.~~",
]
TLS_SET = {
    "dotnet_64bit": {"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1},
    "dotnet_32bit": {"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1},
    "dotnet_strong_crypto": True,
    "schannel_tls12_client": {"Enabled": None, "DisabledByDefault": None},
    "schannel_tls12_usable": True,
}


def facts(downloader=(STARTED_ONLINE,), check=CHECK_OK, dmp=None, tls=TLS_SET):
    dmp = {"OfflineMode": 0, "LastSyncRequestTime": 1790000000, "LastSyncedTime": 1790000000} if dmp is None else dmp
    return _scp_health.ServerFacts(True, dmp, lines(*downloader), lines(*check, component="SMS_SERVICE_CONNECTOR"), tls)


def derive(provider_result, server_facts, configured="online", placement_ok=True, scp_host=SCP):
    return _scp_health.derive(
        server=SCP,
        site_code="CAS",
        configured_mode=configured,
        placement_ok=placement_ok,
        provider=provider_result,
        facts=server_facts,
        scp_host=scp_host,
    )


def test_healthy_connector_ok_11410_sync_ok_mode_in_effect():
    health = derive(
        provider(
            messages=[
                message(1, 11412, "2026-11-29T06:00:00Z"),
                message(2, 11488, "2026-11-29T06:00:00Z"),
                message(3, 11410, "2026-11-29T07:00:00Z"),
            ]
        ),
        facts(),
    )
    assert health["healthy"], health["problems"]
    assert (health["component_status"], health["connectivity_check"]) == ("OK", "passed")
    assert health["last_check_message"]["message_id"] == 11410
    assert health["last_cloud_service_message"]["message_id"] == 11488  # history, older than the 11410
    assert health["last_sync"] == {
        "ok": True,
        "last_attempt": "2026-09-21T14:13:20+00:00",
        "last_success": "2026-09-21T14:13:20+00:00",
        "error": None,
    }
    assert (health["effective_mode"], health["effective_mode_source"]) == ("online", "Dmpdownloader.log")
    assert health["log_lines"] == []


def test_critical_with_the_endpoint_classes_the_sync_error_and_the_log_lines():
    health = derive(
        provider(status=2, messages=[message(1, 11412, "2026-11-29T07:00:00Z"), message(2, 11488, "2026-11-29T07:00:00Z")]),
        facts(
            downloader=(
                STARTED_ONLINE,
                "WARNING: Failed to download easy setup payload with exception: "
                "The remote server returned an error: (407) Proxy Authentication Required.~~",
            ),
            check=CHECK_FAILED,
            dmp={"OfflineMode": 0, "LastSyncRequestTime": 1790000100, "LastSyncedTime": 1790000000},
        ),
    )
    assert not health["healthy"] and health["connectivity_check"] == "failed"
    assert [(e["url"], e["class"], e["critical"], e["cloud_service"]) for e in health["endpoints"]] == [
        ("https://aka.ms/configmgrgateway", "http_407", True, None),
        ("http://crl3.digicert.com/", "timeout", False, None),
        ("https://aka.ms/configmgrgateway", "http_407", True, "tenant_attach"),
    ]
    assert health["last_sync"]["ok"] is False
    assert health["last_sync"]["error"] == "The remote server returned an error: (407) Proxy Authentication Required."
    assert "SMS_SERVICE_CONNECTOR on scp01.lab.example is CRITICAL." in health["problems"]
    assert any(p.startswith("The last internet endpoint check failed: status message 11488") for p in health["problems"])
    assert any("(http_407)" in line for line in health["log_lines"])
    assert any("Failed to download easy setup payload" in line for line in health["log_lines"])


def test_an_11488_after_the_last_11410_fails_the_check():
    health = derive(provider(messages=[message(1, 11410, "2026-11-29T07:00:00Z"), message(2, 11488, "2026-11-29T07:00:00Z")]), facts())
    assert health["connectivity_check"] == "failed" and not health["healthy"]


def test_a_warning_11411_is_not_healthy():
    health = derive(provider(status=1, messages=[message(1, 11411, "2026-11-29T07:00:00Z")]), facts())
    assert health["connectivity_check"] == "warning" and health["component_status"] == "WARNING"
    assert not health["healthy"]


def test_no_check_needed_without_a_cloud_connected_service():
    skipped = ["No cloud-connected service needs the endpoint connectivity check. Skipped.~~"]
    health = derive(provider(), facts(check=skipped))
    assert health["connectivity_check"] == "not_run" and health["healthy"], health["problems"]
    unknown = derive(provider(), facts(check=()))
    assert unknown["connectivity_check"] == "unknown" and not unknown["healthy"]


def test_a_lost_downloader_restart_shows_as_restart_required():
    # Configured offline; the downloader last started online: its restart after the change never happened.
    health = derive(provider(), facts(), configured="offline")
    assert health["restart_required"] and not health["healthy"]
    assert (health["configured_mode"], health["effective_mode"]) == ("offline", "online")
    assert any("restart SMS_DMP_DOWNLOADER" in p for p in health["problems"])
    # Offline and started offline: no sync, no check needed.
    offline = derive(
        provider(),
        facts(
            downloader=("SMS_DMP_DOWNLOADER started. Service connection point mode: Offline~~",),
            check=("The service connection point is in offline mode. Endpoint connectivity check skipped.~~",),
            dmp={"OfflineMode": 1},
        ),
        configured="offline",
    )
    assert offline["healthy"], offline["problems"]


def test_effective_mode_is_the_last_start_line_else_the_registry():
    log_says = _scp_health.ServerFacts(
        True,
        {"OfflineMode": 0},
        lines(
            "SMS_DMP_DOWNLOADER started. Service connection point mode: Online~~",
            "Download manifest.cab",
            "SMS_DMP_DOWNLOADER started. Service connection point mode: Offline~~",
        ),
    )
    assert _scp_health.effective_mode(log_says) == ("offline", "Dmpdownloader.log", "2026-11-29T08:02:00.000+00:00")
    rolled_away = _scp_health.ServerFacts(True, {"OfflineMode": 1}, lines("Download manifest.cab"))
    assert _scp_health.effective_mode(rolled_away) == ("offline", "registry OfflineMode", None)
    assert _scp_health.effective_mode(_scp_health.ServerFacts(True, None, [])) == (None, None, None)


def test_the_console_notification_on_the_scp_server_asks_for_a_restart():
    alert = {
        "ID": 1,
        "AlertState": 0,
        "TypeID": 90001,
        "TypeInstanceID": "SCP01.lab.example",
        "Name": "Restart the SMS_EXECUTIVE service on the service connection point server scp01.lab.example: ...",
        "DateAlertStateModified": "2026-11-29T07:00:00Z",
    }
    other = {**alert, "TypeInstanceID": "ps1.lab.example"}
    health = derive(provider(messages=[message(1, 11410, "2026-11-29T07:00:00Z")], alerts=[other, alert]), facts())
    assert health["console_notification"]["raised"] and health["restart_executive_required"]
    assert not health["healthy"] and any("restart SMS_EXECUTIVE" in p for p in health["problems"])
    assert not derive(provider(messages=[message(1, 11410, "2026-11-29T07:00:00Z")], alerts=[other]), facts())["console_notification"][
        "raised"
    ]


def test_what_could_not_be_read_is_said_and_not_healthy():
    health = derive(provider(messages=[message(1, 11410, "2026-11-29T07:00:00Z")]), None, scp_host=None)
    assert not health["healthy"] and health["problems"] == []
    assert health["unreadable"] == [
        "effective mode, last sync, logs and TLS settings: scp01.lab.example is not in the inventory (set scp_host to its inventory name)"
    ]
    assert health["effective_mode"] is None and health["tls"] is None


def test_components_not_running_and_other_machines_ignored():
    rows = summary(state=3) + summary(status=2, machine="ps1.lab.example")
    health = derive(provider(rows=rows, messages=[message(1, 11412, "2026-11-29T07:00:00Z", machine="ps1.lab.example")]), facts())
    assert any(p.startswith("SCP components not running on scp01.lab.example") for p in health["problems"])
    assert health["last_check_message"] is None and health["component_status"] == "OK"


def registry_row(key: str, **values) -> dict:
    return {"PSPath": "Microsoft.PowerShell.Core\\Registry::HKEY_LOCAL_MACHINE" + key[5:], **values}


def test_the_registry_values_are_told_apart_by_their_key_and_tls_judged_as_found():
    result = PlanResult(
        {
            "registry": step(
                "registry",
                [
                    registry_row(_scp_health.DOTNET_KEYS["dotnet_64bit"], SchUseStrongCrypto=1, SystemDefaultTlsVersions=1),
                    registry_row(_scp_health.DOTNET_KEYS["dotnet_32bit"], SchUseStrongCrypto=1),
                    registry_row(_scp_health.DMP_KEY, OfflineMode=1, LastSyncedTime=5),
                ],
            )
        }
    )
    result.steps["registry"].output.append(registry_row(_scp_health.DMP_KEY[:-1] + "X", OfflineMode=0))  # a sibling
    values = _scp_health.registry_values(result)
    assert set(values) == {"dotnet_64bit", "dotnet_32bit", "dmp"} and values["dmp"]["OfflineMode"] == 1
    tls = _scp_health.tls_facts(values)
    assert tls["dotnet_strong_crypto"] is False and tls["schannel_tls12_usable"] is True  # no SCHANNEL key: default
    disabled = _scp_health.tls_facts({"schannel": {"Enabled": 0}})
    assert disabled["schannel_tls12_usable"] is False


def test_a_tail_read_shorter_than_asked_is_the_whole_file():
    text = "".join(f"line {i}  $$<C><11-29-2026 08:00:0{i}.000+000><thread=4 (0x4)>\r\n" for i in range(3)).encode()
    whole = PlanResult({"b": step("b", list(text))})
    assert [e.message for e in _scp_health.log_entries(whole, "b", "x.log", max_bytes=len(text) + 1)] == ["line 0", "line 1", "line 2"]
    # As many bytes as asked: the read may have started inside a line, which is dropped.
    cut = PlanResult({"b": step("b", list(text[5:]))})
    assert [e.message for e in _scp_health.log_entries(cut, "b", "x.log", max_bytes=len(text) - 5)] == ["line 1", "line 2"]


def test_the_server_reads_are_few_host_steps_and_missing_keys_do_not_fail_them():
    plan = _scp_health.server_plan()
    assert [s.cmdlet for s in plan.steps] == [
        "Get-ItemProperty",
        "Get-ItemProperty",
        "Get-Content",
        "Get-ChildItem",
        "Get-ChildItem",
        "Get-Content",
    ]
    assert all(s.on_error == "continue" for s in plan.steps)
    # Each key a wildcard (its last character `?`): a key that does not exist yields nothing, not an error.
    assert plan.steps[0].params["Path"][-1] == (
        "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Clien?"
    )
    assert [s.params["Tail"] for s in plan.steps if s.cmdlet == "Get-Content"] == [16384, 16384]
    assert [s.cmdlet for s in _scp_health.downloader_plan().steps] == ["Get-ItemProperty", "Get-ItemProperty", "Get-Content"]


def test_a_read_that_already_has_the_wait_status_reuses_its_component_summary():
    """The SCP task's read with wait and health: one SMS_ComponentSummarizer query serves both (the wait's
    status reads a superset of the SCP's components, Site Component Manager among them)."""
    from ansible_collections.configmgr.scp.plugins.plugin_utils import _scp_lifecycle
    from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan

    plan = _scp_health.provider_plan(_scp_lifecycle.status_plan(Plan(), log=False))
    assert [s.id for s in plan.steps] == ["components", "health_messages", "health_alerts"]
    assert [s.id for s in _scp_health.provider_plan(Plan()).steps] == ["health_summary", "health_messages", "health_alerts"]

    site_component_manager = {"ComponentName": "SMS_SITE_COMPONENT_MANAGER", "MachineName": SCP, "SiteCode": "CAS", "State": 0, "Status": 2}
    connector_critical = [*summary(status=2, state=1), site_component_manager]
    shared = PlanResult(
        {
            "components": step("components", connector_critical),
            "health_messages": step("health_messages", [message(1, 11410, "2026-11-29T07:00:00Z")]),
            "health_alerts": step("health_alerts", []),
        }
    )
    health = derive(shared, facts())
    assert health["component_status"] == "CRITICAL"
    # Only the SCP's own components count: a stopped Site Component Manager on the same machine is not one.
    assert [c["component"] for c in health["components"]] == list(_scp_health.COMPONENTS)
    assert not any("SMS_SITE_COMPONENT_MANAGER" in p for p in health["problems"])
