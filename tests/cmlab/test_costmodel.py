"""The cost model: estimated Windows seconds per host, charged for the work a real server would do."""

from __future__ import annotations

import json

import pytest
import winrm

from ansible_collections.configmgr.scp.plugins.plugin_utils import _protocol
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, build_payload, engine_source
from cmlab.accounting import Accounting
from cmlab.costmodel import DEFAULT_FIGURES, CostModel, cmdlet_event
from cmlab.engine import Engine, load_catalog
from cmlab.faults import Faults
from cmlab.lab import Lab
from cmlab.topology import load_topology
from tests.fixtures import LAB_PASSWORD

CAS = "cas.lab.example"
F = DEFAULT_FIGURES


def payload(*steps: tuple[str, str, dict]) -> str:
    plan = Plan()
    for step_id, cmdlet, params in steps:
        plan.add(step_id, cmdlet, params)
    return build_payload(plan, None)[0]


@pytest.fixture
def engine() -> Engine:
    model = load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD)
    return Engine(model, load_catalog(), Accounting(CostModel()), Faults())


def breakdown(engine: Engine, host: str = CAS) -> dict[str, float]:
    return engine.accounting.snapshot()[host]["estimated_windows_breakdown"]


def test_a_configmgr_plan_pays_the_module_import_and_the_drive_once(engine):
    engine.run(CAS, payload(("a", "Get-CMAccount", {}), ("b", "Get-CMAccount", {"SiteCode": "CAS"}), ("c", "Get-CMAccount", {})))
    assert breakdown(engine) == {
        "module_import": F["module_import"],
        "cmsite_drive": F["cmsite_drive"],
        "cim_query": F["cim_query"],  # discovering the site: Get-CimInstance SMS_ProviderLocation
        "configmgr_read": round(3 * F["configmgr_read"], 3),
    }
    engine.run(CAS, payload(("a", "Get-CMAccount", {})))
    assert breakdown(engine)["module_import"] == 2 * F["module_import"]  # once per engine invocation


def test_a_windows_only_plan_pays_no_configmgr_costs(engine):
    engine.run(
        "scp01.lab.example",
        payload(("svc", "Get-Service", {"Name": "WinRM"}), ("grp", "Get-LocalGroupMember", {"Group": "Administrators"})),
    )
    assert breakdown(engine, "scp01.lab.example") == {"windows_cmdlet": 2 * F["windows_cmdlet"]}


def test_writes_cost_more_than_reads():
    assert cmdlet_event("Get-CMSiteRole", True) == "configmgr_read"
    assert cmdlet_event("Add-CMServiceConnectionPoint", True) == "configmgr_write"
    assert cmdlet_event("Remove-LocalGroupMember", False) == "windows_cmdlet"
    assert F["configmgr_write"] > F["configmgr_read"] > F["windows_cmdlet"]


def test_without_a_cost_model_nothing_is_estimated():
    model = load_topology("inventories/lab/cmlab.yml").build_model(LAB_PASSWORD)
    engine = Engine(model, load_catalog(), Accounting(), Faults())
    engine.run(CAS, payload(("a", "Get-CMAccount", {})))
    counters = engine.accounting.snapshot()[CAS]
    assert counters["estimated_windows_seconds"] == 0 and counters["estimated_windows_breakdown"] == {}


def test_figures_are_checked_and_can_be_overridden_from_a_file(tmp_path):
    with pytest.raises(ValueError, match="unknown cost model event"):
        CostModel.with_overrides({"coffee_break": 300})
    with pytest.raises(ValueError, match="not a number of seconds"):
        CostModel.with_overrides({"module_import": -1})
    path = tmp_path / "costs.yml"
    path.write_text("module_import: 9.5\n")
    model = CostModel.load(path)
    assert model.seconds("module_import") == 9.5 and model.seconds("cmsite_drive") == F["cmsite_drive"]


def test_over_winrm_the_counters_add_up_every_layer(tmp_path):
    """One bootstrap through pywinrm: WinRM requests, the shell, cmd.exe, powershell.exe, the engine."""
    costs = tmp_path / "costs.json"
    costs.write_text('{"module_import": 10}')
    with Lab(
        "inventories/lab/cmlab.yml", tmp_path / "lab", ephemeral_ports=True, password=LAB_PASSWORD, cost_model=CostModel.load(costs)
    ) as lab:
        ep = lab.endpoints()[CAS]
        p = winrm.Protocol(
            f"http://{ep['address']}:{ep['http_port']}/wsman",
            transport="ntlm",
            username="LAB\\cmadmin",
            password=LAB_PASSWORD,
            ca_trust_path=None,
        )
        command, arguments = _protocol.BOOTSTRAP_COMMAND.split(" ", 1)
        shell = p.open_shell(codepage=65001)
        command_id = p.run_command(shell, command, [arguments], console_mode_stdin=False)
        p.send_command_input(shell, command_id, _protocol.build_stdin(engine_source(), payload(("a", "Get-CMAccount", {}))), end=True)
        assert p.get_command_output(shell, command_id)[2] == 0
        p.cleanup_command(shell, command_id)
        p.close_shell(shell)

        counters = lab.counters()[CAS]
        estimate = counters["estimated_windows_breakdown"]
        assert {k: estimate[k] for k in ("shell_create", "process_start", "powershell_start", "engine_load")} == {
            k: F[k] for k in ("shell_create", "process_start", "powershell_start", "engine_load")
        }
        assert estimate["module_import"] == 10  # the file's figure
        ws_man_requests = counters["requests"] - 3  # less the NTLM handshake's three POSTs
        assert estimate["winrm_request"] == pytest.approx(ws_man_requests * F["winrm_request"])
        assert estimate["winrm_auth"] == pytest.approx(3 * F["winrm_auth"])
        assert counters["estimated_windows_seconds"] == pytest.approx(sum(estimate.values()), abs=0.01)
        assert counters["estimated_windows_seconds"] > 10  # the import dominates: seconds, not ms
        # The plans journal says what the plan itself cost (what make bench prints per invocation): powershell.exe,
        # the engine and what it ran - not the shell, cmd.exe and the WinRM requests around it.
        assert counters["plans"] == ["a"]
        engine_side = ("powershell_start", "engine_load", "module_import", "cmsite_drive", "cim_query", "configmgr_read")
        assert counters["plan_seconds"] == [pytest.approx(sum(estimate.get(k, 0) for k in engine_side), abs=0.002)]
        lab.reset_counters()
        assert lab.counters()[CAS]["estimated_windows_seconds"] == 0


def cim_payload(*steps: tuple[str, str, dict], provider: dict | None = None) -> str:
    plan = Plan()
    for step_id, cmdlet, params in steps:
        plan.add(step_id, cmdlet, params)
    payload = json.loads(build_payload(plan, None)[0])
    if provider is not None:
        payload["provider"] = provider
    return json.dumps(payload)


NAMESPACE = {"$provider": "namespace"}


def test_a_read_through_cim_pays_no_module_import_and_no_drive(engine):
    engine.run(
        CAS,
        cim_payload(
            ("a", "Get-CimInstance", {"Namespace": NAMESPACE, "ClassName": "SMS_ComponentSummarizer"}),
            ("b", "Get-CimInstance", {"Namespace": NAMESPACE, "ClassName": "SMS_SCI_SCProperty"}),
        ),
    )
    assert breakdown(engine) == {
        "cim_query": round(3 * F["cim_query"], 3),  # discovery (root\SMS SMS_ProviderLocation) and the two reads
        "cim_connect": F["cim_connect"],  # root\SMS\site_CAS, once per invocation
    }


def test_a_provider_on_another_machine_is_one_cim_session_per_invocation(engine):
    remote = {"site_code": "PS1", "server": "ps1.lab.example", "module": None, "username": "LAB\\cmadmin", "password_secret": "p"}
    body = json.loads(
        cim_payload(
            ("a", "Get-CimInstance", {"Namespace": NAMESPACE, "ClassName": "SMS_ComponentSummarizer"}),
            ("b", "Get-CimInstance", {"Namespace": NAMESPACE, "ClassName": "SMS_SCI_SCProperty"}),
            provider=remote,
        )
    )
    body["secrets"] = {"p": LAB_PASSWORD}
    out = engine.run(CAS, json.dumps(body))
    assert '"ok":true' in out
    assert breakdown(engine) == {
        "cim_session": F["cim_session"],
        "cim_connect": F["cim_connect"],
        "cim_query": round(2 * F["cim_query"], 3),
    }
    assert "module_import" not in breakdown(engine)


def test_psrp_starts_powershell_once_per_pool_and_imports_the_module_once(tmp_path):
    from pypsrp.powershell import PowerShell, RunspacePool
    from pypsrp.wsman import WSMan

    with Lab("inventories/lab/cmlab.yml", tmp_path / "lab", ephemeral_ports=True, password=LAB_PASSWORD) as lab:
        ep = lab.endpoints()[CAS]
        connection = WSMan(
            ep["address"],
            port=ep["http_port"],
            ssl=False,
            auth="ntlm",
            username="LAB\\cmadmin",
            password=LAB_PASSWORD,
            cert_validation=False,
            operation_timeout=5,
            read_timeout=10,
        )
        stdin = _protocol.build_stdin(engine_source(), payload(("a", "Get-CMAccount", {}))).decode("ascii")
        with RunspacePool(connection) as pool:
            for _ in range(2):  # a task's read plan and write plan: two pipelines, one runspace
                ps = PowerShell(pool)
                ps.add_script(_protocol.BOOTSTRAP)
                ps.invoke(input=stdin.splitlines())
                assert not ps.had_errors
        estimate = lab.counters()[CAS]["estimated_windows_breakdown"]
        assert estimate["powershell_start"] == F["powershell_start"]  # the pool's wsmprovhost.exe
        assert estimate["module_import"] == F["module_import"] and estimate["cmsite_drive"] == F["cmsite_drive"]
        assert estimate["engine_load"] == 2 * F["engine_load"]
        assert lab.counters()[CAS]["engine_invocations"] == 2
