#!/usr/bin/env python3
"""`make bench`: converge the lab twice and print, per task, what it cost on the wire.

Figures come from cmlab's own counters (docs/cmlab.md): engine invocations, WinRM requests, request
bytes, and the cost model's estimated Windows seconds (docs/cmlab.md "Cost model": estimates, not
measurements). Targets (issue 2): one engine invocation per unchanged task, two per changed task,
request bytes per invocation under 16 KiB. This prints figures; it does not assert timings.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=REPO, check=True, text=True, **kw)


def converge(state_dir: Path, info: dict, playbook: str, label: str) -> tuple[list[dict], float]:
    counters = state_dir / f"{label}.json"
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
               ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tools" / "callback_plugins"), ANSIBLE_CALLBACKS_ENABLED="cmlab_counters",
               CMLAB_CONTROL_URL=info["control_url"], CMLAB_CONTROL_TOKEN_FILE=info["control_token_file"],
               CMLAB_COUNTERS_FILE=str(counters))
    started = time.monotonic()
    run([str(Path(sys.executable).parent / "ansible-playbook"), "-i", str(state_dir / "inventory.yml"), playbook],
        env=env, stdout=subprocess.DEVNULL)
    return json.loads(counters.read_text()), time.monotonic() - started


def print_table(label: str, rows: list[dict], seconds: float) -> None:
    print(f"\n{label}  ({seconds:.1f} s wall clock)")
    print(f"{'task':50} {'changed':>7} {'engine':>6} {'requests':>8} {'req bytes':>10} {'per inv':>8} {'cmd/inv':>8} "
          f"{'cmdlets':>7} {'est. Win s':>10}")
    for r in rows:
        inv = r["engine_invocations"]
        per = r["bytes_in"] // inv if inv else 0
        cmd = r["command_bytes_in"] // inv if inv else 0
        print(f"{r['task'][:50]:50} {r['changed']!s:>7} {inv:>6} {r['requests']:>8} "
              f"{r['bytes_in']:>10} {per:>8} {cmd:>8} {r['cmdlet_calls']:>7} {r.get('estimated_windows_seconds', 0):>10.1f}")
    total = {k: sum(r.get(k, 0) for r in rows)
             for k in ("engine_invocations", "requests", "bytes_in", "cmdlet_calls", "estimated_windows_seconds")}
    print(f"{'total':50} {'':>7} {total['engine_invocations']:>6} {total['requests']:>8} {total['bytes_in']:>10} "
          f"{'':>8} {'':>8} {total['cmdlet_calls']:>7} {total['estimated_windows_seconds']:>10.1f}")
    print_estimate(rows, seconds)


def print_estimate(rows: list[dict], seconds: float) -> None:
    """The cost model's estimate of the same run on real Windows, next to cmlab's wall clock."""
    breakdown: dict[str, float] = {}
    for r in rows:
        for key, value in r.items():
            if key.startswith("estimate:"):
                breakdown[key.split(":", 1)[1]] = breakdown.get(key.split(":", 1)[1], 0) + value
    estimated = sum(breakdown.values())
    parts = ", ".join(f"{event} {value:.1f}" for event, value in sorted(breakdown.items(), key=lambda kv: -kv[1]) if value)
    print(f"estimated Windows time (cost model, server side, tasks one after another): {estimated:.1f} s "
          f"vs {seconds:.1f} s against cmlab")
    print(f"  by event (s): {parts}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", default=str(REPO / "inventories" / "lab" / "cmlab.yml"))
    parser.add_argument("--playbook", default="playbooks/site.yml")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cmlab-bench-") as tmp:
        state_dir = Path(tmp) / "lab"
        run([sys.executable, "-m", "cmlab", "start", "--topology", args.topology, "--state-dir", str(state_dir),
             "--ephemeral-ports"], stdout=subprocess.DEVNULL)
        # The lab's desired state applies to the generated inventory as to inventories/lab/hosts.yml.
        (state_dir / "group_vars").symlink_to(REPO / "inventories" / "lab" / "group_vars")
        try:
            info = json.loads((state_dir / "cmlab.json").read_text())
            first, t1 = converge(state_dir, info, args.playbook, "first")
            second, t2 = converge(state_dir, info, args.playbook, "second")
        finally:
            run([sys.executable, "-m", "cmlab", "stop", "--state-dir", str(state_dir)], stdout=subprocess.DEVNULL)
    print_table("First converge", first, t1)
    print_table("Second run (unchanged)", second, t2)
    engine_rows = [r for r in first + second if r["engine_invocations"]]
    worst = max((r["bytes_in"] / r["engine_invocations"] for r in engine_rows), default=0)
    worst_cmd = max((r["command_bytes_in"] / r["engine_invocations"] for r in engine_rows), default=0)
    print("\nper inv: all request bytes of the task / its engine invocations, including the NTLM handshake and the")
    print("shell's Create/Delete that a task pays once; cmd/inv: the invocation's own Command, Send, Receive, Signal.")
    print(f"largest request bytes per engine invocation: {worst_cmd / 1024:.1f} KiB for the command itself, "
          f"{worst / 1024:.1f} KiB with the task's connection set-up (target < 16 KiB)")
    unchanged = [r for r in second if r["engine_invocations"]]
    print("unchanged tasks with exactly one engine invocation: "
          f"{sum(r['engine_invocations'] == 1 for r in unchanged)}/{len(unchanged)}")
    changed = [r for r in first if r["changed"] and r["engine_invocations"]]
    print(f"changed tasks with exactly two engine invocations: {sum(r['engine_invocations'] == 2 for r in changed)}/{len(changed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
