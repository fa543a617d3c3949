"""execution-environment.yml becomes an ansible-builder build context, offline, with the Kerberos binding.

`ansible-builder create` writes the Containerfile and the build context (no container runtime is
needed, nothing is downloaded). The image itself cannot be built here (no podman or docker); what is
checked is what the build would install: the collection tarball, and the Python and system packages
ansible-builder's own introspection script collects from the collection's meta/execution-environment.yml.
"""

from __future__ import annotations

import shutil
import subprocess

import yaml
from packaging_support import BIN, REPO, tool_env


def test_the_ee_definition_names_the_tarball_of_this_version():
    ee = yaml.safe_load((REPO / "execution-environment.yml").read_text())
    version = yaml.safe_load((REPO / "galaxy.yml").read_text())["version"]
    tarball = f"configmgr-scp-{version}.tar.gz"
    assert ee["version"] == 3
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": f"collections/{tarball}", "type": "file"}]
    assert ee["additional_build_files"] == [{"src": f"dist/{tarball}", "dest": "collections"}]


def test_ansible_builder_creates_the_build_context_offline(built_tarball, tmp_path):
    (tmp_path / "dist").mkdir()
    shutil.copy2(built_tarball, tmp_path / "dist" / built_tarball.name)
    shutil.copy2(REPO / "execution-environment.yml", tmp_path / "execution-environment.yml")
    env = tool_env(ANSIBLE_HOME=str(tmp_path / "home"))
    created = subprocess.run(
        [str(BIN / "ansible-builder"), "create", "-f", "execution-environment.yml", "-c", "context", "--output-filename", "Containerfile"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert created.returncode == 0, created.stdout + created.stderr
    context = tmp_path / "context"
    containerfile = (context / "Containerfile").read_text()
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert "ansible-core>=2.19,<2.20 ansible-runner" in containerfile
    assert "ansible-galaxy collection install" in containerfile
    assert (context / "_build" / "collections" / built_tarball.name).is_file()
    requirements = yaml.safe_load((context / "_build" / "requirements.yml").read_text())
    assert requirements == {"collections": [{"name": f"collections/{built_tarball.name}", "type": "file"}]}

    # What the builder stage will install: ansible-builder's introspection over the installed collection.
    collections = tmp_path / "collections"
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", str(built_tarball), "-p", str(collections)],
        check=True,
        capture_output=True,
        env=tool_env(ANSIBLE_COLLECTIONS_PATH=str(collections), ANSIBLE_HOME=str(tmp_path / "home")),
    )
    introspected = subprocess.run(
        [
            str(BIN / "python"),
            str(context / "_build" / "scripts" / "introspect.py"),
            "introspect",
            str(collections),
            "--user-bindep",
            str(context / "_build" / "bindep.txt"),
        ],
        check=True,
        capture_output=True,
        text=True,
        env=env,
    )
    found = yaml.safe_load(introspected.stdout)
    python = [line.split("#")[0].strip() for line in found["python"]]
    system = [line.split("#")[0].strip() for line in found["system"]]
    assert "pywinrm[kerberos]>=0.4.3" in python  # Kerberos for the winrm connection
    assert "pypsrp[kerberos]>=0.8,<1.0" in python  # ... and for psrp
    assert "jmespath" in python
    for package in (
        "krb5-workstation [platform:rpm]",
        "krb5-devel [platform:rpm compile]",
        "gcc [platform:rpm compile]",
        "python3.11-devel [platform:rpm compile]",
    ):
        assert package in system


def test_the_collection_metadata_is_what_ansible_builder_reads():
    meta = yaml.safe_load((REPO / "meta" / "execution-environment.yml").read_text())
    assert set(meta) == {"version", "dependencies"}
    for kind in ("python", "system"):
        assert (REPO / meta["dependencies"][kind]).is_file()
