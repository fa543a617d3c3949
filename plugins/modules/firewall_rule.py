#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: firewall_rule
short_description: Ensure a Windows Firewall rule, comparing every property
version_added: 0.1.0
description:
  - Creates, changes or removes a Windows Firewall rule identified by its unique I(name), through the
    NetSecurity cmdlets.
  - Reads the rule and its port filter first and compares every property the task sets; only the properties
    that differ are changed. Properties the task does not set keep their current values (a new rule gets the
    defaults shown below).
  - The service connection point needs outbound TCP 443 to the Microsoft cloud endpoints; this module opens it
    where outbound traffic is blocked by default.
requirements:
  - On the host whose firewall it changes - Windows Server 2012 or later (the C(NetSecurity) module), Windows
    PowerShell 5.1, and WinRM access for the connection user.
  - Reading a rule (check mode, an unchanged run) works as a member of C(Remote Management Users); creating,
    changing or removing one needs a member of the local C(Administrators) group.
options:
  name:
    description:
      - Unique name of the rule (not the display name).
      - Taken literally, never as a pattern. C(WINRM*) is the rule named C(WINRM*), never
        C(WINRM-HTTP-In-TCP), and C(*) with I(state=absent) removes only a rule named C(*). The NetSecurity
        cmdlets accept wildcards in C(-Name); the module escapes them and compares the name exactly.
    type: str
    required: true
  display_name:
    description: Display name. A new rule defaults to I(name). An existing rule is renamed when it differs.
    type: str
  description:
    description: Description of the rule.
    type: str
  direction:
    description: Traffic direction. A new rule defaults to C(inbound).
    type: str
    choices: [inbound, outbound]
  action:
    description: Allow or block. A new rule defaults to C(allow).
    type: str
    choices: [allow, block]
  protocol:
    description:
      - IP protocol. A new rule defaults to C(any).
      - I(local_port) and I(remote_port) need C(tcp) or C(udp).
    type: str
    choices: [tcp, udp, any]
  local_port:
    description: Local ports or ranges (C(5000-5010)). An empty list means any port.
    type: list
    elements: str
  remote_port:
    description: Remote ports or ranges. An empty list means any port.
    type: list
    elements: str
  profiles:
    description: Network profiles the rule applies to. C(any) means all. A new rule defaults to C(any).
    type: list
    elements: str
    choices: [any, domain, private, public]
  enabled:
    description: Whether the rule is enabled. A new rule defaults to C(true).
    type: bool
  state:
    description: Whether the rule exists.
    type: str
    choices: [present, absent]
    default: present
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Use this module for the rules a Configuration Manager plan needs (the SCP's outbound TCP 443) - it reads the rule
    and its port filter in one round trip, compares every property it manages, reports the properties that change
    (C(changes), the diff) in check mode, and takes I(name) literally, never as a wildcard.
  - Use M(ansible.windows.win_firewall_rule) for what this module does not manage - programs, services, addresses,
    ICMP types, interface types, edge traversal.
seealso:
  - module: ansible.windows.win_firewall_rule
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Outbound HTTPS for the service connection point
  configmgr.scp.firewall_rule:
    name: ConfigMgr-SCP-HTTPS-Out
    display_name: ConfigMgr service connection point (HTTPS out)
    direction: outbound
    action: allow
    protocol: tcp
    remote_port: ["443"]
    profiles: [domain]

- name: Remove a rule
  configmgr.scp.firewall_rule:
    name: Old-Rule
    state: absent
"""

RETURN = r"""
changes:
  description: The properties that differed (C(present) when the rule is created or removed).
  returned: always
  type: list
  elements: str
  sample: [remote_port, enabled]
before:
  description: The rule as found (C(present=false) when it did not exist).
  returned: always
  type: dict
  sample: {present: false}
after:
  description: The rule afterwards (read back; predicted in check mode).
  returned: always
  type: dict
  sample:
    present: true
    name: ConfigMgr-SCP-HTTPS-Out
    display_name: ConfigMgr service connection point (HTTPS out)
    description: null
    direction: outbound
    action: allow
    enabled: true
    profiles: [domain]
    protocol: tcp
    local_port: []
    remote_port: ["443"]
completed_actions:
  description:
    - When the task failed after a change, the changes that were done before the failure. The task then reports
      C(changed=true); run it again to finish (it reads the state first).
  returned: failure after a partial change
  type: list
  elements: str
unknown_actions:
  description:
    - When the connection failed while a change was sent or its result read, the changes nobody can tell were made
      (a fresh read resolves what it can, and the message says what it shows). The task then reports
      C(changed=true).
  returned: failure of the connection after a change may have happened
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
