"""What ansible-test's action-plugin-docs and validate-modules check, offline: every action plugin has a
docs-only module file, and its documented options are exactly the options the action plugin accepts,
with the same types, defaults, choices and aliases."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
ACTIONS = sorted(p.stem for p in (REPO / "plugins" / "action").glob("*.py") if not p.stem.startswith("_"))
FRAGMENT = yaml.safe_load(
    importlib.import_module("ansible_collections.configmgr.scp.plugins.doc_fragments.provider").ModuleDocFragment.DOCUMENTATION
)


def module_docs(name: str) -> dict:
    tree = ast.parse((REPO / "plugins" / "modules" / f"{name}.py").read_text())
    values = {}
    for node in tree.body:
        # docs-only: validate-modules treats any other statement as a real module
        assert isinstance(node, (ast.Assign, ast.Expr, ast.ImportFrom)), f"{name}: {ast.dump(node)[:80]}"
        if isinstance(node, ast.Assign):
            values[node.targets[0].id] = ast.literal_eval(node.value)
    return {key: yaml.safe_load(values[key]) for key in ("DOCUMENTATION", "EXAMPLES", "RETURN")}


def test_every_action_plugin_has_documentation():
    modules = sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py"))
    assert ACTIONS == modules


@pytest.mark.parametrize("name", ACTIONS)
def test_documented_options_match_the_argument_spec(name):
    docs = module_docs(name)
    action = importlib.import_module(f"ansible_collections.configmgr.scp.plugins.action.{name}").ActionModule
    spec = dict(action.ARGUMENT_SPEC)
    documented = dict(docs["DOCUMENTATION"].get("options") or {})
    if action.USES_PROVIDER:
        from ansible_collections.configmgr.scp.plugins.plugin_utils._action import PROVIDER_SPEC

        spec.update(PROVIDER_SPEC)
        assert "configmgr.scp.provider" in docs["DOCUMENTATION"]["extends_documentation_fragment"]
        documented.update(FRAGMENT["options"])
    assert sorted(documented) == sorted(spec)
    for option, rules in spec.items():
        doc = documented[option]
        assert doc.get("type", "str") == rules.get("type", "str"), option
        assert doc.get("default") == rules.get("default"), option
        assert doc.get("choices") == rules.get("choices"), option
        assert sorted(doc.get("aliases", [])) == sorted(rules.get("aliases", [])), option
        assert bool(doc.get("required", False)) == bool(rules.get("required", False)), option
        assert doc.get("elements") == rules.get("elements"), option
        assert doc.get("description"), option


@pytest.mark.parametrize("name", ACTIONS)
def test_examples_and_return_values_are_there(name):
    docs = module_docs(name)
    assert docs["EXAMPLES"], name
    assert any(f"configmgr.scp.{name}" in task for task in docs["EXAMPLES"]), name
    assert docs["RETURN"], name
    for key, value in docs["RETURN"].items():
        assert value.get("description") and value.get("returned") and value.get("type"), f"{name}: {key}"


def test_ansible_doc_renders_every_module():
    names = [f"configmgr.scp.{n}" for n in ACTIONS]
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-doc"), *names], capture_output=True, text=True, cwd=REPO, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count("This module has a corresponding action plugin.") == len(names)
