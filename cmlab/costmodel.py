"""Estimated Windows time: what the work cmlab just simulated would have cost on real Windows.

cmlab answers in milliseconds what a Windows server answers in seconds, so its wall clock says
little about a real converge. The cost model charges a fixed, *estimated* figure per event —
a WinRM request, a shell, a powershell.exe start, the ConfigurationManager module import, the
CMSite drive, a CIM session, connection and query to the SMS Provider, a cmdlet — to the host
that would do the work, and the counters add them up (`estimated_windows_seconds` and `estimated_windows_breakdown` per host).

The figures are estimates with their reasoning in docs/cmlab.md ("Cost model"), not
measurements: change them with `python -m cmlab start --cost-model FILE` (a YAML or JSON mapping
of event name to seconds) when better figures are known.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import yaml

# event -> estimated seconds on a Windows Server 2019/2022 VM with a local SMS Provider (docs/cmlab.md).
DEFAULT_FIGURES: Mapping[str, float] = MappingProxyType(
    {
        "winrm_auth": 0.005,  # one leg of an auth handshake or an empty POST (HTTP.sys + WinRM service, no SOAP)
        "winrm_request": 0.015,  # one WS-Man request: HTTP.sys, WinRM service, SOAP, the shell plugin
        "shell_create": 0.25,  # WinRS Create: a logon token and winrshost.exe for the shell
        "process_start": 0.03,  # cmd.exe /c for a command (WINRS_SKIP_CMD_SHELL=FALSE)
        "powershell_start": 0.7,  # powershell.exe 5.1 with -NoProfile, to its first statement
        "engine_load": 0.15,  # the bootstrap reads, inflates and compiles the engine; ConvertFrom-Json
        "module_import": 4.0,  # Import-Module ConfigurationManager (large binary module, its format data)
        "cmsite_drive": 1.5,  # New-PSDrive -PSProvider CMSite: WMI connection to root\SMS\site_<code>
        "configmgr_read": 0.4,  # a Get-CM* cmdlet: WQL queries through the SMS Provider
        "configmgr_write": 1.2,  # New-/Set-/Add-/Remove-CM*: reads, then SCI writes through the SMS Provider
        "windows_cmdlet": 0.05,  # a local Windows cmdlet: registry, services, local groups, local CIM
        "cim_session": 0.3,  # New-CimSession to another machine: WinRM logon and a provider host process
        "cim_connect": 0.25,  # first query of an invocation in root\SMS\site_<code>: CIM cmdlets, WMI, provider context
        "cim_query": 0.06,  # one Get-CimInstance of an SMS Provider class: WQL to SQL, small result set
    }
)

_WRITE_VERBS = ("new-", "set-", "add-", "remove-")


def cmdlet_event(cmdlet: str, configmgr: bool) -> str:
    """The event a cmdlet call is charged as."""
    if not configmgr:
        return "windows_cmdlet"
    return "configmgr_write" if cmdlet.lower().startswith(_WRITE_VERBS) else "configmgr_read"


@dataclass(frozen=True)
class CostModel:
    figures: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_FIGURES))

    def __post_init__(self) -> None:
        unknown = sorted(set(self.figures) - set(DEFAULT_FIGURES))
        if unknown:
            raise ValueError(f"unknown cost model event(s): {', '.join(unknown)}; known: {', '.join(DEFAULT_FIGURES)}")
        for name, value in self.figures.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"cost model event {name}: {value!r} is not a number of seconds >= 0")

    def seconds(self, event: str) -> float:
        return float(self.figures.get(event, DEFAULT_FIGURES[event]))

    @classmethod
    def with_overrides(cls, overrides: Mapping[str, float]) -> CostModel:
        return cls({**DEFAULT_FIGURES, **overrides})

    @classmethod
    def load(cls, path: str | Path) -> CostModel:
        """The default figures with those of a YAML or JSON file (a mapping event -> seconds)."""
        text = Path(path).read_text(encoding="utf-8")
        try:
            data = json.loads(text) if str(path).endswith(".json") else yaml.safe_load(text)
        except yaml.YAMLError as e:
            raise ValueError(f"{path}: {e}") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path}: a cost model file is a mapping of event name to seconds")
        return cls.with_overrides(data)
