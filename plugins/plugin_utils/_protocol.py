# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. The plan protocol between the controller and the engine.

One statement of the contract (docs/engine-protocol.md), used by three parties: the runner
(``_runner.py``), the cmdlet catalog (``_catalog.py``) and cmlab's Python engine, which imports this
module as a package (``cmscp_plugin_utils._protocol``, docs/cmlab.md "Installing cmlab"). The
PowerShell engine (``plugins/module_utils/cmscp_engine.ps1``) cannot import it; the contract test
(``tests/static/test_protocol_contract.py``) holds its literal strings and rules to this module.

Standard library only, no Ansible imports: cmlab runs without Ansible.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import re
import zlib

PROTOCOL_VERSION = 1

# --------------------------------------------------------------------------------------------
# The command line and standard input (docs/engine-protocol.md sections 1 and 2)

# Read standard input (one base64 line: raw deflate of engine + separator + payload), unpack it, split
# at the separator and run the engine with the payload JSON as its argument. The separator is one NUL,
# found with String.IndexOf(Char), which is always an ordinal search (.NET Framework's culture-aware
# IndexOf(String) ignores NUL); neither the engine (ASCII without NUL, tests/static) nor the payload
# (JSON writes NUL as \u0000) holds one. It never changes with the plan and carries no data, and it is
# as short as it can be: every character of it costs about 2.7 bytes on the wire (UTF-16, base64),
# standard input about 0.4 (cmd.exe also limits a WinRS command line to 8,191). Without a separator,
# Remove(-1) fails: PowerShell's error on stderr, exit code 1.
BOOTSTRAP = (
    "$ErrorActionPreference='Stop';"
    "$s=[IO.StreamReader]::new([IO.Compression.DeflateStream]::new([IO.MemoryStream]::new("
    "[Convert]::FromBase64String(-join @($input))),[IO.Compression.CompressionMode]0)).ReadToEnd();"
    "$i=$s.IndexOf([char]0);"
    "&([scriptblock]::Create($s.Remove($i))) $s.Substring($i+1)"
)

# The prefix of Ansible's powershell shell plugin (_encode_script). The psrp connection plugin of every
# supported ansible-core decodes a command with this prefix and runs the script in its runspace; the winrm
# plugin of 2.19 and later sends it unchanged, but those of 2.16-2.18 encode whatever they are given once
# more, and that of 2.21 encodes a plain script with the same words, the executable spelt `powershell`
# (docs/engine-protocol.md section 1). Windows reads the executable and parameter names without case.
COMMAND_PREFIX = "PowerShell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand "

SEPARATOR = "\0"
# What PowerShell writes when standard input has no separator (the bootstrap's Remove(-1)).
NO_PAYLOAD_MESSAGE = 'Exception calling "Remove" with "1" argument(s): "StartIndex cannot be less than zero.\r\nParameter name: startIndex"'


def encode_command(script: str) -> str:
    return COMMAND_PREFIX + base64.b64encode(script.encode("utf-16-le")).decode("ascii")


BOOTSTRAP_COMMAND = encode_command(BOOTSTRAP)


def decode_command(command_line: str) -> str | None:
    """The script of a command line built like ``encode_command`` (Ansible's form, its words in any case: the
    base64 text is the only part where case counts), else None."""
    if command_line[: len(COMMAND_PREFIX)].lower() != COMMAND_PREFIX.lower():
        return None
    encoded = command_line[len(COMMAND_PREFIX) :].strip()
    if not encoded or " " in encoded:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-16-le")
    except (ValueError, UnicodeDecodeError):
        return None


# The engine's functions as they travel: short names that are no command, alias or cmdlet of Windows
# PowerShell (a leading underscore). Renaming a function is meaning-preserving: each name occurs in the
# engine only as `function <name>` and as the command name of a call, never in a string
# (tests/static/test_engine_static.py checks both, and that the minified engine parses to the same
# syntax tree as the source with these names). The plan's own cmdlets never reach these names: they
# run only after the allow-list check.
ENGINE_FUNCTIONS = {
    "ConvertTo-EngineJson": "_j",
    "ConvertTo-PlainValue": "_p",
    "Select-Shape": "_s",
    "Test-Integer": "_i",
    "Read-Payload": "_r",
    "Test-StepId": "_t",
    "New-SecureText": "_x",
    "Resolve-PlanValue": "_v",
    "New-ErrorInfo": "_e",
    "Test-LocalName": "_l",
    "New-ProviderCredential": "_c",
    "Open-ProviderSession": "_o",
    "Resolve-Provider": "_rp",
    "Connect-CMSite": "_cm",
    "New-Table": "_h",
    "Test-CredentialUser": "_u",
}
# The engine's variables as they travel: the same kind of renaming, for every variable the engine declares
# (parameters, assignments, foreach variables; PowerShell compares variable names ignoring case). Every use
# is renamed: `$name`, `$script:name`, a splat `@name`, and `$name` inside a double-quoted string, where it
# is expanded; never inside a single-quoted string, where it is text (the plan's '$ref' keys). Automatic and
# preference variables ($_, $input, $PWD, $env:, $null, $ErrorActionPreference, ...) keep their names, and no
# new name is a name of those (tests/static/test_engine_static.py).
ENGINE_VARIABLES = {
    "Value": "a",
    "provider": "b",
    "Secrets": "c",
    "name": "d",
    "result": "e",
    "step": "f",
    "text": "g",
    "Server": "h",
    "siteCode": "i",
    "Cmdlet": "j",
    "key": "k",
    "ProviderInfo": "l",
    "ref": "m",
    "CimSession": "n",
    "code": "o",
    "Outputs": "p",
    "payload": "q",
    "record": "r",
    "sb": "s",
    "info": "t",
    "item": "u",
    "location": "v",
    "n": "w",
    "problem": "x",
    "c": "y",
    "drive": "z",
    "ErrorRecord": "aa",
    "number": "ab",
    "out": "ac",
    "Shape": "ad",
    "splat": "ae",
    "items": "af",
    "kind": "ag",
    "secure": "ah",
    "candidate": "ai",
    "document": "aj",
    "driveArgs": "ak",
    "inner": "al",
    "invariant": "am",
    "list": "an",
    "ProviderRemote": "ao",
    "query": "ap",
    "serializer": "ar",
    "sessionArgs": "at",
    "shaped": "au",
    "Stage": "av",
    "startPath": "aw",
    "Allowed": "ax",
    "AllowedCmdlets": "ay",
    "bin": "az",
    "domain": "ba",
    "PayloadJson": "bb",
    "property": "bc",
    "StepId": "bd",
}
_FOLDED_VARIABLES = {name.lower(): short for name, short in ENGINE_VARIABLES.items()}
_VARIABLE_NAMES = "|".join(sorted(map(re.escape, ENGINE_VARIABLES), key=len, reverse=True))
# In code: $name, $script:name, @name (a splat). In a double-quoted string: $name not escaped by a backtick.
_CODE_VARIABLE = re.compile(r"(?<![\w`$@])([$@](?:script:)?)(" + _VARIABLE_NAMES + r")(?![\w:])", re.IGNORECASE)
_STRING_VARIABLE = re.compile(r"(?<![`$])(\$(?:script:)?)(" + _VARIABLE_NAMES + r")(?![\w:])", re.IGNORECASE)


def _rename_variables(pattern: re.Pattern, text: str) -> str:
    return pattern.sub(lambda m: m.group(1) + _FOLDED_VARIABLES[m.group(2).lower()], text)


_FUNCTION_NAME = re.compile(
    r"(?<![\w$:-])(" + "|".join(sorted(map(re.escape, ENGINE_FUNCTIONS), key=len, reverse=True)) + r")(?![\w-])", re.IGNORECASE
)
_FOLDED_FUNCTIONS = {name.lower(): short for name, short in ENGINE_FUNCTIONS.items()}
# Spaces the minifier removes outside strings, where PowerShell's tokenizer needs none: after an opening
# parenthesis or brace, a comma or a semicolon; before a closing one or a semicolon; between ")" or "}"
# and an opening brace; between "}" and else / elseif / catch / finally.
_NEEDLESS_SPACE = re.compile(r"(?<=[({,;]) | (?=[)};])|(?<=[)}]) (?=\{)|(?<=\}) (?=(?:else|elseif|catch|finally)\b)")


def _code_and_strings(line: str) -> list[tuple[bool, str]] | None:
    """A line as (is_code, text) pieces: single- and double-quoted strings apart, a comment (a '#' that
    starts a token outside a string) dropped. None when a string does not end on the line (then the line
    is kept as it is)."""
    pieces: list[tuple[bool, str]] = []
    code = []
    index = 0
    while index < len(line):
        char = line[index]
        if char == "#" and (index == 0 or line[index - 1] in " \t"):
            break
        if char in "'\"":
            end = index + 1
            while True:
                if end >= len(line):
                    return None
                if char == '"' and line[end] == "`":
                    end += 2
                    continue
                if line[end] == char:
                    if end + 1 < len(line) and line[end + 1] == char:  # '' or "" inside the string
                        end += 2
                        continue
                    break
                end += 1
            pieces.append((True, "".join(code)))
            code = []
            pieces.append((False, line[index : end + 1]))
            index = end + 1
            continue
        code.append(char)
        index += 1
    pieces.append((True, "".join(code)))
    return pieces


def _minify_code(text: str) -> str:
    text = re.sub(r"[ \t]+", " ", text)
    text = _NEEDLESS_SPACE.sub("", text)
    text = _rename_variables(_CODE_VARIABLE, text)
    return _FUNCTION_NAME.sub(lambda m: _FOLDED_FUNCTIONS[m.group(1).lower()], text)


def _minify_string(text: str) -> str:
    """A string literal: a double-quoted one gets its variables' new names, a single-quoted one is text."""
    return _rename_variables(_STRING_VARIABLE, text) if text.startswith('"') else text


# The engine's optional parts (docs/engine-protocol.md section 2.0): each is a region of the engine,
# `#region <feature>` ... `#endregion <feature>` on lines of their own, never nested, and only the regions
# a payload needs travel (engine_features), as Ansible's module wrapper sends only the module_utils a
# module imports. A region's code is reached only by payloads that need it, so every variant does with
# the payloads it is built for what the whole engine does (tests/static/test_engine_static.py).
ENGINE_FEATURES = (
    "provider",  # the SMS Provider: discovery, CIM session, credentials (steps of provider kind cim or cmsite)
    "cmsite",  # the ConfigurationManager module and the CMSite drive (steps of provider kind cmsite)
    "secrets",  # SecureStrings and PSCredentials: a $secret or $credential value, the provider's password
    "web",  # the WebException members of an error record (web_status, http_status)
)
# The allow-listed cmdlets that make web requests (compared as the engine's allow-list: OrdinalIgnoreCase).
WEB_CMDLETS = frozenset({"Invoke-WebRequest"})
_REGION_MARKER = re.compile(r"#(region|endregion)\b(.*)")


def engine_regions(engine_source: str) -> list[tuple[str | None, str]]:
    """The engine's lines, each with the feature of the region it is in (None: outside every region);
    the markers themselves are left out (they are comments). ValueError for a marker that does not name
    one of ENGINE_FEATURES, a region inside another, an end that is not its region's, or no end."""
    lines: list[tuple[str | None, str]] = []
    current: str | None = None
    for number, raw in enumerate(engine_source.splitlines(), 1):
        marker = _REGION_MARKER.match(raw.strip())
        if marker is None:
            lines.append((current, raw))
            continue
        kind, name = marker.group(1), marker.group(2).strip()
        if name not in ENGINE_FEATURES:
            raise ValueError(f"engine line {number}: #{kind} {name!r} names no feature of {ENGINE_FEATURES}")
        if kind == "region" and current is not None:
            raise ValueError(f"engine line {number}: #region {name} inside region {current} (regions do not nest)")
        if kind == "endregion" and name != current:
            raise ValueError(f"engine line {number}: #endregion {name} does not end the open region ({current})")
        current = name if kind == "region" else None
    if current is not None:
        raise ValueError(f"engine: region {current!r} has no #endregion")
    return lines


@functools.lru_cache(maxsize=8)
def _minified_lines(engine_source: str) -> tuple[tuple[str | None, str], ...]:
    # Each line is minified on its own, so a variant is the whole engine's lines minus its regions'.
    out = []
    for feature, raw in engine_regions(engine_source):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pieces = _code_and_strings(line)
        if pieces is not None:
            line = "".join(_minify_code(text) if is_code else _minify_string(text) for is_code, text in pieces).strip()
        if line:
            out.append((feature, line))
    return tuple(out)


def minify(engine_source: str, features=ENGINE_FEATURES) -> str:
    """The engine as it travels: only the regions of `features` (all by default), without indentation,
    blank lines, comments and the spaces PowerShell does not need, its functions and variables under
    short names (ENGINE_FUNCTIONS, ENGINE_VARIABLES). The text of strings is never touched. The engine has
    no here-strings and no block comments (tests/static/test_engine_static.py)."""
    wanted = frozenset(features)
    if not wanted <= set(ENGINE_FEATURES):
        raise ValueError(f"unknown engine features {sorted(wanted - set(ENGINE_FEATURES))}; known: {ENGINE_FEATURES}")
    return _minify(engine_source, wanted)


@functools.lru_cache(maxsize=64)  # per process: a few sources, at most 16 variants each
def _minify(engine_source: str, features: frozenset) -> str:
    return "\n".join(line for feature, line in _minified_lines(engine_source) if feature is None or feature in features)


def feature_sets() -> list[frozenset]:
    """Every combination of ENGINE_FEATURES (16 variants of the engine)."""
    return [frozenset(f for bit, f in enumerate(ENGINE_FEATURES) if mask >> bit & 1) for mask in range(1 << len(ENGINE_FEATURES))]


def _unique_members(pairs: list) -> dict:
    if len({pair[0] for pair in pairs}) != len(pairs):
        raise ValueError("a member is named twice")  # which one JavaScriptSerializer keeps is not ours to guess
    return dict(pairs)


def _runner_shaped(payload: object) -> bool:
    """The payload structure of the runner (build_payload, Step.to_payload), as far as engine_features reads it."""
    if not isinstance(payload, dict) or not isinstance(payload.get("steps"), list):
        return False
    if not isinstance(payload.get("provider"), (dict, type(None))) or not isinstance(payload.get("secrets"), (dict, type(None))):
        return False
    return all(
        isinstance(step, dict) and isinstance(step.get("cmdlet"), str) and isinstance(step.get("params"), (dict, type(None)))
        for step in payload["steps"]
    )


def engine_features(payload: str | dict) -> frozenset:
    """The regions of the engine a payload needs (ENGINE_FEATURES), from the payload alone: the runner
    packs that variant (build_stdin), cmlab refuses any other. "provider" for a step whose provider kind is
    set, and "cmsite" too unless it is exactly "cim" (in PowerShell `$true -ceq 'cmsite'` holds); "secrets"
    for a non-empty secrets member, a provider user name, or a parameter value with a $secret or
    $credential member; "web" for a step of a WEB_CMDLETS cmdlet. A payload that is not JSON or not of
    the runner's structure (a forged one) gets every region: the whole engine."""
    every = frozenset(ENGINE_FEATURES)
    if not isinstance(payload, dict):
        try:
            payload = json.loads(payload, object_pairs_hook=_unique_members)
        except (TypeError, ValueError, RecursionError):
            return every
    if not _runner_shaped(payload):
        return every
    needed = set()
    provider = payload.get("provider") or {}
    if payload.get("secrets") or provider.get("username") is not None:
        needed.add("secrets")
    for step in payload["steps"]:
        kind = step.get("provider")
        if kind is not None:
            needed.update(("provider",) if kind == "cim" else ("provider", "cmsite"))
        if any(fold(step["cmdlet"]) == fold(name) for name in WEB_CMDLETS):
            needed.add("web")
        for value in (step.get("params") or {}).values():
            if isinstance(value, dict) and ("$secret" in value or "$credential" in value):
                needed.add("secrets")
    return frozenset(needed)


def _deflate(data: bytes) -> bytes:
    """Raw deflate (RFC 1951), what .NET's DeflateStream reads: no header, no timestamp, so the same plan
    always packs to the same bytes."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    return packer.compress(data) + packer.flush()


def build_stdin(engine_source: str, payload_json: str) -> bytes:
    """Standard input for a payload: the engine minified with only the regions the payload needs
    (engine_features), packed with it (pack_stdin). The payload must be ASCII (JSON escapes do that)."""
    return pack_stdin(minify(engine_source, engine_features(payload_json)), payload_json)


def pack_stdin(engine_text: str, payload_json: str) -> bytes:
    """base64(deflate(engine text, separator, payload)) on one line; the engine text as it is given."""
    return base64.b64encode(_deflate((engine_text + SEPARATOR + payload_json).encode("ascii"))) + b"\n"


def split_stdin(data: bytes) -> tuple[str, str] | None:
    """What the bootstrap does with standard input: (engine text, payload) or None."""
    try:
        text = zlib.decompress(base64.b64decode(b"".join(data.split()), validate=True), -15).decode("ascii")
    except (ValueError, zlib.error, UnicodeDecodeError):
        return None
    index = text.find(SEPARATOR)  # ordinal, as the bootstrap's IndexOf(Char)
    if index < 0:
        return None
    return text[:index], text[index + len(SEPARATOR) :]


# --------------------------------------------------------------------------------------------
# The result document (docs/engine-protocol.md section 3)

RESULT_START = "<<<CMSCP-RESULT>>>"
RESULT_END = "<<<CMSCP-END>>>"

# The engine writes JSON in ASCII only, and escapes '<' and '>' too, so that no value (a site name,
# a firewall rule description) can ever contain a marker: the document is unbreakable by data.
# Characters written as they are; everything else is \uXXXX (UTF-16 code units, lower-case hex),
# except '"' and '\' (\" and \\). The PowerShell engine's fast path uses this very class with -cmatch.
JSON_PLAIN_CLASS = r"[\x20\x21\x23-\x3b\x3d\x3f-\x5b\x5d-\x7e]"
_JSON_PLAIN = re.compile(JSON_PLAIN_CLASS + "*")
_NON_FINITE = {"nan": "NaN", "inf": "Infinity", "-inf": "-Infinity"}


def json_string(text: str) -> str:
    if _JSON_PLAIN.fullmatch(text):
        return '"' + text + '"'
    out = ['"']
    for unit in text:
        code = ord(unit)
        if unit == '"':
            out.append('\\"')
        elif unit == "\\":
            out.append("\\\\")
        elif _JSON_PLAIN.fullmatch(unit):
            out.append(unit)
        elif code > 0xFFFF:  # UTF-16 code units, as .NET strings hold them
            code -= 0x10000
            out.append(f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}")
        else:
            out.append(f"\\u{code:04x}")
    out.append('"')
    return "".join(out)


def json_number(value: int | float) -> str:
    """Integers as they are; doubles round-trip, and NaN / Infinity / -Infinity as *strings*
    (JSON has no such numbers; the engine writes [double]::NaN.ToString() the same way)."""
    if isinstance(value, float):
        if not math.isfinite(value):
            return '"' + _NON_FINITE[repr(value)] + '"'
        return repr(value)
    return str(int(value))


def json_text(value: object) -> str:
    """The engine's JSON writer for plain data (None, bool, int, float, str, list, dict with text keys)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json_string(value)
    if isinstance(value, (int, float)):
        return json_number(value)
    if isinstance(value, dict):
        return "{" + ",".join(json_string(str(k)) + ":" + json_text(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(json_text(v) for v in value) + "]"
    raise TypeError(f"not plain data: {type(value).__name__}")


def frame(document: str) -> str:
    return RESULT_START + document + RESULT_END


def unframe(stdout: str) -> str | None:
    """The document in an engine's standard output: the one text between a start marker and the
    next end marker that holds no '<'. A document never does (the writer escapes it), so no value
    can cut one short; other output around it (a cmdlet's warning, host output after it over PSRP)
    is ignored, even with a marker in it. None when there is no such text, or more than one."""
    found = []
    start = stdout.find(RESULT_START)
    while start >= 0:
        body_start = start + len(RESULT_START)
        end = stdout.find(RESULT_END, body_start)
        if end < 0:
            break
        body = stdout[body_start:end]
        if "<" not in body:
            found.append(body)
        start = stdout.find(RESULT_START, body_start)
    return found[0] if len(found) == 1 else None


# --------------------------------------------------------------------------------------------
# The payload: steps and the value forms (docs/engine-protocol.md section 2)

STEP_ID_PATTERN = "^[A-Za-z0-9_]+$"
STEP_ID = re.compile(r"[A-Za-z0-9_]+")  # fullmatch; ASCII only (PowerShell: -cmatch ...\z)
PROVIDER_VALUES = ("site_code", "server", "namespace")
# How a step reaches the SMS Provider: None (a host step), "cim" (a CIM cmdlet reading the
# provider's WMI classes: facts of the provider without the ConfigurationManager module, and a CIM
# session when the provider is another machine), "cmsite" (a ConfigMgr cmdlet: the module and the
# CMSite drive).
PROVIDER_KINDS = (None, "cim", "cmsite")
ON_ERROR = ("stop", "continue")
# Cmdlets that take the engine's CIM session (-CimSession) when the provider is another machine.
CIM_CMDLETS = frozenset({"Get-CimInstance"})

VALUE_FORMS = (
    '{"$ref": step}, {"$ref": step, "property": name}, {"$provider": name}, {"$secret": name} or {"$credential": secret, "username": name}'
)


def fold(text: str) -> str:
    """Case folding as .NET's StringComparer.OrdinalIgnoreCase compares (each character's simple
    upper case): how the PowerShell engine compares step ids, parameter and select names and cmdlet
    names. Never culture-aware: in a Turkish culture 'id' and 'ID' differ, ordinally they do not."""
    out = []
    for char in text:
        upper = char.upper()
        out.append(upper if len(upper) == 1 else char)
    return "".join(out)


def step_id_ok(value: object) -> bool:
    return isinstance(value, str) and STEP_ID.fullmatch(value) is not None


def value_form(value: object) -> str:
    """What a plan value is: "data", "ref", "refprop", "provider", "secret", "credential" or "invalid"
    (an object that is none of the forms). Keys are compared exactly: the forms are lower-case.

    A credential (``{"$credential": "<secret name>", "username": "<user>"}``) becomes a PSCredential of
    the user name and a SecureString of the named secret, built through .NET: the password is never a
    cmdlet parameter as text (docs/engine-protocol.md 2.2)."""
    if not isinstance(value, dict):
        return "data"
    keys = set(value)
    if keys == {"$ref"} and step_id_ok(value["$ref"]):
        return "ref"
    if keys == {"$ref", "property"} and step_id_ok(value["$ref"]) and step_id_ok(value["property"]):
        return "refprop"
    if keys == {"$provider"} and value["$provider"] in PROVIDER_VALUES:
        return "provider"
    if keys == {"$secret"} and step_id_ok(value["$secret"]):
        return "secret"
    if keys == {"$credential", "username"} and step_id_ok(value["$credential"]) and credential_user_ok(value["username"]):
        return "credential"
    return "invalid"


def credential_user_ok(value: object) -> bool:
    """The user name of a credential: text of 1 to 256 UTF-16 code units (as .NET counts), without
    control characters (the PowerShell engine: -cnotmatch '[\x00-\x1f\x7f]')."""
    return (
        isinstance(value, str)
        and 0 < len(value.encode("utf-16-le", "surrogatepass")) // 2 <= 256
        and not any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)
    )


def uses_provider_value(value: object) -> bool:
    if isinstance(value, list):
        return any(uses_provider_value(v) for v in value)
    return value_form(value) == "provider"


# What an error record of a step adds when its exception is a System.Net.WebException: the
# exception's Status (WebExceptionStatus name, "ProtocolError", "Timeout", "TrustFailure", ...) and,
# when the server answered, the response's HTTP status code. Messages are localised; these are not.
WEB_ERROR_FIELDS = ("web_status", "http_status")

# Every text the engines write themselves, as Python format strings. The PowerShell engine writes
# the same text with $name for {name} (the contract test checks that it contains each one).
TEXTS = {
    "not_json": "The payload is not valid JSON.",
    "protocol": "Unsupported protocol version (this engine speaks protocol 1).",
    "not_allowed": "The cmdlet '{cmdlet}' is not allowed.",
    "ref_not_run": "Reference to step '{ref}', which has not run.",
    "secret_missing": "Secret '{name}' is not in the payload.",
    "secret_empty": "Secret '{name}' is empty.",
    "provider_value": "Provider value '{key}' is not available.",
    "value_form": "A parameter value may only be JSON data, " + VALUE_FORMS + ".",
    "list_item": "A value inside a list may only be JSON data.",
    "no_provider_location": "No SMS Provider for a local site was found (SMS_ProviderLocation).",
    "not_serializable": "The result could not be written as JSON: ",
}


def protocol_ok(payload: object) -> bool:
    """The engines' one check of the payload as a whole: a JSON object whose protocol is the integer
    1 (not 1.0, "1" or true). Its structure is the runner's (Step.to_payload, build_payload); a
    payload of another structure fails at stage "engine" in both engines, in their own words."""
    if not isinstance(payload, dict):
        return False
    protocol = payload.get("protocol")
    return isinstance(protocol, int) and not isinstance(protocol, bool) and protocol == PROTOCOL_VERSION


def unique_by_fold(names) -> dict:
    """{folded name: (first spelling, index of the last one)}: what an OrdinalIgnoreCase table keeps
    when names differing only in case are set one after another (the PowerShell engine's splat,
    its outputs and its shaped objects): the first spelling, the last value."""
    kept: dict = {}
    for index, name in enumerate(names):
        key = fold(name)
        kept[key] = (kept[key][0] if key in kept else name, index)
    return kept
