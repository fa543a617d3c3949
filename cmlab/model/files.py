"""A small NTFS-like file system per host: drives, directories, text files.

Names are case-insensitive and case-preserving, as on NTFS. Files hold text; their size is the
length of that text in the file's encoding (UTF-8 unless said otherwise). Bytes written from outside
(a file Ansible copies to the host, cmlab.transfer) are kept as UTF-8 text when they are UTF-8, else
as Latin-1 text, so that `data` gives back exactly the bytes written. Timestamps come from the lab's
simulated clock and never reach the state dump.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from .errors import AlreadyExists, InvalidArgument, NotFound

_PATH = re.compile(r"^([A-Za-z]):(?:[\\/](.*))?$")
DEFAULT_DIRECTORIES = (
    "C:\\Windows\\System32",
    "C:\\Windows\\Temp",
    "C:\\Program Files",
    "C:\\Program Files (x86)",
    "C:\\ProgramData",
    "C:\\Users",
)


def split_path(path: str) -> tuple[str, list[str]]:
    """'C:\\a\\b' / 'c:/a/b/' → ('C:', ['a', 'b']); InvalidArgument for anything else."""
    match = _PATH.match(path.strip())
    if not match:
        raise InvalidArgument(f"not a drive-letter path: {path}")
    parts = [p for p in re.split(r"[\\/]+", match.group(2) or "") if p and p != "."]
    if ".." in parts:
        raise InvalidArgument(f"relative segments are not simulated: {path}")
    return match.group(1).upper() + ":", parts


def is_file_system_path(path: str) -> bool:
    return bool(_PATH.match(path.strip()))


@dataclass
class FileNode:
    name: str
    content: str = ""
    encoding: str = "utf-8"
    created: float = 0.0
    modified: float = 0.0

    is_dir = False

    @property
    def size(self) -> int:
        return len(self.content.encode(self.encoding))

    @property
    def data(self) -> bytes:
        """The file's bytes."""
        return self.content.encode(self.encoding)

    def lines(self) -> list[str]:
        """Get-Content's lines: split at CRLF / LF / CR, no empty line after a final newline."""
        lines = re.split(r"\r\n|\n|\r", self.content)
        if lines and lines[-1] == "":
            lines.pop()
        return lines


@dataclass
class DirNode:
    name: str
    children: dict[str, FileNode | DirNode] = field(default_factory=dict)  # lower name → node
    created: float = 0.0
    modified: float = 0.0

    is_dir = True

    def child(self, name: str) -> FileNode | DirNode | None:
        return self.children.get(name.lower())

    def sorted_children(self) -> list[FileNode | DirNode]:
        """Directories first, then files, each by name (the order Get-ChildItem lists them)."""
        nodes = sorted(self.children.values(), key=lambda n: n.name.lower())
        return [n for n in nodes if n.is_dir] + [n for n in nodes if not n.is_dir]


class FileSystem:
    def __init__(self, now: Callable[[], float] = lambda: 0.0) -> None:
        self._now = now
        self._drives: dict[str, DirNode] = {}
        for path in DEFAULT_DIRECTORIES:
            self.make_dirs(path)

    # Lookup -------------------------------------------------------------------------------
    def node(self, path: str) -> FileNode | DirNode | None:
        drive, parts = split_path(path)
        node: FileNode | DirNode | None = self._drives.get(drive)
        for part in parts:
            if node is None or not node.is_dir:
                return None
            node = node.child(part)
        return node

    def full_path(self, path: str) -> str:
        """The path with each existing segment spelled as stored ('c:\\windows' → 'C:\\Windows')."""
        drive, parts = split_path(path)
        node: FileNode | DirNode | None = self._drives.get(drive)
        out = [drive]
        for part in parts:
            node = node.child(part) if node is not None and node.is_dir else None
            out.append(node.name if node is not None else part)
        return "\\".join(out) if parts else drive + "\\"

    def kind(self, path: str) -> str | None:
        """'leaf', 'container' or None."""
        node = self.node(path)
        return None if node is None else "container" if node.is_dir else "leaf"

    def file(self, path: str) -> FileNode:
        node = self.node(path)
        if node is None:
            raise NotFound(f"Cannot find path '{path}' because it does not exist.")
        if node.is_dir:
            raise InvalidArgument(f"'{path}' is a directory.")
        return node

    def entries(self, path: str) -> list[tuple[str, FileNode | DirNode]]:
        """(full path, node) of a directory's entries, directories first."""
        node = self.node(path)
        if node is None or not node.is_dir:
            raise NotFound(f"Cannot find path '{path}' because it does not exist.")
        base = self.full_path(path).rstrip("\\")
        return [(f"{base}\\{child.name}", child) for child in node.sorted_children()]

    def walk(self, path: str) -> Iterator[tuple[str, FileNode | DirNode]]:
        """Get-ChildItem -Recurse order: a directory's entries, then each subdirectory's, depth first."""
        entries = self.entries(path)
        yield from entries
        for full, node in entries:
            if node.is_dir:
                yield from self.walk(full)

    # Changes ------------------------------------------------------------------------------
    def make_dirs(self, path: str) -> DirNode:
        drive, parts = split_path(path)
        now = self._now()
        node = self._drives.get(drive)
        if node is None:
            node = self._drives[drive] = DirNode(drive + "\\", created=now, modified=now)
        for part in parts:
            child = node.child(part)
            if child is None:
                child = node.children[part.lower()] = DirNode(part, created=now, modified=now)
                node.modified = now
            elif not child.is_dir:
                raise AlreadyExists(f"An item with the specified name {self.full_path(path)} already exists.")
            node = child
        return node

    def _parent_and_name(self, path: str) -> tuple[DirNode, str]:
        drive, parts = split_path(path)
        if not parts:
            raise InvalidArgument(f"'{path}' is a drive root.")
        return self.make_dirs("\\".join([drive, *parts[:-1]])), parts[-1]

    def write_text(self, path: str, content: str, encoding: str = "utf-8") -> FileNode:
        parent, name = self._parent_and_name(path)
        now = self._now()
        node = parent.child(name)
        if node is not None and node.is_dir:
            raise AlreadyExists(f"'{path}' is a directory.")
        if node is None:
            node = parent.children[name.lower()] = FileNode(name, encoding=encoding, created=now)
            parent.modified = now
        node.content, node.encoding, node.modified = content, encoding, now
        return node

    def write_bytes(self, path: str, data: bytes) -> FileNode:
        """A file's bytes, exactly (UTF-8 text when they are UTF-8, Latin-1 text otherwise)."""
        try:
            return self.write_text(path, data.decode("utf-8"), "utf-8")
        except UnicodeDecodeError:
            return self.write_text(path, data.decode("latin-1"), "latin-1")

    def append_text(self, path: str, text: str) -> FileNode:
        node = self.node(path)
        if node is None or node.is_dir:
            return self.write_text(path, text)
        node.content += text
        node.modified = self._now()
        return node

    def move(self, source: str, target: str) -> None:
        """Rename a file, replacing the target (how a log rolls over to .lo_, docs/configmgr-behaviour.md#logs)."""
        node = self.file(source)
        src_parent, src_name = self._parent_and_name(source)
        dst_parent, dst_name = self._parent_and_name(target)
        del src_parent.children[src_name.lower()]
        node.name = dst_name
        dst_parent.children[dst_name.lower()] = node
        src_parent.modified = dst_parent.modified = self._now()

    def delete(self, path: str) -> None:
        parent, name = self._parent_and_name(path)
        if parent.children.pop(name.lower(), None) is None:
            raise NotFound(f"Cannot find path '{path}' because it does not exist.")

    # State dump ---------------------------------------------------------------------------
    def to_dict(self) -> dict:
        """Every directory and every file with its size and line count (no contents, no times):
        deterministic and short, and a log that grows shows up as a change."""
        directories: list[str] = []
        files: dict[str, dict] = {}
        for drive in sorted(self._drives):
            directories.append(drive + "\\")
            for full, node in self.walk(drive + "\\"):
                if node.is_dir:
                    directories.append(full)
                else:
                    files[full] = {"bytes": node.size, "lines": len(node.lines())}
        return {"directories": sorted(directories, key=str.lower), "files": dict(sorted(files.items(), key=lambda kv: kv[0].lower()))}
