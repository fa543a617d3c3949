"""A fleet of hierarchies like the default lab, for benchmarks (`python -m cmlab start --fleet N`)."""

from __future__ import annotations

import ipaddress
from typing import Any

from cmlab.model import ROLE_SCP, Prop, SiteType

from .build import Topology
from .spec import DomainSpec, HierarchySpec, HostSpec, RoleSpec, SiteSpec, SiteSystemSpec


def _code(prefix: str, index: int) -> str:
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    if not 0 <= index < 36 * 36:
        raise ValueError("at most 1296 hierarchies")
    return prefix + digits[index // 36] + digits[index % 36]


def fleet_topology(
    count: int, netbios: str = "FLEET", dns: str = "fleet.example", admin_user: str = "cmadmin", base_network: str = "127.20.0.0"
) -> Topology:
    """`count` hierarchies like the default lab (CAS + child primary holding the SCP + a member
    server for it), each on its own hosts, all on ephemeral ports."""
    base = int(ipaddress.ip_address(base_network))
    hosts: list[HostSpec] = []
    hierarchies: list[HierarchySpec] = []
    inventory_vars: dict[str, dict[str, Any]] = {}
    for i in range(count):
        cas, ps, scp = (f"{n}{i + 1:03d}.{dns}" for n in ("cas", "ps", "scp"))
        # playbooks/site.yml per hierarchy: move the SCP from the child primary to the member server,
        # which the CAS site server's computer account installs (made a local administrator there).
        # (Variables of the role service_connection_point, roles/.../meta/argument_specs.yml.)
        inventory_vars[cas] = {
            "service_connection_point_server": scp,
            "service_connection_point_mode": "online",
            "service_connection_point_allow_move": True,
            "service_connection_point_site_server_account": f"{netbios}\\{cas.split('.')[0].upper()}$",
        }
        for j, (fqdn, groups, console) in enumerate(
            ((cas, ["sms_provider", "site_servers"], True), (ps, ["site_servers"], False), (scp, ["scp_hosts"], False))
        ):
            address = str(ipaddress.ip_address(base + 1 + i * 3 + j))
            # The CAS site server administers the child site server; the SCP host is not prepared yet.
            members = {"Administrators": [f"{netbios}\\{cas.split('.')[0].upper()}$"]} if fqdn == ps else {}
            hosts.append(HostSpec(fqdn, address, 0, 0, [*groups, f"hierarchy_{i + 1:03d}"], console, members))
        c, p = _code("C", i), _code("P", i)
        hierarchies.append(
            HierarchySpec(
                name=f"h{i + 1:03d}",
                sites=[
                    SiteSpec(c, f"Central {i + 1}", SiteType.CAS, cas, cas),
                    SiteSpec(p, f"Primary {i + 1}", SiteType.PRIMARY, ps, ps, parent=c),
                ],
                site_systems=[SiteSystemSpec(p, ps, roles=[RoleSpec(ROLE_SCP, [Prop("OfflineMode", 0)])])],
            )
        )
    return Topology(DomainSpec(netbios, dns, admin_user), hosts, hierarchies, source=f"<fleet of {count}>", inventory_vars=inventory_vars)
