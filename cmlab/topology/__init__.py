"""The lab topology: a YAML file describing domain, hosts, ConfigMgr hierarchies and faults.

- `spec`: the topology as data (dataclasses), depending on nothing else in this package;
- `load`: `load_topology(path)` / `parse_topology(data)` validate a file into a `Topology`;
- `build`: `Topology.build_model(password)` (or `build_model(topology, password)`) creates the model;
- `fleet`: `fleet_topology(n)`, n hierarchies like the default lab.

No password is ever read from the file: the lab's password is generated at start (or taken from
CMLAB_PASSWORD) and shared by every domain account (docs/cmlab.md).
"""

from .build import Topology, build_model
from .fleet import fleet_topology
from .load import load_topology, parse_topology
from .spec import (
    DEFAULT_HTTP_PORT,
    DEFAULT_HTTPS_PORT,
    DomainSpec,
    FaultSpec,
    HierarchySpec,
    HostSpec,
    RoleSpec,
    ServiceSpec,
    SiteSpec,
    SiteSystemSpec,
    TopologyError,
    TopologySpec,
)

__all__ = [
    "DEFAULT_HTTPS_PORT",
    "DEFAULT_HTTP_PORT",
    "DomainSpec",
    "FaultSpec",
    "HierarchySpec",
    "HostSpec",
    "RoleSpec",
    "ServiceSpec",
    "SiteSpec",
    "SiteSystemSpec",
    "Topology",
    "TopologyError",
    "TopologySpec",
    "build_model",
    "fleet_topology",
    "load_topology",
    "parse_topology",
]
