"""The model's own exceptions (moto-style): rules raise these, the cmdlet layer turns them into
PowerShell error records with the category, fully qualified id and exception type of the cmdlet.
"""

from __future__ import annotations


class ModelError(Exception):
    """A rule of the simulated service refused an operation."""

    # PowerShell ErrorCategory the cmdlet layer reports by default.
    category = "InvalidOperation"
    # .NET exception type name the cmdlet layer reports by default.
    exception = "System.InvalidOperationException"
    # Short error id, the first part of a PowerShell FullyQualifiedErrorId.
    error_id = "InvalidOperation"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(ModelError):
    category = "ObjectNotFound"
    exception = "System.Management.Automation.ItemNotFoundException"
    error_id = "ItemNotFound"


class AlreadyExists(ModelError):
    category = "ResourceExists"
    exception = "System.InvalidOperationException"
    error_id = "ItemExists"


class RuleViolation(ModelError):
    category = "InvalidOperation"
    exception = "System.InvalidOperationException"
    error_id = "InvalidOperation"


class InvalidArgument(ModelError):
    category = "InvalidArgument"
    exception = "System.ArgumentException"
    error_id = "InvalidArgument"


class AccessDenied(ModelError):
    category = "PermissionDenied"
    exception = "System.UnauthorizedAccessException"
    error_id = "AccessDenied"
