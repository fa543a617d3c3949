"""Microsoft.PowerShell.LocalAccounts: Get-LocalGroup, Get-/Add-/Remove-LocalGroupMember.

Members are domain principals (users, groups, computer accounts `DOMAIN\\NAME$`,
docs/configmgr-behaviour.md#remote-site-system-requirements) or local ones. Error ids, categories and
exception types are those of the module's own exceptions (GroupNotFound, PrincipalNotFound, MemberExists,
MemberNotFound).
"""

from __future__ import annotations

import re

from cmlab.model import LocalGroup, wildcard_match
from cmlab.model.windows import Principal

from .base import Invocation, cmdlet
from .errors import CmdletError
from .pstypes import PSEnum, PSObject

_NS = "Microsoft.PowerShell.Commands"
_SOURCES = {"Unknown": 0, "Local": 1, "ActiveDirectory": 2, "AzureAD": 3, "MicrosoftAccount": 4}


def _error(inv: Invocation, error_id: str, message: str, category: str) -> CmdletError:
    return CmdletError.of(inv.cmdlet, error_id, message, category, f"{_NS}.{error_id}Exception")


def _principal_not_found(inv: Invocation, name: str) -> CmdletError:
    return _error(inv, "PrincipalNotFound", f"Principal {name} was not found.", "ObjectNotFound")


def security_identifier(sid: str) -> PSObject:
    """System.Security.Principal.SecurityIdentifier: prints as the S-1-... string."""
    domain_sid = sid.rsplit("-", 1)[0] if sid.startswith("S-1-5-21-") else None
    return PSObject(
        ["System.Security.Principal.SecurityIdentifier", "System.Security.Principal.IdentityReference", "System.Object"],
        {
            "Value": sid,
            "AccountDomainSid": security_identifier(domain_sid) if domain_sid else None,
            "BinaryLength": 8 + 4 * (sid.count("-") - 2),
        },
        sid,
    )


def _source(name: str) -> PSEnum:
    return PSEnum(f"{_NS}.PrincipalSource", name, _SOURCES[name])


def local_principal(principal: Principal) -> PSObject:
    return PSObject(
        [f"{_NS}.LocalPrincipal", "System.Object"],
        {
            "Name": principal.name,
            "SID": security_identifier(principal.sid),
            "PrincipalSource": _source(principal.source),
            "ObjectClass": principal.object_class,
        },
        principal.name,
    )


def local_group_object(inv: Invocation, group: LocalGroup) -> PSObject:
    return PSObject(
        [f"{_NS}.LocalGroup", "System.Object"],
        {
            "Name": group.name,
            "Description": group.description,
            "SID": security_identifier(inv.host.local_group_sid(group)),
            "PrincipalSource": _source("Local"),
            "ObjectClass": "Group",
        },
        group.name,
    )


def _group_by_name(inv: Invocation, name: str) -> LocalGroup:
    group = inv.host.local_group(name)
    if group is None:
        raise _error(inv, "GroupNotFound", f"Group {name} was not found.", "ObjectNotFound")
    return group


def _target_group(inv: Invocation) -> LocalGroup:
    """The group of the Default (-Name), Group (-Group object) or SecurityIdentifier (-SID) set."""
    if inv.parameter_set == "Group":
        value = inv.get("Group")
        return _group_by_name(inv, str(value.get("Name") if isinstance(value, PSObject) else value))
    if inv.parameter_set == "SecurityIdentifier":
        sid = str(inv.get("SID"))
        group = next((g for g in inv.host.iter_groups() if inv.host.local_group_sid(g).lower() == sid.lower()), None)
        if group is None:
            raise _error(inv, "GroupNotFound", f"Group {sid} was not found.", "ObjectNotFound")
        return group
    return _group_by_name(inv, str(inv.get("Name")))


def _member_texts(inv: Invocation) -> list[str]:
    """-Member values: names, SID strings or LocalPrincipal objects (by Name, else by SID)."""
    members = inv.get("Member") or []
    texts = []
    for member in members if isinstance(members, list) else [members]:
        if isinstance(member, PSObject):
            sid = member.get("SID")
            member = member.get("Name") or (sid.to_string() if isinstance(sid, PSObject) else sid)
        texts.append(str(member))
    return texts


@cmdlet("Get-LocalGroup", ("Name", "SID"))
def get_local_group(inv: Invocation) -> list:
    with inv.model.lock:
        groups = list(inv.host.iter_groups())
        if inv.parameter_set == "SecurityIdentifier" and inv.get("SID"):
            wanted = {str(s).lower() for s in inv.get("SID")}
            groups = [g for g in groups if inv.host.local_group_sid(g).lower() in wanted]
        elif inv.get("Name"):
            picked: list[LocalGroup] = []
            for pattern in inv.get("Name"):
                hits = [g for g in groups if wildcard_match(pattern, g.name)]
                if not hits and not re.search(r"[*?]", pattern):
                    raise _error(inv, "GroupNotFound", f"Group {pattern} was not found.", "ObjectNotFound")
                picked.extend(h for h in hits if h not in picked)
            groups = picked
        return [local_group_object(inv, g) for g in groups]


@cmdlet("Get-LocalGroupMember", ("Name", "Group", "SID", "Member"))
def get_local_group_member(inv: Invocation) -> list:
    with inv.model.lock:
        group = _target_group(inv)
        principals = sorted((inv.host.member_principal(m) for m in group.members), key=lambda p: p.name.lower())
        pattern = inv.get("Member")
        if pattern:
            pattern = str(pattern)
            hits = [
                p
                for p in principals
                if wildcard_match(pattern, p.name) or wildcard_match(pattern, p.name.split("\\")[-1]) or p.sid.lower() == pattern.lower()
            ]
            if not hits and not re.search(r"[*?]", pattern):
                raise _principal_not_found(inv, pattern)
            principals = hits
        return [local_principal(p) for p in principals]


def _resolve(inv: Invocation, text: str) -> Principal:
    principal = inv.host.resolve_principal(text)
    if principal is None:
        raise _principal_not_found(inv, text)
    return principal


@cmdlet("Add-LocalGroupMember", ("Name", "Group", "SID", "Member"))
def add_local_group_member(inv: Invocation) -> list:
    """Members are added one by one: with -ErrorAction Stop the first failure ends the command and
    the members before it stay added (as the real cmdlet does)."""
    with inv.model.lock:
        group = _target_group(inv)
        for text in _member_texts(inv):
            principal = _resolve(inv, text)
            if any(inv.host.member_principal(m).sid == principal.sid for m in group.members):
                raise _error(inv, "MemberExists", f"{principal.name} is already a member of group {group.name}.", "ResourceExists")
            if not inv.what_if:
                group.members.append(principal.name)
    return []


@cmdlet("Remove-LocalGroupMember", ("Name", "Group", "SID", "Member"))
def remove_local_group_member(inv: Invocation) -> list:
    with inv.model.lock:
        group = _target_group(inv)
        for text in _member_texts(inv):
            principal = _resolve(inv, text)
            stored = next((m for m in group.members if inv.host.member_principal(m).sid == principal.sid), None)
            if stored is None:
                raise _error(inv, "MemberNotFound", f"Member {principal.name} was not found in group {group.name}.", "ObjectNotFound")
            if not inv.what_if:
                group.members.remove(stored)
    return []
