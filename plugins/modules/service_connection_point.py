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
  - When the SCP is left as it is, the module reads on the SCP server which mode C(SMS_DMP_DOWNLOADER) runs in
    (the last C(SMS_DMP_DOWNLOADER started. Service connection point mode) line of Dmpdownloader.log, else the
    downloader's C(OfflineMode) registry value) and reports I(restart_required=true) while it differs from the
    configured mode - for example when an earlier run changed the mode and failed before the restart. This is
    read from the server every time, never remembered; it needs the SCP server in the inventory (one more round
    trip, to that server).
  - Run the task on the SMS Provider host (usually the top-level site server), see I(provider_server).
requirements:
  - On the SMS Provider host the task runs on (or reaches with I(provider_server)) - Windows PowerShell 5.1 and WinRM
    access for the connection user (a member of C(Administrators) or C(Remote Management Users) there).
  - Reads (check mode, an unchanged run) query the SMS Provider's WMI classes and need no ConfigurationManager
    module; a change imports it, so the Configuration Manager console (which installs the module) must be on that
    host, or I(module_path) must name it.
  - Configuration Manager rights - reading needs an administrative user with a read-only security role (for
    example Read-only Analyst); a change needs a role that may modify the site, such as Full Administrator or
    Infrastructure Administrator.
  - With I(check_prerequisites) or I(restart_downloader), a connection to the SCP server as well (it must be in the
    inventory), as for M(configmgr.scp.local_group_member) and M(configmgr.scp.sms_executive).
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
      - A move is always made safely - the new server is checked first (site system server, and see
        I(check_prerequisites)), the module takes the move lease (see I(break_lease)), the role is removed from the
        old server, the module waits until it is uninstalled there (up to I(wait_timeout)), and only then adds it on
        the new server - so the hierarchy never has two SCPs. If a step fails, the result says which steps were done,
        which were not, and where the SCP is now (read again on a fresh connection) - that the hierarchy has no
        service connection point right now, when the old one was removed and the new one not added yet. Running the
        same task again finishes the move.
      - While the old role uninstalls, the module reads C(sitecomp.log) of the site that owned it, on that site's
        server (the primary site server after an expansion), when that server is in the inventory; a de-install
        that Site Component Manager reports as failed fails the task at once with those lines.
    type: bool
    default: false
  wait:
    description:
      - After adding (or moving) the SCP, wait until Site Component Manager has installed it on the server and
        its components C(SMS_DMP_DOWNLOADER), C(SMS_DMP_UPLOADER) and C(SMS_SERVICE_CONNECTOR) are started;
        after removing it, wait until they are gone.
      - Progress is read from the C(SMS_ComponentSummarizer) WMI class on the SMS Provider, and from C(sitecomp.log)
        of the site that owns the role, on its site server (the task's own host, or another inventory host reached
        directly). On failure the result carries the states seen and the lines of that C(sitecomp.log) that name the
        server. A failure logged by Site Component Manager (an install or a de-install) fails the task at once rather
        than at the timeout, and the message names the role that failed (the site system itself, C(SMS Site System),
        or the SCP).
      - Before adding with I(wait), the module also waits until no SCP component is left on another server.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for each install, uninstall or restart.
    type: int
    default: 1800
  poll_interval:
    description:
      - Seconds between two reads of the progress.
      - The write that starts a wait reads the progress back in its own round trip, so the first separate read
        comes one I(poll_interval) after the change.
    type: int
    default: 15
  restart_downloader:
    description:
      - After a mode change, restart the C(SMS_DMP_DOWNLOADER) component on the SCP server so that the new mode
        takes effect (through the registry mechanism, see M(configmgr.scp.sms_executive)), and wait until it runs
        again.
      - The SCP server must be a host of the inventory (matched by name, short name or C(ansible_host), or named by
        I(scp_host)); the module connects to it directly, as C(delegate_to) would, because doing it from the SMS
        Provider would be a second WinRM hop.
      - When C(false), I(restart_required) tells whether a restart is still needed.
      - Also restarts it when an earlier mode change is not in effect yet (a restart that was lost); the task then
        reports a change.
    type: bool
    default: false
  check_prerequisites:
    description:
      - Before adding the SCP on a server other than the site server, check on that server that the account the site
        will use to install the role is a local administrator there (a requirement of a remote SCP) - the site
        system's installation account when it has one, else the site server's computer account. Membership of the
        local Administrators group counts directly and through the domain groups in it (one level, read on the
        server with C(Win32_GroupUser)). Where that cannot be known from the server (a group whose members cannot be
        read, a nested group, a cloud group) the module warns instead of guessing.
      - The server must be in the inventory; otherwise the module warns.
      - In check mode a missing membership is a warning, since an earlier task may add it.
    type: bool
    default: true
  scp_host:
    description:
      - Inventory name of the SCP server, when it cannot be found from I(site_system_server) (by name, short name or
        C(ansible_host)). Checked before anything connects.
      - Used for the prerequisite check, I(restart_downloader), and to read which mode the downloader runs in.
      - The module checks that this host is I(site_system_server) (its DNS host name and domain) before it uses it,
        and fails otherwise, in check mode too.
    type: str
  break_lease:
    description:
      - Take over the move lease even though another run holds it, and say so in a warning.
      - A task that adds or removes the SCP first takes the move lease of the hierarchy - registry keys on the SMS
        Provider host the task runs on (C(HKLM:\SOFTWARE\configmgr.scp\Leases)) that record who holds it
        (controller, user, run, process), since when, from which server to which, and until when. Another run that
        wants to add or remove the SCP meanwhile fails at once, changing nothing, and says who holds the lease, since
        when and toward which server. Reads, check mode and unchanged runs never take it; a mode change alone does not
        need it. The lease never holds a secret.
      - The lease is released when the task ends, after a success or a failure. A lease its run could not release
        (a controller that crashed, a connection that failed) is taken over at once by a run from the same
        controller when that run's process has ended, and by any run once it expires, 10 minutes after the holder's
        last renewal (the holder renews it at every step and every poll).
      - Set it only when you know that no run of the collection is moving the SCP. See the collection's
        C(docs/move-lease.md).
    type: bool
    default: false
  health:
    description:
      - When the task leaves the SCP as it is (I(state=present)), also return whether it works (C(health)), from the
        same two reads the task makes anyway - two or three more CIM queries on the SMS Provider and the SCP server's
        logs and TLS values beside the downloader's mode. It is what M(configmgr.scp.service_connection_point_info)
        would return as C(health), without a second pair of round trips (the role uses it to skip its final read
        when the SCP already works).
      - After adding the SCP (an install or a move) with I(wait), also return C(health) once the role has installed;
        the wait's reads take the SMS Provider's part, and the SCP server is read once more at the end.
      - Not returned after a change without I(wait), a removal or a change of mode alone. A newly installed SCP
        may take until its first endpoint check to work; M(configmgr.scp.service_connection_point_info) can wait
        for that.
    type: bool
    default: false
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
notes:
  - Role installation by Site Component Manager is asynchronous; without I(wait) this module records the desired
    state in the site and returns (one read and one write round trip). The role then installs on the server.
  - When the connection fails during the task, the message names the host, the step and the WinRM operation, and
    says what is done, not done or unknown; the task is C(UNREACHABLE) only when nothing was changed, otherwise
    it fails with C(changed=true). The transport's own error text is shown with C(-vvv).
  - Runs that move the SCP of one hierarchy must run this task on the same SMS Provider host, where the move lease
    is kept.
seealso:
  - module: configmgr.scp.service_connection_point_info
  - module: configmgr.scp.site_system_server
  - module: configmgr.scp.sms_executive
  - name: About the service connection point
    description: Microsoft documentation of the role, its modes and how to move it.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/deploy/configure/about-the-service-connection-point
author:
  - configmgr.scp contributors (!UNKNOWN)
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

- name: Move it and wait until it runs on the new server
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    allow_move: true
    wait: true
    wait_timeout: 3600

- name: Switch to offline mode and restart the downloader so that it takes effect
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    mode: offline
    restart_downloader: true

- name: A rerun finishes a mode change whose downloader restart was lost
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    mode: offline
    restart_downloader: true
  register: scp
  # scp.restart_required is false and scp.downloader_restarted true when the restart was still missing

- name: Take over the move lease of a run whose controller crashed (no other run is moving the SCP)
  configmgr.scp.service_connection_point:
    site_system_server: scp01.contoso.com
    allow_move: true
    wait: true
    break_lease: true

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
    - Whether C(SMS_DMP_DOWNLOADER) on the SCP server still must restart before the configured mode takes effect -
      because this task changed the mode, or because the SCP server shows the downloader still running in the old
      mode after an earlier change (false when I(restart_downloader) restarted it).
  returned: always
  type: bool
  sample: false
effective_mode:
  description:
    - The mode C(SMS_DMP_DOWNLOADER) runs in on the SCP server (C(online) or C(offline)), read there; null when it
      could not be read (the server is not in the inventory, or the role is still installing).
  returned: when the SCP was left as it is
  type: str
  sample: online
health:
  description:
    - Whether the SCP works, and why not - the same keys as C(health) of
      M(configmgr.scp.service_connection_point_info) (C(healthy), C(problems), C(unreadable), C(component_status),
      C(connectivity_check), C(last_sync), C(effective_mode), ...).
  returned: when I(health) is true and the task left the SCP as it is, or added it and waited until it was installed
  type: dict
  sample: {healthy: true, problems: [], unreadable: [], component_status: OK, connectivity_check: passed}
downloader_restarted:
  description: Whether the module restarted C(SMS_DMP_DOWNLOADER) (I(restart_downloader)).
  returned: always
  type: bool
  sample: true
downloader_states_seen:
  description: The thread states seen while restarting it.
  returned: when the downloader was restarted
  type: list
  elements: str
  sample: [Running, Stopping, Stopped, Running]
progress:
  description:
    - Per server waited for, what the wait saw - C(states_seen) of the SCP components, the C(sitecomp_log)
      lines naming the server, C(polls) (the reads of the progress, the write's own read-back included) and
      C(elapsed) seconds.
  returned: when the module waited (I(wait), or a move)
  type: dict
  sample:
    scp01.contoso.com:
      states_seen: [no components, "SMS_DMP_DOWNLOADER started, SMS_DMP_UPLOADER started, SMS_SERVICE_CONNECTOR started"]
      sitecomp_log: []
      polls: 3
      elapsed: 30.2
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
unknown_actions:
  description:
    - When the connection failed while a change was sent or its result read, the actions nobody can tell were done
      (a fresh read resolves what it can; the message says where the SCP is).
  returned: failure of the connection after a change may have happened
  type: list
  elements: str
transport_failure:
  description: When the connection failed, which host, which WinRM operation, the failure in words, and whether
    the plan ran (false), or nobody knows (null).
  returned: failure of the connection
  type: dict
  sample: {host: cas.contoso.com, operation: read the result, reason: the connection was dropped, plan_ran: null}
lease:
  description:
    - The move lease this task took (registry key on the SMS Provider host, and this run's id), and whose lease it
      took over (I(break_lease), an expired lease, or one whose run had ended on this controller).
  returned: when the task added or removed the SCP
  type: dict
  sample: {key: "HKLM:\\SOFTWARE\\configmgr.scp\\Leases\\ServiceConnectionPoint-CAS", host: cas.contoso.com,
           run_id: 3f2a9c81d0e4}
failed_step:
  description: The plan step that failed, its cmdlet and the PowerShell error identifiers.
  returned: failure
  type: dict
  sample: {id: add_1, cmdlet: Add-CMServiceConnectionPoint, stage: step, category: InvalidOperation}
"""
