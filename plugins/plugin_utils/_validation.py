# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Checks of user input that run before any connection.

Every message names the option and says how to fix it.
"""

from __future__ import annotations

import re

from ansible.errors import AnsibleActionFail

_SITE_CODE = re.compile(r"^[A-Za-z0-9]{3}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FQDN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
# DOMAIN\user, the form ConfigMgr accounts use (facts 1.12: "domain\user format"); the domain part
# may be a NetBIOS name or a DNS name (facts §9: FQDN form for other forests).
_ACCOUNT = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,254})\\[^\\/\[\]:;|=,+*?<>\"@\s][^\\/\[\]:;|=,+*?<>\"@]{0,103}$")


def site_code(value: str | None, option: str = "site_code") -> str | None:
    if value is None:
        return None
    if not _SITE_CODE.fullmatch(value):
        raise AnsibleActionFail(
            f"{option} must be a ConfigMgr site code of exactly 3 letters or digits (for example CAS or PS1), got {value!r}.")
    return value.upper()


def fqdn(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    if not _FQDN.fullmatch(value):
        raise AnsibleActionFail(
            f"{option} must be the fully qualified domain name of the server (for example scp01.contoso.com), "
            f"got {value!r}; ConfigMgr identifies site systems by FQDN.")
    return value.lower()


def account(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    if not _ACCOUNT.fullmatch(value):
        raise AnsibleActionFail(
            f"{option} must be an account in DOMAIN\\user form (for example CONTOSO\\cm-install), got {value!r}.")
    return value
