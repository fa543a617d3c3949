# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Checks of user input that run before any connection.

Every rule of the collection lives here; every message starts with the option's name and says how to
fix it. A module calls these from its `desired()` hook, so a refused value never reaches a host.

The building blocks for a new option (docs/development.md, "Input rules"):

- `identifier(value, option, what=..., example=...)`: a name Windows or ConfigMgr stores (an account, a
  group, a rule, a site system): one line, no control or invisible formatting characters, no leading or
  trailing spaces, nothing of `forbidden`, at most `max_length` characters.
- `text(value, option, what=...)`: free text a user reads (a description): lines allowed, NUL and other
  control characters not, nothing of `forbidden`.
- `windows_path(value, option, what=..., extensions=..., folder_names=...)`: an absolute Windows path,
  sent as written (never expanded by the controller).
- `secret(value, option)`: a password; only NUL is refused (Windows cannot store it).
- `account`, `principal`, `local_group`, `firewall_rule_name`, `firewall_display_name`,
  `firewall_description`, `fqdn`, `site_code`, `proxy_server`, `component`, `ports`, `module_path`:
  the options of today's modules, built on those.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata

from ansible.errors import AnsibleActionFail

_SITE_CODE = re.compile(r"[A-Za-z0-9]{3}")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_FQDN = re.compile(rf"(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})+")
# DOMAIN\user, the form ConfigMgr accounts use (docs/configmgr-behaviour.md#configmgr-accounts:
# "domain\user format"); the domain part may be a NetBIOS name or a DNS name
# (docs/configmgr-behaviour.md#remote-site-system-requirements: FQDN form for other forests). The user
# part holds none of the characters Windows refuses in account names (docs/configmgr-behaviour.md#windows-names-and-paths),
# nor '@' (a UPN is not DOMAIN\user).
_ACCOUNT_FORBIDDEN = '"/\\[]:;|=,+*?<>@'
_ACCOUNT = re.compile(r"([A-Za-z0-9][A-Za-z0-9.-]{0,254})\\(.{1,104})", re.DOTALL)
# A security identifier in its string form (S-1-5-32-544).
_SID = re.compile(r"S-1-[0-9]{1,14}(?:-[0-9]{1,10}){1,15}", re.IGNORECASE)
# Local group names: at most 256 characters, none of the characters Windows refuses in account names
# (docs/configmgr-behaviour.md#windows-names-and-paths).
_GROUP_FORBIDDEN = '"/\\[]:;|=,+*?<>@'
_COMPONENT = re.compile(r"SMS_[A-Z0-9_]{1,60}")
_PORT = re.compile(r"[0-9]{1,5}(?:-[0-9]{1,5})?")
# A Windows interface index: the zone id of a link-local IPv6 address on Windows (fe80::1%12).
_ZONE_ID = re.compile(r"[0-9]{1,10}")

# Unicode categories no identifier may hold: control (Cc: C0, DEL, C1), invisible formatting (Cf: bidirectional
# overrides, zero-width characters, the byte order mark), line and paragraph separators (Zl, Zp), and lone
# surrogates (Cs). A name with one of them is not the name a reviewer reads in a plan, a log or a console.
_INVISIBLE = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})


def _describe(char: str) -> str:
    name = unicodedata.name(char, "")
    if not name:
        name = {"\x00": "NUL", "\t": "tab", "\n": "line feed", "\r": "carriage return", "\x1b": "escape", "\x7f": "delete"}.get(
            char, "a control character"
        )
    return f"U+{ord(char):04X} ({name if name.isupper() and len(name) <= 3 else name.lower()})"


def _first_invisible(value: str, allowed: str = "") -> tuple[int, str] | None:
    for index, char in enumerate(value):
        if char not in allowed and unicodedata.category(char) in _INVISIBLE:
            return index, char
    return None


def _string(value, option: str) -> str:
    if not isinstance(value, str):
        raise AnsibleActionFail(f"{option} must be a string, got {type(value).__name__}.")
    return value


def identifier(value, option: str, *, what: str, example: str, forbidden: str = "", max_length: int = 256) -> str:
    """A name Windows or ConfigMgr stores and shows: refused when it holds a control or invisible formatting
    character, starts or ends with a space, holds one of `forbidden`, is empty or longer than `max_length`."""
    value = _string(value, option)
    if not value:
        raise AnsibleActionFail(f"{option} must be {what} (for example {example}), got an empty string.")
    found = _first_invisible(value)
    if found:
        index, char = found
        raise AnsibleActionFail(
            f"{option} must be {what} on one line, without control or invisible formatting characters: it holds "
            f"{_describe(char)} at position {index}. Write the name as Windows shows it (for example {example})."
        )
    if value != value.strip():
        raise AnsibleActionFail(
            f"{option} must not start or end with a space (got {value!r}): Windows would not store the name you wrote. Remove the spaces."
        )
    bad = sorted({c for c in value if c in forbidden})
    if bad:
        raise AnsibleActionFail(
            f"{option} must be {what} without any of {' '.join(forbidden)} (Windows refuses them), got {value!r}; for example {example}."
        )
    if len(value) > max_length:
        raise AnsibleActionFail(f"{option} must be {what} of at most {max_length} characters, got {len(value)}.")
    return value


def text(value, option: str, *, what: str, forbidden: str = "", max_length: int = 8192) -> str:
    """Free text a user reads: several lines and tabs allowed; NUL and other control or invisible formatting
    characters are not, nor any of `forbidden`."""
    value = _string(value, option)
    found = _first_invisible(value, allowed="\t\r\n")
    if found:
        index, char = found
        raise AnsibleActionFail(
            f"{option} must be {what} without control or invisible formatting characters other "
            f"than tabs and line breaks: it holds {_describe(char)} at position {index}."
        )
    bad = sorted({c for c in value if c in forbidden})
    if bad:
        raise AnsibleActionFail(f"{option} must be {what} without {' '.join(bad)} (Windows refuses it there).")
    if len(value) > max_length:
        raise AnsibleActionFail(f"{option} must be {what} of at most {max_length} characters, got {len(value)}.")
    return value


def secret(value: str | None, option: str) -> str | None:
    """A password: any text Windows can store, so anything but NUL (Windows strings end at NUL)."""
    if value is None:
        return None
    value = _string(value, option)
    if "\x00" in value:
        raise AnsibleActionFail(f"{option} must not contain a NUL character (U+0000): Windows cannot store such a password.")
    return value


# Characters Windows refuses in a file or folder name, and names it reserves
# (docs/configmgr-behaviour.md#windows-names-and-paths).
_PATH_FORBIDDEN = '<>:"|?*'
_RESERVED_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))})
_DRIVE = re.compile(r"[A-Za-z]:[\\/]")
# Windows' longest path (extended-length paths included).
MAX_PATH_LENGTH = 32767


def windows_path(
    value,
    option: str,
    *,
    what: str = "an absolute Windows path",
    extensions: tuple[str, ...] = (),
    folder_names: tuple[str, ...] = (),
    wildcards: bool = False,
) -> str:
    """An absolute Windows path, sent to Windows exactly as written: the controller never expands `~`,
    `$VAR` or `%VAR%` in it, and neither does the host.

    Refused: a relative path, control or invisible formatting characters, the characters Windows refuses in
    names, `.` and `..` components, names that end with a space or a period, reserved device names (CON,
    NUL, COM1, ...). `extensions`: the file must end with one of them, unless `folder_names` allows a folder
    of one of those names. `wildcards=True` when the cmdlet parameter it reaches takes wildcards (a -Name, not
    a -LiteralPath): then '[' and ']' are refused too.
    """
    value = _string(value, option)
    example = "C:\\Program Files\\Example\\file" + (extensions[0] if extensions else "")
    found = _first_invisible(value)
    if found:
        index, char = found
        raise AnsibleActionFail(f"{option} must be {what} on one line: it holds {_describe(char)} at position {index}.")
    unc = value.startswith("\\\\") and not value.startswith("\\\\?\\") and not value.startswith("\\\\.\\")
    if not (_DRIVE.match(value) or unc):
        raise AnsibleActionFail(
            f"{option} must be {what}: a drive letter path such as {example} or a UNC path such as "
            f"\\\\server\\share\\..., got {value!r}. It is sent to Windows as written: '~', $VAR and %VAR% are not "
            f"expanded, and a relative path would depend on the session's current folder."
        )
    if len(value) > MAX_PATH_LENGTH:
        raise AnsibleActionFail(f"{option} must be {what} of at most {MAX_PATH_LENGTH} characters, got {len(value)}.")
    rest = value[2:] if unc else value[3:]
    parts = re.split(r"[\\/]", rest)
    if unc and (len(parts) < 2 or not parts[0] or not parts[1]):
        raise AnsibleActionFail(f"{option} must be {what} that names a server and a share (\\\\server\\share\\...), got {value!r}.")
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        if part == "" and last:
            continue  # a trailing separator: a folder
        if part in ("", ".", ".."):
            raise AnsibleActionFail(
                f"{option} must be {what} without empty, '.' or '..' parts (got {value!r}): "
                f"write the folder it means, from the drive or share."
            )
        bad = sorted({c for c in part if c in _PATH_FORBIDDEN})
        if bad:
            raise AnsibleActionFail(
                f"{option} must be {what} without {' '.join(bad)} in a name (Windows refuses "
                f"{'them' if len(bad) > 1 else 'it'} in file and folder names), got {value!r}."
            )
        if wildcards and ("[" in part or "]" in part):
            raise AnsibleActionFail(
                f"{option} must be {what} without [ or ]: the cmdlet it reaches reads them as wildcards, got {value!r}."
            )
        if part.endswith((" ", ".")):
            raise AnsibleActionFail(
                f"{option} must be {what} whose names do not end with a space or a period (Windows removes them), got {value!r}."
            )
        if part.split(".", 1)[0].rstrip(" ").lower() in _RESERVED_NAMES:
            raise AnsibleActionFail(f"{option} must be {what} without a reserved device name ({part}), got {value!r}.")
    if extensions or folder_names:
        inside = [p for p in (parts[2:] if unc else parts) if p]  # what follows the drive, or the share
        name = inside[-1] if inside else ""
        is_file = bool(name) and not value.endswith(("\\", "/")) and name.lower().endswith(tuple(e.lower() for e in extensions))
        is_folder = name.lower() in {f.lower() for f in folder_names}
        if not (is_file or is_folder):
            wanted = " or ".join([f"a file ending in {e}" for e in extensions] + [f"a folder named {f}" for f in folder_names])
            raise AnsibleActionFail(f"{option} must be {what}: {wanted}, got {value!r}.")
    return value


# -- the options of today's modules ----------------------------------------------------------------------------


def site_code(value: str | None, option: str = "site_code") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _SITE_CODE.fullmatch(value):
        raise AnsibleActionFail(
            f"{option} must be a ConfigMgr site code of exactly 3 letters or digits (for example CAS or PS1), got {value!r}."
        )
    return value.upper()


def fqdn(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not _FQDN.fullmatch(value):
        raise AnsibleActionFail(
            f"{option} must be the fully qualified domain name of the server (for example scp01.contoso.com), "
            f"got {value!r}; ConfigMgr identifies site systems by FQDN."
        )
    return value.lower()


def account(value: str | None, option: str) -> str | None:
    """DOMAIN\\user (docs/configmgr-behaviour.md#configmgr-accounts)."""
    if value is None:
        return None
    value = identifier(value, option, what="an account in DOMAIN\\user form", example="CONTOSO\\cm-install", max_length=360)
    match = _ACCOUNT.fullmatch(value)
    user = match.group(2) if match else ""
    if not match or any(c in _ACCOUNT_FORBIDDEN for c in user) or user.endswith(".") or not user.strip(". "):
        raise AnsibleActionFail(
            f"{option} must be an account in DOMAIN\\user form (for example CONTOSO\\cm-install), got {value!r}. "
            f"The user name cannot hold any of {' '.join(_ACCOUNT_FORBIDDEN)}, end with a period, or be only "
            f"periods and spaces."
        )
    return value


def principal(value, option: str) -> str:
    """A member of a local group: DOMAIN\\name, or a SID string (S-1-5-21-...-1103)."""
    value = identifier(value, option, what="a principal in DOMAIN\\name form or a SID", example="CONTOSO\\CAS01$", max_length=360)
    if _SID.fullmatch(value):
        return value.upper()
    match = _ACCOUNT.fullmatch(value)
    name = match.group(2) if match else ""
    if not match or any(c in _ACCOUNT_FORBIDDEN for c in name) or name.endswith(".") or not name.strip(". "):
        raise AnsibleActionFail(
            f"{option} must list principals in DOMAIN\\name form (for example CONTOSO\\CAS01$) or as SIDs (S-1-5-21-...), got {value!r}."
        )
    return value


def is_sid(value: str) -> bool:
    return bool(_SID.fullmatch(value or ""))


def local_group(value, option: str = "group") -> str:
    """A local group by name (at most 256 characters, docs/configmgr-behaviour.md#windows-names-and-paths) or SID."""
    value = identifier(value, option, what="the name of a local group or its SID", example="Administrators")
    if _SID.fullmatch(value):
        return value
    if any(c in _GROUP_FORBIDDEN for c in value) or value.endswith(".") or not value.strip(". "):
        raise AnsibleActionFail(
            f"{option} must be the name of a local group (for example Administrators), got {value!r}; a group name "
            f"cannot hold any of {' '.join(_GROUP_FORBIDDEN)} or end with a period."
        )
    return value


def component(value: str | None, option: str = "component") -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.isascii() or not _COMPONENT.fullmatch(value.upper()):
        raise AnsibleActionFail(f"{option} must be an SMS_Executive component name such as SMS_DMP_DOWNLOADER, got {value!r}.")
    return value.upper()


def wait_options(timeout: int, interval: int) -> tuple[int, int]:
    """wait_timeout / poll_interval; the interval never exceeds the timeout."""
    if timeout < 1 or interval < 1:
        raise AnsibleActionFail("wait_timeout and poll_interval must be at least 1 second.")
    return timeout, min(interval, timeout)


def proxy_server(value: str | None, option: str = "proxy_server") -> str | None:
    """docs/configmgr-behaviour.md#site-system-servers: an FQDN, a host name, an IPv4 or an IPv6 address. A
    link-local IPv6 address may carry a zone id, which on Windows is an interface index (fe80::1%12)."""
    if value is None:
        return None
    value = identifier(value, option, what="an FQDN, a host name or an IP address", example="proxy.contoso.com", max_length=253)
    address, percent, zone = value.partition("%")
    if percent:
        if not _ZONE_ID.fullmatch(zone):
            raise AnsibleActionFail(
                f"{option} must be an IP address whose zone id is an interface index (for example fe80::1%12), got {value!r}."
            )
        try:
            return str(ipaddress.IPv6Address(address)) + "%" + str(int(zone))
        except ValueError:
            raise AnsibleActionFail(f"{option} must be an IPv6 address before its zone id (fe80::1%12), got {value!r}.") from None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        pass
    labels = value.split(".")
    if all(
        label
        and len(label) <= 63
        and label.replace("-", "").isalnum()
        and label.isascii()
        and not label.startswith("-")
        and not label.endswith("-")
        for label in labels
    ):
        return value.lower()
    raise AnsibleActionFail(f"{option} must be an FQDN, a host name or an IP address, got {value!r}.")


def ports(option: str, values: list[str] | None) -> list[str] | None:
    for port in values or []:
        text_value = str(port)
        if _first_invisible(text_value):
            raise AnsibleActionFail(
                f"{option} must list port numbers 1-65535 or ranges such as 5000-5010, without control characters, got {port!r}."
            )
        stripped = text_value.strip()
        if not _PORT.fullmatch(stripped) or any(not 1 <= int(p) <= 65535 for p in stripped.split("-")):
            raise AnsibleActionFail(f"{option} must list port numbers 1-65535 or ranges such as 5000-5010, got {port!r}.")
    return values


def firewall_rule_name(value, option: str = "name") -> str:
    """The rule's unique name, taken literally (never as a pattern, see _firewall)."""
    return identifier(value, option, what="the rule's unique name", example="ConfigMgr-SCP-HTTPS-Out", max_length=1024)


def firewall_display_name(value: str | None, option: str = "display_name") -> str | None:
    """docs/configmgr-behaviour.md#windows-names-and-paths: no '|', and not 'All'."""
    if value is None:
        return None
    value = identifier(value, option, what="the rule's display name", example="ConfigMgr SCP (HTTPS out)", forbidden="|", max_length=1024)
    if value.lower() == "all":
        raise AnsibleActionFail(f"{option} cannot be 'All': Windows reserves it (it means every rule). Choose another name.")
    return value


def firewall_description(value: str | None, option: str = "description") -> str | None:
    """docs/configmgr-behaviour.md#windows-names-and-paths: no '|'."""
    if value is None:
        return None
    return text(value, option, what="the rule's description", forbidden="|")


def module_path(value: str | None, option: str = "module_path") -> str | None:
    """ConfigurationManager.psd1 on the task's host, or the module's folder (docs/configmgr-behaviour.md
    #powershell-module-and-remoting). Import-Module -Name takes no wildcards and no -LiteralPath, so brackets are
    refused too."""
    if value is None:
        return None
    return windows_path(
        value,
        option,
        what="the absolute Windows path of the ConfigurationManager module",
        extensions=(".psd1",),
        folder_names=("ConfigurationManager",),
        wildcards=True,
    )


def inventory_host(value: str | None, option: str, hostvars) -> str | None:
    """An inventory host name (for a second connection): it must be a host of the inventory."""
    if value is None or value == "":
        return None
    value = identifier(value, option, what="the inventory name of a host", example="scp01.contoso.com", max_length=1024)
    if value not in hostvars:
        raise AnsibleActionFail(
            f"{option} {value} is not a host of the inventory: give the inventory name of the server, or leave {option} out."
        )
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
    try:
        if duration:
            return now - datetime.timedelta(seconds=int(duration.group(1)) * _DURATION_SECONDS[duration.group(2).lower()])
        iso = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
        try:
            moment = datetime.datetime.fromisoformat(iso)
        except ValueError:
            raise AnsibleActionFail(
                f"{option} must be a date and time in ISO 8601 form (2026-03-15T08:00:00Z; without an offset it is UTC) "
                f"or a duration back from now such as 30m, 24h or 7d, got {value!r}."
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=utc)
        return moment.astimezone(utc)
    except OverflowError:
        # 999999d back from now, or 0001-01-01T00:00:00+14:00 in UTC: before year 1 or after 9999.
        raise AnsibleActionFail(
            f"{option} must be a point in time between the years 1 and 9999 (UTC), got {value!r}: "
            f"give a later date or a shorter duration, such as 30d."
        ) from None


def log_name(value: str, option: str = "name") -> str:
    """One log file name of the site's Logs folder: never a path, a pattern or a short name."""
    # ASCII only: the pattern matches case-insensitively, and so would take U+212A (KELVIN SIGN) for 'k' or U+0130
    # for 'i' - a name that lower-cases to another log's name.
    if not isinstance(value, str) or not value.isascii() or not _LOG_NAME.fullmatch(value) or ".." in value:
        raise AnsibleActionFail(
            f"{option} must be the file name of a ConfigMgr log in the site's Logs folder, such as Dmpdownloader.log "
            f"(letters, digits, '_', '-', '.', '(', ')'; ending in .log; no folder, no wildcard), got {value!r}."
        )
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
        raise AnsibleActionFail(f"{option} needs the Python library jmespath on the Ansible controller (pip install jmespath).") from None
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
        if isinstance(value, bool) or not 0 < number < 2**32:
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


def drive_path(value: str | None, option: str) -> str | None:
    """A full path with a drive letter on the Windows host (D:\\USB\\UsageData.cab), for the offline modules
    (file transfers, the Service Connection Tool's folders): `/` is taken as `\\`, a trailing `\\` dropped."""
    if value is None:
        return None
    text = str(value).replace("/", "\\")
    found = _first_invisible(text)
    if found:
        index, char = found
        raise AnsibleActionFail(
            f"{option} must be a full Windows path on one line, without control or invisible "
            f"formatting characters: it holds {_describe(char)} at position {index}. Write the path "
            f"as Windows shows it (for example D:\\USB\\UsageData.cab)."
        )
    if len(text) > 3:
        text = text.rstrip("\\")
    segments = text[3:].split("\\") if len(text) > 3 else []
    if not _WINDOWS_PATH.fullmatch(text) or any(s in (".", "..") or s != s.rstrip(" .") for s in segments) or len(text) > MAX_PATH:
        raise AnsibleActionFail(
            f"{option} must be a full Windows path with a drive letter (for example D:\\USB\\UsageData.cab), without "
            f'the characters " < > | ? * or control characters, without . or .. segments and segments ending in a '
            f"space or a dot, at most {MAX_PATH} characters; got {value!r}."
        )
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
            f"prefix (for example proxy.contoso.com:8080), got {value!r}."
        )
    return str(value).rstrip("/")


# A user name as a proxy takes it: user, DOMAIN\user or user@domain. Not starting with '-' (the tool would read
# a switch), no white space, no characters Active Directory refuses in account names.
_PROXY_USER = re.compile(
    r'^(?:[A-Za-z0-9][A-Za-z0-9.-]{0,254}\\)?[^\s\-"/\\\[\]:;|=,+*?<>\x00-\x1f]'
    r'[^\s"/\\\[\]:;|=,+*?<>\x00-\x1f]{0,255}$'
)


def proxy_username(value: str | None, option: str = "proxy_username") -> str | None:
    if value is None:
        return None
    found = _first_invisible(str(value))
    if found:
        index, char = found
        raise AnsibleActionFail(
            f"{option} must be a user name without control or invisible formatting characters: it "
            f"holds {_describe(char)} at position {index}."
        )
    if not _PROXY_USER.fullmatch(str(value)):
        raise AnsibleActionFail(
            f"{option} must be a user name (user, DOMAIN\\user or user@domain.com) without spaces and without the "
            f"characters \" / [ ] : ; | = , + * ? < >, not starting with '-'; got {value!r}."
        )
    return str(value)
