"""The engine, simulated: runs one payload exactly as plugins/module_utils/cmscp_engine.ps1 does.

Contract: docs/engine-protocol.md. Where this file and the PowerShell engine could differ, the
PowerShell engine wins; the steps below follow it line by line (allow-list check when a step is
reached, provider connection on the first ConfigMgr step, values resolved before binding, output
stored raw for later $ref and shaped with `select`). cmlab is stricter in one place: it checks
the payload's structure before running anything (docs/cmlab.md, "Engine").
"""

from __future__ import annotations

import datetime
import importlib.util
import json
import logging
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from cmlab.accounting import Accounting
from cmlab.cmdlets import CmdletError, Invocation, ProviderSession, implementation, not_simulated
from cmlab.cmdlets.errors import command_class, non_interactive_prompt, not_on_site_drive
from cmlab.cmdlets.pstypes import PSEnum, PSObject, SecureString
from cmlab.costmodel import cmdlet_event
from cmlab.faults import Faults
from cmlab.model import LabModel, ModelError, WindowsHost

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parent.parent
PLUGIN_UTILS = REPO_ROOT / "plugins" / "plugin_utils"
_STEP_ID = re.compile(r"^[A-Za-z0-9_]+$")
# Drives every PowerShell session has: a site code equal to one breaks New-PSDrive (facts §2).
_BUILTIN_DRIVES = {"alias", "c", "cert", "env", "function", "hkcu", "hklm", "variable", "wsman"}


def _load_by_path(name: str, path: Path) -> ModuleType:
    """The collection's plugin_utils are loaded by path: cmlab does not need Ansible installed."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def bootstrap_module() -> ModuleType:
    return _load_by_path("cmlab_plugin_bootstrap", PLUGIN_UTILS / "_bootstrap.py")


def catalog_module() -> ModuleType:
    return _load_by_path("cmlab_plugin_catalog", PLUGIN_UTILS / "_catalog.py")


def load_catalog(path: str | None = None):
    return catalog_module().Catalog.load(path)


# ---------------------------------------------------------------------------------------------
# Errors as the engine reports them


class StageError(Exception):
    """Ends the plan: stage payload / provider / engine."""

    def __init__(self, stage: str, message: str, category: str, fqid: str, exception: str | None,
                 step: str | None = None, cmdlet: str | None = None) -> None:
        super().__init__(message)
        self.info = {"stage": stage, "step": step, "cmdlet": cmdlet, "message": message, "category": category,
                     "fqid": fqid, "exception": exception}


def _runtime_error(message: str) -> CmdletError:
    """What PowerShell's `throw "text"` produces."""
    return CmdletError(message, "OperationStopped", message, "System.Management.Automation.RuntimeException")


def _binding_exception(fqid: str) -> str:
    if fqid == "CommandNotFoundException":
        return "System.Management.Automation.CommandNotFoundException"
    if fqid.startswith("ParameterArgumentValidationError"):
        return "System.Management.Automation.ParameterBindingValidationException"
    if fqid == "ParameterArgumentTransformationError":
        return "System.Management.Automation.ParameterBindingArgumentTransformationException"
    return "System.Management.Automation.ParameterBindingException"


def _provider_error(message: str, error_id: str, category: str, exception: str, command: str) -> CmdletError:
    return CmdletError(message, category, f"{error_id},{command}", exception)


# ---------------------------------------------------------------------------------------------
# Output: select shaping and the engine's JSON writer


def plain_value(value: Any) -> Any:
    """select = null (ConvertTo-PlainValue)."""
    if value is None:
        return None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return value.isoformat()
    if isinstance(value, PSEnum):
        return value.name
    if isinstance(value, SecureString):
        return None                       # never a secret, not even its type name
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)):
        return [plain_value(v) for v in value]
    if isinstance(value, PSObject):
        return value.to_string()
    if isinstance(value, dict):
        return "System.Collections.Hashtable"
    return str(value)


def _property(value: Any, name: str) -> Any:
    if isinstance(value, PSObject):
        return value.get(name)
    if isinstance(value, dict):
        return next((v for k, v in value.items() if str(k).lower() == name.lower()), None)
    if isinstance(value, str) and name.lower() == "length":
        return len(value)
    return None


def shape(value: Any, selection: Any) -> Any:
    """Select-Shape: lists element by element; null = plain value; object = those properties."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [shape(v, selection) for v in value]
    if selection is None:
        return plain_value(value)
    return {name: shape(_property(value, name), sub) for name, sub in selection.items()}


def _json_string(text: str) -> str:
    out = ['"']
    for unit in text.encode("utf-16-le").decode("utf-16-le", "surrogatepass"):
        code = ord(unit)
        if unit == '"':
            out.append('\\"')
        elif unit == "\\":
            out.append("\\\\")
        elif code < 0x20 or code > 0x7E:
            if code > 0xFFFF:   # UTF-16 code units, as .NET strings hold them
                code -= 0x10000
                out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
            else:
                out.append(f"\\u{code:04x}")
        else:
            out.append(unit)
    out.append('"')
    return "".join(out)


def to_engine_json(value: Any) -> str:
    """ConvertTo-EngineJson: compact, ASCII only (non-ASCII as \\uXXXX)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return _json_string(value)
    if isinstance(value, dict):
        return "{" + ",".join(_json_string(str(k)) + ":" + to_engine_json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_engine_json(v) for v in value) + "]"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return to_engine_json(plain_value(value))


# ---------------------------------------------------------------------------------------------


@dataclass
class _Step:
    id: str
    cmdlet: str
    cm: bool
    params: dict
    select: Any
    on_error: str


class Engine:
    def __init__(self, model: LabModel, catalog=None, accounting: Accounting | None = None,
                 faults: Faults | None = None) -> None:
        self.model = model
        self.catalog = catalog or load_catalog()
        self.accounting = accounting or Accounting()
        self.faults = faults or Faults()
        self._markers = bootstrap_module()
        # The install_failure fault reaches Site Component Manager through the model.
        model.install_fails = lambda server: self.faults.fire(server, "install_failure") is not None
        # A host_down fault makes the host unreachable for Site Component Manager too (its de-installs).
        model.host_unreachable = lambda server: self.faults.peek(server, "host_down") is not None

    # The whole document -------------------------------------------------------------------
    def run(self, host_name: str, payload_text: str) -> str:
        """Standard output of one engine invocation: the marked result document and a newline."""
        result = self.execute(host_name, payload_text)
        return self._markers.RESULT_START + to_engine_json(result) + self._markers.RESULT_END + "\r\n"

    def execute(self, host_name: str, payload_text: str) -> dict:
        self.accounting.host(host_name).add_engine_invocation()
        result: dict[str, Any] = {"protocol": 1, "ok": True, "steps": [], "error": None}
        try:
            with self.model.lock:
                self.model.scheduler.run_due()
            host = self.model.host(host_name)
            if host is None:
                raise StageError("engine", f"cmlab has no host named {host_name}.", "ObjectNotFound",
                                 "CmlabUnknownHost", "System.Management.Automation.RuntimeException")
            payload = self._parse(payload_text)
            self._run_steps(host, payload, result)
        except StageError as e:
            result["ok"] = False
            result["error"] = e.info
        except Exception as e:   # a bug in cmlab: report it as the engine's catch-all would
            log.exception("cmlab engine failure on %s", host_name)
            result["ok"] = False
            result["error"] = {"stage": "engine", "step": None, "cmdlet": None,
                               "message": f"cmlab internal error: {type(e).__name__}: {e}", "category": "NotSpecified",
                               "fqid": "CmlabInternalError", "exception": "System.Exception"}
        return result

    # Payload ------------------------------------------------------------------------------
    def _parse(self, text: str) -> dict:
        try:
            payload = json.loads(text)
        except ValueError as e:
            raise StageError("payload", f"Invalid JSON primitive: {text[e.pos:e.pos + 20]}.", "NotSpecified",
                             "System.ArgumentException,Microsoft.PowerShell.Commands.ConvertFromJsonCommand",
                             "System.ArgumentException") from None
        protocol = payload.get("protocol") if isinstance(payload, dict) else None
        if str(protocol) not in ("1", "1.0") or isinstance(protocol, bool):
            shown = "" if protocol is None else str(protocol)
            message = f"Unsupported protocol version '{shown}'."
            raise StageError("payload", message, "OperationStopped", message,
                             "System.Management.Automation.RuntimeException")
        self._check_structure(payload)
        return payload

    def _check_structure(self, payload: dict) -> None:
        """Stricter than the PowerShell engine: a malformed plan is a runner bug, so say so early."""
        def bad(message: str) -> StageError:
            return StageError("payload", message, "InvalidData", "CmlabInvalidPayload", "System.ArgumentException")

        steps = payload.get("steps")
        if not isinstance(steps, list):
            raise bad("'steps' must be a list.")
        secrets = payload.get("secrets")
        if secrets is not None and not (isinstance(secrets, dict) and all(isinstance(v, str) for v in secrets.values())):
            raise bad("'secrets' must map names to strings.")
        provider = payload.get("provider")
        if provider is not None and not isinstance(provider, dict):
            raise bad("'provider' must be an object or null.")
        seen: set[str] = set()
        for index, step in enumerate(steps):
            if not isinstance(step, dict):
                raise bad(f"Step {index} is not an object.")
            sid = step.get("id")
            if not isinstance(sid, str) or not _STEP_ID.match(sid) or sid in seen:
                raise bad(f"Step {index} has an invalid or duplicate id {sid!r}.")
            seen.add(sid)
            if not isinstance(step.get("cmdlet"), str):
                raise bad(f"Step '{sid}' has no cmdlet name.")
            if not isinstance(step.get("cm", False), bool):
                raise bad(f"Step '{sid}': 'cm' must be true or false.")
            if step.get("params") is not None and not isinstance(step.get("params"), dict):
                raise bad(f"Step '{sid}': 'params' must be an object.")
            if step.get("on_error", "stop") not in ("stop", "continue", None):
                raise bad(f"Step '{sid}': 'on_error' must be 'stop' or 'continue'.")
            if not _valid_select(step.get("select")):
                raise bad(f"Step '{sid}': 'select' must be null or an object whose values are null or objects.")

    # Steps --------------------------------------------------------------------------------
    def _run_steps(self, host: WindowsHost, payload: dict, result: dict) -> None:
        secrets = payload.get("secrets") or {}
        outputs: dict[str, Any] = {}
        session: ProviderSession | None = None
        allowed = {name.lower(): name for name in self.catalog.names()}
        for raw in payload["steps"]:
            step = _Step(raw["id"], raw["cmdlet"], bool(raw.get("cm")), raw.get("params") or {}, raw.get("select"),
                         raw.get("on_error") or "stop")
            if step.cmdlet.lower() not in allowed:
                raise StageError("payload", f"The cmdlet '{step.cmdlet}' is not allowed.", "PermissionDenied",
                                 "CmdletNotAllowed", None, step.id, step.cmdlet)
            if step.cm and session is None:
                try:
                    session = self.connect(host, payload.get("provider"), secrets)
                except CmdletError as e:
                    raise StageError("provider", e.message, e.category, e.fqid, e.exception, step.id, step.cmdlet) from None
            record: dict[str, Any] = {"id": step.id, "ok": True, "output": [], "error": None}
            try:
                out = self._invoke(host, step, outputs, secrets, session)
                outputs[step.id] = out[0] if len(out) == 1 else out
                record["output"] = shape(out, step.select)
            except CmdletError as e:
                record["ok"] = False
                record["error"] = e.to_dict()
            result["steps"].append(record)
            if not record["ok"] and step.on_error != "continue":
                raise StageError("step", record["error"]["message"], record["error"]["category"], record["error"]["fqid"],
                                 record["error"]["exception"], step.id, step.cmdlet)

    def _invoke(self, host: WindowsHost, step: _Step, outputs: dict, secrets: dict,
                session: ProviderSession | None) -> list:
        # Resolve-PlanValue runs before the cmdlet is invoked (and so before binding).
        resolved = {name: _resolve(value, outputs, secrets, session) for name, value in step.params.items()}
        module = catalog_module()
        try:
            binding = self.catalog.bind(step.cmdlet, {**step.params, "ErrorAction": "Stop"})
        except module.BindingError as e:
            fqid = e.fqid if e.fqid == "CommandNotFoundException" else f"{e.fqid},{command_class(step.cmdlet)}"
            raise CmdletError(e.message, e.category, fqid, _binding_exception(e.fqid)) from None
        info = self.catalog.get(step.cmdlet)
        # The binder hands $ref / $secret objects back as they came: swap in what they resolved to.
        special = {id(v): k for k, v in step.params.items() if isinstance(v, dict)}
        types = {p.name: p.type for p in info.all_parameters()}
        from_refs = {name for name, value in binding.params.items() if isinstance(value, dict) and id(value) in special}
        params = {name: coerce(types.get(name, "Object"), resolved[special[id(value)]]) if name in from_refs else value
                  for name, value in binding.params.items()}
        _check_resolved(info, binding, params, from_refs)
        self.accounting.host(host.fqdn).add_cmdlet_call(info.name)
        self.accounting.charge(host.fqdn, cmdlet_event(info.name, info.is_configmgr))

        if info.supports_should_process and params.get("Confirm") is True:
            raise non_interactive_prompt(info.name)
        if info.is_configmgr and session is None:
            raise not_on_site_drive(info.name)
        registration = implementation(info.name)
        if registration is None:
            raise not_simulated(info.name)
        unsupported = registration.unsupported(params)
        if unsupported:
            raise not_simulated(info.name, "with " + ", ".join("-" + p for p in unsupported))
        invocation = Invocation(
            cmdlet=info.name, parameter_set=binding.parameter_set, params=params, model=self.model, host=host,
            session=session, faults=self.faults, supports_should_process=info.supports_should_process,
            ps_type_names={p.name: p.ps_type_name for p in info.parameters if p.ps_type_name},
        )
        try:
            out = registration.fn(invocation)
        except ModelError as e:
            raise CmdletError.from_model(info.name, e) from None
        # WMI objects are copies: a later step's change must not alter an earlier step's output.
        return [o.snapshot() if isinstance(o, PSObject) else o for o in out]

    # Provider -----------------------------------------------------------------------------
    def connect(self, host: WindowsHost, provider: dict | None, secrets: dict) -> ProviderSession:
        """Connect-Provider: import the module, find site and provider, open the CMSite drive."""
        provider = provider or {}
        import_cmd = "Microsoft.PowerShell.Commands.ImportModuleCommand"
        module = provider.get("module")

        def module_missing(name: str) -> CmdletError:
            return _provider_error(
                f"The specified module '{name}' was not loaded because no valid module file was found in any "
                "module directory.", "Modules_ModuleNotFound", "ResourceUnavailable", "System.IO.FileNotFoundException",
                import_cmd)

        with self.model.lock:
            if module:
                if not host.console_installed or str(module).lower() != str(host.console_module_path).lower():
                    raise module_missing(str(module))
            elif not host.console_installed:
                # No console: not on PSModulePath and no SMS_ADMIN_UI_PATH to fall back on (facts §2).
                raise module_missing("ConfigurationManager")
            self.accounting.charge(host.fqdn, "module_import")   # once per invocation that needs the provider

            site_code = provider.get("site_code") or ""
            server = provider.get("server") or ""
            if not site_code or not server:
                location = self._discover(host, server)
                site_code = site_code or location["SiteCode"]
                server = server or location["Machine"]
            return self._new_drive(host, str(site_code), str(server), provider, secrets)

    def _discover(self, host: WindowsHost, server: str) -> dict:
        cim = "Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand"
        exc = "Microsoft.Management.Infrastructure.CimException"
        if server and server.lower() not in (host.fqdn, host.netbios_name.lower(), "localhost", "."):
            # Get-CimInstance -ComputerName from inside a WinRM session: a second hop (facts §2).
            raise _provider_error("Access is denied. ", "HRESULT 0x80070005", "PermissionDenied", exc, cim)
        sites = self.model.sites_provided_by(host.fqdn) + self.model.sites_served_by(host.fqdn)
        if not sites:
            raise _provider_error("Invalid namespace ", "HRESULT 0x8004100e", "MetadataError", exc, cim)
        self.accounting.charge(host.fqdn, "windows_cmdlet")   # Get-CimInstance root\SMS SMS_ProviderLocation
        _, site = sorted(sites, key=lambda hs: hs[1].code)[0]
        return {"SiteCode": site.code, "Machine": site.provider, "ProviderForLocalSite": True}

    def _new_drive(self, host: WindowsHost, site_code: str, server: str, provider: dict,
                   secrets: dict) -> ProviderSession:
        cmd = "Microsoft.PowerShell.Commands.NewPSDriveCommand"
        provider_exc = "System.Management.Automation.ProviderInvocationException"
        username = provider.get("username")
        if username:
            password = secrets.get(str(provider.get("password_secret")))
            if password is None:
                raise _provider_error("Cannot bind argument to parameter 'String' because it is null.",
                                      "ParameterArgumentValidationErrorNullNotAllowed", "InvalidData",
                                      "System.Management.Automation.ParameterBindingValidationException",
                                      "Microsoft.PowerShell.Commands.ConvertToSecureStringCommand")
        if site_code.lower() in _BUILTIN_DRIVES:
            raise _provider_error(f"A drive with the name '{site_code}' already exists.", "DriveAlreadyExists",
                                  "ResourceExists", "System.Management.Automation.SessionStateException", cmd)
        self.accounting.charge(host.fqdn, "cmsite_drive")   # New-PSDrive tries the connection
        target = self.model.host(server)
        unavailable = (self.faults.fire(server, "provider_unavailable") if target else None) \
            or self.faults.fire(host.fqdn, "provider_unavailable")
        if target is None or unavailable is not None:
            raise _provider_error(
                f"Could not connect to the SMS Provider on '{server}': The RPC server is unavailable. "
                "(Exception from HRESULT: 0x800706BA)", "NewDriveProviderException", "ResourceUnavailable",
                provider_exc, cmd)
        if username:
            if not self.model.domain.verify(str(username), str(password)):
                raise _provider_error("Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
                                      "NewDriveProviderException", "PermissionDenied", provider_exc, cmd)
        elif target is not host:
            # The WinRM logon cannot be delegated to the provider: a second hop (facts §2).
            raise _provider_error("Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
                                  "NewDriveProviderException", "PermissionDenied", provider_exc, cmd)
        for hierarchy, site in self.model.sites_provided_by(target.fqdn):
            if site.code == site_code.upper():
                return ProviderSession(hierarchy, site.code, target.fqdn)
        raise _provider_error(
            f"The SMS Provider on '{target.fqdn}' does not serve site '{site_code}': Invalid namespace "
            f"'root\\sms\\site_{site_code}'.", "NewDriveProviderException", "InvalidArgument", provider_exc, cmd)


# ---------------------------------------------------------------------------------------------


def _valid_select(selection: Any) -> bool:
    if selection is None:
        return True
    if not isinstance(selection, dict):
        return False
    return all(isinstance(k, str) and _valid_select(v) for k, v in selection.items())


def _check_resolved(info, binding, params: dict, resolved_names: set[str]) -> None:
    """The binder's checks that only make sense once $ref values are known (the catalog saw the
    references, PowerShell sees the values): mandatory parameters refuse null / empty."""
    for param in info.all_parameters():
        if param.name not in resolved_names:
            continue
        value = params.get(param.name)
        mandatory = param.mandatory_in(binding.parameter_set)
        if param.not_null_or_empty and (value is None or value == "" or value == []):
            raise CmdletError(
                f"Cannot validate argument on parameter '{param.name}'. The argument is null or empty. Provide an "
                "argument that is not null or empty, and then try the command again.", "InvalidData",
                f"ParameterArgumentValidationError,{command_class(info.name)}",
                "System.Management.Automation.ParameterBindingValidationException")
        problem = None
        if mandatory and value is None:
            problem = ("it is null", "ParameterArgumentValidationErrorNullNotAllowed")
        elif mandatory and value == "" and param.type == "String":
            problem = ("it is an empty string", "ParameterArgumentValidationErrorEmptyStringNotAllowed")
        elif mandatory and value == [] and param.type.endswith("[]"):
            problem = ("it is an empty array", "ParameterArgumentValidationErrorEmptyArrayNotAllowed")
        if problem:
            raise CmdletError(f"Cannot bind argument to parameter '{param.name}' because {problem[0]}.", "InvalidData",
                              f"{problem[1]},{command_class(info.name)}",
                              "System.Management.Automation.ParameterBindingValidationException")


def _member(value: Any, name: str) -> Any:
    """PowerShell's `$x.Name`: a property, or member enumeration over a list."""
    if isinstance(value, (list, tuple)):
        found = []
        for item in value:
            inner = _member(item, name)
            if isinstance(inner, (list, tuple)):
                found.extend(inner)
            elif inner is not None:
                found.append(inner)
        return None if not found else found[0] if len(found) == 1 else found
    return _property(value, name)


def _provider_value(session: ProviderSession | None, name: str) -> str:
    """{"$provider": name}: what the engine learnt when it opened the CMSite drive."""
    if session is None:
        raise _runtime_error(f"Provider value '{name}' asked for before the provider was connected.")
    values = {"site_code": session.site_code, "server": session.provider,
              "namespace": f"root\\SMS\\site_{session.site_code}"}
    if name not in values:
        raise _runtime_error(f"Unknown provider value '{name}'.")
    return values[name]


def _resolve(value: Any, outputs: dict, secrets: dict, session: ProviderSession | None = None) -> Any:
    """Resolve-PlanValue: $ref → the earlier output (or one property of it), $secret → SecureString,
    $provider → a fact of the provider connection; other objects refused."""
    if isinstance(value, dict):
        keys = set(value)
        if keys == {"$provider"}:
            return _provider_value(session, str(value["$provider"]))
        if "$ref" in keys and keys <= {"$ref", "property"}:
            ref = str(value["$ref"])
            if ref not in outputs:
                raise _runtime_error(f"Reference to step '{ref}', which has not run.")
            if "property" not in keys:
                return outputs[ref]
            return _member(outputs[ref], str(value["property"]))
        if keys == {"$secret"}:
            name = str(value["$secret"])
            if secrets.get(name) is None:
                raise _runtime_error(f"Secret '{name}' is not in the payload.")
            return SecureString(secrets[name])
        raise _runtime_error('A parameter value may only be JSON data, {"$ref": step}, {"$ref": step, "property": name} '
                             'or {"$secret": name}.')
    if isinstance(value, list):
        return [_resolve(v, outputs, secrets, session) for v in value]
    return value


def _ps_text(value: Any) -> str:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, PSObject):
        return value.to_string()
    if isinstance(value, PSEnum):
        return value.name
    return str(value)


def coerce(param_type: str, value: Any) -> Any:
    """What PowerShell's binder makes of a resolved value for the common scalar types; objects and
    everything else pass unchanged (the cmdlet checks them)."""
    if value is None:
        return None
    if param_type.endswith("[]"):
        items = value if isinstance(value, list) else [value]
        return [coerce(param_type[:-2], v) for v in items]
    if param_type == "String" and not isinstance(value, (str, list, SecureString)):
        return _ps_text(value)
    if param_type in ("Int32", "UInt32", "Int64", "UInt16") and isinstance(value, str) and re.fullmatch(r"\s*[+-]?\d+\s*", value):
        return int(value)
    return value
