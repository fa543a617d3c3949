"""The network settings of a Windows server that decide whether it can reach Microsoft's cloud:
TLS 1.2 for .NET, SCHANNEL's protocol keys, and the WinHTTP proxy
(docs/configmgr-behaviour.md#tls-prerequisites).

- **.NET**: `SchUseStrongCrypto` and `SystemDefaultTlsVersions` (DWORD 1) under
  `HKLM\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319` (64-bit processes) and its
  `WOW6432Node` twin (32-bit processes). Neither value exists on a default server. Microsoft's
  ConfigMgr TLS page says the strong-crypto value "requires a restart", so a value written now counts
  from the next boot (`NetSettings.boot`), for every process.
- **SCHANNEL**: `HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client`
  `Enabled` / `DisabledByDefault`. TLS 1.2 "is enabled by default", so the key is absent on a default
  server; `Enabled` = 0 disables it, `DisabledByDefault` = 1 keeps it from being used by default. The
  Windows TLS registry page: new settings apply to credential handles acquired afterwards, "an
  application or service restart may be required" — a new process (PowerShell, the Service
  Connection Tool) sees them at once, a running service (SMS_EXECUTIVE) when it (re)starts.
- **WinHTTP proxy**: `HKLM\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Internet Settings\\Connections`
  binary `WinHttpSettings`, as `netsh winhttp set proxy` leaves it. Its layout is not documented by
  Microsoft; cmlab writes the commonly described one (docs/simulator-assumptions.md).

A process's TLS 1.2 ability is `NetSettings.tls12(process)`: the .NET view of its bitness as of the
last boot, and SCHANNEL as of the process's start.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Any

NETFX_ROOT = r"HKLM:\SOFTWARE\Microsoft\.NETFramework"
NETFX_WOW_ROOT = r"HKLM:\SOFTWARE\WOW6432Node\Microsoft\.NETFramework"
NETFX_KEY = NETFX_ROOT + r"\v4.0.30319"  # 64-bit processes
NETFX_WOW_KEY = NETFX_WOW_ROOT + r"\v4.0.30319"  # 32-bit processes on a 64-bit OS
NETFX_VALUES = ("SchUseStrongCrypto", "SystemDefaultTlsVersions")
NDP_V4_FULL_KEY = r"HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full"
SCHANNEL_KEY = r"HKLM:\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
PROTOCOLS_KEY = SCHANNEL_KEY + r"\Protocols"
TLS12_CLIENT_KEY = PROTOCOLS_KEY + r"\TLS 1.2\Client"
INTERNET_CONNECTIONS_KEY = r"HKLM:\SOFTWARE\Microsoft\Windows\CurrentVersion\Internet Settings\Connections"
WINHTTP_VALUE = "WinHttpSettings"

# .NET Framework 4.8 as Windows Server 2022 ships it (the `Release` value Microsoft's "Determine which
# .NET Framework versions are installed" page gives for it); the SCP needs 4.6.2 or later.
NETFX_RELEASE = 528449
NETFX_VERSION = "4.8.04161"

# Which registry view a process reads: 64-bit processes the native key, 32-bit ones WOW6432Node.
# Windows PowerShell and SMS_EXECUTIVE (bin\x64) are 64-bit; the Service Connection Tool's bitness is
# not documented, so it must find TLS 1.2 in both views (docs/simulator-assumptions.md).
PROCESS_VIEWS = {"powershell": ("64",), "executive": ("64",), "sct": ("64", "32")}
# Processes that run as a service and read SCHANNEL when they start; the others are started per use.
SERVICE_PROCESSES = ("executive",)

WINHTTP_DIRECT, WINHTTP_NAMED_PROXY = 1, 3  # WINHTTP_ACCESS_TYPE_NO_PROXY / _NAMED_PROXY


def install_defaults(registry: Any) -> None:
    """The keys a default Windows Server 2022 has: .NET 4.8 in both views without the TLS values,
    SCHANNEL with its usual subkeys and no TLS 1.2 key, WinHTTP direct access."""
    for root, key, install_root in (
        (NETFX_ROOT, NETFX_KEY, "C:\\Windows\\Microsoft.NET\\Framework64\\"),
        (NETFX_WOW_ROOT, NETFX_WOW_KEY, "C:\\Windows\\Microsoft.NET\\Framework\\"),
    ):
        registry.set_value(root, "InstallRoot", install_root, "String")
        registry.ensure_key(key + r"\SKUs")
    for name, data, kind in (
        ("Release", NETFX_RELEASE, "DWord"),
        ("Version", NETFX_VERSION, "String"),
        ("Install", 1, "DWord"),
        ("InstallPath", "C:\\Windows\\Microsoft.NET\\Framework64\\v4.0.30319\\", "String"),
    ):
        registry.set_value(NDP_V4_FULL_KEY, name, data, kind)
    registry.set_value(SCHANNEL_KEY, "EventLogging", 1, "DWord")
    for sub in ("Ciphers", "CipherSuites", "Hashes", "KeyExchangeAlgorithms"):
        registry.ensure_key(f"{SCHANNEL_KEY}\\{sub}")
    registry.set_value(PROTOCOLS_KEY + r"\SSL 2.0\Client", "DisabledByDefault", 1, "DWord")
    registry.set_value(INTERNET_CONNECTIONS_KEY, WINHTTP_VALUE, encode_winhttp(None), "Binary")


def dotnet_tls12(registry: Any, view: str) -> bool:
    """Both values set to 1 in one registry view: what Microsoft's ConfigMgr TLS page asks for."""
    key = NETFX_KEY if view == "64" else NETFX_WOW_KEY
    return all(registry.get_value(key, name) == 1 for name in NETFX_VALUES)


def schannel_tls12_client(registry: Any) -> bool:
    """TLS 1.2 usable by a client by default: not Disabled (`Enabled` 0) and not DisabledByDefault."""
    enabled = registry.get_value(TLS12_CLIENT_KEY, "Enabled")
    disabled_by_default = registry.get_value(TLS12_CLIENT_KEY, "DisabledByDefault")
    return enabled != 0 and disabled_by_default not in (1,)


def encode_winhttp(proxy: str | None, bypass: str = "", counter: int = 0) -> bytes:
    """WinHttpSettings as commonly described: DWORD 0x18, DWORD change counter, DWORD access type,
    then the proxy and bypass strings, each as a DWORD length and ASCII text."""
    access = WINHTTP_NAMED_PROXY if proxy else WINHTTP_DIRECT
    server, by = (proxy or "").encode("ascii"), (bypass or "").encode("ascii")
    return struct.pack("<III", 0x18, counter, access) + struct.pack("<I", len(server)) + server + struct.pack("<I", len(by)) + by


def decode_winhttp(data: bytes | None) -> dict:
    """{'access_type': 'direct'|'proxy', 'proxy': str, 'bypass': str}; direct for a missing or short value."""
    if not data or len(data) < 16:
        return {"access_type": "direct", "proxy": "", "bypass": ""}
    _, _, access, size = struct.unpack_from("<IIII", data)
    proxy = data[16 : 16 + size].decode("ascii", "replace")
    offset = 16 + size
    by_size = struct.unpack_from("<I", data, offset)[0] if len(data) >= offset + 4 else 0
    bypass = data[offset + 4 : offset + 4 + by_size].decode("ascii", "replace")
    return {"access_type": "proxy" if access == WINHTTP_NAMED_PROXY and proxy else "direct", "proxy": proxy, "bypass": bypass}


@dataclass
class NetSettings:
    """A host's network settings as its processes see them: snapshots taken at boot and at service start."""

    registry: Any
    boot_dotnet: dict[str, bool] | None = None  # view -> TLS 1.2 for .NET, as of the last boot
    service_schannel: dict[str, bool] | None = None  # service process -> SCHANNEL TLS 1.2, as of its start

    def boot(self) -> None:
        """Windows started: .NET reads its settings afresh; every service starts afresh."""
        self.boot_dotnet = {view: dotnet_tls12(self.registry, view) for view in ("64", "32")}
        self.service_schannel = {}

    def service_started(self, process: str) -> None:
        if self.service_schannel is None:
            self.boot()
        self.service_schannel[process] = schannel_tls12_client(self.registry)  # type: ignore[index]

    def tls12(self, process: str) -> bool:
        """Can `process` ("powershell", "executive", "sct") negotiate TLS 1.2 now?"""
        if self.boot_dotnet is None:
            self.boot()
        dotnet = all(self.boot_dotnet[view] for view in PROCESS_VIEWS[process])  # type: ignore[index]
        if process in SERVICE_PROCESSES:
            schannel = (self.service_schannel or {}).get(process)
            if schannel is None:
                self.service_started(process)
                schannel = self.service_schannel[process]  # type: ignore[index]
        else:
            schannel = schannel_tls12_client(self.registry)
        return dotnet and schannel

    def pending_reboot(self) -> bool:
        """A .NET TLS value was changed since the last boot (what a reboot would change)."""
        if self.boot_dotnet is None:
            return False
        return any(dotnet_tls12(self.registry, view) != self.boot_dotnet[view] for view in ("64", "32"))

    def winhttp_proxy(self) -> dict:
        return decode_winhttp(self.registry.get_value(INTERNET_CONNECTIONS_KEY, WINHTTP_VALUE))

    def to_dict(self) -> dict:
        return {
            "dotnet_tls12_at_boot": dict(sorted((self.boot_dotnet or {}).items())),
            "pending_reboot": self.pending_reboot(),
            "winhttp_proxy": self.winhttp_proxy(),
        }
