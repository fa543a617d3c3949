# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Files between the controller and a Windows host: configmgr.scp.file_transfer.

The offline workflow carries the usage data from the SCP server to the internet-connected computer and the update
packs back (docs/configmgr-behaviour.md#service-connection-tool). The bytes move with the task's own connection
plugin, `put_file` and `fetch_file` - what `ansible.builtin.fetch` and `ansible.windows.win_copy` use underneath -
so no share is needed and nothing else is installed. Before, one engine invocation lists the files on the
Windows side with their SHA-1 (`Get-ChildItem -Recurse -File`, `Get-FileHash`), and only the files whose
content differs are moved: a second run moves nothing. This module decides; the action moves.
"""

from __future__ import annotations

import hashlib
import ntpath
import os
from dataclasses import dataclass, field

from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.plugin_utils import _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import Decision
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, PlanResult, ref


@dataclass
class Want:
    direction: str  # fetch: Windows host -> controller; put: controller -> Windows host
    remote: str  # the path on the Windows host (src of fetch, dest of put)
    local: str  # the path on the controller (dest of fetch, src of put)
    local_files: dict[str, str] = field(default_factory=dict)  # put: relative path ("a/b.cab") -> sha1
    local_is_dir: bool = False
    check_mode: bool = False
    missing_local: bool = False  # put in check mode: src is not there (yet)


def sha1_of(path: str) -> str:
    digest = hashlib.sha1()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def local_tree(root: str, option: str) -> tuple[bool, dict[str, str]]:
    """(is a folder, relative path -> sha1) of a file or folder on the controller."""
    if os.path.isfile(root):
        return False, {os.path.basename(root): sha1_of(root)}
    if not os.path.isdir(root):
        raise AnsibleActionFail(f"{option} {root} does not exist on the controller.")
    files = {}
    for folder, dirs, names in os.walk(root):
        dirs.sort()
        for name in sorted(names):
            full = os.path.join(folder, name)
            if os.path.isfile(full):
                files[os.path.relpath(full, root).replace(os.sep, "/")] = sha1_of(full)
    return True, files


def remote_path(root: str, relative: str, is_dir: bool) -> str:
    return f"{root.rstrip(chr(92))}\\{relative.replace('/', chr(92))}" if is_dir else root


def check_put_names(want: Want, option: str = "dest") -> None:
    """Every file's path on the Windows host must be one Windows accepts (before anything connects)."""
    for relative in want.local_files:
        target = remote_path(want.remote, relative, want.local_is_dir)
        try:
            _validation.drive_path(target, option)
        except AnsibleActionFail:
            raise AnsibleActionFail(
                f"The file {relative} of src cannot be copied to {target}: Windows does not "
                'accept that path (a character such as " : < > | ? * or a control character, or '
                f"more than {_validation.MAX_PATH} characters)."
            ) from None


def read_plan(want: Want) -> Plan:
    """The Windows side in one invocation: the drive, the item, every file under it and its SHA-1."""
    plan = Plan()
    plan.add("drive", "Test-Path", {"LiteralPath": want.remote[:3], "PathType": "Container"})
    plan.add("item", "Get-Item", {"LiteralPath": want.remote}, select={"FullName": None, "PSIsContainer": None}, on_error="continue")
    plan.add(
        "files",
        "Get-ChildItem",
        {"LiteralPath": want.remote, "Recurse": True, "File": True},
        select={"FullName": None, "Length": None},
        on_error="continue",
    )
    plan.add(
        "hashes",
        "Get-FileHash",
        {"LiteralPath": ref("files", "FullName"), "Algorithm": "SHA1"},
        select={"Path": None, "Hash": None},
        on_error="continue",
    )
    return plan


@dataclass
class RemoteTree:
    exists: bool
    is_dir: bool
    root: str
    files: dict[str, tuple[str, int]]  # relative path ("a/b.cab") -> (sha1, length)
    drive: bool = True

    @classmethod
    def of(cls, want: Want, result: PlanResult) -> RemoteTree:
        item = result.first("item") if result.steps.get("item") and result.steps["item"].ok else None
        drive = result.first("drive") is True
        if not isinstance(item, dict):
            return cls(False, False, want.remote, {}, drive)
        root = str(item.get("FullName") or want.remote).rstrip("\\")
        is_dir = bool(item.get("PSIsContainer"))
        hashes = {
            str(h.get("Path")).lower(): str(h.get("Hash") or "").lower()
            for h in result.output("hashes")
            if isinstance(h, dict) and h.get("Path")
        }
        files = {}
        for raw in result.output("files"):
            if not isinstance(raw, dict) or not raw.get("FullName"):
                continue
            full = str(raw["FullName"])
            if is_dir:
                if not full.lower().startswith(root.lower() + "\\"):
                    continue
                relative = full[len(root) + 1 :].replace("\\", "/")
            else:
                relative = ntpath.basename(full)
            files[relative] = (hashes.get(full.lower(), ""), int(raw.get("Length") or 0))
        return cls(True, is_dir, root, files, drive)


@dataclass
class Move:
    relative: str
    source: str
    target: str
    sha1: str
    size: int = 0


CHECK_MODE_SUFFIX = " (check mode: assuming an earlier task of the play creates it; a real run fails otherwise)"


def decide(want: Want, remote: RemoteTree, where: str) -> Decision:
    """Which files differ, and so move; refusals when the two sides cannot match."""
    if not remote.drive:
        raise AnsibleActionFail(f"The drive {want.remote[:2]} does not exist on {where}.")
    moves: list[Move] = []
    result = {
        "direction": want.direction,
        "src": want.remote if want.direction == "fetch" else want.local,
        "dest": want.local if want.direction == "fetch" else want.remote,
    }
    missing = (
        f"src {want.remote} does not exist on {where}."
        if want.direction == "fetch" and not remote.exists
        else f"src {want.local} does not exist on the controller."
        if want.missing_local
        else None
    )
    if missing:
        if not want.check_mode:
            raise AnsibleActionFail(missing)
        return Decision(
            changed=True, warnings=[missing + CHECK_MODE_SUFFIX], result={**result, "files": [], "transferred": [], "bytes": 0}, changes=[]
        )
    if want.direction == "fetch":
        local_is_dir = os.path.isdir(want.local)
        if not remote.is_dir and local_is_dir:
            raise AnsibleActionFail(
                f"dest {want.local} is a folder on the controller; give the path of the file to "
                f"write ({os.path.join(want.local, ntpath.basename(want.remote))})."
            )
        if remote.is_dir and os.path.isfile(want.local):
            raise AnsibleActionFail(f"src {want.remote} is a folder, but dest {want.local} is a file on the controller.")
        for relative, (sha1, size) in sorted(remote.files.items()):
            local = os.path.join(want.local, *relative.split("/")) if remote.is_dir else want.local
            if not os.path.isfile(local) or sha1_of(local) != sha1:
                moves.append(
                    Move(relative, f"{remote.root}\\{relative.replace('/', chr(92))}" if remote.is_dir else remote.root, local, sha1, size)
                )
        files = sorted(remote.files)
    else:
        if remote.exists and remote.is_dir != want.local_is_dir:
            kinds = ("a folder", "a file") if remote.is_dir else ("a file", "a folder")
            raise AnsibleActionFail(f"dest {want.remote} is {kinds[0]} on {where}, but src {want.local} is {kinds[1]}.")
        single = next(iter(remote.files.values()), ("", 0))[0] if not want.local_is_dir else ""
        for relative, sha1 in sorted(want.local_files.items()):
            if (remote.files.get(relative, ("",))[0] if want.local_is_dir else single) != sha1:
                source = os.path.join(want.local, *relative.split("/")) if want.local_is_dir else want.local
                moves.append(Move(relative, source, remote_path(want.remote, relative, want.local_is_dir), sha1, os.path.getsize(source)))
        files = sorted(want.local_files)
    return Decision(
        changed=bool(moves),
        changes=moves,
        result={**result, "files": files, "transferred": [m.relative for m in moves], "bytes": sum(m.size for m in moves)},
    )


def folders_to_create(want: Want, moves: list[Move]) -> list[str]:
    """put: the folders on the Windows host the moved files go into (New-Item -Force creates each with its parents)."""
    folders = {ntpath.dirname(m.target) for m in moves}
    return sorted(f for f in folders if len(f) > 3)
