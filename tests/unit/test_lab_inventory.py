"""The committed lab inventory and the lab topology describe the same hosts."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def test_static_lab_inventory_matches_the_topology():
    topology = yaml.safe_load((REPO / "inventories" / "lab" / "cmlab.yml").read_text())
    inventory = yaml.safe_load((REPO / "inventories" / "lab" / "hosts.yml").read_text())["all"]
    hosts = inventory["hosts"]
    assert set(hosts) == set(topology["hosts"])
    for name, host in topology["hosts"].items():
        assert hosts[name]["ansible_host"] == host["address"]
        assert hosts[name]["ansible_port"] == host["http_port"]
    for group, members in inventory["children"].items():
        assert set(members["hosts"]) == {n for n, h in topology["hosts"].items() if group in h.get("groups", [])}
    assert inventory["vars"]["ansible_user"] == "{}\\{}".format(topology["domain"]["netbios"], topology["domain"]["admin_user"])
