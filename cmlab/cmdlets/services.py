"""Get-Service, Start-/Stop-/Restart-Service against the host's services.

The real Start-/Stop-/Restart-Service wait until the service has reached its new state, so the simulated
ones change it at once (no StartPending / StopPending is left behind). Restarting SMS_EXECUTIVE restarts
every component thread (cmlab.model.executive, docs/configmgr-behaviour.md#sms-executive-threads).
"""

from __future__ import annotations

import re

from cmlab.model import RuleViolation, Service, wildcard_match

from .base import Invocation, cmdlet
from .errors import CmdletError
from .pstypes import PSEnum, PSObject

_EXCEPTION = "Microsoft.PowerShell.Commands.ServiceCommandException"
_STATUS_VALUES = {"Stopped": 1, "StartPending": 2, "StopPending": 3, "Running": 4, "ContinuePending": 5, "PausePending": 6, "Paused": 7}
_START_VALUES = {"Boot": 0, "System": 1, "Automatic": 2, "Manual": 3, "Disabled": 4}
SERVICE_TYPE = "System.ServiceProcess.ServiceController"


def service_object(service: Service) -> PSObject:
    return PSObject(
        [SERVICE_TYPE, "System.ComponentModel.Component", "System.Object"],
        {
            "Name": service.name,
            "DisplayName": service.display_name,
            "ServiceName": service.name,
            "Status": PSEnum("System.ServiceProcess.ServiceControllerStatus", service.status, _STATUS_VALUES[service.status]),
            "StartType": PSEnum("System.ServiceProcess.ServiceStartMode", service.start_type, _START_VALUES[service.start_type]),
            "CanStop": service.status == "Running",
            "CanPauseAndContinue": False,
            "CanShutdown": False,
            "MachineName": ".",
            "ServiceType": PSEnum("System.ServiceProcess.ServiceType", "Win32OwnProcess", 16),
            "DependentServices": [],
            "ServicesDependedOn": [],
        },
        SERVICE_TYPE,
    )


def _not_found(inv: Invocation, by_display: bool, value: str) -> CmdletError:
    if by_display:
        return CmdletError.of(
            inv.cmdlet,
            "NoServiceFoundForGivenDisplayName",
            f"Cannot find any service with display name '{value}'.",
            "ObjectNotFound",
            _EXCEPTION,
        )
    return CmdletError.of(
        inv.cmdlet, "NoServiceFoundForGivenName", f"Cannot find any service with service name '{value}'.", "ObjectNotFound", _EXCEPTION
    )


def _select(inv: Invocation) -> list[Service]:
    """The services a command names: -Name / -DisplayName (wildcards) or -InputObject."""
    services = sorted(inv.host.services.values(), key=lambda s: s.name.lower())
    if inv.parameter_set == "InputObject":
        given = inv.get("InputObject") or []
        picked = []
        for obj in given if isinstance(given, list) else [given]:
            name = str(obj.get("ServiceName") or obj.get("Name")) if isinstance(obj, PSObject) else str(obj)
            service = inv.host.service(name)
            if service is None:
                raise _not_found(inv, False, name)
            picked.append(service)
        return picked
    by_display = inv.parameter_set == "DisplayName"
    patterns = inv.get("DisplayName" if by_display else "Name")
    if not patterns:
        return services
    picked = []
    for pattern in patterns:
        hits = [s for s in services if wildcard_match(pattern, s.display_name if by_display else s.name)]
        if not hits and not re.search(r"[*?\[]", pattern):
            raise _not_found(inv, by_display, pattern)
        picked.extend(s for s in hits if s not in picked)
    return picked


@cmdlet("Get-Service", ("Name", "DisplayName", "InputObject"))
def get_service(inv: Invocation) -> list:
    with inv.model.lock:
        return [service_object(s) for s in _select(inv)]


def _cannot(inv: Invocation, verb: str, service: Service, reason: str) -> CmdletError:
    error_id = {"start": "CouldNotStartService", "stop": "CouldNotStopService"}[verb]
    return CmdletError.of(
        inv.cmdlet,
        error_id,
        f"Service '{service.display_name} ({service.name})' cannot be {verb}ed due to the following error: {reason}",
        "OpenError" if verb == "start" else "CloseError",
        _EXCEPTION,
    )


def _change(inv: Invocation, action: str) -> list:
    with inv.model.lock:
        services = _select(inv)
        if inv.what_if:
            return []
        for service in services:
            try:
                if action == "stop":
                    inv.host.stop_service(service.name)
                elif action == "start":
                    inv.host.start_service(service.name)
                else:
                    inv.host.restart_service(service.name)
            except RuleViolation as e:
                raise _cannot(inv, "start", service, e.message) from None
        return [service_object(s) for s in services] if inv.switch("PassThru") else []


@cmdlet("Start-Service", ("Name", "DisplayName", "InputObject", "PassThru"))
def start_service(inv: Invocation) -> list:
    return _change(inv, "start")


@cmdlet("Stop-Service", ("Name", "DisplayName", "InputObject", "PassThru", "Force"))
def stop_service(inv: Invocation) -> list:
    # -Force matters for services with dependents; cmlab models no dependencies.
    return _change(inv, "stop")


@cmdlet("Restart-Service", ("Name", "DisplayName", "InputObject", "PassThru", "Force"))
def restart_service(inv: Invocation) -> list:
    return _change(inv, "restart")
