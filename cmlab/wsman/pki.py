"""A throw-away lab PKI: one CA, a server certificate per host, client certificates for
certificate auth. EC P-256 keys (fast to generate), PEM files, reused when already present.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from cmlab.wsman.auth import UPN_OID

VALIDITY = datetime.timedelta(days=3 * 365)


@dataclass(frozen=True)
class CertPaths:
    cert: str  # PEM certificate (server certs: leaf + CA chain)
    key: str  # PEM private key, unencrypted, mode 0600


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)


def _write(path: Path, data: bytes, private: bool = False) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)  # never leave a half-written PEM for a concurrent reader


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())


def _load(paths: CertPaths) -> tuple[x509.Certificate, ec.EllipticCurvePrivateKey]:
    cert = x509.load_pem_x509_certificate(Path(paths.cert).read_bytes())
    key = serialization.load_pem_private_key(Path(paths.key).read_bytes(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError(f"{paths.key}: expected an EC key")
    return cert, key


def _builder(subject_cn: str, issuer: x509.Name | None, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject_cn)])
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer or subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
    )


def ensure_ca(directory: str | os.PathLike[str], name: str = "cmlab Lab Root CA") -> CertPaths:
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    paths = CertPaths(str(out / "ca.pem"), str(out / "ca.key"))
    if Path(paths.cert).exists() and Path(paths.key).exists():
        return paths
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(name, None, key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )
    _write(Path(paths.key), _key_pem(key), private=True)
    _write(Path(paths.cert), cert.public_bytes(serialization.Encoding.PEM))
    return paths


def _issue(
    directory: Path,
    stem: str,
    subject_cn: str,
    san: list[x509.GeneralName],
    usage: x509.ObjectIdentifier,
    ca: CertPaths,
) -> CertPaths:
    paths = CertPaths(str(directory / f"{stem}.pem"), str(directory / f"{stem}.key"))
    if Path(paths.cert).exists() and Path(paths.key).exists():
        return paths
    ca_cert, ca_key = _load(ca)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        _builder(subject_cn, ca_cert.subject, key.public_key())
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.SubjectAlternativeName(san), critical=False)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    _write(Path(paths.key), _key_pem(key), private=True)
    chain = cert.public_bytes(serialization.Encoding.PEM)
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        chain += ca_cert.public_bytes(serialization.Encoding.PEM)
    _write(Path(paths.cert), chain)
    return paths


def ensure_server_cert(
    directory: str | os.PathLike[str],
    host_fqdn: str,
    ca: CertPaths | None = None,
    addresses: Sequence[str] = ("127.0.0.1",),
) -> CertPaths:
    """Server certificate for `host_fqdn` (SAN: DNS name, short name, each of `addresses`), PEM
    chain with the CA. The file name carries the addresses, so another address set is a new cert."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ca = ca or ensure_ca(out)
    names: list[x509.GeneralName] = [x509.DNSName(host_fqdn)]
    short = host_fqdn.split(".")[0]
    if short != host_fqdn:
        names.append(x509.DNSName(short))
    unique = list(dict.fromkeys(addresses))
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in unique]
    stem = f"server-{_safe(host_fqdn.lower())}"
    if unique != ["127.0.0.1"]:
        stem += "-" + "_".join(_safe(a) for a in unique)
    return _issue(out, stem, host_fqdn, names, ExtendedKeyUsageOID.SERVER_AUTH, ca)


def _der_utf8_string(text: str) -> bytes:
    data = text.encode("utf-8")
    if len(data) < 0x80:
        return bytes([0x0C, len(data)]) + data
    length = len(data).to_bytes((len(data).bit_length() + 7) // 8, "big")
    return bytes([0x0C, 0x80 | len(length)]) + length + data


def ensure_client_cert(
    directory: str | os.PathLike[str], upn: str, common_name: str | None = None, ca: CertPaths | None = None
) -> CertPaths:
    """Client-auth certificate carrying `upn` as SAN otherName 1.3.6.1.4.1.311.20.2.3, the name
    Windows' certificate mapping uses."""
    out = Path(directory)
    out.mkdir(parents=True, exist_ok=True)
    ca = ca or ensure_ca(out)
    san: list[x509.GeneralName] = [x509.OtherName(UPN_OID, _der_utf8_string(upn))]
    return _issue(out, f"client-{_safe(upn.lower())}", common_name or upn.split("@")[0], san, ExtendedKeyUsageOID.CLIENT_AUTH, ca)
