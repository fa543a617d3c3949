"""python -m cmlab: start / stop / status / state / counters / fault.

`start` daemonises by default: it runs `start --foreground` in a new session and returns once the
listeners are up and <state-dir>/cmlab.json is written. One lab per state dir (a lock file held by
the running lab); `stop` is idempotent.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

DEFAULT_TOPOLOGY = "inventories/lab/cmlab.yml"
DEFAULT_STATE_DIR = ".cmlab/lab"
START_TIMEOUT = 60.0
STOP_TIMEOUT = 20.0


class CliError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# The state directory


def _info_path(state_dir: Path) -> Path:
    return state_dir / "cmlab.json"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a daemon whose parent is gone may linger as a zombie until it is reaped
        with open(f"/proc/{pid}/stat", encoding="ascii") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def read_info(state_dir: Path) -> dict | None:
    """cmlab.json of a running lab; None (and a stale file removed) when it is not running."""
    path = _info_path(state_dir)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int) or not _pid_alive(info["pid"]):
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return info


def _lock(state_dir: Path):
    """The lock a running lab holds on its state dir; None when someone else holds it."""
    state_dir.mkdir(parents=True, exist_ok=True)
    fh = open(state_dir / "cmlab.lock", "a+")
    try:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        fh.close()
        return None
    return fh


def _already_running(state_dir: Path, info: dict | None) -> CliError:
    where = f" (pid {info['pid']}, control {info.get('control_url')})" if info else ""
    return CliError(
        f"cmlab is already running for state dir {state_dir}{where}. Stop it first: python -m cmlab stop --state-dir {state_dir}"
    )


# ---------------------------------------------------------------------------------------------
# Control API client


def control_token(info: dict) -> str:
    """The running lab's control API token (<state-dir>/control-token, mode 0600)."""
    try:
        return Path(info["control_token_file"]).read_text(encoding="utf-8").strip()
    except (KeyError, OSError) as e:
        raise CliError(f"cannot read the control API token: {e}") from None


def _request(info: dict, method: str, path: str, body: Any = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        info["control_url"] + path,
        data=data,
        method=method,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {control_token(info)}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as e:
        detail = e.read().decode(errors="replace")
        raise CliError(f"control API {method} {path}: HTTP {e.code}: {detail.strip()}") from None
    except OSError as e:
        raise CliError(f"control API {info['control_url']} not reachable: {e}") from None


def _running(state_dir: Path) -> dict:
    info = read_info(state_dir)
    if info is None:
        raise CliError(f"cmlab is not running for state dir {state_dir}. Start it: python -m cmlab start --state-dir {state_dir}")
    return info


# ---------------------------------------------------------------------------------------------
# Commands


def cmd_start(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    if args.foreground:
        return _run_foreground(args, state_dir)
    info = read_info(state_dir)
    lock = _lock(state_dir)
    if info is not None or lock is None:
        raise _already_running(state_dir, info)
    lock.close()  # the child takes it
    log_path = state_dir / "cmlab.log"
    command = [
        sys.executable,
        "-m",
        "cmlab",
        "start",
        "--foreground",
        "--topology",
        args.topology,
        "--state-dir",
        str(state_dir),
        "--control-port",
        str(args.control_port),
    ]
    if args.ephemeral_ports:
        command.append("--ephemeral-ports")
    if args.fleet:
        command += ["--fleet", str(args.fleet)]
    if args.cost_model:
        command += ["--cost-model", str(Path(args.cost_model).resolve())]
    if args.winrm_allow:
        command += ["--winrm-allow", ",".join(args.winrm_allow)]
    with open(log_path, "ab") as log_file:
        child = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=log_file,
            start_new_session=True,
            cwd=os.getcwd(),
            env=os.environ.copy(),
        )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        info = read_info(state_dir)
        if info is not None and info.get("pid") == child.pid:
            _print_summary(info, state_dir)
            return 0
        if child.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace").strip().splitlines()[-15:]
            raise CliError("cmlab did not start:\n" + "\n".join(tail))
        time.sleep(0.1)
    child.terminate()
    raise CliError(f"cmlab did not start within {START_TIMEOUT:.0f}s (see {log_path})")


def _print_summary(info: dict, state_dir: Path) -> None:
    print(f"cmlab running (pid {info['pid']}), control API {info['control_url']}")
    for fqdn, ep in sorted(info["hosts"].items()):
        print(f"  {fqdn:<28} {ep['address']:<15} http {ep['http_port']:<6} https {ep['https_port']}")
    print(f"inventory: {info['inventory']}")
    print(f"password:  {info['password_file']}")


def _run_foreground(args: argparse.Namespace, state_dir: Path) -> int:
    from cmlab.control import TOKEN_FILE, ControlServer
    from cmlab.costmodel import CostModel
    from cmlab.lab import Lab, LabError, write_private
    from cmlab.topology import TopologyError, fleet_topology

    lock = _lock(state_dir)
    if lock is None:
        raise _already_running(state_dir, read_info(state_dir))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        cost_model = CostModel.load(args.cost_model) if args.cost_model else None
    except (OSError, ValueError) as e:
        raise CliError(f"--cost-model {args.cost_model}: {e}") from None
    try:
        topology = fleet_topology(args.fleet) if args.fleet else args.topology
        winrm = {f"allow_{name}": True for name in args.winrm_allow or ()}
        lab = Lab(topology, state_dir, ephemeral_ports=args.ephemeral_ports, cost_model=cost_model, winrm=winrm)
        lab.start()
    except (TopologyError, LabError) as e:
        raise CliError(str(e)) from None
    control = ControlServer(lab, port=args.control_port)
    token_file = state_dir / TOKEN_FILE
    write_private(token_file, control.token + "\n")  # before the API answers anything
    control.start()
    lab.write_inventory()
    info = {"pid": os.getpid(), "control_url": control.url, "control_token_file": str(token_file.resolve()), **lab.describe()}
    tmp = _info_path(state_dir).with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(info, fh, indent=2, sort_keys=True)
    os.replace(tmp, _info_path(state_dir))  # written last: its presence means "up"

    def on_signal(signum: int, frame: Any) -> None:
        control.shutdown_requested.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    if sys.stdout.isatty():
        _print_summary(info, state_dir)
    try:
        while not control.shutdown_requested.wait(0.5):
            with lab.model.lock:
                lab.model.scheduler.run_due()
    finally:
        with contextlib.suppress(OSError):
            _info_path(state_dir).unlink()
        control.stop()
        lab.stop()
        lock.close()
        logging.getLogger("cmlab").info("cmlab stopped")
    return 0


def cmd_stop(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    info = read_info(state_dir)
    if info is None:
        print(f"cmlab is not running (state dir {state_dir})")
        return 0
    pid = info["pid"]
    try:
        _request(info, "POST", "/shutdown")
    except CliError:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    if _pid_alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        time.sleep(1)
    if _pid_alive(pid):
        raise CliError(f"cmlab (pid {pid}) did not stop")
    with contextlib.suppress(OSError):
        _info_path(state_dir).unlink()
    print(f"cmlab stopped (pid {pid})")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    state_dir = Path(args.state_dir)
    info = read_info(state_dir)
    if info is None:
        print(f"cmlab is not running (state dir {state_dir})")
        return 3
    _print_summary(info, state_dir)
    return 0


def cmd_state(args: argparse.Namespace) -> int:
    print(json.dumps(_request(_running(Path(args.state_dir)), "GET", "/state"), indent=2, sort_keys=True))
    return 0


def cmd_counters(args: argparse.Namespace) -> int:
    info = _running(Path(args.state_dir))
    result = _request(info, "POST", "/counters/reset", {}) if args.reset else _request(info, "GET", "/counters")
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def _option(text: str) -> tuple[str, Any]:
    if "=" not in text:
        raise CliError(f"--option {text!r}: expected key=value")
    key, value = text.split("=", 1)
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value


def cmd_fault(args: argparse.Namespace) -> int:
    info = _running(Path(args.state_dir))
    if args.fault_command == "add":
        body = {"kind": args.kind, "host": args.host, "count": args.count, "options": dict(_option(o) for o in args.option or [])}
        result = _request(info, "POST", "/faults", body)
    elif args.fault_command == "clear":
        query = "&".join(f"{k}={v}" for k, v in (("kind", args.kind), ("host", args.host)) if v)
        result = _request(info, "DELETE", "/faults" + (f"?{query}" if query else ""))
    else:
        result = _request(info, "GET", "/faults")
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


def _fleet_size(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 1296:
        raise argparse.ArgumentTypeError(f"{text!r}: a number of hierarchies from 1 to 1296")
    return value


def _winrm_switches(text: str) -> list[str]:
    names = [n.strip().lower() for n in text.split(",") if n.strip()]
    unknown = sorted(set(names) - {"basic", "unencrypted", "certificate"})
    if unknown:
        raise argparse.ArgumentTypeError(f"{', '.join(unknown)}: expected basic, unencrypted or certificate")
    return names


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m cmlab", description="The simulated ConfigMgr lab.")
    sub = parser.add_subparsers(dest="command", required=True)

    def with_state_dir(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
        p.add_argument("--state-dir", default=DEFAULT_STATE_DIR, help=f"default: {DEFAULT_STATE_DIR}")
        return p

    start = with_state_dir(sub.add_parser("start", help="start a lab (returns when it is up)"))
    start.add_argument("--topology", default=DEFAULT_TOPOLOGY, help=f"default: {DEFAULT_TOPOLOGY}")
    start.add_argument("--ephemeral-ports", action="store_true", help="let the OS choose every listener's port")
    start.add_argument("--foreground", action="store_true", help="run in this process until stopped")
    start.add_argument("--control-port", type=int, default=0, help="control API port (default: ephemeral)")
    start.add_argument(
        "--fleet",
        type=_fleet_size,
        metavar="N",
        help="instead of --topology: N hierarchies like the default lab (3 hosts each, ephemeral ports)",
    )
    start.add_argument("--cost-model", metavar="FILE", help="YAML/JSON mapping of cost model event -> estimated seconds, over the defaults")
    start.add_argument(
        "--winrm-allow",
        type=_winrm_switches,
        metavar="LIST",
        help="relax Windows' WinRM defaults: any of basic,unencrypted,certificate (comma-separated)",
    )
    start.set_defaults(func=cmd_start)
    with_state_dir(sub.add_parser("stop", help="stop the lab (no error when not running)")).set_defaults(func=cmd_stop)
    with_state_dir(sub.add_parser("status", help="is it running; exit code 3 when not")).set_defaults(func=cmd_status)
    with_state_dir(sub.add_parser("state", help="print the state dump (JSON)")).set_defaults(func=cmd_state)
    counters = with_state_dir(sub.add_parser("counters", help="print per-host counters"))
    counters.add_argument("--reset", action="store_true", help="reset them (prints the zeroed counters)")
    counters.set_defaults(func=cmd_counters)

    fault = sub.add_parser("fault", help="inject or clear faults")
    fault_sub = fault.add_subparsers(dest="fault_command", required=True)
    add = with_state_dir(fault_sub.add_parser("add", help="add a fault"))
    add.add_argument("kind")
    add.add_argument("--host", default="*", help="host FQDN, or * for every host")
    add.add_argument("--count", type=int, default=None, help="fire this many times, then disappear")
    add.add_argument("--option", action="append", metavar="KEY=VALUE", help="fault option (JSON value or text)")
    clear = with_state_dir(fault_sub.add_parser("clear", help="remove faults"))
    clear.add_argument("--kind")
    clear.add_argument("--host")
    with_state_dir(fault_sub.add_parser("list", help="list the active faults"))
    fault.set_defaults(func=cmd_fault)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as e:
        print(f"cmlab: {e}", file=sys.stderr)
        return 1
