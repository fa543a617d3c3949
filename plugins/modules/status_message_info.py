#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: status_message_info
short_description: Status messages and status of a ConfigMgr component, explained
version_added: 0.1.0
description:
  - Reads the status messages of one Configuration Manager component (by default C(SMS_SERVICE_CONNECTOR), the
    service connection point's connector) with their insertion strings, and the component's status
    (C(OK), C(WARNING), C(CRITICAL)) per machine, in one round trip to the SMS Provider.
  - Reads through CIM (C(SMS_StatMsgWithInsStrings) and C(SMS_ComponentSummarizer) in the provider's
    C(root\SMS\site_<code>) namespace); the ConfigurationManager module is never loaded. The filters are part of
    the WQL query, with every value escaped.
  - The messages of the service connection point's internet endpoint check are explained in the result - what
    they mean and what to do - 11410 (every check passed), 11411 (a non-critical endpoint failed), 11412 (a
    critical endpoint failed) and 11488 (a cloud-connected service cannot reach its required endpoints).
  - Never changes anything.
options:
  component:
    description:
      - The component whose messages and status are read, for example C(SMS_SERVICE_CONNECTOR),
        C(SMS_DMP_DOWNLOADER), C(SMS_DMP_UPLOADER).
      - C(SMS_) followed by letters, digits and C(_); checked before anything connects.
    type: str
    default: SMS_SERVICE_CONNECTOR
  site_system_server:
    description:
      - Only messages and status of this machine (its FQDN), for example the SCP server.
    type: str
    aliases: [machine]
  site_code:
    description: Only messages reported by this site.
    type: str
  since:
    description:
      - Only messages raised at or after this time - ISO 8601 (C(2026-03-15T08:00:00Z); a time without an offset
        is UTC), or a duration back from now such as C(30m), C(24h), C(7d), C(2w).
      - Status messages are kept by the site for a limited time (its status message deletion settings), so an old
        date returns what is left.
    type: str
    default: 7d
  message_ids:
    description: Only these message IDs, for example C([11410, 11411, 11412, 11488]).
    type: list
    elements: int
  severity:
    description: Only messages of these severities.
    type: list
    elements: str
    choices: [informational, warning, error]
  limit:
    description:
      - How many of the newest messages are returned (C(count) tells how many matched); C(0) returns them all.
    type: int
    default: 50
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
  - ConfigMgr does not publish the text of its status messages with their insertion strings; the C(description)
    of a message is the collection's own wording of what the message means, followed by its insertion strings as
    the site recorded them.
  - Run the task on the SMS Provider host of the top-level site to see the whole hierarchy's messages.
requirements:
  - The SMS Provider's WMI namespace reachable from the task's host (usually the site server), and a role that
    may read status messages (for example Read-only Analyst).
seealso:
  - module: configmgr.scp.service_connection_point_info
  - module: configmgr.scp.log_info
  - name: Validate internet access of the service connection point
    description: Microsoft's description of the endpoint check and its status messages 11410, 11411 and 11412.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/deploy/configure/about-the-service-connection-point#validate-internet-access
  - name: SMS_StatMsgWithInsStrings server WMI class
    description: A status message with its insertion strings, as this module reads it.
    link: https://learn.microsoft.com/mem/configmgr/develop/reference/core/servers/manage/sms_statmsgwithinsstrings-server-wmi-class
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: The SCP's connectivity messages of the last day
  configmgr.scp.status_message_info:
    since: 24h
    message_ids: [11410, 11411, 11412, 11488]
  register: connector

- name: Say what the last one means and what to do
  ansible.builtin.debug:
    msg: "{{ connector.messages[0].description }} {{ connector.messages[0].action }}"
  when: connector.messages | length > 0

- name: Fail when the connector is not OK
  ansible.builtin.assert:
    that: connector.component_status == 'OK'
    fail_msg: "SMS_SERVICE_CONNECTOR is {{ connector.component_status }}"

- name: Errors of the downloader on the SCP server since a date
  configmgr.scp.status_message_info:
    component: SMS_DMP_DOWNLOADER
    site_system_server: scp01.contoso.com
    severity: [error]
    since: "2026-03-01T00:00:00Z"
    limit: 0
"""

RETURN = r"""
component:
  description: The component read.
  returned: always
  type: str
  sample: SMS_SERVICE_CONNECTOR
component_status:
  description: The worst status of the component on the machines read (C(OK), C(WARNING), C(CRITICAL)); null when
    the site has no status for it (not installed).
  returned: always
  type: str
  sample: CRITICAL
component_rows:
  description: The component's status per machine - C(machine), C(site_code), C(state) (C(started), C(stopped),
    C(installing), ...) and C(status).
  returned: always
  type: list
  elements: dict
  sample: [{component: SMS_SERVICE_CONNECTOR, machine: scp01.contoso.com, site_code: CAS, state: started, status: CRITICAL}]
messages:
  description: The newest messages first (at most I(limit)).
  returned: always
  type: list
  elements: dict
  contains:
    record_id:
      description: The message's RecordID.
      type: int
    message_id:
      description: The message ID.
      type: int
      sample: 11412
    severity:
      description: C(informational), C(warning) or C(error).
      type: str
    time:
      description: When it was raised, UTC, ISO 8601.
      type: str
      sample: "2026-03-15T08:00:04+00:00"
    machine:
      description: The machine that raised it.
      type: str
    site_code:
      description: The site that reported it.
      type: str
    component:
      description: The component.
      type: str
    module:
      description: The module name of the message (its message DLL's display name).
      type: str
    insertion_strings:
      description: Its insertion strings, in order.
      type: list
      elements: str
    description:
      description: What it means, in words, with its insertion strings.
      type: str
    meaning:
      description: For 11410, 11411, 11412 and 11488 of SMS_SERVICE_CONNECTOR, what the message means; else null.
      type: str
    action:
      description: For the same messages, what to do; else null.
      type: str
count:
  description: How many messages matched the filters.
  returned: always
  type: int
  sample: 24
truncated:
  description: Whether more messages matched than I(limit) returned.
  returned: always
  type: bool
since:
  description: The start of the time window, UTC.
  returned: always
  type: str
  sample: "2026-03-08T08:00:00+00:00"
explanations:
  description: For C(SMS_SERVICE_CONNECTOR), the meaning of and what to do about 11410, 11411, 11412 and 11488, by ID
    (whether or not such a message was found); empty for other components.
  returned: always
  type: dict
  sample:
    "11410":
      meaning: The service connection point checked its internet endpoints and every check passed (informational).
      action: Nothing to do.
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
