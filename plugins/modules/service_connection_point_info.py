#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: service_connection_point_info
short_description: Where the ConfigMgr service connection point is, its mode, and the top-level site
version_added: 0.1.0
description:
  - Reads the sites of the hierarchy and the service connection point (SCP) role, in one round trip to the
    SMS Provider, and reports where the SCP is, in which mode, and whether that placement is valid (one
    SCP, at the top-level site).
  - Never changes anything.
requirements:
  - On the SMS Provider host the task runs on (or reaches with I(provider_server)) - Windows PowerShell 5.1 and WinRM
    access for the connection user (a member of C(Administrators) or C(Remote Management Users) there).
  - It only reads the SMS Provider's WMI classes - no ConfigurationManager module, and an administrative user with a
    read-only security role (for example Read-only Analyst) is enough.
options: {}
extends_documentation_fragment:
  - configmgr.scp.provider
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
    details: Reads only; check mode changes nothing.
  diff_mode:
    support: none
seealso:
  - module: configmgr.scp.service_connection_point
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Find the service connection point
  configmgr.scp.service_connection_point_info:
  register: scp_info

- name: Fail when the SCP is not where the hierarchy needs it
  ansible.builtin.assert:
    that: scp_info.placement_ok
    fail_msg: "SCP placement: {{ scp_info.service_connection_points }}"
"""

RETURN = r"""
service_connection_point:
  description: The SCP (the first one found when there are several).
  returned: always
  type: dict
  sample: {present: true, site_code: CAS, site_system_server: scp01.contoso.com, mode: online}
  contains:
    present:
      description: Whether an SCP exists.
      type: bool
    site_code:
      description: Site of the SCP.
      type: str
    site_system_server:
      description: FQDN of its server.
      type: str
    mode:
      description: C(online) or C(offline).
      type: str
service_connection_points:
  description: Every SCP role found in the hierarchy (normally zero or one).
  returned: always
  type: list
  elements: dict
  sample: [{site_code: PS1, site_system_server: ps1.contoso.com, mode: online, at_top_level_site: false}]
top_level_site:
  description: The top-level site (the site without a parent).
  returned: always
  type: dict
  sample: {site_code: CAS, site_name: Central, parent_site_code: null, type: cas, server: cas.contoso.com}
sites:
  description: Every site the SMS Provider reports, with its parent and type (C(cas), C(primary), C(secondary)).
  returned: always
  type: list
  elements: dict
placement_ok:
  description: True when there is exactly one SCP and it is at the top-level site.
  returned: always
  type: bool
  sample: true
"""
