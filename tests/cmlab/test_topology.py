"""Topology files: the default lab, validation messages that name the field, the fleet generator."""

from __future__ import annotations

import copy

import pytest
import yaml

from cmlab.topology import TopologyError, fleet_topology, load_topology, parse_topology

with open("inventories/lab/cmlab.yml", encoding="utf-8") as _fh:
    DEFAULT = yaml.safe_load(_fh)


def test_default_lab():
    topo = load_topology("inventories/lab/cmlab.yml")
    assert topo.admin_principal == "LAB\\cmadmin"
    assert [h.fqdn for h in topo.hosts] == ["cas.lab.example", "ps1.lab.example", "scp01.lab.example", "inet01.lab.example"]
    assert topo.groups() == {
        "internet_hosts": ["inet01.lab.example"],
        "scp_hosts": ["scp01.lab.example"],
        "site_servers": ["cas.lab.example", "ps1.lab.example"],
        "sms_provider": ["cas.lab.example"],
    }
    assert topo.hierarchies[0].cloud_services == ["tenant_attach"]
    assert topo.host("inet01.lab.example").service_connection_tool == "C:\\Tools\\ServiceConnectionTool"
    assert [(s.code, s.parent) for s in topo.hierarchies[0].sites] == [("CAS", ""), ("PS1", "CAS")]
    assert topo.host("cas.lab.example").address == "127.10.0.11"


def mutate(path: str, value) -> dict:
    data = copy.deepcopy(DEFAULT)
    *parents, last = path.split("/")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return data


@pytest.mark.parametrize(
    "path, value, message",
    [
        ("hosts/cas.lab.example/address", "10.0.0.5", "hosts.cas.lab.example.address: 10.0.0.5 is not a loopback address"),
        ("hosts/cas.lab.example/address", "nope", "hosts.cas.lab.example.address: 'nope' is not an IP address"),
        ("hosts/cas.lab.example/http_port", 70000, "hosts.cas.lab.example.http_port: 70000 is not a TCP port"),
        ("hosts/ps1.lab.example/address", "127.10.0.11", "hosts.ps1.lab.example.http_port: 127.10.0.11:5985 is already used"),
        ("hosts/cas.lab.example/colour", "blue", "hosts.cas.lab.example: unknown field(s): colour"),
        ("hosts/cas.lab.example/console", "yes", "hosts.cas.lab.example.console: expected bool"),
        ("domain/password", "x", "domain.password: passwords never go in the topology"),
        ("domain/admin_user", KeyError, "domain.admin_user: required"),
        ("hierarchies/lab/sites/PS1/parent", "XYZ", "hierarchies.lab.sites.PS1.parent: XYZ does not exist"),
        ("hierarchies/lab/sites/PS1/parent", KeyError, "exactly one top-level site"),
        ("hierarchies/lab/sites/PS1/server", "ghost.lab.example", "hierarchies.lab.sites.PS1.server: ghost.lab.example is not"),
        ("hierarchies/lab/sites/PS1/type", "tertiary", "hierarchies.lab.sites.PS1.type: one of cas, primary, secondary"),
        ("hierarchies/lab/accounts/0/user", "nodomain", "hierarchies.lab.accounts[0].user: 'nodomain' must be DOMAIN\\user"),
        ("hierarchies/lab/site_systems/0/roles/0/mode", "Sideways", "roles[0].mode: Online or Offline"),
        ("hierarchies/lab/site_systems/0/account", "LAB\\ghost", "site_systems[0].account: LAB\\ghost is not in this"),
        ("faults", [{"kind": "meteor"}], "faults[0].kind: 'meteor' is not one of"),
        ("faults", [{"kind": "delay", "host": "ghost.lab.example"}], "faults[0].host: ghost.lab.example is not one of"),
        ("version", 2, "version: unsupported topology version 2"),
    ],
)
def test_validation_names_the_field(path, value, message):
    with pytest.raises(TopologyError) as err:
        parse_topology(mutate(path, value))
    assert message in str(err.value)


def test_bad_site_code_and_cas_with_parent():
    data = mutate("hierarchies/lab/sites/TOOLONG", {"type": "primary", "server": "ps1.lab.example", "parent": "CAS"})
    with pytest.raises(TopologyError, match="'TOOLONG' is not a site code"):
        parse_topology(data)
    data = mutate("hierarchies/lab/sites/PS1/type", "cas")
    with pytest.raises(TopologyError, match="a CAS is always the top-level site"):
        parse_topology(data)


def test_file_errors(tmp_path):
    with pytest.raises(TopologyError, match="cannot read"):
        load_topology(tmp_path / "absent.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("hosts: [\n")
    with pytest.raises(TopologyError, match="not valid YAML"):
        load_topology(bad)


def test_fault_specs_and_options():
    topo = parse_topology(mutate("faults", [{"kind": "delay", "host": "cas.lab.example", "count": 2, "options": {"seconds": 1}}]))
    assert (topo.faults[0].kind, topo.faults[0].count, topo.faults[0].options) == ("delay", 2, {"seconds": 1})


def test_fleet_generator():
    topo = fleet_topology(40)
    assert len(topo.hierarchies) == 40 and len(topo.hosts) == 120
    assert all(h.http_port == 0 and h.https_port == 0 for h in topo.hosts)
    codes = [s.code for h in topo.hierarchies for s in h.sites]
    assert len(codes) == len(set(codes)) == 80
    addresses = [h.address for h in topo.hosts]
    assert len(set(addresses)) == 120 and all(a.startswith("127.") for a in addresses)
    model = topo.build_model("Fleet-Test-1!")
    for hierarchy in model.hierarchies:
        ss, _ = hierarchy.scp()
        assert hierarchy.sites[ss.site_code].reporting_site_code  # each starts like the default lab
