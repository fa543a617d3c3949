"""Certificate stores of a Windows server (`Cert:\\LocalMachine\\Root` ...) and the root certificates
Microsoft's cloud endpoints chain to (docs/configmgr-behaviour.md#tls-prerequisites).

The roots are those of Microsoft's "Azure Certificate Authority details" page
(https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details): Baltimore CyberTrust Root
(expired May 12, 2025; Azure moved off it), DigiCert Global Root CA, DigiCert Global Root G2 and G3,
Microsoft ECC and RSA Root Certificate Authority 2017, with the thumbprints that page gives. A default
lab host has all six in its Root store. An endpoint is trusted when its chain's root is in the store
and valid now; a missing or expired root is a trust failure (what Windows reports as "Could not
establish trust relationship for the SSL/TLS secure channel").

A certificate file is read with the `cryptography` package (PEM, the Base-64 form; a text file in
cmlab's file system). `stand_in_pem(name)` makes a certificate with a well-known root's subject and
validity (not its key: cmlab checks names and dates, not signatures), for tests and for a topology's
`certificate_files`.
"""

from __future__ import annotations

import datetime
import hashlib
from dataclasses import dataclass, replace

from .errors import InvalidArgument, NotFound

ROOT_STORE = "LocalMachine\\Root"
DEFAULT_STORES = (
    "LocalMachine\\Root",
    "LocalMachine\\CA",
    "LocalMachine\\My",
    "LocalMachine\\TrustedPublisher",
    "LocalMachine\\AuthRoot",
    "LocalMachine\\Disallowed",
    "CurrentUser\\Root",
    "CurrentUser\\My",
)


def _epoch(text: str) -> float:
    return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc).timestamp()


@dataclass(frozen=True)
class Certificate:
    thumbprint: str  # SHA-1, upper-case hex
    subject: str  # as .NET shows it: "CN=..., OU=..., O=..., C=US"
    issuer: str
    not_before: float  # epoch seconds (UTC)
    not_after: float
    serial_number: str = ""
    friendly_name: str = ""

    @property
    def common_name(self) -> str:
        for part in split_dn(self.subject):
            if part.upper().startswith("CN="):
                return part[3:]
        return self.subject

    def valid_at(self, now: float) -> bool:
        return self.not_before <= now <= self.not_after

    def to_dict(self, now: float) -> dict:
        return {
            "subject": self.subject,
            "not_after": datetime.datetime.fromtimestamp(self.not_after, tz=datetime.timezone.utc).strftime("%Y-%m-%d"),
            "expired": now > self.not_after,
        }


def split_dn(dn: str) -> list[str]:
    return [p.strip() for p in dn.split(",") if p.strip()]


def normalise_dn(dn: str) -> str:
    return ", ".join(split_dn(dn)).lower()


def _root(name: str, ou: str | None, org: str, country: str, thumbprint: str, serial: str, not_before: str, not_after: str) -> Certificate:
    subject = ", ".join(p for p in (f"CN={name}", f"OU={ou}" if ou else "", f"O={org}", f"C={country}") if p)
    return Certificate(thumbprint, subject, subject, _epoch(not_before), _epoch(not_after), serial, name)


# Thumbprints, serial numbers and expiry days: Azure Certificate Authority details (URL above).
# NotBefore and the time of day of NotAfter: as the certificates carry them (assumption where the page is silent).
WELL_KNOWN_ROOTS: tuple[Certificate, ...] = (
    _root(
        "Baltimore CyberTrust Root",
        "CyberTrust",
        "Baltimore",
        "IE",
        "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
        "020000B9",
        "2000-05-12T18:46:00",
        "2025-05-12T23:59:00",
    ),
    _root(
        "DigiCert Global Root CA",
        "www.digicert.com",
        "DigiCert Inc",
        "US",
        "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
        "083BE056904246B1A1756AC95991C74A",
        "2006-11-10T00:00:00",
        "2031-11-10T00:00:00",
    ),
    _root(
        "DigiCert Global Root G2",
        "www.digicert.com",
        "DigiCert Inc",
        "US",
        "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
        "033AF1E6A711A9A0BB2864B11D09FAE5",
        "2013-08-01T12:00:00",
        "2038-01-15T12:00:00",
    ),
    _root(
        "DigiCert Global Root G3",
        "www.digicert.com",
        "DigiCert Inc",
        "US",
        "7E04DE896A3E666D00E687D33FFAD93BE83D349E",
        "055556BCF25EA43535C3A40FD5AB4572",
        "2013-08-01T12:00:00",
        "2038-01-15T12:00:00",
    ),
    _root(
        "Microsoft ECC Root Certificate Authority 2017",
        None,
        "Microsoft Corporation",
        "US",
        "999A64C37FF47D9FAB95F14769891460EEC4C3C5",
        "66F23DAF87DE8BB14AEA0C573101C2EC",
        "2019-12-18T23:06:45",
        "2042-07-18T23:16:04",
    ),
    _root(
        "Microsoft RSA Root Certificate Authority 2017",
        None,
        "Microsoft Corporation",
        "US",
        "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74",
        "1ED397095FD8B4B347701EAABE7F45B3",
        "2019-12-18T22:51:22",
        "2042-07-18T23:00:23",
    ),
)
# The root Azure's endpoints moved to from Baltimore CyberTrust Root; cmlab's default chain root for
# every Microsoft endpoint (assumption: per-endpoint chains are not published; topology can change it).
DEFAULT_CHAIN_ROOT = "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US"
EXPIRED_NOT_AFTER = _epoch("2024-01-15T12:00:00")  # the validity end an "expired" variant gets


def well_known_root(name: str) -> Certificate:
    """A well-known root by common name, full subject or thumbprint (case-insensitive)."""
    key = name.strip().lower()
    for cert in WELL_KNOWN_ROOTS:
        if key in (cert.common_name.lower(), normalise_dn(cert.subject), cert.thumbprint.lower()):
            return cert
    known = ", ".join(c.common_name for c in WELL_KNOWN_ROOTS)
    raise InvalidArgument(f"not a well-known root certificate: {name!r} (one of {known})")


def expired_variant(cert: Certificate) -> Certificate:
    """The same subject, an older issue that has expired (another thumbprint, as it would be)."""
    thumbprint = hashlib.sha1(f"expired:{cert.thumbprint}".encode()).hexdigest().upper()
    return replace(cert, thumbprint=thumbprint, not_before=cert.not_before - 20 * 365 * 86400, not_after=EXPIRED_NOT_AFTER)


def parse_certificate_file(text: str) -> Certificate:
    """A certificate from a PEM file's text; InvalidArgument when it is not one."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    try:
        cert = x509.load_pem_x509_certificate(text.encode("ascii", "replace"))
    except ValueError:
        raise InvalidArgument("not a certificate file") from None
    subject = cert.subject.rfc4514_string().replace(",", ", ")
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    not_before = cert.not_valid_before_utc.timestamp()
    not_after = cert.not_valid_after_utc.timestamp()
    return Certificate(
        cert.fingerprint(hashes.SHA1()).hex().upper(),
        subject,
        cert.issuer.rfc4514_string().replace(",", ", "),
        not_before,
        not_after,
        _serial_text(cert.serial_number),
        str(names[0].value) if names else "",
    )


def _serial_text(number: int) -> str:
    text = format(number, "X")
    return "0" + text if len(text) % 2 else text


def stand_in_pem(name: str, expired: bool = False) -> str:
    """A PEM certificate with a well-known root's subject and validity (deterministic: an Ed25519 key
    derived from the name), standing in for the real file in tests."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.x509.oid import NameOID

    root = well_known_root(name)
    if expired:
        root = expired_variant(root)
    key = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(f"cmlab:{root.subject}:{expired}".encode()).digest())
    oids = {"CN": NameOID.COMMON_NAME, "OU": NameOID.ORGANIZATIONAL_UNIT_NAME, "O": NameOID.ORGANIZATION_NAME, "C": NameOID.COUNTRY_NAME}
    rdns = [x509.NameAttribute(oids[p.split("=", 1)[0]], p.split("=", 1)[1]) for p in reversed(split_dn(root.subject))]
    subject = x509.Name(rdns)
    utc = datetime.timezone.utc
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(int(root.serial_number or "1", 16))
        .not_valid_before(datetime.datetime.fromtimestamp(root.not_before, tz=utc))
        .not_valid_after(datetime.datetime.fromtimestamp(root.not_after, tz=utc))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode("ascii")


class CertificateStores:
    """The certificate stores of one host: `LocalMachine\\Root` and friends, by thumbprint."""

    def __init__(self) -> None:
        self.stores: dict[str, dict[str, Certificate]] = {name.lower(): {} for name in DEFAULT_STORES}
        self._names = {name.lower(): name for name in DEFAULT_STORES}

    def install_well_known_roots(self, missing: tuple[str, ...] = (), expired: tuple[str, ...] = ()) -> None:
        """A default server's roots, less `missing`, with `expired` ones replaced by an expired issue."""
        gone = {well_known_root(n).thumbprint for n in missing}
        old = {well_known_root(n).thumbprint for n in expired}
        for cert in WELL_KNOWN_ROOTS:
            if cert.thumbprint in gone:
                continue
            self.add(ROOT_STORE, expired_variant(cert) if cert.thumbprint in old else cert)

    def store_name(self, name: str) -> str | None:
        return self._names.get(name.lower().replace("/", "\\").strip("\\"))

    def store(self, name: str) -> dict[str, Certificate]:
        key = name.lower().replace("/", "\\").strip("\\")
        if key not in self.stores:
            raise NotFound(f"Cannot find path 'Cert:\\{name}' because it does not exist.")
        return self.stores[key]

    def locations(self) -> list[str]:
        return sorted({n.split("\\", 1)[0] for n in self._names.values()})

    def store_names(self, location: str) -> list[str]:
        return sorted(n.split("\\", 1)[1] for n in self._names.values() if n.split("\\", 1)[0].lower() == location.lower())

    def add(self, store: str, cert: Certificate) -> Certificate:
        self.store(store)[cert.thumbprint] = cert
        return cert

    def remove(self, store: str, thumbprint: str) -> None:
        self.store(store).pop(thumbprint.upper(), None)

    def root_status(self, subject: str, now: float) -> str:
        """'valid', 'expired' or 'missing': the trusted root for a chain ending at `subject`."""
        wanted = normalise_dn(subject)
        found = [c for c in self.store(ROOT_STORE).values() if normalise_dn(c.subject) == wanted]
        if any(c.valid_at(now) for c in found):
            return "valid"
        return "expired" if found else "missing"

    def to_dict(self, now: float) -> dict:
        return {
            self._names[name]: {tp: c.to_dict(now) for tp, c in sorted(certs.items())}
            for name, certs in sorted(self.stores.items())
            if certs
        }
