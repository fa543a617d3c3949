#!/usr/bin/env python3
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Build plugins/plugin_utils/cmdlet_catalog.json from the Microsoft cmdlet reference.

Two outputs (docs/cmdlet-catalog.md):
  plugins/plugin_utils/cmdlet_catalog.json     exactly PLAN_CMDLETS: what plans may run, the engine's allow-list
  tests/cmlab/lab_catalog.json                 every cmdlet of the reference: cmlab's tests of simulated
                                               cmdlets no plan uses yet
In both, parameters that reach another machine (REMOTE_PARAMETERS) are marked refused.

Inputs (see docs/cmdlet-catalog.md):
  <reference>/cmdlet-docs/*.md                 current ConfigMgr reference pages (win over 5.1902)
  <reference>/configmgr-cmdlets-5.1902.json    module 5.1902 signatures (validation attributes)
  <reference>/cmdlet-docs/windows/*.md         Windows PowerShell 5.1 / Windows Server 2022 pages
  <reference>/cmdlet-docs/windows/ws2019/*.md  Windows Server 2019 NetSecurity pages (intersected)
  tools/catalog_supplement/*.md                pages the reference folder lacks (Set-Location)

The output is deterministic: the same inputs always give the same bytes.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_REFERENCE = REPO_ROOT.parent / "shared" / "reference"
OUTPUT = REPO_ROOT / "plugins" / "plugin_utils" / "cmdlet_catalog.json"
LAB_OUTPUT = REPO_ROOT / "tests" / "cmlab" / "lab_catalog.json"
SUPPLEMENT = REPO_ROOT / "tools" / "catalog_supplement"

# The cmdlets plans may run: exactly those the plan builders use. tests/static/test_plan_cmdlets.py
# keeps this list, the engine's $AllowedCmdlets and the cmdlets of plugins/ equal. To let a module
# run another cmdlet, add it here (docs/cmdlet-catalog.md "Adding a cmdlet").
PLAN_CMDLETS = (
    "Add-CMServiceConnectionPoint",
    "Add-LocalGroupMember",
    "Get-CMAccount",
    "Get-ChildItem",
    "Get-CimInstance",
    "Get-Content",
    "Get-FileHash",
    "Get-Item",
    "Get-ItemProperty",
    "Get-LocalGroupMember",
    "Get-NetFirewallPortFilter",
    "Get-NetFirewallRule",
    "Get-Service",
    "Import-Certificate",
    "Invoke-WebRequest",
    "New-CMAccount",
    "New-CMSiteSystemServer",
    "New-Item",
    "New-NetFirewallRule",
    "Remove-CMAccount",
    "Remove-CMServiceConnectionPoint",
    "Remove-CMSiteSystemServer",
    "Remove-Item",
    "Remove-LocalGroupMember",
    "Remove-NetFirewallRule",
    "Restart-Computer",
    "Restart-Service",
    "Set-CMAccount",
    "Set-CMHierarchySetting",
    "Set-CMServiceConnectionPoint",
    "Set-CMSiteSystemServer",
    "Set-ItemProperty",
    "Set-NetFirewallRule",
    "Start-Process",
    "Start-Service",
    "Stop-Service",
    "Test-Path",
)

# Parameters of Windows cmdlets that make the command act on another machine or outside the step
# (a background job): a plan's step acts on the host it runs on, nowhere else. The engine adds
# -CimSession itself for a provider on another machine (docs/engine-protocol.md). ConfigMgr cmdlets
# act through the SMS Provider; their -ComputerName (Get-CMSiteStatusMessage) is a filter.
REMOTE_PARAMETERS = {
    "ComputerName": "reaches another machine",
    "CimSession": "reaches another machine (the engine adds its own for the SMS Provider)",
    "PolicyStore": "can name a Group Policy Object in Active Directory",
    "GPOSession": "edits a Group Policy Object",
    "AsJob": "runs the command as a background job, outside the step",
    "ThrottleLimit": "only for -AsJob and remote sessions",
    # Not remote, but as dangerous: Invoke-WebRequest -SessionVariable names a variable the cmdlet
    # sets in the caller's scope, the engine's own (-SessionVariable result would replace its result).
    "SessionVariable": "sets a variable of the engine itself",
}

FORMAT_VERSION = 1
ALL_SETS = "__AllParameterSets"
CONFIGMGR_MODULE = "ConfigurationManager"

# Index pages in cmdlet-docs/, not cmdlet pages.
INDEX_PAGES = {"overview.md", "ConfigurationManager.md"}

# Where the ConfigMgr pages come from (configmgr-facts.md, "PSREF").
CONFIGMGR_DOCS_SOURCE = "MicrosoftDocs/sccm-docs-powershell-ref@4155e276:sccm-ps/ConfigurationManager/{name}.md"

# Handled by the binder for every cmdlet (ShouldProcess ones also get WhatIf/Confirm).
SHOULD_PROCESS_PARAMETERS = {"WhatIf", "Confirm"}

# Short names for the documented .NET types, so one type has one spelling in the catalog
# whichever page (ConfigMgr uses short names, PowerShell-Docs full names) it came from.
TYPE_ALIASES = {
    "System.Boolean": "Boolean",
    "System.Byte": "Byte",
    "System.DateTime": "DateTime",
    "System.Int32": "Int32",
    "System.Int64": "Int64",
    "System.Object": "Object",
    "System.String": "String",
    "System.UInt32": "UInt32",
    "System.Uri": "Uri",
    "System.Version": "Version",
    "System.Security.SecureString": "SecureString",
    "System.Management.Automation.PSCredential": "PSCredential",
    "System.Management.Automation.PSObject": "PSObject",
    "System.Management.Automation.SwitchParameter": "SwitchParameter",
    "System.Collections.Hashtable": "Hashtable",
    "Microsoft.Management.Infrastructure.CimInstance": "CimInstance",
    "Microsoft.Management.Infrastructure.CimSession": "CimSession",
    "System.Nullable`1[[System.DateTime]]": "Nullable[DateTime]",
}

# 5.1902 JSON type -> coarse kind, to decide whether its validation attributes still apply
# to the type the current page documents.
_KIND_5_1902 = {
    "string": "string",
    "bool": "bool",
    "switch": "switch",
    "int": "int",
    "uint32": "int",
    "long": "int",
    "datetime": "datetime",
    "securestring": "securestring",
    "hashtable": "hashtable",
    "System.Object": "object",
}


class ReferenceError_(Exception):
    """The reference pages are not what this tool understands; fix the tool, not the output."""


# --------------------------------------------------------------------------------------------
# platyPS markdown


def _sections(text: str, level: int) -> list[tuple[str, str]]:
    """Split markdown into (heading, body) pairs at headings of exactly `level` '#'.

    Fenced code blocks are skipped so that '#' comments inside examples are not headings.
    """
    marker = "#" * level + " "
    out: list[tuple[str, str]] = []
    heading = None
    body: list[str] = []
    fenced = False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        if not fenced and line.startswith(marker):
            if heading is not None:
                out.append((heading, "\n".join(body)))
            heading, body = line[len(marker) :].strip(), []
        elif heading is not None:
            body.append(line)
    if heading is not None:
        out.append((heading, "\n".join(body)))
    return out


def _fenced_blocks(text: str, lang: str) -> list[str]:
    pattern = re.compile(
        r"^```" + re.escape(lang) + r"[ \t]*\n(.*?)^```[ \t]*$",
        re.MULTILINE | re.DOTALL,
    )
    return [m.group(1) for m in pattern.finditer(text)]


def _front_matter(text: str) -> dict[str, str]:
    m = re.match(r"---\n(.*?)\n---\n", text, re.DOTALL)
    if not m:
        return {}
    meta = {}
    for line in m.group(1).splitlines():
        key, sep, value = line.partition(":")
        if sep and not line.startswith(" "):
            meta[key.strip()] = value.strip()
    return meta


_SET_HEADING = re.compile(r"^(?P<name>.+?)(?P<default>\s+\(Default\))?(?:\s+-\s+.+\sproviders?)?$")


def _parse_syntax(body: str) -> list[tuple[str, bool, dict[str, bool]]]:
    """SYNTAX section -> [(set name or '', is_default, {parameter: mandatory})].

    A page documents one unnamed set when it has no '###' headings. Provider-specific pages
    (Set-ItemProperty, Get-Item, Test-Path) repeat a set once per provider: merged later.
    """
    headed = _sections(body, 3)
    if not headed:
        blocks = _fenced_blocks(body, "")
        if len(blocks) != 1:
            raise ReferenceError_("SYNTAX without set headings must have exactly one block")
        return [("", False, _syntax_parameters(blocks[0]))]
    out = []
    for heading, text in headed:
        m = _SET_HEADING.match(heading)
        blocks = _fenced_blocks(text, "")
        if not m or len(blocks) != 1:
            raise ReferenceError_(f"cannot read syntax set {heading!r}")
        out.append((m.group("name"), bool(m.group("default")), _syntax_parameters(blocks[0])))
    return out


def _syntax_parameters(block: str) -> dict[str, bool]:
    """'Cmd [-A <T>] [-B] <T> -C <T>' -> {'A': False, 'B': True, 'C': True} (name: mandatory).

    A parameter is optional when brackets enclose the whole parameter; '[-B] <T>' only
    brackets the name (positional), so B is still mandatory.
    """
    params: dict[str, bool] = {}
    depth = 0
    i = 0
    while i < len(block):
        ch = block[i]
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "-" and (i == 0 or block[i - 1] in " [\n"):
            m = re.match(r"-([A-Za-z][A-Za-z0-9_]*)", block[i:])
            if m:
                name = m.group(1)
                end = i + len(m.group(0))
                name_only_bracket = end < len(block) and block[end] == "]" and block[end + 1 : end + 3] == " <"
                effective = depth - 1 if name_only_bracket else depth
                params[name] = effective == 0
                i = end
                continue
        i += 1
    params.pop("CommonParameters", None)
    return params


_PER_SET = re.compile(r"(True|False|Named|\d+)\s*\(((?:[^()]|\([^()]*\))*)\)")


def _per_set_values(raw: str, sets: list[str]) -> dict[str, str]:
    """'True (A, B), False (C)' -> {'A': 'True', 'B': 'True', 'C': 'False'}; 'True' -> all sets."""
    if "(" not in raw:
        return {s: raw for s in sets}
    out = {}
    for m in _PER_SET.finditer(raw):
        for set_name in _split_list(m.group(2)):
            out[set_name] = m.group(1)
    missing = [s for s in sets if s not in out]
    if missing:
        raise ReferenceError_(f"per-set value {raw!r} does not cover sets {missing}")
    return out


def _split_list(raw: str) -> list[str]:
    return [item.strip() for item in raw.split(",") if item.strip()]


def _parse_yaml_block(block: str) -> dict[str, str]:
    fields = {}
    for line in block.splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields[key.strip()] = value.strip()
    for key in (
        "Type",
        "Parameter Sets",
        "Required",
        "Position",
        "Accept pipeline input",
    ):
        if key not in fields:
            raise ReferenceError_(f"parameter yaml block without {key!r}")
    return fields


def normalize_type(doc_type: str) -> str:
    if doc_type.endswith("[]"):
        return normalize_type(doc_type[:-2]) + "[]"
    return TYPE_ALIASES.get(doc_type, doc_type)


def parse_page(path: Path) -> dict:
    """One platyPS page -> cmdlet record (not yet merged with other sources)."""
    text = path.read_text(encoding="utf-8-sig").replace("\r\n", "\n")
    meta = _front_matter(text)
    name = meta.get("title") or re.search(r"^# (\S+)", text, re.MULTILINE).group(1)
    top = dict(_sections(text, 2))
    if "SYNTAX" not in top or "PARAMETERS" not in top:
        raise ReferenceError_(f"{path}: no SYNTAX or PARAMETERS section")

    syntax = _parse_syntax(top["SYNTAX"])
    set_names: list[str] = []
    default_set = None
    syntax_by_set: dict[str, dict[str, bool]] = {}
    for set_name, is_default, params in syntax:
        if set_name not in syntax_by_set:
            set_names.append(set_name)
            syntax_by_set[set_name] = {}
        syntax_by_set[set_name].update(params)
        if is_default:
            default_set = set_name

    parameters = []
    for heading, body in _sections(top["PARAMETERS"], 3):
        if not heading.startswith("-"):
            continue  # "### CommonParameters"
        blocks = [_parse_yaml_block(b) for b in _fenced_blocks(body, "yaml")]
        if not blocks:
            raise ReferenceError_(f"{path}: {heading} has no yaml block")
        parameters.append(_parameter_from_blocks(heading[1:].strip(), blocks, set_names, path))

    return {
        "name": name,
        "module": meta.get("Module Name", ""),
        "set_names": set_names,
        "default_set": default_set,
        "syntax": syntax_by_set,
        "parameters": parameters,
    }


def _parameter_from_blocks(name: str, blocks: list[dict], set_names: list[str], path: Path) -> dict:
    """Merge the yaml blocks of one parameter; a parameter that differs per set has several."""
    types = {normalize_type(b["Type"]) for b in blocks}
    if len(types) != 1:
        raise ReferenceError_(f"{path}: -{name} has several types {sorted(types)}")
    aliases: list[str] = []
    accepted: list[str] = []
    sets: dict[str, dict] = {}
    for block in blocks:
        for alias in _split_list(block.get("Aliases", "")):
            if alias not in aliases:
                aliases.append(alias)
        for value in _split_list(block.get("Accepted values", "")):
            if value not in accepted:
                accepted.append(value)
        raw_sets = block["Parameter Sets"]
        block_sets = [ALL_SETS] if raw_sets == "(All)" else _split_list(raw_sets)
        for set_name in block_sets:
            if set_name != ALL_SETS and set_name not in set_names and set_names != [""]:
                raise ReferenceError_(f"{path}: -{name} names unknown set {set_name!r}")
        required = _per_set_values(block["Required"], block_sets)
        position = _per_set_values(block["Position"], block_sets)
        pipeline = _pipeline(block["Accept pipeline input"])
        for set_name in block_sets:
            entry = {"mandatory": required[set_name] == "True"}
            if position[set_name] != "Named":
                entry["position"] = int(position[set_name])
            if pipeline:
                entry["pipeline"] = pipeline
            if set_name in sets and sets[set_name] != entry:
                raise ReferenceError_(f"{path}: -{name} documented twice for set {set_name!r}")
            sets[set_name] = entry
    param = {"name": name, "type": types.pop(), "aliases": aliases, "sets": sets}
    if accepted:
        param["accepted_values"] = accepted
    return param


def _pipeline(raw: str) -> list[str]:
    if raw.startswith("False"):
        return []
    m = re.match(r"True\s*\((.*)\)", raw)
    return sorted(_split_list(m.group(1))) if m else ["ByValue"]


# --------------------------------------------------------------------------------------------
# Building catalog entries


def _finish(page: dict, source: str, notes: list[str], fallback_set: str | None = None) -> dict:
    """Page record -> catalog entry: name the unnamed set, drop WhatIf/Confirm, cross-check."""
    set_names = list(page["set_names"])
    default_set = page["default_set"]
    if set_names == [""]:
        set_names = [fallback_set or ALL_SETS]
        default_set = set_names[0]
        page["syntax"] = {set_names[0]: page["syntax"][""]}
    elif default_set is None and len(set_names) == 1:
        default_set = set_names[0]

    names = {p["name"] for p in page["parameters"]}
    supports_should_process = SHOULD_PROCESS_PARAMETERS <= names
    parameters = [p for p in page["parameters"] if p["name"] not in SHOULD_PROCESS_PARAMETERS]
    notes.extend(_check_syntax_agrees(page["name"], page["syntax"], parameters, set_names))
    return {
        "name": page["name"],
        "module": page["module"],
        "default_set": default_set,
        "sets": sorted(set_names),
        "supports_should_process": supports_should_process,
        "parameters": sorted(parameters, key=lambda p: p["name"].lower()),
        "source": source,
        "notes": notes,
    }


def _check_syntax_agrees(cmdlet: str, syntax: dict, parameters: list[dict], set_names: list[str]) -> list[str]:
    """The SYNTAX blocks and the yaml blocks are two views of one signature; report disagreements.

    The yaml blocks win: they carry the per-set attributes, while the SYNTAX of provider cmdlets
    (Get-ChildItem) leaves out dynamic parameters and Get-Module's shows -ListAvailable optional
    where its yaml says Required: True (Available).
    """
    absent: dict[str, list[str]] = {}
    notes = []
    for set_name in set_names:
        in_syntax = syntax.get(set_name, {})
        for param in parameters:
            name = param["name"]
            entry = param["sets"].get(set_name) or param["sets"].get(ALL_SETS)
            if entry is None:
                if name in in_syntax:
                    raise ReferenceError_(f"{cmdlet}: -{name} in the syntax of {set_name} but not in its yaml")
            elif name not in in_syntax:
                absent.setdefault(name, []).append(set_name)
            elif in_syntax[name] != entry["mandatory"]:
                notes.append(f"-{name}: SYNTAX of {set_name} says mandatory={in_syntax[name]}, yaml says {entry['mandatory']}; yaml kept")
    for name, sets in sorted(absent.items()):
        notes.append(f"-{name}: in the yaml for {', '.join(sets)} but not in that SYNTAX (dynamic parameter); yaml kept")
    known = {p["name"] for p in parameters} | SHOULD_PROCESS_PARAMETERS
    for set_name, in_syntax in syntax.items():
        for name in in_syntax:
            if name not in known:
                raise ReferenceError_(f"{cmdlet}: -{name} in the syntax of {set_name} has no parameter section")
    return notes


def _kind_of_doc_type(doc_type: str) -> str:
    base = doc_type.removesuffix("[]")
    kind = {
        "String": "string",
        "Boolean": "bool",
        "SwitchParameter": "switch",
        "Int32": "int",
        "UInt32": "int",
        "Int64": "int",
        "DateTime": "datetime",
        "SecureString": "securestring",
        "Hashtable": "hashtable",
    }.get(base, "object")
    return kind + ("[]" if doc_type.endswith("[]") else "")


def _kind_of_1902_type(t: str) -> str:
    array = t.endswith("[]")
    base = t[:-2] if array else t
    return _KIND_5_1902.get(base, "other") + ("[]" if array else "")


def merge_configmgr(page: dict, old: dict | None, source: str) -> dict:
    """Current page + 5.1902 signature: the page wins; 5.1902 adds validation attributes."""
    notes: list[str] = []
    entry = _finish(page, source, notes, _single_set_name(old))
    if old is None:
        notes.append("not in module 5.1902: no validation attributes")
        return entry

    old_params = {p["name"].lower(): p for p in old["parameters"]}
    doc_names = {p["name"].lower() for p in entry["parameters"]} | {"whatif", "confirm"}
    for param in entry["parameters"]:
        prev = old_params.get(param["name"].lower())
        if prev is None:
            notes.append(f"-{param['name']}: not in 5.1902")
            continue
        kind, old_kind = (
            _kind_of_doc_type(param["type"]),
            _kind_of_1902_type(prev["type"]),
        )
        compatible = kind == old_kind or (old_kind in ("object", "object[]") and kind.startswith("object"))
        if not compatible:
            notes.append(
                f"-{param['name']}: type {param['type']} (current docs) vs {prev['type']} (5.1902); "
                "docs kept, 5.1902 validation not applied"
            )
            continue
        validate = _validate_from_1902(prev.get("validate", {}), kind)
        if "set" in prev.get("validate", {}) and "accepted_values" not in param:
            param["accepted_values"] = list(prev["validate"]["set"])
            notes.append(f"-{param['name']}: accepted values from 5.1902 ValidateSet")
        if validate:
            param["validate"] = validate
        if prev.get("ps_type_name"):
            param["ps_type_name"] = prev["ps_type_name"]
        missing_aliases = [a for a in prev["aliases"] if a.lower() not in {x.lower() for x in param["aliases"]}]
        if missing_aliases:
            notes.append(f"-{param['name']}: 5.1902 aliases {missing_aliases} not in current docs; docs kept")
    dropped = sorted(p["name"] for p in old["parameters"] if p["name"].lower() not in doc_names)
    if dropped:
        notes.append(f"5.1902 parameters not in current docs (not accepted): {', '.join(dropped)}")
    old_default = old.get("binding", {}).get("DefaultParameterSetName")
    if old_default and entry["default_set"] != old_default and old_default in entry["sets"]:
        notes.append(f"default set {entry['default_set']} (docs) vs {old_default} (5.1902)")
    return entry


def _single_set_name(old: dict | None) -> str | None:
    """The name 5.1902 gives the one set of a cmdlet whose page documents a single, unnamed set."""
    if old is None:
        return None
    default = old.get("binding", {}).get("DefaultParameterSetName")
    if default:
        return default
    named = {s["set"] for p in old["parameters"] for s in p["sets"]} - {ALL_SETS}
    return named.pop() if len(named) == 1 else None


def _validate_from_1902(old: dict, kind: str) -> dict:
    validate = {}
    if old.get("not_null_or_empty"):
        validate["not_null_or_empty"] = True
    if old.get("not_null"):
        validate["not_null"] = True
    if "range" in old and kind.startswith("int"):
        validate["range"] = [int(old["range"][0]), int(old["range"][1])]
    return validate


def intersect_versions(new: dict, old: dict, notes: list[str]) -> dict:
    """Keep only what both Windows Server versions accept (the engine must work on both)."""
    if new["default_set"] != old["default_set"]:
        raise ReferenceError_(f"{new['name']}: default set differs between 2019 and 2022")
    common_sets = [s for s in new["set_names"] if s in old["set_names"]]
    for s in sorted(set(new["set_names"]) ^ set(old["set_names"])):
        notes.append(f"set {s}: not in both 2019 and 2022, dropped")
    old_params = {p["name"]: p for p in old["parameters"]}
    kept = []
    for param in new["parameters"]:
        prev = old_params.get(param["name"])
        if prev is None:
            notes.append(f"-{param['name']}: 2022 only, dropped")
            continue
        if prev["type"] != param["type"]:
            raise ReferenceError_(f"{new['name']} -{param['name']}: type differs between 2019 and 2022")
        kept.append(_intersect_parameter(param, prev, common_sets, notes))
    for name in sorted(set(old_params) - {p["name"] for p in new["parameters"]}):
        notes.append(f"-{name}: 2019 only, dropped")
    kept_names = {p["name"] for p in kept} | SHOULD_PROCESS_PARAMETERS
    syntax = {s: {n: m for n, m in new["syntax"][s].items() if n in kept_names} for s in common_sets}
    return dict(new, set_names=common_sets, parameters=kept, syntax=syntax)


def _intersect_parameter(param: dict, prev: dict, common_sets: list[str], notes: list[str]) -> dict:
    name = param["name"]
    out = dict(param)
    aliases = [a for a in param["aliases"] if a in prev["aliases"]]
    if aliases != param["aliases"] or len(aliases) != len(prev["aliases"]):
        notes.append(f"-{name}: aliases {param['aliases']} (2022) vs {prev['aliases']} (2019), kept common ones")
    out["aliases"] = aliases
    if "accepted_values" in param or "accepted_values" in prev:
        values = [v for v in param.get("accepted_values", []) if v in prev.get("accepted_values", [])]
        if values != param.get("accepted_values") or len(values) != len(prev.get("accepted_values", [])):
            notes.append(f"-{name}: accepted values differ between 2019 and 2022, kept common ones")
        out["accepted_values"] = values
    sets = {}
    for set_name, entry in param["sets"].items():
        if set_name != ALL_SETS and set_name not in common_sets:
            continue
        other = prev["sets"].get(set_name) or prev["sets"].get(ALL_SETS)
        if other is None:
            notes.append(f"-{name}: not in set {set_name} on 2019, dropped there")
            continue
        merged = {"mandatory": entry["mandatory"] or other["mandatory"]}
        if entry.get("position") is not None and entry.get("position") == other.get("position"):
            merged["position"] = entry["position"]
        pipeline = [p for p in entry.get("pipeline", []) if p in other.get("pipeline", [])]
        if pipeline:
            merged["pipeline"] = pipeline
        if merged != entry:
            notes.append(f"-{name}: differs between 2019 and 2022 in set {set_name}, kept the stricter")
        sets[set_name] = merged
    out["sets"] = sets
    return out


# --------------------------------------------------------------------------------------------


def _windows_sources(reference: Path) -> dict[str, str]:
    """SOURCES.txt: 'Name -> repo@commit:path' lines."""
    out = {}
    for line in (reference / "cmdlet-docs" / "windows" / "SOURCES.txt").read_text().splitlines():
        name, sep, source = line.partition("->")
        if sep:
            out[name.strip()] = source.strip()
    return out


def _supplement_source(text: str) -> str:
    m = re.search(r"^source: (.+)$", text, re.MULTILINE)
    if not m:
        raise ReferenceError_("supplement page without a 'source:' front matter line")
    return m.group(1).strip()


def refuse_remote_parameters(entry: dict) -> dict:
    """Mark REMOTE_PARAMETERS of a Windows cmdlet as refused. They stay in the catalog so that the
    binder matches names exactly as PowerShell does (a plan's -ComputerN or -Cn is -ComputerName
    on Windows, never another parameter) and then refuses them."""
    if entry["module"] == CONFIGMGR_MODULE:
        return entry
    parameters = []
    for param in entry["parameters"]:
        if param["name"] in REMOTE_PARAMETERS:
            param = {**param, "refused": REMOTE_PARAMETERS[param["name"]]}
        parameters.append(param)
    return {**entry, "parameters": parameters}


def build(reference: Path, only: tuple[str, ...] | None = PLAN_CMDLETS) -> dict:
    """The catalog of `only` (default: the plan cmdlets), or of every cmdlet of the reference (None)."""
    docs = reference / "cmdlet-docs"
    old_module = json.loads((reference / "configmgr-cmdlets-5.1902.json").read_text(encoding="utf-8"))
    old_cmdlets = old_module["cmdlets"]
    win_sources = _windows_sources(reference)
    cmdlets: dict[str, dict] = {}

    for path in sorted(docs.glob("*.md")):
        if path.name in INDEX_PAGES:
            continue
        page = parse_page(path)
        if page["module"] != CONFIGMGR_MODULE:
            raise ReferenceError_(f"{path}: module {page['module']!r}")
        source = CONFIGMGR_DOCS_SOURCE.format(name=page["name"])
        cmdlets[page["name"]] = merge_configmgr(page, old_cmdlets.get(page["name"]), source)

    for path in sorted((docs / "windows").glob("*.md")):
        page = parse_page(path)
        notes: list[str] = []
        source = win_sources[page["name"]]
        older = docs / "windows" / "ws2019" / path.name
        if older.exists():
            page = intersect_versions(page, parse_page(older), notes)
            source = f"2022: {source}; 2019: {win_sources['ws2019/' + page['name']]}"
        cmdlets[page["name"]] = _finish(page, source, notes)

    for path in sorted(SUPPLEMENT.glob("*.md")):
        page = parse_page(path)
        source = _supplement_source(path.read_text(encoding="utf-8"))
        cmdlets[page["name"]] = _finish(page, source, [])

    if only is not None:
        missing = sorted(set(only) - set(cmdlets))
        if missing:
            raise ReferenceError_(f"no reference page for {', '.join(missing)}: add one (or a supplement page)")
        cmdlets = {name: cmdlets[name] for name in only}
    cmdlets = {name: refuse_remote_parameters(entry) for name, entry in cmdlets.items()}
    for entry in cmdlets.values():
        if not entry["notes"]:
            del entry["notes"]

    return {
        "format": FORMAT_VERSION,
        "generated_by": "tools/build_catalog.py",
        "sources": {
            "configmgr_docs": CONFIGMGR_DOCS_SOURCE.format(name="<Cmdlet>"),
            "configmgr_5.1902": old_module.get("source", "configmgr-cmdlets-5.1902.json"),
            "windows_docs": "cmdlet-docs/windows/SOURCES.txt (PowerShell-Docs reference/5.1, "
            "windows-powershell-docs winserver2022-ps and winserver2019-ps)",
            "supplement": {p.stem: _supplement_source(p.read_text(encoding="utf-8")) for p in sorted(SUPPLEMENT.glob("*.md"))},
        },
        "cmdlets": dict(sorted(cmdlets.items())),
    }


# --------------------------------------------------------------------------------------------
# Output: one line per parameter keeps the file short and its diffs readable.


def render(catalog: dict) -> str:
    def compact(value) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=True)

    lines = ["{"]
    top_keys = sorted(catalog)
    for i, key in enumerate(top_keys):
        comma = "," if i < len(top_keys) - 1 else ""
        if key != "cmdlets":
            lines.append(f" {compact(key)}: {json.dumps(catalog[key], sort_keys=True, ensure_ascii=True)}{comma}")
            continue
        lines.append(' "cmdlets": {')
        names = list(catalog["cmdlets"])
        for j, name in enumerate(names):
            entry = catalog["cmdlets"][name]
            lines.append(f"  {compact(name)}: {{")
            fields = sorted(entry)
            for k, field in enumerate(fields):
                fcomma = "," if k < len(fields) - 1 else ""
                if field == "parameters":
                    lines.append('   "parameters": [')
                    params = entry["parameters"]
                    for m, param in enumerate(params):
                        pcomma = "," if m < len(params) - 1 else ""
                        lines.append(f"    {compact(param)}{pcomma}")
                    lines.append(f"   ]{fcomma}")
                else:
                    lines.append(f"   {compact(field)}: {compact(entry[field])}{fcomma}")
            lines.append("  }" + ("," if j < len(names) - 1 else ""))
        lines.append(" }" + comma)
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=DEFAULT_REFERENCE, help="reference folder")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="plan catalog file to write")
    parser.add_argument("--lab-output", type=Path, default=LAB_OUTPUT, help="cmlab test catalog file to write")
    parser.add_argument("--check", action="store_true", help="fail if an output file is not up to date")
    args = parser.parse_args(argv)
    outputs = {args.output: render(build(args.reference)), args.lab_output: render(build(args.reference, None))}
    status = 0
    for path, text in outputs.items():
        if args.check:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current != text:
                print(f"{path} is out of date; run tools/build_catalog.py", file=sys.stderr)
                status = 1
        else:
            path.write_text(text, encoding="utf-8")
    return status


if __name__ == "__main__":
    sys.exit(main())
