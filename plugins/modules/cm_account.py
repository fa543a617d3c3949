#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: cm_account
short_description: Ensure a Configuration Manager account exists, such as the site system installation or proxy account
version_added: 0.1.0
description:
  - Creates, updates the password of, or removes an account that Configuration Manager stores
    (C(New-CMAccount)), for example the site system installation account or the site system proxy server
    account used by M(configmgr.scp.site_system_server).
  - The password travels only on the engine's standard input and becomes a C(SecureString) there; it never
    appears on a command line, in the result, in a diff or in a log.
  - A stored password cannot be read back, so it cannot be compared. I(update_password=on_create) (the
    default) sets it only when the account is created; I(update_password=always) sets it on every run and
    therefore always reports a change.
requirements:
  - On the SMS Provider host the task runs on (or reaches with I(provider_server)) - Windows PowerShell 5.1 and WinRM
    access for the connection user (a member of C(Administrators) or C(Remote Management Users) there).
  - Reads (check mode, an unchanged run) query the SMS Provider's WMI classes and need no ConfigurationManager
    module; a change imports it, so the Configuration Manager console (which installs the module) must be on that
    host, or I(module_path) must name it.
  - Configuration Manager rights - reading needs an administrative user with a read-only security role (for
    example Read-only Analyst); a change needs a role that may modify the site, such as Full Administrator or
    Infrastructure Administrator.
options:
  name:
    description: The account in C(DOMAIN\user) form.
    type: str
    required: true
    aliases: [user_name]
  password:
    description:
      - Password of the account. Required to create it.
    type: str
  update_password:
    description: When to set the password of an existing account.
    type: str
    choices: [always, on_create]
    default: on_create
  state:
    description: Whether the account exists in Configuration Manager.
    type: str
    choices: [present, absent]
    default: present
  site_code:
    description:
      - Site of the account. Defaults to the site of the SMS Provider.
      - Configuration Manager keeps an account once per site; the module reads, creates, updates and removes the
        account of this site only. An account of the same name at another site is another account.
    type: str
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
    details: Shows whether the account exists; never the password.
seealso:
  - module: configmgr.scp.site_system_server
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The site system installation account
  configmgr.scp.cm_account:
    name: CONTOSO\cm-install
    password: "{{ vault_cm_install_password }}"

- name: Rotate the proxy account's password
  configmgr.scp.cm_account:
    name: CONTOSO\cm-proxy
    password: "{{ vault_cm_proxy_password }}"
    update_password: always
"""

RETURN = r"""
before:
  description: Whether the account existed at the site, its name as stored, and the site.
  returned: always
  type: dict
  sample: {present: false, name: null, site_code: null}
after:
  description: The account afterwards.
  returned: always
  type: dict
  sample: {present: true, name: CONTOSO\cm-install, site_code: CAS}
password_updated:
  description: Whether the password was (in check mode, would be) set.
  returned: always
  type: bool
  sample: true
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
