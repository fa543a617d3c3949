"""Python implementations of the allow-listed cmdlets, registered by name.

A cmdlet of the catalog without an implementation here fails with a clear "cmlab does not
simulate" error (cmlab.cmdlets.errors.not_simulated), never silently.
"""

from . import (  # noqa: F401  (registration side effects)
    certificates,
    configmgr,
    firewall,
    items,
    localgroups,
    power,
    process,
    services,
    web,
    windows,
)
from .base import (
    CMDLETS,
    COMMON_PARAMETERS,
    Invocation,
    ProviderSession,
    Registration,
    cmdlet,
    implementation,
)
from .errors import CmdletError, not_simulated
from .pstypes import PSEnum, PSObject, SecureString, custom_object

__all__ = [
    "CMDLETS",
    "COMMON_PARAMETERS",
    "CmdletError",
    "Invocation",
    "PSEnum",
    "PSObject",
    "ProviderSession",
    "Registration",
    "SecureString",
    "cmdlet",
    "custom_object",
    "implementation",
    "not_simulated",
]
