"""Helpers of the packaging tests: the repository's files, a clean copy of them, the tools' environment."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def repo_files() -> list[str]:
    """Files of the working tree that git tracks or would track (what a fresh clone plus local edits has)."""
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, check=True, capture_output=True
    ).stdout.decode()
    return sorted({name for name in out.split("\0") if name and os.path.lexists(REPO / name)})


def copy_repo(dest: Path, exclude: tuple[str, ...] = ()) -> Path:
    """Copy the repository's files (symlinks as symlinks) to dest, leaving out paths under `exclude`."""
    for name in repo_files():
        if name.startswith(exclude):
            continue
        source = REPO / name
        target = dest / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)
    return dest


def tool_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.pop("ANSIBLE_CONFIG", None)
    env.pop("ANSIBLE_COLLECTIONS_PATH", None)
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    env.update(extra)
    return env
