#!/usr/bin/env python3
"""`make bench`: converge the lab twice and print, per task, what it cost on the wire and on Windows.

Figures come from cmlab's own counters (docs/cmlab.md): engine invocations, WinRM requests, request
bytes, and the cost model's estimated Windows seconds (docs/cmlab.md "Cost model": estimates, not
measurements); and from the collection's own controller CPU, which the runner records per engine
invocation when CONFIGMGR_SCP_CPU_FILE is set (docs/engine-protocol.md "Measuring"). Targets
(issue 9): an unchanged site.yml at most 10 s of estimated Windows time, the first converge at most
45 s, one poll at most 1.5 s, request bytes per unchanged task at most 19 KiB. This prints figures
against the targets; it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGETS = {"unchanged": 10.0, "first": 45.0, "poll": 1.5, "unchanged_task_kib": 19.0}


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=REPO, check=True, text=True, **kw)


# The lab's listeners serve both of ansible's Windows connections; the generated inventory says winrm.
CONNECTION_VARS = {
    "winrm": [],
    "psrp": ["-e", "ansible_connection=psrp ansible_psrp_protocol=http ansible_psrp_auth=ntlm"],
}


def converge(state_dir: Path, info: dict, playbook: str, label: str, connection: str = "winrm") -> tuple[list[dict], float, list[dict]]:
    counters = state_dir / f"{label}.json"
    cpu = state_dir / f"{label}-cpu.jsonl"
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
        ANSIBLE_CALLBACK_PLUGINS=str(REPO / "tools" / "callback_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="cmlab_counters",
        CMLAB_CONTROL_URL=info["control_url"],
        CMLAB_CONTROL_TOKEN_FILE=info["control_token_file"],
        CMLAB_COUNTERS_FILE=str(counters),
        CONFIGMGR_SCP_CPU_FILE=str(cpu),
    )
    started = time.monotonic()
    run(
        [
            str(Path(sys.executable).parent / "ansible-playbook"),
            "-i",
            str(state_dir / "inventory.yml"),
            playbook,
            *CONNECTION_VARS[connection],
        ],
        env=env,
        stdout=subprocess.DEVNULL,
    )
    cpu_lines = [json.loads(line) for line in cpu.read_text().splitlines()] if cpu.exists() else []
    return json.loads(counters.read_text()), time.monotonic() - started, cpu_lines


def cpu_by_task(cpu_lines: list[dict]) -> dict[str, float]:
    """The collection's controller CPU seconds per task name: each task runs in its own worker process,
    so a second connection's invocations (no task name) belong to the named ones of the same pid."""
    names = {line["pid"]: line["task"] for line in cpu_lines if line["task"]}
    totals: dict[str, float] = defaultdict(float)
    for line in cpu_lines:
        totals[names.get(line["pid"], "?")] += line["plan_seconds"] + line["send_seconds"]
    return totals


def print_table(label: str, rows: list[dict], seconds: float, cpu: dict[str, float]) -> None:
    print(f"\n{label}  ({seconds:.1f} s wall clock)")
    print(
        f"{'task':50} {'changed':>7} {'engine':>6} {'requests':>8} {'req bytes':>10} {'per inv':>8} {'cmd/inv':>8} "
        f"{'cmdlets':>7} {'est. Win s':>10} {'ctl CPU ms':>10}"
    )
    for r in rows:
        inv = r["engine_invocations"]
        per = r["bytes_in"] // inv if inv else 0
        cmd = r["command_bytes_in"] // inv if inv else 0
        task_cpu = cpu.get(r["task"], 0.0)
        print(
            f"{r['task'][:50]:50} {r['changed']!s:>7} {inv:>6} {r['requests']:>8} "
            f"{r['bytes_in']:>10} {per:>8} {cmd:>8} {r['cmdlet_calls']:>7} {r.get('estimated_windows_seconds', 0):>10.1f} "
            f"{task_cpu * 1000 if inv else 0:>10.1f}"
        )
    total = {
        k: sum(r.get(k, 0) for r in rows)
        for k in ("engine_invocations", "requests", "bytes_in", "cmdlet_calls", "estimated_windows_seconds")
    }
    print(
        f"{'total':50} {'':>7} {total['engine_invocations']:>6} {total['requests']:>8} {total['bytes_in']:>10} "
        f"{'':>8} {'':>8} {total['cmdlet_calls']:>7} {total['estimated_windows_seconds']:>10.1f} "
        f"{sum(cpu.values()) * 1000:>10.1f}"
    )
    print_estimate(rows, seconds)


def estimate(rows: list[dict]) -> tuple[float, dict[str, float]]:
    breakdown: dict[str, float] = {}
    for r in rows:
        for key, value in r.items():
            if key.startswith("estimate:"):
                breakdown[key.split(":", 1)[1]] = breakdown.get(key.split(":", 1)[1], 0) + value
    return sum(breakdown.values()), breakdown


def print_estimate(rows: list[dict], seconds: float) -> None:
    """The cost model's estimate of the same run on real Windows, next to cmlab's wall clock."""
    estimated, breakdown = estimate(rows)
    parts = ", ".join(f"{event} {value:.1f}" for event, value in sorted(breakdown.items(), key=lambda kv: -kv[1]) if value)
    print(f"estimated Windows time (cost model, server side, tasks one after another): {estimated:.1f} s vs {seconds:.1f} s against cmlab")
    print(f"  by event (s): {parts}")


def control(info: dict, method: str, path: str) -> dict:
    """cmlab's control API (docs/cmlab.md)."""
    import urllib.request

    token = Path(info["control_token_file"]).read_text().strip()
    request = urllib.request.Request(
        info["control_url"] + path,
        data=b"{}" if method == "POST" else None,
        method=method,
        headers={"Authorization": f"Bearer {token}"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        return json.loads(reply.read())


def journal(info: dict) -> list[tuple[str, str, float]]:
    """Every engine invocation so far: (host, plan step ids, estimated seconds of the invocation itself)."""
    out = []
    for host, counters in control(info, "GET", "/counters").items():
        out += [(host.split(".")[0], plan, seconds) for plan, seconds in zip(counters["plans"], counters.get("plan_seconds", []))]
    return out


def print_invocations(label: str, invocations: list[tuple[str, str, float]]) -> None:
    """Per host, in order: what each engine invocation ran and what it cost on Windows (the invocation itself)."""
    print(f"\n{label}: engine invocations, per host in order (estimated Windows s of the invocation itself)")
    for host, plan, seconds in invocations:
        shown = plan if len(plan) <= 78 else plan[:75] + "..."
        print(f"  {host:8} {seconds:5.2f}  {shown}")


def one_poll(info: dict, password: str) -> tuple[float, dict[str, float]]:
    """The estimated Windows time of one poll of the wait loop: the status read plan once more through a
    task's open WinRS shell (as the winrm plugin keeps its shell for the task) on the SMS Provider."""
    import winrm

    # The collection imports as ansible-playbook imports it (Ansible's collection finder).
    from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

    _AnsibleCollectionFinder(paths=[str(REPO / ".collections")])._install()
    from ansible_collections.configmgr.scp.plugins.plugin_utils import _protocol
    from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Provider, run_plan
    from ansible_collections.configmgr.scp.plugins.plugin_utils._scp_lifecycle import status_plan

    host = "cas.lab.example"
    ep = info["hosts"][host]
    protocol = winrm.Protocol(
        f"http://{ep['address']}:{ep['http_port']}/wsman",
        transport="ntlm",
        username=info["admin_user"],
        password=password,
        ca_trust_path=None,
    )
    shell = protocol.open_shell(codepage=65001)

    class Shell:
        _play_context = type("PlayContext", (), {"remote_addr": host})()

        def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
            command, arguments = (cmd if cmd.startswith(_protocol.COMMAND_PREFIX) else _protocol.encode_command(cmd)).split(" ", 1)
            command_id = protocol.run_command(shell, command, [arguments], console_mode_stdin=False)
            protocol.send_command_input(shell, command_id, in_data, end=True)
            out, err, rc = protocol.get_command_output(shell, command_id)
            protocol.cleanup_command(shell, command_id)
            return {"rc": rc, "stdout": out.decode("utf-8", "replace"), "stderr": err.decode("utf-8", "replace")}

    try:
        run_plan(Shell(), status_plan(), Provider())  # the first poll of a wait: the shell exists
        control(info, "POST", "/counters/reset")
        run_plan(Shell(), status_plan(), Provider())
        counters = control(info, "GET", "/counters")[host]
    finally:
        protocol.close_shell(shell)
    return counters["estimated_windows_seconds"], counters["estimated_windows_breakdown"]


def verdict(value: float, target: float) -> str:
    return "meets" if value <= target else "MISSES"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topology", default=str(REPO / "inventories" / "lab" / "cmlab.yml"))
    parser.add_argument("--playbook", default="playbooks/site.yml")
    parser.add_argument("--cost-model", help="YAML/JSON figures over the cost model's defaults (cmlab start --cost-model)")
    parser.add_argument(
        "--connection",
        choices=sorted(CONNECTION_VARS),
        default="winrm",
        help="ansible's connection for the converges (the demo's inventory uses winrm); the one-poll figure is always a WinRS shell",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="cmlab-bench-") as tmp:
        state_dir = Path(tmp) / "lab"
        extra = ["--cost-model", str(Path(args.cost_model).resolve())] if args.cost_model else []
        run(
            [
                sys.executable,
                "-m",
                "cmlab",
                "start",
                "--topology",
                args.topology,
                "--state-dir",
                str(state_dir),
                "--ephemeral-ports",
                *extra,
            ],
            stdout=subprocess.DEVNULL,
        )
        # The lab's desired state applies to the generated inventory as to inventories/lab/hosts.yml.
        (state_dir / "group_vars").symlink_to(REPO / "inventories" / "lab" / "group_vars")
        try:
            info = json.loads((state_dir / "cmlab.json").read_text())
            first, t1, cpu1 = converge(state_dir, info, args.playbook, "first", args.connection)
            first_invocations = journal(info)
            second, t2, cpu2 = converge(state_dir, info, args.playbook, "second", args.connection)
            poll, poll_breakdown = one_poll(info, (state_dir / "password").read_text().strip())
        finally:
            run([sys.executable, "-m", "cmlab", "stop", "--state-dir", str(state_dir)], stdout=subprocess.DEVNULL)
    print_table("First converge", first, t1, cpu_by_task(cpu1))
    print_invocations("First converge", first_invocations)
    print_table("Second run (unchanged)", second, t2, cpu_by_task(cpu2))

    engine_rows = [r for r in first + second if r["engine_invocations"]]
    worst_cmd = max((r["command_bytes_in"] / r["engine_invocations"] for r in engine_rows), default=0)
    unchanged = [r for r in second if r["engine_invocations"]]
    worst_unchanged = max((r["bytes_in"] for r in unchanged), default=0)
    # The same per host: what one WinRM shell of an unchanged task costs (the SCP task reads the SMS Provider and
    # the SCP server, one engine invocation on each).
    per_host = [(v, r["task"], k.split(":", 1)[1]) for r in unchanged for k, v in r.items() if k.startswith("host_bytes:") and v]
    worst_host = max(per_host, default=(0, "", ""))
    print("\nper inv: all request bytes of the task / its engine invocations, including the NTLM handshake and the")
    print("shell's Create/Delete that a task pays once; cmd/inv: the invocation's own Command, Send, Receive, Signal.")
    print(f"largest request bytes of one engine invocation's command: {worst_cmd / 1024:.1f} KiB")
    print(f"unchanged tasks with exactly one engine invocation: {sum(r['engine_invocations'] == 1 for r in unchanged)}/{len(unchanged)}")
    changed = [r for r in first if r["changed"] and r["engine_invocations"]]
    print(f"changed tasks with exactly two engine invocations: {sum(r['engine_invocations'] == 2 for r in changed)}/{len(changed)}")

    cpu_lines = cpu1 + cpu2
    tasks = {line["pid"] for line in cpu_lines}
    parses = {line["catalog_loaded_by_pid"] for line in cpu_lines if line["catalog_loaded_by_pid"] not in tasks}
    in_tasks = {line["pid"] for line in cpu_lines if line["catalog_loaded_by_pid"] == line["pid"]}
    engine_tasks = [c for c in list(cpu_by_task(cpu1).values()) + list(cpu_by_task(cpu2).values()) if c]
    print(
        f"\ncollection's own controller CPU per engine task (plan checks, payload, packing, result): "
        f"mean {1000 * sum(engine_tasks) / max(len(engine_tasks), 1):.1f} ms, max {1000 * max(engine_tasks, default=0):.1f} ms "
        f"over {len(engine_tasks)} tasks"
    )
    print(f"cmdlet catalog parsed by {len(parses)} process(es) before the workers forked, by {len(in_tasks)} of {len(tasks)} task workers")

    first_s, second_s = estimate(first)[0], estimate(second)[0]
    poll_parts = ", ".join(f"{e} {v:.2f}" for e, v in sorted(poll_breakdown.items(), key=lambda kv: -kv[1]))
    print(f"\nTargets (issue 9; estimated Windows time from the cost model; connection {args.connection}):")
    print(
        f"  unchanged site.yml        {second_s:6.1f} s    target <= {TARGETS['unchanged']:.0f} s      "
        f"{verdict(second_s, TARGETS['unchanged'])}"
    )
    print(f"  first converge            {first_s:6.1f} s    target <= {TARGETS['first']:.0f} s      {verdict(first_s, TARGETS['first'])}")
    print(
        f"  one poll                  {poll:6.2f} s    target <= {TARGETS['poll']} s     {verdict(poll, TARGETS['poll'])}   ({poll_parts})"
    )
    print(
        f"  request bytes per unchanged task, largest  {worst_unchanged / 1024:5.1f} KiB  target <= "
        f"{TARGETS['unchanged_task_kib']:.0f} KiB  {verdict(worst_unchanged / 1024, TARGETS['unchanged_task_kib'])}"
    )
    print(
        f"  (per host of a task: largest {worst_host[0] / 1024:.1f} KiB, {worst_host[2]} in "
        f"'{worst_host[1][:60]}'; {sum(v <= TARGETS['unchanged_task_kib'] * 1024 for v, _t, _h in per_host)}/{len(per_host)} "
        f"task-host pairs of the unchanged run within {TARGETS['unchanged_task_kib']:.0f} KiB)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
