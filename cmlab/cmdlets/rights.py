"""Who may change what: the rights of the identity a step runs as, and the errors Windows and the SMS
Provider give when they are missing (docs/simulator-assumptions.md, "Rights of an identity").

- Reads are open to every identity that may log on (a member of Remote Management Users reads local
  groups, firewall rules, services, the registry and files; an administrative user of any security role
  reads the SMS Provider's classes).
- A change on a Windows host needs a member of its local Administrators group (directly or through a
  domain group such as Domain Admins).
- A change through a ConfigMgr cmdlet needs an administrative user whose security role may modify the site:
  an identity the hierarchy lists with the role Read-only Analyst is refused; every other account of the
  lab's domain is a Full Administrator (the lab has no other roles).

`identity` None means "the lab's own administrator" (engine tests that run plans without a session).
"""

from __future__ import annotations

from .errors import CmdletError, command_class

READ_ONLY_ANALYST = "Read-only Analyst"
FULL_ADMINISTRATOR = "Full Administrator"
ROLES = (FULL_ADMINISTRATOR, READ_ONLY_ANALYST)

# Cmdlets that change nothing, whatever their verb. The engine's own (Import-Module, New-PSDrive,
# Set-Location) are not plan steps of a change either.
_READS = frozenset(
    {
        "Import-Module",
        "New-PSDrive",
        "Set-Location",
        "Invoke-WebRequest",
        "Start-Process",
        "ConvertFrom-Json",
        "ConvertTo-Json",
        "ConvertTo-SecureString",
    }
)
_READ_VERBS = frozenset({"Get", "Test"})
_CIM = "Microsoft.Management.Infrastructure.CimException"
_ADMIN_FOLDERS = ("c:\\windows", "c:\\program files")


def changes_something(cmdlet: str) -> bool:
    return cmdlet not in _READS and cmdlet.split("-", 1)[0] not in _READ_VERBS


def _service_label(host, name: str) -> str:
    service = host.service(name) if host is not None else None
    return f"{service.display_name} ({service.name})" if service is not None else f"{name} ({name})"


def windows_refusal(cmdlet: str, params: dict, host) -> CmdletError:
    """The error a Windows cmdlet gives a user who is not a local administrator of `host`."""
    noun = cmdlet.split("-", 1)[1] if "-" in cmdlet else cmdlet
    if noun == "LocalGroupMember":
        return CmdletError(
            "Access denied.",
            "PermissionDenied",
            f"AccessDenied,{command_class(cmdlet)}",
            "Microsoft.PowerShell.Commands.AccessDeniedException",
        )
    if noun.startswith("NetFirewall"):
        return CmdletError("Access is denied. ", "PermissionDenied", f"Windows System Error 5,{cmdlet}", _CIM)
    if noun == "Service":
        name = str(params.get("Name") or (params.get("InputObject") or ""))
        if isinstance(params.get("Name"), list):
            name = str(params["Name"][0])
        label = _service_label(host, name)
        if cmdlet == "Start-Service":
            return CmdletError(
                f"Service '{label}' cannot be started due to the following error: Cannot open {name} service on computer '.'.",
                "OpenError",
                f"CouldNotStartService,{command_class(cmdlet)}",
                "Microsoft.PowerShell.Commands.ServiceCommandException",
            )
        return CmdletError(
            f"Service '{label}' cannot be stopped due to the following error: Cannot open {name} service on computer '.'.",
            "CloseError",
            f"CouldNotStopService,{command_class(cmdlet)}",
            "Microsoft.PowerShell.Commands.ServiceCommandException",
        )
    path = str(params.get("LiteralPath") or params.get("Path") or "")
    if isinstance(params.get("LiteralPath") or params.get("Path"), list):
        path = str((params.get("LiteralPath") or params.get("Path"))[0])
    if path.upper().startswith(("HKLM:", "HKEY_LOCAL_MACHINE")):
        return CmdletError(
            "Requested registry access is not allowed.",
            "PermissionDenied",
            f"System.Security.SecurityException,{command_class(cmdlet)}",
            "System.Security.SecurityException",
        )
    if cmdlet == "Restart-Computer":
        return CmdletError(
            f"Failed to restart the computer {host.netbios_name if host else '.'} with the following error message: Access is denied. ",
            "OperationStopped",
            f"RestartcomputerFailed,{command_class(cmdlet)}",
            "System.InvalidOperationException",
        )
    return CmdletError(
        f"Access to the path '{path}' is denied." if path else "Access is denied.",
        "PermissionDenied",
        f"UnauthorizedAccessError,{command_class(cmdlet)}",
        "System.UnauthorizedAccessException",
    )


def configmgr_refusal(cmdlet: str, identity: str) -> CmdletError:
    """The SMS Provider's answer to a change by an administrative user whose role may not make it (the
    provider reports WBEM_E_ACCESS_DENIED; the cmdlet's exact wording is an assumption)."""
    return CmdletError(
        f"Access denied. The administrative user {identity} does not have the permissions this "
        f"operation needs (WBEM_E_ACCESS_DENIED 0x80041003).",
        "PermissionDenied",
        f"UnauthorizedAccess,{command_class(cmdlet)}",
        "System.UnauthorizedAccessException",
    )


def needs_admin_path(cmdlet: str, params: dict) -> bool:
    """A file-system change needs an administrator only under the system's own folders (and the registry's
    HKLM always)."""
    path = params.get("LiteralPath") or params.get("Path") or params.get("FilePath") or ""
    if isinstance(path, list):
        path = path[0] if path else ""
    text = str(path).lower()
    if cmdlet in ("Import-Certificate", "Restart-Computer"):
        return True
    if not text:
        return True
    if text.startswith(("hklm:", "hkey_local_machine")):
        return True
    if text.startswith("hkcu:"):
        return False
    if text.startswith("cert:"):
        return text.startswith("cert:\\localmachine")
    return text.startswith(_ADMIN_FOLDERS)


def refusal(
    cmdlet: str, is_configmgr: bool, params: dict, host, identity: str | None, configmgr_identity: str | None, read_only
) -> CmdletError | None:
    """None when the step may run; else the error the real cmdlet gives. `read_only(identity)` tells whether the
    hierarchy lists the identity as a Read-only Analyst."""
    if not changes_something(cmdlet):
        return None
    if is_configmgr:
        if configmgr_identity is not None and read_only(configmgr_identity):
            return configmgr_refusal(cmdlet, configmgr_identity)
        return None
    if identity is None or host is None or host.is_local_admin(identity):
        return None
    noun = cmdlet.split("-", 1)[1] if "-" in cmdlet else cmdlet
    if noun in ("LocalGroupMember", "Service") or noun.startswith("NetFirewall") or needs_admin_path(cmdlet, params):
        return windows_refusal(cmdlet, params, host)
    return None
