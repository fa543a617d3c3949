#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: file_transfer
short_description: Copy a file or a folder between the controller and a Windows host, only what differs
version_added: 0.1.0
description:
  - Copies a file or a whole folder from the task's Windows host to the controller (I(direction=fetch)) or from the
    controller to the Windows host (I(direction=put)). It carries the Service Connection Tool's files in the offline
    workflow - the usage data from the SCP server to the internet-connected computer, the update packs back, and
    the tool's folder itself - through the controller, with paths the user gives; no share is needed.
  - The bytes move with the task's own connection plugin (C(put_file) and C(fetch_file) of C(winrm) or C(psrp)), the
    transfer that C(ansible.builtin.fetch) and C(ansible.windows.win_copy) use underneath; this module needs neither
    those modules nor the C(ansible.windows) collection on Windows hosts.
  - Idempotent - one read lists the files on the Windows side with their SHA-1 (C(Get-ChildItem), C(Get-FileHash)),
    and only files that are missing or differ are copied. Files that exist only at the destination are kept.
  - A copy to the Windows host is checked by the connection plugin (the SHA-1 of what was written); a copy to the
    controller is written to a temporary file, checked against the SHA-1 read before, and then renamed into place.
options:
  direction:
    description:
      - C(fetch) - from the Windows host (I(src)) to the controller (I(dest)).
      - C(put) - from the controller (I(src)) to the Windows host (I(dest)).
    type: str
    required: true
    choices: [fetch, put]
  src:
    description:
      - What to copy - a file or a folder (the whole tree under it).
      - For C(put), a path on the controller; a relative path is looked up like C(ansible.builtin.copy) does (the
        role's or playbook's C(files) folder, then the playbook's folder).
      - For C(fetch), a full Windows path with a drive letter (see I(dest)).
    type: str
    required: true
  dest:
    description:
      - Where the copy goes - the file's path for a file, the folder's path for a folder (its contents are copied
        into it; missing folders are created).
      - For C(fetch), a path on the controller; a relative path is relative to the playbook.
      - For C(put), a full Windows path with a drive letter (C(/) is read as C(\)). Spaces, C('), C($), backticks,
        C(%) and non-ASCII letters are carried literally; C(") C(<) C(>) C(|) C(?) C(*), control characters, C(.) or
        C(..) segments and paths over 259 characters are refused before anything connects, also for each file of a
        folder.
    type: str
    required: true
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
    details: Lists in I(transferred) the files that would be copied; copies nothing.
  diff_mode:
    support: none
requirements:
  - The Windows host runs Windows PowerShell 5.1 and is reached with the C(winrm) or C(psrp) connection.
notes:
  - Files are compared by content (SHA-1), not by time or size.
  - The files pass through the controller; give I(dest) on a disk with room for them (update packs can be several
    gigabytes).
seealso:
  - module: configmgr.scp.service_connection_tool
  - module: ansible.builtin.fetch
  - module: ansible.windows.win_copy
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Carry the usage data from the SCP server to the controller
  configmgr.scp.file_transfer:
    direction: fetch
    src: D:\ServiceConnection\UsageData.cab
    dest: "{{ playbook_dir }}/transfer/UsageData/scp01.cab"
  delegate_to: scp01.contoso.com

- name: And on to the internet-connected computer
  configmgr.scp.file_transfer:
    direction: put
    src: "{{ playbook_dir }}/transfer/UsageData"
    dest: D:\ServiceConnection\UsageData
  delegate_to: inet01.contoso.com

- name: Copy the tool's whole folder from the site server's CD.Latest
  configmgr.scp.file_transfer:
    direction: fetch
    src: C:\Program Files\Microsoft Configuration Manager\CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool
    dest: "{{ playbook_dir }}/transfer/ServiceConnectionTool"
  delegate_to: cas.contoso.com
"""

RETURN = r"""
direction:
  description: The direction.
  returned: always
  type: str
  sample: put
src:
  description: The source path (on the Windows host for C(fetch), on the controller for C(put)).
  returned: always
  type: str
dest:
  description: The destination path.
  returned: always
  type: str
files:
  description: Every file of I(src), relative to it (with C(/)); for a single file, its name.
  returned: always
  type: list
  elements: str
  sample: [ConfigMgr.Update.Manifest.enc, 6AFE4B4C-8D0A-4B8E-9F3A-2F7C2C1E5B10/6AFE4B4C-8D0A-4B8E-9F3A-2F7C2C1E5B10.cab]
transferred:
  description: The files copied (in check mode, that would be copied) because they were missing or differed.
  returned: always
  type: list
  elements: str
  sample: [ConfigMgr.Update.Manifest.enc]
bytes:
  description: The size of the files in I(transferred), in bytes.
  returned: always
  type: int
  sample: 1842
completed_actions:
  description: When the task failed part-way, the files that were copied before the failure.
  returned: failure after a partial copy
  type: list
  elements: str
transport_failure:
  description:
    - When the connection failed while the module read or checked the files (a failure during the copy itself is
      the connection plugin's own error), the host, the WinRM operation (C(connect), C(start the command), C(send the
      plan), C(read the result), C(close the command)), the failure in words, and whether the plan ran (C(false))
      or nobody knows (C(null)). The transport's own text is shown with C(-vvv). Nothing changed and the task's
      own host unreachable - the task is UNREACHABLE; otherwise it fails.
  returned: failure of the connection
  type: dict
  sample: {host: scp01.contoso.com, operation: connect, reason: the connection was refused, plan_ran: false}
"""
