#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: service_connection_tool_info
short_description: Find the ConfigMgr Service Connection Tool on a Windows host and read its version
version_added: 0.1.0
description:
  - Finds C(ServiceConnectionTool.exe) where Configuration Manager keeps it on a site server -
    C(CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool) under the installation directory named by
    C(HKLM\SOFTWARE\Microsoft\SMS\Setup) C(Installation Directory) - or in I(tool_path), and returns its folder, its
    file version and the files of the folder.
  - Use it to copy the tool's whole folder, in the version of the site, to the computers that run it (see
    M(configmgr.scp.file_transfer)). Changes nothing.
options:
  tool_path:
    description:
      - The folder to look in (or the executable itself), a full Windows path. Defaults to the folder under the
        installation directory.
    type: str
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; the same in check mode.
  diff_mode:
    support: none
requirements:
  - The Windows host runs Windows PowerShell 5.1 and is reached with the C(winrm) or C(psrp) connection.
seealso:
  - module: configmgr.scp.service_connection_tool
  - module: configmgr.scp.file_transfer
  - name: Use the service connection tool
    description: Where the tool is, and that its whole folder, in the site's version, must be copied.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/manage/use-the-service-connection-tool
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Where is the tool on the top-level site server?
  configmgr.scp.service_connection_tool_info:
  delegate_to: cas.contoso.com
  register: sct

- name: Copy its folder to the controller
  configmgr.scp.file_transfer:
    direction: fetch
    src: "{{ sct.tool_path }}"
    dest: "{{ playbook_dir }}/transfer/ServiceConnectionTool"
  delegate_to: cas.contoso.com
  when: sct.found
"""

RETURN = r"""
found:
  description: Whether C(ServiceConnectionTool.exe) is there.
  returned: always
  type: bool
  sample: true
installation_directory:
  description: The Configuration Manager installation directory from the registry (null with I(tool_path), or on a
    host that is not a site server).
  returned: always
  type: str
  sample: C:\Program Files\Microsoft Configuration Manager
tool_path:
  description: The folder looked in (null when no installation directory is known).
  returned: always
  type: str
  sample: C:\Program Files\Microsoft Configuration Manager\CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool
executable:
  description: The executable's full path.
  returned: always
  type: str
version:
  description: The executable's file version.
  returned: always
  type: str
  sample: 5.00.9128.1000
files:
  description: The names of the files in the tool's folder.
  returned: always
  type: list
  elements: str
  sample: [ServiceConnectionTool.exe, ServiceConnectionTool.exe.config]
transport_failure:
  description:
    - When the connection failed, the host, the WinRM operation (C(connect), C(start the command), C(send the
      plan), C(read the result), C(close the command)), the failure in words, and whether the plan ran (C(false))
      or nobody knows (C(null)). The transport's own text is shown with C(-vvv). Nothing changed and the task's
      own host unreachable - the task is UNREACHABLE; otherwise it fails.
  returned: failure of the connection
  type: dict
  sample: {host: scp01.contoso.com, operation: connect, reason: the connection was refused, plan_ran: false}
"""
