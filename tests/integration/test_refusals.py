"""What must be refused: a second SCP, an SCP at a child site, and bad input (before any WinRM request)."""

from __future__ import annotations

import pytest

CONVERGED_PLAY = """
- hosts: sms_provider
  gather_facts: false
  tasks:
    - name: scp
      configmgr.scp.service_connection_point:
        site_system_server: "{{ server }}"
        site_code: "{{ site | default(omit) }}"
        mode: "{{ mode | default(omit) }}"
        allow_move: "{{ move | default(false) }}"
"""


def test_scp_at_a_child_site_is_refused_by_the_module(lab):
    play = lab.write_playbook("child.yml", CONVERGED_PLAY)
    before = lab.state()
    run = lab.playbook(play, extra_vars={"server": "ps1.lab.example", "site": "PS1", "move": True})
    result = run.task("scp")
    assert result["status"] == "failed"
    assert "not the top-level site" in result["result"]["msg"] and "CAS" in result["result"]["msg"]
    assert lab.state() == before


BAD_INPUT = """
- hosts: sms_provider
  gather_facts: false
  tasks:
    - name: bad
      configmgr.scp.{module}:
{args}
"""


@pytest.mark.parametrize("module,args,option", [
    ("service_connection_point", {"site_system_server": "scp01.lab.example", "site_code": "CA"}, "site_code"),
    ("service_connection_point", {"site_system_server": "scp01", "mode": "online"}, "site_system_server"),
    ("service_connection_point", {"site_system_server": "scp01.lab.example", "mode": "sideways"}, "mode"),
    ("service_connection_point", {"mode": "online"}, "site_system_server"),
    ("site_system_server", {"site_system_server": "scp01.lab.example", "use_site_server_account": True,
                            "installation_account": "LAB\\cm-install"}, "use_site_server_account|installation_account"),
    ("site_system_server", {"site_system_server": "scp01.lab.example", "installation_account": "cm-install"},
     "installation_account"),
    ("site_system_server", {"site_system_server": "scp01.lab.example$(calc)"}, "site_system_server"),
])
def test_bad_input_fails_before_any_winrm_request(lab, module, args, option):
    lines = "\n".join(f"        {k}: {v!r}" if isinstance(v, str) else f"        {k}: {str(v).lower()}" for k, v in args.items())
    play = lab.write_playbook("bad.yml", BAD_INPUT.format(module=module, args=lines))
    lab.reset_counters()
    run = lab.playbook(play)
    result = run.task("bad")
    assert result["status"] == "failed"
    assert option in result["result"]["msg"], result["result"]["msg"]
    assert lab.requests_total() == 0
