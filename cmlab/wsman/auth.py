"""Authentication for the WinRM listeners: Basic, NTLM/Negotiate (pyspnego acceptor) and TLS
client certificates. Passwords never reach a log or the NTLM user file (which holds hashes).
"""

from __future__ import annotations

import base64
import binascii
import hmac
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import spnego
from cryptography import x509
from cryptography.x509.oid import NameOID

# Private to pyspnego, but these are exactly the hashes its acceptor compares against, and writing
# hashes (smbpasswd format) rather than "DOMAIN:USER:PASSWORD" lines keeps passwords off the disk
# and allows ':' in a password.
from spnego._ntlm_raw.crypto import lmowfv1, ntowfv1
from spnego.exceptions import SpnegoError

MUTUAL_AUTH_HEADER = "http://schemas.dmtf.org/wbem/wsman/1/wsman/secprofile/https/mutual"
UPN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.311.20.2.3")

# Windows advertises Negotiate (clients then send NTLM inside it) and, when enabled, Basic.
CHALLENGE_HEADERS: tuple[tuple[str, str], ...] = (
    ("WWW-Authenticate", "Negotiate"),
    ("WWW-Authenticate", 'Basic realm="WSMAN"'),
)
NEGOTIATE_ONLY: tuple[tuple[str, str], ...] = CHALLENGE_HEADERS[:1]

# pyspnego's NTLM acceptor finds its credentials through the process-wide NTLM_USER_FILE, read
# when the context is created and again when the AUTHENTICATE message is checked. Several labs
# (each with its own Users) may live in one process, so every acceptor call points the variable at
# its own file under this lock.
_NTLM_ENV_LOCK = threading.Lock()


@dataclass(frozen=True)
class Account:
    domain: str
    user: str
    password: str = field(repr=False)

    @property
    def principal(self) -> str:
        return f"{self.domain}\\{self.user}" if self.domain else self.user


def split_user(name: str) -> tuple[str | None, str]:
    r"""`DOMAIN\user` -> (DOMAIN, user); `user@domain` -> (domain, user); `user` -> (None, user)."""
    if "\\" in name:
        domain, user = name.split("\\", 1)
        return domain, user
    if "@" in name:
        user, domain = name.rsplit("@", 1)
        return domain, user
    return None, name


def _domain_matches(given: str | None, account_domain: str) -> bool:
    if given is None:
        return True
    if not account_domain:
        return given == "."  # a local account: `user` or `.\user`
    given, account_domain = given.lower(), account_domain.lower()
    # "lab.example" (DNS / UPN suffix) also names NetBIOS domain "LAB".
    return given == account_domain or given.split(".")[0] == account_domain.split(".")[0]


class Users:
    """The accounts of one lab, shared by all of its listeners."""

    def __init__(
        self,
        accounts: Iterable[tuple[str, str, str]],
        cert_map: dict[str, str] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
    ) -> None:
        self.accounts = [Account(d or "", u, p) for d, u, p in accounts]
        # certificate UPN or subject CN (lower-cased) -> "DOMAIN\\user"
        self._cert_map = {k.lower(): v for k, v in (cert_map or {}).items()}
        directory = Path(state_dir) if state_dir is not None else Path(tempfile.mkdtemp(prefix="cmlab-users-"))
        directory.mkdir(parents=True, exist_ok=True)
        self.ntlm_user_file = str(directory / "ntlm_users")
        self._write_ntlm_file()
        os.environ["NTLM_USER_FILE"] = self.ntlm_user_file

    def _write_ntlm_file(self) -> None:
        lines: list[str] = []
        for acct in self.accounts:
            lm = lmowfv1(acct.password).hex().upper()
            nt = ntowfv1(acct.password).hex().upper()
            names = [acct.user]  # a bare user name (NTLM domain "") matches too, as Windows' default domain
            if acct.domain:
                names += [f"{acct.domain}\\{acct.user}", f"{acct.user}@{acct.domain}"]
            else:
                names.append(f".\\{acct.user}")
            # smbpasswd format: NAME:UID:LM:NT:FLAGS:LCT
            lines += [f"{name}:0:{lm}:{nt}:[U]:LCT-00000000" for name in names]
        fd = os.open(self.ntlm_user_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")

    def find(self, name: str) -> Account | None:
        """The account a user name (any of the three forms) refers to."""
        domain, user = split_user(name)
        for acct in self.accounts:
            if acct.user.lower() == user.lower() and _domain_matches(domain, acct.domain):
                return acct
        return None

    def verify_password(self, name: str, password: str) -> str | None:
        """The principal for a good user name + password, else None."""
        domain, user = split_user(name)
        for acct in self.accounts:
            if (
                acct.user.lower() == user.lower()
                and _domain_matches(domain, acct.domain)
                and hmac.compare_digest(acct.password.encode(), password.encode())
            ):
                return acct.principal
        return None

    def principal_for_certificate(self, der: bytes) -> str | None:
        """Map a (TLS-verified) client certificate by UPN SAN, then by subject CN."""
        try:
            cert = x509.load_der_x509_certificate(der)
        except ValueError:
            return None
        for key in _certificate_names(cert):
            principal = self._cert_map.get(key.lower())
            if principal is not None:
                return principal
        return None

    def ntlm_acceptor(self) -> NtlmAcceptor:
        return NtlmAcceptor(self)


def _certificate_names(cert: x509.Certificate) -> list[str]:
    names: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        for other in san.get_values_for_type(x509.OtherName):
            if other.type_id == UPN_OID:
                upn = _der_utf8_string(other.value)
                if upn:
                    names.append(upn)
    except x509.ExtensionNotFound:
        pass
    names += [str(attr.value) for attr in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    return names


def _der_utf8_string(der: bytes) -> str | None:
    """Decode a DER UTF8String (tag 0x0C): the encoding of a UPN otherName value."""
    if len(der) < 2 or der[0] != 0x0C:
        return None
    length, offset = der[1], 2
    if length & 0x80:
        count = length & 0x7F
        length, offset = int.from_bytes(der[2 : 2 + count], "big"), 2 + count
    value = der[offset : offset + length]
    if len(value) != length:
        return None
    return value.decode("utf-8", errors="replace")


class NtlmAcceptor:
    """One NTLM/Negotiate handshake (raw NTLMSSP or SPNEGO-wrapped tokens both work)."""

    def __init__(self, users: Users) -> None:
        self._users = users
        with _NTLM_ENV_LOCK:
            os.environ["NTLM_USER_FILE"] = users.ntlm_user_file
            self.context = spnego.server(protocol="negotiate")

    def step(self, token: bytes) -> bytes | None:
        """Raises on a bad token or credentials."""
        with _NTLM_ENV_LOCK:
            os.environ["NTLM_USER_FILE"] = self._users.ntlm_user_file
            return self.context.step(token)

    @property
    def complete(self) -> bool:
        return bool(self.context.complete)

    @property
    def principal(self) -> str:
        name = self.context.client_principal or ""
        acct = self._users.find(name)
        return acct.principal if acct is not None else name


@dataclass(frozen=True)
class AuthResult:
    principal: str | None  # None: answer 401 with `headers`
    headers: tuple[tuple[str, str], ...] = ()  # to add to the response either way


REJECT = AuthResult(None, CHALLENGE_HEADERS)


class ConnectionAuth:
    """Authentication state of one keep-alive connection: NTLM authenticates the connection, and
    requests after the handshake carry no Authorization header (reference §2.3).

    `login_allowed` is asked once per login whose credentials are good (the bad_credentials fault
    says no); a connection NTLM already authenticated stays authenticated, as on Windows.
    `allow_basic` and `allow_certificate` are the WinRM service's Auth/Basic and Auth/Certificate
    (false on Windows unless configured): a disabled scheme is refused with a 401 that does not
    offer it."""

    def __init__(
        self,
        users: Users,
        peer_certificate: bytes | None = None,
        login_allowed: Callable[[], bool] | None = None,
        allow_basic: bool = False,
        allow_certificate: bool = False,
    ) -> None:
        self._users = users
        self._peer_certificate = peer_certificate
        self._login_allowed = login_allowed or (lambda: True)
        self.allow_basic = allow_basic
        self.allow_certificate = allow_certificate
        self.challenge = CHALLENGE_HEADERS if allow_basic else NEGOTIATE_ONLY
        self._pending: NtlmAcceptor | None = None
        self.session: NtlmAcceptor | None = None  # completed NTLM context: used for encryption
        self.session_principal: str | None = None

    def authenticate(self, authorization: str | None) -> AuthResult:
        if not authorization:
            if self.session_principal is not None:
                return AuthResult(self.session_principal)
            return self.reject()
        scheme, _, credentials = authorization.strip().partition(" ")
        scheme = scheme.lower()
        if scheme == "basic":
            return self._basic(credentials.strip())
        if scheme in ("negotiate", "ntlm"):
            return self._ntlm(scheme, credentials.strip())
        if authorization.strip().lower() == MUTUAL_AUTH_HEADER:
            return self._certificate()
        return self.reject()

    def reject(self) -> AuthResult:
        return AuthResult(None, self.challenge)

    def _basic(self, credentials: str) -> AuthResult:
        if not self.allow_basic:
            return self.reject()
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return self.reject()
        name, sep, password = decoded.partition(":")
        if not sep:
            return self.reject()
        principal = self._users.verify_password(name, password)
        return AuthResult(principal) if principal and self._login_allowed() else self.reject()

    def _ntlm(self, scheme: str, credentials: str) -> AuthResult:
        # A fresh handshake on an authenticated connection re-authenticates it.
        if self._pending is None:
            self.session = self.session_principal = None
            self._pending = self._users.ntlm_acceptor()
        acceptor = self._pending
        try:
            out = acceptor.step(base64.b64decode(credentials, validate=True))
        except (SpnegoError, binascii.Error, ValueError):
            # bad password, unknown user, garbage token: all 401, as Windows does
            self._pending = None
            return self.reject()
        reply_scheme = "NTLM" if scheme == "ntlm" else "Negotiate"
        token_header = (("WWW-Authenticate", f"{reply_scheme} {base64.b64encode(out).decode()}"),) if out else ()
        if not acceptor.complete:
            return AuthResult(None, token_header)
        self._pending = None
        if not self._login_allowed():
            return self.reject()
        self.session = acceptor
        self.session_principal = acceptor.principal
        # SPNEGO clients (pypsrp) only complete after reading the final mechListMIC token (§2.3 #3).
        return AuthResult(self.session_principal, token_header)

    def _certificate(self) -> AuthResult:
        if self._peer_certificate is None or not self.allow_certificate:
            return self.reject()
        principal = self._users.principal_for_certificate(self._peer_certificate)
        return AuthResult(principal) if principal and self._login_allowed() else self.reject()
