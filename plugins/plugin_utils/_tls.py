# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The TLS prerequisites of the service connection point's server.

What the SCP server needs before it can reach Microsoft's cloud (docs/configmgr-behaviour.md#tls-prerequisites):

- TLS 1.2 for .NET: `SchUseStrongCrypto` and `SystemDefaultTlsVersions` = 1 under `v4.0.30319` in the
  64-bit and the WOW6432Node views. Processes read them when they start, and Microsoft's fix ends with a
  restart of the computer: a change needs a reboot.
- SCHANNEL's TLS 1.2 client: `Enabled` = 1 and `DisabledByDefault` = 0 under `Protocols\\TLS 1.2\\Client`.
  New processes see a change at once; a service that keeps its credential handles (SMS_EXECUTIVE) when
  it restarts. The key is absent on a default server; it is created level by level with New-Item
  without -Force, which never touches a key that exists (-Force would replace it with an empty one).
- The root certificates the cloud endpoints chain to (DigiCert Global Root G2 first). A certificate is
  installed from a file the administrator put on the server, and only when that file holds one of these
  roots by its published thumbprint, self-signed and valid: never a download, never an arbitrary CA.
  Microsoft's procedure for a root import ends with a restart of the computer.
- The WinHTTP proxy is reported only (`WinHttpSettings`, parsed here).

A reboot that a change needs is remembered on the server itself, under HKLM\\SOFTWARE\\configmgr.scp:
`RebootPendingSince` holds the LastBootUpTime of the boot during which the change was made. While
Win32_OperatingSystem still shows that boot, the reboot is pending, even in a later run of the task
(the play failed before it rebooted): derived from what Windows shows, not from the controller's memory.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import struct
from dataclasses import dataclass, field
from typing import Any

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision, WritePlan
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult

NETFX_KEYS = {
    "64-bit": "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
    "32-bit": "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
}
NETFX_VALUES = ("SchUseStrongCrypto", "SystemDefaultTlsVersions")
NDP_KEY = "HKLM:\\SOFTWARE\\Microsoft\\NET Framework Setup\\NDP\\v4\\Full"
PROTOCOLS_KEY = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols"
TLS12_KEY = PROTOCOLS_KEY + "\\TLS 1.2"
TLS12_CLIENT_KEY = TLS12_KEY + "\\Client"
SCHANNEL_WANTED = {"Enabled": 1, "DisabledByDefault": 0}
CONNECTIONS_KEY = "HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections"
WINHTTP_VALUE = "WinHttpSettings"
ROOT_STORE = "Cert:\\LocalMachine\\Root"
MARKER_KEY = "HKLM:\\SOFTWARE\\configmgr.scp"
MARKER_SINCE, MARKER_FOR = "RebootPendingSince", "RebootPendingFor"
EXECUTIVE = "SMS_EXECUTIVE"
# .NET Framework 4.6.2, the oldest the SCP supports (docs/configmgr-behaviour.md#remote-site-system-requirements),
# as its `Release` value.
NETFX_462_RELEASE = 394802
# Test-Path of these keys, in this order, is the first step of the read.
KEYS = (NETFX_KEYS["64-bit"], NETFX_KEYS["32-bit"], PROTOCOLS_KEY, TLS12_KEY, TLS12_CLIENT_KEY, MARKER_KEY)
# A certificate file is read up to this many bytes (a root certificate is one or two KiB).
MAX_CERTIFICATE_BYTES = 65536


@dataclass(frozen=True)
class KnownRoot:
    name: str
    subject: str
    thumbprint: str  # SHA-1, as Microsoft publishes it
    required: bool = False
    history: bool = False  # reported, never a problem (Baltimore: expired May 2025)


# docs/configmgr-behaviour.md#tls-prerequisites ("Root certificates"): the roots Azure's endpoints chain to.
KNOWN_ROOTS: tuple[KnownRoot, ...] = (
    KnownRoot(
        "DigiCert Global Root G2",
        "CN=DigiCert Global Root G2, OU=www.digicert.com, O=DigiCert Inc, C=US",
        "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4",
        required=True,
    ),
    KnownRoot(
        "DigiCert Global Root CA",
        "CN=DigiCert Global Root CA, OU=www.digicert.com, O=DigiCert Inc, C=US",
        "A8985D3A65E5E5C4B2D7D66D40C6DD2FB19C5436",
    ),
    KnownRoot(
        "DigiCert Global Root G3",
        "CN=DigiCert Global Root G3, OU=www.digicert.com, O=DigiCert Inc, C=US",
        "7E04DE896A3E666D00E687D33FFAD93BE83D349E",
    ),
    KnownRoot(
        "Microsoft RSA Root Certificate Authority 2017",
        "CN=Microsoft RSA Root Certificate Authority 2017, O=Microsoft Corporation, C=US",
        "73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74",
    ),
    KnownRoot(
        "Microsoft ECC Root Certificate Authority 2017",
        "CN=Microsoft ECC Root Certificate Authority 2017, O=Microsoft Corporation, C=US",
        "999A64C37FF47D9FAB95F14769891460EEC4C3C5",
    ),
    KnownRoot(
        "D-TRUST Root Class 3 CA 2 2009",
        "CN=D-TRUST Root Class 3 CA 2 2009, O=D-Trust GmbH, C=DE",
        "58E8ABB0361533FB80F79B1B6D29D3FF8D5F00F0",
    ),
    KnownRoot(
        "Baltimore CyberTrust Root",
        "CN=Baltimore CyberTrust Root, OU=CyberTrust, O=Baltimore, C=IE",
        "D4DE20D05E66FC53FE1A50882C78DB2852CAE474",
        history=True,
    ),
)
_BY_THUMBPRINT = {r.thumbprint: r for r in KNOWN_ROOTS}


def normalise_dn(dn: str) -> str:
    """'CN=A,OU=B' and 'CN=A, OU=B' compare equal, without case."""
    return ", ".join(p.strip() for p in str(dn or "").split(",") if p.strip()).lower()


# ---------------------------------------------------------------------------------------------
# Input


_WINDOWS_PATH = re.compile(r"[A-Za-z]:\\[^\x00-\x1f\"<>|*?\[\]]*")  # fullmatch: nothing after it


def certificate_path(value: str, option: str = "certificate_files") -> str:
    """A file on the Windows host: a full local path. Wildcard characters are refused (Import-Certificate
    resolves -FilePath through the provider), and so are UNC paths (a second hop from a WinRM session)."""
    text = str(value)
    problem = not _WINDOWS_PATH.fullmatch(text) or text.endswith("\\") or len(text) > 259
    if not problem:
        try:  # the rules of every full path (_validation.drive_path): no '.' or '..', ':', names ending in a space
            _validation.drive_path(text, option)  # or a period, control or invisible formatting characters
        except AnsibleActionFail:
            problem = True
    if problem:
        raise AnsibleActionFail(
            f"{option} must list full paths of certificate files on the Windows host (for example "
            f"C:\\Certs\\DigiCertGlobalRootG2.crt), without wildcard characters * ? [ ], without . or .. folders, ':' "
            f"in a name, names ending in a space or a period, or control or invisible formatting characters, got "
            f"{value!r}. Copy the file there first (ansible.windows.win_copy); a share (\\\\server\\share) would be a "
            "second hop."
        )
    return text


# ---------------------------------------------------------------------------------------------
# The read


def read_plan(files: list[str], prefix: str = "") -> Plan:
    plan = Plan()
    add_reads(plan, files, prefix)
    return plan


def add_reads(plan: Plan, files: list[str] = (), prefix: str = "") -> None:
    """Everything the decision needs, as steps of one invocation (`prefix` for a read-back)."""
    p = prefix
    plan.add(f"{p}keys", "Test-Path", {"LiteralPath": list(KEYS)})
    for view, key in NETFX_KEYS.items():
        plan.add(
            f"{p}netfx{view[:2]}",
            "Get-ItemProperty",
            {"LiteralPath": key},
            select={name: None for name in NETFX_VALUES},
            on_error="continue",
        )
    plan.add(
        f"{p}schannel",
        "Get-ItemProperty",
        {"LiteralPath": TLS12_CLIENT_KEY},
        select={name: None for name in SCHANNEL_WANTED},
        on_error="continue",
    )
    plan.add(
        f"{p}roots",
        "Get-ChildItem",
        {"LiteralPath": ROOT_STORE},
        select={"Thumbprint": None, "Subject": None, "NotBefore": None, "NotAfter": None},
    )
    if prefix:
        return
    plan.add("ndp", "Get-ItemProperty", {"LiteralPath": NDP_KEY}, select={"Release": None, "Version": None}, on_error="continue")
    plan.add(
        "winhttp",
        "Get-ItemProperty",
        {"LiteralPath": CONNECTIONS_KEY, "Name": WINHTTP_VALUE},
        select={WINHTTP_VALUE: None},
        on_error="continue",
    )
    plan.add(
        "os",
        "Get-CimInstance",
        {"ClassName": "Win32_OperatingSystem"},
        select={"LastBootUpTime": None, "LocalDateTime": None, "CSName": None},
    )
    plan.add("executive", "Get-Service", {"Name": EXECUTIVE}, select={"Status": None}, on_error="continue")
    plan.add("marker", "Get-ItemProperty", {"LiteralPath": MARKER_KEY}, select={MARKER_SINCE: None, MARKER_FOR: None}, on_error="continue")
    for index, path in enumerate(files):
        params = {"LiteralPath": path, "Encoding": "Byte", "TotalCount": MAX_CERTIFICATE_BYTES}
        plan.add(f"file{index}", "Get-Content", params, on_error="continue")


def parse_time(text: Any) -> datetime.datetime | None:
    """The engine's DateTime text (.NET round-trip 'o', seven fractional digits, offset or Z) as an aware
    datetime; naive texts are taken as UTC."""
    if not isinstance(text, str) or not text:
        return None
    value = text.strip().replace("Z", "+00:00")
    m = re.fullmatch(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?([+-]\d\d:\d\d)?", value)
    if not m:
        return None
    micro = (m.group(2) or "0")[:6].ljust(6, "0")
    parsed = datetime.datetime.fromisoformat(f"{m.group(1)}.{micro}{m.group(3) or '+00:00'}")
    return parsed


def parse_winhttp(data: Any) -> dict:
    """`WinHttpSettings` as `netsh winhttp set proxy` leaves it (docs/configmgr-behaviour.md#tls-prerequisites):
    a DWORD (0x18), a DWORD change counter, a DWORD access type (1 direct, 3 named proxy), then the proxy
    and the bypass list, each a DWORD length and ASCII text. Anything shorter or stranger reads as direct
    access with `valid: false`: the value is undocumented, so the parser never guesses."""
    direct = {"access_type": "direct", "proxy": "", "bypass": ""}
    if data is None:
        return {**direct, "valid": True, "present": False}
    try:
        raw = bytes(int(b) & 0xFF for b in data) if not isinstance(data, (bytes, bytearray)) else bytes(data)
    except (TypeError, ValueError):
        return {**direct, "valid": False, "present": True}
    if len(raw) < 16:
        return {**direct, "valid": False, "present": True}
    access, size = struct.unpack_from("<II", raw, 8)
    end = 16 + size
    if end + 4 > len(raw):
        return {**direct, "valid": False, "present": True}
    by_size = struct.unpack_from("<I", raw, end)[0]
    if end + 4 + by_size > len(raw):
        return {**direct, "valid": False, "present": True}
    proxy = raw[16:end].decode("ascii", "replace")
    bypass = raw[end + 4 : end + 4 + by_size].decode("ascii", "replace")
    access_type = "proxy" if access == 3 and proxy else "direct"
    return {
        "access_type": access_type,
        "proxy": proxy if access_type == "proxy" else "",
        "bypass": bypass if access_type == "proxy" else "",
        "valid": access in (1, 3),
        "present": True,
    }


@dataclass
class CertificateFile:
    path: str
    error: str | None = None
    thumbprint: str | None = None
    subject: str | None = None
    not_after: datetime.datetime | None = None
    root: KnownRoot | None = None


def _der_certificates(raw: bytes) -> list[bytes]:
    text = raw.decode("ascii", "ignore") if raw[:1] != b"\x30" else ""
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", text, re.S)
    if blocks:
        return [base64.b64decode("".join(b.split())) for b in blocks]
    return [raw]


def parse_certificate_file(path: str, data: Any, now: datetime.datetime) -> CertificateFile:
    """A file the task names, as read by the engine (bytes): one certificate, PEM or DER. It is usable
    only when it is valid now, self-signed, and one of KNOWN_ROOTS by its published thumbprint."""
    try:
        from cryptography import x509
    except ImportError:  # ansible-core requires cryptography; say so rather than crash
        return CertificateFile(path, "the Python package cryptography is needed on the controller to read it")
    raw = bytes(int(b) & 0xFF for b in (data or []))
    if not raw:
        return CertificateFile(path, "the file is empty")
    ders = _der_certificates(raw)
    if len(ders) != 1:
        return CertificateFile(path, f"the file holds {len(ders)} certificates; give one root certificate per file")
    try:
        cert = x509.load_der_x509_certificate(ders[0])
    except ValueError:
        return CertificateFile(path, "the file is not a certificate (PEM or DER)")
    thumbprint = hashlib.sha1(ders[0]).hexdigest().upper()
    subject = cert.subject.rfc4514_string().replace(",", ", ")
    not_after = cert.not_valid_after_utc
    found = CertificateFile(path, None, thumbprint, subject, not_after, _BY_THUMBPRINT.get(thumbprint))
    if not_after < now or cert.not_valid_before_utc > now:
        found.error = f"its certificate ({subject}) is not valid now (valid until {not_after:%Y-%m-%d}); get a current copy"
    elif cert.issuer != cert.subject:
        found.error = f"its certificate ({subject}) is not a root certificate (issued by {cert.issuer.rfc4514_string()})"
    elif found.root is None:
        names = ", ".join(r.name for r in KNOWN_ROOTS if not r.history)
        found.error = (
            f"its certificate ({subject}, thumbprint {thumbprint}) is not one of the root certificates the "
            f"SCP's endpoints chain to ({names}, by their published thumbprints)"
        )
    elif found.root.history:
        found.error = f"it holds {found.root.name}, which Microsoft's endpoints no longer chain to"
    return found


# ---------------------------------------------------------------------------------------------
# What was read


@dataclass
class Observed:
    keys: dict[str, bool]
    netfx: dict[str, dict[str, Any]]
    schannel: dict[str, Any]
    roots: list[dict]
    ndp: dict = field(default_factory=dict)
    winhttp: dict = field(default_factory=dict)
    boot_time: str | None = None
    local_time: datetime.datetime | None = None
    executive: str | None = None
    marker: dict = field(default_factory=dict)
    files: list[CertificateFile] = field(default_factory=list)


def _props(result: PlanResult, step: str, names) -> dict:
    row = result.first(step) if result.steps.get(step) is not None and result.steps[step].ok else None
    row = row if isinstance(row, dict) else {}
    return {name: row.get(name) for name in names}


def observed(result: PlanResult, files: list[str] = (), prefix: str = "", now: datetime.datetime | None = None) -> Observed:
    p = prefix
    flags = result.output(f"{p}keys")
    keys = {key: bool(flags[i]) if i < len(flags) else False for i, key in enumerate(KEYS)}
    netfx = {view: _props(result, f"{p}netfx{view[:2]}", NETFX_VALUES) for view in NETFX_KEYS}
    schannel = _props(result, f"{p}schannel", SCHANNEL_WANTED)
    if not keys[TLS12_CLIENT_KEY]:
        schannel = {name: None for name in SCHANNEL_WANTED}
    roots = [r for r in result.output(f"{p}roots") if isinstance(r, dict)]
    seen = Observed(keys, netfx, schannel, roots)
    if prefix:
        return seen
    seen.ndp = _props(result, "ndp", ("Release", "Version"))
    seen.winhttp = parse_winhttp(_props(result, "winhttp", (WINHTTP_VALUE,))[WINHTTP_VALUE])
    os_row = _props(result, "os", ("LastBootUpTime", "LocalDateTime"))
    seen.boot_time = os_row["LastBootUpTime"]
    seen.local_time = parse_time(os_row["LocalDateTime"])
    service = result.steps.get("executive")
    seen.executive = str(_props(result, "executive", ("Status",))["Status"]) if service is not None and service.ok else None
    seen.marker = _props(result, "marker", (MARKER_SINCE, MARKER_FOR)) if keys[MARKER_KEY] else {}
    clock = now or seen.local_time or datetime.datetime.now(datetime.timezone.utc)
    for index, path in enumerate(files):
        step = result.steps.get(f"file{index}")
        if step is None or not step.ok:
            message = ((step.error or {}).get("message") if step is not None else None) or "no answer"
            seen.files.append(CertificateFile(path, f"it could not be read: {message}"))
        else:
            seen.files.append(parse_certificate_file(path, step.output, clock))
    return seen


def dword(value: Any) -> int | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def dotnet_ready(netfx: dict) -> bool:
    return all(dword(netfx[view][name]) == 1 for view in NETFX_KEYS for name in NETFX_VALUES)


def schannel_usable(schannel: dict) -> bool:
    """TLS 1.2 usable by a client by default: absent values are the system default (on); Enabled 0 turns it
    off, DisabledByDefault other than 0 leaves it to applications that ask for it
    (docs/configmgr-behaviour.md#tls-prerequisites, SCHANNEL)."""
    enabled, by_default = dword(schannel.get("Enabled")), dword(schannel.get("DisabledByDefault"))
    return enabled != 0 and (by_default is None or by_default == 0)


def root_status(roots: list[dict], now: datetime.datetime) -> list[dict]:
    """Each known root as the Root store holds it: present (an issue valid now), expired, or missing."""
    out = []
    for known in KNOWN_ROOTS:
        found = [r for r in roots if normalise_dn(r.get("Subject")) == normalise_dn(known.subject)]
        valid = [r for r in found if _valid(r, now)]
        status = "present" if valid else "expired" if found else "missing"
        shown = valid or found
        out.append(
            {
                "name": known.name,
                "required": known.required,
                "status": status,
                "thumbprints": sorted(str(r.get("Thumbprint") or "").upper() for r in shown),
                "not_after": max((str(parse_time(r.get("NotAfter")) or "")[:10] for r in shown), default=None),
            }
        )
    return out


def _valid(row: dict, now: datetime.datetime) -> bool:
    before, after = parse_time(row.get("NotBefore")), parse_time(row.get("NotAfter"))
    return (before is None or before <= now) and (after is None or now <= after)


# ---------------------------------------------------------------------------------------------
# The decision


@dataclass
class Want:
    dotnet_tls12: bool = True
    schannel_tls12_client: bool = True
    certificate_files: list[str] = field(default_factory=list)
    reboot: bool = False
    reboot_timeout: int = 600


@dataclass
class Changes:
    netfx: dict[str, list[str]] = field(default_factory=dict)  # view -> value names to set
    netfx_new_keys: list[str] = field(default_factory=list)
    schannel: list[str] = field(default_factory=list)  # value names to set
    schannel_new_keys: list[str] = field(default_factory=list)
    imports: list[CertificateFile] = field(default_factory=list)
    reboot_reasons: list[str] = field(default_factory=list)  # of this run's changes
    pending: list[str] = field(default_factory=list)  # of an earlier run, not rebooted yet
    reboot: bool = False
    boot_time: str | None = None
    marker_key_exists: bool = False

    @property
    def writes(self) -> bool:
        return bool(self.netfx or self.schannel or self.imports)


def state_lines(netfx: dict, schannel: dict, roots: list[dict]) -> dict:
    """The flat state the diff shows."""
    state: dict[str, Any] = {}
    for view in NETFX_KEYS:
        for name in NETFX_VALUES:
            state[f".NET {view} {name}"] = dword(netfx[view][name])
    for name in SCHANNEL_WANTED:
        state[f"SCHANNEL TLS 1.2 Client {name}"] = dword(schannel.get(name))
    for root in roots:
        if not next(k for k in KNOWN_ROOTS if k.name == root["name"]).history:
            state[f"root {root['name']}"] = root["status"]
    return state


def pending_reboot(seen: Observed) -> list[str]:
    """The reasons an earlier run recorded, while the server still runs the boot it recorded them in."""
    since, boot = parse_time(seen.marker.get(MARKER_SINCE)), parse_time(seen.boot_time)
    if since is None or boot is None or abs((since - boot).total_seconds()) > 1:
        return []
    reasons = str(seen.marker.get(MARKER_FOR) or "").strip()
    return [r for r in reasons.split("; ") if r] or ["a change made by an earlier run"]


def decide(want: Want, seen: Observed) -> Decision:
    now = seen.local_time or datetime.datetime.now(datetime.timezone.utc)
    changes = Changes(boot_time=seen.boot_time, marker_key_exists=seen.keys[MARKER_KEY])
    actions: list[str] = []
    warnings: list[str] = []
    netfx_after = {view: dict(values) for view, values in seen.netfx.items()}
    schannel_after = dict(seen.schannel)

    if want.dotnet_tls12:
        for view, key in NETFX_KEYS.items():
            names = [n for n in NETFX_VALUES if dword(seen.netfx[view][n]) != 1]
            if names:
                changes.netfx[view] = names
                if not seen.keys[key]:
                    changes.netfx_new_keys.append(key)
                for n in names:
                    netfx_after[view][n] = 1
                actions.append(f"set {' and '.join(names)} = 1 for .NET ({view})")
        if changes.netfx:
            changes.reboot_reasons.append(".NET strong cryptography changed (TLS 1.2 for .NET)")

    if want.schannel_tls12_client:
        names = [n for n, v in SCHANNEL_WANTED.items() if dword(seen.schannel.get(n)) != v]
        if names:
            changes.schannel = names
            changes.schannel_new_keys = [k for k in (PROTOCOLS_KEY, TLS12_KEY, TLS12_CLIENT_KEY) if not seen.keys[k]]
            schannel_after.update({n: SCHANNEL_WANTED[n] for n in names})
            actions.append("set SCHANNEL TLS 1.2 Client " + " and ".join(f"{n} = {SCHANNEL_WANTED[n]}" for n in names))

    roots_before = root_status(seen.roots, now)
    installed_rows = list(seen.roots)
    for cert in seen.files:
        if cert.error:
            raise AnsibleActionFail(f"certificate_files: {cert.path}: {cert.error}.")
        if any(str(r.get("Thumbprint") or "").upper() == cert.thumbprint for r in seen.roots):
            continue  # that very certificate is already trusted
        if any(c.thumbprint == cert.thumbprint for c in changes.imports):
            continue
        changes.imports.append(cert)
        installed_rows.append(
            {"Thumbprint": cert.thumbprint, "Subject": cert.root.subject, "NotBefore": None, "NotAfter": cert.not_after.isoformat()}
        )
        actions.append(f"import {cert.root.name} into LocalMachine\\Root from {cert.path}")
    if changes.imports:
        changes.reboot_reasons.append("root certificates imported (Microsoft's procedure ends with a restart)")
    roots_after = root_status(installed_rows, now)
    for root in roots_after:
        if root["required"] and root["status"] != "present":
            warnings.append(
                f"{root['name']} is {root['status']} in LocalMachine\\Root of this server and no "
                "certificate file holding it was given: the SCP cannot reach Microsoft's endpoints "
                "until it is installed (give its file in certificate_files)."
            )

    changes.pending = pending_reboot(seen)
    reboot_required = bool(changes.reboot_reasons or changes.pending)
    if want.reboot and reboot_required:
        changes.reboot = True
        actions.append("reboot the server and wait until it is back")
    executive_restart = (
        seen.executive == "Running"
        and bool(changes.schannel)
        and schannel_usable(schannel_after)
        and not schannel_usable(seen.schannel)
        and not changes.reboot
    )

    before = state_lines(seen.netfx, seen.schannel, roots_before)
    after = state_lines(netfx_after, schannel_after, roots_after)
    problems = problems_of(
        netfx_after, schannel_after, roots_after, reboot_required and not changes.reboot, changes.reboot_reasons + changes.pending
    )
    result = {
        "changes": actions,
        "dotnet": dotnet_state(netfx_after, seen.ndp),
        "schannel_tls12_client": schannel_state(schannel_after),
        "root_certificates": roots_after,
        "winhttp_proxy": {k: seen.winhttp.get(k) for k in ("access_type", "proxy", "bypass")},
        "reboot_required": reboot_required,
        "reboot_reasons": changes.reboot_reasons + changes.pending,
        "executive_restart_required": executive_restart,
        "rebooted": False,
        "last_boot_time": seen.boot_time,
        "ready": not problems,
        "problems": problems,
    }
    release = dword(seen.ndp.get("Release"))
    if release is not None and release < NETFX_462_RELEASE:
        warnings.append(
            f".NET Framework {seen.ndp.get('Version')} (release {release}) is older than 4.6.2, the "
            "oldest the service connection point supports: update .NET Framework (4.8 recommended)."
        )
    if not seen.winhttp.get("valid", True):
        warnings.append(
            "The WinHTTP proxy setting (WinHttpSettings) has a layout this module does not know; it "
            "is reported as direct access. Check it with netsh winhttp show proxy."
        )
    changed = bool(changes.writes or changes.reboot)
    return Decision(
        before=before,
        after=after,
        changed=changed,
        warnings=warnings,
        diff_header="TLS prerequisites of the service connection point",
        changes=changes,
        result=result,
    )


def dotnet_state(netfx: dict, ndp: dict) -> dict:
    return {
        "release": dword(ndp.get("Release")),
        "version": ndp.get("Version"),
        "strong_crypto": {view: {n: dword(netfx[view][n]) for n in NETFX_VALUES} for view in NETFX_KEYS},
        "tls12": dotnet_ready(netfx),
    }


def schannel_state(schannel: dict) -> dict:
    return {**{n: dword(schannel.get(n)) for n in SCHANNEL_WANTED}, "tls12": schannel_usable(schannel)}


def problems_of(netfx: dict, schannel: dict, roots: list[dict], reboot_pending: bool, reasons: list[str]) -> list[str]:
    problems = []
    if not dotnet_ready(netfx):
        problems.append(".NET is not set to use TLS 1.2 (SchUseStrongCrypto and SystemDefaultTlsVersions = 1 in both registry views)")
    if not schannel_usable(schannel):
        problems.append("SCHANNEL has TLS 1.2 turned off for clients")
    for root in roots:
        if root["required"] and root["status"] != "present":
            problems.append(f"{root['name']} is {root['status']} in LocalMachine\\Root")
    if reboot_pending:
        problems.append("a reboot is needed for the changes to take effect: " + "; ".join(reasons))
    return problems


# ---------------------------------------------------------------------------------------------
# The write


def write_plan(changes: Changes, files: list[str]) -> WritePlan:
    plan = WritePlan()
    for index, key in enumerate(changes.netfx_new_keys):
        plan.write(f"netfx_key{index}", "New-Item", {"Path": key}, does=f"create the registry key {key}")
    for view, names in changes.netfx.items():
        for name in names:
            plan.write(
                f"netfx{view[:2]}_{name}",
                "Set-ItemProperty",
                {"LiteralPath": NETFX_KEYS[view], "Name": name, "Value": 1, "Type": "DWord"},
                does=f"set {name} = 1 for .NET ({view})",
            )
    for index, key in enumerate(changes.schannel_new_keys):
        # Never -Force: on an existing key it would replace the key with an empty one.
        plan.write(f"schannel_key{index}", "New-Item", {"Path": key}, does=f"create the registry key {key}")
    for name in changes.schannel:
        plan.write(
            f"schannel_{name}",
            "Set-ItemProperty",
            {"LiteralPath": TLS12_CLIENT_KEY, "Name": name, "Value": SCHANNEL_WANTED[name], "Type": "DWord"},
            does=f"set SCHANNEL TLS 1.2 Client {name} = {SCHANNEL_WANTED[name]}",
        )
    for index, cert in enumerate(changes.imports):
        plan.write(
            f"import{index}",
            "Import-Certificate",
            {"FilePath": cert.path, "CertStoreLocation": ROOT_STORE},
            does=f"import {cert.root.name} into LocalMachine\\Root from {cert.path}",
        )
    if changes.reboot_reasons and changes.boot_time:
        # Remembered on the server: a later run still sees the reboot pending until the boot time moves.
        if not changes.marker_key_exists:
            plan.write("marker_key", "New-Item", {"Path": MARKER_KEY}, does=f"create the registry key {MARKER_KEY}")
        reasons = "; ".join(dict.fromkeys(changes.pending + changes.reboot_reasons))
        plan.write(
            "marker_since",
            "Set-ItemProperty",
            {"LiteralPath": MARKER_KEY, "Name": MARKER_SINCE, "Value": changes.boot_time, "Type": "String"},
            does="record that a reboot is pending",
        )
        plan.write(
            "marker_for",
            "Set-ItemProperty",
            {"LiteralPath": MARKER_KEY, "Name": MARKER_FOR, "Value": reasons, "Type": "String"},
            does="record why a reboot is pending",
        )
    add_reads(plan, files, prefix="after_")
    return plan


def read_back(decision: Decision, written: PlanResult) -> dict:
    """The state as the write plan's own reads show it."""
    seen = observed(written, prefix="after_")
    now = datetime.datetime.now(datetime.timezone.utc)
    roots = root_status(seen.roots, now)
    result = dict(decision.result)
    result["dotnet"] = dotnet_state(seen.netfx, {"Release": result["dotnet"]["release"], "Version": result["dotnet"]["version"]})
    result["schannel_tls12_client"] = schannel_state(seen.schannel)
    result["root_certificates"] = roots
    pending = result["reboot_required"] and not decision.changes.reboot
    result["problems"] = problems_of(seen.netfx, seen.schannel, roots, pending, result["reboot_reasons"])
    result["ready"] = not result["problems"]
    return result


def boot_plan() -> Plan:
    plan = Plan()
    plan.add("os", "Get-CimInstance", {"ClassName": "Win32_OperatingSystem"}, select={"LastBootUpTime": None})
    return plan
