"""An in-process lab for the Windows host tests: the default topology and the engine; the test
drives the simulated clock (no sleeping)."""

from __future__ import annotations

import json
from pathlib import Path

from cmlab.accounting import Accounting
from cmlab.engine import Engine, bootstrap_module, load_catalog
from cmlab.topology import load_topology
from tests.fixtures import LAB_PASSWORD

# The cmdlets cmlab simulates, also those no plan uses yet (tools/build_catalog.py writes it).
CATALOG = load_catalog(str(Path(__file__).with_name("lab_catalog.json")))
MARKERS = bootstrap_module()
THREADS = "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Components\\SMS_EXECUTIVE\\Threads"


class WindowsLab:
    def __init__(self, topology: str = "inventories/lab/cmlab.yml") -> None:
        self.model = load_topology(topology).build_model(LAB_PASSWORD)
        self.accounting = Accounting()
        self.engine = Engine(self.model, CATALOG, self.accounting)

    def host(self, fqdn: str):
        return self.model.host(fqdn)

    def run(self, *steps: dict, host: str = "scp01.lab.example") -> dict:
        payload = {"protocol": 1, "provider": None, "steps": list(steps), "secrets": {}}
        text = self.engine.run(host, json.dumps(payload))
        start, end = MARKERS.RESULT_START, MARKERS.RESULT_END
        return json.loads(text[text.index(start) + len(start) : text.index(end)])

    def ok(self, *steps: dict, host: str = "scp01.lab.example") -> dict:
        """Outputs by step id; the plan must succeed."""
        doc = self.run(*steps, host=host)
        assert doc["ok"], doc["error"]
        return {s["id"]: s["output"] for s in doc["steps"]}

    def error(self, one_step: dict, host: str = "scp01.lab.example") -> dict:
        """The error record of a single failing step."""
        doc = self.run(one_step, host=host)
        assert not doc["ok"] and doc["error"]["stage"] == "step", doc
        return doc["steps"][-1]["error"]

    def advance(self, seconds: float) -> None:
        """Simulated time passes; what became due runs (as before the next payload)."""
        self.model.clock.advance(seconds)
        with self.model.lock:
            self.model.scheduler.run_due()

    def dump_host(self, fqdn: str) -> dict:
        return self.model.dump()["hosts"][fqdn]
