#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: local_group_member
short_description: Ensure principals are, or are not, members of a local group on a Windows host
version_added: 0.1.0
description:
  - Adds or removes domain or local principals to or from a local group of the target host, by default
    C(Administrators). Computer accounts are written C(DOMAIN\NAME$).
  - The C(Administrators) group is addressed by its well-known SID C(S-1-5-32-544), so the task works on
    Windows in any language (where the group is called C(Administratoren), C(Administrateurs), ...).
  - The typical use is the prerequisite of a remote service connection point, where the site server's
    computer account must be a local administrator of the server that hosts the role (unless a site system
    installation account is used).
  - Reads the members, with their SIDs, first and changes only what differs. A member given as a SID is compared
    by SID; a name is compared case-insensitively, as Windows does. Windows resolves a name when it adds it; if
    it is a member already under another spelling (C(contoso.com\CAS01$) for C(CONTOSO\CAS01$)), that is the
    desired state and no change. Give C(NETBIOS\name) or the SID for an exact check-mode prediction.
  - Each member is added or removed in a step of its own. When one fails (an unknown principal), the others
    are still done, and the failed task reports C(changed=true) with C(completed_actions) when any was.
  - Runs on the host whose group it changes (the play's host or C(delegate_to)).
requirements:
  - On the host whose group it changes - Windows Server 2016 or later (the C(Microsoft.PowerShell.LocalAccounts)
    module of Windows PowerShell 5.1) and WinRM access for the connection user.
  - Reading the members (check mode, an unchanged run) works as a member of C(Remote Management Users); adding or
    removing one needs a member of the local C(Administrators) group.
options:
  group:
    description: Name of the local group, or its SID. C(Administrators) is always the group C(S-1-5-32-544).
    type: str
    default: Administrators
  members:
    description:
      - Principals in C(DOMAIN\name) form, for example C(CONTOSO\CAS01$) for the computer account of the site
        server C(cas01), or C(CONTOSO\cm-admins) for a domain group, or their SIDs (C(S-1-5-21-...)).
    type: list
    elements: str
    required: true
  state:
    description:
      - C(present) adds the members that are missing; other members stay.
      - C(absent) removes the listed members that are in the group.
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
  - Use this module for the prerequisite of a remote site system (the site server's computer account in the local
    C(Administrators) group) - it compares members by SID, addresses C(Administrators) by its well-known SID on any
    language of Windows, adds each member in its own step, and a failure after a member was added still reports
    C(changed=true) with C(completed_actions).
  - Use M(ansible.windows.win_group_membership) for an exact membership (C(state=pure)), or on hosts where members
    are compared by name only.
seealso:
  - module: configmgr.scp.site_system_server
  - module: ansible.windows.win_group_membership
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Let the site server install roles on the SCP server
  configmgr.scp.local_group_member:
    members:
      - CONTOSO\CAS01$
  delegate_to: scp01.contoso.com

- name: Remove an installation account that is no longer used
  configmgr.scp.local_group_member:
    group: Administrators
    members: [CONTOSO\old-cm-install]
    state: absent
"""

RETURN = r"""
group:
  description: The group.
  returned: always
  type: str
  sample: Administrators
added:
  description: Members that were (in check mode, would be) added.
  returned: always
  type: list
  elements: str
  sample: [CONTOSO\CAS01$]
removed:
  description: Members that were (in check mode, would be) removed.
  returned: always
  type: list
  elements: str
  sample: []
members:
  description: The members of the group afterwards (read back; predicted in check mode).
  returned: always
  type: list
  elements: str
  sample: [CONTOSO\Domain Admins, CONTOSO\CAS01$]
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
