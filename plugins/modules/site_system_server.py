#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: site_system_server
short_description: Make a server a ConfigMgr site system server, or remove it
version_added: 0.1.0
description:
  - Ensures a server is (or is not) a site system server of a Configuration Manager site, and which account
    the site uses to install and manage roles on it - the site server's computer account, or a site system
    installation account.
  - Reads first, changes only what differs; check mode and diff are supported.
  - Refuses to remove a server that still holds roles other than the site system role, and names them.
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
  site_system_server:
    description: FQDN of the server.
    type: str
    required: true
    aliases: [server]
  site_code:
    description:
      - Site the server belongs to. Defaults to the top-level site of the hierarchy.
    type: str
  state:
    description: Whether the server is a site system server of the site.
    type: str
    choices: [present, absent]
    default: present
  use_site_server_account:
    description:
      - Use the site server's computer account to install roles on the server. That account must be a
        member of the local Administrators group of the server.
      - A new site system server uses it when neither this option nor I(installation_account) is set; an
        existing one keeps its setting.
      - Mutually exclusive with I(installation_account).
    type: bool
  installation_account:
    description:
      - Site system installation account (C(DOMAIN\user)). It must already exist in Configuration Manager
        (C(New-CMAccount)) and be a local administrator of the server.
      - Mutually exclusive with I(use_site_server_account).
    type: str
  enable_proxy:
    description:
      - Whether the roles of this server (the service connection point among them) reach the internet through a
        proxy. There is one proxy configuration per site system server, shared by all its roles.
      - Implied by I(proxy_server). C(false) removes the proxy and cannot be combined with the other proxy options.
    type: bool
  proxy_server:
    description:
      - FQDN, host name, IPv4 or IPv6 address of the proxy. Required when the proxy is enabled.
    type: str
  proxy_port:
    description:
      - Port of the proxy, 1-65535. When the proxy is enabled without a port and none is configured yet,
        Configuration Manager's default C(80) is used (with a warning).
    type: int
  proxy_account:
    description:
      - Site system proxy server account (C(DOMAIN\user)) for proxies that need authentication. It must already
        exist in Configuration Manager (M(configmgr.scp.cm_account)).
      - Configuration Manager keeps an account once per site. When it exists at several sites, the module uses the
        one of the site system's site, else the one of the SMS Provider's site, else the one of the top-level site.
      - An empty string goes back to the computer account (the default when no proxy account is set).
      - The cmdlet resets what it is not sent, so whenever anything about the proxy changes the module sends the
        server, the port and the account together.
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
seealso:
  - module: configmgr.scp.service_connection_point
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Make scp01 a site system server of the top-level site, installed with the site server's account
  configmgr.scp.site_system_server:
    site_system_server: scp01.contoso.com
    use_site_server_account: true

- name: Use a site system installation account instead
  configmgr.scp.site_system_server:
    site_system_server: scp01.contoso.com
    site_code: CAS
    installation_account: CONTOSO\cm-install

- name: Reach the internet through an authenticating proxy
  configmgr.scp.site_system_server:
    site_system_server: scp01.contoso.com
    proxy_server: proxy.contoso.com
    proxy_port: 3128
    proxy_account: CONTOSO\cm-proxy

- name: Remove the server from the site once it holds no roles
  configmgr.scp.site_system_server:
    site_system_server: old-scp.contoso.com
    state: absent
"""

RETURN = r"""
before:
  description: The site system server as found.
  returned: always
  type: dict
  sample: {present: false, site_code: null, site_system_server: null, use_site_server_account: null, installation_account: null}
  contains:
    present:
      description: Whether the server is a site system server of the site.
      type: bool
    site_code:
      description: The site.
      type: str
    site_system_server:
      description: FQDN of the server.
      type: str
    use_site_server_account:
      description: Whether the site server's computer account installs roles on it.
      type: bool
    installation_account:
      description: The site system installation account, when one is used.
      type: str
    enable_proxy:
      description: Whether a proxy is configured.
      type: bool
    proxy_server:
      description: The proxy.
      type: str
    proxy_port:
      description: Its port.
      type: int
    proxy_account:
      description: The proxy account, or null for the computer account.
      type: str
after:
  description: The site system server after the change (read back; predicted in check mode).
  returned: always
  type: dict
  sample: {present: true, site_code: CAS, site_system_server: scp01.contoso.com, use_site_server_account: true, installation_account: null}
failed_step:
  description: The plan step that failed, its cmdlet and the PowerShell error identifiers.
  returned: failure
  type: dict
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
