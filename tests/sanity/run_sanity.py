"""`make sanity`: ansible-test sanity on the collection as it ships, offline from everything but PyPI.

What it does, and why:

- The collection is built with `ansible-galaxy collection build` (galaxy.yml's build_ignore) and the
  tarball's files are unpacked into `<temp>/ansible_collections/configmgr/scp`, the layout
  ansible-test needs. So sanity checks exactly what users install, and not the development project
  (cmlab, tools, tests) nor the repository's `.collections` symlink, which only serves running from
  a checkout (ansible-test's `symlinks` test rejects a symlink to a directory). `tests/sanity/` is
  copied in beside it for the ignore file.
- `HOME` is `.sanity/home` under the repository (git-ignored): ansible-test keeps its virtual
  environments and caches there, so nothing outside the repository changes, and a second run reuses
  them.
- ansible-test bootstraps pip in each of its virtual environments with a get-pip script it downloads
  from a host this machine cannot reach. It first looks in `~/.ansible/test/cache/get_pip_<version>.py`
  (`get_pip_24_2.py` for ansible-test 2.19), so a stand-in goes there: it installs the pip that ships
  with Python (`ensurepip`) and then lets that pip install the version ansible-test asked for, from the
  package index like every other requirement.
- `--python 3.11`: the controller's Python (the one running this script). Tests run: all of ansible-test's sanity tests except
  `pslint`, which needs PowerShell (and its PSScriptAnalyzer module), not installable here; the one
  PowerShell file, plugins/module_utils/cmscp_engine.ps1, is parse-checked with tree-sitter in
  tests/static instead.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOME = REPO / ".sanity" / "home"
NOT_RUNNABLE = {"pslint": "needs PowerShell and PSScriptAnalyzer, which cannot be installed on these machines"}

GET_PIP_STANDIN = '''"""Stand-in for the get-pip bootstrap script ansible-test would download (written by tests/sanity/run_sanity.py).

It takes get-pip's arguments (pip install arguments plus --no-setuptools / --no-wheel), installs the pip
bundled with Python (ensurepip), then runs `pip install` with the remaining arguments against the
package index, as get-pip does. Both run as child processes: ensurepip clears pip's configuration
(PIP_CONFIG_FILE=/dev/null) in the process that calls it, and the machine's pip configuration (its
CA bundle) must apply to the second step.
"""
import subprocess
import sys

args = [arg for arg in sys.argv[1:] if arg not in ("--no-setuptools", "--no-wheel")]
subprocess.run([sys.executable, "-m", "ensurepip", "--upgrade"], check=True, stdout=subprocess.DEVNULL)
sys.exit(subprocess.run([sys.executable, "-m", "pip", "install", "--upgrade", *args], check=False).returncode)
'''


def get_pip_version() -> str:
    """The pip version this ansible-test bootstraps (python_requirements.get_venv_packages, a private
    function; when it moves, the version is read from its source, and failing that 24.2, ansible-test
    2.19's)."""
    try:
        from ansible_test._internal import python_requirements

        class _Python:
            version = f"{sys.version_info.major}.{sys.version_info.minor}"

        return python_requirements.get_venv_packages(_Python())["pip"]
    except Exception:  # noqa: BLE001 - any change of that private API falls back to reading the source
        import ansible_test

        source = (Path(ansible_test.__file__).parent / "_internal" / "python_requirements.py").read_text()
        found = re.search(r"pip='([0-9.]+)'", source)
        return found.group(1) if found else "24.2"


def prepare_home() -> dict[str, str]:
    version = get_pip_version()
    cache = HOME / ".ansible" / "test" / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    standin = cache / f"get_pip_{version.replace('.', '_')}.py"
    if not standin.exists() or standin.read_text() != GET_PIP_STANDIN:
        standin.write_text(GET_PIP_STANDIN)
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    env.update(HOME=str(HOME), PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}", PIP_DISABLE_PIP_VERSION_CHECK="1")
    return env


def clean_copy(dest: Path) -> Path:
    """The files git tracks or would track (no caches, no lab state, no .sanity), symlinks as symlinks."""
    listed = (
        subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, check=True, capture_output=True)
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source, target = REPO / name, dest / name
        if not os.path.lexists(source):
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_symlink():
            os.symlink(os.readlink(source), target)
        else:
            shutil.copy2(source, target)
    return dest


def stage_collection(work: Path, env: dict[str, str]) -> Path:
    dist = work / "dist"
    source = clean_copy(work / "source")
    subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "build", str(source), "--output-path", str(dist)],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    [tarball] = dist.glob("configmgr-scp-*.tar.gz")
    root = work / "ansible_collections" / "configmgr" / "scp"
    root.mkdir(parents=True)
    with tarfile.open(tarball) as archive:
        archive.extractall(root, filter="data")
    for generated in ("MANIFEST.json", "FILES.json"):
        (root / generated).unlink()
    # galaxy.yml does not ship (MANIFEST.json replaces it) but gives ansible-test the collection's version
    # for its version_added checks.
    shutil.copy2(REPO / "galaxy.yml", root / "galaxy.yml")
    shutil.copytree(
        REPO / "tests" / "sanity", root / "tests" / "sanity", ignore=shutil.ignore_patterns("run_sanity.py", "__pycache__", "*.pyc")
    )
    return root


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--test", action="append", help="run only this sanity test (repeatable)")
    parser.add_argument("--keep", action="store_true", help="keep the staged copy and print its path")
    args, extra = parser.parse_known_args()
    started = time.monotonic()
    env = prepare_home()
    work = Path(tempfile.mkdtemp(prefix="configmgr-scp-sanity-"))
    try:
        root = stage_collection(work, env)
        command = [str(BIN / "ansible-test"), "sanity", "--python", f"{sys.version_info.major}.{sys.version_info.minor}", "--color", "no"]
        if args.test:
            for name in args.test:
                command += ["--test", name]
        for name, reason in NOT_RUNNABLE.items():
            print(f"ansible-test sanity: not running {name}: {reason}")
            command += ["--skip-test", name]
        result = subprocess.run(command + extra, cwd=root, env=env, check=False)
        print(f"ansible-test sanity: {'passed' if result.returncode == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s")
        return result.returncode
    finally:
        if args.keep:
            print(f"staged collection kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
