"""An in-process lab for the ConfigMgr behaviour tests: the default topology, the engine, and the
simulated clock driven by the test (no sleeping)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from cmlab.accounting import Accounting
from cmlab.engine import Engine, bootstrap_module, load_catalog
from cmlab.faults import Faults
from cmlab.model.netsettings import NETFX_KEY, NETFX_WOW_KEY
from cmlab.topology import load_topology, parse_topology
from tests.fixtures import LAB_PASSWORD, step

# The cmdlets cmlab simulates, also those no plan uses yet (tools/build_catalog.py writes it).
CATALOG = load_catalog(str(Path(__file__).with_name("lab_catalog.json")))
MARKERS = bootstrap_module()
DISCOVER = {"site_code": None, "server": None, "module": None, "username": None, "password_secret": None}
TALLY = "0001128000100008"
SUMMARY = {"ComponentName": None, "MachineName": None, "SiteCode": None, "State": None, "Status": None}
MESSAGE = {"Component": None, "MachineName": None, "MessageID": None, "Severity": None, "SiteCode": None}
THREADS = r"HKLM:\SOFTWARE\Microsoft\SMS\Components\SMS_EXECUTIVE\Threads"


def default_topology() -> dict:
    """The default lab's topology document, to change before building (ConfigMgrLab(data=...))."""
    return yaml.safe_load(open("inventories/lab/cmlab.yml", encoding="utf-8"))


class ConfigMgrLab:
    def __init__(self, topology: str = "inventories/lab/cmlab.yml", data: dict | None = None) -> None:
        spec = parse_topology(data) if data is not None else load_topology(topology)
        self.model = spec.build_model(LAB_PASSWORD)
        self.faults = Faults()
        self.engine = Engine(self.model, CATALOG, Accounting(), self.faults)
        self.hierarchy = self.model.hierarchy("lab")

    @property
    def timing(self):
        return self.model.configmgr_timing

    def run(self, *steps: dict, host: str = "cas.lab.example", provider=DISCOVER) -> dict:
        payload = {"protocol": 1, "provider": provider, "steps": list(steps), "secrets": {"pw": LAB_PASSWORD}}
        text = self.engine.run(host, json.dumps(payload))
        start, end = MARKERS.RESULT_START, MARKERS.RESULT_END
        return json.loads(text[text.index(start) + len(start) : text.index(end)])

    def ok(self, *steps: dict, host: str = "cas.lab.example") -> dict:
        doc = self.run(*steps, host=host)
        assert doc["ok"], doc["error"]
        return {s["id"]: s["output"] for s in doc["steps"]}

    def advance(self, seconds: float) -> None:
        """Simulated time passes; what became due runs (as before the next payload)."""
        self.model.clock.advance(seconds)
        with self.model.lock:
            self.model.scheduler.run_due()

    def dump(self) -> dict:
        return self.model.dump()["hierarchies"]["lab"]

    def role_state(self, server: str, role: str = "SMS Dmp Connector") -> str | None:
        for ss in self.dump()["site_systems"]:
            if ss["server"] == server and role in ss["roles"]:
                return ss["roles"][role]["state"]
        return None

    def runtime(self, server: str) -> dict:
        return next(r for r in self.dump().get("scp_runtime", []) if r["server"] == server)

    def summarizer(self, where: str = "", host: str = "cas.lab.example", site: str = "CAS") -> list[dict]:
        text = f"TallyInterval='{TALLY}'" + (f" AND {where}" if where else "")
        return self.ok(
            step("c", "Get-CimInstance", SUMMARY, Namespace=f"root\\SMS\\site_{site}", ClassName="SMS_ComponentSummarizer", Filter=text),
            host=host,
        )["c"]

    def states(self, server: str) -> dict[str, int]:
        return {r["ComponentName"]: r["State"] for r in self.summarizer(f"MachineName='{server}'")}

    def log(self, host: str, path: str) -> list[str]:
        node = self.model.host(host).fs.node(path)
        return [] if node is None else node.lines()

    def tracing_log(self, host: str, component: str) -> list[str]:
        path = self.model.host(host).registry.get_value(rf"HKLM:\SOFTWARE\Microsoft\SMS\Tracing\{component}", "TraceFilename")
        return self.log(host, path) if path else []

    def set_tls12(self, host: str, views: tuple[str, ...] = (NETFX_KEY, NETFX_WOW_KEY)) -> None:
        """TLS 1.2 for .NET in the registry (docs/configmgr-behaviour.md#tls-prerequisites): effective after a reboot."""
        for key in views:
            for name in ("SchUseStrongCrypto", "SystemDefaultTlsVersions"):
                self.model.host(host).registry.set_value(key, name, 1)

    def reboot(self, host: str) -> None:
        """Restart-Computer -Force, then wait until the host is back up."""
        target = self.model.host(host)
        with self.model.lock:
            assert target.restart()
        self.advance(target.restart_timing.shutdown_delay)
        self.advance(target.restart_timing.down)
        assert target.is_up

    def enable_tls12(self, host: str) -> None:
        self.set_tls12(host)
        self.reboot(host)

    def restart_thread(self, host: str, component: str) -> None:
        """What Configuration Manager Service Manager does (docs/configmgr-behaviour.md#sms-executive-threads): Stop, then Start."""
        registry = self.model.host(host).registry
        timing = self.model.host(host).executive.timing
        registry.set_value(rf"{THREADS}\{component}", "Requested Operation", "Stop")
        self.advance(timing.pickup + timing.stop)
        registry.set_value(rf"{THREADS}\{component}", "Requested Operation", "Start")
        self.advance(timing.pickup)

    def prepare_scp01(self, admin: bool = True) -> None:
        """The PS1 SCP removed (and gone), scp01 a site system of CAS."""
        if admin:
            self.model.host("scp01.lab.example").local_group("Administrators").add_member("LAB\\CAS$")
        self.ok(
            step("rm", "Remove-CMServiceConnectionPoint", SiteSystemServerName="ps1.lab.example", SiteCode="PS1", Force=True),
            step("new", "New-CMSiteSystemServer", SiteSystemServerName="scp01.lab.example", SiteCode="CAS"),
        )
        self.advance(max(self.timing.install_delay, self.timing.uninstall_delay))


def add_scp(server: str = "scp01.lab.example", mode: str = "Online") -> dict:
    return step("add", "Add-CMServiceConnectionPoint", {"RoleName": None}, SiteSystemServerName=server, SiteCode="CAS", Mode=mode)
