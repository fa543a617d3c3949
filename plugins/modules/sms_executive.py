#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: sms_executive
short_description: Start, stop or restart SMS_Executive, or one of its component threads
version_added: 0.1.0
description:
  - Controls the C(SMS_EXECUTIVE) service of a Configuration Manager site system, or a single component
    thread of it such as C(SMS_DMP_DOWNLOADER), and waits until the requested state is reached.
  - After the service connection point changes between online and offline mode, C(SMS_DMP_DOWNLOADER)
    must restart before the new mode takes effect; restarting only that thread is what Configuration
    Manager Service Manager does, without interrupting the other components.
  - A thread is controlled through the documented registry mechanism - C(Requested Operation) set to
    C(Stop) or C(Start) under
    C(HKLM\SOFTWARE\Microsoft\SMS\Components\SMS_EXECUTIVE\Threads\<component>) - and its progress is read
    from C(Current State), because no cmdlet controls a single component.
  - Run the task on the server that runs the component (for the SCP, the SCP server).
requirements:
  - On the site system whose service it controls - the C(SMS_EXECUTIVE) service (a Configuration Manager site
    system), Windows PowerShell 5.1 and WinRM access for the connection user.
  - Reading the service and the thread keys (check mode, an unchanged run) works as a member of C(Remote Management
    Users); starting, stopping or requesting an operation of a thread needs a member of the local C(Administrators)
    group.
options:
  state:
    description:
      - C(started) and C(stopped) change only what is not in that state already.
      - C(restarted) always stops and starts (and always reports a change).
    type: str
    choices: [started, stopped, restarted]
    required: true
  component:
    description:
      - A component thread of SMS_Executive, for example C(SMS_DMP_DOWNLOADER). When omitted, the whole
        C(SMS_EXECUTIVE) service is controlled (every component stops and starts).
    type: str
  wait_timeout:
    description: Seconds to wait for each state change before failing with the states seen.
    type: int
    default: 300
  poll_interval:
    description: Seconds between two reads of the state while waiting.
    type: int
    default: 5
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be started, stopped or restarted; changes nothing.
  diff_mode:
    support: none
notes:
  - Use this module to restart one component thread of C(SMS_Executive) (C(SMS_DMP_DOWNLOADER) after an SCP mode
    change) without interrupting the others, and to wait until the thread reports the state - no service cmdlet
    controls a single thread.
  - Use M(ansible.windows.win_service) to manage the C(SMS_EXECUTIVE) service itself beyond starting, stopping and
    restarting it - its start mode, account or dependencies.
seealso:
  - module: configmgr.scp.service_connection_point
  - module: ansible.windows.win_service
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Restart the SCP's downloader after a mode change
  configmgr.scp.sms_executive:
    component: SMS_DMP_DOWNLOADER
    state: restarted
  delegate_to: scp01.contoso.com

- name: Restart the whole SMS_Executive service
  configmgr.scp.sms_executive:
    state: restarted
"""

RETURN = r"""
service:
  description: The service controlled (always C(SMS_EXECUTIVE)).
  returned: always
  type: str
  sample: SMS_EXECUTIVE
component:
  description: The component thread controlled, or null for the whole service.
  returned: always
  type: str
  sample: SMS_DMP_DOWNLOADER
states_seen:
  description: The states read while waiting, in order, without repeats.
  returned: always
  type: list
  elements: str
  sample: [Running, Stopping, Stopped, Running]
requested_operation:
  description: The thread's C(Requested Operation) value as found (normally C(None)).
  returned: when component is set
  type: str
  sample: None
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
