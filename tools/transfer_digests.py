"""The digests cmlab recognises Ansible's WinRM file transfer by (cmlab/transfer.py, DIGESTS).

Run it with the Python of an ansible-core version (the `make versions` venvs):

    .venv-ansible/2.16.19/bin/python tools/transfer_digests.py        # prints JSON: digest -> kind
    .venv-ansible/2.16.19/bin/python tools/transfer_digests.py --record '[{"put": "C:\\x.txt", "fetch": "C:\\y", "data": "<base64>"}]'

It drives that version's own winrm connection plugin (put_file and fetch_file) with its WinRM
exchange replaced by a recorder, so the scripts are exactly what the plugin sends, and hashes them
with cmlab.transfer's normalisation. `--check` exits 1 when cmlab.transfer.DIGESTS lacks one.
Nothing is sent anywhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cmlab import transfer  # standard library only


def record(put_path: str = "C:\\Windows\\Temp\\it's\u2019 here.txt", fetch_path: str = "C:\\x\\y.cab", payload: bytes = b"some data\r\n"):
    """(command line, stdin) of one put_file of `payload` and one fetch_file of this ansible-core."""
    from ansible.playbook.play_context import PlayContext
    from ansible.plugins.loader import connection_loader

    connection = connection_loader.get("winrm", PlayContext(), None)
    calls: list[tuple[str, bytes]] = []

    def fake_exec(command, args=(), from_exec=False, stdin_iterator=None):
        line = " ".join([command, *[a.decode() if isinstance(a, bytes) else a for a in args]])
        data = b"".join(chunk for chunk, _ in stdin_iterator) if stdin_iterator else b""
        calls.append((line, data))
        if "put" in fake_exec.mode:
            return 0, json.dumps({"sha1": hashlib.sha1(payload).hexdigest()}).encode(), b""
        return 0, b"", b""

    connection._winrm_exec = fake_exec
    connection._connected = True  # ensure_connect: no connection is ever opened
    connection._winrm_host = "recorder"
    with tempfile.TemporaryDirectory() as tmp:
        local = os.path.join(tmp, "in.txt")
        with open(local, "wb") as fh:
            fh.write(payload)
        fake_exec.mode = "put"
        connection.put_file(local, put_path)
        fake_exec.mode = "fetch"
        connection.fetch_file(fetch_path, os.path.join(tmp, "out.txt"))
    return calls


def digests() -> dict[str, str]:
    found: dict[str, str] = {}
    (put_line, put_stdin), (fetch_line, fetch_stdin) = record()
    for line, stdin, kind in ((put_line, put_stdin, "put"), (fetch_line, fetch_stdin, "fetch")):
        script = transfer.decode_command(line)
        if script is None:
            raise SystemExit(f"{kind}: not an encoded command: {line[:80]}")
        normalised, values = transfer.normalise_inline(script)
        if values:
            found[transfer.digest(normalised)] = f"inline-{kind}"
            continue
        found[transfer.digest(script)] = "bootstrap-wrapper"
        lines = transfer._split_lines(stdin)
        wrapper, manifest = json.loads(lines[0]), json.loads(lines[2])
        found[transfer.digest(wrapper["script"])] = "exec-wrapper"
        for script_info in manifest["scripts"].values():
            found[transfer.digest(base64.b64decode(script_info["script"]))] = f"bootstrap-{kind}"
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 if cmlab.transfer.DIGESTS lacks a digest")
    parser.add_argument(
        "--record",
        metavar="JSON",
        help="print the put_file and fetch_file commands for each of these paths and data (base64) (tests/cmlab/test_transfer.py)",
    )
    args = parser.parse_args()
    from ansible.release import __version__

    if args.record:
        recorded = []
        for wanted in json.loads(args.record):
            calls = record(wanted["put"], wanted["fetch"], base64.b64decode(wanted["data"]))
            recorded.append([{"command_line": line, "stdin": base64.b64encode(stdin).decode()} for line, stdin in calls])
        print(json.dumps({"ansible_core": __version__, "recorded": recorded}))
        return 0
    found = digests()
    print(json.dumps({"ansible_core": __version__, "digests": found}, indent=2, sort_keys=True))
    missing = {d: k for d, k in found.items() if transfer.DIGESTS.get(d) != k}
    if args.check and missing:
        print(f"cmlab.transfer.DIGESTS lacks: {missing}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
