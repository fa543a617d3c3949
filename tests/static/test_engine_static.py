"""The engine is checked without a PowerShell runtime: it parses, it is ASCII, and every command it can
run is in the cmdlet catalog (DESIGN §3, §5)."""

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
ENGINE_OWN_COMMANDS = {"Import-Module", "Get-PSDrive", "New-PSDrive", "Set-Location", "Get-CimInstance",
                       "New-CimSession", "Remove-CimSession"}

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
            found.append(f"{node.type} at {node.start_point}: {source[node.start_byte:node.end_byte][:60]!r}")
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
    defined = {source[n.start_byte:n.end_byte].decode() for n in nodes(tree.root_node, "function_name")}
    called = {source[n.start_byte:n.end_byte].decode() for n in nodes(tree.root_node, "command_name")}
    assert called - defined == ENGINE_OWN_COMMANDS
    assert "$out = @(& $cmdlet @splat)" in ENGINE.read_text()     # the one dynamic call, after the allow-list


def test_engine_builds_no_code_from_data(engine):
    # Plans are data: no Invoke-Expression, no [scriptblock]::Create, no Add-Type in the engine.
    text = _bootstrap.minify(ENGINE.read_text()).lower()   # what runs: no comments
    for forbidden in ("invoke-expression", "iex ", "scriptblock]::create", "add-type", "-command ", "convertfrom-json",
                      "convertto-securestring"):
        assert forbidden not in text
