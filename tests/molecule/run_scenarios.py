"""Run every Molecule scenario (molecule/*/molecule.yml), several at a time.

`molecule test --all` runs scenarios one after the other, and its `--workers` mode shares one
create/destroy between all scenarios, which these scenarios cannot use: each starts its own cmlab
(ephemeral ports, state in its own ephemeral directory), so they can run side by side as separate
`molecule test -s <name>` processes. Prints one line per scenario (result and seconds) and the whole
log of any scenario that failed.

    python tests/molecule/run_scenarios.py [-j JOBS] [scenario ...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def scenarios() -> list[str]:
    return sorted(p.parent.name for p in (REPO / "molecule").glob("*/molecule.yml"))


def run(name: str) -> tuple[str, int, float, str]:
    start = time.monotonic()
    molecule = Path(sys.executable).parent / "molecule"
    proc = subprocess.run(
        [str(molecule), "test", "-s", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=dict(os.environ, ANSIBLE_NOCOLOR="1", NO_COLOR="1"),
        check=False,
    )
    return name, proc.returncode, time.monotonic() - start, proc.stdout + proc.stderr


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "-j",
        "--jobs",
        type=int,
        default=int(os.environ.get("MOLECULE_JOBS", "3")),
        help="scenarios at a time (default 3, or MOLECULE_JOBS)",
    )
    parser.add_argument("names", nargs="*", help="scenarios to run (default: all)")
    args = parser.parse_args(argv)
    names = args.names or scenarios()
    unknown = sorted(set(names) - set(scenarios()))
    if unknown:
        parser.error(f"no such scenario: {', '.join(unknown)} (have: {', '.join(scenarios())})")
    start = time.monotonic()
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        results = list(pool.map(run, names))
    failed = [r for r in results if r[1] != 0]
    for name, rc, _, log in failed:
        print(f"===== molecule test -s {name}: exit code {rc} =====\n{log}")
    for name, rc, seconds, _ in results:
        print(f"molecule {name:<20} {'passed' if rc == 0 else 'FAILED':<7} {seconds:6.1f} s")
    print(
        f"molecule: {len(results) - len(failed)} of {len(results)} scenarios passed in "
        f"{time.monotonic() - start:.1f} s ({args.jobs} at a time)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
