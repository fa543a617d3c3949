"""Well-known registry keys and folders of a ConfigMgr site system, in one place.

Components that write a key and clients that read it (the cmdlets, the tests) name it from here, so
that no module has to import another component only to learn a path.
"""

from __future__ import annotations

SMS_KEY = r"HKLM:\SOFTWARE\Microsoft\SMS"
# Site code and server on a site server (docs/configmgr-behaviour.md#powershell-module-and-remoting).
IDENTIFICATION_KEY = SMS_KEY + r"\Identification"
# `Installation Directory` of a site server (docs/configmgr-behaviour.md#service-connection-tool).
SETUP_KEY = SMS_KEY + r"\Setup"
# SMS_EXECUTIVE's component threads (docs/configmgr-behaviour.md#sms-executive-threads).
THREADS_KEY = SMS_KEY + r"\Components\SMS_EXECUTIVE\Threads"
# Per-component tracing: `TraceFilename` is the log's full path (docs/configmgr-behaviour.md#logs).
TRACING_KEY = SMS_KEY + r"\Tracing"
# The third-party registry map of a remote role (docs/configmgr-behaviour.md#asynchronous-installation).
SCM_COMPONENT_SERVERS_KEY = SMS_KEY + r"\COMPONENTS\SMS_SITE_COMPONENT_MANAGER\Component Servers"
OPERATIONS_COMPONENTS_KEY = SMS_KEY + r"\Operations Management\Components"
SERVER_ROLE_KEY = SMS_KEY + r"\Operations Management\SMS Server Role"
# SMS_DMP_DOWNLOADER's own values: LastSyncedTime, LastSyncRequestTime (docs/configmgr-behaviour.md#sms-executive-threads).
DMP_DOWNLOADER_KEY = SMS_KEY + r"\COMPONENTS\SMS_DMP_DOWNLOADER"

# A remote site system keeps its ConfigMgr files on the first suitable NTFS drive
# (docs/configmgr-behaviour.md#logs, third-party): cmlab always uses C:.
REMOTE_INSTALL_DIR = "C:\\SMS"
# The Service Connection Tool under a site server's installation directory
# (docs/configmgr-behaviour.md#service-connection-tool).
SCT_DIR = "CD.Latest\\SMSSETUP\\TOOLS\\ServiceConnectionTool"
