"""The fault matrix (issue 8 "Done when", issue 12): each fault cmlab can inject strikes one step of site.yml,
move.yml or remove.yml - real ansible-playbook, real WinRM, a lab whose SMS Provider accepts a second SCP - and
every case asserts:

- never two SCPs, sampled from the lab's state throughout the faulted run and the reruns;
- every failure in words: no raw transport text in any task message, and a message that says what is known
  ("could not be reached" ... "Nothing was changed" / "Already done" / "Unknown whether" / "Not done");
- a missing SCP always said: when a site or move run fails and the site control has no SCP, the message says so;
- a plain rerun converges (the placement the playbook wants, installed), and the run after it changes nothing.

A step is one engine invocation: a plan on one host. The steps of each playbook are the distinct plans of a clean
run, in the order the lab's plans journal lists them per host (`STEPS`; a test keeps that list equal to what the
playbooks really run). A fault strikes the N-th command of its host (cmlab/faults.py `at_command`): `before` it
starts (nothing ran) or `after` it ran (its result is lost).

Two sizes, because each case is three ansible-playbook runs:
- `make test` (default): every step once and every fault at several steps - each step gets the next fault of
  `VARIANTS` in turn, plus the interruptions of a move that matter most (`EXTRA`) and an install failure per
  playbook. About 45 cases.
- CMSCP_FAULT_MATRIX=full (`make fault-matrix`): every fault at every step (several hundred cases).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import socket
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import LAB_TOPOLOGY, REPO, PlaybookRun, RunningLab
from labstate import components_on, role_state, scp_roles

PLAYBOOKS = {
    "site": (REPO / "playbooks" / "site.yml", {}),
    "move": (REPO / "playbooks" / "move.yml", {"service_connection_point_server": "cas.lab.example",
                                                "service_connection_point_host": "cas.lab.example"}),
    "remove": (REPO / "playbooks" / "remove.yml", {}),
}
WANTED = {"site": ("CAS", "scp01.lab.example"), "move": ("CAS", "cas.lab.example"), "remove": None}
# The read timeout is short so that a `delay` fault (4 s) outlasts it, as a hung server would.
TIMEOUTS = {"ansible_winrm_read_timeout_sec": 3, "ansible_winrm_operation_timeout_sec": 2}
DELAY = 4

# The distinct plans of each playbook, per host, in the order they first run (a signature is the plan's step ids,
# without the lease renewal every leased plan begins with; `#2` is the second plan of that signature there).
STEPS = {
    "site": [
        ("scp01", "members"), ("scp01", "add_0+after"),                                  # local_group_member
        ("cas", "sites+roles"), ("cas", "new+roles"),                                    # site_system_server
        ("scp01", "rule+ports"), ("scp01", "new+after_rule+after_ports"),                # firewall_rule
        ("cas", "sites+roles+components+tracing+sitecomp"),                              # the SCP: read
        ("scp01", "identity+members"),                                                   # prerequisites
        ("cas", "lease"),                                                                # take the move lease
        ("ps1", "tracing+sitecomp"),                                                     # PS1's sitecomp.log, before
        ("cas", "remove_0"),
        ("cas", "components"), ("ps1", "tracing+sitecomp#2"),                            # the uninstall watched
        ("cas", "add_0+roles"),
        ("cas", "components+tracing+sitecomp"),                                          # the install watched
        ("cas", "lease_release+lease_unlock"),
        ("cas", "sites+roles#2"),                                                        # the role reads back
    ],
    "move": [
        ("cas", "sites+roles"),                                                          # where it is now
        ("cas", "members"), ("cas", "add_0+after"),
        ("cas", "sites+roles#2"),
        ("cas", "rule+ports"), ("cas", "new+after_rule+after_ports"),
        ("cas", "sites+roles+components+tracing+sitecomp"),
        ("cas", "lease"),
        ("cas", "remove_0"),
        ("cas", "components+tracing+sitecomp"),                                          # uninstall, then install
        ("cas", "add_0+roles"),
        ("cas", "lease_release+lease_unlock"),
        ("cas", "sites+roles#3"),
    ],
    "remove": [
        ("cas", "sites+roles+components+tracing+sitecomp"),
        ("cas", "lease"),
        ("cas", "remove_0+roles"),
        ("cas", "components+tracing+sitecomp"),
        ("cas", "lease_release+lease_unlock"),
        ("cas", "sites+roles"),
    ],
}
VARIANTS = [("host_down", "before"), ("wsman_fault", "after"), ("http_500", "before"), ("delay", "after"),
            ("bad_credentials", "before"), ("host_down", "after"), ("wsman_fault", "before"), ("http_500", "after"),
            ("provider_unavailable", "before"), ("delay", "before")]
# The interruptions of a move between the removal of the old SCP and the addition of the new one (issue 8 item 9).
EXTRA = [("site", "cas", "remove_0", "host_down", "after"), ("site", "cas", "add_0+roles", "wsman_fault", "after"),
         ("site", "cas", "components", "http_500", "after"), ("move", "cas", "remove_0", "delay", "after"),
         ("move", "cas", "add_0+roles", "host_down", "before")]
RAW = re.compile(r"Connection aborted|ConnectionResetError|RemoteDisconnected|Bad HTTP response|wsmanfault_code|"
                 r"Traceback|HTTPConnectionPool|Max retries exceeded|WinRMTransportError|WSManFaultError", re.I)
FULL = os.environ.get("CMSCP_FAULT_MATRIX") == "full"


def cases() -> list:
    out = []
    for offset, (playbook, steps) in enumerate(STEPS.items()):
        for index, (host, step) in enumerate(steps):
            chosen = VARIANTS if FULL else [VARIANTS[(index + 3 * offset) % len(VARIANTS)]]
            out += [(playbook, host, step, kind, phase) for kind, phase in chosen]
    out += [c for c in EXTRA if c not in out]
    out += [(playbook, target, "install", "install_failure", "") for playbook, target in
            (("site", "scp01"), ("move", "cas"), ("remove", "cas"))]
    return out


def case_id(case) -> str:
    playbook, host, step, kind, phase = case
    short = {"sites+roles+components+tracing+sitecomp": "scp-read", "lease_release+lease_unlock": "lease-release",
             "components+tracing+sitecomp": "poll", "tracing+sitecomp": "log"}
    name = short.get(step.split("#")[0], step.split("#")[0]) + (f"#{step.split('#')[1]}" if "#" in step else "")
    return f"{playbook}-{host}-{name}-{kind}{'-' + phase if phase else ''}"


# -- the labs ------------------------------------------------------------------------------------------------

def topology(playbook: str) -> dict:
    """The start state of each playbook, a lab that installs fast and lets a second SCP through."""
    top = yaml.safe_load(LAB_TOPOLOGY.read_text())
    hierarchy = top["hierarchies"]["lab"]
    hierarchy["refuse_second_scp"] = False
    top["configmgr"].update(install_delay_seconds=0.5, uninstall_delay_seconds=0.5, install_retry_seconds=2)
    if playbook in ("move", "remove"):          # after site.yml: the SCP on scp01 at the CAS
        hierarchy["site_systems"] = [{"site": "CAS", "server": "scp01.lab.example",
                                      "roles": [{"name": "SMS Dmp Connector", "mode": "Online"}]}]
        top["hosts"]["scp01.lab.example"]["local_group_members"] = {"Administrators": ["LAB\\CAS$"]}
    return top


def start_lab(tmp_path: Path, playbook: str) -> RunningLab:
    path = tmp_path / f"{playbook}.yml"
    path.write_text(yaml.safe_dump(topology(playbook), sort_keys=False))
    return RunningLab(tmp_path / "lab", path)


def fqdn(short: str) -> str:
    return f"{short}.lab.example"


def plans_by_host(lab: RunningLab) -> dict[str, list[str]]:
    out = {}
    for host, counters in lab.counters().items():
        out[host.split(".")[0]] = [re.sub(r"^lease_renew\+", "", p) for p in counters.get("plans", [])]
        out[host.split(".")[0]] = ["lease" if p.startswith("lease_key+") else p for p in out[host.split(".")[0]]]
    return out


def command_number(journal: dict[str, list[str]], host: str, step: str) -> int:
    """The N-th command on `host` that is `step` (`sig#k`: its k-th occurrence)."""
    signature, _, occurrence = step.partition("#")
    seen = 0
    for number, plan in enumerate(journal.get(host, []), start=1):
        if plan == signature:
            seen += 1
            if seen == int(occurrence or 1):
                return number
    raise AssertionError(f"{host} never ran {step} in a clean run of the playbook: {journal.get(host)}")


def fingerprint() -> str:
    digest = hashlib.sha256()
    for folder in ("plugins", "playbooks", "roles", "inventories/lab"):
        for path in sorted((REPO / folder).rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                digest.update(path.relative_to(REPO).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@pytest.fixture(scope="session")
def journals(request, tmp_path_factory) -> dict:
    """What a clean run of each playbook runs, per host (cached per content of the collection and the lab)."""
    key = f"configmgr_scp/fault_matrix/{fingerprint()}"
    cache = getattr(request.config, "cache", None)
    cached = cache.get(key, None) if cache is not None else None
    if cached:
        return cached
    found = {}
    for playbook, (path, extra) in PLAYBOOKS.items():
        lab = start_lab(tmp_path_factory.mktemp(f"clean-{playbook}"), playbook)
        try:
            run = lab.playbook(path, extra_vars={**extra, **TIMEOUTS})
            assert run.rc == 0, run.stdout
            found[playbook] = plans_by_host(lab)
        finally:
            lab.stop()
    if cache is not None:
        cache.set(key, found)
    return found


def test_the_matrix_names_every_step_the_playbooks_run(journals):
    for playbook, journal in journals.items():
        distinct = {(host, plan) for host, plans in journal.items() for plan in plans}
        listed = {(host, step.split("#")[0]) for host, step in STEPS[playbook]}
        assert listed == distinct, f"{playbook}: steps not in the matrix {distinct - listed}, gone {listed - distinct}"
        for host, step in STEPS[playbook]:
            command_number(journal, host, step)


# -- the cases ----------------------------------------------------------------------------------------------

class Sampler:
    """Reads the lab's state while runs go on: the most servers with an SCP at any one time."""

    def __init__(self, lab: RunningLab):
        self.lab, self.most, self.seen = lab, 0, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.check()
            self._stop.wait(0.5)

    def check(self) -> None:
        servers = scp_servers(self.lab.state())
        if len(servers) > self.most:
            self.most, self.seen = len(servers), sorted(servers)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.check()


def scp_servers(state: dict) -> set[str]:
    servers = {server for _site, server in scp_roles(state)}
    for host in state["hosts"]:
        if any(c.startswith("SMS_DMP") or c == "SMS_SERVICE_CONNECTOR" for c in components_on(state, host)):
            servers.add(host)
    return servers


def listening(lab: RunningLab) -> None:
    """After host_down is cleared, every listener accepts again within the lab's fault poll (0.5 s)."""
    deadline = time.monotonic() + 10
    for info in lab.info["hosts"].values():
        while True:
            try:
                socket.create_connection((info["address"], info["http_port"]), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "a listener did not come back"
                time.sleep(0.2)


def twice(lab: RunningLab, playbook: Path) -> Path:
    """One ansible-playbook run of the playbook, then a marker, then the playbook again."""
    return lab.write_playbook("twice.yml", yaml.safe_dump([
        {"import_playbook": str(playbook)},
        {"name": "Matrix", "hosts": "localhost", "gather_facts": False,
         "tasks": [{"name": "matrix second run", "ansible.builtin.debug": {"msg": "again"}}]},
        {"import_playbook": str(playbook)},
    ], sort_keys=False))


def split(run: PlaybookRun) -> tuple[list[dict], list[dict]]:
    marker = next(i for i, r in enumerate(run.results) if r["task"] == "matrix second run")
    return run.results[:marker], run.results[marker + 1:]


def assert_words(results: list[dict]) -> None:
    """Every failure in words: no raw transport text, and a transport failure says what is known."""
    for r in results:
        if r["status"] not in ("failed", "unreachable"):
            continue
        msg = str(r["result"].get("msg", ""))
        assert not RAW.search(msg), f"{r['task']}: raw transport text in {msg!r}"
        if "could not be reached" in msg:
            assert re.search(r"Nothing was changed|Already done|Unknown whether|Not done", msg), msg
            assert "Step: " in msg, msg


@pytest.mark.parametrize("case", cases(), ids=case_id)
def test_fault(tmp_path, journals, case):
    playbook, host, step, kind, phase = case
    path, extra = PLAYBOOKS[playbook]
    lab = start_lab(tmp_path, playbook)
    try:
        options = {"seconds": DELAY} if kind == "delay" else {}
        if kind == "install_failure":
            lab.add_fault(kind, host=fqdn(host))
        else:
            number = command_number(journals[playbook], host, step)
            lab.add_fault(kind, host=fqdn(host), at_command=number, phase=phase, **options)
        sampler = Sampler(lab)
        try:
            faulted = lab.playbook(path, extra_vars={**extra, **TIMEOUTS})
            assert_words(faulted.results)
            failures = [r for r in faulted.results if r["status"] in ("failed", "unreachable")]
            state = lab.state()
            if failures and WANTED[playbook] and not scp_roles(state):
                # A move cut between the removal and the addition: the message says the hierarchy has no SCP.
                assert any("no service connection point" in str(r["result"].get("msg")) for r in failures), \
                    [r["result"].get("msg") for r in failures]

            lab.clear_faults()
            listening(lab)
            rerun = lab.playbook(twice(lab, path), extra_vars={**extra, **TIMEOUTS})
            converge, again = split(rerun)
            assert rerun.rc == 0, [r["result"].get("msg") for r in converge + again if r["status"] != "ok"]
            state = lab.state()
            if WANTED[playbook]:
                assert scp_roles(state) == [WANTED[playbook]]
                assert role_state(state, WANTED[playbook][1]) == "installed"
            else:
                assert scp_roles(state) == []
            changed = [r["task"] for r in again if r["result"].get("changed")]
            assert changed == [], f"the run after the converging one changed {changed}"
        finally:
            sampler.stop()
        assert sampler.most <= 1, f"two SCPs at once: {sampler.seen}"
        record = {"case": case_id(case), "faulted_rc": faulted.rc, "failed": [r["task"] for r in failures]}
        (tmp_path / "case.json").write_text(json.dumps(record))
    finally:
        lab.stop()
