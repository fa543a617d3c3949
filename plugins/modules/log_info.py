#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: log_info
short_description: Read and filter ConfigMgr logs of a site system, parsed on the controller
version_added: 0.1.0
description:
  - Reads Configuration Manager logs on the host the task runs on (use C(delegate_to) for the SCP server or the
    site server) and returns their entries, parsed on the Ansible controller.
  - Finds each log the way ConfigMgr records it - the folder of the component's log in
    C(HKLM\SOFTWARE\Microsoft\SMS\Tracing\<component>) C(TraceFilename) - never a fixed path, because a remote site
    system keeps its logs on whichever drive ConfigMgr chose. The logs the collection knows are found through their
    own component - C(Dmpdownloader.log) (C(SMS_DMP_DOWNLOADER)), C(Dmpuploader.log) (C(SMS_DMP_UPLOADER)),
    C(EndpointConnectivityCheckWorker.log) (C(SMS_SERVICE_CONNECTOR)), C(sitecomp.log)
    (C(SMS_SITE_COMPONENT_MANAGER)); any other file of the site's Logs folder, such as C(SrvBoot.log),
    C(CMGatewaySyncUploadWorker.log) or C(CMGatewayNotificationWorker.log), through SMS_Executive's own log
    (C(SMS_EXECUTIVE), smsexec.log), which every site server and site system writes.
  - Only a bounded amount comes back over WinRM - the last I(max_bytes) bytes of each log and of its rolled-over
    C(.lo_) file - in one round trip whatever the size of the log.
  - Parses both CMTrace formats (the full C(<![LOG[...]LOG]!>) records with their type 1/2/3 severities, and the
    simple C($$<component><time>) lines, whose severity is inferred from the words error and warn), the time zone
    bias of each record (every time is returned in UTC and as written), multi-line messages, UTF-8 and UTF-16
    logs, and a rolled-over C(.lo_) before its C(.log). A record cut off by the read is returned with
    C(truncated=true).
  - Never changes anything.
options:
  name:
    description:
      - The logs to read, by file name, for example C(Dmpdownloader.log). Each must be a file name of the site's
        Logs folder ending in C(.log) - no folder, no wildcard (letters, digits, C(_), C(-), C(.), C(parentheses));
        checked before anything connects.
      - Several logs give one timeline (entries sorted by time).
    type: list
    elements: str
    required: true
    aliases: [log]
  max_bytes:
    description:
      - Bytes read from the end of each file (the C(.log) and, with I(rollover), its C(.lo_)), 1 to 1048576.
      - Each byte travels as a number in the engine's reply, so larger reads cost more time on both sides.
    type: int
    default: 65536
  rollover:
    description: Also read the rolled-over C(.lo_) file, which holds the entries just before those of the C(.log).
    type: bool
    default: true
  tail:
    description: How many of the last entries (after the filters) are returned; C(0) returns all that were read.
    type: int
    default: 200
  component:
    description: Only entries of these CMTrace components (compared without case), for example C(SMS_DMP_DOWNLOADER).
    type: list
    elements: str
  severity:
    description: Only entries of at least this severity (C(warning) keeps warnings and errors).
    type: str
    choices: [info, warning, error]
  since:
    description:
      - Only entries at or after this time - ISO 8601 (a time without an offset is UTC) or a duration back from now
        such as C(30m), C(24h), C(7d). Entries whose time cannot be known in UTC do not pass.
    type: str
  regex:
    description: Only entries whose message matches this regular expression (Python syntax, searched anywhere).
    type: str
  query:
    description:
      - A JMESPath expression evaluated on the controller over every entry that passed the filters (not only the
        last I(tail)), each a dictionary of the fields of C(entries); the result is C(query_result).
      - Needs the Python library C(jmespath) on the controller.
    type: str
extends_documentation_fragment:
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
  - A log that does not exist on the host is reported with C(found=false) and a warning; the task does not fail.
requirements:
  - The Python library C(jmespath) on the controller, for I(query).
seealso:
  - module: configmgr.scp.status_message_info
  - module: configmgr.scp.service_connection_point_info
  - name: Log files reference
    description: Microsoft's list of ConfigMgr logs, where they are and what they record.
    link: https://learn.microsoft.com/mem/configmgr/core/plan-design/hierarchy/log-files
  - name: About log files
    description: Log sizes, the .lo_ rollover and the tracing settings.
    link: https://learn.microsoft.com/mem/configmgr/core/plan-design/hierarchy/about-log-files
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Why does the SCP not download? The downloader's warnings and errors of the last day
  configmgr.scp.log_info:
    name: Dmpdownloader.log
    severity: warning
    since: 24h
  delegate_to: scp01.contoso.com
  register: downloader

- name: The SCP's own endpoint check - the failed endpoints and their classes
  configmgr.scp.log_info:
    name: EndpointConnectivityCheckWorker.log
    regex: "^Failed to connect|cannot reach"
    tail: 50
  delegate_to: scp01.contoso.com

- name: The SCP's installation on the site server, counted by severity with JMESPath
  configmgr.scp.log_info:
    name: sitecomp.log
    regex: scp01
    query: "length([?severity=='error'])"
  register: sitecomp

- name: Every SCP log as one timeline
  configmgr.scp.log_info:
    name: [Dmpdownloader.log, Dmpuploader.log, EndpointConnectivityCheckWorker.log, SrvBoot.log]
    max_bytes: 32768
    tail: 100
  delegate_to: scp01.contoso.com
"""

RETURN = r"""
logs:
  description: What was read of each log.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The file name asked for.
      type: str
    found:
      description: Whether the C(.log) exists.
      type: bool
    folder:
      description: The folder it was looked for in (from the tracing key), or null when that could not be found.
      type: str
      sample: C:\SMS\Logs
    tracing_component:
      description: The component whose tracing key gave the folder.
      type: str
      sample: SMS_DMP_DOWNLOADER
    file:
      description: The C(.log) - C(path), C(size), C(last_write_time), C(bytes_read), C(complete) (the whole file
        was read) - or null when it does not exist.
      type: dict
    rolled_over:
      description: The same for the C(.lo_), or null.
      type: dict
    problem:
      description: Why the log could not be read, or null.
      type: str
    entries_read:
      description: How many entries were parsed from it.
      type: int
entries:
  description: The last I(tail) entries that passed the filters, oldest first.
  returned: always
  type: list
  elements: dict
  contains:
    time:
      description: UTC, ISO 8601 with milliseconds, or null when the record carries no time zone bias.
      type: str
      sample: "2026-03-15T13:12:45.332+00:00"
    local_time:
      description: The time as the log wrote it, with its offset when known.
      type: str
      sample: "2026-03-15T09:12:45.332-04:00"
    bias_minutes:
      description: The record's time zone bias (UTC = local time + bias).
      type: int
    component:
      description: The record's component.
      type: str
    thread:
      description: The thread ID.
      type: int
    severity:
      description: C(info), C(warning) or C(error).
      type: str
    type:
      description: The record's type (1, 2, 3) in the full format; null in the simple format (severity inferred).
      type: int
    message:
      description: The message; the lines of a multi-line message joined with a newline.
      type: str
    file:
      description: The source file the full format names.
      type: str
    line_no:
      description: The line of the text read on which the record starts.
      type: int
    source:
      description: The file it was read from.
      type: str
    format:
      description: C(full) or C(simple), null for an unrecognised fragment.
      type: str
    truncated:
      description: Whether the record was cut off (the end of a file being written).
      type: bool
entries_matched:
  description: How many entries passed the filters.
  returned: always
  type: int
truncated:
  description: Whether more entries matched than I(tail) returned.
  returned: always
  type: bool
query_result:
  description: The result of I(query).
  returned: when I(query) is given
  type: raw
  sample: 3
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
