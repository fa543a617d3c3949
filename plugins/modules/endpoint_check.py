#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

DOCUMENTATION = r"""
---
module: endpoint_check
short_description: Check the internet endpoints of the service connection point from its server
version_added: 0.1.0
description:
  - Requests Microsoft's internet endpoints that the Configuration Manager service connection point (SCP) needs,
    grouped by feature, from the SCP server through the site system's proxy and proxy account, and classifies each
    result as the SCP's own check does. Run it on the SCP server (C(delegate_to)). It changes nothing.
  - B(Endpoints.) One concrete URL per entry of Microsoft's list for each group in I(feature_groups), plus the URL
    forwarders C(aka.ms) and C(go.microsoft.com), which every feature needs. A wildcard entry is checked through a
    documented host that stands for it (the result's C(note) says which, for example
    C(us.gateway.configmgr.manage.microsoft.com) for C(*.manage.microsoft.com)); C(*.akamaiedge.net) and
    C(*.akamaitechnologies.com) have no documented host and are not checked (C(not_checked)). Each distinct URL is
    requested once with C(Invoke-WebRequest), all in one engine invocation, each failure captured on its own.
  - B(Classes.) C(ok); C(other_status) (the endpoint answered with another HTTP status, so it is reachable; the SCP
    does not count this as a failure either); C(dns_failure); C(timeout); C(tls_failure) (an untrusted chain - a
    missing or expired root - or no TLS 1.2); C(connect_failure); C(http_407), C(http_408), C(http_426),
    C(http_451), C(http_502), C(http_511), C(http_598), C(http_599), each with the probable cause Microsoft gives
    (the proxy, or for 426 the TLS configuration); C(error) for anything else. The class comes from the
    WebException's status and the HTTP status, which do not depend on the language of Windows.
  - B(Severity.) Computed as the SCP computes its status messages. A failed critical endpoint is C(error) (as
    11412), only non-critical failures C(warning) (as 11411), none C(ok) (as 11410). Microsoft does not publish
    which endpoints are critical. This module counts as critical the URL forwarders, the update content
    (C(configmgrbits.cdn.manage.microsoft.com)) and usage data (C(sccmconnected-a01.cloudapp.net)) services, the
    tenant attach gateway (C(aka.ms/configmgrgateway) and the C(*.manage.microsoft.com) gateway) and the Azure
    services' endpoints (C(management.azure.com), C(login.microsoftonline.com), C(graph.microsoft.com)), whose failure
    raises 11488; every other endpoint is non-critical. Each endpoint in the result says whether it is critical.
  - B(The SCP's own view.) Also returns the SCP's last completed check from its C(EndpointConnectivityCheckWorker.log)
    (found through the C(SMS_SERVICE_CONNECTOR) tracing key and parsed on the controller) and, with
    I(site_status=true), the latest 1141x and 11488 status messages of this server from the SMS Provider.
  - B(Proxy.) The SCP goes out through the proxy of its site system server, authenticated with the site system proxy
    account when one is set. Configuration Manager never reveals that account's password, so give it as
    I(proxy_password). Give the proxy itself with I(proxy_server), I(proxy_port) and I(proxy_username) (the role
    passes the values it configured), or let the module read the site system's proxy settings from the SMS Provider
    with I(use_site_system_proxy=true). The password travels only on the engine's standard input and becomes a
    C(PSCredential) through .NET on the server; it never appears on a command line, in results, warnings or logs.
options:
  feature_groups:
    description:
      - The feature groups whose endpoints to check. Default is every group. The URL forwarders are always checked.
    type: list
    elements: str
    choices: [updates_and_servicing, windows_servicing, azure_services, microsoft_store_for_business, cloud_services,
              console, tenant_attach, external_notifications]
  proxy_server:
    description:
      - The proxy of the SCP's site system server (host name, FQDN or IP address). Without it (and without
        I(use_site_system_proxy)) the endpoints are requested directly.
    type: str
  proxy_port:
    description: The proxy's port (Configuration Manager's default is 80).
    type: int
    default: 80
  proxy_username:
    description:
      - The site system proxy account (C(DOMAIN\user)). Requires I(proxy_password).
      - With I(use_site_system_proxy), the account recorded for the site system is used when this is omitted.
    type: str
  proxy_password:
    description:
      - The password of the proxy account. Configuration Manager cannot reveal it, so it must be given here.
      - Sent only on the engine's standard input, turned into a C(PSCredential) through .NET, and removed from
        results and logs.
    type: str
  use_site_system_proxy:
    description:
      - Read the proxy server, port and account of I(site_system_server) from the SMS Provider (an invocation of its
        own, before the check) instead of giving I(proxy_server).
      - When the SMS Provider is another machine than the task's host, give I(provider_server) and
        I(provider_username) / I(provider_password), with which the engine opens a CIM session to it.
    type: bool
    default: false
  site_status:
    description:
      - Also read, from the SMS Provider, the latest endpoint check status message (11410, 11411 or 11412) and the
        latest 11488 of I(site_system_server), and return them beside the module's own findings. Reaching the
        provider has the same needs as for I(use_site_system_proxy); when it cannot be read the check still runs and
        a warning says why.
      - M(configmgr.scp.status_message_info) reads every status message of the component, from the provider host.
    type: bool
    default: false
  site_system_server:
    description:
      - The FQDN of this SCP server as Configuration Manager knows it. Required by I(use_site_system_proxy) and
        I(site_status).
    type: str
  timeout:
    description:
      - Seconds each request may take before it is a C(timeout) (C(Invoke-WebRequest -TimeoutSec)). A name that does
        not resolve can take 15 seconds whatever this says; the whole check can take as long as the sum.
    type: int
    default: 15
  fail_on:
    description:
      - Fail the task when the severity reaches this level. C(never) only reports. The result is returned either way.
    type: str
    choices: [never, warning, error]
    default: error
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
  - configmgr.scp.attributes
  - configmgr.scp.provider
attributes:
  check_mode:
    support: full
    details: The check changes nothing and runs in check mode too.
  diff_mode:
    support: none
requirements:
  - Windows PowerShell 5.1 on the SCP server (C(Invoke-WebRequest -UseBasicParsing)).
notes:
  - The requests run as the account of the WinRM session, the SCP's components as the computer's System account;
    without a proxy account the SCP reaches the proxy as its computer account, which this check cannot do, so it
    then goes through the proxy without credentials.
  - The requests use Windows PowerShell's .NET settings as a new process sees them. A .NET or SCHANNEL change the
    running SMS_EXECUTIVE has not seen yet (before the reboot configmgr.scp.tls_settings asks for) can make this
    check pass while the SCP itself still fails; C(scp_last_check) shows the SCP's own view.
  - When to use this module rather than ansible.windows' modules. M(ansible.windows.win_uri) requests one URL and
    fails or succeeds; this module knows the SCP's endpoint list per feature, the proxy account it uses, the failure
    classes and causes Microsoft documents, and the severity rule of the SCP's status messages.
seealso:
  - module: configmgr.scp.tls_settings
  - module: configmgr.scp.site_system_server
  - module: ansible.windows.win_uri
  - name: Internet access requirements
    description: Microsoft's list of endpoints per feature.
    link: https://learn.microsoft.com/mem/configmgr/core/plan-design/network/internet-endpoints
  - name: Validate internet access
    description: How the SCP checks its endpoints, and the failure classes with their probable causes.
    link: https://learn.microsoft.com/mem/configmgr/core/servers/deploy/configure/about-the-service-connection-point#validate-internet-access
author:
  - configmgr.scp contributors (!UNKNOWN)
"""

EXAMPLES = r"""
- name: Check every endpoint the SCP needs, through the site system's proxy and proxy account
  configmgr.scp.endpoint_check:
    proxy_server: proxy.contoso.com
    proxy_port: 8080
    proxy_username: CONTOSO\svc-cmproxy
    proxy_password: "{{ vault_cm_proxy_password }}"
  delegate_to: scp01.contoso.com
  register: endpoints

- name: Only tenant attach, report without failing, with the site's own status messages
  configmgr.scp.endpoint_check:
    feature_groups: [tenant_attach]
    fail_on: never
    site_status: true
    site_system_server: scp01.contoso.com
    provider_server: cas.contoso.com
    provider_username: CONTOSO\cm-reader
    provider_password: "{{ vault_cm_reader_password }}"
  delegate_to: scp01.contoso.com
  register: tenant_attach

- name: Show what failed and why
  ansible.builtin.debug:
    msg: "{{ endpoints.endpoints | selectattr('failed') | map(attribute='cause') | list }}"

- name: Take the proxy from the site system; only the password comes from the vault
  configmgr.scp.endpoint_check:
    use_site_system_proxy: true
    site_system_server: scp01.contoso.com
    proxy_password: "{{ vault_cm_proxy_password }}"
    provider_server: cas.contoso.com
    provider_username: CONTOSO\cm-reader
    provider_password: "{{ vault_cm_reader_password }}"
  delegate_to: scp01.contoso.com
"""

RETURN = r"""
severity:
  description: C(ok), C(warning) (only non-critical endpoints failed) or C(error) (a critical endpoint failed).
  returned: always
  type: str
  sample: error
status_message_equivalent:
  description: The status message the SCP would raise for this outcome (11410, 11411 or 11412).
  returned: always
  type: int
  sample: 11412
endpoints:
  description: One entry per URL checked.
  returned: always
  type: list
  elements: dict
  contains:
    url:
      description: The URL requested.
      type: str
    groups:
      description: The feature groups it belongs to.
      type: list
      elements: str
    critical:
      description: Whether its failure is an error (11412) rather than a warning (11411).
      type: bool
    note:
      description: What the URL stands for (a wildcard entry, the purpose), or null.
      type: str
    class:
      description: C(ok), C(other_status), C(dns_failure), C(timeout), C(tls_failure), C(connect_failure), C(http_407),
        C(http_408), C(http_426), C(http_451), C(http_502), C(http_511), C(http_598), C(http_599) or C(error).
      type: str
    failed:
      description: Whether it counts as a failure (C(ok) and C(other_status) do not).
      type: bool
    cause:
      description: What the class most probably means, in words, or null.
      type: str
    probable_cause:
      description: Where to look (C(proxy), C(TLS configuration), C(DNS), C(network)), as Microsoft's table says for
        the HTTP statuses, or null.
      type: str
    status:
      description: The HTTP status, when there was an answer.
      type: int
    message:
      description: The error message Windows gave, or null.
      type: str
  sample:
    - {url: "https://aka.ms/configmgrgateway", groups: [tenant_attach], critical: true, note: null,
       class: http_407, failed: true, status: 407, probable_cause: proxy,
       cause: "HTTP 407 Proxy Authentication Required: the proxy requires authentication: ...",
       message: "The remote server returned an error: (407) Proxy Authentication Required."}
failed_endpoints:
  description: The URLs that failed (the key is not C(failed), which would fail the task).
  returned: always
  type: list
  elements: str
groups:
  description: Per feature group (and C(url_forwarders)), how many URLs were checked, how many failed, and the severity.
  returned: always
  type: dict
  sample: {tenant_attach: {checked: 12, failed: 1, severity: error}}
proxy:
  description: The proxy used (C(source) C(options) or C(site_system)); its account's name, never its password. Null
    for direct requests.
  returned: always
  type: dict
  sample: {server: proxy.contoso.com, port: 8080, username: CONTOSO\svc-cmproxy, authenticated: true, source: options}
not_checked:
  description: Wildcard entries of Microsoft's list that no documented host stands for.
  returned: always
  type: list
  elements: str
scp_last_check:
  description:
    - The SCP's own last completed check, from C(EndpointConnectivityCheckWorker.log). C(found) is false (with a
      C(reason)) when the SCP is not installed here or the log holds no completed check.
    - C(endpoints) lists what the SCP logged per endpoint (C(reachable), and for a failure C(level), C(message),
      C(class)); C(status_messages) the message IDs it says it raised; C(lines) what the parser did not recognise.
  returned: always
  type: dict
  sample: {found: true, time: "2026-11-29T06:50:04.123+00:00", skipped: false, checked: 14, failed: 1, critical: 1,
           status_messages: [11412], endpoints: [{url: "https://aka.ms/configmgrgateway", reachable: false,
           level: critical, message: "The remote server returned an error: (407) Proxy Authentication Required.",
           class: http_407}], lines: []}
site_status_messages:
  description:
    - With I(site_status), the latest endpoint check message (C(endpoint_check), one of 11410/11411/11412) and the
      latest 11488 (C(cloud_services)) of this server, each with C(message_id), C(severity), C(time), C(machine),
      C(site_code), C(insertion_strings) and C(meaning); null when none. Null when the provider could not be read.
  returned: when site_status is true
  type: dict
  sample: {endpoint_check: {message_id: 11410, severity: informational, time: "2026-11-29T06:50:04.1230000+00:00",
           machine: scp01.contoso.com, site_code: CAS, insertion_strings: ["14"], meaning: every endpoint check passed},
           cloud_services: null}
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
