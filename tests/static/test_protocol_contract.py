"""One contract (issue 9 item 3): the PowerShell engine's literal strings and rules, held against the
protocol module that the runner, the catalog and cmlab's Python engine import.

No PowerShell runtime exists here, so the PowerShell side is checked by its text: every text the
protocol module says an engine writes is in the engine (with `$name` for `{name}`), the markers,
version, patterns and value forms are the protocol's, and the places where PowerShell differs from
Python by default (case-insensitive and culture-aware comparisons, ConvertFrom-Json, IndexOf) use
the explicit forms the protocol documents. cmlab's engine runs the same payloads in
tests/cmlab/test_engine_contract.py.
"""

from __future__ import annotations

import ast
import inspect
import json
import re
from pathlib import Path

import pytest

from cmscp_plugin_utils import _protocol

REPO = Path(__file__).resolve().parents[2]
ENGINE = (REPO / "plugins" / "module_utils" / "cmscp_engine.ps1").read_text(encoding="ascii")
CODE = "\n".join(line for line in ENGINE.splitlines() if not line.lstrip().startswith("#"))


def powershell_text(template: str) -> str:
    """The protocol's Python format string as the engine writes it: {name} -> $name."""
    return re.sub(r"\{(\w+)\}", r"$\1", template)


@pytest.mark.parametrize("key", sorted(_protocol.TEXTS))
def test_every_protocol_text_is_the_engines_text(key):
    assert powershell_text(_protocol.TEXTS[key]) in CODE


def test_markers_and_protocol_version():
    assert f"'{_protocol.RESULT_START}' + $document + '{_protocol.RESULT_END}'" in CODE
    assert f"protocol = {_protocol.PROTOCOL_VERSION}; ok = $true" in CODE
    assert f'{{"protocol":{_protocol.PROTOCOL_VERSION},"ok":false' in CODE  # the fallback document
    # protocol_ok: an object whose protocol is the integer 1 (PowerShell's -ne alone accepts "1" and true).
    assert (
        f"$payload -isnot [System.Collections.IDictionary] -or $payload['protocol'] -isnot [int] -or "
        f"$payload['protocol'] -ne {_protocol.PROTOCOL_VERSION}"
    ) in CODE


def test_the_json_writer_escapes_what_the_protocol_escapes():
    # The fast path: the protocol's class, case-sensitive (-match would let U+212A and U+0130 through
    # as K and i) and anchored with \z ($ also matches before a final newline).
    assert f"$text -cmatch '^{_protocol.JSON_PLAIN_CLASS}*\\z'" in CODE
    # The slow path writes as-is exactly the characters of that class.
    plain = {c for c in range(0x80) if re.fullmatch(_protocol.JSON_PLAIN_CLASS, chr(c))}
    assert plain == set(range(0x20, 0x7F)) - {0x22, 0x5C, 0x3C, 0x3E}
    assert "$code -lt 0x20 -or $code -gt 0x7E -or $code -eq 0x3C -or $code -eq 0x3E" in CODE
    assert "$code -eq 0x22) { [void]$sb.Append('\\\"') }" in CODE
    assert "$code -eq 0x5C) { [void]$sb.Append('\\\\') }" in CODE
    assert "('\\u{0:x4}' -f $code)" in CODE  # lower-case hex, as json_string
    assert _protocol.json_string("<K\u212a\n>") == '"\\u003cK\\u212a\\u000a\\u003e"'


def test_numbers_dates_and_non_finite_values():
    assert "return ConvertTo-EngineJson $number.ToString($invariant)" in CODE  # NaN / Infinity as text
    assert "$number.ToString('R', $invariant)" in CODE
    assert [_protocol.json_text(x) for x in (float("nan"), float("inf"), -float("inf"))] == ['"NaN"', '"Infinity"', '"-Infinity"']
    assert "$Value.ToString('o', [System.Globalization.CultureInfo]::InvariantCulture)" in CODE


def test_step_ids_value_forms_and_kinds():
    assert f"$Value -cmatch '{_protocol.STEP_ID_PATTERN[:-1]}\\z'" in CODE
    assert _protocol.STEP_ID.pattern == _protocol.STEP_ID_PATTERN[1:-1]
    values = ", ".join(f"'{v}'" for v in _protocol.PROVIDER_VALUES)
    # value_form: exact names ($Value is an ordinal Dictionary from the payload), exact counts.
    assert f"$n -eq 1 -and $Value.ContainsKey('$provider') -and @({values}) -ccontains $Value['$provider']" in CODE
    assert "$ref = $Value['$ref']" in CODE
    assert "(Test-StepId $ref) -and ($n -eq 1 -or ($n -eq 2 -and (Test-StepId $Value['property'])))" in CODE
    assert "$n -eq 1 -and (Test-StepId $Value['$secret'])" in CODE
    # {"$credential": secret, "username": name}: exactly two members, the user name as credential_user_ok says.
    assert "$n -eq 2 -and (Test-StepId $Value['$credential']) -and (Test-CredentialUser $Value['username'])" in CODE
    assert ("$Value -is [string] -and $Value.Length -gt 0 -and $Value.Length -le 256 -and $Value -cnotmatch '[\\x00-\\x1f\\x7f]'") in CODE
    assert _protocol.value_form({"$credential": "pw", "username": "LAB\\u"}) == "credential"
    for bad in (
        {"$credential": "pw", "username": ""},
        {"$credential": "pw", "username": "x" * 257},
        {"$credential": "pw", "username": "a\tb"},
        {"$credential": "p w", "username": "u"},
        {"$credential": "pw"},
        {"$credential": "pw", "username": 1},
    ):
        assert _protocol.value_form(bad) == "invalid", bad
    # UTF-16 code units, as .NET's Length counts them.
    assert _protocol.credential_user_ok("\U0001f600" * 128) and not _protocol.credential_user_ok("\U0001f600" * 129)
    assert "$kind -ceq 'cmsite' -and -not $script:Drive" in CODE and "elseif ($kind -ceq 'cim')" in CODE
    assert _protocol.PROVIDER_KINDS == (None, "cim", "cmsite")
    assert "$step['on_error'] -cne 'continue'" in CODE and _protocol.ON_ERROR == ("stop", "continue")
    assert "$kind -ceq 'cim' -and $null -ne $script:CimSession) { $splat['CimSession']" in CODE
    assert sorted(_protocol.CIM_CMDLETS) == ["Get-CimInstance"]


def test_comparisons_are_ordinal_and_exact():
    # PowerShell's default comparisons ignore case with the culture's rules; the protocol compares
    # step ids, parameter and select names ordinally ignoring case, and value form names exactly.
    assert not re.search(r"\s-(match|notmatch|like|notlike|contains|notcontains)\s", CODE)
    ordinal = "[System.StringComparer]::OrdinalIgnoreCase"
    assert f"function New-Table {{ return [System.Collections.Hashtable]::new({ordinal}) }}" in CODE
    # Outputs by step id and the splat by parameter name: of names differing only in case, the last
    # value (unique_by_fold); shaped objects the same.
    assert "$outputs = New-Table" in CODE and "$splat = New-Table" in CODE
    assert _protocol.unique_by_fold(["Name", "NAME", "x"]) == {"NAME": ("Name", 1), "X": ("x", 2)}
    assert f"[System.Collections.Generic.HashSet[string]]::new([string[]]$AllowedCmdlets, {ordinal})" in CODE
    assert f"[System.Collections.Specialized.OrderedDictionary]::new({ordinal})" in CODE
    assert _protocol.fold("Id") == _protocol.fold("iD") == "ID"


def test_the_bootstrap_splits_at_the_separator_ordinally():
    # String.IndexOf(Char) is always ordinal (IndexOf(String) is culture-aware on .NET Framework and
    # ignores NUL): the separator is that one character, NUL, which neither the engine nor a payload holds.
    assert _protocol.SEPARATOR == "\0"
    assert "$i=$s.IndexOf([char]0);" in _protocol.BOOTSTRAP
    assert f"$s.Substring($i+{len(_protocol.SEPARATOR)})" in _protocol.BOOTSTRAP
    # Raw deflate, packed by zlib without a header (wbits -15), read by DeflateStream.
    assert "[IO.Compression.DeflateStream]::new(" in _protocol.BOOTSTRAP and "GZip" not in _protocol.BOOTSTRAP
    assert "\0" not in ENGINE and "\\u0000" in json.dumps("\0")
    assert "&([scriptblock]::Create($s.Remove($i)))" in _protocol.BOOTSTRAP  # no separator: Remove(-1) fails
    assert '"Remove"' in _protocol.NO_PAYLOAD_MESSAGE
    assert _protocol.decode_command(_protocol.BOOTSTRAP_COMMAND) == _protocol.BOOTSTRAP


def test_no_secret_is_ever_a_cmdlet_parameter():
    # Module logging (event 4103) records every cmdlet's parameters: the payload is parsed and the
    # SecureStrings are built through .NET, never by ConvertFrom-Json or ConvertTo-SecureString.
    lowered = CODE.lower()
    for cmdlet in ("convertfrom-json", "convertto-securestring", "asplaintext", "new-object"):
        assert cmdlet not in lowered
    assert "[System.Web.Script.Serialization.JavaScriptSerializer]::new()" in CODE
    assert "$secure.AppendChar($c)" in CODE
    assert "[pscredential]::new([string]$Provider['username'], (New-SecureText " in CODE
    assert "[pscredential]::new([string]$Value['username'], (New-SecureText $Value['$credential'] $Secrets))" in CODE


def test_a_web_exception_carries_its_status_whatever_the_language():
    # docs/engine-protocol.md section 3: web_status and http_status beside the (localised) message.
    assert "if ($ErrorRecord.Exception -is [System.Net.WebException]) {" in CODE
    assert "$info['web_status'] = $ErrorRecord.Exception.Status.ToString()" in CODE
    assert (
        "if ($ErrorRecord.Exception.Response -is [System.Net.HttpWebResponse]) { $info['http_status'] = "
        "[int]$ErrorRecord.Exception.Response.StatusCode }"
    ) in CODE
    assert _protocol.WEB_ERROR_FIELDS == ("web_status", "http_status")


def test_the_protocol_module_names_every_text_it_raises():
    tree = ast.parse(inspect.getsource(_protocol))
    used = {
        node.slice.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "TEXTS"
    }
    assert used <= set(_protocol.TEXTS)
