# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Run a plan on another inventory host during a task.

ConfigMgr steps run on the SMS Provider host; some steps of the same task belong to another server
(restarting SMS_DMP_DOWNLOADER on the SCP server, checking its local Administrators). Doing those
from the provider host would be a second WinRM hop (facts §2, "WinRM / remoting"), so the task opens
a connection to that server directly, as `delegate_to` would: same connection plugin, the host's own
inventory variables, and closes it again.
"""

from __future__ import annotations

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError

_PASSTHROUGH = ("inventory_hostname", "inventory_hostname_short")


def find_inventory_host(task_vars: dict, fqdn: str, explicit: str | None = None) -> str | None:
    """The inventory host that is `fqdn`: by name, by short name, or by ansible_host."""
    hostvars = task_vars.get("hostvars", {})
    if explicit:
        if explicit not in hostvars:
            raise AnsibleActionFail(f"scp_host {explicit} is not a host of the inventory.")
        return explicit
    names = list(task_vars.get("groups", {}).get("all", []))
    wanted = fqdn.lower()
    for name in names:
        if name.lower() == wanted:
            return name
    short = wanted.split(".")[0]
    for name in names:
        if name.lower() == short:
            return name
    for name in names:
        address = hostvars[name].get("ansible_host") if "ansible_host" in hostvars[name] else None
        if isinstance(address, str) and address.lower() == wanted:
            return name
    return None


def _connection_options(connection, variables: dict, templar) -> dict:
    """The connection's options from the host's variables, as TaskExecutor sets them: ansible-core
    2.19 has the plugin method; 2.16-2.18 template the plugin's variables and its extras here."""
    resolve = getattr(connection, "_resolve_option_variables", None)
    if resolve is not None:
        return resolve(variables, templar)
    options: dict = {"_extras": {}}
    for name in C.config.get_plugin_vars("connection", connection._load_name):
        if name in variables:
            options[name] = templar.template(variables[name])
    if getattr(connection, "allow_extras", False):
        prefix = f"ansible_{connection.extras_prefix}_"
        for name in variables:
            if name.startswith(prefix) and name not in options:
                options["_extras"][name] = templar.template(variables[name])
    return options


class RemoteHost:
    """Quacks like the part of ActionBase the runner uses (_low_level_execute_command, _play_context)."""

    def __init__(self, action, host: str, task_vars: dict):
        self.host = host
        hostvars = task_vars["hostvars"][host]
        conn_type = hostvars["ansible_connection"] if "ansible_connection" in hostvars else "ssh"
        if conn_type not in ("winrm", "psrp"):
            raise AnsibleActionFail(f"{host} uses the {conn_type} connection; a Windows host needs winrm or psrp.")
        wanted = set(C.config.get_plugin_vars("connection", conn_type)) | set(_PASSTHROUGH)
        # Only the variables this connection reads, each templated in the host's own context.
        variables = {k: hostvars[k] for k in hostvars if k in wanted or k.startswith(f"ansible_{conn_type}_")}
        self._play_context = action._play_context.set_task_and_variable_override(
            task=action._task, variables=variables, templar=action._templar)
        self._play_context.remote_addr = variables.get("ansible_host", host)
        try:
            self._connection = action._shared_loader_obj.connection_loader.get(conn_type, self._play_context, new_stdin=None)
            self._connection.set_options(var_options=_connection_options(self._connection, variables, action._templar))
        except AnsibleError as e:
            raise AnsibleActionFail(f"Could not set up the connection to {host}: {e}") from None

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
        try:
            rc, stdout, stderr = self._connection.exec_command(cmd, in_data=in_data, sudoable=False)
        except AnsibleConnectionFailure as e:
            # The task's own host is fine; say which server could not be reached.
            raise AnsibleActionFail(f"Could not reach {self.host}: {e}") from None
        return {"rc": rc, "stdout": stdout.decode("utf-8", "replace"), "stderr": stderr.decode("utf-8", "replace")}

    def close(self) -> None:
        try:
            self._connection.close()
        except Exception:  # noqa: BLE001 - closing a shell that is already gone is not an error of the task
            pass

    def __enter__(self) -> RemoteHost:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
