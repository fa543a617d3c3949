# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  provider_server:
    description:
      - FQDN of the SMS Provider to open the C(CMSite) drive against.
      - When omitted, the provider of the site of the host the task runs on is discovered through the
        C(SMS_ProviderLocation) WMI class.
      - Run the task on the SMS Provider host itself (the play's host or C(delegate_to)) whenever you can;
        a remote provider is a second hop of the WinRM session and needs I(provider_username) and
        I(provider_password) (or Kerberos delegation / CredSSP).
    type: str
  provider_site_code:
    description:
      - Site code of the SMS Provider's site, used as the name of the C(CMSite) drive.
      - Discovered together with I(provider_server) when omitted.
    type: str
  provider_username:
    description:
      - Account (C(DOMAIN\user)) for an explicit C(CMSite) drive connection, for a provider other than the
        task's host.
      - Also the answer to the WinRM double hop - the modules do not support C(become).
      - Requires I(provider_password).
    type: str
  provider_password:
    description:
      - Password of I(provider_username). Sent only on the engine's standard input, never on a command line,
        and removed from results and logs.
    type: str
  module_path:
    description:
      - Absolute Windows path of C(ConfigurationManager.psd1) on the task's host, or of a folder named
        C(ConfigurationManager) that holds it, for example
        C(D:\ConfigMgr\AdminConsole\bin\ConfigurationManager.psd1).
      - Sent to Windows exactly as written - the controller never expands C(~), C($VAR) or C(%VAR%) in it. A relative
        path, C(.) or C(..) parts, control characters, wildcards and characters Windows refuses in file names are
        refused before anything is sent.
      - By default the module is imported by name (on C(PSModulePath) since ConfigMgr 2111), then from the
        folder above C(SMS_ADMIN_UI_PATH).
    type: str
notes:
  - C(become) is refused, never ignored - the engine runs through the task's own connection, where runas does not
    apply. Use I(provider_username) and I(provider_password) for a remote SMS Provider.
  - All options of this fragment can be set once for every module of the collection with
    C(module_defaults) and the action group C(group/configmgr.scp.configmgr).
  - The module runs on the controller and sends one fixed PowerShell command over the task's connection
    (C(winrm) or C(psrp)); the plan travels on standard input, so no data reaches the command line.
"""
