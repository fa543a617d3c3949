# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The cmdlet catalog and a PowerShell-like parameter binder.

The catalog (cmdlet_catalog.json beside this file, built by tools/build_catalog.py from the
Microsoft reference) lists every cmdlet the engine may run. ``Catalog.bind`` refuses a plan step
where Windows PowerShell's parameter binder would refuse it, with PowerShell's own messages, so a
bad plan stops on the controller before anything is sent (docs/cmdlet-catalog.md).

Standard library only (and the protocol module beside it): cmlab imports this module as the
package ``cmscp_plugin_utils`` (docs/cmlab.md "Installing cmlab"), with the same relative import.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from typing import ClassVar

from . import _protocol

ALL_SETS = "__AllParameterSets"
CONFIGMGR_MODULE = "ConfigurationManager"
CATALOG_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "cmdlet_catalog.json")

_ACTION_PREFERENCE = (
    "SilentlyContinue",
    "Stop",
    "Continue",
    "Inquire",
    "Ignore",
    "Suspend",
)
_INT32_MAX = 2**31 - 1

# name, type, aliases, accepted values, range. Every cmdlet accepts these ([CmdletBinding()]).
# A plan may not bind the ones in _ENGINE_ONLY (docs/cmdlet-catalog.md "Common parameters").
_COMMON = (
    ("Verbose", "SwitchParameter", ("vb",), (), None),
    ("Debug", "SwitchParameter", ("db",), (), None),
    ("ErrorAction", "ActionPreference", ("ea",), _ACTION_PREFERENCE, None),
    ("WarningAction", "ActionPreference", ("wa",), _ACTION_PREFERENCE, None),
    ("InformationAction", "ActionPreference", ("infa",), _ACTION_PREFERENCE, None),
    ("ErrorVariable", "String", ("ev",), (), None),
    ("WarningVariable", "String", ("wv",), (), None),
    ("InformationVariable", "String", ("iv",), (), None),
    ("OutVariable", "String", ("ov",), (), None),
    ("OutBuffer", "Int32", ("ob",), (), (0, _INT32_MAX)),
    ("PipelineVariable", "String", ("pv",), (), None),
)
# -ErrorAction is the engine's (Stop on every step); the -*Variable parameters would let a plan
# set variables of the engine itself (-OutVariable result overwrites its result document).
_ENGINE_ONLY = frozenset({"ErrorAction", "ErrorVariable", "WarningVariable", "InformationVariable", "OutVariable", "PipelineVariable"})
# Only for cmdlets that support ShouldProcess.
_SHOULD_PROCESS = (
    ("WhatIf", "SwitchParameter", ("wi",), (), None),
    ("Confirm", "SwitchParameter", ("cf",), (), None),
)

_INT_RANGES = {
    "Byte": (0, 2**8 - 1),
    "SByte": (-(2**7), 2**7 - 1),
    "Int16": (-(2**15), 2**15 - 1),
    "UInt16": (0, 2**16 - 1),
    "Int32": (-(2**31), 2**31 - 1),
    "UInt32": (0, 2**32 - 1),
    "Int64": (-(2**63), 2**63 - 1),
    "UInt64": (0, 2**64 - 1),
}
# .NET's OverflowException wording per type.
_OVERFLOW_NOUN = {
    "Byte": "an unsigned byte",
    "SByte": "a signed byte",
    "Int16": "an Int16",
    "UInt16": "a UInt16",
    "Int32": "an Int32",
    "UInt32": "a UInt32",
    "Int64": "an Int64",
    "UInt64": "a UInt64",
}
# Types a plan can only fill with the output of an earlier step ({"$ref": ...}): PowerShell cannot
# convert JSON scalars to them (interfaces, live objects, sessions, dictionaries).
# [Flags] enums take several names at once: "Domain,Private" (one string, as Enum.Parse reads it) or a
# list of names. New-NetFirewallRule -Profile: "Specifies one or more profiles ... Separate multiple
# entries with a comma" (cmdlet-docs/windows/New-NetFirewallRule.md).
_FLAGS_ENUMS = frozenset({"Profile"})

_REF_ONLY_TYPES = {
    "IResultObject",
    "CimInstance",
    "CimSession",
    "Hashtable",
    "System.Collections.IDictionary",
    "System.Management.Automation.Runspaces.PSSession",
    "System.Management.Automation.PSModuleInfo",
    "System.Reflection.Assembly",
    "Microsoft.PowerShell.Commands.WebRequestSession",
    "System.Security.Cryptography.X509Certificates.X509Certificate",
}
# Full .NET names for messages, as PowerShell prints them.
_DOTNET_NAMES = {
    "Boolean": "System.Boolean",
    "SwitchParameter": "System.Management.Automation.SwitchParameter",
    "String": "System.String",
    "DateTime": "System.DateTime",
    "SecureString": "System.Security.SecureString",
    "PSCredential": "System.Management.Automation.PSCredential",
    "IResultObject": "Microsoft.ConfigurationManagement.ManagementProvider.IResultObject",
    "CimInstance": "Microsoft.Management.Infrastructure.CimInstance",
    "CimSession": "Microsoft.Management.Infrastructure.CimSession",
    "Hashtable": "System.Collections.Hashtable",
}

_INT_STRING = re.compile(r"^\s*[+-]?\d+\s*$")
_ISO_8601 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,7}))?)?)?"
    r"(Z|[+-]\d{2}:?\d{2})?$"
)


class BindingError(Exception):
    """PowerShell would refuse this invocation; ``message`` is what PowerShell would say."""

    def __init__(self, cmdlet: str, parameter: str | None, message: str, fqid: str, category: str) -> None:
        super().__init__(message)
        self.cmdlet = cmdlet
        self.parameter = parameter
        self.message = message
        self.fqid = fqid
        self.category = category

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class SetMembership:
    """How a parameter takes part in one parameter set (``ALL_SETS``: in every set)."""

    set_name: str
    mandatory: bool = False
    position: int | None = None
    pipeline: tuple[str, ...] = ()


@dataclass(frozen=True)
class ParameterInfo:
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    sets: tuple[SetMembership, ...] = (SetMembership(ALL_SETS),)
    accepted_values: tuple[str, ...] = ()
    not_null_or_empty: bool = False
    not_null: bool = False
    range: tuple[int, int] | None = None
    ps_type_name: str | None = None
    common: bool = False  # a common (or WhatIf/Confirm) parameter added by the binder
    refused: str | None = None  # why a plan may never bind it (reaches another machine...)

    def membership(self, set_name: str) -> SetMembership | None:
        specific = [m for m in self.sets if m.set_name == set_name]
        if specific:
            return specific[0]
        every = [m for m in self.sets if m.set_name == ALL_SETS]
        return every[0] if every else None

    def in_set(self, set_name: str) -> bool:
        return self.membership(set_name) is not None

    def mandatory_in(self, set_name: str) -> bool:
        m = self.membership(set_name)
        return bool(m and m.mandatory)


@dataclass(frozen=True)
class CmdletInfo:
    name: str
    module: str
    default_set: str | None
    parameters: tuple[ParameterInfo, ...]
    sets: tuple[str, ...] = ()
    supports_should_process: bool = False
    source: str = ""
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def is_configmgr(self) -> bool:
        return self.module == CONFIGMGR_MODULE

    def all_parameters(self) -> tuple[ParameterInfo, ...]:
        """Declared parameters, then the common ones (and WhatIf/Confirm when supported)."""
        extra = _COMMON + (_SHOULD_PROCESS if self.supports_should_process else ())
        return self.parameters + tuple(
            ParameterInfo(name, type_, aliases, accepted_values=values, range=range_, common=True)
            for name, type_, aliases, values, range_ in extra
        )


@dataclass(frozen=True)
class Binding:
    cmdlet: str
    parameter_set: str
    params: dict = field(default_factory=dict)  # canonical name -> normalised value


def _parameter_from_json(raw: dict) -> ParameterInfo:
    validate = raw.get("validate", {})
    sets = tuple(
        SetMembership(
            name,
            bool(entry.get("mandatory")),
            entry.get("position"),
            tuple(entry.get("pipeline", ())),
        )
        for name, entry in sorted(raw["sets"].items())
    )
    range_ = validate.get("range")
    return ParameterInfo(
        name=raw["name"],
        type=raw["type"],
        aliases=tuple(raw.get("aliases", ())),
        sets=sets,
        accepted_values=tuple(raw.get("accepted_values", ())),
        not_null_or_empty=bool(validate.get("not_null_or_empty")),
        not_null=bool(validate.get("not_null")),
        range=(int(range_[0]), int(range_[1])) if range_ else None,
        ps_type_name=raw.get("ps_type_name"),
        refused=raw.get("refused"),
    )


def _cmdlet_from_json(raw: dict) -> CmdletInfo:
    return CmdletInfo(
        name=raw["name"],
        module=raw["module"],
        default_set=raw.get("default_set"),
        parameters=tuple(_parameter_from_json(p) for p in raw["parameters"]),
        sets=tuple(raw.get("sets", ())),
        supports_should_process=bool(raw.get("supports_should_process")),
        source=raw.get("source", ""),
        notes=tuple(raw.get("notes", ())),
    )


class Catalog:
    _cache: ClassVar[dict] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()
    # CPU seconds spent parsing catalogs, and by which process (make bench shows both).
    load_seconds: ClassVar[float] = 0.0
    loaded_by_pid: ClassVar[int | None] = None

    def __init__(self, cmdlets: dict[str, CmdletInfo], sources: dict | None = None) -> None:
        self._by_lower = {name.lower(): info for name, info in cmdlets.items()}
        self.sources = sources or {}

    @classmethod
    def load(cls, path: str | None = None) -> Catalog:
        path = os.path.abspath(path or CATALOG_FILE)
        with cls._lock:
            if path not in cls._cache:
                started = time.process_time()
                with open(path, encoding="utf-8") as f:
                    raw = json.load(f)
                cmdlets = {name: _cmdlet_from_json(entry) for name, entry in raw["cmdlets"].items()}
                cls._cache[path] = cls(cmdlets, raw.get("sources"))
                Catalog.load_seconds += time.process_time() - started
                Catalog.loaded_by_pid = os.getpid()
            return cls._cache[path]

    def names(self) -> list[str]:
        return sorted(info.name for info in self._by_lower.values())

    def get(self, cmdlet: str) -> CmdletInfo:
        info = self._by_lower.get(str(cmdlet).lower())
        if info is None:
            raise BindingError(
                str(cmdlet),
                None,
                f"The term '{cmdlet}' is not recognized as the name of a cmdlet, function, script file, or "
                "operable program. Check the spelling of the name, or if a path was included, verify that "
                "the path is correct and try again.",
                "CommandNotFoundException",
                "ObjectNotFound",
            )
        return info

    def provider_kind(self, cmdlet: str, params: dict | None) -> str | None:
        """How a step reaches the SMS Provider (docs/engine-protocol.md section 2.2): "cmsite" for a
        ConfigMgr cmdlet (the module and the CMSite drive), "cim" for a step that uses a provider
        value without being one (facts of the provider, no module), else None (a host step)."""
        if self.get(cmdlet).is_configmgr:
            return "cmsite"
        if any(_protocol.uses_provider_value(v) for v in (params or {}).values()):
            return "cim"
        return None

    def bind(self, cmdlet: str, params: dict | None) -> Binding:
        info = self.get(cmdlet)
        return _Binder(info).bind(params or {})

    def parameter(self, cmdlet: str, key: str) -> ParameterInfo:
        """The parameter a plan's key names (exact name, alias or unique prefix, as bind matches it)."""
        return _Binder(self.get(cmdlet)).match_name(key)

    def check_resolved(self, binding: Binding, name: str, value: object) -> None:
        """The binder's checks that need what a {"$ref"} resolved to, which only the engine knows
        (cmlab's engine calls this; Windows PowerShell makes the same checks when it binds): a list
        (several outputs, or none) for a parameter that takes one value, and null or empty values
        for mandatory and ValidateNotNullOrEmpty parameters. ``value`` is None, a list, or one object."""
        info = self.get(binding.cmdlet)
        param = next(p for p in info.all_parameters() if p.name == name)
        binder = _Binder(info)
        is_array = param.type.endswith("[]")
        kind = _kind(_element_type(param.type))
        if isinstance(value, (list, tuple)) and not is_array and kind != "object":
            if kind in ("bool", "switch"):
                raise _boolean_error(binder, param, "System.Object[]")
            raise binder.error(
                name,
                f"Cannot bind parameter '{name}'. Cannot convert 'System.Object[]' to the type "
                f"'{_dotnet(param.type)}' required by parameter '{name}'. Specified method is not supported.",
                "CannotConvertArgument",
            )
        if is_array:
            _validate_collection(binder, param, list(value) if isinstance(value, (list, tuple)) else [value])
        else:
            _validate_scalar(binder, param, value)
        if param.mandatory_in(binding.parameter_set):
            _check_mandatory_value(binder, param, list(value) if isinstance(value, tuple) else value)


# --------------------------------------------------------------------------------------------


class _Binder:
    """One invocation: names, then parameter set, then values, then mandatory parameters."""

    def __init__(self, info: CmdletInfo) -> None:
        self.info = info
        self.parameters = info.all_parameters()

    def error(
        self,
        parameter: str | None,
        message: str,
        fqid: str,
        category: str = "InvalidArgument",
    ):
        return BindingError(self.info.name, parameter, message, fqid, category)

    def bind(self, params: dict) -> Binding:
        if not isinstance(params, dict):
            raise self.error(
                None,
                "Plan parameters must be a JSON object (name -> value).",
                "InvalidPlanParameters",
            )

        bound: dict[str, tuple[ParameterInfo, object]] = {}
        for key, value in params.items():
            param = self.match_name(key)
            if param.name in bound:
                raise self.error(
                    param.name,
                    f"Cannot bind parameter because parameter '{_typed_name(key)}' is specified more than once. "
                    "To provide multiple values to parameters that can accept multiple values, use the array "
                    'syntax. For example, "-parameter value1,value2,value3".',
                    "ParameterAlreadyBound",
                )
            if param.refused:
                raise self.error(
                    param.name,
                    f"Cannot bind parameter '{param.name}'. -{param.name} is not allowed in a plan: it {param.refused}.",
                    "ParameterNotAllowed",
                )
            if param.common and param.name in _ENGINE_ONLY:
                raise self.error(
                    param.name,
                    f"Cannot bind parameter '{param.name}'. The common parameter -{param.name} is not allowed in a "
                    "plan: the engine sets -ErrorAction Stop itself, and the -*Variable parameters would set "
                    "variables of the engine.",
                    "CommonParameterNotAllowed",
                )
            bound[param.name] = (param, value)

        # Each bound parameter narrows the sets still possible, as PowerShell does while binding.
        candidates = list(self.info.sets) or [ALL_SETS]
        for param, _value in bound.values():
            candidates = [s for s in candidates if param.in_set(s)]
            if not candidates:
                raise self.ambiguous_set()

        chosen = self.resolve_set(candidates, bound)
        values = {name: _convert(self, param, value) for name, (param, value) in bound.items()}
        missing = [p.name for p in self.parameters if p.mandatory_in(chosen) and p.name not in bound]
        if missing:
            raise self.error(
                missing[0] if len(missing) == 1 else None,
                "Cannot process command because of one or more missing mandatory parameters: " + " ".join(missing) + ".",
                "MissingMandatoryParameter",
            )
        for name, (param, _value) in bound.items():
            if param.mandatory_in(chosen):
                _check_mandatory_value(self, param, values[name])
        return Binding(self.info.name, chosen, values)

    def match_name(self, key: object) -> ParameterInfo:
        """PowerShell's rule: exact name or alias wins, else a unique prefix of names and aliases."""
        typed = str(key)
        name = typed.removeprefix("-")
        lowered = name.lower()
        if not isinstance(key, str) or not name:
            raise self.not_found(typed)
        matches: list[ParameterInfo] = []
        for param in self.parameters:
            if param.name.lower() == lowered:
                return param
            if param.name.lower().startswith(lowered) and param not in matches:
                matches.append(param)
        for param in self.parameters:
            for alias in param.aliases:
                if alias.lower() == lowered:
                    return param
                if alias.lower().startswith(lowered) and param not in matches:
                    matches.append(param)
        if not matches:
            raise self.not_found(name)
        if len(matches) > 1:
            # A cmdlet's own parameter beats common ones sharing the prefix ('-D' is not -Debug).
            declared = [p for p in matches if not p.common]
            if len(declared) != 1:
                raise self.error(
                    name,
                    f"Parameter cannot be processed because the parameter name '{name}' is ambiguous. "
                    f"Possible matches include: {' '.join('-' + p.name for p in matches)}.",
                    "AmbiguousParameter",
                )
            matches = declared
        return matches[0]

    def not_found(self, name: str) -> BindingError:
        return self.error(
            name,
            f"A parameter cannot be found that matches parameter name '{name}'.",
            "NamedParameterNotFound",
        )

    def ambiguous_set(self) -> BindingError:
        return self.error(
            None,
            "Parameter set cannot be resolved using the specified named parameters. One or more parameters "
            "issued cannot be used together or an insufficient number of parameters were provided.",
            "AmbiguousParameterSet",
        )

    def resolve_set(self, candidates: list[str], bound: dict) -> str:
        if len(candidates) == 1:
            return candidates[0]
        if self.info.default_set in candidates:
            return self.info.default_set
        complete = [s for s in candidates if all(p.name in bound for p in self.parameters if p.mandatory_in(s))]
        if len(complete) == 1:
            return complete[0]
        raise self.ambiguous_set()


def _typed_name(key: object) -> str:
    text = str(key)
    return text.removeprefix("-")


# --------------------------------------------------------------------------------------------
# Values. JSON gives str, int, float, bool, None, list and dict; only the value forms ({"$ref"},
# {"$provider"}, {"$secret"}, {"$credential"}) are meaningful objects (docs/engine-protocol.md section 2.2).


def _kind(type_name: str) -> str:
    base = type_name[9:-1] if type_name.startswith("Nullable[") else type_name
    if base == "SwitchParameter":
        return "switch"
    if base == "Boolean":
        return "bool"
    if base in _INT_RANGES:
        return "int"
    if base == "String":
        return "string"
    if base == "SecureString":
        return "secret"
    if base == "PSCredential":
        return "credential"
    if base == "DateTime":
        return "datetime"
    if base in ("Object", "PSObject"):
        return "object"
    if base in _REF_ONLY_TYPES:
        return "ref"
    return "convertible"  # enums, Uri, Version, SecurityIdentifier, LocalPrincipal...: from a string


def _element_type(type_name: str) -> str:
    return type_name.removesuffix("[]")


def _dotnet(type_name: str) -> str:
    if type_name in _DOTNET_NAMES:
        return _DOTNET_NAMES[type_name]
    if type_name in _INT_RANGES:
        return "System." + type_name
    return type_name


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "System.Boolean"
    if isinstance(value, int):
        return "System.Int32" if -(2**31) <= value < 2**31 else "System.Int64"
    if isinstance(value, float):
        return "System.Double"
    if isinstance(value, str):
        return "System.String"
    if isinstance(value, list):
        return "System.Object[]"
    return "System.Management.Automation.PSCustomObject"


def _ps_text(value: object) -> str:
    """How PowerShell shows a scalar in its messages ($true -> True)."""
    if isinstance(value, bool):
        return "True" if value else "False"
    if value is None:
        return ""
    return str(value)


_FORMS = {
    "ref": "$ref",
    "refprop": "$refprop",
    "provider": "$provider",
    "secret": "$secret",
    "credential": "$credential",
    "invalid": "invalid",
    "data": None,
}


def _special(value: object) -> str | None:
    """The plan value form of a value (docs/engine-protocol.md section 2.2): None for data,
    '$ref', '$refprop' ({"$ref": step, "property": name}), '$provider', '$secret', '$credential'
    ({"$credential": secret, "username": name}), or 'invalid' for any other object."""
    return _FORMS[_protocol.value_form(value)]


def _convert(binder: _Binder, param: ParameterInfo, value: object) -> object:
    name = param.name
    special = _special(value)
    if special == "invalid":
        raise binder.error(
            name,
            f"Cannot bind parameter '{name}'. A plan value object must be {_protocol.VALUE_FORMS}; any other object is refused.",
            "InvalidPlanValue",
        )
    type_name = param.type
    if special == "$provider":
        if not (binder.info.is_configmgr or binder.info.name in _protocol.CIM_CMDLETS):
            raise binder.error(
                name,
                f"Cannot bind parameter '{name}'. A provider value is only for a ConfigMgr cmdlet or a CIM cmdlet "
                f"({', '.join(sorted(_protocol.CIM_CMDLETS))}): those run against the SMS Provider.",
                "ProviderValueNotAllowed",
            )
        if _kind(_element_type(type_name)) not in ("string", "object", "convertible"):
            raise binder.error(
                name,
                f"Cannot bind parameter '{name}'. A provider value is text; '{name}' takes {type_name}.",
                "CannotConvertArgumentNoMessage",
            )
        return value
    if special == "$refprop":
        if _kind(_element_type(type_name)) in ("secret", "credential"):
            raise binder.error(
                name,
                f"Cannot bind parameter '{name}'. A {type_name} can only come from a plan secret, never from the output of a step.",
                "CannotConvertArgumentNoMessage",
            )
        return value
    is_array = type_name.endswith("[]")
    element_type = type_name[:-2] if is_array else type_name
    kind = _kind(element_type)

    if kind == "credential":
        if special == "$credential" and not is_array:
            return value
        raise binder.error(
            name,
            f"Cannot bind parameter '{name}'. A PSCredential can only come from a plan credential "
            '({"$credential": "<secret name>", "username": "<user>"}), never from plain plan data.',
            "PSCredentialRequiresCredential",
        )
    if special == "$credential":
        # The engine builds a PSCredential, which PowerShell converts to nothing else.
        raise binder.error(
            name,
            f"Cannot bind parameter '{name}'. Cannot convert the \"System.Management.Automation.PSCredential\" "
            f'value of type "System.Management.Automation.PSCredential" to type "{_dotnet(type_name)}".',
            "CannotConvertArgumentNoMessage",
        )
    if special == "$secret":
        if kind != "secret":
            # The engine turns a secret into a SecureString, which PowerShell converts to nothing else.
            raise binder.error(
                name,
                f"Cannot bind parameter '{name}'. Cannot convert the \"System.Security.SecureString\" value of "
                f'type "System.Security.SecureString" to type "{_dotnet(type_name)}".',
                "CannotConvertArgumentNoMessage",
            )
        return value
    if kind == "secret":
        raise binder.error(
            name,
            f"Cannot bind parameter '{name}'. A SecureString can only come from a plan secret "
            '({"$secret": "<name>"}), never from plain plan data.',
            "SecureStringRequiresSecret",
        )
    if special == "$ref":
        if kind in ("object", "ref", "convertible") and not param.accepted_values:
            return value
        raise binder.error(
            name,
            f"Cannot bind parameter '{name}'. The output of step '{value['$ref']}' can only fill an object "
            f"parameter; '{name}' takes {type_name}: pass the value itself.",
            "CannotConvertArgumentNoMessage",
        )

    if is_array:
        items = value if isinstance(value, list) else [value]
        converted = [_convert_scalar(binder, param, item, element_type, kind) for item in items]
        _validate_collection(binder, param, converted)
        return converted
    if element_type in _FLAGS_ENUMS and param.accepted_values and isinstance(value, (str, list)):
        names = value.split(",") if isinstance(value, str) else value
        return ",".join(_in_set(binder, param, _ps_text(n).strip()) for n in names)
    if isinstance(value, list) and kind != "object":
        if kind == "bool" or kind == "switch":
            raise _boolean_error(binder, param, "System.Object[]")
        raise binder.error(
            name,
            f"Cannot bind parameter '{name}'. Cannot convert 'System.Object[]' to the type "
            f"'{_dotnet(type_name)}' required by parameter '{name}'. Specified method is not supported.",
            "CannotConvertArgument",
        )
    converted = _convert_scalar(binder, param, value, element_type, kind)
    _validate_scalar(binder, param, converted)
    return converted


def _convert_scalar(binder: _Binder, param: ParameterInfo, value: object, type_name: str, kind: str) -> object:
    name = param.name
    if _special(value) is not None:  # an object inside a list
        raise _cannot_convert(binder, param, value, type_name + "[]")
    if kind in ("bool", "switch"):
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            return value != 0
        raise _boolean_error(binder, param, _json_type(value) if value is not None else "")
    if value is None:
        if param.accepted_values:
            return _in_set(binder, param, "")
        return None  # PowerShell binds $null; validation and mandatory checks decide
    if kind == "object":
        return value
    if isinstance(value, list):
        raise _cannot_convert(binder, param, value, type_name)
    if kind == "int":
        return _to_int(binder, param, value, type_name)
    if kind == "datetime":
        if not isinstance(value, str) or not _is_iso_8601(value):
            raise binder.error(
                name,
                f"Cannot bind parameter '{name}'. Cannot convert value \"{_ps_text(value)}\" to type "
                '"System.DateTime". Error: "String was not recognized as a valid DateTime."',
                "CannotConvertArgumentNoMessage",
            )
        return value
    if kind == "ref":
        raise _cannot_convert(binder, param, value, type_name)
    if param.accepted_values:
        return _in_set(binder, param, _ps_text(value))
    if kind == "string":
        return _ps_text(value)
    return value  # convertible: PowerShell converts the scalar itself


def _to_int(binder: _Binder, param: ParameterInfo, value: object, type_name: str) -> int:
    low, high = _INT_RANGES[type_name]
    text = _ps_text(value)
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif (isinstance(value, float) and value.is_integer()) or (isinstance(value, str) and _INT_STRING.match(value)):
        number = int(value)
    else:
        number = None
    if number is None:
        reason = "Input string was not in a correct format."
    elif not low <= number <= high:
        reason = f"Value was either too large or too small for {_OVERFLOW_NOUN[type_name]}."
    else:
        return number
    raise binder.error(
        param.name,
        f'Cannot bind parameter \'{param.name}\'. Cannot convert value "{text}" to type "{_dotnet(type_name)}". Error: "{reason}"',
        "CannotConvertArgumentNoMessage",
    )


def _is_iso_8601(text: str) -> bool:
    m = _ISO_8601.match(text)
    if not m:
        return False
    year, month, day, hour, minute, second = (int(g) if g else 0 for g in m.groups()[:6])
    try:
        datetime.datetime(year, month, day, hour, minute, second)
    except ValueError:
        return False
    return True


def _in_set(binder: _Binder, param: ParameterInfo, text: str) -> str:
    for allowed in param.accepted_values:
        if allowed.lower() == text.lower():
            return allowed
    raise _validation_error(
        binder,
        param,
        f'The argument "{text}" does not belong to the set "{",".join(param.accepted_values)}" specified by '
        "the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
    )


def _validate_scalar(binder: _Binder, param: ParameterInfo, value: object) -> None:
    if param.not_null_or_empty and (value is None or value == ""):
        raise _validation_error(
            binder,
            param,
            "The argument is null or empty. Provide an argument that is not null or empty, and then try the command again.",
        )
    if param.not_null and value is None:
        raise _validation_error(
            binder,
            param,
            "The argument is null. Provide a valid value for the argument, and then try the command again.",
        )
    if param.range and isinstance(value, int) and not isinstance(value, bool):
        low, high = param.range
        if value > high:
            raise _validation_error(
                binder,
                param,
                f"The {value} argument is greater than the maximum allowed range of {high}. Supply an argument "
                f"that is less than or equal to {high} and then try the command again.",
            )
        if value < low:
            raise _validation_error(
                binder,
                param,
                f"The {value} argument is less than the minimum allowed range of {low}. Supply an argument that "
                f"is greater than or equal to {low} and then try the command again.",
            )


def _validate_collection(binder: _Binder, param: ParameterInfo, values: list) -> None:
    if param.not_null_or_empty and (not values or any(v is None or v == "" for v in values)):
        raise _validation_error(
            binder,
            param,
            "The argument is null, empty, or an element of the argument collection contains a null value. "
            "Supply a collection that does not contain any null values and then try the command again.",
        )
    for value in values:
        _validate_scalar(binder, param, value)


def _check_mandatory_value(binder: _Binder, param: ParameterInfo, value: object) -> None:
    """Mandatory parameters refuse $null, '' and @() unless they allow them (which the docs do not say)."""
    kind = _kind(_element_type(param.type))
    if kind == "object":
        return  # e.g. Set-ItemProperty -Value: [AllowNull()] and anything goes
    problem = None
    if value is None:
        problem = ("it is null", "ParameterArgumentValidationErrorNullNotAllowed")
    elif value == "" and kind == "string":
        problem = (
            "it is an empty string",
            "ParameterArgumentValidationErrorEmptyStringNotAllowed",
        )
    elif value == [] and param.type.endswith("[]"):
        problem = (
            "it is an empty array",
            "ParameterArgumentValidationErrorEmptyArrayNotAllowed",
        )
    if problem:
        raise binder.error(
            param.name,
            f"Cannot bind argument to parameter '{param.name}' because {problem[0]}.",
            problem[1],
            "InvalidData",
        )


def _validation_error(binder: _Binder, param: ParameterInfo, detail: str) -> BindingError:
    return binder.error(
        param.name,
        f"Cannot validate argument on parameter '{param.name}'. {detail}",
        "ParameterArgumentValidationError",
        "InvalidData",
    )


def _boolean_error(binder: _Binder, param: ParameterInfo, shown_type: str) -> BindingError:
    return binder.error(
        param.name,
        f"Cannot process argument transformation on parameter '{param.name}'. Cannot convert value "
        f'"{shown_type}" to type "{_dotnet(_element_type(param.type))}". Boolean parameters accept only Boolean '
        "values and numbers, such as $True, $False, 1 or 0.",
        "ParameterArgumentTransformationError",
        "InvalidData",
    )


def _cannot_convert(binder: _Binder, param: ParameterInfo, value: object, type_name: str) -> BindingError:
    if isinstance(value, str):
        shown, of_type = value, "System.String"
    elif isinstance(value, dict):
        shown, of_type = (
            json.dumps(value, sort_keys=True),
            "System.Management.Automation.PSCustomObject",
        )
    else:
        shown, of_type = (
            _ps_text(value) if not isinstance(value, list) else "System.Object[]",
            _json_type(value),
        )
    return binder.error(
        param.name,
        f'Cannot bind parameter \'{param.name}\'. Cannot convert the "{shown}" value of type "{of_type}" to type "{_dotnet(type_name)}".',
        "CannotConvertArgumentNoMessage",
    )
