#!/usr/bin/env python3
"""`make demo`: start the lab, converge playbooks/site.yml twice, report the health, show the lab, stop the lab.

The second run must change nothing, and the service connection point must end healthy (SMS_SERVICE_CONNECTOR
OK, its last endpoint check 11410, its last sync ok, as playbooks/health.yml reports it and the lab's state
confirms); the demo fails otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RECAP = re.compile(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def cmlab(*args: str, capture: bool = False) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "cmlab", *args], cwd=REPO, text=True, check=True, stdout=subprocess.PIPE if capture else None
    )
    return proc.stdout or ""


def playbook(name: str, *args: str) -> tuple[int, dict]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"))
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "ansible-playbook"), name, *args], cwd=REPO, env=env, stdout=subprocess.PIPE, text=True
    )
    out = []
    for line in proc.stdout:
        sys.stdout.write(line)
        out.append(line)
    rc = proc.wait()
    recap = {m[0]: {"changed": int(m[1]), "unreachable": int(m[2]), "failed": int(m[3])} for m in RECAP.findall("".join(out))}
    return rc, recap


def summary(state: dict) -> None:
    print("\nLab state after the demo:")
    for name, hierarchy in state["hierarchies"].items():
        print(f"  hierarchy {name}")
        for code, site in sorted(hierarchy["sites"].items()):
            parent = site.get("reporting_site_code") or "-"
            print(f"    site {code} ({site.get('type')}, parent {parent}) on {site.get('server')}")
        for system in hierarchy["site_systems"]:
            roles = ", ".join(f"{role} ({info.get('state', '?')})" for role, info in sorted(system["roles"].items()))
            print(f"    {system['server']} [site {system['site_code']}]: {roles}")


def health_summary(report_dir: Path, state: dict) -> bool:
    """What playbooks/health.yml wrote, checked against the lab's own state: True when the SCP works."""
    healthy = True
    print("\nHealth of the service connection point (playbooks/health.yml):")
    for path in sorted(report_dir.glob("*-scp-health.json")):
        report = json.loads(path.read_text())
        health = report["health"]
        check = health.get("last_check_message") or {}
        sync = health.get("last_sync") or {}
        print(
            f"  {report['hierarchy']}: SCP on {health.get('site_system_server')} "
            f"({health.get('configured_mode')}, runs {health.get('effective_mode')})"
        )
        print(
            f"    SMS_SERVICE_CONNECTOR {health.get('component_status')}, last check "
            f"{check.get('message_id', 'none')} ({health.get('connectivity_check')}), last sync "
            f"{'ok' if sync.get('ok') else 'FAILED' if sync.get('ok') is False else 'unknown'}"
            f"{' at ' + sync['last_success'] if sync.get('last_success') else ''}"
        )
        print(f"    reports: {path.with_suffix('.md').relative_to(REPO)} and .json")
        if not health.get("healthy"):
            healthy = False
            for problem in health.get("problems", []):
                print(f"    problem: {problem}")
    for name, hierarchy in state["hierarchies"].items():
        for runtime in hierarchy.get("scp_runtime", []):
            status = {c["component"]: c["status"] for c in hierarchy.get("components", []) if c["machine"] == runtime["server"]}.get(
                "SMS_SERVICE_CONNECTOR"
            )
            ids = (runtime.get("last_connectivity_check") or {}).get("message_ids")
            sync_ok = (runtime.get("last_sync") or {}).get("ok")
            print(
                f"  the lab's own state ({name}): SMS_SERVICE_CONNECTOR {status}, last check {ids}, last sync "
                f"{'ok' if sync_ok else 'failed'}"
            )
            healthy = healthy and status == "OK" and ids == [11410] and bool(sync_ok)
    return healthy


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--topology", required=True)
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args()
    cmlab("stop", "--state-dir", args.state_dir)  # a lab left over from an earlier run starts afresh
    cmlab("start", "--topology", args.topology, "--state-dir", args.state_dir)
    try:
        print("== First run: converge the lab hierarchy ==", flush=True)
        rc, _ = playbook("playbooks/site.yml")
        if rc:
            print("first run failed", file=sys.stderr)
            return rc
        print("== Second run: nothing may change ==", flush=True)
        rc, recap = playbook("playbooks/site.yml")
        changed = sum(h["changed"] for h in recap.values())
        if rc or changed or not recap:
            print(f"second run was not clean: rc={rc}, changed={changed}", file=sys.stderr)
            return rc or 1
        print("== Health report: read-only ==", flush=True)
        report_dir = Path(args.state_dir).resolve() / "health-reports"
        rc, _ = playbook("playbooks/health.yml", "-e", json.dumps({"health_report_dir": str(report_dir)}))
        state = json.loads(cmlab("state", "--state-dir", args.state_dir, capture=True))
        summary(state)
        print("\nSecond run: changed=0 on every host. The demo is idempotent.")
        if rc or not health_summary(report_dir, state):
            print("\nThe service connection point is placed but does not work (see the problems above).", file=sys.stderr)
            return rc or 1
        print("The service connection point is healthy: SMS_SERVICE_CONNECTOR OK, last endpoint check 11410, last sync ok.")
        return 0
    finally:
        cmlab("stop", "--state-dir", args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
