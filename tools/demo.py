#!/usr/bin/env python3
"""`make demo`: start the lab, converge playbooks/site.yml twice, show the lab, stop the lab.

The second run must change nothing; the demo fails if it does.
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
    proc = subprocess.run([sys.executable, "-m", "cmlab", *args], cwd=REPO, text=True, check=True,
                          stdout=subprocess.PIPE if capture else None)
    return proc.stdout or ""


def playbook(name: str) -> tuple[int, dict]:
    env = dict(os.environ, ANSIBLE_CONFIG=str(REPO / "ansible.cfg"), ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"))
    proc = subprocess.Popen([str(Path(sys.executable).parent / "ansible-playbook"), name], cwd=REPO, env=env,
                            stdout=subprocess.PIPE, text=True)
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
        summary(json.loads(cmlab("state", "--state-dir", args.state_dir, capture=True)))
        print("\nSecond run: changed=0 on every host. The demo is idempotent.")
        return 0
    finally:
        cmlab("stop", "--state-dir", args.state_dir)


if __name__ == "__main__":
    sys.exit(main())
