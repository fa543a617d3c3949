"""Transport and faults as ansible-playbook sees them: the real winrm (and psrp) connection plugins
against a fleet lab, one scenario per inventory host, all in one playbook run (hosts run in parallel).

Each scenario is an inventory alias of a fleet CAS host (an SMS Provider with the console) with
its own connection settings; faults are set per host before the run. The task is the read-only
`configmgr.scp.service_connection_point_info` (one read plan on the provider) or `raw`.
"""

from __future__ import annotations

import socket
import time

import pytest
import yaml

from cmlab.wsman.pki import ensure_ca

FLEET_SIZE = 7
CREDENTIALS_REJECTED = "the specified credentials were rejected by the server"

PLAYBOOK = """
- name: One read plan per scenario
  hosts: scenarios
  gather_facts: false
  tasks:
    - name: info
      configmgr.scp.service_connection_point_info:

- name: cmd.exe's command line limit through raw
  hosts: raw_hosts
  gather_facts: false
  tasks:
    - name: raw under the limit
      ansible.builtin.raw: "Write-Output '{{ 'x' * 2000 }}'"
      ignore_errors: true
    - name: raw over the limit
      ansible.builtin.raw: "Write-Output '{{ 'x' * 4000 }}'"
      ignore_errors: true
"""


def cas(i: int) -> str:
    return f"cas{i:03d}.fleet.example"


@pytest.fixture(scope="module")
def fleet(fleet_lab_factory):
    # Windows' WinRM defaults, with certificate authentication enabled (the client_certificate scenario).
    return fleet_lab_factory(FLEET_SIZE, "--winrm-allow", "certificate")


@pytest.fixture(scope="module")
def run(fleet, tmp_path_factory):
    """The playbook run every test here reads: scenarios set up, faults injected, one run."""
    tmp = tmp_path_factory.mktemp("transport")
    other_ca = ensure_ca(tmp / "other-ca", name="Some Other Root CA")
    hosts = fleet.info["hosts"]

    def http(fqdn: str, **extra) -> dict:
        return {"ansible_host": hosts[fqdn]["address"], "ansible_port": hosts[fqdn]["http_port"], **extra}

    def https(fqdn: str, **extra) -> dict:
        return {
            "ansible_host": hosts[fqdn]["address"],
            "ansible_port": hosts[fqdn]["https_port"],
            "ansible_winrm_scheme": "https",
            "ansible_winrm_server_cert_validation": "validate",
            "ansible_winrm_ca_trust_path": fleet.info["ca_cert"],
            **extra,
        }

    def psrp(fqdn: str, scheme: str = "http") -> dict:
        return {
            "ansible_connection": "psrp",
            "ansible_host": hosts[fqdn]["address"],
            "ansible_psrp_protocol": scheme,
            "ansible_psrp_port": hosts[fqdn][f"{scheme}_port"],
            "ansible_psrp_auth": "ntlm",
            "ansible_psrp_cert_validation": "validate",
            "ansible_psrp_ca_cert": fleet.info["ca_cert"],
        }

    scenarios = {
        "https_lab_ca": https(cas(1)),
        "https_wrong_ca": https(cas(1), ansible_winrm_ca_trust_path=other_ca.cert),
        "client_certificate": https(
            cas(1),
            ansible_winrm_transport="certificate",
            ansible_winrm_cert_pem=fleet.info["client_cert"],
            ansible_winrm_cert_key_pem=fleet.info["client_key"],
        ),
        "wrong_password": http(cas(1), ansible_password="Not-The-Lab-Password-1"),
        "bad_credentials": http(cas(2)),
        "host_down": http(cas(3)),
        "http_500": http(cas(4)),
        "wsman_fault": http(cas(5)),
        "timeout": http(cas(6), ansible_winrm_operation_timeout_sec=2, ansible_winrm_read_timeout_sec=3),
        "provider_unavailable": http(cas(7)),
        "psrp": psrp(cas(1)),
        "psrp_https_lab_ca": psrp(cas(1), "https"),
        # Refused as Windows refuses them by default: Basic is off, AllowUnencrypted is false.
        "basic_over_http": http(cas(1), ansible_winrm_transport="basic"),
        "basic_over_https": https(cas(1), ansible_winrm_transport="ssl"),
        "ntlm_unencrypted": http(cas(1), ansible_winrm_message_encryption="never"),
        "psrp_unencrypted": {**psrp(cas(1)), "ansible_psrp_message_encryption": "never"},
    }
    inventory = {
        "all": {
            "vars": {
                "ansible_connection": "winrm",
                "ansible_winrm_scheme": "http",
                "ansible_winrm_transport": "ntlm",
                "ansible_user": fleet.info["admin_user"],
                "ansible_password": fleet.password,
            },
            "children": {"scenarios": {"hosts": scenarios}, "raw_hosts": {"hosts": {"raw_host": http(cas(1)), "raw_psrp": psrp(cas(1))}}},
        }
    }
    inventory_path = tmp / "inventory.yml"
    inventory_path.write_text(yaml.safe_dump(inventory))
    playbook = tmp / "transport.yml"
    playbook.write_text(PLAYBOOK)

    # bad_credentials the way a person would set it: the CLI, at run time.
    fleet.cli(["fault", "add", "bad_credentials", "--host", cas(2), "--state-dir", str(fleet.state_dir)])
    fleet.add_fault("host_down", cas(3))
    fleet.add_fault("http_500", cas(4))
    fleet.add_fault("wsman_fault", cas(5), count=1)
    fleet.add_fault("delay", cas(6), seconds=6)
    fleet.add_fault("provider_unavailable", cas(7))
    assert wait_until_refused(hosts[cas(3)]["address"], hosts[cas(3)]["http_port"])
    try:
        # -vvv: the modules' messages are in words; the transport's own text is shown at -vvv (issue 12 item 3).
        yield fleet.playbook(playbook, "-vvv", inventory=inventory_path, env={"ANSIBLE_FORKS": "20"})
    finally:
        fleet.clear_faults()


def wait_until_refused(address: str, port: int, seconds: float = 5.0) -> bool:
    """host_down closes the listening socket within the listener's 0.5 s poll."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((address, port), timeout=1).close()
        except ConnectionRefusedError:
            return True
        time.sleep(0.1)
    return False


def outcome(run, host: str, task: str = "info") -> tuple[str, dict]:
    matches = [r for r in run.results if r["host"] == host and r["task"] == task]
    assert len(matches) == 1, f"{host}/{task}: {matches}\n{run.stdout}\n{run.stderr}"
    return matches[0]["status"], matches[0]["result"]


@pytest.mark.parametrize("scenario", ["https_lab_ca", "client_certificate", "psrp", "psrp_https_lab_ca"])
def test_https_with_the_lab_ca_certificate_auth_and_psrp_work(run, scenario):
    status, result = outcome(run, scenario)
    assert status == "ok", result
    # The provider answered: fleet hierarchy 1 has its SCP at the child primary.
    assert result["service_connection_point"]["site_system_server"] == "ps001.fleet.example"


@pytest.mark.parametrize("scenario", ["basic_over_http", "basic_over_https", "ntlm_unencrypted", "psrp_unencrypted"])
def test_what_windows_refuses_by_default_is_unreachable(run, scenario):
    # Issue 8 item 18: Basic disabled and AllowUnencrypted false, as on a Windows server out of the box.
    status, result = outcome(run, scenario)
    assert status == "unreachable", result
    assert any(text in result["msg"] for text in ("rejected", "401", "Failed to authenticate")), result["msg"]


def test_a_wrong_ca_is_unreachable_with_certificate_verify_failed(run):
    status, result = outcome(run, "https_wrong_ca")
    assert status == "unreachable"
    assert result["msg"].startswith("https_wrong_ca could not be reached: the TLS connection failed, while connecting")
    assert "certificate verify failed" in run.stdout  # the transport's words, at -vvv


@pytest.mark.parametrize("scenario", ["wrong_password", "bad_credentials"])
def test_rejected_credentials_are_unreachable(run, scenario):
    status, result = outcome(run, scenario)
    assert status == "unreachable"
    assert f"{scenario} could not be reached: the credentials were rejected" in result["msg"]
    assert CREDENTIALS_REJECTED in run.stdout


def test_a_host_that_is_down_is_unreachable(run):
    status, result = outcome(run, "host_down")
    assert status == "unreachable"
    assert result["msg"].startswith(
        "host_down could not be reached: the connection was refused, while connecting (nothing was sent). Step: reading the current state"
    )
    assert "Nothing was changed" in result["msg"] and "Connection refused" in run.stdout


def test_http_500_is_unreachable_with_the_status(run):
    status, result = outcome(run, "http_500")
    assert status == "unreachable"
    assert "http_500 could not be reached: the WinRM service answered HTTP 500" in result["msg"]
    assert "Bad HTTP response returned from server. Code 500" in run.stdout


def test_a_wsman_fault_in_the_middle_of_a_read_is_unreachable_and_changed_nothing(run):
    status, result = outcome(run, "wsman_fault")
    assert status == "unreachable" and result["changed"] is False
    assert result["msg"].startswith(
        "wsman_fault could not be reached: the WinRM service answered with a WS-Management "
        "fault, while reading the result (the plan may have run)"
    )
    assert "injected fault" in run.stdout and "2150858843" in run.stdout


def test_a_reply_slower_than_the_read_timeout_is_unreachable(run):
    status, result = outcome(run, "timeout")
    assert status == "unreachable"
    assert "timeout could not be reached: no answer came within the timeout" in result["msg"]
    assert "Read timed out. (read timeout=3)" in run.stdout


def test_provider_unavailable_fails_the_module_with_the_engines_provider_stage(run):
    status, result = outcome(run, "provider_unavailable")
    assert status == "failed"
    assert result["msg"].startswith("Could not connect to the SMS Provider")
    assert "The RPC server is unavailable" in result["msg"]
    # The read goes through CIM (docs/engine-protocol.md): the step that connects to the provider fails.
    assert (result["failed_step"]["stage"], result["failed_step"]["cmdlet"]) == ("step", "Get-CimInstance")


def test_raw_over_cmds_8191_character_limit_fails_as_on_windows(run):
    # raw sends PowerShell -EncodedCommand <base64 of UTF-16LE>: 2,000 characters of script make a
    # command line of ~5,440, 4,000 make ~10,780 — over cmd.exe's 8,191.
    status, result = outcome(run, "raw_host", "raw over the limit")
    assert status == "failed" and result["rc"] == 1
    assert result["stderr"] == "The command line is too long.\r\n"
    status, result = outcome(run, "raw_host", "raw under the limit")
    assert status == "failed" and result["rc"] == 1  # it reached powershell, which cmlab does not run
    assert "The term 'Write-Output' is not recognized" in result["stderr"]


def test_over_psrp_there_is_no_cmd_exe_and_so_no_8191_limit(run):
    # The psrp plugin runs the script in the runspace: the long raw reaches PowerShell.
    status, result = outcome(run, "raw_psrp", "raw over the limit")
    assert status == "failed" and result["rc"] == 1
    assert result["stderr"].startswith("The term 'Write-Output' is not recognized")
    assert "CommandNotFoundException" in result["stderr"]


def test_the_faults_hit_only_their_hosts(fleet, run):
    counters = fleet.counters()
    assert cas(3) not in counters  # down: not one request got through
    assert counters[cas(2)]["requests"] > 0 and counters[cas(2)]["commands"] == 0  # never logged in
    assert counters[cas(1)]["engine_invocations"] == 4  # the four healthy scenarios
    assert counters[cas(7)]["engine_invocations"] == 1
