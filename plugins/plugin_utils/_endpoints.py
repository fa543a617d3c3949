# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The internet endpoints of the service connection point, checked from
its server: which URL stands for which feature group, how a failure is classified, how bad it is.

- **The endpoints** (docs/configmgr-behaviour.md#internet-endpoints) are Microsoft's list per feature group.
  A wildcard entry cannot be requested as such: a documented concrete host stands for it (`note` says
  which), and wildcards without one are not checked (the docs list them).
- **One invocation** runs one `Invoke-WebRequest` per distinct URL, each `on_error: continue`, through the
  site system's proxy and proxy account (a `{"$credential"}` value: the password travels as a secret and
  becomes a PSCredential through .NET, never text on a command line).
- **Classification** reads the WebException's status and HTTP status, which the engine adds to a step's
  error whatever the language of Windows (docs/engine-protocol.md section 3); the English .NET texts are
  the fallback. An endpoint that answers with another HTTP status (401, 403, 404...) is reachable: the SCP
  does not count it as a failure either.
- **Severity** is computed the way the SCP computes 11410 / 11411 / 11412: any failed critical endpoint is
  an error (11412), only non-critical failures a warning (11411), none ok (11410). Which endpoints are
  critical is not documented; the choice is written down in CRITICAL below and agrees with cmlab's model
  of the SCP's own check (tests/unit/test_endpoint_check.py holds the two together).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import network_os_path, wql_string
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, provider_value, ref

GROUPS = (
    "updates_and_servicing",
    "windows_servicing",
    "azure_services",
    "microsoft_store_for_business",
    "cloud_services",
    "console",
    "tenant_attach",
    "external_notifications",
)
FORWARDERS = "url_forwarders"  # always checked: every feature goes through them


@dataclass(frozen=True)
class Endpoint:
    url: str
    group: str
    critical: bool = False
    note: str = ""


_MANAGE = "stands for *.manage.microsoft.com"
_CRL = "CRL/OCSP, needed where certificate revocation traffic is restricted"
# docs/configmgr-behaviour.md#internet-endpoints. Critical (an error, 11412) are the endpoints without which
# a feature the SCP serves stops: the URL forwarders, the update content and usage data services, the tenant
# attach gateway, and the required endpoints of the Azure services (11488); every other one is non-critical
# (a warning, 11411). This is the project's choice: Microsoft does not publish the split.
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("https://aka.ms/", FORWARDERS, True),
    Endpoint("https://go.microsoft.com/", FORWARDERS, True),
    Endpoint("https://configmgrbits.cdn.manage.microsoft.com/", "updates_and_servicing", True, "update content (TLS 1.2 only); " + _MANAGE),
    Endpoint("https://sccmconnected-a01.cloudapp.net/", "updates_and_servicing", True, "usage data"),
    Endpoint("https://download.microsoft.com/", "updates_and_servicing"),
    Endpoint("https://download.windowsupdate.com/", "updates_and_servicing"),
    Endpoint("https://download.visualstudio.microsoft.com/", "updates_and_servicing"),
    Endpoint("https://definitionupdates.microsoft.com/", "updates_and_servicing"),
    Endpoint("https://configmgrbits.azureedge.net/", "updates_and_servicing", False, "the content host before March 2025"),
    Endpoint("https://cmbitsstore.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint("https://ceuswatcab01.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint("https://ceuswatcab02.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint("https://eaus2watcab01.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint("https://eaus2watcab02.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint("https://weus2watcab01.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint("https://weus2watcab02.blob.core.windows.net/", "updates_and_servicing"),
    Endpoint(
        "https://umwatsonc.events.data.microsoft.com/",
        "updates_and_servicing",
        False,
        "also stands for *-umwatsonc.events.data.microsoft.com",
    ),
    Endpoint("https://download.microsoft.com/", "windows_servicing"),
    Endpoint("https://go.microsoft.com/fwlink/?LinkID=619849", "windows_servicing"),
    Endpoint("https://dl.delivery.mp.microsoft.com/", "windows_servicing"),
    Endpoint("https://management.azure.com/", "azure_services", True, "public cloud"),
    Endpoint("https://login.microsoftonline.com/", "azure_services", True, "Microsoft Entra sign-in, public cloud"),
    Endpoint(
        "https://businessstore.microsoft.com/",
        "microsoft_store_for_business",
        False,
        "the store's own address; Microsoft's ConfigMgr page names none",
    ),
    Endpoint("https://graph.microsoft.com/", "cloud_services", True, "Microsoft Entra user discovery"),
    Endpoint("https://management.azure.com/", "cloud_services", True, "public cloud"),
    Endpoint("https://configmgrbits.cdn.manage.microsoft.com/", "console", True, "the console's notifications"),
    Endpoint("https://aka.ms/configmgrgateway", "tenant_attach", True),
    Endpoint(
        "https://us.gateway.configmgr.manage.microsoft.com/api/gateway",
        "tenant_attach",
        True,
        _MANAGE + " (the gateway host Microsoft's tenant attach troubleshooting shows)",
    ),
    Endpoint("https://dc.services.visualstudio.com/", "tenant_attach"),
    Endpoint("http://crl3.digicert.com/", "tenant_attach", False, _CRL),
    Endpoint("http://crl4.digicert.com/", "tenant_attach", False, _CRL),
    Endpoint("http://ocsp.digicert.com/", "tenant_attach", False, _CRL),
    Endpoint("http://www.d-trust.net/", "tenant_attach", False, _CRL),
    Endpoint("http://root-c3-ca2-2009.ocsp.d-trust.net/", "tenant_attach", False, _CRL),
    Endpoint("http://crl.microsoft.com/", "tenant_attach", False, _CRL),
    Endpoint("http://oneocsp.microsoft.com/", "tenant_attach", False, _CRL),
    Endpoint("http://ocsp.msocsp.com/", "tenant_attach", False, _CRL),
    Endpoint("http://www.microsoft.com/pkiops", "tenant_attach", False, _CRL),
    Endpoint(
        "https://prod1.westus2.logic.azure.com/",
        "external_notifications",
        False,
        "stands for *.<region>.logic.azure.com: your Logic App's region may differ",
    ),
)
# Wildcard entries of Microsoft's list that no documented concrete host stands for: not checked.
NOT_CHECKED = ("*.akamaiedge.net", "*.akamaitechnologies.com")

# HTTP statuses the SCP's own check treats as failures, with the probable cause Microsoft gives
# (docs/configmgr-behaviour.md#internet-endpoints, "Validate internet access").
FAILURE_STATUSES = {
    407: (
        "Proxy Authentication Required",
        "proxy",
        "the proxy requires authentication: give the site system's proxy account (proxy_username and "
        "proxy_password), or check that account and its password",
    ),
    408: ("Request Timeout", "proxy", "the proxy timed out waiting for the request"),
    426: (
        "Upgrade Required",
        "TLS configuration",
        "the endpoint requires a newer TLS version: TLS 1.2 for .NET and SCHANNEL (configmgr.scp.tls_settings)",
    ),
    451: ("Unavailable For Legal Reasons", "proxy", "the proxy blocks this address by policy"),
    502: ("Bad Gateway", "proxy", "the proxy could not reach or resolve the endpoint"),
    511: ("Network Authentication Required", "proxy", "the proxy or network asks for a sign-in (a captive portal)"),
    598: ("Network read timeout error", "proxy", "a proxy's network read timeout (not in the RFCs; some proxies use it)"),
    599: ("Network connect timeout error", "proxy", "a proxy's network connect timeout (not in the RFCs; some proxies use it)"),
}
CLASSES = (
    "ok",
    "other_status",
    "dns_failure",
    "timeout",
    "tls_failure",
    "connect_failure",
    *(f"http_{code}" for code in FAILURE_STATUSES),
    "error",
)
CAUSES = {
    "dns_failure": "the endpoint's name could not be resolved by the SCP server's DNS (direct connection)",
    "proxy_dns_failure": "the proxy's name could not be resolved: check proxy_server",
    "timeout": "no answer in time: a firewall drops the traffic, a proxy is required, or the endpoint is slow",
    "tls_trust": (
        "the TLS certificate chain is not trusted: its root (DigiCert Global Root G2) is missing or expired "
        "on the SCP server, or a proxy inspects TLS (configmgr.scp.tls_settings reports the roots)"
    ),
    "tls_send": (
        "the TLS handshake failed: TLS 1.2 is not enabled for .NET or SCHANNEL, or no common cipher suite "
        "(configmgr.scp.tls_settings; a .NET change needs a reboot)"
    ),
    "connect_failure": "the connection was refused or the network is unreachable (a firewall, or a wrong proxy port)",
    "other_status": "the endpoint answered: it is reachable (the SCP does not count this status as a failure)",
}
_MESSAGE_CLASSES = (
    (re.compile(r"The operation has timed out", re.I), "timeout"),
    (re.compile(r"The proxy name could not be resolved", re.I), "proxy_dns_failure"),
    (re.compile(r"The remote name could not be resolved", re.I), "dns_failure"),
    (re.compile(r"Could not establish trust relationship", re.I), "tls_trust"),
    (re.compile(r"Could not create SSL/TLS secure channel|An unexpected error occurred on a (?:send|receive)", re.I), "tls_send"),
    (re.compile(r"Unable to connect to the remote server", re.I), "connect_failure"),
)
_WEB_STATUSES = {
    "Timeout": "timeout",
    "NameResolutionFailure": "dns_failure",
    "ProxyNameResolutionFailure": "proxy_dns_failure",
    "TrustFailure": "tls_trust",
    "SecureChannelFailure": "tls_send",
    "SendFailure": "tls_send",
    "ReceiveFailure": "tls_send",
    "ConnectFailure": "connect_failure",
}
_HTTP_IN_MESSAGE = re.compile(r"\((\d{3})\)")


def endpoints_for(groups: list[str]) -> list[Endpoint]:
    chosen = set(groups) | {FORWARDERS}
    return [e for e in ENDPOINTS if e.group in chosen]


def critical_urls() -> set[str]:
    return {e.url for e in ENDPOINTS if e.critical}


# ---------------------------------------------------------------------------------------------
# Input


@dataclass
class Proxy:
    server: str
    port: int
    username: str | None = None
    password: str | None = None
    source: str = "options"  # options / site_system

    @property
    def uri(self) -> str:
        host = f"[{self.server}]" if ":" in self.server else self.server
        return f"http://{host}:{self.port}"

    def to_result(self) -> dict:
        return {
            "server": self.server,
            "port": self.port,
            "username": self.username,
            "authenticated": bool(self.username and self.password),
            "source": self.source,
        }


# ---------------------------------------------------------------------------------------------
# Plans


PASSWORD_SECRET = "proxy_password"
MESSAGE_IDS = (11410, 11411, 11412, 11488)
CONNECTOR = "SMS_SERVICE_CONNECTOR"
TRACING_KEY = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\" + CONNECTOR
LOG_TAIL = 400
PROPS_SELECT = {"PropertyName": None, "Value": None, "Value1": None, "Value2": None}
MESSAGE_SELECT = {
    "RecordID": None,
    "MessageID": None,
    "Severity": None,
    "Time": None,
    "MachineName": None,
    "SiteCode": None,
    "InsString1": None,
    "InsString2": None,
    "InsString3": None,
}


def provider_plan(server: str, *, proxy: bool, messages: bool) -> Plan:
    """What only the SMS Provider knows about this SCP server: its site system's proxy settings and the
    latest SMS_SERVICE_CONNECTOR status messages it raised (docs/configmgr-behaviour.md#status-messages)."""
    plan = Plan()
    namespace = provider_value("namespace")
    if proxy:
        plan.add(
            "site_system",
            "Get-CimInstance",
            {
                "Namespace": namespace,
                "ClassName": "SMS_SCI_SysResUse",
                "Filter": f"RoleName = 'SMS Site System' AND NetworkOSPath = {wql_string(network_os_path(server))}",
            },
            select={"SiteCode": None, "Props": PROPS_SELECT},
        )
    if messages:
        ids = " OR ".join(f"MessageID = {i}" for i in MESSAGE_IDS)
        machine = server.split(".")[0]
        where = f"Component = '{CONNECTOR}' AND ({ids}) AND (MachineName = {wql_string(server)} OR MachineName = {wql_string(machine)})"
        plan.add(
            "messages",
            "Get-CimInstance",
            {"Namespace": namespace, "ClassName": "SMS_StatMsgWithInsStrings", "Filter": where},
            select=MESSAGE_SELECT,
        )
    return plan


def check_plan(endpoints: list[Endpoint], proxy: Proxy | None, timeout: int, scp_log: bool = True) -> tuple[Plan, dict]:
    """One invocation: an Invoke-WebRequest per distinct URL (on_error continue), and the tail of the SCP's
    own EndpointConnectivityCheckWorker.log (found from the component's tracing key,
    docs/configmgr-behaviour.md#logs). Returns the plan and {step id: url}."""
    plan = Plan()
    steps: dict[str, str] = {}
    base: dict = {"UseBasicParsing": True, "TimeoutSec": timeout, "Method": "Get"}
    if proxy is not None:
        base["Proxy"] = proxy.uri
        if proxy.username and proxy.password:
            base["ProxyCredential"] = plan.add_credential(PASSWORD_SECRET, proxy.username, proxy.password)
    for url in dict.fromkeys(e.url for e in endpoints):
        step_id = f"e{len(steps)}"
        steps[step_id] = url
        plan.add(step_id, "Invoke-WebRequest", {**base, "Uri": url}, select={"StatusCode": None}, on_error="continue")
    if scp_log:
        plan.add("tracing", "Get-ItemProperty", {"LiteralPath": TRACING_KEY}, select={"TraceFilename": None}, on_error="continue")
        plan.add("log", "Get-Content", {"LiteralPath": ref("tracing", "TraceFilename"), "Tail": LOG_TAIL}, on_error="continue")
    return plan, steps


# ---------------------------------------------------------------------------------------------
# Classification and severity


def classify(ok: bool, output: list, error: dict | None) -> dict:
    """{class, failed, cause, probable_cause, status, message} of one request."""
    if ok:
        row = output[0] if output and isinstance(output[0], dict) else {}
        return {
            "class": "ok",
            "failed": False,
            "cause": None,
            "probable_cause": None,
            "status": _int(row.get("StatusCode")) or 200,
            "message": None,
        }
    error = error or {}
    message = str(error.get("message") or "").strip()
    status = _int(error.get("http_status"))
    kind = _WEB_STATUSES.get(str(error.get("web_status") or ""))
    if status is None and kind is None:
        kind = next((k for pattern, k in _MESSAGE_CLASSES if pattern.search(message)), None)
        if kind is None and (error.get("web_status") == "ProtocolError" or "remote server returned an error" in message.lower()):
            found = _HTTP_IN_MESSAGE.search(message)
            status = int(found.group(1)) if found else None
    shown = message[:300] or None
    if status is not None:
        if status in FAILURE_STATUSES:
            reason, probable, cause = FAILURE_STATUSES[status]
            return {
                "class": f"http_{status}",
                "failed": True,
                "cause": f"HTTP {status} {reason}: {cause}",
                "probable_cause": probable,
                "status": status,
                "message": shown,
            }
        return {
            "class": "other_status",
            "failed": False,
            "cause": f"HTTP {status}: {CAUSES['other_status']}",
            "probable_cause": None,
            "status": status,
            "message": shown,
        }
    if kind in ("dns_failure", "proxy_dns_failure"):
        return _failure("dns_failure", CAUSES[kind], "proxy" if kind == "proxy_dns_failure" else "DNS", shown)
    if kind in ("tls_trust", "tls_send"):
        return _failure("tls_failure", CAUSES[kind], "TLS configuration", shown)
    if kind in ("timeout", "connect_failure"):
        return _failure(kind, CAUSES[kind], "network", shown)
    return _failure("error", f"the request failed: {shown or error.get('fqid') or 'no message'}", None, shown)


def _failure(kind: str, cause: str, probable: str | None, message: str | None) -> dict:
    return {"class": kind, "failed": True, "cause": cause, "probable_cause": probable, "status": None, "message": message}


def _int(value) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


SEVERITY_RANK = {"ok": 0, "warning": 1, "error": 2}
MESSAGE_OF = {"ok": 11410, "warning": 11411, "error": 11412}


def severity(rows: list[dict]) -> str:
    """As the SCP decides between 11410, 11411 and 11412: a failed critical endpoint is an error, only
    non-critical failures a warning."""
    failed = [r for r in rows if r["failed"]]
    if any(r["critical"] for r in failed):
        return "error"
    return "warning" if failed else "ok"


def results(endpoints: list[Endpoint], steps: dict[str, str], observed: PlanResult) -> list[dict]:
    by_url: dict[str, dict] = {}
    for step_id, url in steps.items():
        step = observed.steps.get(step_id)
        found = classify(step.ok, step.output, step.error) if step is not None else _failure("error", "the request did not run", None, None)
        group_rows = [e for e in endpoints if e.url == url]
        by_url[url] = {
            "url": url,
            "groups": list(dict.fromkeys(e.group for e in group_rows)),
            "critical": any(e.critical for e in group_rows),
            "note": "; ".join(dict.fromkeys(e.note for e in group_rows if e.note)) or None,
            **found,
        }
    return list(by_url.values())


def group_summary(groups: list[str], rows: list[dict]) -> dict:
    out = {}
    for group in [FORWARDERS, *groups]:
        mine = [r for r in rows if group in r["groups"]]
        out[group] = {"checked": len(mine), "failed": sum(1 for r in mine if r["failed"]), "severity": severity(mine)}
    return out


def failure_text(rows: list[dict]) -> str:
    failed = [r for r in rows if r["failed"]]
    return "; ".join(f"{r['url']} ({'critical' if r['critical'] else 'non-critical'}): {r['class']}, {r['cause']}" for r in failed)


def should_fail(level: str, fail_on: str) -> bool:
    return fail_on != "never" and SEVERITY_RANK[level] >= SEVERITY_RANK[fail_on]


# ---------------------------------------------------------------------------------------------
# The proxy of the site system, as the SMS Provider records it


def site_system_proxy(rows: list, password: str | None, username: str | None) -> tuple[Proxy | None, list[str]]:
    """(the proxy, warnings) from the `SMS Site System` rows of this server
    (docs/configmgr-behaviour.md#site-system-servers: UseProxy, ProxyName, ProxyServerPort, ProxyUserName)."""
    warnings: list[str] = []
    proxies = []
    for row in rows:
        props = {p.get("PropertyName"): p for p in (row.get("Props") or []) if isinstance(p, dict)}
        if _int((props.get("UseProxy") or {}).get("Value")) != 1:
            proxies.append(None)
            continue
        server = str((props.get("ProxyName") or {}).get("Value2") or "").strip()
        port = _int((props.get("ProxyServerPort") or {}).get("Value")) or 80
        account = str((props.get("ProxyUserName") or {}).get("Value2") or "").strip() or None
        proxies.append((server, port, account) if server else None)
    if not rows:
        raise AnsibleActionFail(
            "use_site_system_proxy: the SMS Provider has no site system named "
            "site_system_server: make it a site system first (configmgr.scp.site_system_server), "
            "or give proxy_server."
        )
    if len(set(proxies)) > 1:
        warnings.append("The server is a site system of several sites with different proxy settings; the first site's is used.")
    chosen = proxies[0]
    if chosen is None:
        return None, warnings
    server, port, account = chosen
    user = username or account
    if user and not password:
        warnings.append(
            f"The site system's proxy account is {user}, but proxy_password is not given: the check goes "
            "through the proxy without credentials, as the SCP would not (expect 407 from an "
            "authenticating proxy)."
        )
    return Proxy(server, port, user, password if user else None, "site_system"), warnings


def latest_messages(rows: list) -> dict:
    """The latest 1141x message and the latest 11488 of this server, as the site recorded them."""
    from ansible_collections.configmgr.scp.plugins.plugin_utils._tls import parse_time

    def latest(ids: set[int]) -> dict | None:
        mine = [r for r in rows if isinstance(r, dict) and _int(r.get("MessageID")) in ids]
        if not mine:
            return None
        row = max(mine, key=lambda r: (parse_time(r.get("Time")) or parse_time("1970-01-01T00:00:00Z"), _int(r.get("RecordID")) or 0))
        strings = [row.get(f"InsString{n}") for n in (1, 2, 3)]
        return {
            "message_id": _int(row.get("MessageID")),
            "severity": _SEVERITY.get(_int(row.get("Severity")), "unknown"),
            "time": row.get("Time"),
            "machine": row.get("MachineName"),
            "site_code": row.get("SiteCode"),
            "insertion_strings": [s for s in strings if s is not None],
            "meaning": _MEANING.get(_int(row.get("MessageID"))),
        }

    return {"endpoint_check": latest({11410, 11411, 11412}), "cloud_services": latest({11488})}


_SEVERITY = {1073741824: "informational", 2147483648: "warning", -2147483648: "warning", 3221225472: "error", -1073741824: "error"}
_MEANING = {
    11410: "every endpoint check passed",
    11411: "a non-critical endpoint check failed",
    11412: "a critical endpoint check failed",
    11488: "a cloud service cannot reach its required endpoints",
}


# ---------------------------------------------------------------------------------------------
# The SCP's own last check (EndpointConnectivityCheckWorker.log)

_REACHABLE = re.compile(r"^Endpoint (?P<url>\S+) is reachable\.?", re.I)
_FAILED = re.compile(
    r"^Failed to connect to (?P<level>critical|non-critical) endpoint (?P<url>\S+?): (?P<msg>.*?)"
    r"(?: \((?P<cls>[a-z0-9_]+)\))?$",
    re.I,
)
_CLOUD = re.compile(
    r"^Cloud service (?P<svc>.+?) cannot reach its required endpoint (?P<url>\S+?): (?P<msg>.*?)"
    r"(?: \((?P<cls>[a-z0-9_]+)\))?$",
    re.I,
)
_SUMMARY = re.compile(
    r"Endpoint connectivity check completed: (?P<checked>\d+) checked, (?P<failed>\d+) failed "
    r"\((?P<critical>\d+) critical\)\. Status message (?P<ids>[\d, ]+|none)",
    re.I,
)
_START = re.compile(r"^Starting endpoint connectivity check", re.I)
_SKIPPED = re.compile(r"skipped", re.I)


def scp_last_check(observed: PlanResult) -> dict:
    """The SCP's latest completed check, parsed on the controller with the CMTrace parser. The log's wording
    is not documented by Microsoft; lines this parser does not know are kept in `lines`."""
    tracing, log = observed.steps.get("tracing"), observed.steps.get("log")
    if tracing is None or not tracing.ok:
        return {"found": False, "reason": f"no tracing key {TRACING_KEY}: the SCP is not installed on this server"}
    path = (tracing.first or {}).get("TraceFilename") if isinstance(tracing.first, dict) else None
    if log is None or not log.ok:
        message = ((log.error or {}).get("message") if log is not None else None) or "not read"
        return {"found": False, "log": path, "reason": f"the log could not be read: {message}"}
    text = "\n".join(str(line) for line in log.output)
    entries = _cmtrace.parse(
        text, source=str(path or "EndpointConnectivityCheckWorker.log"), skip_partial_first_line=len(log.output) >= LOG_TAIL
    )
    messages = [(e, (e.message or "").removesuffix("~~").strip()) for e in entries]
    texts = [m for _entry, m in messages]
    last = max((i for i, m in enumerate(texts) if _SUMMARY.search(m) or (_SKIPPED.search(m) and "check" in m.lower())), default=None)
    if last is None:
        return {"found": False, "log": path, "reason": "no completed check in the log's last lines"}
    entry, message = messages[last]
    summary = _SUMMARY.search(message)
    if summary is None:
        return {"found": True, "log": path, "time": entry.time, "skipped": True, "summary": message, "endpoints": []}
    first = max((i for i, m in enumerate(texts[:last]) if _START.search(m)), default=-1) + 1
    endpoints, unknown = [], []
    for line in texts[first:last]:
        m = _REACHABLE.search(line) or _FAILED.search(line) or _CLOUD.search(line)
        if m is None:
            unknown.append(line)
            continue
        groups = m.groupdict()
        if "level" not in groups and "svc" not in groups:
            endpoints.append({"url": groups["url"], "reachable": True})
        else:
            endpoints.append(
                {
                    "url": groups["url"],
                    "reachable": False,
                    "level": groups.get("level") or "critical",
                    "cloud_service": groups.get("svc"),
                    "message": groups["msg"],
                    "class": groups.get("cls"),
                }
            )
    ids = [] if summary.group("ids").lower() == "none" else [int(x) for x in re.findall(r"\d+", summary.group("ids"))]
    return {
        "found": True,
        "log": path,
        "time": entry.time,
        "skipped": False,
        "summary": message,
        "checked": int(summary.group("checked")),
        "failed": int(summary.group("failed")),
        "critical": int(summary.group("critical")),
        "status_messages": ids,
        "endpoints": endpoints,
        "lines": unknown,
    }
