#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: service_connection_point
short_description: Install, remove, move and set the mode of the ConfigMgr service connection point
version_added: 0.1.0
description:
  - Ensures the service connection point (SCP, site system role C(SMS Dmp Connector)) of a Configuration
    Manager hierarchy is installed on a given site system server at the top-level site, in the given mode,
    or is absent.
  - A hierarchy has a single SCP and it can only be installed at the top-level site (the central
    administration site, or a stand-alone primary site). When the SCP is found elsewhere - for example on
    a primary site that was expanded into a hierarchy - the module moves it only with I(allow_move=true);
    it removes the role from the old server and adds it on the new one.
  - The module reads the current state first, decides in Python, and changes only what differs. Check mode
    never writes; diff mode shows the SCP before and after.
  - After a mode change the C(SMS_DMP_DOWNLOADER) component of C(SMS_Executive) on the SCP server must
    restart before the new mode takes effect; the module reports this in I(restart_required).
  - Run the task on the SMS Provider host (usually the top-level site server), see I(provider_server).
options:
  state:
    description:
      - C(present) installs the SCP on I(site_system_server) (moving it there with I(allow_move)) and sets
        I(mode).
      - C(absent) removes the SCP from I(site_system_server), or from wherever it is when
        I(site_system_server) is omitted.
    type: str
    choices: [present, absent]
    default: present
  site_system_server:
    description:
      - FQDN of the site system server that hosts (or must not host) the SCP.
      - The server must already be a site system server of the top-level site, see
        M(configmgr.scp.site_system_server).
      - Required when I(state=present).
    type: str
    aliases: [server]
  site_code:
    description:
      - Site code of the site for the SCP. Only the top-level site is accepted.
      - Defaults to the top-level site, discovered from the sites of the hierarchy.
    type: str
  mode:
    description:
      - C(online) or C(offline) (offline uses the Service Connection Tool).
      - When omitted, an existing SCP keeps its mode, a moved SCP keeps the mode it had, and a new SCP is
        added C(online).
    type: str
    choices: [online, offline]
  allow_move:
    description:
      - Allow removing the SCP from another server or site to install it on I(site_system_server).
      - When C(false) and the SCP is elsewhere, the module fails and says where it is.
    type: bool
    default: false
extends_documentation_fragment:
  - configmgr.scp.provider
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
attributes:
  action:
    support: full
  async:
    support: none
  bypass_host_loop:
    support: none
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: windows
notes:
  - Role installation by Site Component Manager is asynchronous; this module records the desired state in
    the site and returns. The role then installs on the server.
  - A move removes the SCP before adding it again, so the hierarchy never has two. If the add fails after
    the remove, the result says so and running the task again finishes the move.
seealso:
  - module: configmgr.scp.service_connection_point_info
  - module: configmgr.scp.site_system_server
  - name: About the service connection point
    description: Microsoft documentation of the role, its modes and how to move it.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/deploy/configure/about-the-service-connection-point
author:
  - configmgr.scp contributors
"""

EXAMPLES = r"""
- name: Install the service connection point online on a dedicated server at the CAS
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    mode: online

- name: Move it there from the primary site it was on before the expansion
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    allow_move: true
  register: scp

- name: Switch to offline mode; the downloader restart is required afterwards
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    mode: offline
  register: scp_mode

- name: Remove the service connection point wherever it is
  configmgr.scp.service_connection_point:
    state: absent

- name: Talk to a remote SMS Provider with explicit credentials
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    provider_server: cas.contoso.com
    provider_site_code: CAS
    provider_username: CONTOSO\cm-admin
    provider_password: "{{ vault_cm_admin_password }}"
"""

RETURN = r"""
before:
  description: The SCP as it was found.
  returned: always
  type: dict
  sample: {present: true, site_code: PS1, site_system_server: ps1.contoso.com, mode: online}
  contains:
    present:
      description: Whether an SCP exists in the hierarchy.
      type: bool
    site_code:
      description: Site code of the site the SCP belongs to.
      type: str
    site_system_server:
      description: FQDN of the server hosting the SCP.
      type: str
    mode:
      description: C(online) or C(offline).
      type: str
after:
  description:
    - The SCP after the change, as read back from the site (predicted in check mode).
  returned: always
  type: dict
  sample: {present: true, site_code: CAS, site_system_server: scp01.contoso.com, mode: online}
top_level_site:
  description: Site code of the top-level site of the hierarchy.
  returned: always
  type: str
  sample: CAS
actions:
  description: What the module did (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
  sample:
    - remove the service connection point from ps1.contoso.com (site PS1)
    - add the service connection point on scp01.contoso.com (site CAS, online)
restart_required:
  description:
    - Whether the mode changed, so C(SMS_DMP_DOWNLOADER) on the SCP server must restart before the new mode
      takes effect.
  returned: always
  type: bool
  sample: false
restart_component:
  description: The component to restart when I(restart_required), else null.
  returned: always
  type: str
  sample: SMS_DMP_DOWNLOADER
completed_actions:
  description: When a change failed midway, the actions that were done before the failure.
  returned: failure after a partial change
  type: list
  elements: str
failed_step:
  description: The plan step that failed, its cmdlet and the PowerShell error identifiers.
  returned: failure
  type: dict
  sample: {id: add_1, cmdlet: Add-CMServiceConnectionPoint, stage: step, category: InvalidOperation}
"""
