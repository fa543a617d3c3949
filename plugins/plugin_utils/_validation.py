# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Checks of user input that run before any connection.

Every rule of the collection lives here; every message names the option and says how to fix it.
"""

from __future__ import annotations

import ipaddress
import re

from ansible.errors import AnsibleActionFail

_SITE_CODE = re.compile(r"^[A-Za-z0-9]{3}$")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FQDN = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+$")
# DOMAIN\user, the form ConfigMgr accounts use (docs/configmgr-behaviour.md#configmgr-accounts:
# "domain\user format"); the domain part may be a NetBIOS name or a DNS name
# (docs/configmgr-behaviour.md#remote-site-system-requirements: FQDN form for other forests).
_ACCOUNT = re.compile(r"^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,254})\\[^\\/\[\]:;|=,+*?<>\"@\s][^\\/\[\]:;|=,+*?<>\"@]{0,103}$")
# A security identifier in its string form (S-1-5-32-544).
_SID = re.compile(r"^S-1-[0-9]{1,14}(?:-[0-9]{1,10}){1,15}$", re.IGNORECASE)
# Local group names: 1-256 characters, none of " / \ [ ] : ; | = , + * ? < > @
_GROUP = re.compile(r'^[^"/\\\[\]:;|=,+*?<>@\r\n]{1,256}$')
_COMPONENT = re.compile(r"^SMS_[A-Z0-9_]{1,60}$")
_PORT = re.compile(r"^(?:[0-9]{1,5}(?:-[0-9]{1,5})?)$")


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


def principal(value: str, option: str) -> str:
    """A member of a local group: DOMAIN\\name, or a SID string (S-1-5-21-...-1103)."""
    if isinstance(value, str) and _SID.fullmatch(value):
        return value.upper()
    if not isinstance(value, str) or not _ACCOUNT.fullmatch(value):
        raise AnsibleActionFail(
            f"{option} must list principals in DOMAIN\\name form (for example CONTOSO\\CAS01$) or as SIDs "
            f"(S-1-5-21-...), got {value!r}.")
    return value


def is_sid(value: str) -> bool:
    return bool(_SID.fullmatch(value or ""))


def local_group(value: str, option: str = "group") -> str:
    if not _GROUP.fullmatch(value) or value != value.strip():
        raise AnsibleActionFail(f"{option} must be the name of a local group (for example Administrators), got {value!r}.")
    return value


def component(value: str | None, option: str = "component") -> str | None:
    if value is None:
        return None
    if not _COMPONENT.fullmatch(value.upper()):
        raise AnsibleActionFail(
            f"{option} must be an SMS_Executive component name such as SMS_DMP_DOWNLOADER, got {value!r}.")
    return value.upper()


def wait_options(timeout: int, interval: int) -> tuple[int, int]:
    """wait_timeout / poll_interval; the interval never exceeds the timeout."""
    if timeout < 1 or interval < 1:
        raise AnsibleActionFail("wait_timeout and poll_interval must be at least 1 second.")
    return timeout, min(interval, timeout)


def proxy_server(value: str | None, option: str = "proxy_server") -> str | None:
    """docs/configmgr-behaviour.md#site-system-servers: an FQDN, a host name, an IPv4 or an IPv6 address."""
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.split(".")
    if all(label and len(label) <= 63 and label.replace("-", "").isalnum() and label.isascii()
           and not label.startswith("-") and not label.endswith("-") for label in labels) and len(value) <= 253:
        return value.lower()
    raise AnsibleActionFail(f"{option} must be an FQDN, a host name or an IP address, got {value!r}.")


def ports(option: str, values: list[str] | None) -> list[str] | None:
    for port in values or []:
        text = str(port).strip()
        if not _PORT.fullmatch(text) or any(not 1 <= int(p) <= 65535 for p in text.split("-")):
            raise AnsibleActionFail(f"{option} must list port numbers 1-65535 or ranges such as 5000-5010, got {port!r}.")
    return values


def firewall_rule_name(value: str, option: str = "name") -> str:
    """The rule's unique name, taken literally (never as a pattern, see _firewall)."""
    if not value.strip() or "\n" in value or "\r" in value:
        raise AnsibleActionFail(f"{option} must be the rule's unique name (one line, not empty).")
    return value


# -- reading status messages and logs -----------------------------------------------------------------

_DURATION = re.compile(r"^([0-9]{1,6})\s*([smhdw])$", re.IGNORECASE)
_DURATION_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
# A log file name in the site's Logs folder: one file name, no folder, no wildcard, no 8.3 short name
# (~), ending in .log (its rolled-over .lo_ is read with it; docs/configmgr-behaviour.md#logs).
_LOG_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.()-]{0,120}\.log$", re.IGNORECASE)


def since(value: str | None, option: str = "since", now=None):
    """A point in time as an aware UTC datetime: ISO 8601 (a time without an offset is UTC), or a duration
    back from now such as 30m, 24h, 7d or 2w."""
    import datetime

    if value is None:
        return None
    text = str(value).strip()
    utc = datetime.timezone.utc
    now = now or datetime.datetime.now(utc)
    duration = _DURATION.fullmatch(text)
    if duration:
        return now - datetime.timedelta(seconds=int(duration.group(1)) * _DURATION_SECONDS[duration.group(2).lower()])
    iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    try:
        moment = datetime.datetime.fromisoformat(iso)
    except ValueError:
        raise AnsibleActionFail(
            f"{option} must be a date and time in ISO 8601 form (2026-03-15T08:00:00Z; without an offset it is UTC) "
            f"or a duration back from now such as 30m, 24h or 7d, got {value!r}.") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=utc)
    return moment.astimezone(utc)


def log_name(value: str, option: str = "name") -> str:
    """One log file name of the site's Logs folder: never a path, a pattern or a short name."""
    if not isinstance(value, str) or not _LOG_NAME.fullmatch(value) or ".." in value:
        raise AnsibleActionFail(
            f"{option} must be the file name of a ConfigMgr log in the site's Logs folder, such as Dmpdownloader.log "
            f"(letters, digits, '_', '-', '.', '(', ')'; ending in .log; no folder, no wildcard), got {value!r}.")
    return value


def regex(value: str | None, option: str = "regex"):
    if value is None:
        return None
    try:
        return re.compile(value)
    except re.error as e:
        raise AnsibleActionFail(f"{option} is not a valid regular expression (Python syntax): {e}.") from None


def jmespath_query(value: str | None, option: str = "query"):
    """The compiled JMESPath expression; refused before anything connects when it does not parse."""
    if value is None:
        return None
    try:
        import jmespath
        from jmespath.exceptions import JMESPathError
    except ImportError:
        raise AnsibleActionFail(f"{option} needs the Python library jmespath on the Ansible controller "
                                f"(pip install jmespath).") from None
    try:
        return jmespath.compile(value)
    except JMESPathError as e:
        raise AnsibleActionFail(f"{option} is not a valid JMESPath expression: {e}") from None


def message_ids(values: list | None, option: str = "message_ids") -> list[int] | None:
    if values is None:
        return None
    out = []
    for value in values:
        try:
            number = int(value)
        except (TypeError, ValueError):
            number = -1
        if isinstance(value, bool) or not 0 < number < 2 ** 32:
            raise AnsibleActionFail(f"{option} must list status message IDs (whole numbers such as 11410), got {value!r}.")
        out.append(number)
    return sorted(set(out))


# A full Windows path with a drive letter. Characters Windows refuses in file names (" < > | ? * and control
# characters, newlines included) cannot name a file, and a double quote could not be carried through a command
# line safely anyway: refused. Everything else (spaces, ' $ ` % ; & ( ) and non-ASCII letters) is a legal file
# name character and is carried literally (docs/configmgr-behaviour.md#service-connection-tool).
_SEGMENT = r'[^"<>|?*\x00-\x1f\\/:]+'
_WINDOWS_PATH = re.compile(rf"^[A-Za-z]:\\(?:{_SEGMENT}(?:\\{_SEGMENT})*)?$")
MAX_PATH = 259


def windows_path(value: str | None, option: str) -> str | None:
    """A full path on the Windows host (D:\\USB\\UsageData.cab); `/` is taken as `\\`."""
    if value is None:
        return None
    text = str(value).replace("/", "\\")
    if len(text) > 3:
        text = text.rstrip("\\")
    segments = text[3:].split("\\") if len(text) > 3 else []
    if (not _WINDOWS_PATH.fullmatch(text) or any(s in (".", "..") or s != s.rstrip(" .") for s in segments)
            or len(text) > MAX_PATH):
        raise AnsibleActionFail(
            f"{option} must be a full Windows path with a drive letter (for example D:\\USB\\UsageData.cab), without "
            f"the characters \" < > | ? * or control characters, without . or .. segments and segments ending in a "
            f"space or a dot, at most {MAX_PATH} characters; got {value!r}.")
    return text


_PROXY_URI = re.compile(r"^(?:(https?)://)?([^/:\s]+|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?/?$")


def proxy_uri(value: str | None, option: str = "proxy_server_uri") -> str | None:
    """A proxy as the Service Connection Tool takes it: host, host:port, or http(s)://host[:port]."""
    if value is None:
        return None
    match = _PROXY_URI.fullmatch(str(value))
    problem = match is None
    if match:
        host = match.group(2).strip("[]")
        try:
            proxy_server(host, option)
        except AnsibleActionFail:
            problem = True
        if match.group(3) and not 1 <= int(match.group(3)) <= 65535:
            problem = True
    if problem:
        raise AnsibleActionFail(
            f"{option} must be a proxy server name or address, optionally with a port and an http:// or https:// "
            f"prefix (for example proxy.contoso.com:8080), got {value!r}.")
    return str(value).rstrip("/")


# A user name as a proxy takes it: user, DOMAIN\user or user@domain. Not starting with '-' (the tool would read
# a switch), no white space, no characters Active Directory refuses in account names.
_PROXY_USER = re.compile(r'^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,254}\\)?[^\s\-"/\\\[\]:;|=,+*?<>\x00-\x1f]'
                         r'[^\s"/\\\[\]:;|=,+*?<>\x00-\x1f]{0,255}$')


def proxy_username(value: str | None, option: str = "proxy_username") -> str | None:
    if value is None:
        return None
    if not _PROXY_USER.fullmatch(str(value)):
        raise AnsibleActionFail(
            f"{option} must be a user name (user, DOMAIN\\user or user@domain.com) without spaces and without the "
            f"characters \" / [ ] : ; | = , + * ? < >, not starting with '-'; got {value!r}.")
    return str(value)
