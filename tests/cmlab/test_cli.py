"""python -m cmlab: start (daemonised), a second start, status, state, counters, faults, stop."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TOPOLOGY = str(REPO / "inventories" / "lab" / "cmlab.yml")


def cli(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "cmlab", *args],
        check=False,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=90,
        env={**os.environ, "CMLAB_PASSWORD": ""},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"cmlab {' '.join(args)} failed ({result.returncode}): {result.stderr}")
    return result


@pytest.fixture
def running_lab(tmp_path):
    state_dir = str(tmp_path / "lab")
    cli("start", "--topology", TOPOLOGY, "--state-dir", state_dir, "--ephemeral-ports")
    yield Path(state_dir)
    cli("stop", "--state-dir", state_dir)


def test_start_writes_its_files_and_refuses_a_second_start(running_lab):
    info = json.loads((running_lab / "cmlab.json").read_text())
    assert set(info["hosts"]) == {"cas.lab.example", "ps1.lab.example", "scp01.lab.example", "inet01.lab.example"}
    assert info["control_url"].startswith("http://127.0.0.1:")
    password = (running_lab / "password").read_text().strip()
    for name in ("password", "inventory.yml", "cmlab.json", "control-token"):
        assert stat.S_IMODE((running_lab / name).stat().st_mode) == 0o600
    inventory = yaml.safe_load((running_lab / "inventory.yml").read_text())["all"]
    assert inventory["vars"]["ansible_password"] == password and inventory["vars"]["ansible_user"] == "LAB\\cmadmin"
    assert inventory["vars"]["ansible_connection"] == "winrm" and inventory["vars"]["ansible_winrm_transport"] == "ntlm"
    cas = inventory["hosts"]["cas.lab.example"]
    assert cas["ansible_host"] == "127.10.0.11" and cas["ansible_port"] == info["hosts"]["cas.lab.example"]["http_port"]
    assert set(inventory["children"]["site_servers"]["hosts"]) == {"cas.lab.example", "ps1.lab.example"}

    again = cli("start", "--topology", TOPOLOGY, "--state-dir", str(running_lab), "--ephemeral-ports", check=False)
    assert again.returncode == 1 and "already running" in again.stderr and str(running_lab) in again.stderr

    status = cli("status", "--state-dir", str(running_lab))
    assert "cmlab running" in status.stdout and "scp01.lab.example" in status.stdout
    state = json.loads(cli("state", "--state-dir", str(running_lab)).stdout)
    assert "lab" in state["hierarchies"] and password not in json.dumps(state)


def test_counters_and_faults(running_lab):
    d = str(running_lab)
    added = json.loads(
        cli(
            "fault", "add", "provider_unavailable", "--host", "cas.lab.example", "--count", "2", "--option", "note=test", "--state-dir", d
        ).stdout
    )
    assert added == {"kind": "provider_unavailable", "host": "cas.lab.example", "count": 2, "options": {"note": "test"}}
    assert len(json.loads(cli("fault", "list", "--state-dir", d).stdout)) == 1
    assert json.loads(cli("fault", "clear", "--state-dir", d).stdout) == []
    bad = cli("fault", "add", "meteor", "--state-dir", d, check=False)
    assert bad.returncode == 1 and "HTTP 400" in bad.stderr
    assert json.loads(cli("counters", "--reset", "--state-dir", d).stdout) == {}


def test_stop_is_idempotent_and_commands_need_a_running_lab(tmp_path):
    d = str(tmp_path / "never")
    assert "not running" in cli("stop", "--state-dir", d).stdout
    assert cli("status", "--state-dir", d, check=False).returncode == 3
    state = cli("state", "--state-dir", d, check=False)
    assert state.returncode == 1 and "not running" in state.stderr


def test_bad_topology_is_reported(tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\ndomain: {netbios: LAB, dns: lab.example, admin_user: a}\nhosts:\n  x.lab.example: {address: 10.1.1.1}\n")
    result = cli("start", "--topology", str(bad), "--state-dir", str(tmp_path / "s"), check=False)
    assert result.returncode == 1 and "not a loopback address" in result.stderr


def test_the_control_api_needs_the_state_dirs_token(running_lab):
    # Issue 8 item 18: another local user cannot read the token (0600), so cannot stop or alter the lab.
    info = json.loads((running_lab / "cmlab.json").read_text())
    token = (running_lab / "control-token").read_text().strip()
    assert info["control_token_file"] == str((running_lab / "control-token").resolve()) and len(token) >= 32
    for headers in ({}, {"Authorization": "Bearer not-the-token"}, {"Authorization": token}):
        for method, path in (("POST", "/shutdown"), ("POST", "/faults"), ("GET", "/state")):
            request = urllib.request.Request(
                info["control_url"] + path, data=b"{}" if method == "POST" else None, method=method, headers=headers
            )
            with pytest.raises(urllib.error.HTTPError) as e:
                urllib.request.urlopen(request, timeout=10)
            assert e.value.code == 401
    assert "cmlab running" in cli("status", "--state-dir", str(running_lab)).stdout  # still up
    assert json.loads(cli("fault", "list", "--state-dir", str(running_lab)).stdout) == []  # the CLI has the token
    request = urllib.request.Request(info["control_url"] + "/faults", headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        assert json.loads(reply.read()) == []


def test_windows_winrm_defaults_can_be_relaxed_at_start(tmp_path):
    d = str(tmp_path / "lab")
    cli("start", "--topology", TOPOLOGY, "--state-dir", d, "--ephemeral-ports", "--winrm-allow", "basic,unencrypted")
    try:
        info = json.loads((Path(d) / "cmlab.json").read_text())
        assert info["winrm"] == {"allow_basic": True, "allow_unencrypted": True, "allow_certificate": False}
    finally:
        cli("stop", "--state-dir", d)
    bad = cli("start", "--state-dir", d, "--winrm-allow", "kerberos", check=False)
    assert bad.returncode == 2 and "expected basic, unencrypted or certificate" in bad.stderr


def test_cmlab_installed_from_the_repository_runs_outside_the_checkout(tmp_path):
    # Issue 11 item 2: `pip install <repository>` gives cmlab with the collection's protocol, catalog and
    # engine as packages (pyproject.toml), nothing loaded from the checkout by path.
    wheels, target, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "-w", str(wheels), str(REPO)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    [wheel] = wheels.glob("cmlab-*.whl")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(target), str(wheel)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    env = {**os.environ, "PYTHONPATH": str(target), "CMLAB_PASSWORD": ""}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, *args], cwd=elsewhere, env=env, capture_output=True, text=True, timeout=90, check=True)

    where = run(
        "-c", "import cmlab.contract as c, cmscp_plugin_utils._protocol as p; print(c.__file__, p.__file__, c.ENGINE_FILE.is_file())"
    ).stdout.split()
    assert where[0].startswith(str(target)) and where[1].startswith(str(target)) and where[2] == "True"
    state_dir = str(elsewhere / "lab")
    run("-m", "cmlab", "start", "--topology", TOPOLOGY, "--state-dir", state_dir, "--ephemeral-ports")
    try:
        assert "cmlab running" in run("-m", "cmlab", "status", "--state-dir", state_dir).stdout
        assert "lab" in json.loads(run("-m", "cmlab", "state", "--state-dir", state_dir).stdout)["hierarchies"]
    finally:
        run("-m", "cmlab", "stop", "--state-dir", state_dir)
