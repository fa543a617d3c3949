"""The item cmdlets on the Registry and FileSystem providers: Get-Item, Get-ChildItem, Test-Path,
Get-Content, Get-ItemProperty, Set-ItemProperty, New-ItemProperty, New-Item, Get-FileHash.

Paths: `HKLM:\\...`, `Registry::HKEY_LOCAL_MACHINE\\...`, `C:\\...`, and the PSPath forms
(`Microsoft.PowerShell.Core\\Registry::...`, `Microsoft.PowerShell.Core\\FileSystem::...`) an earlier step's
output carries. `-Path` takes wildcards (`*`, `?`, `[...]`) in any segment, `-LiteralPath` none. Registry
values keep their kind (docs/configmgr-behaviour.md#sms-executive-threads: `Requested Operation` is a
String); how values are read back follows the .NET RegistryKey (DWord as Int32, ExpandString expanded).
"""

from __future__ import annotations

import datetime
import hashlib
import re
from dataclasses import dataclass
from typing import Any

from cmlab.model import RegistryKey, parse_registry_path, wildcard_match
from cmlab.model.files import DirNode, FileNode, is_file_system_path, split_path
from cmlab.model.windows import HIVE_DRIVES, VALUE_KINDS

from .base import Invocation, cmdlet
from .certificates import cert_items, cert_path
from .errors import CmdletError, non_interactive_prompt, not_simulated
from .pstypes import PSEnum, PSObject, custom_object, ps_datetime

REGISTRY_PROVIDER = "Microsoft.PowerShell.Core\\Registry"
FILESYSTEM_PROVIDER = "Microsoft.PowerShell.Core\\FileSystem"
_WILDCARD = re.compile(r"[*?\[]")
_FS_PREFIX = re.compile(r"^(Microsoft\.PowerShell\.Core\\)?FileSystem::", re.IGNORECASE)


# Paths ------------------------------------------------------------------------------------------


@dataclass
class Item:
    """A resolved item: a registry key, or a file-system file or directory."""

    path: str  # native: HKEY_LOCAL_MACHINE\SOFTWARE\X, C:\X\y.log
    key: RegistryKey | None = None
    hive: str = ""
    parts: tuple[str, ...] = ()
    node: FileNode | DirNode | None = None

    @property
    def is_registry(self) -> bool:
        return self.key is not None

    @property
    def is_container(self) -> bool:
        return self.is_registry or bool(self.node is not None and self.node.is_dir)


def _path_not_found(inv: Invocation, path: str) -> CmdletError:
    return CmdletError.of(
        inv.cmdlet,
        "PathNotFound",
        f"Cannot find path '{path}' because it does not exist.",
        "ObjectNotFound",
        "System.Management.Automation.ItemNotFoundException",
    )


def _drive_not_found(inv: Invocation, path: str) -> CmdletError:
    drive = path.split(":", 1)[0]
    return CmdletError.of(
        inv.cmdlet,
        "DriveNotFound",
        f"Cannot find drive. A drive with the name '{drive}' does not exist.",
        "ObjectNotFound",
        "System.Management.Automation.DriveNotFoundException",
    )


def _registry_items(hive: str, parts: list[str], root: RegistryKey, literal: bool) -> list[Item]:
    found = [((), root)]
    for part in parts:
        step = []
        for names, key in found:
            if not literal and _WILDCARD.search(part):
                step += [((*names, sub.name), sub) for sub in key.subkeys() if wildcard_match(part, sub.name)]
            else:
                sub = key.subkey(part)
                if sub is not None:
                    step.append(((*names, sub.name), sub))
        found = step
    return [Item("\\".join([hive, *names]), key=key, hive=hive, parts=names) for names, key in found]


def _fs_items(inv: Invocation, path: str, literal: bool) -> list[Item]:
    fs = inv.host.fs
    drive, parts = split_path(path)
    root = fs.node(drive + "\\")
    if root is None:
        raise _drive_not_found(inv, path)
    found: list[tuple[str, FileNode | DirNode]] = [(drive, root)]
    for part in parts:
        step: list[tuple[str, FileNode | DirNode]] = []
        for base, node in found:
            if not node.is_dir:
                continue
            if not literal and _WILDCARD.search(part):
                step += [(f"{base}\\{c.name}", c) for c in node.sorted_children() if wildcard_match(part, c.name)]
            else:
                child = node.child(part)
                if child is not None:
                    step.append((f"{base}\\{child.name}", child))
        found = step
    return [Item(full if parts else full + "\\", node=node) for full, node in found]


def resolve(inv: Invocation, path: str, literal: bool) -> tuple[list[Item], bool]:
    """The items a path names, and whether it had wildcards (no match is then not an error)."""
    wild = not literal and bool(_WILDCARD.search(path))
    registry = parse_registry_path(path)
    if registry is not None:
        hive, parts = registry
        root = inv.host.registry.key(f"Registry::{hive}")
        assert root is not None
        return _registry_items(hive, parts, root, literal), wild
    text = _FS_PREFIX.sub("", path.strip())
    if is_file_system_path(text):
        return _fs_items(inv, text, literal), wild
    raise not_simulated(inv.cmdlet, f"for the path {path!r} (only registry and drive-letter paths)")


def _paths(inv: Invocation) -> tuple[list[str], bool]:
    if inv.has("LiteralPath"):
        return [str(p) for p in inv.get("LiteralPath") or []], True
    value = inv.get("Path")
    return ([str(p) for p in value] if isinstance(value, list) else [str(value)] if value else []), False


def resolve_all(inv: Invocation, must_exist: bool = True) -> list[Item]:
    items: list[Item] = []
    paths, literal = _paths(inv)
    for path in paths:
        found, wild = resolve(inv, path, literal)
        if not found and not wild and must_exist:
            raise _path_not_found(inv, path)
        items += found
    return items


# Output objects ---------------------------------------------------------------------------------


def _drive(name: str) -> PSObject:
    return PSObject(["System.Management.Automation.PSDriveInfo", "System.Object"], {"Name": name}, name)


def _provider(name: str) -> PSObject:
    return PSObject(["System.Management.Automation.ProviderInfo", "System.Object"], {"Name": name}, f"Microsoft.PowerShell.Core\\{name}")


def _parent(path: str) -> str:
    head, _, _ = path.rstrip("\\").rpartition("\\")
    return head + "\\" if re.fullmatch(r"[A-Za-z]:", head) else head


def _ps_properties(item: Item) -> dict:
    if item.is_registry:
        prefix, drive, provider = REGISTRY_PROVIDER, HIVE_DRIVES.get(item.hive, item.hive), "Registry"
    else:
        prefix, drive, provider = FILESYSTEM_PROVIDER, item.path[0].upper(), "FileSystem"
    parent = _parent(item.path) if (item.parts or not item.is_registry) else ""
    return {
        "PSPath": f"{prefix}::{item.path}",
        "PSParentPath": f"{prefix}::{parent}" if parent else "",
        "PSChildName": item.path.rstrip("\\").rpartition("\\")[2] or item.path,
        "PSDrive": _drive(drive),
        "PSProvider": _provider(provider),
        "PSIsContainer": item.is_container,
    }


def _local_time(inv: Invocation, epoch: float) -> datetime.datetime:
    """A file time as .NET gives it: a Local DateTime of the host (round-trip format with its offset)."""
    return ps_datetime(epoch, inv.host.time_zone_bias)


def item_object(inv: Invocation, item: Item) -> PSObject:
    if item.is_registry:
        key = item.key
        assert key is not None
        props = {
            "Name": item.path,
            "Property": [n for n, _ in key.values()],
            "SubKeyCount": len(key.subkeys()),
            "ValueCount": len(key.values()),
            "View": PSEnum("Microsoft.Win32.RegistryView", "Default", 0),
            **_ps_properties(item),
        }
        return PSObject(["Microsoft.Win32.RegistryKey", "System.MarshalByRefObject", "System.Object"], props, item.path)
    node = item.node
    assert node is not None
    is_root = len(item.path) <= 3  # C:\
    times = {
        "CreationTime": _local_time(inv, node.created),
        "LastWriteTime": _local_time(inv, node.modified),
        "LastAccessTime": _local_time(inv, node.modified),
    }
    if node.is_dir:
        props = {
            "Name": item.path if is_root else node.name,
            "FullName": item.path,
            "Exists": True,
            "Attributes": PSEnum("System.IO.FileAttributes", "Directory", 16),
            "Mode": "d-----",
            "Extension": "",
            **times,
            **_ps_properties(item),
        }
        return PSObject(
            ["System.IO.DirectoryInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject", "System.Object"], props, item.path
        )
    base, dot, ext = node.name.rpartition(".")
    props = {
        "Name": node.name,
        "FullName": item.path,
        "Length": node.size,
        "Exists": True,
        "IsReadOnly": False,
        "Extension": dot + ext if dot else "",
        "BaseName": base if dot else node.name,
        "DirectoryName": _parent(item.path),
        "Attributes": PSEnum("System.IO.FileAttributes", "Archive", 32),
        "Mode": "-a----",
        **times,
        "VersionInfo": _version_info(item.path, node),
        **_ps_properties(item),
    }
    return PSObject(["System.IO.FileInfo", "System.IO.FileSystemInfo", "System.MarshalByRefObject", "System.Object"], props, item.path)


def _version_info(path: str, node: FileNode) -> PSObject:
    """FileInfo.VersionInfo (System.Diagnostics.FileVersionInfo): the version resource of a simulated
    executable (its `Key: value` header lines, see cmlab.model.sct), empty for other files."""
    fields = {}
    if path.lower().endswith((".exe", ".dll")):
        for line in node.content.splitlines()[:8]:
            key, sep, value = line.partition(": ")
            if sep and key in ("FileVersion", "ProductVersion", "ProductName", "FileDescription"):
                fields[key] = value.strip()
    props = {
        "FileName": path,
        "FileVersion": fields.get("FileVersion"),
        "ProductVersion": fields.get("ProductVersion"),
        "ProductName": fields.get("ProductName"),
        "FileDescription": fields.get("FileDescription"),
    }
    return PSObject(["System.Diagnostics.FileVersionInfo", "System.Object"], props, f"File:             {path}")


# Registry values ----------------------------------------------------------------------------------

_ENVIRONMENT = {
    "systemroot": "C:\\Windows",
    "windir": "C:\\Windows",
    "systemdrive": "C:",
    "programfiles": "C:\\Program Files",
    "programfiles(x86)": "C:\\Program Files (x86)",
    "programdata": "C:\\ProgramData",
    "temp": "C:\\Windows\\TEMP",
    "tmp": "C:\\Windows\\TEMP",
}


def _expand(inv: Invocation, text: str) -> str:
    """ExpandString values read back expanded (RegistryKey.GetValue); unknown %VARS% stay."""
    env = {**_ENVIRONMENT, "computername": inv.host.netbios_name}
    return re.sub(r"%([^%]+)%", lambda m: env.get(m.group(1).lower(), m.group(0)), text)


def value_data(inv: Invocation, kind: str, data: Any) -> Any:
    if kind == "DWord":
        value = int(data) & 0xFFFFFFFF
        return value - (1 << 32) if value >= 1 << 31 else value  # Int32
    if kind == "QWord":
        value = int(data) & 0xFFFFFFFFFFFFFFFF
        return value - (1 << 64) if value >= 1 << 63 else value  # Int64
    if kind == "ExpandString":
        return _expand(inv, str(data))
    if kind in ("MultiString", "Binary"):
        return list(data)
    return data


def _property_object(inv: Invocation, item: Item, values: list[tuple[str, Any]]) -> PSObject:
    props = {name: value_data(inv, value.kind, value.data) for name, value in values}
    props.update({k: v for k, v in _ps_properties(item).items() if k != "PSIsContainer"})
    return custom_object(props)


def _cast_error(inv: Invocation, value: Any, target: str) -> CmdletError:
    return CmdletError.of(
        inv.cmdlet,
        "System.Management.Automation.PSInvalidCastException",
        f'Cannot convert value "{value}" to type "{target}". Error: "Input string was not in a correct format."',
        "InvalidArgument",
        "System.Management.Automation.PSInvalidCastException",
    )


def _as_int(inv: Invocation, value: Any, low: int, high: int, target: str) -> int:
    if isinstance(value, bool):
        return int(value)
    try:
        number = int(value) if isinstance(value, int) else int(str(value).strip(), 0)
    except ValueError:
        raise _cast_error(inv, value, target) from None
    if not low <= number <= high:
        raise _cast_error(inv, value, target)
    return number


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, list):
        return " ".join(_text(v) for v in value)
    return value.to_string() if isinstance(value, PSObject) else str(value)


def convert_value(inv: Invocation, value: Any, kind: str) -> Any:
    """The registry provider's conversion of a value to a RegistryValueKind."""
    if kind in ("String", "ExpandString"):
        return "" if value is None else _text(value)
    if kind == "DWord":
        return _as_int(inv, 0 if value is None else value, -(1 << 31), (1 << 32) - 1, "System.Int32")
    if kind == "QWord":
        return _as_int(inv, 0 if value is None else value, -(1 << 63), (1 << 64) - 1, "System.Int64")
    if kind == "MultiString":
        items = value if isinstance(value, list) else [] if value is None else [value]
        return [_text(v) for v in items]
    if kind == "Binary":
        items = value if isinstance(value, list) else [] if value is None else [value]
        return bytes(_as_int(inv, v, 0, 255, "System.Byte") for v in items)
    raise not_simulated(inv.cmdlet, f"with the value kind {kind}")


def infer_kind(value: Any) -> str:
    """RegistryKey.SetValue(name, object): Int32 → DWord, string[] → MultiString, byte[] → Binary,
    anything else → String (its ToString())."""
    if isinstance(value, int) and not isinstance(value, bool) and -(1 << 31) <= value < (1 << 31):
        return "DWord"
    if isinstance(value, list):
        return "MultiString"
    return "String"


def _kind_name(inv: Invocation, raw: Any) -> str | None:
    if raw is None or str(raw) == "":
        return None
    text = str(raw)
    kind = next((k for k in VALUE_KINDS if k.lower() == text.lower()), None)
    if kind is None:
        if text.lower() in ("unknown", "none"):
            return None
        raise CmdletError.of(
            inv.cmdlet,
            "System.ArgumentException",
            f'Cannot convert value "{text}" to type "Microsoft.Win32.RegistryValueKind". Error: "Unable to match the '
            f"identifier name {text} to a valid enumerator name. Specify one of the following enumerator names and try "
            f'again: String, ExpandString, Binary, DWord, MultiString, QWord, Unknown, None"',
            "InvalidArgument",
            "System.ArgumentException",
        )
    return kind


def _registry_only(inv: Invocation, items: list[Item]) -> list[Item]:
    for item in items:
        if not item.is_registry:
            raise not_simulated(inv.cmdlet, f"on the file system ({item.path})")
    return items


# Cmdlets --------------------------------------------------------------------------------------------


def _cert_paths(inv: Invocation) -> list[list[str]] | None:
    """The Cert: paths a command names (every one must be a Cert: path), or None."""
    paths, _ = _paths(inv)
    parsed = [cert_path(p) for p in paths]
    if not parsed or any(p is None for p in parsed):
        if any(p is not None for p in parsed):
            raise not_simulated(inv.cmdlet, "with Cert: and other paths in one command")
        return None
    return parsed  # type: ignore[return-value]


def _cert_command(inv: Invocation, children: bool) -> list | None:
    """Get-Item / Get-ChildItem on the Cert: drive (cmlab.cmdlets.certificates), or None for other paths."""
    parsed = _cert_paths(inv)
    if parsed is None:
        return None
    unsupported = [n for n in ("Filter", "Recurse", "Name", "File", "Directory") if inv.get(n)]
    if unsupported:
        raise not_simulated(inv.cmdlet, f"on the Cert: drive with -{unsupported[0]}")
    out: list = []
    paths, _ = _paths(inv)
    for path, parts in zip(paths, parsed):
        found = cert_items(inv, parts, children)
        if found is None:
            raise _path_not_found(inv, path)
        out += found
    return out


@cmdlet("Get-Item", ("Path", "LiteralPath", "Force"))
def get_item(inv: Invocation) -> list:
    with inv.model.lock:
        certs = _cert_command(inv, children=False)
        if certs is not None:
            return certs
        return [item_object(inv, item) for item in resolve_all(inv)]


@cmdlet("Test-Path", ("Path", "LiteralPath", "PathType"))
def test_path(inv: Invocation) -> list:
    path_type = str(inv.get("PathType") or "Any")
    paths, literal = _paths(inv)
    out = []
    with inv.model.lock:
        for path in paths:
            parts = cert_path(path)
            if parts is not None:
                found = cert_items(inv, parts, children=False)
                out.append(bool(found) and (path_type != "Container" or len(parts) < 3) and (path_type != "Leaf" or len(parts) == 3))
                continue
            try:
                items, _ = resolve(inv, path, literal)
            except CmdletError as e:
                if "DriveNotFound" in e.fqid:
                    out.append(False)
                    continue
                raise
            if path_type == "Leaf":
                out.append(any(not i.is_container for i in items))
            elif path_type == "Container":
                out.append(any(i.is_container for i in items))
            else:
                out.append(bool(items))
    return out


@cmdlet("Get-ChildItem", ("Path", "LiteralPath", "Filter", "File", "Directory", "Recurse", "Name", "Force"))
def get_child_item(inv: Invocation) -> list:
    paths, literal = _paths(inv)
    paths = paths or ["C:\\"]  # no -Path: the current location (the engine runs in C:\)
    pattern = inv.get("Filter")
    recurse, names_only = inv.switch("Recurse"), inv.switch("Name")
    out: list = []
    with inv.model.lock:
        if inv.has("Path") or inv.has("LiteralPath"):
            certs = _cert_command(inv, children=True)
            if certs is not None:
                return certs
        for path in paths:
            found, wild = resolve(inv, path, literal)
            if not found and not wild:
                raise _path_not_found(inv, path)
            for item in found:
                if item.is_registry:
                    if inv.has("File") or inv.has("Directory"):
                        name = "File" if inv.has("File") else "Directory"
                        raise CmdletError.of(
                            inv.cmdlet,
                            "NamedParameterNotFound",
                            f"A parameter cannot be found that matches parameter name '{name}'.",
                            "InvalidArgument",
                            "System.Management.Automation.ParameterBindingException",
                        )
                    if pattern:
                        raise CmdletError.of(
                            inv.cmdlet,
                            "NotSupported",
                            "Cannot call method. The provider does not support the use of filters.",
                            "NotImplemented",
                            "System.Management.Automation.PSNotSupportedException",
                        )
                out += _children(inv, item, wild, recurse, names_only, pattern)
    return out


def _children(inv: Invocation, item: Item, matched_by_wildcard: bool, recurse: bool, names_only: bool, pattern: str | None) -> list:
    base = item.path.rstrip("\\")
    if item.is_registry:
        entries: list[Item] = []

        def walk(parent: Item) -> None:
            for sub in parent.key.subkeys():  # type: ignore[union-attr]
                child = Item(f"{parent.path}\\{sub.name}", key=sub, hive=parent.hive, parts=(*parent.parts, sub.name))
                entries.append(child)
                if recurse:
                    walk(child)

        if matched_by_wildcard:
            entries.append(item)
            if recurse:
                walk(item)
        else:
            walk(item)
    else:
        if not item.is_container or matched_by_wildcard:
            entries = [item]
            if item.is_container and recurse:
                entries += [Item(full, node=node) for full, node in inv.host.fs.walk(item.path)]
        else:
            listing = inv.host.fs.walk(item.path) if recurse else inv.host.fs.entries(item.path)
            entries = [Item(full, node=node) for full, node in listing]
        if pattern:
            entries = [e for e in entries if wildcard_match(pattern, e.path.rpartition("\\")[2])]
        if inv.switch("File"):
            entries = [e for e in entries if not e.is_container]
        if inv.switch("Directory"):
            entries = [e for e in entries if e.is_container]
    if names_only:
        return [e.path[len(base) + 1 :] if e.path.lower().startswith(base.lower() + "\\") else e.path.rpartition("\\")[2] for e in entries]
    return [item_object(inv, e) for e in entries]


@cmdlet("Get-Content", ("Path", "LiteralPath", "Tail", "TotalCount", "Raw", "Encoding", "Force"))
def get_content(inv: Invocation) -> list:
    out: list = []
    with inv.model.lock:
        for item in resolve_all(inv):
            if item.is_registry:
                raise CmdletError.of(
                    inv.cmdlet,
                    "NotSupported",
                    "Cannot use interface. The IContentCmdletProvider interface is not implemented by this provider.",
                    "NotImplemented",
                    "System.Management.Automation.PSNotSupportedException",
                )
            node = item.node
            if node is None or node.is_dir:
                raise CmdletError.of(
                    inv.cmdlet,
                    "GetContentReaderUnauthorizedAccessError",
                    f"Access to the path '{item.path}' is denied.",
                    "PermissionDenied",
                    "System.UnauthorizedAccessException",
                )
            out += _content(inv, node)
    return out


def _content(inv: Invocation, node: FileNode) -> list:
    tail, total = inv.get("Tail"), inv.get("TotalCount")
    if str(inv.get("Encoding") or "").lower() == "byte":
        data = list(node.content.encode(node.encoding))
        data = data[:total] if total is not None and total >= 0 else data
        return data[-tail:] if tail else [] if tail == 0 else data
    if inv.switch("Raw"):
        if tail is not None or total is not None:
            raise not_simulated(inv.cmdlet, "with -Raw and -Tail / -TotalCount together")
        return [node.content] if node.content else []
    lines = node.lines()
    if total is not None and total >= 0:
        lines = lines[:total]
    if tail is not None and tail >= 0:
        lines = lines[len(lines) - tail :] if tail else []
    return lines


@cmdlet("Get-ItemProperty", ("Path", "LiteralPath", "Name"))
def get_item_property(inv: Invocation) -> list:
    names = inv.get("Name")
    out = []
    with inv.model.lock:
        for item in _registry_only(inv, resolve_all(inv)):
            values = item.key.values()  # type: ignore[union-attr]
            if names:
                chosen: list = []
                for wanted in names:
                    hits = [(n, v) for n, v in values if wildcard_match(wanted, n)]
                    if not hits and not re.search(r"[*?]", wanted):
                        raise CmdletError.of(
                            inv.cmdlet,
                            "System.Management.Automation.PSArgumentException",
                            f"Property {wanted} does not exist at path {item.path}.",
                            "InvalidArgument",
                            "System.Management.Automation.PSArgumentException",
                        )
                    chosen += [h for h in hits if h not in chosen]
                values = chosen
                if not values:
                    continue
            out.append(_property_object(inv, item, values))
    return out


@cmdlet("Set-ItemProperty", ("Path", "LiteralPath", "Name", "Value", "Type", "PassThru", "Force"))
def set_item_property(inv: Invocation) -> list:
    """Without -Type an existing value keeps its kind (the new value is converted to it); a new
    value gets the kind of its .NET type."""
    name, value = str(inv.get("Name")), inv.get("Value")
    out = []
    with inv.model.lock:
        kind_given = _kind_name(inv, inv.get("Type"))
        items = _registry_only(inv, resolve_all(inv))
        for item in items:
            existing = item.key.value(name)  # type: ignore[union-attr]
            kind = kind_given or (existing.kind if existing else infer_kind(value))
            data = convert_value(inv, value, kind)
            if inv.what_if:
                continue
            inv.host.registry.set_value(f"Registry::{item.path}", name, data, kind)
            if inv.switch("PassThru"):
                out.append(_property_object(inv, item, [(name, item.key.value(name))]))  # type: ignore[union-attr]
    return out


@cmdlet("New-ItemProperty", ("Path", "LiteralPath", "Name", "Value", "PropertyType", "Force"))
def new_item_property(inv: Invocation) -> list:
    name, value = str(inv.get("Name")), inv.get("Value")
    out = []
    with inv.model.lock:
        kind_given = _kind_name(inv, inv.get("PropertyType"))
        for item in _registry_only(inv, resolve_all(inv)):
            if item.key.value(name) is not None and not inv.switch("Force"):  # type: ignore[union-attr]
                raise CmdletError.of(
                    inv.cmdlet, "System.IO.IOException", "The property already exists.", "ResourceExists", "System.IO.IOException"
                )
            kind = kind_given or infer_kind(value)
            data = convert_value(inv, value, kind)
            if inv.what_if:
                continue
            inv.host.registry.set_value(f"Registry::{item.path}", name, data, kind)
            out.append(_property_object(inv, item, [(name, item.key.value(name))]))  # type: ignore[union-attr]
    return out


@cmdlet("New-Item", ("Path", "Name", "ItemType", "Value", "Force", "WhatIf", "Confirm"))
def new_item(inv: Invocation) -> list:
    """New-Item for registry keys (a key a default server lacks, such as `SCHANNEL\\Protocols\\TLS 1.2\\Client`)
    and for folders and text files. `-Force` on an existing registry key replaces it with an empty key, as
    PowerShell's registry provider does; on a missing parent it creates the parents."""
    paths = [str(p) for p in (inv.get("Path") or ["C:\\"])]
    if inv.has("Name"):
        paths = [f"{p.rstrip(chr(92))}\\{inv.get('Name')}" for p in paths]
    force, kind = inv.switch("Force"), str(inv.get("ItemType") or "").lower()
    out: list = []
    with inv.model.lock:
        for path in paths:
            registry = parse_registry_path(path)
            if registry is not None:
                out.append(_new_key(inv, path, registry, force))
            elif is_file_system_path(path):
                out.append(_new_file_item(inv, path, kind, force))
            else:
                raise not_simulated(inv.cmdlet, f"for the path {path!r} (only registry and drive-letter paths)")
    return [o for o in out if o is not None]


def _new_key(inv: Invocation, path: str, registry: tuple[str, list[str]], force: bool) -> PSObject | None:
    hive, parts = registry
    if not parts:
        raise CmdletError.of(
            inv.cmdlet, "System.IO.IOException", "A key at this path already exists.", "ResourceExists", "System.IO.IOException"
        )
    if inv.get("Value") is not None:
        raise not_simulated(inv.cmdlet, "with -Value on a registry key")
    reg = inv.host.registry
    native = "\\".join([f"Registry::{hive}", *parts])
    existing = reg.key(native)
    if existing is not None and not force:
        raise CmdletError.of(
            inv.cmdlet, "System.IO.IOException", "A key at this path already exists.", "ResourceExists", "System.IO.IOException"
        )
    parent = "\\".join([f"Registry::{hive}", *parts[:-1]])
    if reg.key(parent) is None and not force:
        raise _path_not_found(inv, path.rsplit("\\", 1)[0])
    if inv.what_if:
        return None
    if existing is not None:
        reg.delete_key(native)  # -Force on an existing key: an empty key replaces it
    key = reg.ensure_key(native)
    item = Item("\\".join([hive, *[k for k in parts]]), key=key, hive=hive, parts=tuple(parts))
    return item_object(inv, item)


def _new_file_item(inv: Invocation, path: str, kind: str, force: bool) -> PSObject | None:
    fs = inv.host.fs
    if kind not in ("directory", "file", ""):
        raise not_simulated(inv.cmdlet, f"with -ItemType {inv.get('ItemType')}")
    drive, parts = split_path(path)
    parent = "\\".join([drive, *parts[:-1]]) if len(parts) > 1 else drive + "\\"
    existing = fs.kind(path)
    if fs.kind(parent) != "container" and not force:
        raise CmdletError.of(
            inv.cmdlet,
            "NewItemIOError",
            f"Could not find a part of the path '{path}'.",
            "WriteError",
            "System.IO.DirectoryNotFoundException",
        )
    if kind == "directory":
        if existing == "leaf" or (existing == "container" and not force):
            raise CmdletError.of(
                inv.cmdlet,
                "DirectoryExist",
                f"An item with the specified name {fs.full_path(path)} already exists.",
                "ResourceExists",
                "System.IO.IOException",
            )
        if inv.what_if:
            return None
        fs.make_dirs(path)
    else:
        if existing == "container" or (existing == "leaf" and not force):
            raise CmdletError.of(
                inv.cmdlet, "NewItemIOError", f"The file '{fs.full_path(path)}' already exists.", "WriteError", "System.IO.IOException"
            )
        if inv.what_if:
            return None
        value = inv.get("Value")
        fs.write_text(path, "" if value is None else str(value))
    found = _fs_items(inv, path, literal=True)
    return item_object(inv, found[0])


_HASHES = {"SHA1": "sha1", "SHA256": "sha256", "SHA384": "sha384", "SHA512": "sha512", "MD5": "md5"}


@cmdlet("Get-FileHash", ("Path", "LiteralPath", "Algorithm"))
def get_file_hash(inv: Invocation) -> list:
    """Get-FileHash on the file system: one Microsoft.PowerShell.Utility.FileHash per file (Algorithm, Hash in
    upper-case hex, Path). A path that does not exist is a non-terminating error (the engine's -ErrorAction Stop
    makes it the step's failure); a folder is skipped, as PowerShell skips what it cannot open as a file."""
    algorithm = str(inv.get("Algorithm") or "SHA256").upper()
    if algorithm not in _HASHES:
        raise not_simulated(inv.cmdlet, f"with -Algorithm {algorithm}")
    paths, literal = _paths(inv)
    out: list = []
    with inv.model.lock:
        for path in paths:
            found, wild = resolve(inv, path, literal)
            if not found and not wild:
                raise CmdletError.of(
                    inv.cmdlet,
                    "FileNotFound",
                    f"Cannot find path '{path}' because it does not exist.",
                    "ObjectNotFound",
                    "System.Management.Automation.ItemNotFoundException",
                )
            for item in found:
                if item.is_registry:
                    raise not_simulated(inv.cmdlet, f"on the registry ({item.path})")
                if item.node is None or item.node.is_dir:
                    continue
                digest = hashlib.new(_HASHES[algorithm], item.node.data).hexdigest().upper()
                out.append(
                    PSObject(
                        ["Microsoft.Powershell.Utility.FileHash", "System.Object"],
                        {"Algorithm": algorithm, "Hash": digest, "Path": item.path},
                        "Microsoft.Powershell.Utility.FileHash",
                    )
                )
    return out


@cmdlet("Remove-Item", ("Path", "LiteralPath", "Recurse", "WhatIf", "Confirm"))
def remove_item(inv: Invocation) -> list:
    """Remove-Item for registry keys (the move lease of service_connection_point). A key with subkeys
    needs -Recurse: without it PowerShell asks to confirm, which -Confirm:$false does not suppress and
    which fails under -NonInteractive (the Remove-Item reference page, NOTES). A key that is gone is
    PathNotFound, so of two runs removing the same key only one succeeds."""
    with inv.model.lock:
        items = _registry_only(inv, resolve_all(inv))
        for item in items:
            if not item.parts:
                raise not_simulated(inv.cmdlet, "on a registry hive")
            if item.key.subkeys() and not inv.switch("Recurse"):  # type: ignore[union-attr]
                raise non_interactive_prompt(inv.cmdlet)
        if inv.what_if:
            return []
        for item in items:
            inv.host.registry.delete_key("\\".join([f"Registry::{item.hive}", *item.parts]))
    return []
