"""The topology's ConfigMgr sections: timing, the simulated internet, hierarchy settings, the tool."""

from __future__ import annotations

import copy

import pytest
import yaml

from cmlab.model.internet import REACHABLE, TIMEOUT, ProxyUse
from cmlab.topology import TopologyError, parse_topology

with open("inventories/lab/cmlab.yml", encoding="utf-8") as _fh:
    DEFAULT = yaml.safe_load(_fh)


def topology(**sections) -> dict:
    data = copy.deepcopy(DEFAULT)
    for key, value in sections.items():
        if key in ("telemetry_level", "cloud_services"):
            data["hierarchies"]["lab"][key] = value
        elif key == "service_connection_tool":
            data["hosts"]["scp01.lab.example"][key] = value
        else:
            data[key] = value
    return data


def test_configmgr_internet_and_hierarchy_settings_build_the_model():
    topo = parse_topology(
        topology(
            configmgr={"install_delay_seconds": 0, "install_retry_seconds": 30, "connectivity_check_interval_seconds": 600},
            internet={
                "default": "reachable",
                "proxy_required": True,
                "proxies": {"proxy.lab.example": {"port": 8080, "auth_required": True}},
                "endpoints": {"go.microsoft.com": "timeout", "*.manage.microsoft.com": {"outcome": 502}},
            },
            telemetry_level="full",
            cloud_services=["tenant_attach"],
            service_connection_tool=r"C:\Tools\ServiceConnectionTool",
        )
    )
    model = topo.build_model("pw")
    assert (
        model.configmgr_timing.install_delay,
        model.configmgr_timing.install_retry,
        model.configmgr_timing.connectivity_check_interval,
    ) == (0.0, 30.0, 600.0)
    internet = model.internet
    assert internet.request("https://go.microsoft.com").failure == TIMEOUT  # no proxy: dropped anyway
    via = ProxyUse("proxy.lab.example", 8080, authenticated=True)
    assert internet.request("https://go.microsoft.com", via).failure == TIMEOUT
    assert internet.request("https://sccm.manage.microsoft.com/x", via).status == 502
    assert internet.request("https://aka.ms", via).kind == REACHABLE
    assert internet.request("https://aka.ms", ProxyUse("proxy.lab.example", 8080)).status == 407
    hierarchy = model.hierarchy("lab")
    assert (hierarchy.telemetry_level, hierarchy.cloud_services) == ("Full", {"tenant_attach"})
    assert model.host("scp01.lab.example").fs.kind(r"C:\Tools\ServiceConnectionTool\ServiceConnectionTool.exe") == "leaf"
    assert model.dump()["hierarchies"]["lab"]["telemetry_level"] == "Full"


@pytest.mark.parametrize(
    "sections, message",
    [
        ({"configmgr": {"install_delay_seconds": -1}}, "configmgr.install_delay_seconds: must be 0 or more seconds"),
        ({"configmgr": {"install_delay": 1}}, "configmgr: unknown field(s): install_delay"),
        ({"internet": {"default": "maybe"}}, "not an endpoint outcome: 'maybe'"),
        ({"internet": {"endpoints": {"go.microsoft.com": 700}}}, "not an HTTP status: 700"),
        ({"internet": {"proxies": {"p": {"port": 0}}}}, "internet.proxies.p: port 1-65535"),
        ({"internet": {"colour": "blue"}}, "internet: unknown field(s): colour"),
        ({"telemetry_level": "Verbose"}, "hierarchies.lab.telemetry_level: one of Basic, Enhanced, Full"),
        ({"cloud_services": ["intune"]}, "hierarchies.lab.cloud_services: 'intune' is not one of"),
        ({"service_connection_tool": "Tools"}, "service_connection_tool: 'Tools' must be a full path"),
    ],
)
def test_validation_names_the_field(sections, message):
    with pytest.raises(TopologyError) as e:
        parse_topology(topology(**sections))
    assert message in str(e.value)


def test_hierarchy_switches_are_validated():
    data = topology()
    data["hierarchies"]["lab"]["refuse_second_scp"] = "no"
    with pytest.raises(TopologyError) as e:
        parse_topology(data)
    assert "hierarchies.lab.refuse_second_scp: expected bool" in str(e.value)
    data["hierarchies"]["lab"]["refuse_second_scp"] = False
    assert parse_topology(data).build_model("pw").hierarchy("lab").refuse_second_scp is False


def test_internet_endpoint_roots_and_service_changes():
    topo = parse_topology(
        topology(internet={"endpoints": {"go.microsoft.com": {"root": "Baltimore CyberTrust Root"}}, "service_configuration_change": True})
    )
    internet = topo.build_model("pw").internet
    assert internet.rules["go.microsoft.com"].root == "CN=Baltimore CyberTrust Root, OU=CyberTrust, O=Baltimore, C=IE"
    assert internet.to_dict()["service_configuration_changes"] == 1
    with pytest.raises(TopologyError) as e:
        parse_topology(topology(internet={"endpoints": {"aka.ms": {"root": "Contoso"}}}))
    assert "not a well-known root certificate: 'Contoso'" in str(e.value)
