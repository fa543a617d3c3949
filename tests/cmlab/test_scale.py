"""Scale: a fleet lab (`python -m cmlab start --fleet N`) holds well over a hundred WinRM shells
open at once, each running the engine bootstrap with a small read plan, without one error.

The figure this reaches on the project's 2-core machine is in docs/cmlab.md ("Scale");
`make bench-fleet` (tools/bench_fleet.py) runs the larger version.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import winrm
import yaml

from ansible_collections.configmgr.scp.plugins.plugin_utils import _protocol as _bootstrap
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import (
    Plan,
    build_payload,
    engine_source,
    parse_result,
    provider_value,
    to_plan_result,
)
from cmlab.topology import fleet_topology

FLEET_SIZE = 12  # 36 hosts
SHELLS = 120  # at most 4 per host: under Windows' default MaxShellsPerUser (30)
BUDGET_SECONDS = 60  # every wait below is bounded by this


@dataclass
class ShellRun:
    host: str
    output: list


def read_plans() -> dict[str, bytes]:
    """Bootstrap stdin per kind of host: the provider (a ConfigMgr read) and the others (a Windows read)."""
    provider, other = Plan(), Plan()
    provider.add("sites", "Get-CimInstance", {"Namespace": provider_value("namespace"), "ClassName": "SMS_Site"}, select={"SiteCode": None})
    other.add("svc", "Get-Service", {"Name": "WinRM"}, select={"Status": None})
    return {
        kind: _bootstrap.build_stdin(engine_source(), build_payload(plan, None)[0])
        for kind, plan in (("provider", provider), ("other", other))
    }


@pytest.fixture(scope="module")
def fleet(fleet_lab_factory):
    return fleet_lab_factory(FLEET_SIZE)


def test_fleet_inventory_gives_each_provider_its_scp_server(fleet):
    hosts = yaml.safe_load(fleet.inventory.read_text())["all"]["hosts"]
    assert len(hosts) == 3 * FLEET_SIZE
    cas = hosts["cas012.fleet.example"]
    assert cas["service_connection_point_server"] == "scp012.fleet.example"
    assert cas["service_connection_point_site_server_account"] == "FLEET\\CAS012$"
    assert "service_connection_point_server" not in hosts["ps012.fleet.example"]
    # playbooks/site.yml reads them: they must be the role's variables.
    role = Path(__file__).resolve().parents[2] / "roles" / "service_connection_point"
    specs = yaml.safe_load((role / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    assert {k for k in cas if k.startswith("service_connection_point_")} <= set(options)


def test_more_than_a_hundred_concurrent_shells_across_the_fleet(fleet):
    stdins = read_plans()
    command, arguments = _bootstrap.BOOTSTRAP_COMMAND.split(" ", 1)
    hosts = sorted(fleet.info["hosts"])
    all_open = threading.Barrier(SHELLS, timeout=BUDGET_SECONDS)
    fleet.reset_counters()

    def one_shell(index: int) -> ShellRun:
        host = hosts[index % len(hosts)]
        p = winrm.Protocol(
            fleet.url(host),
            transport="ntlm",
            username=fleet.info["admin_user"],
            password=fleet.password,
            operation_timeout_sec=20,
            read_timeout_sec=30,
            ca_trust_path=None,
        )
        shell = p.open_shell(codepage=65001)
        try:
            all_open.wait()  # every shell is open before any command starts
            command_id = p.run_command(shell, command, [arguments], console_mode_stdin=False)
            p.send_command_input(shell, command_id, stdins["provider" if host.startswith("cas") else "other"], end=True)
            out, err, rc = p.get_command_output(shell, command_id)
            p.cleanup_command(shell, command_id)
        finally:
            p.close_shell(shell)
        result = to_plan_result(parse_result(out.decode(), err.decode(), rc, {}), {})
        return ShellRun(host, result.output("sites" if host.startswith("cas") else "svc"))

    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=SHELLS) as pool:
        futures = [pool.submit(one_shell, i) for i in range(SHELLS)]
        runs, errors = [], []
        for future in futures:
            try:
                runs.append(future.result(timeout=BUDGET_SECONDS))
            except Exception as e:  # noqa: BLE001 - collected: the assertion shows them all
                errors.append(repr(e))
    elapsed = time.monotonic() - started

    assert errors == []
    assert len(runs) == SHELLS and len({r.host for r in runs}) == len(hosts)
    site_codes = {h.sites[0].server: {s.code for s in h.sites} for h in fleet_topology(FLEET_SIZE).hierarchies}
    for r in runs:
        if r.host in site_codes:  # each provider sees its own hierarchy
            assert {s["SiteCode"] for s in r.output} == site_codes[r.host], r
        else:
            assert r.output == [{"Status": "Running"}], r
    counters = fleet.counters()
    assert sum(c["engine_invocations"] for c in counters.values()) == SHELLS
    assert sum(c["commands"] for c in counters.values()) == SHELLS
    print(f"\n{SHELLS} concurrent shells on {len(hosts)} hosts: {elapsed:.1f} s, 0 errors")
