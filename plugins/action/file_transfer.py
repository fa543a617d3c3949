# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action plugin of configmgr.scp.file_transfer (documentation: plugins/modules/)."""

from __future__ import annotations

import os
import tempfile

from ansible.errors import AnsibleActionFail, AnsibleConnectionFailure, AnsibleError

from ansible_collections.configmgr.scp.plugins.plugin_utils import _transfer, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._action import ConfigMgrAction, WritePlan


class ActionModule(ConfigMgrAction):
    USES_PROVIDER = False
    RESULT_STATE = False
    ARGUMENT_SPEC = {
        "direction": {"type": "str", "required": True, "choices": ["fetch", "put"]},
        "src": {"type": "str", "required": True},
        "dest": {"type": "str", "required": True},
    }

    @property
    def where(self) -> str:
        return str(self._task.delegate_to or self.task_vars.get("inventory_hostname") or self._play_context.remote_addr)

    def desired(self, args):
        if args["direction"] == "fetch":
            remote = _validation.drive_path(args["src"], "src")
            if "\x00" in args["dest"]:
                # No file system of the controller takes it; refused before the file is read from the host.
                raise AnsibleActionFail(f"dest must be a path on the controller without a NUL character (U+0000), got {args['dest']!r}.")
            local = self._loader.path_dwim(os.path.expanduser(args["dest"]))
            return _transfer.Want("fetch", remote, local, check_mode=self.check_mode)
        remote = _validation.drive_path(args["dest"], "dest")
        try:
            local = self._find_needle("files", os.path.expanduser(args["src"]))
        except AnsibleError:
            if not self.check_mode:
                raise AnsibleActionFail(f"src {args['src']} does not exist on the controller.") from None
            return _transfer.Want("put", remote, args["src"], check_mode=True, missing_local=True)
        is_dir, files = _transfer.local_tree(local, "src")
        want = _transfer.Want("put", remote, local, files, is_dir, check_mode=self.check_mode)
        _transfer.check_put_names(want)
        return want

    def read_plan(self, want):
        return _transfer.read_plan(want)

    def decide(self, want, observed):
        return _transfer.decide(want, _transfer.RemoteTree.of(want, observed), self.where)

    def apply(self, want, decision):
        moves = decision.changes
        if want.direction == "put":
            folders = _transfer.folders_to_create(want, moves)
            if folders:
                plan = WritePlan()
                plan.write(
                    "folders",
                    "New-Item",
                    {"Path": folders, "ItemType": "Directory", "Force": True},
                    does=f"create {', '.join(folders)} on {self.where}",
                )
                self.run_writes(plan)
        for move in moves:
            self._move(want, move)
            self.completed_actions.append(f"{want.direction} {move.relative}")
        return {}

    def _move(self, want, move):
        try:
            if want.direction == "put":
                # The connection plugin checks the SHA-1 the Windows side computes of what it wrote.
                self._connection.put_file(move.source, move.target)
                return
            folder = os.path.dirname(move.target) or "."
            os.makedirs(folder, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=folder, prefix=".file_transfer-")
            os.close(handle)
            try:
                self._connection.fetch_file(move.source, temporary)
                got = _transfer.sha1_of(temporary)
                if got != move.sha1:
                    raise AnsibleActionFail(
                        f"The copy of {move.source} from {self.where} has SHA-1 {got}, the file "
                        f"there {move.sha1}: it changed while it was copied. Run the task again."
                    )
                os.replace(temporary, move.target)
            finally:
                if os.path.exists(temporary):
                    os.unlink(temporary)
        except AnsibleConnectionFailure:
            raise
        except AnsibleActionFail:
            raise
        except (AnsibleError, OSError) as e:
            verb = "copy" if want.direction == "put" else "fetch"
            raise AnsibleActionFail(
                f"Could not {verb} {move.source} to {move.target} ({self.where}): {str(e).strip() or type(e).__name__}"
            ) from None
