"""Integration tier: a real cmlab on loopback, the real ansible-playbook, the real winrm connection."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LAB_TOPOLOGY = REPO / "inventories" / "lab" / "cmlab.yml"
# The role verifies that the SCP works (tasks/verify.yml), which on the default lab needs TLS 1.2 for .NET
# on the server the SCP goes to: the role's connectivity prerequisites (tasks/prerequisites.yml) set it and,
# as the lab's group_vars allow, reboot the server. So the tests' lab is the default one (ps1, scp01 and cas
# without the values; the lab starts CRITICAL); topology_with_tls12() still gives a test hosts with the values
# set before their last boot when it needs them (docs/development.md, "The SCP's health in tests").
TLS12_PRESET_HOSTS: tuple[str, ...] = ()
DOTNET_KEYS = (
    "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319",
    "HKLM:\\SOFTWARE\\WOW6432Node\\Microsoft\\.NETFramework\\v4.0.30319",
)
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"
# The ansible-playbook the tier runs: this venv's, or another ansible-core's (CMSCP_ANSIBLE_PLAYBOOK; `make
# versions-next` with CMSCP_NEXT_TIERS=integration runs the whole tier under 2.20 and 2.21 that way).
ANSIBLE_PLAYBOOK = os.environ.get("CMSCP_ANSIBLE_PLAYBOOK") or str(Path(sys.executable).parent / "ansible-playbook")
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    results: list[dict]

    @property
    def recap(self) -> dict[str, dict[str, int]]:
        return {
            m[0]: {"ok": int(m[1]), "changed": int(m[2]), "unreachable": int(m[3]), "failed": int(m[4])} for m in RECAP.findall(self.stdout)
        }

    @property
    def changed(self) -> int:
        return sum(h["changed"] for h in self.recap.values())

    def task(self, name: str) -> dict:
        matches = [r for r in self.results if r["task"] == name]
        assert matches, f"no result for task {name!r}; tasks: {[r['task'] for r in self.results]}\n{self.stdout}"
        return matches[-1]


class RunningLab:
    def __init__(self, state_dir: Path, topology: Path):
        self.state_dir = state_dir
        self.topology = topology
        self.cli(["start", "--topology", str(topology), "--state-dir", str(state_dir), "--ephemeral-ports"])
        self.info = json.loads((state_dir / "cmlab.json").read_text())
        self.inventory = state_dir / "inventory.yml"
        # The lab's desired state (group_vars) applies to the generated inventory as to the static one.
        (state_dir / "group_vars").symlink_to(REPO / "inventories" / "lab" / "group_vars")

    def cli(self, args: list[str]) -> str:
        proc = subprocess.run([sys.executable, "-m", "cmlab", *args], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
        assert proc.returncode == 0, f"cmlab {' '.join(args)} failed: {proc.stdout}\n{proc.stderr}"
        return proc.stdout

    def _control(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        token = Path(self.info["control_token_file"]).read_text().strip()
        req = urllib.request.Request(
            self.info["control_url"].rstrip("/") + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        return json.loads(text) if text else None

    def state(self) -> dict:
        return self._control("GET", "/state")

    def counters(self) -> dict:
        return self._control("GET", "/counters")

    def reset_counters(self) -> None:
        self._control("POST", "/counters/reset", {})

    def add_fault(self, kind: str, host: str = "*", count: int | None = None, **options) -> None:
        self._control("POST", "/faults", {"kind": kind, "host": host, "count": count, "options": options})

    def clear_faults(self) -> None:
        self._control("DELETE", "/faults")

    def wait_until(self, predicate, timeout: float = 30.0) -> dict:
        """Poll the state dump until predicate(state) holds: the site installs roles asynchronously."""
        deadline = time.monotonic() + timeout
        while True:
            state = self.state()
            if predicate(state):
                return state
            assert time.monotonic() < deadline, "the lab did not reach the expected state in time"
            time.sleep(0.5)

    def requests_total(self) -> int:
        return sum(h["requests"] for h in self.counters().values())

    def stop(self) -> None:
        self.cli(["stop", "--state-dir", str(self.state_dir)])

    def playbook(
        self,
        playbook: str | Path,
        *args: str,
        extra_vars: dict | None = None,
        env: dict | None = None,
        inventory: Path | None = None,
        timeout: int = 300,
    ) -> PlaybookRun:
        record = self.state_dir / f"results-{os.getpid()}-{len(os.listdir(self.state_dir))}.jsonl"
        cmd = [ANSIBLE_PLAYBOOK, "-i", str(inventory or self.inventory), str(playbook), *args]
        if extra_vars:
            cmd += ["-e", json.dumps(extra_vars)]
        run_env = dict(os.environ)
        run_env.update(
            {
                "ANSIBLE_CONFIG": str(REPO / "ansible.cfg"),
                "ANSIBLE_COLLECTIONS_PATH": str(REPO / ".collections"),
                "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACKS),
                "ANSIBLE_CALLBACKS_ENABLED": "record_results",
                "ANSIBLE_NOCOLOR": "1",
                "ANSIBLE_FORCE_COLOR": "0",
                "RECORD_RESULTS_FILE": str(record),
            }
        )
        run_env.update(env or {})
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, env=run_env, timeout=timeout, check=False)
        results = [json.loads(line) for line in record.read_text().splitlines()] if record.exists() else []
        return PlaybookRun(proc.returncode, proc.stdout, proc.stderr, results)

    def write_playbook(self, name: str, text: str) -> Path:
        path = self.state_dir / name
        path.write_text(text)
        return path


def topology_with_tls12(path: Path, hosts=TLS12_PRESET_HOSTS, source: Path = LAB_TOPOLOGY, change=None) -> Path:
    """A copy of a topology whose `hosts` have SchUseStrongCrypto and SystemDefaultTlsVersions in both registry views
    (docs/configmgr-behaviour.md#tls-prerequisites); `change(topology)` may edit it further."""
    import yaml

    topology = yaml.safe_load(source.read_text())
    for host in hosts:
        registry = topology["hosts"][host].setdefault("registry", {})
        for key in DOTNET_KEYS:
            registry.setdefault(key, {}).update({"SchUseStrongCrypto": 1, "SystemDefaultTlsVersions": 1})
    if change is not None:
        change(topology)
    path.write_text(yaml.safe_dump(topology, sort_keys=False))
    return path


@pytest.fixture
def lab(tmp_path):
    """A fresh lab per test: tests change the hierarchy."""
    running = RunningLab(tmp_path / "lab", topology_with_tls12(tmp_path / "cmlab.yml"))
    try:
        yield running
    finally:
        running.stop()


@pytest.fixture
def default_lab(tmp_path):
    """The default lab exactly as `make demo` starts it: no server has TLS 1.2 for .NET."""
    running = RunningLab(tmp_path / "lab", LAB_TOPOLOGY)
    try:
        yield running
    finally:
        running.stop()
