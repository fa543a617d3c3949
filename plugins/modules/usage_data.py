#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: usage_data
short_description: Set the usage data level (Basic, Enhanced, Full) of a ConfigMgr hierarchy
version_added: 0.1.0
description:
  - Sets the level of usage data (diagnostic data) the hierarchy gives Microsoft through its service connection
    point - C(basic), C(enhanced) (Configuration Manager's default) or C(full). It is a setting of the whole
    hierarchy (the console's Hierarchy Settings, "Diagnostic and Usage Data").
  - Reads the current level through CIM from the SMS Provider - the C(TelemetryLevel) property of the
    C(SMS_SCI_SCProperty) WMI class (1 Basic, 2 Enhanced, 3 Full) - and changes it only when it differs, with
    C(Set-CMHierarchySetting -TelemetryLevel). An unchanged task is one read.
  - With an SCP in offline mode, the level decides what C(prepare) of M(configmgr.scp.service_connection_tool)
    exports.
  - Run the task on the SMS Provider host of the top-level site, see I(provider_server).
options:
  level:
    description: The usage data level.
    type: str
    required: true
    choices: [basic, enhanced, full]
extends_documentation_fragment:
  - configmgr.scp.provider
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
requirements:
  - The SMS Provider host runs Windows PowerShell 5.1 with the ConfigurationManager module (the console) for a change;
    a read needs only CIM.
  - The account needs Modify on the Site class to change the level.
seealso:
  - module: configmgr.scp.service_connection_tool
  - module: configmgr.scp.service_connection_point
  - name: Diagnostics and usage data levels
    description: What each level sends, and how to change it.
    link: https://learn.microsoft.com/mem/configmgr/core/plan-design/diagnostics/levels-overview
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Send only basic usage data
  configmgr.scp.usage_data:
    level: basic

- name: Back to the default
  configmgr.scp.usage_data:
    level: enhanced
    provider_server: cas.contoso.com
"""

RETURN = r"""
before:
  description: The level as found (C(level) is null when the provider shows none).
  returned: always
  type: dict
  sample: {level: enhanced}
after:
  description: The level afterwards, as read back from the SMS Provider (predicted in check mode).
  returned: always
  type: dict
  sample: {level: basic}
top_level_site:
  description: Site code of the top-level site of the hierarchy.
  returned: always
  type: str
  sample: CAS
completed_actions:
  description: When the task failed after the change, the change that was made.
  returned: failure after a partial change
  type: list
  elements: str
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
