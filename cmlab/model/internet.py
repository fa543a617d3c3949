"""The simulated internet: the endpoints the service connection point needs
(docs/configmgr-behaviour.md#internet-endpoints), what happens when a host reaches each of them, proxies,
and the updates Microsoft offers.

Every request from a simulated host to a host outside the lab comes here: the SCP's connectivity
check and DMP downloader, `Invoke-WebRequest`, the Service Connection Tool. The outcome of each
endpoint is set from the topology (`internet:`) and at run time (control API `POST /internet`).
Which endpoints are critical is not documented: the choice is listed in
docs/simulator-assumptions.md ("ConfigMgr behaviour").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .errors import InvalidArgument
from .match import wildcard_match

REACHABLE = "reachable"
TIMEOUT = "timeout"
TLS_FAILURE = "tls_failure"
# docs/configmgr-behaviour.md#internet-endpoints: the connectivity check's failure classes (timeout, TLS, these HTTP statuses).
FAILURE_STATUSES = (407, 408, 426, 451, 502, 511, 598, 599)

REASONS = {
    200: "OK", 400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    407: "Proxy Authentication Required", 408: "Request Timeout", 426: "Upgrade Required",
    451: "Unavailable For Legal Reasons", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout", 511: "Network Authentication Required",
    598: "Network read timeout error", 599: "Network connect timeout error",
}

# .NET System.Net.WebException texts (PowerShell 5.1 Invoke-WebRequest, .NET components).
MSG_TIMEOUT = "The operation has timed out."
MSG_TLS = "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel."
# docs/configmgr-behaviour.md#service-connection-tool (TLS 1.2 off)
MSG_SEND = "The underlying connection was closed: An unexpected error occurred on a send."
MSG_CONNECT = "Unable to connect to the remote server"

# HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319 SchUseStrongCrypto / SystemDefaultTlsVersions (docs/configmgr-behaviour.md#service-
# connection-tool)
NETFX_KEY = r"HKLM:\SOFTWARE\Microsoft\.NETFramework\v4.0.30319"


@dataclass(frozen=True)
class Endpoint:
    host: str
    group: str                 # feature group of the internet-endpoints doc (docs/configmgr-behaviour.md#internet-endpoints)
    critical: bool = False     # a failure makes the check an error (11412) — assumption
    service: str = ""          # cloud service that requires it (11488 when enabled) — assumption
    tls12_only: bool = False   # docs/configmgr-behaviour.md#internet-endpoints: "TLS 1.2 + specific ciphers only"
    path: str = "/"

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"


# The concrete host names of docs/configmgr-behaviour.md#internet-endpoints the SCP checks (wildcard entries cannot be checked).
ENDPOINTS: tuple[Endpoint, ...] = (
    Endpoint("aka.ms", "URL forwarders", critical=True),
    Endpoint("go.microsoft.com", "URL forwarders", critical=True),
    Endpoint("sccm.manage.microsoft.com", "Updates and servicing", critical=True, path="/SCCMConnectedService.svc"),
    Endpoint("configmgrbits.cdn.manage.microsoft.com", "Updates and servicing", critical=True, tls12_only=True),
    Endpoint("sccmconnected-a01.cloudapp.net", "Updates and servicing", critical=True),
    Endpoint("download.microsoft.com", "Updates and servicing", critical=True),
    Endpoint("download.windowsupdate.com", "Updates and servicing"),
    Endpoint("download.visualstudio.microsoft.com", "Updates and servicing"),
    Endpoint("definitionupdates.microsoft.com", "Updates and servicing"),
    Endpoint("configmgrbits.azureedge.net", "Updates and servicing"),
    Endpoint("cmbitsstore.blob.core.windows.net", "Updates and servicing"),
    Endpoint("umwatsonc.events.data.microsoft.com", "Updates and servicing"),
    Endpoint("dl.delivery.mp.microsoft.com", "Windows servicing"),
    Endpoint("management.azure.com", "Azure services", service="azure_services"),
    Endpoint("graph.microsoft.com", "Cloud services", service="azure_services"),
    Endpoint("us.gateway.configmgr.manage.microsoft.com", "Tenant attach", service="tenant_attach"),
    Endpoint("dc.services.visualstudio.com", "Tenant attach", service="tenant_attach"),
)
CLOUD_SERVICES = frozenset(e.service for e in ENDPOINTS if e.service)
MANIFEST_FWLINK = "https://go.microsoft.com/fwlink/?LinkId=2309745"   # docs/configmgr-behaviour.md#logs Dmpdownloader line


def endpoint(host: str) -> Endpoint | None:
    return next((e for e in ENDPOINTS if e.host == host.lower()), None)


@dataclass(frozen=True)
class SiteUpdate:
    """An update or hotfix the simulated Microsoft cloud offers (SMS_CM_UpdatePackages)."""

    guid: str
    name: str
    full_version: str
    hotfix: bool = False

    @property
    def version_key(self) -> tuple[int, ...]:
        return tuple(int(p) for p in self.full_version.split("."))


AVAILABLE_UPDATES: tuple[SiteUpdate, ...] = (
    SiteUpdate("6F4B9D21-7C3E-4A58-9E0B-2D1C5A7F3E90", "Configuration Manager 2409", "5.00.9132.1000"),
    SiteUpdate("A1C3E5F7-2B4D-4F6A-8C0E-1D3F5A7B9C2E", "Configuration Manager 2503", "5.00.9135.1000"),
    SiteUpdate("D2E4F6A8-3C5E-4A7B-9D1F-2E4A6C8E0F13", "Configuration Manager 2503 Hotfix Rollup", "5.00.9135.1010",
               hotfix=True),
)


def parse_outcome(value: object) -> str | int:
    """'reachable' | 'timeout' | 'tls_failure' | an HTTP status (407, '407' or 'http_407')."""
    if isinstance(value, bool):
        raise InvalidArgument(f"not an endpoint outcome: {value!r}")
    if isinstance(value, int):
        status = value
    else:
        text = str(value).strip().lower()
        if text in (REACHABLE, TIMEOUT, TLS_FAILURE):
            return text
        text = text.removeprefix("http_")
        if not text.isdigit():
            raise InvalidArgument(f"not an endpoint outcome: {value!r} (reachable, timeout, tls_failure or an HTTP "
                                  "status such as 407)")
        status = int(text)
    if not 100 <= status <= 599:
        raise InvalidArgument(f"not an HTTP status: {status}")
    return REACHABLE if 200 <= status < 400 else status


@dataclass
class ProxyServer:
    port: int = 8080
    auth_required: bool = False

    def to_dict(self) -> dict:
        return {"port": self.port, "auth_required": self.auth_required}


@dataclass
class EndpointRule:
    outcome: str | int = REACHABLE
    proxy_required: bool | None = None    # None = the internet's default

    def to_dict(self) -> dict:
        out: dict = {"outcome": self.outcome}
        if self.proxy_required is not None:
            out["proxy_required"] = self.proxy_required
        return out


@dataclass(frozen=True)
class ProxyUse:
    """How a client goes through a proxy: server, port, and whether it authenticates."""

    server: str
    port: int
    authenticated: bool = False


@dataclass(frozen=True)
class Response:
    ok: bool
    status: int | None = None
    failure: str = ""                     # timeout / tls_failure / send_failure / http / name_resolution / connect
    message: str = ""

    @property
    def kind(self) -> str:
        return "reachable" if self.ok else (f"http_{self.status}" if self.failure == "http" else self.failure)


def http_failure(status: int) -> Response:
    reason = REASONS.get(status, "Unknown")
    return Response(False, status, "http", f"The remote server returned an error: ({status}) {reason}.")


@dataclass
class Internet:
    default: str | int = REACHABLE
    proxy_required: bool = False                     # direct connections are dropped (time out)
    proxies: dict[str, ProxyServer] = field(default_factory=dict)
    rules: dict[str, EndpointRule] = field(default_factory=dict)   # host or wildcard pattern → rule

    def configure(self, spec: dict, replace: bool = False) -> None:
        """Apply a topology / control API `internet` document (validated first, then applied)."""
        if not isinstance(spec, dict):
            raise InvalidArgument("internet: expected a mapping")
        unknown = set(spec) - {"default", "proxy_required", "proxies", "endpoints"}
        if unknown:
            raise InvalidArgument(f"internet: unknown field(s): {', '.join(sorted(unknown))}")
        default = parse_outcome(spec["default"]) if "default" in spec else (REACHABLE if replace else self.default)
        proxy_required = spec.get("proxy_required", False if replace else self.proxy_required)
        if not isinstance(proxy_required, bool):
            raise InvalidArgument("internet.proxy_required: true or false")
        proxies = {} if replace else dict(self.proxies)
        for name, raw in (spec.get("proxies") or {}).items():
            raw = raw or {}
            if not isinstance(raw, dict) or set(raw) - {"port", "auth_required"}:
                raise InvalidArgument(f"internet.proxies.{name}: expected {{port, auth_required}}")
            port, auth = raw.get("port", 8080), raw.get("auth_required", False)
            if not isinstance(port, int) or isinstance(port, bool) or not 1 <= port <= 65535 or not isinstance(auth, bool):
                raise InvalidArgument(f"internet.proxies.{name}: port 1-65535, auth_required true or false")
            proxies[str(name).lower()] = ProxyServer(port, auth)
        rules = {} if replace else dict(self.rules)
        for host, raw in (spec.get("endpoints") or {}).items():
            if isinstance(raw, dict):
                if set(raw) - {"outcome", "proxy_required"}:
                    raise InvalidArgument(f"internet.endpoints.{host}: expected {{outcome, proxy_required}}")
                rule = EndpointRule(parse_outcome(raw.get("outcome", REACHABLE)), raw.get("proxy_required"))
                if rule.proxy_required is not None and not isinstance(rule.proxy_required, bool):
                    raise InvalidArgument(f"internet.endpoints.{host}.proxy_required: true or false")
            else:
                rule = EndpointRule(parse_outcome(raw))
            rules[str(host).lower()] = rule
        self.default, self.proxy_required, self.proxies, self.rules = default, proxy_required, proxies, rules

    def rule(self, host: str) -> EndpointRule:
        host = host.lower()
        if host in self.rules:
            return self.rules[host]
        matches = [p for p in self.rules if wildcard_match(p, host)]
        if matches:
            return self.rules[max(matches, key=len)]    # the most specific pattern wins
        return EndpointRule(self.default)

    def request(self, url: str, proxy: ProxyUse | None = None, tls12: bool = True) -> Response:
        """One HTTPS request from a host. `tls12` = the host's .NET can negotiate TLS 1.2."""
        host = (urlsplit(url).hostname or url).lower()
        rule = self.rule(host)
        if proxy is not None:
            known = self.proxies.get(proxy.server.lower())
            if known is None:
                return Response(False, None, "name_resolution", f"The proxy name could not be resolved: '{proxy.server}'")
            if known.port != proxy.port:
                return Response(False, None, "connect", MSG_CONNECT)
            if known.auth_required and not proxy.authenticated:
                return http_failure(407)
        else:
            needs_proxy = self.proxy_required if rule.proxy_required is None else rule.proxy_required
            if needs_proxy:
                return Response(False, None, "timeout", MSG_TIMEOUT)   # egress dropped without a proxy
        known_endpoint = endpoint(host)
        if known_endpoint is not None and known_endpoint.tls12_only and not tls12:
            return Response(False, None, "send_failure", MSG_SEND)
        if rule.outcome == REACHABLE:
            return Response(True, 200)
        if rule.outcome == TIMEOUT:
            return Response(False, None, "timeout", MSG_TIMEOUT)
        if rule.outcome == TLS_FAILURE:
            return Response(False, None, "tls_failure", MSG_TLS)
        return http_failure(int(rule.outcome))

    def to_dict(self) -> dict:
        return {
            "default": self.default,
            "proxy_required": self.proxy_required,
            "proxies": {name: p.to_dict() for name, p in sorted(self.proxies.items())},
            "endpoints": {host: r.to_dict() for host, r in sorted(self.rules.items())},
        }


def host_has_tls12(host) -> bool:
    """.NET on the host negotiates TLS 1.2 when both registry values are 1 (docs/configmgr-behaviour.md#service-connection-tool)."""
    reg = host.registry
    return all(reg.get_value(NETFX_KEY, name) == 1 for name in ("SchUseStrongCrypto", "SystemDefaultTlsVersions"))


def lab_internet(model) -> Internet:
    """The lab's simulated internet (a LabModel's `internet`)."""
    return model.internet
