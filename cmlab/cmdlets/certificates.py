"""Certificates: Import-Certificate, and the objects of the Cert: drive (X509Certificate2, X509Store)
(docs/configmgr-behaviour.md#tls-prerequisites).

The Cert: drive itself is read with Get-ChildItem / Get-Item / Test-Path (cmlab.cmdlets.items):
`Cert:\\LocalMachine\\Root` lists the store's certificates, `Cert:\\LocalMachine\\Root\\<thumbprint>` is one.
A certificate installed into `LocalMachine\\Root` is trusted by every process at once (assumption).
"""

from __future__ import annotations

import re

from cmlab.model.certificates import Certificate, parse_certificate_file
from cmlab.model.errors import InvalidArgument
from cmlab.model.files import is_file_system_path

from .base import Invocation, cmdlet
from .errors import CmdletError, not_simulated
from .pstypes import PSObject, ps_datetime

CERT_PROVIDER = "Microsoft.PowerShell.Security\\Certificate"
_CERT_PATH = re.compile(r"^(?:Microsoft\.PowerShell\.Security\\)?(?:Certificate::|Cert:)\\?(.*)$", re.IGNORECASE)


def cert_path(path: str) -> list[str] | None:
    """'Cert:\\LocalMachine\\Root\\ABC' → ['LocalMachine', 'Root', 'ABC']; None when not a Cert: path."""
    m = _CERT_PATH.match(path.strip())
    if not m:
        return None
    return [p for p in re.split(r"[\\/]+", m.group(1)) if p]


def certificate_object(inv: Invocation, store: str, cert: Certificate) -> PSObject:
    """An X509Certificate2 as the Cert: drive shows it; NotBefore/NotAfter are Local DateTimes."""
    bias = inv.host.time_zone_bias
    parent = f"{CERT_PROVIDER}::{store}"
    return PSObject(
        [
            "System.Security.Cryptography.X509Certificates.X509Certificate2",
            "System.Security.Cryptography.X509Certificates.X509Certificate",
            "System.Object",
        ],
        {
            "Thumbprint": cert.thumbprint,
            "Subject": cert.subject,
            "Issuer": cert.issuer,
            "NotBefore": ps_datetime(cert.not_before, bias),
            "NotAfter": ps_datetime(cert.not_after, bias),
            "SerialNumber": cert.serial_number,
            "FriendlyName": cert.friendly_name,
            "HasPrivateKey": False,
            "Version": 3,
            "Archived": False,
            "PSPath": f"{parent}\\{cert.thumbprint}",
            "PSParentPath": parent,
            "PSChildName": cert.thumbprint,
            "PSIsContainer": False,
        },
        f"[Subject]\r\n  {cert.subject}\r\n\r\n[Issuer]\r\n  {cert.issuer}\r\n\r\n[Thumbprint]\r\n  {cert.thumbprint}",
    )


def store_object(location: str, name: str) -> PSObject:
    return PSObject(
        ["System.Security.Cryptography.X509Certificates.X509Store", "System.Object"],
        {"Name": name, "Location": location, "PSPath": f"{CERT_PROVIDER}::{location}\\{name}", "PSChildName": name, "PSIsContainer": True},
        "System.Security.Cryptography.X509Certificates.X509Store",
    )


def location_object(location: str) -> PSObject:
    return PSObject(
        ["Microsoft.PowerShell.Commands.X509StoreLocation", "System.Object"],
        {"Location": location, "StoreNames": [], "PSPath": f"{CERT_PROVIDER}::{location}", "PSChildName": location, "PSIsContainer": True},
        location,
    )


def cert_items(inv: Invocation, parts: list[str], children: bool) -> list[PSObject] | None:
    """What Get-Item (children False) / Get-ChildItem (True) return for a Cert: path; None when the
    path does not exist."""
    stores = inv.host.certificates
    if not parts:
        return [location_object(loc) for loc in stores.locations()] if children else [location_object("\\")]
    location = next((loc for loc in stores.locations() if loc.lower() == parts[0].lower()), None)
    if location is None:
        return None
    if len(parts) == 1:
        if not children:
            return [location_object(location)]
        return [store_object(location, name) for name in stores.store_names(location)]
    store = stores.store_name(f"{location}\\{parts[1]}")
    if store is None:
        return None
    certs = stores.store(store)
    if len(parts) == 2:
        if not children:
            return [store_object(location, store.split("\\", 1)[1])]
        return [certificate_object(inv, store, c) for _, c in sorted(certs.items())]
    if len(parts) == 3:
        cert = certs.get(parts[2].upper())
        return None if cert is None else [certificate_object(inv, store, cert)]
    return None


@cmdlet("Import-Certificate", ("FilePath", "CertStoreLocation", "WhatIf", "Confirm"))
def import_certificate(inv: Invocation) -> list:
    path = str(inv.get("FilePath"))
    location = str(inv.get("CertStoreLocation") or "")
    if not location:
        raise not_simulated(inv.cmdlet, "without -CertStoreLocation (the current location is never a store)")
    parts = cert_path(location)
    with inv.model.lock:
        store = inv.host.certificates.store_name("\\".join(parts)) if parts and len(parts) == 2 else None
        if store is None:
            raise CmdletError.of(
                inv.cmdlet,
                "System.IO.FileNotFoundException",
                "The system cannot find the path specified. 0x80070003 (WIN32: 3 ERROR_PATH_NOT_FOUND)",
                "NotSpecified",
                "System.IO.FileNotFoundException",
            )
        if not is_file_system_path(path) or inv.host.fs.kind(path) != "leaf":
            raise CmdletError.of(
                inv.cmdlet,
                "System.IO.FileNotFoundException",
                "The system cannot find the file specified. 0x80070002 (WIN32: 2 ERROR_FILE_NOT_FOUND)",
                "NotSpecified",
                "System.IO.FileNotFoundException",
            )
        try:
            cert = parse_certificate_file(inv.host.fs.file(path).content)
        except InvalidArgument:
            raise CmdletError.of(
                inv.cmdlet,
                "System.Runtime.InteropServices.COMException",
                "Cannot find the requested object. 0x80092004 (-2146885628 CRYPT_E_NOT_FOUND)",
                "NotSpecified",
                "System.Runtime.InteropServices.COMException",
            ) from None
        if inv.what_if:
            return []
        inv.host.certificates.add(store, cert)
        return [certificate_object(inv, store, cert)]
