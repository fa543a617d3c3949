"""The engine is checked without a PowerShell runtime: it parses, it is ASCII, and every command it can
run is in the cmdlet catalog (DESIGN §3, §5); minifying it, and leaving out the regions a payload does not
need (every one of the 16 variants), keeps its syntax tree."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import tree_sitter
import tree_sitter_powershell

from cmscp_plugin_utils import _catalog
from cmscp_plugin_utils import _protocol as _bootstrap

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "plugins" / "module_utils" / "cmscp_engine.ps1"
# The commands the engine runs for itself, never from a plan: the module, the CMSite drive, the
# provider's CIM session and discovery (docs/engine-protocol.md). A plan's cmdlet runs as `& $cmdlet`
# after the allow-list check.
ENGINE_OWN_COMMANDS = {
    "Import-Module",
    "Get-PSDrive",
    "New-PSDrive",
    "Set-Location",
    "Get-CimInstance",
    "New-CimSession",
    "Remove-CimSession",
}

PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_powershell.language()))


def parse(source: bytes):
    return PARSER.parse(source)


def nodes(node, kind):
    if node.type == kind:
        yield node
    for child in node.children:
        yield from nodes(child, kind)


def problems(tree, source: bytes) -> list[str]:
    found = []
    stack = [tree.root_node]
    while stack:
        node = stack.pop()
        if node.type == "ERROR" or node.is_missing:
            found.append(f"{node.type} at {node.start_point}: {source[node.start_byte : node.end_byte][:60]!r}")
        stack.extend(node.children)
    return found


@pytest.fixture(scope="module")
def engine():
    source = ENGINE.read_bytes()
    return source, parse(source)


def test_engine_parses_without_errors(engine):
    source, tree = engine
    assert problems(tree, source) == []
    assert not tree.root_node.has_error


def test_minified_engine_parses_too():
    # What actually runs on Windows is the minified engine the runner packs (_bootstrap.minify).
    source = _bootstrap.minify(ENGINE.read_text()).encode()
    assert problems(parse(source), source) == []


def leaves(source: bytes) -> list[tuple[str, str]]:
    """Every token of the syntax tree but comments, and the whole text of every double-quoted string (whose
    variables are tokens of their own): (type, text), in order."""
    out = []
    stack = [parse(source).root_node]
    while stack:
        node = stack.pop()
        if node.type == "comment":
            continue
        if node.child_count == 0 or node.type == "expandable_string_literal":
            out.append((node.type, source[node.start_byte : node.end_byte].decode()))
        stack.extend(reversed(node.children))
    return out


# What PowerShell defines itself: never renamed, and no new name may be one of them.
AUTOMATIC = {
    "_",
    "$",
    "?",
    "^",
    "args",
    "consolefilename",
    "error",
    "event",
    "eventargs",
    "eventsubscriber",
    "executioncontext",
    "false",
    "foreach",
    "home",
    "host",
    "input",
    "lastexitcode",
    "matches",
    "myinvocation",
    "nestedpromptlevel",
    "null",
    "pid",
    "profile",
    "psboundparameters",
    "pscmdlet",
    "pscommandpath",
    "psculture",
    "psdebugcontext",
    "pshome",
    "psitem",
    "psscriptroot",
    "pssenderinfo",
    "psuiculture",
    "psversiontable",
    "pwd",
    "sender",
    "shellid",
    "stacktrace",
    "switch",
    "this",
    "true",
    "ofs",
    "env",
    "confirmpreference",
    "debugpreference",
    "erroractionpreference",
    "errorview",
    "formatenumerationlimit",
    "informationpreference",
    "maximumhistorycount",
    "outputencoding",
    "progresspreference",
    "psdefaultparametervalues",
    "psemailserver",
    "psmoduleautoloadingpreference",
    "verbosepreference",
    "warningpreference",
    "whatifpreference",
    "transcript",
}


def renamed_variables(text: str, in_string: bool = False) -> str:
    table = {k.lower(): v for k, v in _bootstrap.ENGINE_VARIABLES.items()}
    pattern = r"(?<![`$])(\$(?:script:)?)(\w+)" if in_string else r"^([$@](?:script:)?)(\w+)$"
    return re.sub(pattern, lambda m: m.group(1) + table.get(m.group(2).lower(), m.group(2)), text, flags=re.I)


def renamed_leaf(kind: str, text: str) -> str:
    """A token of the source as the minifier renames it (_protocol.ENGINE_FUNCTIONS, ENGINE_VARIABLES)."""
    if kind in ("command_name", "function_name"):
        return {name.lower(): short for name, short in _bootstrap.ENGINE_FUNCTIONS.items()}.get(text.lower(), text)
    if kind == "variable":
        return renamed_variables(text)
    if kind == "expandable_string_literal":
        return renamed_variables(text, in_string=True)
    return text


def test_the_minified_engine_is_the_same_program():
    """The minifier only drops comments and whitespace and renames the engine's functions
    (_protocol.ENGINE_FUNCTIONS): the syntax tree of what runs is the tree of the source, token for token,
    with those names. No PowerShell runtime exists here; this is the proof that minifying changes no meaning."""
    source = ENGINE.read_bytes()
    minified = _bootstrap.minify(ENGINE.read_text()).encode()
    shapes = [str(parse(text).root_node).replace("(comment) ", "").replace(" (comment)", "") for text in (source, minified)]
    assert shapes[0] == shapes[1]
    assert leaves(minified) == [(kind, renamed_leaf(kind, text)) for kind, text in leaves(source)]
    assert len(minified) < 0.7 * len(source)


def test_the_engines_functions_are_renamed_safely(engine):
    """Each function name occurs only where it defines or calls the function - never in a string, as an
    argument or a parameter - so a new name changes nothing; the new names are unique, are no command of
    Windows PowerShell (a leading underscore) and occur nowhere in the source."""
    source, tree = engine
    defined = sorted(source[n.start_byte : n.end_byte].decode() for n in nodes(tree.root_node, "function_name"))
    assert sorted(_bootstrap.ENGINE_FUNCTIONS) == defined
    folded = {name.lower() for name in defined}
    for kind, text in leaves(source):
        if text.lower() in folded:
            assert kind in ("command_name", "function_name"), (kind, text)
    strings = [source[n.start_byte : n.end_byte].decode().lower() for n in _all_nodes(tree.root_node) if "string" in n.type]
    assert strings and not [t for t in strings if any(name in t for name in folded)]
    short = list(_bootstrap.ENGINE_FUNCTIONS.values())
    assert len(set(short)) == len(short) and all(re.fullmatch(r"_[a-z]{1,2}", n) for n in short)
    assert not any(re.search(r"(?<![\w$])" + re.escape(n) + r"(?!\w)", ENGINE.read_text()) for n in short)


def test_the_engines_variables_are_renamed_safely(engine):
    """The variables renamed are the engine's own (declared by it: a parameter, an assignment, a foreach
    variable), none is an automatic or preference variable, the new names are unique, none is an automatic
    variable or a variable of the source; no engine function is called with a named parameter (a renamed
    parameter would no longer bind), and no single-quoted string is touched (tested by the tree above)."""
    source, tree = engine
    variables = {source[n.start_byte : n.end_byte].decode() for n in _all_nodes(tree.root_node) if n.type == "variable"}
    names = {re.sub(r"^[$@](?:script:)?", "", v).lower().split(":")[0] for v in variables}  # $env:X: env
    table = {k.lower(): v for k, v in _bootstrap.ENGINE_VARIABLES.items()}
    assert len(table) == len(_bootstrap.ENGINE_VARIABLES)
    assert set(table) <= names and not set(table) & AUTOMATIC
    assert names - set(table) <= AUTOMATIC  # every other variable is PowerShell's own
    short = list(table.values())
    # Every declared name is renamed at once, so a new name may be an old one; never one that stays.
    assert len(set(short)) == len(short) and not (set(short) & (AUTOMATIC | (names - set(table))))
    assert all(re.fullmatch(r"[a-z]{1,2}", n) for n in short)
    functions = {name.lower() for name in _bootstrap.ENGINE_FUNCTIONS}
    for command in _all_nodes(tree.root_node):
        if command.type == "command":
            name = next((c for c in _all_nodes(command) if c.type == "command_name"), None)
            if name is not None and source[name.start_byte : name.end_byte].decode().lower() in functions:
                assert not [c for c in _all_nodes(command) if c.type == "command_parameter"], source[command.start_byte : command.end_byte][
                    :80
                ]


def _all_nodes(node):
    yield node
    for child in node.children:
        yield from _all_nodes(child)


# ---- The engine's regions (docs/engine-protocol.md 2.0): only those a payload needs travel.

MARKER = re.compile(r"#(region|endregion) ([a-z]+)")
FEATURES = frozenset(_bootstrap.ENGINE_FEATURES)
VARIANTS = _bootstrap.feature_sets()
# Calls that a variant may hold to a function of a region it lacks, and why they are never reached:
# engine_features adds that region for every payload that can reach the call (tests/unit/test_engine_variants.py).
UNREACHED_CALLS = {
    "Connect-CMSite": "cmsite",  # from the provider dispatch, only for a step kind other than exactly 'cim'
    "New-SecureText": "secrets",  # from New-ProviderCredential, only with a provider user name
}


def region_markers(source: bytes) -> list[tuple[int, str, str]]:
    """(line index, "region" or "endregion", feature) of every region marker, found by the parser: a
    comment that is a whole line. Proven independently of _protocol.engine_regions."""
    lines = source.decode().splitlines()
    found = []
    for node in _all_nodes(parse(source).root_node):
        text = source[node.start_byte : node.end_byte].decode()
        if node.type == "comment" and re.match(r"#\s*(end)?region", text, re.I):
            row = node.start_point[0]
            assert lines[row].strip() == text, f"line {row + 1}: a region marker shares its line: {lines[row]!r}"
            marker = MARKER.fullmatch(text)
            assert marker, f"line {row + 1}: not '#region <feature>' / '#endregion <feature>': {text!r}"
            found.append((row, marker.group(1), marker.group(2)))
    return found


def without_regions(source: str, dropped: frozenset) -> str:
    """The source without the lines of the regions of `dropped`, markers included."""
    lines = source.splitlines()
    markers = region_markers(source.encode())
    cut = set()
    for (start, _, name), (end, _, _) in zip(markers[::2], markers[1::2]):
        if name in dropped:
            cut.update(range(start, end + 1))
    return "\n".join(line for index, line in enumerate(lines) if index not in cut) + "\n"


def test_region_markers_are_whole_lines_balanced_flat_and_named_from_the_features(engine):
    source, _tree = engine
    markers = region_markers(source)
    # Every "#region" / "#endregion" in the text is one of those comments: none in a string or a code
    # line (the engine has no here-strings, so a string cannot hold a whole line).
    text = source.decode()
    assert len(re.findall(r"#\s*(?:end)?region", text, re.I)) == len(markers)
    assert "@'" not in text and '@"' not in text
    # Flat and balanced: region, endregion of the same name, region, ...; names from the fixed list.
    assert [kind for _, kind, _ in markers] == ["region", "endregion"] * (len(markers) // 2)
    assert all(a[2] == b[2] for a, b in zip(markers[::2], markers[1::2]))
    assert {name for _, _, name in markers} == FEATURES
    # The protocol module reads the same regions.
    regions = _bootstrap.engine_regions(text)
    assert len(regions) == len(text.splitlines()) - len(markers)
    assert {feature for feature, _ in regions} == FEATURES | {None}


def test_each_region_is_whole_statements_that_leave_the_rest_alone(engine):
    """What a region may hold, so that leaving it out changes nothing for a payload that does not need it:
    its markers are statements of one statement list (a run of whole statements, never part of one); at
    its top level only function definitions, if and try statements and assignments (no output of a
    function, no return, break or throw: the code around it flows on as before); and a variable it
    assigns at its top level is used only in regions of the same feature."""
    source, tree = engine
    comments = {n.start_point[0]: n for n in _all_nodes(tree.root_node) if n.type == "comment"}
    markers = region_markers(source)
    spans = [(a[2], comments[a[0]], comments[b[0]]) for a, b in zip(markers[::2], markers[1::2])]
    variables = [n for n in _all_nodes(tree.root_node) if n.type == "variable"]

    def name(node) -> str:
        return re.sub(r"^[$@](?:script:)?", "", source[node.start_byte : node.end_byte].decode()).lower()

    def feature_at(node) -> str | None:
        return next((f for f, start, end in spans if start.end_byte < node.start_byte and node.end_byte < end.start_byte), None)

    def statements(comment):
        # A comment that opens a block is the block's child, before its statement list.
        parent = comment.parent
        return parent if parent.type == "statement_list" else next((c for c in parent.children if c.type == "statement_list"), None)

    for feature, start, end in spans:
        where = f"region {feature} at line {start.start_point[0] + 1}"
        block = statements(start)
        assert block is not None and block == statements(end), where
        body = [n for n in block.children if start.end_byte < n.start_byte and n.end_byte < end.start_byte and n.type != "comment"]
        assert body, where
        for statement in body:
            kind = statement.type
            assignment = kind == "pipeline" and [c.type for c in _all_nodes(statement)][:3] == [
                "pipeline",
                "assignment_expression",
                "left_assignment_expression",
            ]
            assert kind in ("function_statement", "if_statement", "try_statement") or assignment, (where, kind)
            if assignment:
                assigned = name(next(n for n in _all_nodes(statement) if n.type == "variable"))
                uses = [v for v in variables if name(v) == assigned]
                assert all(feature_at(v) == feature for v in uses), (where, assigned)


@pytest.mark.parametrize(
    "bad",
    [
        "#region nosuch\n#endregion nosuch\n",
        "#region web\n",
        "#endregion web\n",
        "#region web\n#region secrets\n#endregion secrets\n#endregion web\n",
        "#region web\n#endregion secrets\n",
        "#region\n#endregion\n",
    ],
)
def test_the_minifier_refuses_malformed_regions(bad):
    with pytest.raises(ValueError):
        _bootstrap.minify("$x = 1\n" + bad)


def _variant_id(features) -> str:
    return "+".join(sorted(features)) or "none"


@pytest.mark.parametrize("features", VARIANTS, ids=[_variant_id(f) for f in VARIANTS])
def test_every_variant_is_the_engine_minus_exactly_its_regions(features):
    """Each of the 16 variants parses without errors, is the whole engine's minified text without the lines
    of its missing regions, and has the syntax tree of the source without those regions, token for token,
    with the renamed functions and variables: dropping a region changes nothing else."""
    text = ENGINE.read_text()
    variant = _bootstrap.minify(text, features)
    encoded = variant.encode()
    assert problems(parse(encoded), encoded) == []
    stripped = without_regions(text, FEATURES - features)
    assert variant == _bootstrap.minify(stripped)
    shapes = [str(parse(t).root_node).replace("(comment) ", "").replace(" (comment)", "") for t in (stripped.encode(), encoded)]
    assert shapes[0] == shapes[1]
    assert leaves(encoded) == [(kind, renamed_leaf(kind, value)) for kind, value in leaves(stripped.encode())]
    if features == FEATURES:
        assert variant == _bootstrap.minify(text)


@pytest.mark.parametrize("features", VARIANTS, ids=[_variant_id(f) for f in VARIANTS])
def test_a_variant_calls_only_what_it_defines_or_what_its_payloads_never_reach(features):
    """A call into a missing region stays only where engine_features guarantees that no payload of the
    variant reaches it (UNREACHED_CALLS); cmsite without provider is no variant engine_features makes."""
    if "cmsite" in features and "provider" not in features:
        pytest.skip("engine_features adds provider with cmsite")
    source = without_regions(ENGINE.read_text(), FEATURES - features).encode()
    tree = parse(source)
    defined = {source[n.start_byte : n.end_byte].decode() for n in nodes(tree.root_node, "function_name")}
    called = {source[n.start_byte : n.end_byte].decode() for n in nodes(tree.root_node, "command_name")}
    dangling = called - defined - ENGINE_OWN_COMMANDS
    assert dangling <= set(UNREACHED_CALLS)
    assert all(UNREACHED_CALLS[name] not in features for name in dangling)
    # A stray secret value: without the secrets region its branches are gone and the value forms end in the
    # refusal, never in passing the object on as data.
    text = source.decode()
    assert "throw 'A parameter value may only be JSON data," in text
    assert ("$Value['$secret']" in text) == ("$Value['$credential']" in text) == ("secrets" in features)


def test_the_engine_has_what_the_minifier_and_the_bootstrap_rely_on():
    text = ENGINE.read_text()
    assert "\0" not in text  # the bootstrap splits at the first NUL
    assert "@'" not in text and '@"' not in text  # no here-strings: every string ends on its line
    assert "<#" not in text  # no block comments


def test_parse_check_can_fail():
    # The check above would be worthless if the grammar accepted anything.
    broken = b"function f { if ($x -eq 1 { 'unclosed' }\n"
    assert parse(broken).root_node.has_error


def test_engine_is_ascii_so_it_survives_any_console_code_page():
    ENGINE.read_bytes().decode("ascii")


def test_bootstrap_parses_and_fits_the_cmd_line_limit():
    tree = parse(_bootstrap.BOOTSTRAP.encode())
    assert not tree.root_node.has_error
    # cmd.exe limits a WinRS command line to 8,191 characters (reference: winrm-server-protocol.md).
    assert len(_bootstrap.BOOTSTRAP_COMMAND) < 2000


def test_allow_list_is_exactly_the_catalog():  # also tests/static/test_plan_cmdlets.py
    text = ENGINE.read_text()
    block = re.search(r"\$AllowedCmdlets = @\((.*?)\n\)", text, re.S).group(1)
    allowed = set(re.findall(r"'([A-Za-z]+-[A-Za-z]+)'", block))
    assert allowed == set(_catalog.Catalog.load().names())


def test_every_command_the_engine_calls_is_its_own_or_defined_in_it(engine):
    source, tree = engine
    defined = {source[n.start_byte : n.end_byte].decode() for n in nodes(tree.root_node, "function_name")}
    called = {source[n.start_byte : n.end_byte].decode() for n in nodes(tree.root_node, "command_name")}
    assert called - defined == ENGINE_OWN_COMMANDS
    assert "$out = @(& $cmdlet @splat)" in ENGINE.read_text()  # the one dynamic call, after the allow-list


def test_engine_builds_no_code_from_data(engine):
    # Plans are data: no Invoke-Expression, no [scriptblock]::Create, no Add-Type in the engine.
    text = _bootstrap.minify(ENGINE.read_text()).lower()  # what runs: no comments
    for forbidden in (
        "invoke-expression",
        "iex ",
        "scriptblock]::create",
        "add-type",
        "-command ",
        "convertfrom-json",
        "convertto-securestring",
    ):
        assert forbidden not in text
