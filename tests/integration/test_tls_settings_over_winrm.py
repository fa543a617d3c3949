"""configmgr.scp.tls_settings against the lab over WinRM: converge, unchanged rerun, check mode writes nothing,
roots reported and installed from a file, reboot_required (also after a lost reboot), the reboot opt-in."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import LAB_TOPOLOGY, RunningLab

SCP = "scp01.lab.example"
NETFX = "HKLM:\\SOFTWARE\\Microsoft\\.NETFramework\\v4.0.30319"
TLS12_CLIENT = "HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\Protocols\\TLS 1.2\\Client"


def real_root_pem(name: str) -> str:
    import certifi

    text = open(certifi.where(), encoding="ascii").read()
    return (
        re.search(r"# Label: \"" + re.escape(name) + r"\"\n.*?(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----)", text, re.S).group(
            1
        )
        + "\n"
    )


@pytest.fixture
def lab_with(tmp_path):
    """A lab whose scp01 is changed by `host` (topology fields of docs/cmlab.md)."""
    labs = []

    def start(**host):
        topology = yaml.safe_load(LAB_TOPOLOGY.read_text())
        topology["hosts"][SCP].update(host)
        path = tmp_path / "topology.yml"
        path.write_text(yaml.safe_dump(topology))
        labs.append(RunningLab(tmp_path / "lab", path))
        return labs[-1]

    yield start
    for lab in labs:
        lab.stop()


def play(lab, name: str, args: dict, *, extra: list | None = None):
    tasks = [{"name": name, "configmgr.scp.tls_settings": args, "delegate_to": SCP}] + (extra or [])
    return lab.write_playbook(f"{name}.yml", json.dumps([{"hosts": "sms_provider", "gather_facts": False, "tasks": tasks}]))


def registry(state: dict, key: str) -> dict | None:
    """{value name: data} of a key in the state dump (docs/cmlab.md "State dump"), None when absent."""
    node = state["hosts"][SCP]["registry"].get("HKEY_LOCAL_MACHINE")
    for part in key.removeprefix("HKLM:\\").split("\\"):
        if node is None:
            return None
        node = next((v for k, v in node["keys"].items() if k.lower() == part.lower()), None)
    return None if node is None else {name: value["data"] for name, value in node["values"].items()}


def roots(state: dict) -> dict:
    store = state["hosts"][SCP]["certificates"]["LocalMachine\\Root"]
    return {c["subject"].split(",")[0][3:]: c for c in store.values()}


def test_converge_unchanged_and_check_mode_writes_nothing(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    book = play(lab, "tls", {})
    before = lab.state()
    check = lab.playbook(book, "--check", "--diff")
    assert check.rc == 0, check.stdout + check.stderr
    r = check.task("tls")["result"]
    assert r["changed"] is True and r["reboot_required"] is True and r["rebooted"] is False
    assert "+.NET 64-bit SchUseStrongCrypto: 1" in check.stdout and "-.NET 64-bit SchUseStrongCrypto: null" in check.stdout
    assert lab.state() == before  # check mode: the state dump is identical

    applied = lab.playbook(book, "--diff")
    assert applied.rc == 0, applied.stdout
    r = applied.task("tls")["result"]
    assert r["changed"] is True and r["reboot_required"] is True and r["ready"] is False
    assert r["dotnet"]["tls12"] is True and r["schannel_tls12_client"] == {"Enabled": 1, "DisabledByDefault": 0, "tls12": True}
    assert r["winhttp_proxy"] == {"access_type": "direct", "proxy": "", "bypass": ""}
    state = lab.state()
    for key in (NETFX, NETFX.replace("SOFTWARE\\", "SOFTWARE\\WOW6432Node\\")):
        values = registry(state, key)
        assert values["SchUseStrongCrypto"] == 1 and values["SystemDefaultTlsVersions"] == 1, values
    assert registry(state, TLS12_CLIENT) == {"Enabled": 1, "DisabledByDefault": 0}
    assert state["hosts"][SCP]["network"]["pending_reboot"] is True

    lab.reset_counters()
    again = lab.playbook(book)
    r = again.task("tls")["result"]
    # Nothing to write, but the reboot the first run needed has not happened: still required.
    assert r["changed"] is False and r["reboot_required"] is True
    assert r["reboot_reasons"] == [".NET strong cryptography changed (TLS 1.2 for .NET)"]
    assert lab.counters()[SCP]["engine_invocations"] == 1  # one read when unchanged


def test_a_missing_and_an_expired_root_are_reported_and_installed_from_a_file(lab_with):
    lab = lab_with(
        root_certificates={"missing": ["DigiCert Global Root G2"], "expired": ["Microsoft RSA Root Certificate Authority 2017"]},
        certificate_files={
            "C:\\Certs\\DigiCertGlobalRootG2.crt": {"pem": real_root_pem("DigiCert Global Root G2")},
            "C:\\Certs\\forged.crt": "DigiCert Global Root G2",
        },
    )
    report = lab.playbook(play(lab, "report", {"dotnet_tls12": False, "schannel_tls12_client": False}))
    r = report.task("report")["result"]
    status = {c["name"]: c["status"] for c in r["root_certificates"]}
    assert status["DigiCert Global Root G2"] == "missing"
    assert status["Microsoft RSA Root Certificate Authority 2017"] == "expired"
    assert status["DigiCert Global Root G3"] == "present"
    assert r["changed"] is False and r["ready"] is False
    assert "DigiCert Global Root G2 is missing in LocalMachine\\Root" in r["problems"]
    assert any("give its file in certificate_files" in w for w in r["warnings"])

    # A file with G2's name but not its published thumbprint is never trusted.
    before = lab.state()
    forged = lab.playbook(play(lab, "forged", {"certificate_files": ["C:\\Certs\\forged.crt"]}))
    result = forged.task("forged")
    assert result["status"] == "failed"
    assert "is not one of the root certificates the SCP's endpoints chain to" in result["result"]["msg"]
    assert lab.state() == before

    book = play(
        lab,
        "install",
        {"certificate_files": ["C:\\Certs\\DigiCertGlobalRootG2.crt"], "dotnet_tls12": False, "schannel_tls12_client": False},
    )
    check = lab.playbook(book, "--check", "--diff")
    assert check.task("install")["result"]["changed"] is True and lab.state() == before
    assert "+root DigiCert Global Root G2: present" in check.stdout
    installed = lab.playbook(book).task("install")["result"]
    assert installed["changed"] is True
    assert installed["changes"] == ["import DigiCert Global Root G2 into LocalMachine\\Root from C:\\Certs\\DigiCertGlobalRootG2.crt"]
    assert {c["name"]: c["status"] for c in installed["root_certificates"]}["DigiCert Global Root G2"] == "present"
    assert "DF3C24F9BFD666761B268073FE06D1CC8D4F82A4" in lab.state()["hosts"][SCP]["certificates"]["LocalMachine\\Root"]
    assert installed["reboot_required"] is True
    assert lab.playbook(book).task("install")["result"]["changed"] is False


def test_the_reboot_opt_in_reboots_once_and_the_endpoints_work_afterwards(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    # TLS 1.2 is off for .NET on a fresh server: the simulated internet says so.
    endpoints = {
        "name": "endpoints",
        "configmgr.scp.endpoint_check": {"feature_groups": ["tenant_attach"], "fail_on": "never"},
        "delegate_to": SCP,
    }
    before = lab.playbook(play(lab, "before", {"dotnet_tls12": False, "schannel_tls12_client": False}, extra=[endpoints])).task(
        "endpoints"
    )["result"]
    assert before["severity"] == "error" and "TLS 1.2 is not enabled for .NET" in before["endpoints"][0]["cause"]
    book = play(lab, "tls", {"reboot": True, "reboot_timeout": 120}, extra=[endpoints])
    assert lab.state()["hosts"][SCP]["restarts"] == 0
    run = lab.playbook(book)
    assert run.rc == 0, run.stdout
    r = run.task("tls")["result"]
    assert r["changed"] is True and r["rebooted"] is True and r["reboot_required"] is False and r["ready"] is True
    state = lab.state()
    assert state["hosts"][SCP]["restarts"] == 1 and state["hosts"][SCP]["power_state"] == "running"
    assert state["hosts"][SCP]["network"]["pending_reboot"] is False
    assert state["hosts"][SCP]["network"]["dotnet_tls12_at_boot"] == {"32": True, "64": True}
    after = run.task("endpoints")["result"]
    assert after["severity"] == "ok" and after["failed_endpoints"] == []
    again = lab.playbook(book).task("tls")["result"]
    assert again["changed"] is False and again["rebooted"] is False and again["ready"] is True
    assert lab.state()["hosts"][SCP]["restarts"] == 1  # rebooted once, not again


def test_a_reboot_lost_by_an_earlier_run_is_done_by_the_next_one(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    first = lab.playbook(play(lab, "tls", {}))
    assert first.task("tls")["result"]["reboot_required"] is True
    rerun = lab.playbook(play(lab, "tls2", {"reboot": True, "reboot_timeout": 120}))
    r = rerun.task("tls2")["result"]
    assert r["changed"] is True and r["rebooted"] is True and r["changes"] == ["reboot the server and wait until it is back"]
    assert lab.state()["hosts"][SCP]["restarts"] == 1
    assert lab.playbook(play(lab, "tls3", {"reboot": True})).task("tls3")["result"]["changed"] is False


def test_bad_input_fails_before_any_winrm_request(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    lab.reset_counters()
    for args in (
        {"certificate_files": ["\\\\fs01\\certs\\g2.crt"]},
        {"certificate_files": ["C:\\Certs\\*.crt"]},
        {"certificate_files": ['C:\\Certs\\g2.crt"; Remove-Item C:\\ -Recurse; "']},
        {"certificate_files": ["C:\\Certs\\[g2].crt"]},
        {"certificate_files": ["C:\\Certs\\g2.crt\n"]},
        {"certificate_files": ["$(whoami)"]},
        {"reboot_timeout": 0},
        {"reboot": "maybe"},
        {"no_such_option": 1},
    ):
        run = lab.playbook(play(lab, "bad", args))
        assert run.task("bad")["status"] == "failed", args
    assert lab.requests_total() == 0


def test_the_role_sets_the_prerequisites_reboots_and_the_scp_it_adds_can_reach_microsoft(default_lab):
    lab = default_lab  # the lab exactly as `make demo` starts it
    # The lab's group_vars allow the reboot (service_connection_point_allow_reboot).
    from pathlib import Path

    from labstate import scp_runtime

    site = Path(__file__).resolve().parents[2] / "playbooks" / "site.yml"
    check = lab.playbook(site, "--check")
    assert check.task("service_connection_point : Set the TLS prerequisites on the SCP server")["result"]["changed"] is True
    first = lab.playbook(site)
    assert first.rc == 0, first.stdout
    prerequisites = first.task("service_connection_point : Set the TLS prerequisites on the SCP server")["result"]
    assert prerequisites["rebooted"] is True and prerequisites["ready"] is True
    state = lab.state()
    assert state["hosts"][SCP]["network"]["dotnet_tls12_at_boot"] == {"32": True, "64": True}
    # The SCP was added after the reboot: its own first endpoint check passed (11410).
    assert scp_runtime(state, SCP)["last_connectivity_check"]["message_ids"] == [11410]
    second = lab.playbook(site)
    assert second.rc == 0 and second.changed == 0, second.stdout
