#!/usr/bin/env python3
"""`make bench-fleet`: how far a fleet lab goes on this machine.

1. Concurrent shells: SHELLS pywinrm clients (NTLM with message encryption, as ansible connects),
   spread over the fleet's hosts, each opens a WinRM shell; once every shell is open, each runs the
   engine bootstrap with a small read plan (a ConfigMgr read on the providers, a Windows read
   elsewhere). Prints wall time, errors, shells per host.
2. Fleet converge: playbooks/site.yml over every hierarchy at once (the fleet inventory gives each
   provider its own SCP server; the lab's group_vars supply the rest), then the unchanged second
   run. Prints wall time, the recap, and the cost model's estimated Windows time (docs/cmlab.md
   "Cost model": estimates, not measurements).

Every wait is bounded; it prints figures and asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import winrm  # noqa: E402

from cmlab.engine import bootstrap_module  # noqa: E402
from cmlab.scripts import ENGINE_FILE  # noqa: E402

BOOTSTRAP = bootstrap_module()
NO_PROVIDER = {"site_code": None, "server": None, "module": None, "username": None, "password_secret": None}
RECAP = re.compile(r"^(\S+)\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def cli(*args: str) -> None:
    subprocess.run([sys.executable, "-m", "cmlab", *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def control(info: dict, method: str, path: str) -> dict:
    token = Path(info["control_token_file"]).read_text(encoding="utf-8").strip()
    request = urllib.request.Request(
        info["control_url"] + path, data=b"{}" if method == "POST" else None, method=method, headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def read_stdin(cmdlet: str, select: dict, cm: bool) -> bytes:
    payload = {
        "protocol": 1,
        "provider": NO_PROVIDER if cm else None,
        "secrets": {},
        "steps": [
            {
                "id": "read",
                "cmdlet": cmdlet,
                "provider": "cmsite" if cm else None,
                "params": {} if cm else {"Name": "WinRM"},
                "select": select,
                "on_error": "stop",
            }
        ],
    }
    return BOOTSTRAP.build_stdin(ENGINE_FILE.read_text(encoding="utf-8"), json.dumps(payload))


# ---------------------------------------------------------------------------------------------


def concurrent_shells(info: dict, password: str, shells: int, budget: float) -> None:
    hosts = sorted(info["hosts"])
    stdins = {True: read_stdin("Get-CMSite", {"SiteCode": None}, True), False: read_stdin("Get-Service", {"Status": None}, False)}
    command, arguments = BOOTSTRAP.BOOTSTRAP_COMMAND.split(" ", 1)
    barrier = threading.Barrier(shells, timeout=budget)
    opened: list[float] = []

    def one(index: int) -> None:
        host = hosts[index % len(hosts)]
        ep = info["hosts"][host]
        p = winrm.Protocol(
            f"http://{ep['address']}:{ep['http_port']}/wsman",
            transport="ntlm",
            username=info["admin_user"],
            password=password,
            ca_trust_path=None,
            operation_timeout_sec=20,
            read_timeout_sec=30,
        )
        shell = p.open_shell(codepage=65001)
        try:
            opened.append(time.monotonic())
            barrier.wait()
            command_id = p.run_command(shell, command, [arguments], console_mode_stdin=False)
            p.send_command_input(shell, command_id, stdins[host.startswith("cas")], end=True)
            out, err, rc = p.get_command_output(shell, command_id)
            p.cleanup_command(shell, command_id)
        finally:
            p.close_shell(shell)
        if rc != 0 or b'"ok":true' not in out:
            raise RuntimeError(f"{host}: rc {rc}: {err[:200]!r} {out[:200]!r}")

    control(info, "POST", "/counters/reset")
    started = time.monotonic()
    errors: Counter[str] = Counter()
    with ThreadPoolExecutor(max_workers=shells) as pool:
        for future in [pool.submit(one, i) for i in range(shells)]:
            try:
                future.result(timeout=budget)
            except Exception as e:  # noqa: BLE001 - counted and printed
                errors[type(e).__name__ + ": " + str(e)[:120]] += 1
    elapsed = time.monotonic() - started
    counters = control(info, "GET", "/counters")
    invocations = sum(c["engine_invocations"] for c in counters.values())
    print(
        f"\nConcurrent shells: {shells} shells on {len(hosts)} hosts (up to {-(-shells // len(hosts))} per host), "
        f"NTLM with message encryption"
    )
    print(
        f"  all open after {max(opened, default=started) - started:.1f} s; done in {elapsed:.1f} s wall clock; "
        f"{invocations} engine invocations; {sum(errors.values())} errors"
    )
    for message, count in errors.most_common(5):
        print(f"  {count} x {message}")


# ---------------------------------------------------------------------------------------------


def converge(state_dir: Path, info: dict, forks: int, label: str, timeout: float) -> None:
    control(info, "POST", "/counters/reset")
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
        ANSIBLE_FORKS=str(forks),
        ANSIBLE_NOCOLOR="1",
    )
    started = time.monotonic()
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(state_dir / "inventory.yml"), "playbooks/site.yml"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    elapsed = time.monotonic() - started
    recap = {m[0]: [int(x) for x in m[1:]] for m in RECAP.findall(proc.stdout)}
    counters = control(info, "GET", "/counters")
    per_hierarchy: Counter[str] = Counter()
    breakdown: Counter[str] = Counter()
    for host, c in counters.items():
        per_hierarchy[re.sub(r"\D", "", host.split(".")[0])] += c["estimated_windows_seconds"]
        breakdown.update(c["estimated_windows_breakdown"])
    print(f"\n{label}: {len(recap)} hierarchies, forks {forks}, rc {proc.returncode}, {elapsed:.1f} s wall clock")
    ok, changed, unreachable, failed = (sum(r[i] for r in recap.values()) for i in range(4))
    requests = sum(c["requests"] for c in counters.values())
    invocations = sum(c["engine_invocations"] for c in counters.values())
    print(
        f"  ok {ok}, changed {changed}, unreachable {unreachable}, failed {failed}; "
        f"WinRM requests {requests}, engine invocations {invocations}"
    )
    total = sum(per_hierarchy.values())
    slowest = max(per_hierarchy.values(), default=0)
    print(
        f"  estimated Windows time: {total:.0f} s of server work in all; the slowest hierarchy {slowest:.1f} s "
        f"(hierarchies converge in parallel, so a real fleet run takes at least that)"
    )
    print("  by event (s): " + ", ".join(f"{k} {v:.0f}" for k, v in breakdown.most_common() if v))
    if proc.returncode != 0:
        print("  " + "\n  ".join(proc.stdout.strip().splitlines()[-15:]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hierarchies", type=int, default=10, help="fleet size (3 hosts each); default 10")
    parser.add_argument("--shells", type=int, default=300, help="concurrent shells; default 300")
    parser.add_argument("--forks", type=int, default=0, help="ansible forks for the converge; default: one per hierarchy")
    parser.add_argument("--no-converge", action="store_true", help="only the concurrent shells")
    parser.add_argument("--budget", type=float, default=300, help="seconds any one phase may take; default 300")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cmlab-fleet-") as tmp:
        state_dir = Path(tmp) / "lab"
        started = time.monotonic()
        cli("start", "--fleet", str(args.hierarchies), "--state-dir", str(state_dir), "--ephemeral-ports")
        print(
            f"fleet of {args.hierarchies} hierarchies ({3 * args.hierarchies} hosts, "
            f"{6 * args.hierarchies} listeners) up in {time.monotonic() - started:.1f} s"
        )
        # The lab's desired state (poll often, firewall profile...); the fleet inventory overrides
        # the SCP server and the installing account per provider.
        (state_dir / "group_vars").symlink_to(REPO / "inventories" / "lab" / "group_vars")
        try:
            info = json.loads((state_dir / "cmlab.json").read_text())
            password = (state_dir / "password").read_text().strip()
            concurrent_shells(info, password, args.shells, args.budget)
            if not args.no_converge:
                forks = args.forks or args.hierarchies
                converge(state_dir, info, forks, "First converge", args.budget)
                converge(state_dir, info, forks, "Second run (unchanged)", args.budget)
        finally:
            cli("stop", "--state-dir", str(state_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
