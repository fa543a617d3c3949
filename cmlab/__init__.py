"""cmlab: a simulated Configuration Manager lab served over real WinRM.

Layers (see docs/cmlab.md):
  wsman/     WS-Management / WinRS over HTTP(S), authentication, message encryption
  scripts    what a command line is: the engine bootstrap, or the error Windows would give
  engine     executes plan steps with the project's cmdlet catalog
  cmdlets/   Python implementations of each allow-listed cmdlet
  model/     the hierarchy and the Windows hosts
"""
