# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Can the site install the SCP on its server? Checked on that server.

docs/configmgr-behaviour.md#remote-site-system-requirements: Site Component Manager installs a role on a remote
site system with the site system's installation account when one is configured, else with the site server's
computer account; that account must be a local administrator there. This module checks exactly that account
(`installing_account`), on the SCP server itself:

1. that the host the check runs on *is* the SCP server (Win32_ComputerSystem: DNSHostName + Domain), so that a
   wrong scp_host never blesses another server;
2. the members of its local Administrators group (the well-known SID S-1-5-32-544, any language);
3. the members of each domain group among them (Win32_GroupUser, which the host answers from its domain),
   one level deep.

Where the answer cannot be known from the host - a group whose members cannot be read, a group nested in a
group, a cloud group, a domain named in two forms - the check warns rather than guesses.
"""

from __future__ import annotations

from dataclasses import dataclass

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _site_system
from ansible_collections.configmgr.scp.plugins.plugin_utils._hierarchy import Hierarchy
from ansible_collections.configmgr.scp.plugins.plugin_utils._local_group import ADMINISTRATORS_SID
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan

MEMBER_SELECT = {"Name": None, "SID": None, "ObjectClass": None, "PrincipalSource": None}
PART_SELECT = {"PartComponent": {"Domain": None, "Name": None, "CimSystemProperties": {"ClassName": None}}}


class WrongHost(AnsibleActionFail):
    """The host the check reached is not the SCP server."""


@dataclass(frozen=True)
class Installer:
    account: str  # DOMAIN\\name; a computer account whose domain is not known: NAME$
    kind: str


@dataclass(frozen=True)
class Member:
    name: str
    object_class: str
    source: str


def installing_account(hierarchy: Hierarchy, server: str, site_code: str | None, site_server: str | None) -> Installer:
    """The account Site Component Manager will use on `server`: its installation account, else the computer account
    of the site server (docs/configmgr-behaviour.md#site-system-servers: the SMS Site System role's props)."""
    row = hierarchy.site_system(server, site_code) if site_code else None
    state = _site_system.state_of(row) if row else None
    if state is not None and not state.use_site_server_account and state.installation_account:
        return Installer(state.installation_account, "the site system installation account")
    return Installer((site_server or "").split(".")[0].upper() + "$", "the site server's computer account")


def first_plan() -> Plan:
    plan = Plan()
    plan.add(
        "identity", "Get-CimInstance", {"ClassName": "Win32_ComputerSystem"}, select={"Name": None, "DNSHostName": None, "Domain": None}
    )
    plan.add("members", "Get-LocalGroupMember", {"SID": ADMINISTRATORS_SID}, select=MEMBER_SELECT)
    return plan


def groups_plan(groups: list[Member]) -> Plan:
    plan = Plan()
    for index, group in enumerate(groups):
        domain, name = split(group.name)
        plan.add(
            f"group_{index}",
            "Get-CimInstance",
            {"ClassName": "Win32_GroupUser", "Filter": f"GroupComponent = \"Win32_Group.Domain='{domain}',Name='{name}'\""},
            select=PART_SELECT,
            on_error="continue",
        )
    return plan


def split(account: str) -> tuple[str, str]:
    """DOMAIN\\name as (DOMAIN, name); a name without a domain as ("", name)."""
    parts = account.rpartition("\\")
    return parts[0], parts[2]


def same_account(member: str, account: str) -> str:
    """Whether a member name is the account: "yes", "no", or "maybe" (the domain in two forms: LAB and
    lab.example are the same domain only when its NetBIOS name is the first label of its DNS name)."""
    m_domain, m_name = split(member)
    a_domain, a_name = split(account)
    if m_name.lower() != a_name.lower():
        return "no"
    if not a_domain or not m_domain or m_domain.lower() == a_domain.lower():
        return "yes"
    dns, netbios = (a_domain, m_domain) if "." in a_domain else (m_domain, a_domain)
    if "." in dns and "." not in netbios and dns.split(".")[0].lower() == netbios.lower():
        return "maybe"
    return "no"


def members(output: list) -> list[Member]:
    return [
        Member(str(m["Name"]), str(m.get("ObjectClass") or ""), str(m.get("PrincipalSource") or ""))
        for m in output
        if isinstance(m, dict) and m.get("Name")
    ]


def check(read, scp_host: str, server: str, installer: Installer) -> str | None:
    """None when the installer is an administrator of `server`; a warning when that cannot be known; raises when
    it is not (or when `scp_host` is another server). `read(plan)` runs a plan on the SCP server."""
    first = read(first_plan())
    identity = first.first("identity") or {}
    if identity.get("DNSHostName"):
        fqdn = f"{identity['DNSHostName']}.{identity.get('Domain') or ''}".rstrip(".").lower()
        if fqdn != server.lower():
            raise WrongHost(
                f"scp_host {scp_host} is {fqdn}, not site_system_server {server}: the prerequisites would be checked on "
                f"another server. Set scp_host to the inventory host of {server} (or leave it out to find it by name)."
            )
    found = members(first.output("members"))
    who = f"{installer.account} ({installer.kind})"
    unclear: list[str] = []
    for member in found:
        match = same_account(member.name, installer.account)
        if match == "yes":
            return None
        if match == "maybe":
            unclear.append(f"{member.name} is a member, which is {installer.account} only if its domain is the same")
    groups = [m for m in found if m.object_class == "Group" and m.source == "ActiveDirectory"]
    unclear += [
        f"{m.name} is a group of {m.source or 'an unknown source'}, whose members cannot be read from the server"
        for m in found
        if m.object_class == "Group" and m.source not in ("Local", "ActiveDirectory")
    ]
    readable = [g for g in groups if "'" not in g.name and '"' not in g.name]
    unclear += [f"the members of {g.name} cannot be queried (a quote in its name)" for g in groups if g not in readable]
    if readable:
        result = read(groups_plan(readable))
        for index, group in enumerate(readable):
            step = result.steps.get(f"group_{index}")
            if step is None or not step.ok:
                message = ((step.error or {}).get("message") if step else None) or "no answer"
                unclear.append(f"the members of {group.name} could not be read ({message.strip()})")
                continue
            for row in step.output:
                part = row.get("PartComponent") if isinstance(row, dict) else None
                if not isinstance(part, dict) or not part.get("Name"):
                    continue
                name = f"{part.get('Domain') or ''}\\{part['Name']}".lstrip("\\")
                match = same_account(name, installer.account)
                if match == "yes":
                    return None
                if match == "maybe":
                    unclear.append(f"{name} is a member of {group.name}, which is {installer.account} only if its domain is the same")
                if ((part.get("CimSystemProperties") or {}).get("ClassName") or "").lower() == "win32_group":
                    unclear.append(f"{name} is a group in {group.name}, whose members were not read")
    if unclear:
        return (
            f"Could not tell whether {who} is an administrator of {server}: {'; '.join(unclear)}. If it is not, "
            f"Site Component Manager cannot install the role there."
        )
    checked = f", nor of the domain groups in it ({', '.join(g.name for g in readable)})" if readable else ""
    raise AnsibleActionFail(
        f"Prerequisite missing on {server}: {who} is not a member of the local Administrators group{checked}, so Site "
        f"Component Manager cannot install the role there (members: {', '.join(m.name for m in found) or 'none'}). Add "
        f"it with configmgr.scp.local_group_member, or give the site system an installation account that is an "
        f"administrator there (configmgr.scp.site_system_server)."
    )
