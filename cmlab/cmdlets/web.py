"""Invoke-WebRequest on a simulated host, through the simulated internet
(docs/configmgr-behaviour.md#internet-endpoints).

Failures are .NET WebExceptions, as Windows PowerShell 5.1 reports them (fqid
`WebCmdletWebResponseException`): "The operation has timed out.", "The underlying connection was
closed: Could not establish trust relationship for the SSL/TLS secure channel.", "The remote server
returned an error: (407) Proxy Authentication Required.", ...
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cmlab.model.internet import ProxyUse, client_for, lab_internet

from .base import Invocation, cmdlet
from .errors import CmdletError, non_interactive_prompt, not_simulated
from .pstypes import PSCredential, PSObject


def _web_error(inv: Invocation, response) -> CmdletError:
    """The engine's error record of a WebException: the message, and the exception's Status (and the
    response's HTTP status) that the engine adds for every WebException (docs/engine-protocol.md section 3)."""
    extra = {"web_status": response.web_exception_status}
    if response.status is not None:
        extra["http_status"] = response.status
    return CmdletError.of(
        inv.cmdlet, "WebCmdletWebResponseException", response.message, "InvalidOperation", "System.Net.WebException", extra
    )


def _proxy_authenticated(inv: Invocation) -> bool:
    """-ProxyCredential: the proxy accepts a domain account with its password (an authenticating proxy
    checks the account against the domain, as NTLM/Kerberos proxies do). A wrong password is no
    account at all to it: 407 again."""
    credential = inv.get("ProxyCredential")
    if not isinstance(credential, PSCredential):
        return False
    return inv.model.domain.verify(credential.user_name, credential.password.reveal())


@cmdlet(
    "Invoke-WebRequest",
    (
        "Uri",
        "UseBasicParsing",
        "TimeoutSec",
        "Proxy",
        "ProxyCredential",
        "ProxyUseDefaultCredentials",
        "Method",
        "UserAgent",
        "DisableKeepAlive",
        "MaximumRedirection",
        "OutFile",
        "PassThru",
    ),
)
def invoke_web_request(inv: Invocation) -> list:
    uri = str(inv.get("Uri"))
    parts = urlsplit(uri if "://" in uri else "http://" + uri)
    host_name = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host_name:
        raise not_simulated(inv.cmdlet, f"for the URI {uri!r} (only http and https)")
    if not inv.switch("UseBasicParsing"):
        # Since the December 2025 update full parsing asks for confirmation first (Invoke-WebRequest
        # reference), which a non-interactive session cannot answer: -UseBasicParsing is required.
        raise non_interactive_prompt(inv.cmdlet)
    method = str(inv.get("Method") or "Get").lower()
    if method not in ("get", "head", "default"):
        raise not_simulated(inv.cmdlet, f"with -Method {inv.get('Method')}")
    with inv.model.lock:
        if inv.model.host(host_name) is not None:
            raise not_simulated(inv.cmdlet, f"for a lab host ({host_name}); only internet endpoints are simulated")
        proxy = None
        if inv.get("Proxy"):
            if inv.switch("ProxyUseDefaultCredentials") and inv.get("ProxyCredential") is not None:
                raise CmdletError.of(
                    inv.cmdlet,
                    "ProxyCredentialConflict",
                    "The cmdlet cannot run because the following conflicting parameters are specified: "
                    "ProxyCredential and ProxyUseDefaultCredentials. Specify either ProxyCredential or "
                    "ProxyUseDefaultCredentials, then retry.",
                    "InvalidArgument",
                    "System.Management.Automation.ValidationMetadataException",
                )
            p = urlsplit(str(inv.get("Proxy")) if "://" in str(inv.get("Proxy")) else "http://" + str(inv.get("Proxy")))
            # -ProxyUseDefaultCredentials in a WinRM session: the logon cannot be delegated to the
            # proxy (second hop), so an authenticating proxy still answers 407 (assumption);
            # -ProxyCredential authenticates when the domain knows the account and its password.
            proxy = ProxyUse(p.hostname or "", p.port or 80, authenticated=_proxy_authenticated(inv))
        response = lab_internet(inv.model).request(uri, proxy, client_for(inv.host, "powershell", inv.model.clock.now()))
        if not response.ok:
            raise _web_error(inv, response)
        if inv.get("OutFile"):
            inv.host.fs.write_text(str(inv.get("OutFile")), "")
            if not inv.switch("PassThru"):
                return []
    return [
        PSObject(
            [
                "Microsoft.PowerShell.Commands.BasicHtmlWebResponseObject",
                "Microsoft.PowerShell.Commands.WebResponseObject",
                "System.Object",
            ],
            {
                "StatusCode": response.status or 200,
                "StatusDescription": "OK",
                "Content": "",
                "RawContentLength": 0,
                "Headers": {},
                "BaseResponse": None,
            },
            "",
        )
    ]
