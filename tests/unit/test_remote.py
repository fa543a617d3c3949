"""RemoteHost, the one adapter for a second host during a task, against the ansible-core it runs under:
the connection plugin it builds reads the second host's own inventory variables, templated, and the
task's own play context is left alone. No network: nothing is sent until a plan runs."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure
from ansible.inventory.manager import InventoryManager
from ansible.parsing.dataloader import DataLoader
from ansible.playbook.play_context import PlayContext
from ansible.playbook.task import Task
from ansible.template import Templar
from ansible.vars.hostvars import HostVars
from ansible.vars.manager import VariableManager

from ansible_collections.configmgr.scp.plugins.plugin_utils._remote import RemoteHost
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import Plan, TransportError, run_plan

INVENTORY = """
all:
  vars:
    lab_password: pw-1
  hosts:
    cas.example:
      ansible_connection: winrm
      ansible_host: 127.0.0.98
    scp01.example:
      ansible_connection: {connection}
      ansible_host: 127.0.0.99
      ansible_port: 5986
      ansible_user: LAB\\cmadmin
      ansible_password: "{{{{ lab_password }}}}"
      ansible_winrm_transport: ntlm
      ansible_winrm_server_cert_validation: ignore
      unrelated: "{{{{ undefined_variable }}}}"
"""


class FakeAction:
    """The attributes of ActionBase that RemoteHost reads, as a task on cas.example has them."""

    def __init__(self, variables: dict, loader: DataLoader):
        self._play_context = PlayContext()
        self._play_context.remote_addr = "127.0.0.98"
        self._task = Task()
        self._templar = Templar(loader=loader, variables=variables)


def task_vars(tmp_path, connection: str = "winrm", rewrite: bool = True) -> tuple[dict, FakeAction]:
    """The task variables of a task on cas.example, built by ansible-core itself (hostvars included)."""
    path = tmp_path / "inventory.yml"
    if rewrite:
        path.write_text(INVENTORY.format(connection=connection))
    loader = DataLoader()
    inventory = InventoryManager(loader=loader, sources=[str(path)])
    manager = VariableManager(loader=loader, inventory=inventory)
    HostVars(inventory=inventory, variable_manager=manager, loader=loader)  # as the task queue manager does
    variables = manager.get_vars(host=inventory.get_host("cas.example"), include_hostvars=True)
    return variables, FakeAction(variables, loader)


@pytest.mark.parametrize("connection", ["winrm", "psrp"])
def test_the_second_host_connects_with_its_own_variables(tmp_path, connection):
    variables, action = task_vars(tmp_path, connection)
    remote = RemoteHost(action, "scp01.example", variables)
    conn = remote._connection
    assert conn._load_name.endswith(connection)
    assert conn.get_option("remote_addr") == "127.0.0.99"
    assert conn.get_option("port") == 5986
    assert conn.get_option("remote_user") == "LAB\\cmadmin"
    assert conn.get_option("remote_password") == "pw-1"  # templated in the host's context
    assert remote._play_context.remote_addr == "127.0.0.99"
    assert action._play_context.remote_addr == "127.0.0.98"  # the task's own context is untouched
    if connection == "winrm":
        assert conn.get_option("transport") == ["ntlm"]
        # ansible_winrm_* extras reach pywinrm as they would for a task delegated there.
        assert conn.get_option("_extras")["ansible_winrm_server_cert_validation"] == "ignore"
    remote.close()


@pytest.mark.parametrize("own", [None, "powershell"])
def test_the_second_host_has_its_own_shell(tmp_path, own):
    """The task host's ansible_shell_type is not handed on: the second host's own, else the plugin's default."""
    if own is not None:
        (tmp_path / "inventory.yml").write_text(INVENTORY.format(connection="winrm") + f"      ansible_shell_type: {own}\n")
    variables, action = task_vars(tmp_path, rewrite=own is None)
    action._play_context.shell = "cmd"  # the task host's
    remote = RemoteHost(action, "scp01.example", variables)
    assert remote._play_context.shell == own
    assert action._play_context.shell == "cmd"  # the task's own context is untouched
    assert remote._connection._shell._load_name.endswith(own or remote._connection._shell_type)
    remote.close()


def test_only_windows_connections(tmp_path):
    variables, action = task_vars(tmp_path, "ssh")
    with pytest.raises(AnsibleActionFail, match="uses the ssh connection; a Windows host needs winrm or psrp"):
        RemoteHost(action, "scp01.example", variables)


def test_a_transport_failure_names_the_second_host(tmp_path):
    variables, action = task_vars(tmp_path)
    remote = RemoteHost(action, "scp01.example", variables)

    def unreachable(*args, **kwargs):
        raise AnsibleConnectionFailure("connection refused")

    remote._connection.exec_command = unreachable
    plan = Plan()
    plan.add("members", "Get-LocalGroupMember", {"SID": "S-1-5-32-544"})
    with pytest.raises(TransportError, match=r"scp01\.example could not be reached: the connection was refused") as failed:
        run_plan(remote, plan)
    assert failed.value.host == "scp01.example" and failed.value.steps == ["members"]


def test_output_comes_back_as_text(tmp_path):
    variables, action = task_vars(tmp_path)
    remote = RemoteHost(action, "scp01.example", variables)
    remote._connection.exec_command = lambda cmd, in_data=None, sudoable=True: (None, b"out \xc3\xa9", b"")
    assert remote._low_level_execute_command("cmd", in_data=b"") == {"rc": 0, "stdout": "out \u00e9", "stderr": ""}
