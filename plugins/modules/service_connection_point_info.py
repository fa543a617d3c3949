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
  - With I(health) (the default) it also tells whether the SCP works (the C(health) return value) -
    the status of C(SMS_SERVICE_CONNECTOR), the last connectivity messages 11410/11411/11412 and 11488, the last
    manifest sync, the configured versus the effective mode, and whether the console asks for a restart of
    C(SMS_EXECUTIVE) on the SCP server.
  - What lives on the SCP server (the mode C(SMS_DMP_DOWNLOADER) runs in, the last sync, its logs and the TLS
    settings of .NET and SCHANNEL) is read there, in one more round trip, through a connection the module opens to
    that server as C(delegate_to) would. The SCP server must be a host of the inventory (found by name, short name
    or C(ansible_host), or named by I(scp_host)); otherwise C(health.unreadable) says what could not be read, and
    C(health.healthy) is false.
  - Cost - one round trip to the SMS Provider (CIM queries only, the ConfigurationManager module is never loaded),
    plus one to the SCP server with I(health).
  - Never changes anything.
options:
  health:
    description:
      - Also read and judge whether the SCP works (C(health)). C(false) reads the placement only (one round trip).
    type: bool
    default: true
  scp_host:
    description:
      - Inventory name of the SCP server, when it cannot be found from the server's FQDN. Checked before anything
        connects.
    type: str
  wait_timeout:
    description:
      - With I(health), read again every I(poll_interval) seconds until the SCP works or this many seconds have
        passed (for example after a restart of the SCP server, when the SCP checks and syncs as it starts). C(0)
        reads once.
      - The task never fails because the SCP does not work; the last read is the result (C(wait) says what the reads
        saw). It does not wait when the placement is wrong or the SCP server cannot be found in the inventory, nor
        in check mode.
    type: int
    default: 0
  poll_interval:
    description: Seconds between two reads while waiting.
    type: int
    default: 15
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
notes:
  - Where ConfigMgr keeps the "restart SMS_EXECUTIVE" console notification is not documented by Microsoft. The
    module reports it raised when an active C(SMS_Alert) of the hierarchy names the SCP server in its
    C(TypeInstanceID) and asks for an C(SMS_EXECUTIVE) restart; this is an assumption (the collection's
    docs/configmgr-behaviour.md, section "Console notifications").
  - The wording of the SCP's log lines that C(health) reads (the downloader's start line, the endpoint check's
    lines) is not published by Microsoft either; see the collection's docs/health.md.
requirements:
  - On the SMS Provider host the task runs on (or reaches with I(provider_server)) - Windows PowerShell 5.1 and WinRM
    access for the connection user (a member of C(Administrators) or C(Remote Management Users) there).
  - It only reads the SMS Provider's WMI classes - no ConfigurationManager module, and an administrative user with a
    read-only security role (for example Read-only Analyst) is enough.
  - For I(health) - the SCP server in the inventory, reachable over WinRM by a member of C(Administrators) or
    C(Remote Management Users) there.
seealso:
  - module: configmgr.scp.service_connection_point
  - module: configmgr.scp.status_message_info
  - module: configmgr.scp.log_info
  - module: configmgr.scp.sms_executive
  - name: About the service connection point
    description: Microsoft documentation of the role, its internet access check and its console notifications.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/deploy/configure/about-the-service-connection-point
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

- name: Fail with the reasons when the SCP does not work
  ansible.builtin.assert:
    that: scp_info.health.healthy
    fail_msg: "{{ scp_info.health.problems | join(' ') }}"

- name: Wait until the SCP works (for example after a restart of its server)
  configmgr.scp.service_connection_point_info:
    scp_host: scp01
  register: scp_info
  until: scp_info.health.healthy
  retries: 20
  delay: 30

- name: Placement only, one round trip
  configmgr.scp.service_connection_point_info:
    health: false
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
wait:
  description: What the reads saw while waiting (I(wait_timeout)) - C(states_seen), C(polls), C(elapsed) seconds.
  returned: when the module waited
  type: dict
  sample: {states_seen: ["CRITICAL, check failed, sync failed", healthy], polls: 3, elapsed: 61.2}
health:
  description:
    - Whether the SCP works, and why not. C(healthy) is true when C(SMS_SERVICE_CONNECTOR) on the SCP server is OK,
      its last internet endpoint check passed (status message 11410 and no 11488 after it; a hierarchy with no
      cloud-connected service has no check), the last manifest sync succeeded (online mode),
      C(SMS_DMP_DOWNLOADER) runs in the configured mode, no console notification asks for an C(SMS_EXECUTIVE)
      restart, and the SCP server could be read.
  returned: when I(health) is true
  type: dict
  contains:
    healthy:
      description: Whether the SCP works (see above).
      type: bool
      sample: false
    problems:
      description: Why not, each with what to do; empty when healthy.
      type: list
      elements: str
      sample: ["SMS_SERVICE_CONNECTOR on scp01.contoso.com is CRITICAL."]
    unreadable:
      description: What could not be read, and why (the SCP server not in the inventory, or unreachable).
      type: list
      elements: str
    site_system_server:
      description: The SCP server.
      type: str
    scp_host:
      description: The inventory host read as the SCP server, or null.
      type: str
    component_status:
      description: C(OK), C(WARNING) or C(CRITICAL) - the status of C(SMS_SERVICE_CONNECTOR) on the SCP server.
      type: str
      sample: OK
    components:
      description: The SCP components (C(SMS_DMP_DOWNLOADER), C(SMS_DMP_UPLOADER), C(SMS_SERVICE_CONNECTOR)) on the
        SCP server with their state and status.
      type: list
      elements: dict
    connectivity_check:
      description:
        - C(passed) (11410, no later 11488), C(warning) (11411), C(failed) (11412, or an 11488 after the last
          check), C(not_run) (the SCP's log says the check was skipped - offline, or no cloud-connected service) or
          C(unknown).
      type: str
      sample: passed
    last_check_message:
      description: The last 11410, 11411 or 11412 of the SCP server in the last 7 days (as M(configmgr.scp.status_message_info)
        returns a message, with its meaning and what to do), or null.
      type: dict
    last_cloud_service_message:
      description: The last 11488 of the SCP server in the last 7 days, or null.
      type: dict
    endpoints:
      description:
        - The endpoints that failed the SCP's own last check, from EndpointConnectivityCheckWorker.log - C(url),
          C(class) (for example C(timeout), C(tls_failure), C(send_failure), C(http_407)), C(message), C(critical),
          C(cloud_service).
      type: list
      elements: dict
    last_check_in_log:
      description: When the SCP's log shows its last check (C(ran), C(time), C(skipped)).
      type: dict
    last_sync:
      description:
        - The downloader's last manifest sync - C(ok), C(last_attempt) and C(last_success) (UTC), and the C(error)
          its log gives for a failed one.
      type: dict
      sample: {ok: true, last_attempt: "2026-03-15T08:00:04+00:00", last_success: "2026-03-15T08:00:04+00:00", error: null}
    configured_mode:
      description: The mode the site is configured with (C(online), C(offline)).
      type: str
    effective_mode:
      description: The mode C(SMS_DMP_DOWNLOADER) runs in on the SCP server, or null when unknown.
      type: str
    effective_mode_source:
      description: Where the effective mode was read (C(Dmpdownloader.log) or C(registry OfflineMode)).
      type: str
    downloader_started:
      description: When the downloader last started, from its log (UTC), or null.
      type: str
    restart_required:
      description: Whether C(SMS_DMP_DOWNLOADER) must restart for the configured mode to take effect.
      type: bool
    console_notification:
      description: Whether the console notification asking to restart C(SMS_EXECUTIVE) on the SCP server is raised
        (C(raised), C(name), C(since)), and how it is detected (C(detected_by)).
      type: dict
    restart_executive_required:
      description: Whether that notification asks for an C(SMS_EXECUTIVE) restart on the SCP server.
      type: bool
    tls:
      description:
        - The TLS settings on the SCP server - C(SchUseStrongCrypto) and C(SystemDefaultTlsVersions) in the 64-bit
          (C(dotnet_64bit)) and 32-bit (C(dotnet_32bit)) registry views, C(dotnet_strong_crypto) (all four are 1),
          SCHANNEL's C(TLS 1.2\Client) values and C(schannel_tls12_usable). Null when the server was not read.
      type: dict
    log_lines:
      description: When not healthy, the relevant lines of EndpointConnectivityCheckWorker.log and Dmpdownloader.log
        (failures, the check's summary, the downloader's start), newest last.
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
