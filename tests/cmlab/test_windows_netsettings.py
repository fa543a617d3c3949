"""What a Windows server keeps about TLS and proxies, as a default server has it
(docs/configmgr-behaviour.md#tls-prerequisites): the .NET and SCHANNEL keys, the WinHTTP proxy, the root
store, when each setting takes effect, and the topology's variants."""

from __future__ import annotations

import copy

import pytest
from configmgr_harness import ConfigMgrLab, default_topology

from cmlab.model.netsettings import (
    INTERNET_CONNECTIONS_KEY,
    NETFX_KEY,
    NETFX_WOW_KEY,
    PROTOCOLS_KEY,
    SCHANNEL_KEY,
    TLS12_CLIENT_KEY,
    decode_winhttp,
    encode_winhttp,
)
from cmlab.topology import TopologyError, parse_topology
from tests.fixtures import step

SCP01 = "scp01.lab.example"


@pytest.fixture
def lab() -> ConfigMgrLab:
    return ConfigMgrLab()


def values(lab: ConfigMgrLab, key: str, host: str = SCP01) -> dict:
    """The key's values by name (Get-Item lists the names, Get-ItemProperty reads them)."""
    names = lab.ok(step("k", "Get-Item", {"Property": None}, LiteralPath=[key]), host=host)["k"][0]["Property"] or []
    if not names:
        return {}
    out = lab.ok(step("v", "Get-ItemProperty", dict.fromkeys(names), LiteralPath=[key]), host=host)["v"]
    return out[0]


def test_a_default_server_has_net_4_8_without_the_tls_values_in_both_views(lab):
    for key in (NETFX_KEY, NETFX_WOW_KEY):
        found = values(lab, key)
        assert "SchUseStrongCrypto" not in found and "SystemDefaultTlsVersions" not in found
    assert values(lab, r"HKLM:\SOFTWARE\Microsoft\NET Framework Setup\NDP\v4\Full")["Release"] == 528449
    assert values(lab, r"HKLM:\SOFTWARE\WOW6432Node\Microsoft\.NETFramework")["InstallRoot"] == "C:\\Windows\\Microsoft.NET\\Framework\\"
    missing = lab.run(step("v", "Get-ItemProperty", LiteralPath=[NETFX_KEY], Name=["SchUseStrongCrypto"]), host=SCP01)["steps"][0]["error"]
    assert missing["message"].startswith("Property SchUseStrongCrypto does not exist at path")


def test_schannel_as_a_default_server_has_it(lab):
    assert values(lab, SCHANNEL_KEY)["EventLogging"] == 1
    protocols = lab.ok(step("p", "Get-ChildItem", None, Path=PROTOCOLS_KEY, Name=True), host=SCP01)["p"]
    assert protocols == ["SSL 2.0"]  # TLS 1.2 "is enabled by default": no key
    assert lab.ok(step("t", "Test-Path", Path=TLS12_CLIENT_KEY), host=SCP01)["t"] == [False]


def test_the_tls_1_2_client_key_is_made_with_new_item(lab):
    out = lab.ok(
        step("k", "New-Item", {"Name": None}, Path=TLS12_CLIENT_KEY, Force=True),
        step("e", "New-ItemProperty", None, Path=TLS12_CLIENT_KEY, Name="Enabled", Value=1, PropertyType="DWord"),
        step("d", "New-ItemProperty", None, Path=TLS12_CLIENT_KEY, Name="DisabledByDefault", Value=0, PropertyType="DWord"),
        host=SCP01,
    )
    assert out["k"] == [{"Name": "HKEY_LOCAL_MACHINE\\" + TLS12_CLIENT_KEY[6:]}]
    assert values(lab, TLS12_CLIENT_KEY) == {"Enabled": 1, "DisabledByDefault": 0}
    again = lab.run(step("k", "New-Item", Path=TLS12_CLIENT_KEY), host=SCP01)["steps"][0]["error"]
    assert again["message"] == "A key at this path already exists." and again["category"] == "ResourceExists"
    lab.ok(step("k", "New-Item", Path=TLS12_CLIENT_KEY, Force=True), host=SCP01)
    assert values(lab, TLS12_CLIENT_KEY) == {}  # -Force replaces an existing key with an empty one
    no_parent = lab.run(step("k", "New-Item", Path=r"HKLM:\SOFTWARE\Nowhere\Key"), host=SCP01)["steps"][0]["error"]
    assert no_parent["message"] == r"Cannot find path 'HKLM:\SOFTWARE\Nowhere' because it does not exist."
    assert lab.ok(step("f", "New-Item", {"FullName": None}, Path=r"C:\Certs", ItemType="Directory"), host=SCP01) == {
        "f": [{"FullName": "C:\\Certs"}]
    }


def test_net_tls_values_count_from_the_next_boot_and_the_dump_says_a_reboot_is_pending(lab):
    host = lab.model.host(SCP01)
    assert host.net.tls12("powershell") is False
    lab.set_tls12(SCP01)
    assert host.net.tls12("powershell") is False
    assert lab.model.dump()["hosts"][SCP01]["network"]["pending_reboot"] is True
    lab.reboot(SCP01)
    assert host.net.tls12("powershell") and host.net.tls12("sct") and host.net.tls12("executive")
    assert lab.model.dump()["hosts"][SCP01]["network"] == {
        "dotnet_tls12_at_boot": {"32": True, "64": True},
        "pending_reboot": False,
        "winhttp_proxy": {"access_type": "direct", "bypass": "", "proxy": ""},
    }


def test_winhttp_settings_as_netsh_leaves_them():
    assert encode_winhttp(None) == bytes([0x18, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
    blob = encode_winhttp("proxy.lab.example:8080", "<local>;*.lab.example", 3)
    assert blob[:12] == bytes([0x18, 0, 0, 0, 3, 0, 0, 0, 3, 0, 0, 0])
    assert decode_winhttp(blob) == {"access_type": "proxy", "proxy": "proxy.lab.example:8080", "bypass": "<local>;*.lab.example"}
    assert decode_winhttp(b"") == {"access_type": "direct", "proxy": "", "bypass": ""}

    data = default_topology()
    data["hosts"][SCP01]["winhttp_proxy"] = {"proxy": "proxy.lab.example:8080", "bypass": "<local>"}
    lab = ConfigMgrLab(data=data)
    raw = lab.ok(step("w", "Get-ItemProperty", {"WinHttpSettings": None}, Path=INTERNET_CONNECTIONS_KEY), host=SCP01)["w"][0][
        "WinHttpSettings"
    ]
    assert decode_winhttp(bytes(raw)) == {"access_type": "proxy", "proxy": "proxy.lab.example:8080", "bypass": "<local>"}


def test_topology_root_store_variants_and_certificate_files():
    data = default_topology()
    data["hosts"][SCP01]["root_certificates"] = {
        "missing": ["DigiCert Global Root G2"],
        "expired": ["73A5E64A3BFF8316FF0EDCCC618A906E4EAE4D74"],
    }
    data["hosts"][SCP01]["certificate_files"] = {
        r"C:\Certs\g2.crt": "DigiCert Global Root G2",
        r"C:\Certs\old.crt": {"root": "Baltimore CyberTrust Root"},
    }
    lab = ConfigMgrLab(data=data)
    store = lab.model.dump()["hosts"][SCP01]["certificates"]["LocalMachine\\Root"]
    subjects = {v["subject"].split(",")[0]: v for v in store.values()}
    assert "CN=DigiCert Global Root G2" not in subjects
    assert subjects["CN=Microsoft RSA Root Certificate Authority 2017"]["expired"] is True
    assert subjects["CN=Baltimore CyberTrust Root"]["expired"] is True  # expired May 12, 2025
    assert lab.model.host(SCP01).fs.file(r"C:\Certs\g2.crt").content.startswith("-----BEGIN CERTIFICATE-----")


@pytest.mark.parametrize(
    ("host_fields", "message"),
    [
        ({"root_certificates": {"missing": ["Contoso Root"]}}, "not a well-known root certificate: 'Contoso Root'"),
        ({"root_certificates": {"lost": []}}, "root_certificates: unknown field(s): lost"),
        ({"certificate_files": {"certs/g2.crt": "DigiCert Global Root G2"}}, "must be a full path"),
        ({"restart": {"down_seconds": -1}}, "restart.down_seconds: must be 0 or more seconds"),
        ({"winhttp_proxy": {"bypass": "<local>"}}, "winhttp_proxy.proxy: required"),
        ({"service_connection_tool": {"path": r"C:\T", "version": "new"}}, "is not a version such as 5.00.9128.1000"),
    ],
)
def test_host_fields_are_validated(host_fields, message):
    data = copy.deepcopy(default_topology())
    data["hosts"][SCP01].update(host_fields)
    with pytest.raises(TopologyError) as e:
        parse_topology(data)
    assert message in str(e.value)


def test_restart_timing_from_the_topology():
    data = default_topology()
    data["hosts"][SCP01]["restart"] = {"shutdown_delay_seconds": 0, "down_seconds": 30}
    lab = ConfigMgrLab(data=data)
    host = lab.model.host(SCP01)
    assert (host.restart_timing.shutdown_delay, host.restart_timing.down) == (0.0, 30.0)
    with lab.model.lock:
        host.restart()
    lab.advance(0)
    assert host.power_state == "down"
    lab.advance(29)
    assert host.power_state == "down"
    lab.advance(1)
    assert host.is_up
