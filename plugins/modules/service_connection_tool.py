#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: service_connection_tool
short_description: Run the ConfigMgr Service Connection Tool (prepare, connect, import, export) for an offline SCP
version_added: 0.1.0
description:
  - Runs C(ServiceConnectionTool.exe), the tool that brings updates to a Configuration Manager hierarchy whose
    service connection point (SCP) is in offline mode, and reports what it did.
  - C(prepare) (on the SCP server) exports the hierarchy's usage data to a C(.cab) file. C(connect) (on a computer
    with internet access) uploads usage data files and downloads the update packs that apply to them.
    C(import) (on the SCP server) imports the update packs into the hierarchy. C(export) (on the SCP server)
    writes the usage data to a C(.csv) file to review it.
  - The tool is found where Configuration Manager keeps it - C(CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool)
    under the installation directory named by C(HKLM\SOFTWARE\Microsoft\SMS\Setup) C(Installation Directory) on a
    site server - or in I(tool_path). On another computer (the internet-connected one, or an SCP server that is not
    a site server) copy the whole folder there first (all its files in one folder, the version of the site), for
    example with M(configmgr.scp.file_transfer).
  - C(prepare) and C(import) are refused, before the tool runs and in check mode, when the SCP is in online mode
    (the tool would refuse as well), when the hierarchy has no SCP, or when the task's host is not the SCP server.
    The mode is read from the SMS Provider through CIM (see I(provider_host)).
  - C(import) is idempotent - it compares the update pack folders (one per package GUID) in I(update_pack_src) with
    the updates the hierarchy already has (the C(SMS_CM_UpdatePackages) WMI class) and runs the tool only when one
    is new; C(changed) says whether an update was imported. C(prepare), C(connect) and C(export) always run the
    tool and report a change - each run writes fresh data (usage data, and the update packs Microsoft offers now),
    so an existing file is never a reason to skip; guard the task with C(when) to run it less often.
  - The tool starts through C(Start-Process -Wait) with the executable and each argument as data. Start-Process
    joins the arguments with single spaces, so the module quotes each one on the controller by the rules Windows
    uses to split a command line; a path with spaces, quotes, C($()), backticks, C(%) or non-ASCII letters
    reaches the tool as one, unchanged argument. Characters no Windows path may hold are refused before anything
    is sent.
  - A non-zero exit code fails the task with the tool's error lines; the result still carries the exit code, the
    output and the log lines. The known, harmless C(UnauthorizedAccessException) at the end of C(connect)
    (C(...\extractmanifestcab\...)) is a warning, not a failure.
options:
  action:
    description:
      - C(prepare), C(connect), C(import) or C(export).
    type: str
    required: true
    choices: [prepare, connect, import, export]
  tool_path:
    description:
      - The folder that holds C(ServiceConnectionTool.exe) (or the executable itself) on the task's host.
      - Defaults to C(CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool) under the Configuration Manager installation
        directory (a site server); required on any other computer.
      - A full Windows path; see I(usage_data_dest) for the characters it may hold. It may not hold C([) or C(]) -
        the tool is started with C(Start-Process), which reads this path as a wildcard pattern.
    type: str
  usage_data_dest:
    description:
      - C(prepare) - the C(.cab) file to write the usage data to, on the SCP server. Its folder must exist.
      - A full path with a drive letter (C(/) is read as C(\)); spaces, quotes other than C("), C($), backticks,
        C(%) and non-ASCII letters are carried literally. C(") C(<) C(>) C(|) C(?) C(*), control characters,
        C(.) or C(..) segments and paths over 259 characters are refused.
    type: str
  usage_data_src:
    description:
      - C(connect) - a usage data file, or a folder of them (several hierarchies' files, each with its own name,
        are uploaded in one run).
    type: str
  update_pack_dest:
    description:
      - C(connect) - the folder to download the update packs to. Its parent folder must exist.
    type: str
  update_pack_src:
    description:
      - C(import) - the folder of update packs that C(connect) downloaded (with C(ConfigMgr.Update.Manifest.enc)).
    type: str
  export_dest:
    description:
      - C(export) - the C(.csv) file to write the usage data to. Its folder must exist.
    type: str
  proxy_server_uri:
    description:
      - C(connect) - the proxy to reach Microsoft through (C(-proxyserveruri)) - C(proxy.contoso.com),
        C(proxy.contoso.com:8080) or C(http://proxy.contoso.com:8080).
    type: str
  proxy_username:
    description:
      - C(connect) - the proxy account (C(-proxyusername)), C(user), C(DOMAIN\user) or C(user@domain).
      - The tool has no switch for the proxy password, and the module cannot pass one - if the tool asks for it on
        its console, nobody can answer through WinRM. Use a proxy that lets the internet-connected computer
        through without a password (or authenticates the account the task runs as).
    type: str
  download:
    description:
      - C(connect) - which update packs to download.
      - C(latest) (the tool's default) - only the latest update that applies, no hotfixes.
        C(all) (C(-downloadall)) - every update and hotfix whatever the version. C(hotfix) (C(-downloadhotfix)) -
        every hotfix. C(site_version) (C(-downloadsiteversion)) - updates and hotfixes newer than the site's version.
    type: str
    choices: [latest, all, hotfix, site_version]
    default: latest
  provider_host:
    description:
      - C(prepare) and C(import) - the inventory host of the SMS Provider (usually the top-level site server). The
        module connects to it directly, as C(delegate_to) would, to read the SCP's mode and the hierarchy's updates
        through CIM.
      - Without it, the read runs on the task's host - an SCP server that is an SMS Provider itself, or with
        I(provider_server), I(provider_username) and I(provider_password) (a second hop needs explicit credentials).
    type: str
extends_documentation_fragment:
  - configmgr.scp.provider
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads everything, checks the tool and the paths, refuses what the tool would refuse, and returns the command it
        would run (for C(import), the update packs it would import); runs nothing.
  diff_mode:
    support: none
notes:
  - The task waits until the tool exits. C(connect) can download several gigabytes; the WinRM connection must stay up
    that long.
  - The tool writes C(ServiceConnectionTool.log) next to itself (replaced by each run); C(connect) also writes
    C(ConfigMgrSetup.log) at the root of the system drive. The module returns the lines of this run. Its standard
    output and error go to C(ServiceConnectionTool.stdout.txt) and C(ServiceConnectionTool.stderr.txt) in the tool's
    folder, replaced by each run.
  - The account the task runs as must be a local administrator of the SCP server with read access to the site
    database (C(prepare), C(import), C(export)); the computers need 64-bit Windows, the Visual C++ redistributables and
    .NET 4.6.2 or later, and C(connect) needs TLS 1.2 for .NET on the internet-connected computer.
requirements:
  - The Windows host runs Windows PowerShell 5.1 and is reached with the C(winrm) or C(psrp) connection.
  - The Service Connection Tool of the hierarchy's version on the task's host.
  - For C(prepare) and C(import), the service connection point in offline mode.
seealso:
  - module: configmgr.scp.service_connection_point
  - module: configmgr.scp.file_transfer
  - module: configmgr.scp.service_connection_tool_info
  - module: configmgr.scp.usage_data
  - name: Use the service connection tool
    description: Microsoft's documentation of the tool, its switches and its prerequisites.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/manage/use-the-service-connection-tool
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Export the usage data on the SCP server
  configmgr.scp.service_connection_tool:
    action: prepare
    usage_data_dest: D:\ServiceConnection\UsageData.cab
    provider_host: cas.contoso.com
  delegate_to: scp01.contoso.com

- name: Upload it and download the update packs on the internet-connected computer
  configmgr.scp.service_connection_tool:
    action: connect
    tool_path: C:\Tools\ServiceConnectionTool
    usage_data_src: D:\ServiceConnection\UsageData
    update_pack_dest: D:\ServiceConnection\UpdatePacks
    proxy_server_uri: proxy.contoso.com:8080
    download: site_version
  delegate_to: inet01.contoso.com

- name: Import the update packs the hierarchy does not have yet
  configmgr.scp.service_connection_tool:
    action: import
    update_pack_src: D:\ServiceConnection\UpdatePacks
    provider_host: cas.contoso.com
  delegate_to: scp01.contoso.com
  register: imported

- name: Review the usage data
  configmgr.scp.service_connection_tool:
    action: export
    export_dest: D:\ServiceConnection\UsageData.csv
  delegate_to: scp01.contoso.com
"""

RETURN = r"""
action:
  description: The action.
  returned: always
  type: str
  sample: import
ran:
  description: Whether the tool ran (false in check mode, and for an C(import) with nothing new).
  returned: always
  type: bool
  sample: true
tool_path:
  description: The tool's folder on the task's host.
  returned: always
  type: str
  sample: C:\Program Files\Microsoft Configuration Manager\CD.Latest\SMSSETUP\TOOLS\ServiceConnectionTool
executable:
  description: The tool's executable.
  returned: always
  type: str
  sample: C:\Tools\ServiceConnectionTool\ServiceConnectionTool.exe
tool_version:
  description: The executable's file version.
  returned: when the tool would run
  type: str
  sample: 5.00.9128.1000
command:
  description: The executable and each argument, as data.
  returned: always
  type: list
  elements: str
  sample: [C:\Tools\ServiceConnectionTool\ServiceConnectionTool.exe, -import, -updatepacksrc, D:\Packs]
command_line:
  description: The command line Windows gives the tool, each argument quoted as needed.
  returned: always
  type: str
  sample: '"C:\Tools\ServiceConnectionTool\ServiceConnectionTool.exe" -prepare -usagedatadest "D:\Service Connection\UsageData.cab"'
exit_code:
  description:
    - The tool's exit code (0 on success; -532462766, 0xE0434352, for an unhandled .NET exception). Not named C(rc),
      which Ansible would take as a failure for the harmless exception that ends a complete C(connect).
  returned: when the tool ran
  type: int
  sample: 0
stdout_lines:
  description: What the tool wrote to its standard output.
  returned: when the tool ran
  type: list
  elements: str
stderr_lines:
  description: What the tool wrote to its standard error.
  returned: when the tool ran
  type: list
  elements: str
tool_log:
  description: The messages of C(ServiceConnectionTool.log) (the tool replaces it on every run).
  returned: when the tool ran
  type: list
  elements: str
  sample: ["INFO: 1 update package(s) imported for hierarchy 3C1C7F10-..."]
setup_log:
  description: The messages C(ConfigMgrSetup.log) got during this run (downloads and hash checks).
  returned: when action=connect ran
  type: list
  elements: str
usage_data_files:
  description: The usage data files C(connect) uploads.
  returned: action=connect
  type: list
  elements: str
  sample: [UsageData.cab]
update_packs:
  description: The update pack folders in I(update_pack_dest) after C(connect).
  returned: when action=connect ran
  type: list
  elements: str
  sample: [6AFE4B4C-8D0A-4B8E-9F3A-2F7C2C1E5B10]
scp_server:
  description: The SCP server (C(prepare), C(import)).
  returned: action=prepare or action=import
  type: str
  sample: scp01.contoso.com
scp_mode:
  description: The SCP's mode as the site records it.
  returned: action=prepare or action=import
  type: str
  sample: offline
pending:
  description: The update packs of I(update_pack_src) the hierarchy does not have yet (package GUIDs).
  returned: action=import
  type: list
  elements: str
already_imported:
  description: The update packs of I(update_pack_src) the hierarchy already has (package GUIDs); not imported again.
  returned: action=import
  type: list
  elements: str
imported:
  description: The updates the import added to the hierarchy, as C(SMS_CM_UpdatePackages) shows them.
  returned: action=import
  type: list
  elements: dict
  sample: [{package_guid: 6AFE4B4C-8D0A-4B8E-9F3A-2F7C2C1E5B10, name: Configuration Manager 2503,
            full_version: 5.00.9135.1000, state: 262146}]
not_imported:
  description:
    - Pending update packs the tool did not import (another hierarchy's, or not newer than the site); C(ServiceConnectionTool.log)
      says why.
  returned: action=import
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
