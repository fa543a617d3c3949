# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. Plans and the runner that sends them to the engine.

A plan is data (docs/engine-protocol.md): steps naming allow-listed cmdlets with named parameters.
The runner checks every step against the cmdlet catalog, sends the fixed bootstrap command line with
engine + payload on standard input through the task's own connection, and turns the one JSON
document that comes back into a PlanResult or an error that names the step, the cmdlet and the
PowerShell error.
"""

from __future__ import annotations

import json
import os
import re
import time
from dataclasses import dataclass, field
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.utils.display import Display

from ansible_collections.configmgr.scp.plugins.plugin_utils import _protocol
from ansible_collections.configmgr.scp.plugins.plugin_utils._catalog import BindingError, Catalog

display = Display()

ENGINE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "module_utils", "cmscp_engine.ps1")

# Parsed once per process, at import: ansible-playbook's strategy imports the action plugins (and so
# this module) in the main process before it forks a worker per task, so every task inherits the
# parsed catalog instead of parsing it again.
CATALOG = Catalog.load()


class RunnerError(AnsibleActionFail):
    """The plan could not be run or a step failed; carries what the result should show."""

    def __init__(
        self,
        message: str,
        step: str | None = None,
        cmdlet: str | None = None,
        details: dict | None = None,
        completed: list[str] | None = None,
        partial: dict | None = None,
    ):
        super().__init__(message)
        self.step = step
        self.cmdlet = cmdlet
        self.details = details or {}
        self.completed = completed or []  # ids of the steps that succeeded before the failure
        self.partial = partial or {}  # result keys that describe a half-done change
        self.plan_result: PlanResult | None = None  # a failed plan: the outputs of the steps that ran


class TransportError(RunnerError):
    """The connection failed while a plan was sent or its result read: not an error of a step.

    host: the inventory name of the host that could not be reached.
    operation: what the connection was doing - "connect", "start the command" (the plan certainly did
        not run: the engine reads the whole plan from standard input before it runs a step), "send the
        plan", "read the result" or "close the command" (the plan may have run).
    ran: False when the plan certainly did not run, None when nobody knows.
    reason: the failure in a few words ("the connection was refused"); raw: the transport's own text,
        shown at -vvv only.
    steps: the plan's step ids. The skeleton (_action.py) adds what the plan was for (`purpose`) and the
    actions of its write steps (`writes`), and turns all of it into the task's message.
    """

    def __init__(self, message: str, host: str, operation: str, reason: str, raw: str, steps: list[str]):
        super().__init__(message, details={"stage": "transport"})
        self.host = host
        self.operation = operation
        self.ran = False if operation in BEFORE_THE_PLAN else None
        self.reason = reason
        self.raw = raw
        self.steps = steps
        self.purpose = ""
        self.writes: list[str] = []


# What the connection was doing when it failed, from the frames of the exception chain (the winrm
# and psrp connection plugins, pywinrm, pypsrp): the first match wins, in this order. Anything else is
# "read the result": the conservative answer, the plan may have run.
_OPERATIONS = (
    (
        "read the result",
        (
            "_winrm_get_command_output",
            "_winrm_get_raw_command_output",
            "get_command_output",
            "_raw_get_command_output",
            "invoke",
            "_exec_psrp_script",
            "end_invoke",
            "poll_invoke",
        ),
    ),
    ("send the plan", ("_winrm_write_stdin", "_winrm_send_input", "send_command_input")),
    ("close the command", ("cleanup_command",)),
    ("start the command", ("_winrm_run_command", "run_command")),
    ("connect", ("_winrm_connect", "open_shell", "_kerb_auth", "_connect", "open")),
)
BEFORE_THE_PLAN = ("connect", "start the command")


def _frames(exc: BaseException) -> set[str]:
    names: set[str] = set()
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        tb = exc.__traceback__
        while tb is not None:
            names.add(tb.tb_frame.f_code.co_name)
            tb = tb.tb_next
        exc = exc.__cause__ or exc.__context__
    return names


def transport_operation(exc: BaseException) -> str:
    names = _frames(exc)
    for operation, frames in _OPERATIONS:
        if names.intersection(frames):
            return operation
    return "read the result"


_REASONS = (
    (r"credentials were rejected|\b401\b|Failed to authenticate", "the credentials were rejected"),
    (r"Connection refused|Errno 111|ConnectionRefused|actively refused", "the connection was refused"),
    (r"Read timed out|timed out|Timeout", "no answer came within the timeout"),
    (
        r"Connection aborted|RemoteDisconnected|Connection reset|ConnectionReset|Broken pipe|BrokenPipe|EOF occurred",
        "the connection was dropped",
    ),
    (r"wsmanfault_code|WSManFault|WS-Management", "the WinRM service answered with a WS-Management fault"),
    (r"Code\s+(\d{3})", "the WinRM service answered HTTP {0}"),
    (r"Name or service not known|getaddrinfo|nodename nor servname", "the host name could not be resolved"),
    (r"certificate verify failed|SSLError|SSL", "the TLS connection failed"),
)


def transport_reason(raw: str) -> str:
    """A transport failure in a few words; the raw text goes to -vvv."""
    for pattern, words in _REASONS:
        match = re.search(pattern, raw, re.IGNORECASE)
        if match:
            return words.format(*match.groups())
    return "the connection failed"


def ref(step_id: str, prop: str | None = None) -> dict:
    """A parameter value that is the output of an earlier step, or one property of it."""
    return {"$ref": step_id} if prop is None else {"$ref": step_id, "property": prop}


def provider_value(name: str) -> dict:
    """A parameter value the engine fills in from the provider connection: site_code, server or namespace."""
    return {"$provider": name}


def secret(name: str) -> dict:
    """A parameter value that becomes a SecureString of the named secret."""
    return {"$secret": name}


def credential(name: str, username: str) -> dict:
    """A parameter value that becomes a PSCredential of `username` and the named secret (built through .NET)."""
    return {"$credential": name, "username": username}


@dataclass
class Step:
    id: str
    cmdlet: str
    params: dict = field(default_factory=dict)
    select: dict | None = None
    on_error: str = "stop"  # or "continue": the error is captured and the plan goes on

    def to_payload(self, catalog: Catalog) -> dict:
        """The step as the payload carries it; members at their default are left out (an absent
        member reads as null in both engines, and on_error as "stop")."""
        info = catalog.get(self.cmdlet)
        step = {
            "id": self.id,
            "cmdlet": info.name,
            # How the step reaches the SMS Provider: null, "cim" or "cmsite" (docs/engine-protocol.md 2.2).
            "provider": catalog.provider_kind(info.name, self.params),
            "params": self.params or None,
            "select": self.select,
            "on_error": None if self.on_error == "stop" else self.on_error,
        }
        return {k: v for k, v in step.items() if v is not None}


@dataclass
class Provider:
    """Where the ConfigMgr steps connect (the CMSite drive). All optional: discovered on the host."""

    site_code: str | None = None
    server: str | None = None
    module: str | None = None
    username: str | None = None
    password: str | None = None

    PASSWORD_SECRET = "provider_password"

    def to_payload(self) -> dict:
        """Only what is set: an absent member reads as null in both engines."""
        values = {
            "site_code": self.site_code,
            "server": self.server,
            "module": self.module,
            "username": self.username,
            "password_secret": self.PASSWORD_SECRET if self.username else None,
        }
        return {k: v for k, v in values.items() if v is not None}


@dataclass
class StepResult:
    id: str
    ok: bool
    output: list
    error: dict | None

    @property
    def first(self) -> Any:
        return self.output[0] if self.output else None


@dataclass
class PlanResult:
    steps: dict[str, StepResult]

    def output(self, step_id: str) -> list:
        step = self.steps.get(step_id)
        return step.output if step else []

    def first(self, step_id: str) -> Any:
        step = self.steps.get(step_id)
        return step.first if step else None


class Plan:
    """An ordered list of steps, checked against the catalog as they are added."""

    def __init__(self, catalog: Catalog | None = None):
        self.catalog = catalog or CATALOG
        self.steps: list[Step] = []
        self.secrets: dict[str, str] = {}

    def add(self, step_id: str, cmdlet: str, params: dict | None = None, select: dict | None = None, on_error: str = "stop") -> Step:
        # Unique ignoring case: the engine keeps outputs in a PowerShell hashtable.
        if not _protocol.step_id_ok(step_id) or any(s.id.lower() == step_id.lower() for s in self.steps):
            raise ValueError(f"invalid or duplicate step id {step_id!r}")
        if on_error not in ("stop", "continue"):
            raise ValueError(f"on_error must be stop or continue, not {on_error!r}")
        started = time.process_time()
        step = Step(step_id, cmdlet, dict(params or {}), select, on_error)
        try:
            self.check_step(step)
        finally:
            CPU["plan"] += time.process_time() - started
        self.steps.append(step)
        return step

    def add_secret(self, name: str, value: str) -> dict:
        self.secrets[name] = value
        return secret(name)

    def add_credential(self, name: str, username: str, password: str) -> dict:
        """A PSCredential parameter value: the password travels as the secret `name`, never as text."""
        self.secrets[name] = password
        return credential(name, username)

    def check_step(self, step: Step) -> None:
        """Refuse what PowerShell would refuse, before anything is sent (the catalog binder)."""
        for value in step.params.values():
            for name in _refs_in(value):
                if not any(s.id == name for s in self.steps):
                    raise RunnerError(
                        f"Plan step '{step.id}' ({step.cmdlet}) refers to step '{name}', which does not run before it.",
                        step=step.id,
                        cmdlet=step.cmdlet,
                    )
        try:
            self.catalog.bind(step.cmdlet, step.params)
        except BindingError as e:
            raise RunnerError(
                f"Plan step '{step.id}' would be refused by PowerShell: {step.cmdlet}: {e.message}",
                step=step.id,
                cmdlet=step.cmdlet,
                details={"fqid": e.fqid, "category": e.category},
            ) from None

    def __len__(self) -> int:
        return len(self.steps)


def _refs_in(value: Any) -> list[str]:
    if _protocol.value_form(value) in ("ref", "refprop"):
        return [value["$ref"]]
    if isinstance(value, list):
        return [r for v in value for r in _refs_in(v)]
    return []


_engine_source_cache: str | None = None


def engine_source() -> str:
    global _engine_source_cache
    if _engine_source_cache is None:
        with open(ENGINE_PATH, encoding="ascii") as f:
            _engine_source_cache = f.read()
    return _engine_source_cache


# Minified once per process, at import, like the catalog: every task's worker inherits it (_protocol.minify
# keeps it), and every variant of it (the engine with only the regions a payload needs; a join of lines).
for _features in _protocol.feature_sets():
    _protocol.minify(engine_source(), _features)


def build_payload(plan: Plan, provider: Provider | None) -> tuple[str, dict[str, str]]:
    """The payload JSON (ASCII, secrets included) and the secrets it carries (for scrubbing)."""
    secrets = dict(plan.secrets)
    steps = [s.to_payload(plan.catalog) for s in plan.steps]
    provider_payload = None
    if any(s.get("provider") for s in steps):
        provider = provider or Provider()
        provider_payload = provider.to_payload()
        if provider.username:
            secrets[Provider.PASSWORD_SECRET] = provider.password or ""
    payload = {
        "protocol": _protocol.PROTOCOL_VERSION,
        "provider": provider_payload,
        "steps": steps,
        "secrets": secrets,
    }
    # Members at their default are left out, as in a step: an absent provider or secrets member reads as
    # null in both engines (every byte of standard input travels twice base64-encoded).
    payload = {k: v for k, v in payload.items() if v or k in ("protocol", "steps")}
    # ensure_ascii: powershell.exe decodes redirected stdin with the console code page. allow_nan:
    # JSON has no NaN or Infinity, and neither engine would read them.
    try:
        text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"), allow_nan=False)
    except ValueError:
        raise RunnerError("A plan value is not a finite number (NaN or Infinity), which JSON cannot carry.") from None
    return text, secrets


def scrub(text: str, secrets: dict[str, str]) -> str:
    """Defence in depth: no secret value leaves the runner, even inside an error a cmdlet wrote."""
    for value in secrets.values():
        if value and len(value) >= 3:
            text = text.replace(value, "********")
    return text


def parse_result(stdout: str, stderr: str, rc: int, secrets: dict[str, str]) -> dict:
    body = _protocol.unframe(stdout or "")
    if body is None:
        shown_err = (stderr or "").strip()[:2000] or "(empty)"
        shown_out = (stdout or "").strip()[:2000] or "(empty)"
        raise RunnerError(scrub(f"The engine did not return a result document (rc={rc}). stderr: {shown_err} stdout: {shown_out}", secrets))
    try:
        doc = json.loads(body)
    except ValueError as e:
        raise RunnerError(f"The engine returned a malformed result document: {e}") from None
    if not isinstance(doc, dict) or doc.get("protocol") != _protocol.PROTOCOL_VERSION or not isinstance(doc.get("steps"), list):
        raise RunnerError("The engine returned a result document of an unknown shape or protocol version.")
    return doc


# WMI connection failures of a CIM read: RPC server unavailable, access denied, no such namespace.
_CIM_CONNECTION_FAILURES = ("HRESULT 0X800706BA", "HRESULT 0X80070005", "HRESULT 0X8004100E")


def describe_error(error: dict) -> str:
    message = (error.get("message") or "").strip()
    fqid = error.get("fqid")
    suffix = f" [{fqid}]" if fqid else ""
    stage = error.get("stage")
    if stage == "provider":
        return f"Could not connect to the SMS Provider (before step '{error.get('step')}'): {message}{suffix}"
    if stage == "payload":
        return f"The engine refused the plan: {message}{suffix}"
    if stage == "step":
        if error.get("cmdlet") == "Get-CimInstance" and str(fqid or "").upper().startswith(_CIM_CONNECTION_FAILURES):
            # A read through CIM connects to the SMS Provider's WMI (docs/engine-protocol.md): say so.
            return f"Could not connect to the SMS Provider (step '{error.get('step')}', Get-CimInstance): {message}{suffix}"
        return f"Step '{error.get('step')}' ({error.get('cmdlet')}) failed: {message}{suffix}"
    return f"The engine failed: {message}{suffix}"


def to_plan_result(doc: dict, secrets: dict[str, str]) -> PlanResult:
    steps = {}
    for raw in doc["steps"]:
        output = raw.get("output")
        if output is None:
            output = []
        elif not isinstance(output, list):
            output = [output]
        steps[raw["id"]] = StepResult(raw["id"], bool(raw.get("ok")), output, raw.get("error"))
    if not doc.get("ok"):
        error = doc.get("error") or {}
        completed = [s.id for s in steps.values() if s.ok]
        failed = RunnerError(
            scrub(describe_error(error), secrets),
            step=error.get("step"),
            cmdlet=error.get("cmdlet"),
            details={k: error.get(k) for k in ("stage", "category", "fqid", "exception")},
            completed=completed,
        )
        failed.plan_result = PlanResult(steps)  # what the steps before the failure returned
        raise failed
    return PlanResult(steps)


def command_for(action) -> str:
    """The command line for the task's connection (docs/engine-protocol.md section 1).

    The winrm plugin of every supported ansible-core encodes a command that is not already encoded
    as `PowerShell ... -EncodedCommand` (2.16-2.18 encode *every* command, which would start a
    second powershell.exe inside the first), so it gets the bootstrap script and encodes it into
    BOOTSTRAP_COMMAND (2.21 spells the executable `powershell`; Windows reads it without case). The
    psrp plugin decodes an encoded command and runs the script in its runspace: it gets
    BOOTSTRAP_COMMAND, as does any other connection."""
    connection = getattr(action, "_connection", None)
    if getattr(connection, "transport", None) == "winrm":
        return _protocol.BOOTSTRAP
    return _protocol.BOOTSTRAP_COMMAND


# The collection's own controller CPU (seconds) in this process: plan checks, packing, parsing.
# `make bench` reads it (CONFIGMGR_SCP_CPU_FILE); nothing else does.
CPU = {"plan": 0.0, "send": 0.0}


def _record_cpu(action, plan: Plan) -> None:
    path = os.environ.get("CONFIGMGR_SCP_CPU_FILE")
    if not path:
        return
    task_object = getattr(action, "_task", None)
    task = (task_object.get_name() if task_object is not None else "") or ""
    line = {
        "pid": os.getpid(),
        "task": task,
        "steps": len(plan.steps),
        "plan_seconds": round(CPU["plan"], 6),
        "send_seconds": round(CPU["send"], 6),
        "catalog_load_seconds": round(Catalog.load_seconds, 6),
        "catalog_loaded_by_pid": Catalog.loaded_by_pid,
    }
    with open(path, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(line) + "\n")
    CPU["plan"] = CPU["send"] = 0.0


def run_plan(action, plan: Plan, provider: Provider | None = None) -> PlanResult:
    """Run a plan through the task's connection (one engine invocation)."""
    if not plan.steps:
        return PlanResult({})
    started = time.process_time()
    payload, secrets = build_payload(plan, provider)
    display.vvv(
        "configmgr.scp: running plan: " + ", ".join(f"{s.id}={s.cmdlet}" for s in plan.steps),
        host=getattr(action._play_context, "remote_addr", None),
    )
    stdin = _protocol.build_stdin(engine_source(), payload)
    command = command_for(action)
    CPU["send"] += time.process_time() - started
    try:
        res = action._low_level_execute_command(command, in_data=stdin, sudoable=False)
    except AnsibleActionFail:
        raise
    except Exception as e:  # noqa: BLE001 - whatever the connection raised: AnsibleConnectionFailure, requests, pywinrm
        raise transport_error(action, plan, e, secrets) from None
    started = time.process_time()
    try:
        doc = parse_result(res.get("stdout", ""), res.get("stderr", ""), res.get("rc", -1), secrets)
        return to_plan_result(doc, secrets)
    finally:
        CPU["send"] += time.process_time() - started
        _record_cpu(action, plan)


def host_of(action) -> str:
    """The inventory name of the host a plan runs on (RemoteHost and the skeleton set host_name)."""
    return getattr(action, "host_name", None) or getattr(action._play_context, "remote_addr", None) or "the host"


def transport_error(action, plan: Plan, exc: Exception, secrets: dict[str, str]) -> TransportError:
    """What the connection raised, as a TransportError: host, operation, a few words; the raw text at -vvv."""
    host = host_of(action)
    raw = scrub(f"{type(exc).__name__}: {exc}", secrets)
    operation = transport_operation(exc)
    reason = transport_reason(raw)
    steps = [s.id for s in plan.steps]
    display.vvv(
        f"configmgr.scp: the connection to {host} failed ({operation}) during the plan "
        f"{', '.join(f'{s.id}={s.cmdlet}' for s in plan.steps)}: {raw}",
        host=host,
    )
    ran = "the plan did not run" if operation in BEFORE_THE_PLAN else "the plan may have run"
    return TransportError(f"{host} could not be reached: {reason} ({operation}; {ran}).", host, operation, reason, raw, steps)
