#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: tls_settings
short_description: Ensure the TLS prerequisites of the service connection point's server
version_added: 0.1.0
description:
  - Prepares the Windows server of the Configuration Manager service connection point (SCP) to reach Microsoft's
    cloud endpoints over TLS 1.2, and reports what still stands in the way. Run it on the SCP server
    (C(delegate_to)) before adding the SCP; the online SCP fails to download and upload with
    C(An unexpected error occurred on a send) or C(Could not establish trust relationship) without these settings.
  - B(.NET strong cryptography.) Sets C(SchUseStrongCrypto) and C(SystemDefaultTlsVersions) to C(1) under
    C(HKLM\SOFTWARE\Microsoft\.NETFramework\v4.0.30319), in both the 64-bit and the C(WOW6432Node) views.
  - B(SCHANNEL.) Sets C(Enabled) = C(1) and C(DisabledByDefault) = C(0) under
    C(HKLM\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL\Protocols\TLS 1.2\Client). The key is
    absent on a default server and is created level by level; an existing key is never replaced (C(New-Item -Force)
    would empty it).
  - B(Root certificates.) Reports each root certificate Microsoft's cloud endpoints chain to as C(present), C(missing)
    or C(expired) in C(Cert:\LocalMachine\Root). They are DigiCert Global Root G2 (required), DigiCert Global Root CA and G3,
    Microsoft RSA and ECC Root Certificate Authority 2017, D-TRUST Root Class 3 CA 2 2009, and Baltimore CyberTrust
    Root for history only (it expired in May 2025 and is never a problem). A certificate is installed only from a
    file given in I(certificate_files), never downloaded.
  - B(WinHTTP proxy.) Reports the machine's WinHTTP proxy (what C(netsh winhttp show proxy) shows) beside the
    rest; it never changes it. The SCP itself uses the proxy of its site system server, not this one.
  - B(Reboot.) .NET reads its settings when a process starts, and Microsoft's fixes end with a restart of the
    computer, so a change to the .NET values or a root certificate import makes C(reboot_required) true. The
    module records this on the server (C(HKLM\SOFTWARE\configmgr.scp), the boot it happened in), so a later run
    still reports the reboot as required until the server has booted again, even if the play that made the
    change failed before rebooting. With I(reboot=true) it reboots the server itself and waits until it is back.
  - An unchanged run costs one engine invocation; a change two (plus the reads of a reboot wait).
options:
  dotnet_tls12:
    description:
      - Ensure C(SchUseStrongCrypto) = C(1) and C(SystemDefaultTlsVersions) = C(1) for .NET Framework 4, in both
        registry views. C(false) leaves the values as they are (they are still reported).
    type: bool
    default: true
  schannel_tls12_client:
    description:
      - Ensure the SCHANNEL TLS 1.2 client is explicitly on (C(Enabled) = C(1), C(DisabledByDefault) = C(0)).
        C(false) leaves the values as they are (they are still reported).
      - SCHANNEL applies a change to new processes at once; a running C(SMS_EXECUTIVE) sees it only when it restarts
        (C(executive_restart_required)).
    type: bool
    default: true
  certificate_files:
    description:
      - Certificate files on the Windows host (full local paths, PEM or DER, one certificate each) to install into
        C(Cert:\LocalMachine\Root) when the store does not hold that certificate yet. Put them there first, for
        example with M(ansible.windows.win_copy).
      - A file is installed only when its certificate is one of the roots listed above, recognised by its published
        SHA-1 thumbprint, is self-signed and is valid now. Any other file fails the task before anything is written;
        the module never adds an arbitrary certificate authority to the trusted roots.
      - Paths are taken literally; C(*), C(?), C([) and C(]) are refused, and so are shares (a second hop from a
        WinRM session).
    type: list
    elements: str
    default: []
  reboot:
    description:
      - Reboot the server when a change of this run, or of an earlier run, needs a reboot that has not happened yet,
        and wait until it answers again with a new boot time (C(Win32_OperatingSystem.LastBootUpTime)).
      - With C(false) (the default) the module never reboots; C(reboot_required) says when one is needed.
    type: bool
    default: false
  reboot_timeout:
    description:
      - Seconds to wait for the server to come back from the reboot before failing.
      - When the server cannot be reached until then, the task fails as any task whose connection fails does
        (C(transport_failure)). The message names the wait as the step, says what was written, and lists seeing the
        server come back as not done. When the write plan never reached the server (it was down or refused the
        credentials before it), nothing was written and no reboot was asked for, and the task fails at once.
    type: int
    default: 600
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
attributes:
  check_mode:
    support: full
    details: Reports what would be set, imported and whether it would reboot; writes nothing and never reboots.
  diff_mode:
    support: full
    details: The registry values and the required roots' status, before and after.
requirements:
  - Windows Server with .NET Framework 4.6.2 or later (the SCP's own requirement); Windows PowerShell 5.1.
  - On the controller, the C(cryptography) Python package (a dependency of ansible-core) when I(certificate_files)
    is used.
notes:
  - When to use this module rather than ansible.windows' modules. M(ansible.windows.win_regedit) can set the same
    registry values and M(ansible.windows.win_certificate_store) can import a certificate, but neither knows which
    values and roots the SCP needs, which change needs a reboot, or that a reboot is still pending from an earlier
    run; this module reads everything in one round trip and reports whether the server is C(ready). Use
    M(ansible.windows.win_reboot) instead of I(reboot=true) when the play has other reasons to reboot and should
    reboot once for all of them (act on C(reboot_required)).
  - It does not set cipher suites or turn off older protocols; Microsoft lists the cipher suites the SCP server
    needs (see docs/configmgr-behaviour.md#tls-prerequisites).
seealso:
  - module: configmgr.scp.endpoint_check
  - module: ansible.windows.win_regedit
  - module: ansible.windows.win_certificate_store
  - module: ansible.windows.win_reboot
  - name: Enable TLS 1.2 on the site servers and remote site systems
    description: Microsoft's procedure for the .NET and SCHANNEL values.
    link: https://learn.microsoft.com/mem/configmgr/core/plan-design/security/enable-tls-1-2-server
  - name: Azure Certificate Authority details
    description: The root certificates Azure's endpoints chain to.
    link: https://learn.microsoft.com/azure/security/fundamentals/azure-ca-details
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Turn on TLS 1.2 for .NET and SCHANNEL on the SCP server (reports whether a reboot is needed)
  configmgr.scp.tls_settings:
  delegate_to: scp01.contoso.com
  register: tls

- name: Reboot later, once, with everything else that needs it
  ansible.windows.win_reboot:
  delegate_to: scp01.contoso.com
  when: tls.reboot_required

- name: Install DigiCert Global Root G2 from a file, and reboot if anything needs it
  block:
    - name: Put the certificate on the server
      ansible.windows.win_copy:
        src: files/DigiCertGlobalRootG2.crt
        dest: C:\Certs\DigiCertGlobalRootG2.crt
      delegate_to: scp01.contoso.com

    - name: Ensure the TLS prerequisites
      configmgr.scp.tls_settings:
        certificate_files:
          - C:\Certs\DigiCertGlobalRootG2.crt
        reboot: true
        reboot_timeout: 900
      delegate_to: scp01.contoso.com
      register: tls

    - name: The server is ready for the SCP
      ansible.builtin.assert:
        that: tls.ready
        fail_msg: "{{ tls.problems }}"
"""

RETURN = r"""
changes:
  description: What was changed (in check mode, what would be), in words.
  returned: always
  type: list
  elements: str
  sample: ["set SchUseStrongCrypto and SystemDefaultTlsVersions = 1 for .NET (64-bit)",
           "import DigiCert Global Root G2 into LocalMachine\\Root from C:\\Certs\\DigiCertGlobalRootG2.crt"]
dotnet:
  description: .NET Framework 4 as the server has it afterwards (predicted in check mode).
  returned: always
  type: dict
  contains:
    release:
      description: The C(Release) value of C(NDP\v4\Full) (528449 is .NET Framework 4.8 on Windows Server 2022).
      type: int
    version:
      description: The installed .NET Framework 4 version.
      type: str
    strong_crypto:
      description: C(SchUseStrongCrypto) and C(SystemDefaultTlsVersions) per registry view (C(64-bit), C(32-bit)); null when absent.
      type: dict
    tls12:
      description: Whether both values are 1 in both views.
      type: bool
  sample: {release: 528449, version: 4.8.04161, tls12: true,
           strong_crypto: {64-bit: {SchUseStrongCrypto: 1, SystemDefaultTlsVersions: 1},
                           32-bit: {SchUseStrongCrypto: 1, SystemDefaultTlsVersions: 1}}}
schannel_tls12_client:
  description: The SCHANNEL TLS 1.2 client values afterwards (null when absent) and whether TLS 1.2 is usable by clients.
  returned: always
  type: dict
  sample: {Enabled: 1, DisabledByDefault: 0, tls12: true}
root_certificates:
  description: Each root certificate the SCP's endpoints chain to, as C(Cert:\LocalMachine\Root) holds it afterwards.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The root's name.
      type: str
    required:
      description: Whether the SCP needs it (DigiCert Global Root G2).
      type: bool
    status:
      description: C(present) (an issue valid now), C(expired) (only expired issues) or C(missing).
      type: str
    thumbprints:
      description: The thumbprints of the issues found.
      type: list
      elements: str
    not_after:
      description: The latest expiry date of the issues found (C(YYYY-MM-DD)), or null.
      type: str
  sample: [{name: DigiCert Global Root G2, required: true, status: present,
            thumbprints: [DF3C24F9BFD666761B268073FE06D1CC8D4F82A4], not_after: "2038-01-15"}]
winhttp_proxy:
  description:
    - The machine's WinHTTP proxy (C(WinHttpSettings)), reported only. C(access_type) is C(direct) or C(proxy).
  returned: always
  type: dict
  sample: {access_type: proxy, proxy: "proxy.contoso.com:8080", bypass: "<local>"}
reboot_required:
  description:
    - Whether the server must reboot for a change to take effect, from this run or still pending from an earlier one.
      False after the module rebooted it (I(reboot=true)).
  returned: always
  type: bool
reboot_reasons:
  description: Why a reboot is needed.
  returned: always
  type: list
  elements: str
  sample: [".NET strong cryptography changed (TLS 1.2 for .NET)"]
executive_restart_required:
  description:
    - Whether SMS_EXECUTIVE runs on the server and must restart to see a SCHANNEL change that turned TLS 1.2 on
      (a reboot also does it). Use M(configmgr.scp.sms_executive) with I(state=restarted).
  returned: always
  type: bool
rebooted:
  description: Whether the module rebooted the server.
  returned: always
  type: bool
last_boot_time:
  description: The server's last boot time (after the reboot when it rebooted).
  returned: always
  type: str
  sample: "2026-11-29T06:50:04.1230000+00:00"
reboot_elapsed:
  description: Seconds from the restart command until the server answered with a new boot time.
  returned: when rebooted
  type: float
ready:
  description: Whether nothing in C(problems) stands in the way of the SCP's TLS connections.
  returned: always
  type: bool
problems:
  description: What is still missing (.NET or SCHANNEL not set, the required root missing or expired, a pending reboot).
  returned: always
  type: list
  elements: str
  sample: ["DigiCert Global Root G2 is missing in LocalMachine\\Root"]
completed_actions:
  description:
    - When the task failed after a change, the changes done before the failure. The task then reports
      C(changed=true); run it again to finish (it reads the state first).
  returned: failure after a partial change
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
