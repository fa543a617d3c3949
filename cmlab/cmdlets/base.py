"""The cmdlet registry and what a simulated cmdlet gets when it is invoked."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cmlab.faults import Faults
from cmlab.model import Hierarchy, LabModel, WindowsHost, literal_pattern

from .errors import (
    cannot_bind_type,
    cannot_convert,
    non_interactive_prompt,
    null_argument,
)
from .pstypes import PSObject


@dataclass
class ProviderSession:
    """The CMSite drive the engine opened: which hierarchy and site, through which SMS Provider."""

    hierarchy: Hierarchy
    site_code: str
    provider: str


@dataclass
class Invocation:
    cmdlet: str
    parameter_set: str
    params: dict[str, Any]  # canonical names, $ref / $secret already resolved
    model: LabModel
    host: WindowsHost  # where the engine runs
    session: ProviderSession | None  # None until a ConfigMgr step connected
    faults: Faults = field(default_factory=Faults)
    supports_should_process: bool = False
    ps_type_names: dict[str, str] = field(default_factory=dict)  # parameter → catalog PSTypeName

    def has(self, name: str) -> bool:
        return name in self.params

    def get(self, name: str, default: Any = None) -> Any:
        return self.params.get(name, default)

    def switch(self, name: str) -> bool:
        return bool(self.params.get(name))

    def pattern(self, name: str) -> str | None:
        """A wildcard parameter's value; literal under -DisableWildcardHandling."""
        value = self.params.get(name)
        if value is None:
            return None
        return literal_pattern(str(value)) if self.switch("DisableWildcardHandling") else str(value)

    @property
    def what_if(self) -> bool:
        return self.supports_should_process and self.switch("WhatIf")

    def confirm_or_force(self) -> None:
        """ConfigMgr Remove-* cmdlets ask before deleting unless -Force (assumption, see docs):
        under -NonInteractive the prompt itself fails."""
        if not self.switch("Force"):
            raise non_interactive_prompt(self.cmdlet)

    def input_object(self, name: str, required: str) -> PSObject:
        """A by-value object from an earlier step, checked as PowerShell's binder would: against
        the catalog's PSTypeName of the parameter when it has one, else against `required`."""
        required = self.ps_type_names.get(name) or required
        value = self.params.get(name)
        if value is None:
            raise null_argument(self.cmdlet, name)
        if isinstance(value, list):
            raise cannot_convert(self.cmdlet, name, "System.Object[]", "Microsoft.ConfigurationManagement.ManagementProvider.IResultObject")
        if not isinstance(value, PSObject) or not value.is_a(required):
            raise cannot_bind_type(self.cmdlet, name, required)
        return value


CmdletImpl = Callable[[Invocation], list]

# Accepted by every cmdlet and without effect in the simulator (-ErrorAction is always Stop).
COMMON_PARAMETERS = frozenset(
    {
        "Verbose",
        "Debug",
        "ErrorAction",
        "WarningAction",
        "InformationAction",
        "ErrorVariable",
        "WarningVariable",
        "InformationVariable",
        "OutVariable",
        "OutBuffer",
        "PipelineVariable",
        "WhatIf",
        "Confirm",
        "ForceWildcardHandling",
        "DisableWildcardHandling",
    }
)


@dataclass(frozen=True)
class Registration:
    name: str
    fn: CmdletImpl
    parameters: frozenset[str]  # the parameters the simulation honours; others fail loudly

    def unsupported(self, params: dict) -> list[str]:
        return sorted(p for p in params if p not in self.parameters and p not in COMMON_PARAMETERS)


CMDLETS: dict[str, Registration] = {}


def cmdlet(name: str, parameters: tuple[str, ...] = ()) -> Callable[[CmdletImpl], CmdletImpl]:
    def register(fn: CmdletImpl) -> CmdletImpl:
        CMDLETS[name.lower()] = Registration(name, fn, frozenset(parameters))
        return fn

    return register


def implementation(name: str) -> Registration | None:
    return CMDLETS.get(name.lower())
