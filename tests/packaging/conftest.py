"""Fixtures of the packaging tests: the collection tarball built from a copy of the repository."""

from __future__ import annotations

import subprocess
import tarfile
from pathlib import Path

import pytest
from packaging_support import BIN, copy_repo, tool_env


@pytest.fixture(scope="session")
def built_tarball(tmp_path_factory) -> Path:
    """The collection built with ansible-galaxy from a copy of the repository that also holds the
    development clutter a working tree collects (caches, byte code, lab state, a virtualenv)."""
    work = tmp_path_factory.mktemp("build")
    tree = copy_repo(work / "scp")
    for clutter in (
        ".pytest_cache/v/cache/nodeids",
        ".ruff_cache/0.1/x",
        "plugins/plugin_utils/__pycache__/x.pyc",
        ".cmlab/lab/state.json",
        ".venv/bin/python",
        "tests/output/junit.xml",
        "context/Containerfile",
        "changelogs/.plugin-cache.yaml",
        "configmgr-scp-0.0.1.tar.gz",
        ".ansible/collections/x",
        ".sanity/home/.ansible/test/cache/get_pip_24_2.py",
    ):
        path = tree / clutter
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("clutter\n")
    out = work / "dist"
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(tree), "--output-path", str(out)],
        check=True,
        capture_output=True,
        text=True,
        env=tool_env(),
        cwd=work,
    )
    [tarball] = out.glob("configmgr-scp-*.tar.gz")
    return tarball


@pytest.fixture(scope="session")
def tarball_names(built_tarball) -> list[str]:
    with tarfile.open(built_tarball) as archive:
        return [member.name for member in archive.getmembers() if member.isfile()]
