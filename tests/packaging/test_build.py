"""The collection tarball ships what a user runs, and nothing of the development project.

Built with `ansible-galaxy collection build` (galaxy.yml's build_ignore) from a copy of the
repository that also holds the clutter a working tree collects; then installed with
`ansible-galaxy collection install` and read with ansible-doc, as a user would.
"""

from __future__ import annotations

import json
import subprocess
import tarfile

import yaml
from packaging_support import BIN, REPO, tool_env

# What a user runs (issue 11): plugins, roles, playbooks, meta, docs, README, licence, changelog.
SHIPPED_TOP_LEVEL = {
    "MANIFEST.json",
    "FILES.json",
    "README.md",
    "COPYING",
    "CHANGELOG.rst",
    "changelogs",
    "docs",
    "meta",
    "playbooks",
    "plugins",
    "roles",
}
NEVER_SHIPPED = (
    "cmlab/",
    "tests/",
    "tools/",
    "molecule/",
    "inventories/",
    ".venv/",
    ".cmlab/",
    ".collections/",
    ".pytest_cache/",
    ".ruff_cache/",
    ".sanity/",
    ".ansible/",
    ".ci/",
    "context/",
    "changelogs/fragments/",
)
NEVER_SHIPPED_FILES = (
    "Makefile",
    "requirements.txt",
    "requirements.in",
    "ansible.cfg",
    "ruff.toml",
    ".ansible-lint",
    ".gitignore",
    "execution-environment.yml",
    "pyproject.toml",
    "changelogs/.plugin-cache.yaml",
    "CHANGELOG.md",
)


def test_only_what_a_user_runs_is_in_the_tarball(tarball_names):
    top = {name.split("/", 1)[0] for name in tarball_names}
    assert top <= SHIPPED_TOP_LEVEL, f"unexpected in the tarball: {sorted(top - SHIPPED_TOP_LEVEL)}"
    leaked = [
        name
        for name in tarball_names
        if name.startswith(NEVER_SHIPPED) or name in NEVER_SHIPPED_FILES or "__pycache__" in name or name.endswith((".pyc", ".tar.gz"))
    ]
    assert leaked == []


def test_everything_a_user_runs_is_in_the_tarball(tarball_names):
    names = set(tarball_names)
    modules = sorted(p.name for p in (REPO / "plugins" / "modules").glob("*.py"))
    assert modules, "no modules found"
    for module in modules:
        assert f"plugins/modules/{module}" in names
        assert f"plugins/action/{module}" in names  # every module is an action plugin
    for required in (
        "README.md",
        "COPYING",
        "meta/runtime.yml",
        "meta/execution-environment.yml",
        "plugins/module_utils/cmscp_engine.ps1",
        "plugins/plugin_utils/cmdlet_catalog.json",
        "plugins/plugin_utils/_cmtrace.py",
        "roles/service_connection_point/meta/argument_specs.yml",
        "roles/service_connection_point/README.md",
        "playbooks/site.yml",
        "playbooks/move.yml",
        "playbooks/remove.yml",
        "docs/configmgr-behaviour.md",
    ):
        assert required in names, required
    # Files that meta/execution-environment.yml points to ship with it.
    ee = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    for kind in ("python", "system"):
        assert ee["dependencies"][kind] in names
    # Every tracked file under the shipped folders ships (nothing user-facing is ignored by mistake).
    tracked = subprocess.run(
        ["git", "ls-files", "plugins", "roles", "playbooks", "meta", "docs"], cwd=REPO, check=True, capture_output=True, text=True
    ).stdout.split()
    assert sorted(set(tracked) - names) == []


def test_manifest_names_the_licence_and_authors_of_galaxy_yml(built_tarball):
    galaxy = yaml.safe_load((REPO / "galaxy.yml").read_text())
    with tarfile.open(built_tarball) as archive:
        manifest = json.load(archive.extractfile("MANIFEST.json"))["collection_info"]
        copying = archive.extractfile("COPYING").read().decode()
    assert manifest["license"] == galaxy["license"] == ["GPL-3.0-or-later"]
    assert manifest["authors"] == galaxy["authors"]
    assert "GNU GENERAL PUBLIC LICENSE" in copying and "Version 3, 29 June 2007" in copying


def test_the_installed_tarball_documents_every_module_and_the_role(built_tarball, tmp_path):
    collections = tmp_path / "collections"
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(tmp_path / "home"))
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", str(built_tarball), "-p", str(collections)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    listed = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "module", "--list", "--json", "configmgr.scp"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    modules = {f"configmgr.scp.{p.stem}" for p in (REPO / "plugins" / "modules").glob("*.py")}
    assert set(json.loads(listed.stdout)) == modules
    role = subprocess.run(
        [str(BIN / "ansible-doc"), "-t", "role", "--json", "configmgr.scp.service_connection_point"],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    spec = json.loads(role.stdout)["configmgr.scp.service_connection_point"]["entry_points"]["main"]
    assert "service_connection_point_server" in spec["options"]


def test_the_collection_playbooks_load_from_the_installed_tarball(built_tarball, tmp_path):
    collections = tmp_path / "collections"
    env = tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(tmp_path / "home"))
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", str(built_tarball), "-p", str(collections)],
        check=True,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  children:\n    sms_provider:\n      hosts:\n        cas01.contoso.com:\n")
    for playbook in ("site", "move", "remove"):
        checked = subprocess.run(
            [str(BIN / "ansible-playbook"), f"configmgr.scp.{playbook}", "-i", str(inventory), "--syntax-check"],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    # site.yml's role resolves inside the installed collection: its tasks are listed.
    listed = subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "configmgr.scp.site",
            "-i",
            str(inventory),
            "--list-tasks",
            "-e",
            "service_connection_point_server=scp01.contoso.com",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "service_connection_point : Install, move or remove the service connection point" in listed.stdout
