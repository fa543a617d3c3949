"""PowerShell error records raised by simulated cmdlets (what `$_` would hold in the engine)."""

from __future__ import annotations

from cmlab.model.errors import ModelError

# The command classes behind the cmdlets: the second part of a FullyQualifiedErrorId.
_WINDOWS_CLASSES = {
    "Get-CimInstance": "Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand",
    "Get-LocalGroup": "Microsoft.PowerShell.Commands.GetLocalGroupCommand",
    "Get-LocalGroupMember": "Microsoft.PowerShell.Commands.GetLocalGroupMemberCommand",
    "Add-LocalGroupMember": "Microsoft.PowerShell.Commands.AddLocalGroupMemberCommand",
    "Remove-LocalGroupMember": "Microsoft.PowerShell.Commands.RemoveLocalGroupMemberCommand",
}


def command_class(cmdlet: str) -> str:
    """'Get-ItemProperty' → 'Microsoft.PowerShell.Commands.GetItemPropertyCommand'.

    ConfigMgr command class names are not documented; the HS namespace is an assumption.
    """
    if cmdlet in _WINDOWS_CLASSES:
        return _WINDOWS_CLASSES[cmdlet]
    verb, _, noun = cmdlet.partition("-")
    if noun.startswith("CM"):
        return f"Microsoft.ConfigurationManagement.Cmdlets.HS.Commands.{verb}{noun[2:]}Command"
    return f"Microsoft.PowerShell.Commands.{verb}{noun}Command"


class CmdletError(Exception):
    """An ErrorRecord: message, ErrorCategory, FullyQualifiedErrorId, exception type name."""

    def __init__(self, message: str, category: str, fqid: str, exception: str, extra: dict | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.category = category
        self.fqid = fqid
        self.exception = exception
        # Members the engine adds for some exceptions (a WebException's web_status and http_status,
        # docs/engine-protocol.md section 3).
        self.extra = dict(extra or {})

    def to_dict(self) -> dict:
        return {"message": self.message, "category": self.category, "fqid": self.fqid, "exception": self.exception, **self.extra}

    @classmethod
    def of(cls, cmdlet: str, error_id: str, message: str, category: str, exception: str, extra: dict | None = None) -> CmdletError:
        return cls(message, category, f"{error_id},{command_class(cmdlet)}", exception, extra)

    @classmethod
    def from_model(cls, cmdlet: str, error: ModelError) -> CmdletError:
        return cls.of(cmdlet, error.error_id, error.message, error.category, error.exception)


def not_simulated(cmdlet: str, detail: str = "") -> CmdletError:
    """In the catalog, not (yet) in cmlab: fail loudly, never pretend."""
    text = f"cmlab does not simulate {cmdlet}" + (f" {detail}" if detail else "") + "."
    return CmdletError.of(cmdlet, "CmlabNotSimulated", text, "NotImplemented", "System.NotImplementedException")


def not_on_site_drive(cmdlet: str) -> CmdletError:
    # docs/configmgr-behaviour.md#sites-and-the-top-level-site: the error when a ConfigMgr cmdlet runs off the site drive.
    return CmdletError.of(
        cmdlet,
        "InvalidOperation",
        "This command cannot be run from the current drive. To run this command you must first connect to a Configuration Manager drive.",
        "InvalidOperation",
        "System.InvalidOperationException",
    )


def non_interactive_prompt(cmdlet: str) -> CmdletError:
    """What ShouldContinue does under powershell.exe -NonInteractive."""
    return CmdletError.of(
        cmdlet,
        "HostException",
        "PowerShell is in NonInteractive mode. Read and Prompt functionality is not available.",
        "ResourceUnavailable",
        "System.Management.Automation.Host.HostException",
    )


def not_found(cmdlet: str, message: str = "No object corresponds to the specified parameters.") -> CmdletError:
    return CmdletError.of(cmdlet, "ItemNotFound", message, "ObjectNotFound", "System.Management.Automation.ItemNotFoundException")


def cannot_bind_type(cmdlet: str, parameter: str, required: str) -> CmdletError:
    """PSTypeName mismatch, as PowerShell's binder words it."""
    return CmdletError.of(
        cmdlet,
        "MismatchedPSTypeName",
        f"Cannot bind argument to parameter '{parameter}', because PSTypeNames of the argument do not match the "
        f"PSTypeName required by the parameter: {required}.",
        "InvalidArgument",
        "System.Management.Automation.ParameterBindingException",
    )


def cannot_convert(cmdlet: str, parameter: str, value_type: str, required: str) -> CmdletError:
    return CmdletError.of(
        cmdlet,
        "CannotConvertArgument",
        f'Cannot bind parameter \'{parameter}\'. Cannot convert the "{value_type}" value of type "{value_type}" to type "{required}".',
        "InvalidArgument",
        "System.Management.Automation.ParameterBindingException",
    )


def null_argument(cmdlet: str, parameter: str) -> CmdletError:
    return CmdletError.of(
        cmdlet,
        "ParameterArgumentValidationErrorNullNotAllowed",
        f"Cannot bind argument to parameter '{parameter}' because it is null.",
        "InvalidData",
        "System.Management.Automation.ParameterBindingValidationException",
    )
