# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. A second host during a task: the one adapter for it.

ConfigMgr steps run on the SMS Provider host; some steps of the same task belong to another server
(checking the SCP server's local Administrators before a move, restarting SMS_DMP_DOWNLOADER there,
watching the old server during a move). Doing those from the provider host would be a second WinRM hop
(docs/configmgr-behaviour.md#powershell-module-and-remoting), so the task opens a connection to that
server directly, as `delegate_to` would: the same connection plugin, the host's own inventory
variables, and closes it again. Why this adapter is kept, and what it relies on: docs/development.md,
"A second host during a task".

Everything this collection needs from ansible-core to do that is in this file, and only here:
`connection_loader.get` (public), the connection's `set_options` (public), `C.config.get_plugin_vars`,
and the action's `_play_context`, `_task` and `_templar`, which every action plugin uses. It works
with ansible-core 2.16 to 2.21: the `versions` tier's move reads the SCP server through it under each of them
(2.20 and 2.21 in `make versions-next`); tests/unit/test_remote.py pins how it builds the connection.
"""

from __future__ import annotations

import copy

from ansible import constants as C
from ansible.errors import AnsibleActionFail, AnsibleError
from ansible.plugins.loader import connection_loader

_PASSTHROUGH = ("inventory_hostname", "inventory_hostname_short")
# ansible-core 2.19 raises this for a variable that templates to `omit`; earlier versions have no such class.
try:
    from ansible.errors import AnsibleValueOmittedError as _Omitted
except ImportError:  # ansible-core < 2.19

    class _Omitted(Exception):  # type: ignore[no-redef]
        pass


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


def connection_options(connection, variables: dict, templar) -> dict:
    """The var_options a connection plugin takes, each variable templated, as TaskExecutor builds them
    (ansible-core 2.17+ names this Connection._resolve_option_variables; 2.16 builds it inline)."""
    options: dict = {"_extras": {}}
    for name in C.config.get_plugin_vars("connection", connection._load_name):
        if name in variables:
            try:
                options[name] = templar.template(variables[name])
            except _Omitted:
                pass
    if getattr(connection, "allow_extras", False):
        prefix = f"ansible_{connection.extras_prefix}_"
        for name in variables:
            if name.startswith(prefix) and name not in options:
                try:
                    options["_extras"][name] = templar.template(variables[name])
                except _Omitted:
                    pass
    return options


class RemoteHost:
    """Quacks like the part of ActionBase the runner uses (_low_level_execute_command, _play_context)."""

    def __init__(self, action, host: str, task_vars: dict):
        self.host = host
        self.host_name = host  # the runner names the host in a transport failure (_runner.host_of)
        hostvars = task_vars["hostvars"][host]
        conn_type = hostvars["ansible_connection"] if "ansible_connection" in hostvars else "ssh"
        if conn_type not in ("winrm", "psrp"):
            raise AnsibleActionFail(f"{host} uses the {conn_type} connection; a Windows host needs winrm or psrp.")
        # A copy of the task's play context: the connection keeps a reference for backward compatibility
        # (no_log, timeout), and the task's own must not change. Where it connects comes from the options.
        self._play_context = copy.copy(action._play_context)
        # The shell is the second host's own (ansible_shell_type, else the plugin's default), not the task host's:
        # the connection plugin takes it from the play context it is given, and ansible-core 2.21 warns when a
        # winrm or psrp connection is handed a shell it does not expect.
        self._play_context.shell = hostvars["ansible_shell_type"] if "ansible_shell_type" in hostvars else None
        task_keys = action._task.dump_attrs()
        task_keys["timeout"] = action._play_context.timeout
        if action._play_context.password:  # -k on the command line: for every host, as TaskExecutor passes it
            task_keys["password"] = action._play_context.password
        task_keys.pop("retries", None)
        try:
            self._connection = connection_loader.get(conn_type, self._play_context)
            if self._connection is None:
                raise AnsibleError(f"the connection plugin {conn_type} was not found")
            # The plugin's variables are known once it is loaded. Only those, each templated in the host's own
            # context (hostvars).
            wanted = set(C.config.get_plugin_vars("connection", self._connection._load_name)) | set(_PASSTHROUGH)
            variables = {k: hostvars[k] for k in hostvars if k in wanted or k.startswith(f"ansible_{conn_type}_")}
            self._connection.set_options(task_keys=task_keys, var_options=connection_options(self._connection, variables, action._templar))
        except AnsibleError as e:
            raise AnsibleActionFail(f"Could not set up the connection to {host}: {e}") from None
        self._play_context.remote_addr = self._connection.get_option("remote_addr")

    def _low_level_execute_command(self, cmd, sudoable=True, in_data=None):
        """What ActionBase._low_level_execute_command does for a Windows connection (no become, no
        executable): the command as it is, on this host's connection. A transport failure propagates: the
        runner turns it into a TransportError that names this host (_runner.transport_error)."""
        rc, stdout, stderr = self._connection.exec_command(cmd, in_data=in_data, sudoable=False)
        return {"rc": rc or 0, "stdout": _text(stdout), "stderr": _text(stderr)}

    def close(self) -> None:
        try:
            self._connection.close()
        except Exception:  # noqa: BLE001 - closing a shell that is already gone is not an error of the task
            pass

    def __enter__(self) -> RemoteHost:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _text(value) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return "" if value is None else str(value)
