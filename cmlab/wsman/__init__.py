"""WS-Management / WinRS listener: real WinRM on loopback for pywinrm and ansible's winrm plugin.

Modules, wire format apart from logic:
  soap.py        SOAP/WS-Man envelope parse and build (by namespace), faults
  winrs.py       WinRS request/response bodies
  shell.py       shells, commands, stdin, dispatcher worker, long-poll (no XML)
  service.py     routes one WS-Man request to the shell table
  auth.py        Basic, NTLM/Negotiate (pyspnego acceptor), client certificates
  encryption.py  multipart/encrypted message framing (MS-WSMV 2.2.9.1.1)
  server.py      HTTP(S) listener, transport faults, accounting
  pki.py         lab CA, server and client certificates
"""

from cmlab.wsman.auth import Users
from cmlab.wsman.server import ListenerConfig, WSManListener

__all__ = ["ListenerConfig", "Users", "WSManListener"]
