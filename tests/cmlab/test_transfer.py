"""Ansible's WinRM file transfer in cmlab (cmlab/transfer.py): the put_file and fetch_file scripts of every
supported ansible-core, recorded from that version's own winrm connection plugin, are carried out on the
simulated file system as data; anything that differs from them is refused."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from configmgr_harness import ConfigMgrLab

from cmlab import transfer
from cmlab.scripts import ScriptDispatcher

REPO = Path(__file__).resolve().parents[2]
TOOL = REPO / "tools" / "transfer_digests.py"
HOST = "inet01.lab.example"
# Every version venv of `make versions` that exists (or those CMSCP_ANSIBLE_CORE_VERSIONS names: `make
# versions-next` runs 2.20 and 2.21 this way), else the project's own ansible-core.
_NAMED = os.environ.get("CMSCP_ANSIBLE_CORE_VERSIONS", "").split()
PYTHONS = {
    p.parent.name: str(p.parent / "bin" / "python")
    for p in (
        [REPO / ".venv-ansible" / v / ".installed" for v in _NAMED] if _NAMED else sorted((REPO / ".venv-ansible").glob("*/.installed"))
    )
} or {"project": sys.executable}
BINARY = bytes(range(256)) * 3 + b"\xff\xfe not UTF-8"


NAMES = ("UsageData.cab", "it's \u2019odd\u2019 $(whoami) `n %TEMP% \u00e9\u65e5.cab")
# Every (put path, fetch path, data) the tests use: recorded in one run of each version's plugin.
REQUESTS = [
    *[(f"D:\\Transfer\\{n}", f"D:\\Transfer\\{n}", BINARY) for n in NAMES],
    ("D:\\Transfer\\f.txt", "D:\\x", b""),
    ("D:\\Transfer\\f.txt", "D:\\x", b'{"site": "CAS"}\r\n'),
    ("D:\\p", "D:\\Transfer\\big.bin", b""),
    ("D:\\p", "D:\\Transfer", b""),
    ("D:\\No Such Folder\\x.cab", "D:\\Transfer\\missing.cab", b"x"),
    ("D:\\Transfer", "D:\\Transfer\\missing.cab", b"x"),
    ("D:\\Transfer\\t.txt", "D:\\x", b"data"),
]
_RECORDED: dict[str, dict] = {}


def record(python: str, put: str, fetch: str, data: bytes) -> list[tuple[str, bytes]]:
    """The put_file and fetch_file commands of `python`'s ansible-core for these paths and data."""
    if python not in _RECORDED:
        wanted = json.dumps([{"put": p, "fetch": f, "data": base64.b64encode(d).decode()} for p, f, d in REQUESTS])
        proc = subprocess.run(
            [python, str(TOOL), "--record", wanted],
            capture_output=True,
            text=True,
            check=True,
            env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
        )
        _RECORDED[python] = dict(zip(REQUESTS, json.loads(proc.stdout)["recorded"]))
    calls = _RECORDED[python][(put, fetch, data)]
    return [(c["command_line"], base64.b64decode(c["stdin"])) for c in calls]


@pytest.fixture(scope="module", params=sorted(PYTHONS))
def version(request) -> str:
    return PYTHONS[request.param]


@pytest.fixture
def lab() -> tuple[ConfigMgrLab, ScriptDispatcher]:
    lab = ConfigMgrLab()
    lab.model.host(HOST).fs.make_dirs("D:\\Transfer")
    return lab, ScriptDispatcher(lab.engine)


def test_the_digests_are_those_of_every_supported_version(version):
    proc = subprocess.run(
        [version, str(TOOL), "--check"],
        capture_output=True,
        text=True,
        check=False,
        env={"PYTHONDONTWRITEBYTECODE": "1", "PATH": "/usr/bin:/bin"},
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("name", NAMES)
def test_put_then_fetch_carries_the_bytes_exactly(lab, version, name):
    lab_, dispatcher = lab
    path = f"D:\\Transfer\\{name}"
    (put_line, put_stdin), (fetch_line, fetch_stdin) = record(version, path, path, BINARY)
    out = dispatcher.run(HOST, put_line, put_stdin)
    assert out.rc == 0, out.stderr
    assert json.loads(out.stdout) == {"sha1": hashlib.sha1(BINARY).hexdigest()}
    node = lab_.model.host(HOST).fs.node(path)
    assert node is not None and node.name == name and node.data == BINARY  # the name is taken literally
    out = dispatcher.run(HOST, fetch_line, fetch_stdin)
    assert out.rc == 0 and base64.b64decode(out.stdout.strip()) == BINARY


def test_an_empty_file_and_a_text_file(lab, version):
    lab_, dispatcher = lab
    for data in (b"", b'{"site": "CAS"}\r\n'):
        line, stdin = record(version, "D:\\Transfer\\f.txt", "D:\\x", data)[0]
        assert dispatcher.run(HOST, line, stdin).rc == 0
        node = lab_.model.host(HOST).fs.file("D:\\Transfer\\f.txt")
        assert node.data == data and node.content == data.decode()  # UTF-8 stays readable text


def test_fetch_reads_one_chunk_at_the_offset_and_knows_folders(lab, version):
    lab_, dispatcher = lab
    fs = lab_.model.host(HOST).fs
    fs.write_bytes("D:\\Transfer\\big.bin", b"A" * 10 + b"B" * 10)
    line, stdin = record(version, "D:\\p", "D:\\Transfer\\big.bin", b"")[1]
    assert base64.b64decode(dispatcher.run(HOST, line, stdin).stdout) == b"A" * 10 + b"B" * 10
    line, stdin = record(version, "D:\\p", "D:\\Transfer", b"")[1]
    assert dispatcher.run(HOST, line, stdin).stdout.strip() == b"[DIR]"


def test_failures_are_windows_failures(lab, version):
    _, dispatcher = lab
    line, stdin = record(version, "D:\\No Such Folder\\x.cab", "D:\\Transfer\\missing.cab", b"x")[0]
    out = dispatcher.run(HOST, line, stdin)
    assert out.rc == 1 and b"Could not find a part of the path" in out.stderr
    line, stdin = record(version, "D:\\Transfer", "D:\\Transfer\\missing.cab", b"x")[0]
    out = dispatcher.run(HOST, line, stdin)
    assert out.rc == 1 and b"is denied" in out.stderr
    line, stdin = record(version, "D:\\Transfer", "D:\\Transfer\\missing.cab", b"x")[1]
    out = dispatcher.run(HOST, line, stdin)
    assert out.rc == 1 and b"missing.cab does not exist" in out.stderr


def _tampered(line: str, change) -> str:
    script = transfer.decode_command(line)
    assert script is not None
    return transfer.PREFIX + base64.b64encode(change(script).encode("utf-16-le")).decode()


@pytest.mark.parametrize(
    "change",
    [
        lambda s: s + "\nRemove-Item -Recurse C:\\",
        lambda s: s.replace("$", "$global:", 1),
        lambda s: s.replace("$path = '", "$path = 'x' + (whoami) + '", 1),
        lambda s: "Set-StrictMode -Version 1\n" + s,
    ],
)
def test_anything_else_is_not_recognized(lab, version, change):
    lab_, dispatcher = lab
    line, stdin = record(version, "D:\\Transfer\\t.txt", "D:\\x", b"data")[0]
    if change(transfer.decode_command(line)) == transfer.decode_command(line):
        pytest.skip("this version's command has no such text (ansible-core 2.19 carries the path as data)")
    out = dispatcher.run(HOST, _tampered(line, change), stdin)
    assert out.rc == 1 and b"is not recognized" in out.stderr
    assert lab_.model.host(HOST).fs.node("D:\\Transfer\\t.txt") is None


def test_a_2_19_manifest_with_another_action_is_refused(lab):
    lab_, dispatcher = lab
    line, stdin = record(sys.executable, "D:\\Transfer\\t.txt", "D:\\x", b"data")[0]
    if transfer.normalise_inline(transfer.decode_command(line))[1]:
        pytest.skip("the project's ansible-core sends inline scripts")
    parts = stdin.split(b"\n")
    manifest = json.loads(parts[2])
    extra = dict(manifest, actions=[*manifest["actions"], {"name": "other.ps1", "params": {}, "secure_params": {}}])
    ((name, script),) = manifest["scripts"].items()
    code = base64.b64decode(script["script"]) + b"\r\nRemove-Item -Recurse C:\\"
    changed = dict(manifest, scripts={name: {"path": name, "script": base64.b64encode(code).decode()}})
    for forged in (extra, changed):
        parts[2] = json.dumps(forged).encode()
        out = dispatcher.run(HOST, line, b"\n".join(parts))
        assert out.rc == 1 and b"is not recognized" in out.stderr
        assert lab_.model.host(HOST).fs.node("D:\\Transfer\\t.txt") is None


def test_no_transfer_over_psrp(lab):
    """A PSRP pipeline is never taken for the winrm plugin's transfer (cmlab simulates winrm's only)."""
    _, dispatcher = lab
    line, stdin = record(sys.executable, "D:\\Transfer\\t.txt", "D:\\x", b"data")[0]
    out = dispatcher.run(HOST, line, stdin, runspace={})
    assert out.rc == 1
