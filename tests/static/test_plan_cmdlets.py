"""Allow exactly what the plans need (issue 8.17): the cmdlets the plan builders name, the cmdlet
catalog, the build tool's list and the engine's allow-list are one set (docs/cmdlet-catalog.md
"Adding a cmdlet")."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path

from cmscp_plugin_utils import _catalog

REPO = Path(__file__).resolve().parents[2]
ENGINE = REPO / "plugins" / "module_utils" / "cmscp_engine.ps1"
# The contract's own files name cmdlets for other reasons (the catalog, the protocol's CIM cmdlets).
CONTRACT_FILES = {"_catalog.py", "_protocol.py", "_runner.py"}
CMDLET_NAME = re.compile(r"[A-Z][a-z]+(?:[A-Z][a-z]+)?-[A-Z][A-Za-z]+")


def _build_catalog():
    spec = importlib.util.spec_from_file_location("cmscp_build_catalog_static", REPO / "tools" / "build_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plan_builder_files() -> list[Path]:
    files = sorted((REPO / "plugins" / "action").glob("*.py")) + sorted((REPO / "plugins" / "plugin_utils").glob("*.py"))
    return [f for f in files if f.name not in CONTRACT_FILES]


def cmdlets_the_plan_builders_name() -> dict[str, set[str]]:
    """Every string constant of the action plugins and plan builders that is a cmdlet name."""
    found: dict[str, set[str]] = {}
    for path in plan_builder_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CMDLET_NAME.fullmatch(node.value):
                found.setdefault(node.value, set()).add(path.name)
    return found


def engine_allow_list() -> set[str]:
    block = re.search(r"\$AllowedCmdlets = @\((.*?)\n\)", ENGINE.read_text(encoding="ascii"), re.S).group(1)
    return set(re.findall(r"'([A-Za-z]+-[A-Za-z]+)'", block))


def test_plan_builders_name_their_cmdlets_literally():
    # So that the scan below sees every one: Plan.add(step_id, "<Cmdlet-Name>", ...).
    for path in plan_builder_files():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "add"
                and len(node.args) >= 2
                and isinstance(node.args[0], (ast.Constant, ast.JoinedStr))
            ):
                cmdlet = node.args[1]
                assert isinstance(cmdlet, ast.Constant) and isinstance(cmdlet.value, str), (
                    f"{path.name}:{node.lineno}: name the cmdlet as a string literal"
                )


def test_allow_list_catalog_and_plan_builders_are_one_set():
    used = cmdlets_the_plan_builders_name()
    catalog = set(_catalog.Catalog.load().names())
    tool = set(_build_catalog().PLAN_CMDLETS)
    assert set(used) == catalog, (
        f"used by plans but not in the catalog: {sorted(set(used) - catalog)}; "
        f"in the catalog but no plan uses them: {sorted(catalog - set(used))} (docs/cmdlet-catalog.md)"
    )
    assert tool == catalog, "tools/build_catalog.py PLAN_CMDLETS and cmdlet_catalog.json differ: regenerate"
    assert engine_allow_list() == catalog, "the engine's $AllowedCmdlets and the catalog differ"


def test_the_scan_would_see_a_new_cmdlet(tmp_path):
    # The check above cannot pass by seeing nothing.
    assert set(cmdlets_the_plan_builders_name()) >= {"Get-CimInstance", "Add-CMServiceConnectionPoint"}
    assert CMDLET_NAME.fullmatch("Start-Process") and CMDLET_NAME.fullmatch("ConvertTo-Json")
    assert not CMDLET_NAME.fullmatch("SMS_DMP_DOWNLOADER") and not CMDLET_NAME.fullmatch("Set-Location now")
