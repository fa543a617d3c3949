"""The simulated internet: the endpoints the service connection point needs
(docs/configmgr-behaviour.md#internet-endpoints), what happens when a host reaches each of them, proxies,
and the updates Microsoft offers.

Every request from a simulated host to a host outside the lab comes here: the SCP's connectivity
check, DMP downloader and uploader, `Invoke-WebRequest`, the Service Connection Tool. The outcome of
each endpoint is set from the topology (`internet:`) and at run time (control API `POST /internet`).
A request fails, in this order, where the real one would:

1. the proxy: unknown name, wrong port, 407 to a client without the proxy's account; without a proxy,
   a `proxy_required` egress drops the connection (a timeout);
2. the endpoint's name (`dns_failure`), the connection (`timeout`, `connect_failure`);
3. TLS, for https: a client that cannot negotiate TLS 1.2 (`send_failure`: every Microsoft endpoint
   requires TLS 1.2, docs/configmgr-behaviour.md#tls-prerequisites), a broken TLS handshake
   (`tls_failure`), or a chain whose root is missing or expired in the client's Root store
   (`tls_failure`, the trust failure);
4. the HTTP status (407, 408, 426, 451, 502, 511, 598, 599 or any other).

The failure texts are .NET's `System.Net.WebException` messages, as Windows PowerShell 5.1 and the
.NET components of ConfigMgr report them. Which endpoints are critical, and which root each chains to,
is not documented: the choices are listed in docs/simulator-assumptions.md ("ConfigMgr behaviour").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from .certificates import DEFAULT_CHAIN_ROOT, well_known_root
from .errors import InvalidArgument
from .match import wildcard_match
from .netsettings import NETFX_KEY, NETFX_WOW_KEY  # re-exported: the .NET TLS keys tests set

REACHABLE = "reachable"
TIMEOUT = "timeout"
TLS_FAILURE = "tls_failure"
DNS_FAILURE = "dns_failure"
CONNECT_FAILURE = "connect_failure"
OUTCOMES = (REACHABLE, TIMEOUT, TLS_FAILURE, DNS_FAILURE, CONNECT_FAILURE)
# The connectivity check's failure classes besides timeout and TLS (docs/configmgr-behaviour.md#internet-endpoints).
FAILURE_STATUSES = (407, 408, 426, 451, 502, 511, 598, 599)

REASONS = {
    200: "OK",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    407: "Proxy Authentication Required",
    408: "Request Timeout",
    410: "Gone",
    426: "Upgrade Required",
    429: "Too Many Requests",
    451: "Unavailable For Legal Reasons",
    500: "Internal Server Error",
    501: "Not Implemented",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    511: "Network Authentication Required",
    598: "Network read timeout error",
    599: "Network connect timeout error",
}

# .NET System.Net.WebException texts (and their WebExceptionStatus) as Windows PowerShell 5.1 shows them.
MSG_TIMEOUT = "The operation has timed out."  # Timeout
MSG_TLS = "The underlying connection was closed: Could not establish trust relationship for the SSL/TLS secure channel."  # TrustFailure
MSG_SEND = "The underlying connection was closed: An unexpected error occurred on a send."  # SendFailure (TLS 1.2 off)
MSG_CONNECT = "Unable to connect to the remote server"  # ConnectFailure
MSG_DNS = "The remote name could not be resolved: '{host}'"  # NameResolutionFailure
MSG_PROXY_DNS = "The proxy name could not be resolved: '{host}'"  # ProxyNameResolutionFailure
WEB_EXCEPTION_STATUS = {
    "timeout": "Timeout",
    "tls_failure": "TrustFailure",
    "send_failure": "SendFailure",
    "connect_failure": "ConnectFailure",
    "dns_failure": "NameResolutionFailure",
    "proxy_dns_failure": "ProxyNameResolutionFailure",
    "http": "ProtocolError",
}


@dataclass(frozen=True)
class Endpoint:
    host: str
    group: str  # feature group of the internet-endpoints doc
    path: str = "/"
    scheme: str = "https"
    check: bool = False  # validated by the SCP's connectivity check (2010+, tenant attach)
    critical: bool = False  # a failure of a checked endpoint is critical (11412) — assumption
    services: tuple[str, ...] = ()  # cloud services that require it (11488 when one of them is enabled)
    root: str = DEFAULT_CHAIN_ROOT  # the root its TLS chain ends at — assumption

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{self.path}"


def _https(host: str, group: str, **kw) -> Endpoint:
    return Endpoint(host, group, **kw)


def _http(host: str, group: str, path: str = "/") -> Endpoint:
    return Endpoint(host, group, path, scheme="http", check=True)


TENANT_ATTACH = "Tenant attach"
# The concrete host names of the internet-endpoints doc (wildcard entries cannot be reached as such: a
# documented example host stands for `*.manage.microsoft.com`).
ENDPOINTS: tuple[Endpoint, ...] = (
    _https("aka.ms", "URL forwarders", path="/configmgrgateway", check=True, critical=True, services=("tenant_attach",)),
    _https("go.microsoft.com", "URL forwarders"),
    _https("sccm.manage.microsoft.com", "Updates and servicing", path="/SCCMConnectedService.svc"),
    _https("configmgrbits.cdn.manage.microsoft.com", "Updates and servicing"),
    _https("sccmconnected-a01.cloudapp.net", "Updates and servicing"),
    _https("download.microsoft.com", "Updates and servicing"),
    _https("download.windowsupdate.com", "Updates and servicing"),
    _https("download.visualstudio.microsoft.com", "Updates and servicing"),
    _https("definitionupdates.microsoft.com", "Updates and servicing"),
    _https("configmgrbits.azureedge.net", "Updates and servicing"),
    _https("cmbitsstore.blob.core.windows.net", "Updates and servicing"),
    _https("umwatsonc.events.data.microsoft.com", "Updates and servicing"),
    _https("dl.delivery.mp.microsoft.com", "Windows servicing"),
    _https("management.azure.com", "Azure services", services=("azure_services",)),
    _https("login.microsoftonline.com", "Azure services", services=("azure_services",)),
    _https("graph.microsoft.com", "Cloud services", services=("azure_services",)),
    _https(
        "us.gateway.configmgr.manage.microsoft.com",
        TENANT_ATTACH,
        path="/api/gateway",
        check=True,
        critical=True,
        services=("tenant_attach",),
    ),
    _https("dc.services.visualstudio.com", TENANT_ATTACH, check=True),
    _http("crl3.digicert.com", TENANT_ATTACH),
    _http("crl4.digicert.com", TENANT_ATTACH),
    _http("ocsp.digicert.com", TENANT_ATTACH),
    _http("www.d-trust.net", TENANT_ATTACH),
    _http("root-c3-ca2-2009.ocsp.d-trust.net", TENANT_ATTACH),
    _http("crl.microsoft.com", TENANT_ATTACH),
    _http("oneocsp.microsoft.com", TENANT_ATTACH),
    _http("ocsp.msocsp.com", TENANT_ATTACH),
    _http("www.microsoft.com", TENANT_ATTACH, path="/pkiops"),
    _https("prod1.westus2.logic.azure.com", "External notifications"),
)
CLOUD_SERVICES = frozenset(s for e in ENDPOINTS for s in e.services)
MANIFEST_FWLINK = "https://go.microsoft.com/fwlink/?LinkId=2309745"  # a documented Dmpdownloader.log line


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
    SiteUpdate("D2E4F6A8-3C5E-4A7B-9D1F-2E4A6C8E0F13", "Configuration Manager 2503 Hotfix Rollup", "5.00.9135.1010", hotfix=True),
)


def parse_outcome(value: object) -> str | int:
    """'reachable' | 'timeout' | 'tls_failure' | 'dns_failure' | 'connect_failure' | an HTTP status
    (407, '407' or 'http_407')."""
    if isinstance(value, bool):
        raise InvalidArgument(f"not an endpoint outcome: {value!r}")
    if isinstance(value, int):
        status = value
    else:
        text = str(value).strip().lower()
        if text in OUTCOMES:
            return text
        text = text.removeprefix("http_")
        if not text.isdigit():
            raise InvalidArgument(f"not an endpoint outcome: {value!r} ({', '.join(OUTCOMES)} or an HTTP status such as 407)")
        status = int(text)
    if not 100 <= status <= 599:
        raise InvalidArgument(f"not an HTTP status: {status}")
    return REACHABLE if 200 <= status < 400 else status


def parse_root(value: object, where: str) -> str:
    """A chain root: a well-known root's name or thumbprint, or a full subject ('CN=..., O=...')."""
    if not isinstance(value, str) or not value.strip():
        raise InvalidArgument(f"{where}: a root certificate name or subject")
    if "=" in value:
        return value.strip()
    return well_known_root(value).subject


@dataclass
class ProxyServer:
    port: int = 8080
    auth_required: bool = False

    def to_dict(self) -> dict:
        return {"port": self.port, "auth_required": self.auth_required}


@dataclass
class EndpointRule:
    outcome: str | int = REACHABLE
    proxy_required: bool | None = None  # None = the internet's default
    root: str | None = None  # the chain's root subject; None = the endpoint's own

    def to_dict(self) -> dict:
        out: dict = {"outcome": self.outcome}
        if self.proxy_required is not None:
            out["proxy_required"] = self.proxy_required
        if self.root is not None:
            out["root"] = self.root
        return out


@dataclass(frozen=True)
class ProxyUse:
    """How a client goes through a proxy: server, port, and whether it authenticates."""

    server: str
    port: int
    authenticated: bool = False


@dataclass(frozen=True)
class TlsClient:
    """What the calling process brings to TLS: TLS 1.2 or not, and its host's Root store."""

    tls12: bool = True
    root_status: Callable[[str], str] = lambda subject: "valid"  # 'valid' | 'expired' | 'missing'


def client_for(host, process: str, now: float) -> TlsClient:
    """The TLS client of a process on a simulated host (its .NET/SCHANNEL view and Root store)."""
    return TlsClient(host.net.tls12(process), lambda subject: host.certificates.root_status(subject, now))


@dataclass(frozen=True)
class Response:
    ok: bool
    status: int | None = None
    failure: str = ""  # timeout / tls_failure / send_failure / dns_failure / proxy_dns_failure / connect_failure / http
    message: str = ""
    detail: str = ""  # e.g. "root missing: CN=DigiCert Global Root G2, ..." for a trust failure

    @property
    def kind(self) -> str:
        return "reachable" if self.ok else (f"http_{self.status}" if self.failure == "http" else self.failure)

    @property
    def web_exception_status(self) -> str:
        """The .NET WebExceptionStatus a WebException for this failure carries."""
        return "Success" if self.ok else WEB_EXCEPTION_STATUS.get(self.failure, "UnknownError")


def http_failure(status: int) -> Response:
    reason = REASONS.get(status)
    text = f"The remote server returned an error: ({status}) {reason}." if reason else f"The remote server returned an error: ({status})."
    return Response(False, status, "http", text)


ChangeListener = Callable[[int], None]


@dataclass
class Internet:
    default: str | int = REACHABLE
    proxy_required: bool = False  # direct connections are dropped (time out)
    proxies: dict[str, ProxyServer] = field(default_factory=dict)
    rules: dict[str, EndpointRule] = field(default_factory=dict)  # host or wildcard pattern → rule
    # Microsoft changed the configuration of its services this many times (each asks SCPs' console
    # notification to restart SMS_EXECUTIVE, docs/configmgr-behaviour.md#console-notifications).
    config_changes: int = 0
    _listeners: list[ChangeListener] = field(default_factory=list, repr=False)

    def on_config_change(self, listener: ChangeListener) -> None:
        self._listeners.append(listener)

    def configure(self, spec: dict, replace: bool = False) -> None:
        """Apply a topology / control API `internet` document (validated first, then applied)."""
        if not isinstance(spec, dict):
            raise InvalidArgument("internet: expected a mapping")
        unknown = set(spec) - {"default", "proxy_required", "proxies", "endpoints", "service_configuration_change"}
        if unknown:
            raise InvalidArgument(f"internet: unknown field(s): {', '.join(sorted(unknown))}")
        default = parse_outcome(spec["default"]) if "default" in spec else (REACHABLE if replace else self.default)
        proxy_required = spec.get("proxy_required", False if replace else self.proxy_required)
        if not isinstance(proxy_required, bool):
            raise InvalidArgument("internet.proxy_required: true or false")
        change = spec.get("service_configuration_change", False)
        if not isinstance(change, bool):
            raise InvalidArgument("internet.service_configuration_change: true or false")
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
            where = f"internet.endpoints.{host}"
            if isinstance(raw, dict):
                if set(raw) - {"outcome", "proxy_required", "root"}:
                    raise InvalidArgument(f"{where}: expected {{outcome, proxy_required, root}}")
                rule = EndpointRule(
                    parse_outcome(raw.get("outcome", REACHABLE)),
                    raw.get("proxy_required"),
                    parse_root(raw["root"], f"{where}.root") if "root" in raw else None,
                )
                if rule.proxy_required is not None and not isinstance(rule.proxy_required, bool):
                    raise InvalidArgument(f"{where}.proxy_required: true or false")
            else:
                rule = EndpointRule(parse_outcome(raw))
            rules[str(host).lower()] = rule
        self.default, self.proxy_required, self.proxies, self.rules = default, proxy_required, proxies, rules
        if change:
            self.config_changes += 1
            for listener in list(self._listeners):
                listener(self.config_changes)

    def rule(self, host: str) -> EndpointRule:
        host = host.lower()
        if host in self.rules:
            return self.rules[host]
        matches = [p for p in self.rules if wildcard_match(p, host)]
        if matches:
            return self.rules[max(matches, key=len)]  # the most specific pattern wins
        return EndpointRule(self.default)

    def request(self, url: str, proxy: ProxyUse | None = None, client: TlsClient | None = None) -> Response:
        """One request from a host, as its process (`client`) makes it; see the module doc for the order."""
        parts = urlsplit(url if "://" in url else "https://" + url)
        host, scheme = (parts.hostname or url).lower(), (parts.scheme or "https").lower()
        client = client or TlsClient()
        rule = self.rule(host)
        if proxy is not None:
            known = self.proxies.get(proxy.server.lower())
            if known is None:
                return Response(False, None, "proxy_dns_failure", MSG_PROXY_DNS.format(host=proxy.server))
            if known.port != proxy.port:
                return Response(False, None, "connect_failure", MSG_CONNECT)
            if known.auth_required and not proxy.authenticated:
                return http_failure(407)
        else:
            needs_proxy = self.proxy_required if rule.proxy_required is None else rule.proxy_required
            if needs_proxy:
                return Response(False, None, "timeout", MSG_TIMEOUT)  # egress dropped without a proxy
        if rule.outcome == DNS_FAILURE:
            # Through a proxy the proxy resolves the name and answers the CONNECT with 502 (assumption).
            return http_failure(502) if proxy is not None else Response(False, None, "dns_failure", MSG_DNS.format(host=host))
        if rule.outcome == TIMEOUT:
            return Response(False, None, "timeout", MSG_TIMEOUT)
        if rule.outcome == CONNECT_FAILURE:
            return http_failure(502) if proxy is not None else Response(False, None, "connect_failure", MSG_CONNECT)
        if scheme == "https":
            if not client.tls12:
                return Response(False, None, "send_failure", MSG_SEND, "TLS 1.2 is not enabled for this process")
            if rule.outcome == TLS_FAILURE:
                return Response(False, None, "tls_failure", MSG_TLS, "TLS handshake failed")
            known_endpoint = endpoint(host)
            root = rule.root or (known_endpoint.root if known_endpoint else DEFAULT_CHAIN_ROOT)
            status = client.root_status(root)
            if status != "valid":
                return Response(False, None, "tls_failure", MSG_TLS, f"root {status}: {root}")
        elif rule.outcome == TLS_FAILURE:
            return Response(True, 200)  # plain http has no TLS to fail
        if rule.outcome == REACHABLE:
            return Response(True, 200)
        return http_failure(int(rule.outcome))

    def to_dict(self) -> dict:
        return {
            "default": self.default,
            "proxy_required": self.proxy_required,
            "proxies": {name: p.to_dict() for name, p in sorted(self.proxies.items())},
            "endpoints": {host: r.to_dict() for host, r in sorted(self.rules.items())},
            "service_configuration_changes": self.config_changes,
        }


def host_has_tls12(host) -> bool:
    """Can a new PowerShell process on the host negotiate TLS 1.2 (see cmlab.model.netsettings)?"""
    return host.net.tls12("powershell")


def lab_internet(model) -> Internet:
    """The lab's simulated internet (a LabModel's `internet`)."""
    return model.internet


__all__ = [
    "ENDPOINTS",
    "MSG_SEND",
    "MSG_TIMEOUT",
    "MSG_TLS",
    "NETFX_KEY",
    "NETFX_WOW_KEY",
    "Internet",
    "ProxyUse",
    "Response",
    "TlsClient",
    "client_for",
    "host_has_tls12",
    "lab_internet",
]
