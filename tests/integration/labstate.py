"""Reading the cmlab state dump in the terms the tests speak (docs/cmlab.md, "State dump")."""

from __future__ import annotations

SCP_ROLE = "SMS Dmp Connector"


def scp_roles(state: dict) -> list[tuple[str, str]]:
    """(site code, server) of every SCP role the site control records."""
    return [(ss["site_code"], ss["server"]) for h in state["hierarchies"].values() for ss in h["site_systems"] if SCP_ROLE in ss["roles"]]


def role_state(state: dict, server: str, role: str = SCP_ROLE) -> str | None:
    for h in state["hierarchies"].values():
        for ss in h["site_systems"]:
            if ss["server"] == server and role in ss["roles"]:
                return ss["roles"][role]["state"]
    return None


def scp_runtime(state: dict, server: str) -> dict | None:
    for h in state["hierarchies"].values():
        for rt in h.get("scp_runtime", []):
            if rt["server"] == server:
                return rt
    return None


def components_on(state: dict, server: str) -> dict[str, str]:
    return {c["component"]: c["state"] for h in state["hierarchies"].values() for c in h.get("components", []) if c["machine"] == server}


def administrators(state: dict, host: str) -> list[str]:
    return state["hosts"][host]["local_groups"].get("Administrators", [])


def firewall_rule(state: dict, host: str, name: str) -> dict | None:
    return state["hosts"][host].get("firewall_rules", {}).get(name)


def site_system(state: dict, server: str, site_code: str) -> dict | None:
    for h in state["hierarchies"].values():
        for ss in h["site_systems"]:
            if ss["server"] == server and ss["site_code"] == site_code:
                return ss
    return None
