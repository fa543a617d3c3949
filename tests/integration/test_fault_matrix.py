"""The fault matrix (issue 8 "Done when", issue 12): each fault cmlab can inject strikes one step of site.yml,
move.yml or remove.yml - real ansible-playbook, real WinRM, a lab whose SMS Provider accepts a second SCP - and
every case asserts:

- never two SCPs, sampled from the lab's state throughout the faulted run and the reruns;
- every failure in words: no raw transport text in any task message, and a message that says what is known
  ("could not be reached" ... "Nothing was changed" / "Already done" / "Unknown whether" / "Not done");
- a missing SCP always said: when a site or move run fails and the site control has no SCP, the message says so;
- a plain rerun converges (the placement the playbook wants, installed), and the run after it changes nothing.

A step is one engine invocation: a plan on one host, named by its step ids (the lab's plans journal lists them;
plans the move lease renews begin with lease_renew). `STEPS` lists the plans of each playbook, and a test keeps
that list equal to what a clean run of the playbook runs. A fault strikes a step three ways (cmlab/faults.py):
- `plan-before`: the plan arrives but does not run, and its result is lost (`at_plan`, phase before);
- `plan-after`: the plan runs and its result is lost (`at_plan`, phase after);
- `command-before`: the Command request that would start it fails, before the plan is sent (`at_command`: only
  for steps whose command number is the same in every run, those before the first wait on their host).
host_down stays until the test clears it; bad_credentials rejects every later login (the next task's connection);
provider_unavailable fails the plan's SMS Provider connection; install_failure fails Site Component Manager's
install (or de-install) on the target until cleared.

Two sizes, because each case is three ansible-playbook runs (the faulted run, then the converging run and the
unchanged run in one process):
- `make test` (default, `DEFAULT`): steps of the SCP task of each playbook, each struck by the fault the table
  gives it - every fault, every way, a move cut between its removal and its addition (site.yml after the
  removal, move.yml while it waits and before its addition), a lease left behind - and an install failure (11
  cases, about a minute of make test on two cores);
- CMSCP_FAULT_MATRIX=full (`make fault-matrix`): every fault, every way, at every step of the three playbooks,
  and an install failure per playbook (753 cases).
"""

from __future__ import annotations

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
    "move": (
        REPO / "playbooks" / "move.yml",
        {"service_connection_point_server": "cas.lab.example", "service_connection_point_host": "cas.lab.example"},
    ),
    "remove": (REPO / "playbooks" / "remove.yml", {}),
}
WANTED = {"site": ("CAS", "scp01.lab.example"), "move": ("CAS", "cas.lab.example"), "remove": None}
# The read timeout is short so that a `delay` fault (4 s) outlasts it, as a hung server would.
TIMEOUTS = {"ansible_winrm_read_timeout_sec": 3, "ansible_winrm_operation_timeout_sec": 2}
DELAY = 4

READ = "sites+roles+components+tracing+sitecomp"  # the SCP module's read (with its wait: the status)
READ_HEALTH = READ + "+health_messages+health_alerts"  # ... with health, as the role asks when present (components serve both)
LEASE = (
    "lease_key+lease_holders+lease_root+lease_parent+lease_take+lease_holder+lease_runid+lease_controller+"
    "lease_user+lease_process+lease_source+lease_target+lease_since+lease_expires+sites+roles"
)
POLL = "lease_renew+components+tracing+sitecomp"  # a wait, with this host's sitecomp.log
# A write followed by a wait reads the status back in its own invocation: the wait's first poll.
READ_BACK = "components+tracing+sitecomp"
HEALTH_QUERIES = "+health_messages+health_alerts"  # with health (the role): an install's reads take the SCP's health
RELEASE = "lease_release+lease_unlock"
TLS_READ = "keys+netfx64+netfx32+schannel+roots+ndp+winhttp+os+executive+marker"  # tls_settings
TLS_WRITE = (
    "netfx64_SchUseStrongCrypto+netfx64_SystemDefaultTlsVersions+netfx32_SchUseStrongCrypto+"
    "netfx32_SystemDefaultTlsVersions+schannel_key0+schannel_key1+schannel_Enabled+schannel_DisabledByDefault+"
    "marker_key+marker_since+marker_for+after_keys+after_netfx64+after_netfx32+after_schannel+after_roots+restart"
)
REBOOTED = "os"  # tls_settings waits for the reboot it asked for
HEALTH = "sites+roles+health_summary+health_messages+health_alerts"  # the role's verify (the SCP's health)
DOWNLOADER = "registry+dl_trace+dl_bytes+dl_dir+check_file+check_bytes"  # which mode the SCP server's downloader runs


class Step:
    """One plan of a playbook: host, step ids, which occurrence of them there, and the command number when it is
    the same in every run."""

    def __init__(self, name: str, host: str, plan: str, occurrence: int = 1, command: int | None = None, scp: bool = True):
        self.name, self.host, self.plan, self.occurrence, self.command, self.scp = name, host, plan, occurrence, command, scp


STEPS = {
    "site": [
        Step("admins-read", "scp01", "members", command=1, scp=False),  # local_group_member
        Step("admins-write", "scp01", "add_0+after", command=2, scp=False),
        Step("site-system-read", "cas", "sites+roles", command=1, scp=False),  # site_system_server
        Step("site-system-write", "cas", "new+roles", command=2, scp=False),
        Step("firewall-read", "scp01", "rule+ports", command=3, scp=False),  # firewall_rule
        Step("firewall-write", "scp01", "new+after_ports", command=4, scp=False),
        Step("tls-read", "scp01", TLS_READ, command=5, scp=False),  # tls_settings
        Step("tls-write", "scp01", TLS_WRITE, command=6, scp=False),
        Step("reboot-wait", "scp01", REBOOTED, command=7, scp=False),
        Step("scp-read", "cas", READ_HEALTH, command=3),  # service_connection_point
        Step("prerequisites", "scp01", "identity+members", command=8),
        Step("lease-take", "cas", LEASE, command=4),
        Step("old-site-log", "ps1", "tracing+sitecomp", command=1),  # PS1's sitecomp.log, before
        Step("remove", "cas", "lease_renew+remove_0+components", command=5),  # PS1's log is read on ps1
        Step("uninstall-poll", "cas", "lease_renew+components", command=6),
        Step("old-site-log-poll", "ps1", "tracing+sitecomp", 2, command=2),
        Step("add", "cas", "lease_renew+add_0+roles+" + READ_BACK + HEALTH_QUERIES),
        Step("install-poll", "cas", POLL + HEALTH_QUERIES),
        # Installed: the SCP task reads the SCP server for its health; it works, so the role's verify reads nothing.
        Step("health-after-install", "scp01", DOWNLOADER, command=9),
        Step("lease-release", "cas", RELEASE),
    ],
    "move": [
        Step("where-now", "cas", HEALTH, command=1, scp=False),
        Step("where-now-downloader", "scp01", DOWNLOADER, command=1, scp=False),
        Step("admins-read", "cas", "members", command=2, scp=False),
        Step("admins-write", "cas", "add_0+after", command=3, scp=False),
        Step("site-system-read", "cas", "sites+roles", command=4, scp=False),
        Step("firewall-read", "cas", "rule+ports", command=5, scp=False),
        Step("firewall-write", "cas", "new+after_ports", command=6, scp=False),
        Step("tls-read", "cas", TLS_READ, command=7, scp=False),
        Step("tls-write", "cas", TLS_WRITE, command=8, scp=False),
        Step("reboot-wait", "cas", REBOOTED, command=9, scp=False),
        Step("scp-read", "cas", READ_HEALTH, command=10),
        Step("lease-take", "cas", LEASE, command=11),
        Step("remove", "cas", "lease_renew+remove_0+" + READ_BACK, command=12),
        Step("uninstall-poll", "cas", POLL, command=13),
        Step("add", "cas", "lease_renew+add_0+roles+" + READ_BACK + HEALTH_QUERIES),
        Step("install-poll", "cas", POLL + HEALTH_QUERIES),
        Step("health-after-install", "cas", DOWNLOADER),  # the SCP server is cas now
        Step("lease-release", "cas", RELEASE),
    ],
    "remove": [
        Step("scp-read", "cas", READ, command=1),
        Step("lease-take", "cas", LEASE, command=2),
        Step("remove", "cas", "lease_renew+remove_0+roles+" + READ_BACK, command=3),
        Step("uninstall-poll", "cas", POLL, command=4),
        Step("lease-release", "cas", RELEASE),
        Step("read-back", "cas", "sites+roles", scp=False),
    ],
}
KINDS = ("host_down", "http_500", "wsman_fault", "delay", "bad_credentials", "provider_unavailable")
WAYS = ("plan-before", "plan-after", "command-before")
# make test: which fault strikes which step of the SCP task, and how - every fault, every way, a move
# cut between its removal and its addition, a lease left behind (every other step and way: the full matrix).
DEFAULT = {
    "site": {
        "scp-read": ("host_down", "command-before"),
        "lease-take": ("delay", "plan-after"),
        "remove": ("host_down", "plan-after"),
        "add": ("wsman_fault", "plan-after"),
        "install-poll": ("provider_unavailable", "plan-before"),
        "lease-release": ("host_down", "plan-after"),
    },
    "move": {
        "uninstall-poll": ("bad_credentials", "plan-before"),
        "add": ("http_500", "plan-before"),
    },
    "remove": {
        "scp-read": ("provider_unavailable", "plan-before"),
        "remove": ("http_500", "plan-after"),
    },
}
# Site Component Manager cannot install (or de-install) on the target until the test clears the fault.
INSTALL_FAILURES = {"site": "scp01", "move": "cas", "remove": "cas"}
RAW = re.compile(
    r"Connection aborted|ConnectionResetError|RemoteDisconnected|Bad HTTP response|wsmanfault_code|"
    r"Traceback|HTTPConnectionPool|Max retries exceeded|WinRMTransportError|WSManFaultError",
    re.I,
)
FULL = os.environ.get("CMSCP_FAULT_MATRIX") == "full"


def step_named(playbook: str, name: str) -> Step:
    return next(s for s in STEPS[playbook] if s.name == name)


def cases() -> list:
    out = []
    for playbook, steps in STEPS.items():
        for step in steps:
            if FULL:
                out += [
                    (playbook, step.name, kind, way)
                    for kind in KINDS
                    for way in WAYS
                    if way != "command-before" or step.command is not None
                ]
            elif step.name in DEFAULT[playbook]:
                out.append((playbook, step.name, *DEFAULT[playbook][step.name]))
    out += [(playbook, target, "install_failure", "") for playbook, target in INSTALL_FAILURES.items() if FULL or playbook == "site"]
    return out


def case_id(case) -> str:
    playbook, step, kind, way = case
    return f"{playbook}-{step}-{kind}{'-' + way if way else ''}"


# -- the labs ------------------------------------------------------------------------------------------------


def topology(playbook: str) -> dict:
    """The start state of each playbook, a lab that installs fast and lets a second SCP through."""
    top = yaml.safe_load(LAB_TOPOLOGY.read_text())
    hierarchy = top["hierarchies"]["lab"]
    hierarchy["refuse_second_scp"] = False
    top["configmgr"].update(install_delay_seconds=0.5, uninstall_delay_seconds=0.5, install_retry_seconds=2)
    if playbook in ("move", "remove"):  # after site.yml: the SCP on scp01 at the CAS
        hierarchy["site_systems"] = [
            {"site": "CAS", "server": "scp01.lab.example", "roles": [{"name": "SMS Dmp Connector", "mode": "Online"}]}
        ]
        top["hosts"]["scp01.lab.example"]["local_group_members"] = {"Administrators": ["LAB\\CAS$"]}
    return top


def start_lab(tmp_path: Path, playbook: str) -> RunningLab:
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / f"{playbook}.yml"
    path.write_text(yaml.safe_dump(topology(playbook), sort_keys=False))
    return RunningLab(tmp_path / "lab", path)


def fqdn(short: str) -> str:
    return f"{short}.lab.example"


def test_the_matrix_names_every_plan_the_playbooks_run(tmp_path):
    """STEPS is what a clean run of each playbook runs: every plan, its occurrences, its command number."""
    for playbook, (path, extra) in PLAYBOOKS.items():
        lab = start_lab(tmp_path / playbook, playbook)
        try:
            run = lab.playbook(path, extra_vars={**extra, **TIMEOUTS})
            assert run.rc == 0, run.stdout
            journal = {host.split(".")[0]: c.get("plans", []) for host, c in lab.counters().items()}
        finally:
            lab.stop()
        ran = {(host, plan) for host, plans in journal.items() for plan in plans}
        listed = {(s.host, s.plan) for s in STEPS[playbook]}
        assert listed == ran, f"{playbook}: plans not in the matrix {ran - listed}, listed but not run {listed - ran}"
        for step in STEPS[playbook]:
            plans = journal[step.host]
            assert plans.count(step.plan) >= step.occurrence, (playbook, step.name, plans)
            if step.command is not None:
                assert plans[step.command - 1] == step.plan, (playbook, step.name, step.command, plans)
        assert set(DEFAULT[playbook]) <= {s.name for s in STEPS[playbook]}
        assert {kind for table in DEFAULT.values() for kind, _ in table.values()} == set(KINDS)


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
            self._stop.wait(1.0)

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
    return lab.write_playbook(
        "twice.yml",
        yaml.safe_dump(
            [
                {"import_playbook": str(playbook)},
                {
                    "name": "Matrix",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "tasks": [{"name": "matrix second run", "ansible.builtin.debug": {"msg": "again"}}],
                },
                {"import_playbook": str(playbook)},
            ],
            sort_keys=False,
        ),
    )


def split(run: PlaybookRun) -> tuple[list[dict], list[dict]]:
    marker = next(i for i, r in enumerate(run.results) if r["task"] == "matrix second run")
    return run.results[:marker], run.results[marker + 1 :]


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
def test_fault(tmp_path, case):
    playbook, name, kind, way = case
    path, extra = PLAYBOOKS[playbook]
    lab = start_lab(tmp_path, playbook)
    try:
        options = {"seconds": DELAY} if kind == "delay" else {}
        if kind == "install_failure":
            lab.add_fault(kind, host=fqdn(name))
        else:
            step = step_named(playbook, name)
            if way == "command-before":
                options.update(at_command=step.command, phase="before")
            else:
                options.update(at_plan=step.plan, occurrence=step.occurrence, phase=way.split("-")[1])
            lab.add_fault(kind, host=fqdn(step.host), **options)
        sampler = Sampler(lab)
        try:
            faulted = lab.playbook(path, extra_vars={**extra, **TIMEOUTS})
            assert_words(faulted.results)
            failures = [r for r in faulted.results if r["status"] in ("failed", "unreachable")]
            if failures and WANTED[playbook] and not scp_roles(lab.state()):
                # A move cut between the removal and the addition: the message says the hierarchy has no SCP.
                assert any("no service connection point" in str(r["result"].get("msg")) for r in failures), [
                    r["result"].get("msg") for r in failures
                ]

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
    finally:
        lab.stop()
