"""The engine, simulated: runs one payload exactly as plugins/module_utils/cmscp_engine.ps1 does.

Contract: docs/engine-protocol.md, stated once in the collection's protocol module
(``cmscp_plugin_utils._protocol``) and bound with the collection's cmdlet catalog
(``cmscp_plugin_utils._catalog``), both imported as packages (cmlab/contract.py). Where this file
and the PowerShell engine could differ, the PowerShell engine wins; the steps below follow it line by
line: the protocol version checked, the allow-list when a step is reached, the
provider resolved without the ConfigurationManager module for "cim" steps and with it for "cmsite"
steps, values resolved before binding, output stored raw for later $ref and shaped with `select`.
"""

from __future__ import annotations

import datetime
import json
import logging
import re
from dataclasses import dataclass, field
from typing import Any

from cmlab.accounting import Accounting
from cmlab.cmdlets import CmdletError, Invocation, ProviderSession, implementation, not_simulated, rights
from cmlab.cmdlets.errors import command_class, non_interactive_prompt, not_on_site_drive
from cmlab.cmdlets.pstypes import PSCredential, PSEnum, PSObject, SecureString
from cmlab.contract import catalog as _catalog
from cmlab.contract import protocol as _protocol
from cmlab.costmodel import cmdlet_event
from cmlab.faults import Faults
from cmlab.model import LabModel, ModelError, WindowsHost

log = logging.getLogger(__name__)

TEXTS = _protocol.TEXTS
# Drives every PowerShell session has: a site code equal to one breaks New-PSDrive
# (docs/configmgr-behaviour.md#powershell-module-and-remoting).
_BUILTIN_DRIVES = {"alias", "c", "cert", "env", "function", "hkcu", "hklm", "variable", "wsman"}
_NEW_CIM_SESSION = "Microsoft.Management.Infrastructure.CimCmdlets.NewCimSessionCommand"
_GET_CIM_INSTANCE = "Microsoft.Management.Infrastructure.CimCmdlets.GetCimInstanceCommand"
_CIM_EXCEPTION = "Microsoft.Management.Infrastructure.CimException"


def bootstrap_module():
    """The protocol module (markers, bootstrap, packing): the name tests have always used."""
    return _protocol


def catalog_module():
    return _catalog


def load_catalog(path: str | None = None):
    return _catalog.Catalog.load(path)


# ---------------------------------------------------------------------------------------------
# Errors as the engine reports them


class StageError(Exception):
    """Ends the plan: stage payload / provider / engine."""

    def __init__(
        self, stage: str, message: str, category: str, fqid: str, exception: str | None, step: str | None = None, cmdlet: str | None = None
    ) -> None:
        super().__init__(message)
        self.info = {
            "stage": stage,
            "step": step,
            "cmdlet": cmdlet,
            "message": message,
            "category": category,
            "fqid": fqid,
            "exception": exception,
        }


def _payload_error(message: str) -> StageError:
    return StageError("payload", message, "InvalidData", "InvalidPayload", None)


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


def _binding_error(e: Exception, cmdlet: str) -> CmdletError:
    fqid = e.fqid if e.fqid == "CommandNotFoundException" else f"{e.fqid},{command_class(cmdlet)}"
    return CmdletError(e.message, e.category, fqid, _binding_exception(e.fqid))


# ---------------------------------------------------------------------------------------------
# Output: select shaping and the engine's JSON writer


def round_trip_date(value: datetime.date) -> str:
    """.NET's DateTime.ToString('o'): always seven fractional digits, then the offset for an aware
    time (DateTimeKind.Local: what WMI, CIM and IResultObject times are; the lab's servers run on
    UTC, so '+00:00') and nothing for a naive one (DateTimeKind.Unspecified)."""
    if not isinstance(value, datetime.datetime):
        value = datetime.datetime(value.year, value.month, value.day)
    if hasattr(value, "kind"):  # a PSDateTime knows its DateTimeKind (cmlab/cmdlets/pstypes.py)
        return value.isoformat()
    text = f"{value:%Y-%m-%dT%H:%M:%S}.{value.microsecond * 10:07d}"
    offset = value.utcoffset()
    if offset is None:
        return text
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def plain_value(value: Any) -> Any:
    """select = null (ConvertTo-PlainValue)."""
    if value is None:
        return None
    if isinstance(value, (datetime.datetime, datetime.date)):
        return round_trip_date(value)
    if isinstance(value, PSEnum):
        return value.name
    if isinstance(value, SecureString):
        return None  # never a secret, not even its type name
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
    """Select-Shape: lists element by element; null = plain value; object = those properties, into
    an OrdinalIgnoreCase ordered dictionary (names differing only in case: the first spelling, the
    last sub-selection)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        return [shape(v, selection) for v in value]
    if selection is None:
        return plain_value(value)
    names = list(selection)
    return {first: shape(_property(value, names[last]), selection[names[last]]) for first, last in _protocol.unique_by_fold(names).values()}


def to_engine_json(value: Any) -> str:
    """ConvertTo-EngineJson: the protocol's writer (ASCII only, '<' and '>' escaped), after turning
    what is not plain data into its plain value."""
    if isinstance(value, dict):
        return "{" + ",".join(_protocol.json_string(str(k)) + ":" + to_engine_json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(to_engine_json(v) for v in value) + "]"
    if value is None or isinstance(value, (str, bool, int, float)):
        return _protocol.json_text(value)
    return to_engine_json(plain_value(value))


# ---------------------------------------------------------------------------------------------


@dataclass
class ProviderInfo:
    """What the engine knows of the SMS Provider: found without the ConfigurationManager module."""

    site_code: str
    server: str
    target: WindowsHost | None  # the provider's host in the lab (None: no such machine)
    remote: bool

    def value(self, key: str) -> str:
        return {"site_code": self.site_code, "server": self.server, "namespace": f"root\\SMS\\site_{self.site_code}"}[key]


@dataclass
class _Run:
    """One engine invocation's state (the PowerShell engine's $script: variables)."""

    host: WindowsHost
    provider: dict
    secrets: dict
    runspace: dict  # survives the invocation only in a PSRP runspace
    identity: str | None = None  # the session's principal (None: the lab's administrator)
    info: ProviderInfo | None = None
    cim_session: WindowsHost | None = None  # New-CimSession to a remote provider
    cim_connected: set = field(default_factory=set)
    drive: ProviderSession | None = None
    outputs: dict = field(default_factory=dict)  # step id (folded) -> raw output


class Engine:
    def __init__(self, model: LabModel, catalog=None, accounting: Accounting | None = None, faults: Faults | None = None) -> None:
        self.model = model
        self.catalog = catalog or load_catalog()
        self.accounting = accounting or Accounting()
        self.faults = faults or Faults()
        self._markers = _protocol
        # The install_failure fault reaches Site Component Manager through the model.
        model.install_fails = lambda server: self.faults.fire(server, "install_failure") is not None
        # A host_down fault makes the host unreachable for Site Component Manager too (its de-installs).
        model.host_unreachable = lambda server: self.faults.peek(server, "host_down") is not None

    # The whole document -------------------------------------------------------------------
    def run(self, host_name: str, payload_text: str, runspace: dict | None = None, identity: str | None = None) -> str:
        """Standard output of one engine invocation: the marked result document and a newline.
        `runspace`: the state of a PSRP runspace that outlives the invocation (module, drives).
        `identity`: the session's principal, whose rights the steps have (cmlab.cmdlets.rights)."""
        result = self.execute(host_name, payload_text, runspace, identity)
        return _protocol.frame(to_engine_json(result)) + "\r\n"

    def execute(self, host_name: str, payload_text: str, runspace: dict | None = None, identity: str | None = None) -> dict:
        self.accounting.host(host_name).add_engine_invocation()
        result: dict[str, Any] = {"protocol": 1, "ok": True, "steps": [], "error": None}
        try:
            with self.model.lock:
                self.model.scheduler.run_due()
            host = self.model.host(host_name)
            if host is None:
                raise StageError(
                    "engine",
                    f"cmlab has no host named {host_name}.",
                    "ObjectNotFound",
                    "CmlabUnknownHost",
                    "System.Management.Automation.RuntimeException",
                )
            payload = self._parse(payload_text)
            steps = payload.get("steps") if isinstance(payload, dict) else None
            if isinstance(steps, list):
                ids = [str(s.get("id")) for s in steps if isinstance(s, dict)]
                self.accounting.add_plan(host_name, ids)
                if self.faults.note_plan(host_name, "+".join(ids)):
                    return result  # struck before it ran (cmlab/faults.py at_plan): its result is lost anyway
            run = _Run(
                host, payload.get("provider") or {}, payload.get("secrets") or {}, runspace if runspace is not None else {}, identity
            )
            try:
                self._run_steps(run, payload["steps"], result)
            except (KeyError, TypeError, AttributeError, ValueError) as e:
                # Not the runner's structure: the PowerShell engine fails at stage engine too, in its words.
                raise StageError(
                    "engine",
                    f"cmlab: the payload is not a plan of protocol 1 ({type(e).__name__}: {e}).",
                    "InvalidData",
                    "CmlabMalformedPayload",
                    "System.Management.Automation.RuntimeException",
                ) from None
        except StageError as e:
            result["ok"] = False
            result["error"] = e.info
        except Exception as e:  # a bug in cmlab: report it as the engine's catch-all would
            log.exception("cmlab engine failure on %s", host_name)
            result["ok"] = False
            result["error"] = {
                "stage": "engine",
                "step": None,
                "cmdlet": None,
                "message": f"cmlab internal error: {type(e).__name__}: {e}",
                "category": "NotSpecified",
                "fqid": "CmlabInternalError",
                "exception": "System.Exception",
            }
        return result

    # Payload ------------------------------------------------------------------------------
    def _parse(self, text: str) -> dict:
        def no_constants(name: str) -> None:
            raise ValueError(name)  # NaN, Infinity: not JSON

        try:
            payload = json.loads(text, parse_constant=no_constants)
        except ValueError:
            raise _payload_error(TEXTS["not_json"]) from None
        if not _protocol.protocol_ok(payload):
            raise _payload_error(TEXTS["protocol"])
        return payload

    # Steps --------------------------------------------------------------------------------
    def _run_steps(self, run: _Run, steps: list, result: dict) -> None:
        allowed = {_protocol.fold(name): name for name in self.catalog.names()}
        for raw in steps:
            sid, cmdlet, kind = raw["id"], raw["cmdlet"], raw.get("provider")
            on_error = raw.get("on_error") or "stop"
            if not isinstance(cmdlet, str) or _protocol.fold(cmdlet) not in allowed:
                shown = "" if cmdlet is None else cmdlet
                raise StageError(
                    "payload", TEXTS["not_allowed"].format(cmdlet=shown), "PermissionDenied", "CmdletNotAllowed", None, sid, cmdlet
                )
            try:
                if kind == "cmsite" and run.drive is None:
                    self.connect(run)
                elif kind == "cim":
                    if run.info is None:
                        self.resolve_provider(run)
                    if run.info.remote and run.cim_session is None:
                        self.open_cim_session(run, run.info.server)
            except CmdletError as e:
                raise StageError("provider", e.message, e.category, e.fqid, e.exception, sid, cmdlet) from None
            record: dict[str, Any] = {"id": sid, "ok": True, "output": [], "error": None}
            try:
                out = self._invoke(run, allowed[_protocol.fold(cmdlet)], kind, raw.get("params") or {})
                run.outputs[_protocol.fold(sid)] = out[0] if len(out) == 1 else out
                record["output"] = shape(out, raw.get("select"))
            except CmdletError as e:
                record["ok"] = False
                record["error"] = e.to_dict()
            result["steps"].append(record)
            if not record["ok"] and on_error != "continue":
                raise StageError(
                    "step",
                    record["error"]["message"],
                    record["error"]["category"],
                    record["error"]["fqid"],
                    record["error"]["exception"],
                    sid,
                    cmdlet,
                )

    def _invoke(self, run: _Run, cmdlet: str, kind: str | None, params: dict) -> list:
        # Resolve-PlanValue runs for every parameter before the cmdlet is invoked (and so before
        # binding), into an OrdinalIgnoreCase splat: of names differing only in case, the last value.
        values_in_order = [_resolve(value, run) for value in params.values()]
        names = list(params)
        kept = _protocol.unique_by_fold(names)
        params = {first: params[names[last]] for first, last in kept.values()}
        resolved = {first: values_in_order[last] for first, last in kept.values()}
        try:
            binding = self.catalog.bind(cmdlet, params)
            info = self.catalog.get(cmdlet)
            # The binder hands value forms back as they came: check and swap in what they resolved to.
            forms = {name for name, value in params.items() if _protocol.value_form(value) != "data"}
            canonical = {name: self.catalog.parameter(cmdlet, name).name for name in forms}
            for name in forms:
                self.catalog.check_resolved(binding, canonical[name], resolved[name])
        except _catalog.BindingError as e:
            raise _binding_error(e, cmdlet) from None
        types = {p.name: p.type for p in info.all_parameters()}
        values = dict(binding.params)
        for name in forms:
            values[canonical[name]] = coerce(types.get(canonical[name], "Object"), resolved[name])
        host = run.host
        self.accounting.host(host.fqdn).add_cmdlet_call(info.name)
        # The engine adds -ErrorAction Stop to every step (a plan cannot: the catalog refuses it).
        if kind == "cim" and run.cim_session is not None:
            host = run.cim_session  # -CimSession: the query runs on the provider
        self._charge_cmdlet(run, info, values)

        if info.supports_should_process and values.get("Confirm") is True:
            raise non_interactive_prompt(info.name)
        if info.is_configmgr and run.drive is None:
            raise not_on_site_drive(info.name)
        if kind == "cim" and self._sms_namespace(values) and run.info is not None and run.info.target is not None:
            if self.faults.fire(run.info.target.fqdn, "provider_unavailable") is not None:
                raise _provider_error(
                    "The RPC server is unavailable. ", "HRESULT 0x800706ba", "ResourceUnavailable", _CIM_EXCEPTION, _GET_CIM_INSTANCE
                )
        registration = implementation(info.name)
        if registration is None:
            raise not_simulated(info.name)
        unsupported = registration.unsupported(values)
        if unsupported:
            raise not_simulated(info.name, "with " + ", ".join("-" + p for p in unsupported))
        refused = rights.refusal(
            info.name, info.is_configmgr, values, host, self._identity_on(run, host), self._configmgr_identity(run), self._read_only
        )
        if refused is not None:
            raise refused
        invocation = Invocation(
            cmdlet=info.name,
            parameter_set=binding.parameter_set,
            params=values,
            model=self.model,
            host=host,
            session=run.drive,
            faults=self.faults,
            supports_should_process=info.supports_should_process,
            ps_type_names={p.name: p.ps_type_name for p in info.parameters if p.ps_type_name},
        )
        try:
            out = registration.fn(invocation)
        except ModelError as e:
            raise CmdletError.from_model(info.name, e) from None
        # WMI objects are copies: a later step's change must not alter an earlier step's output.
        return [o.snapshot() if isinstance(o, PSObject) else o for o in out]

    def _identity_on(self, run: _Run, host: WindowsHost) -> str | None:
        """Who a step on `host` runs as: the CIM session's explicit credentials on the provider, else the session's
        own principal."""
        if run.cim_session is not None and host is run.cim_session and run.provider.get("username"):
            return str(run.provider["username"])
        return run.identity

    @staticmethod
    def _configmgr_identity(run: _Run) -> str | None:
        """Who the SMS Provider sees: the drive's explicit credentials, else the session's principal."""
        return str(run.provider["username"]) if run.provider.get("username") else run.identity

    def _read_only(self, identity: str) -> bool:
        return any(h.security_role(identity) == rights.READ_ONLY_ANALYST for h in self.model.hierarchies)

    @staticmethod
    def _sms_namespace(values: dict) -> bool:
        return str(values.get("Namespace") or "").lower().replace("/", "\\").startswith("root\\sms")

    def _charge_cmdlet(self, run: _Run, info, values: dict) -> None:
        """The cost model: a query of the SMS Provider's classes is a CIM query, and the first one of
        an invocation in a site namespace also connects to it (docs/cmlab.md "Cost model")."""
        fqdn = run.host.fqdn
        if info.name == "Get-CimInstance" and self._sms_namespace(values):
            namespace = str(values.get("Namespace")).lower().replace("/", "\\")
            self._charge_cim_query(run, run.cim_session.fqdn if run.cim_session is not None else fqdn, namespace)
            return
        self.accounting.charge(fqdn, cmdlet_event(info.name, info.is_configmgr))

    def _charge_cim_query(self, run: _Run, target: str, namespace: str) -> None:
        if namespace.startswith("root\\sms\\site_") and (target, namespace) not in run.cim_connected:
            run.cim_connected.add((target, namespace))
            self.accounting.charge(run.host.fqdn, "cim_connect")
        self.accounting.charge(run.host.fqdn, "cim_query")

    # Provider -----------------------------------------------------------------------------
    def _is_local(self, host: WindowsHost, name: str) -> bool:
        return name.lower() in (host.fqdn.lower(), host.netbios_name.lower(), "localhost", ".")

    def _secure(self, run: _Run, name: str) -> SecureString:
        """New-SecureText: a SecureString built character by character, never a cmdlet parameter."""
        text = run.secrets.get(name)
        if text is None:
            raise _runtime_error(TEXTS["secret_missing"].format(name=name))
        if text == "":
            raise _runtime_error(TEXTS["secret_empty"].format(name=name))
        return SecureString(text)

    def _credential(self, run: _Run) -> tuple[str, str] | None:
        """New-ProviderCredential: (user, password) when the payload names a user."""
        username = run.provider.get("username")
        if not username:
            return None
        secret_name = run.provider.get("password_secret")
        secure = self._secure(run, "" if secret_name is None else str(secret_name))
        return str(username), secure.reveal()

    def open_cim_session(self, run: _Run, server: str) -> None:
        """New-CimSession -ComputerName <server> [-Credential]: WinRM to the provider's machine."""
        credential = self._credential(run)
        self.accounting.charge(run.host.fqdn, "cim_session")
        target = self.model.host(server)
        if target is None or self.faults.peek(target.fqdn, "host_down") is not None:
            raise _provider_error(
                "WinRM cannot complete the operation. Verify that the specified computer name is valid, that the "
                "computer is accessible over the network, and that a firewall exception for the WinRM service is "
                "enabled and allows access from this computer. ",
                "HRESULT 0x80338126",
                "ConnectionError",
                _CIM_EXCEPTION,
                _NEW_CIM_SESSION,
            )
        if credential is None or not self.model.domain.verify(*credential):
            # Without explicit credentials the WinRM logon cannot be delegated: a second hop
            # (docs/configmgr-behaviour.md#powershell-module-and-remoting).
            raise _provider_error("Access is denied. ", "HRESULT 0x80070005", "PermissionDenied", _CIM_EXCEPTION, _NEW_CIM_SESSION)
        run.cim_session = target

    def resolve_provider(self, run: _Run) -> None:
        """Resolve-Provider: site code, server and namespace from the payload, or from root\\SMS
        SMS_ProviderLocation (through the CIM session when the server is another machine)."""
        site_code = str(run.provider.get("site_code") or "")
        server = str(run.provider.get("server") or "")
        if not site_code or not server:
            where = run.host
            if server and not self._is_local(run.host, server):
                self.open_cim_session(run, server)
                where = run.cim_session
            sites = self.model.sites_provided_by(where.fqdn) + self.model.sites_served_by(where.fqdn)
            self._charge_cim_query(run, where.fqdn, "root\\sms")  # SMS_ProviderLocation
            if not sites:
                raise _provider_error("Invalid namespace ", "HRESULT 0x8004100e", "MetadataError", _CIM_EXCEPTION, _GET_CIM_INSTANCE)
            _, site = sorted(sites, key=lambda hs: hs[1].code)[0]
            site_code = site_code or site.code
            server = server or site.provider
        run.info = ProviderInfo(site_code, server, self.model.host(server), not self._is_local(run.host, server))

    def connect(self, run: _Run) -> None:
        """Connect-CMSite: import the module, resolve the provider, open (or reuse) the CMSite drive."""
        host, provider = run.host, run.provider
        import_cmd = "Microsoft.PowerShell.Commands.ImportModuleCommand"
        module = provider.get("module")

        def module_missing(name: str) -> CmdletError:
            return _provider_error(
                f"The specified module '{name}' was not loaded because no valid module file was found in any module directory.",
                "Modules_ModuleNotFound",
                "ResourceUnavailable",
                "System.IO.FileNotFoundException",
                import_cmd,
            )

        with self.model.lock:
            if module:
                if not host.console_installed or str(module).lower() != str(host.console_module_path).lower():
                    raise module_missing(str(module))
            elif not host.console_installed:
                # No console: not on PSModulePath and no SMS_ADMIN_UI_PATH to fall back on.
                raise module_missing("ConfigurationManager")
            if not run.runspace.get("module_imported"):
                # Once per process; in a PSRP runspace, once per runspace (a later pipeline finds it loaded).
                self.accounting.charge(host.fqdn, "module_import")
                run.runspace["module_imported"] = True
            if run.info is None:
                self.resolve_provider(run)
            run.drive = self._drive(run)

    def _drive(self, run: _Run) -> ProviderSession:
        host, info = run.host, run.info
        site_code, server = info.site_code, info.server
        drives = run.runspace.setdefault("drives", {})
        if site_code.lower() in drives:  # Get-PSDrive found it: the runspace already has the drive
            return drives[site_code.lower()]
        cmd = "Microsoft.PowerShell.Commands.NewPSDriveCommand"
        provider_exc = "System.Management.Automation.ProviderInvocationException"
        credential = self._credential(run)
        if site_code.lower() in _BUILTIN_DRIVES:
            raise _provider_error(
                f"A drive with the name '{site_code}' already exists.",
                "DriveAlreadyExists",
                "ResourceExists",
                "System.Management.Automation.SessionStateException",
                cmd,
            )
        self.accounting.charge(host.fqdn, "cmsite_drive")  # New-PSDrive tries the connection
        target = info.target
        unavailable = (self.faults.fire(server, "provider_unavailable") if target else None) or self.faults.fire(
            host.fqdn, "provider_unavailable"
        )
        if target is None or unavailable is not None:
            raise _provider_error(
                f"Could not connect to the SMS Provider on '{server}': The RPC server is unavailable. (Exception from HRESULT: 0x800706BA)",
                "NewDriveProviderException",
                "ResourceUnavailable",
                provider_exc,
                cmd,
            )
        if credential is not None:
            if not self.model.domain.verify(*credential):
                raise _provider_error(
                    "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
                    "NewDriveProviderException",
                    "PermissionDenied",
                    provider_exc,
                    cmd,
                )
        elif target is not host:
            # The WinRM logon cannot be delegated to the provider: a second hop.
            raise _provider_error(
                "Access is denied. (Exception from HRESULT: 0x80070005 (E_ACCESSDENIED))",
                "NewDriveProviderException",
                "PermissionDenied",
                provider_exc,
                cmd,
            )
        for hierarchy, site in self.model.sites_provided_by(target.fqdn):
            if site.code == site_code.upper():
                session = ProviderSession(hierarchy, site.code, target.fqdn)
                drives[site_code.lower()] = session
                return session
        raise _provider_error(
            f"The SMS Provider on '{target.fqdn}' does not serve site '{site_code}': Invalid namespace 'root\\sms\\site_{site_code}'.",
            "NewDriveProviderException",
            "InvalidArgument",
            provider_exc,
            cmd,
        )


# ---------------------------------------------------------------------------------------------


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


def _resolve(value: Any, run: _Run) -> Any:
    """Resolve-PlanValue: the value forms of the protocol; any other object refused, and inside a
    list only data."""
    form = _protocol.value_form(value)
    if form == "provider":
        key = value["$provider"]
        if run.info is None:
            raise _runtime_error(TEXTS["provider_value"].format(key=key))
        return run.info.value(key)
    if form in ("ref", "refprop"):
        ref = value["$ref"]
        if _protocol.fold(ref) not in run.outputs:
            raise _runtime_error(TEXTS["ref_not_run"].format(ref=ref))
        output = run.outputs[_protocol.fold(ref)]
        return output if form == "ref" else _member(output, value["property"])
    if form in ("secret", "credential"):
        name = value["$secret"] if form == "secret" else value["$credential"]
        if run.secrets.get(name) is None:
            raise _runtime_error(TEXTS["secret_missing"].format(name=name))
        if run.secrets[name] == "":
            raise _runtime_error(TEXTS["secret_empty"].format(name=name))
        if form == "credential":  # [pscredential]::new(user, New-SecureText): built, never bound as text
            return PSCredential(value["username"], SecureString(run.secrets[name]))
        return SecureString(run.secrets[name])
    if form == "invalid":
        raise _runtime_error(TEXTS["value_form"])
    if isinstance(value, list):
        if any(isinstance(item, dict) for item in value):
            raise _runtime_error(TEXTS["list_item"])
        return value
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
    everything else pass unchanged (the cmdlet checks them). The catalog's check_resolved has
    already refused what PowerShell would refuse."""
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
