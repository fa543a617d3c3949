"""The shipped facts document has the anchors code and docs cite, and each fact names its source."""

from __future__ import annotations

import re

import yaml
from packaging_support import REPO, repo_files

FACTS = REPO / "docs" / "configmgr-behaviour.md"
# The anchors agreed for the whole project; other files cite them before and after they change.
AGREED = [
    "service-connection-point-cmdlets",
    "site-system-servers",
    "sites-and-the-top-level-site",
    "site-roles",
    "status-messages",
    "configmgr-accounts",
    "usage-data-level",
    "scp-mode",
    "powershell-module-and-remoting",
    "wmi-classes",
    "sms-executive-threads",
    "service-connection-tool",
    "internet-endpoints",
    "tls-prerequisites",
    "logs",
    "asynchronous-installation",
    "placement-and-move",
    "remote-site-system-requirements",
    "console-notifications",
    "windows-names-and-paths",
    "read-only-rights",
]


def anchors() -> list[str]:
    return re.findall(r'<a id="([^"]+)"></a>', FACTS.read_text())


def test_the_facts_document_has_exactly_the_agreed_anchors():
    assert anchors() == AGREED


def test_every_citation_of_the_facts_document_points_to_an_anchor_it_has():
    known = set(anchors())
    broken = []
    for name in repo_files():
        if not name.endswith((".py", ".md", ".yml", ".yaml", ".ps1", ".json", ".txt")):
            continue
        path = REPO / name
        if path.is_symlink() or not path.is_file():
            continue
        text = path.read_text(errors="replace")
        for anchor in re.findall(r"configmgr-behaviour\.md#([A-Za-z0-9_-]+)", text):
            if anchor not in known:
                broken.append(f"{name}: #{anchor}")
    assert broken == []


def test_every_section_cites_a_microsoft_learn_page_and_marks_its_statements():
    text = FACTS.read_text()
    sections = re.split(r'<a id="[^"]+"></a>\n', text)[1:]
    assert len(sections) == len(AGREED)
    for anchor, body in zip(AGREED, sections):
        assert "https://learn.microsoft.com/" in body, anchor
        marks = re.findall(r"\*\*(Confirmed|Inferred|Observed|Not documented)\b", body)
        assert marks, anchor


def test_the_readme_names_every_module_both_groups_and_the_two_commands():
    readme = (REPO / "README.md").read_text()
    for command in ("make demo", "make test"):
        assert command in readme
    for module in sorted(p.stem for p in (REPO / "plugins" / "modules").glob("*.py")):
        assert f"`configmgr.scp.{module}`" in readme, module
    groups = yaml.safe_load((REPO / "meta" / "runtime.yml").read_text())["action_groups"]
    for group, modules in groups.items():
        heading = f"`group/configmgr.scp.{group}`"
        assert heading in readme, group
        described = readme.split(heading, 1)[1].split("\n- `group/", 1)[0]
        for module in modules:
            assert f"`{module}`" in described, f"{module} missing from the description of {group}"
    for section in ("## Requirements", "## Installation", "## Using", "## Testing", "## Support matrix", "## Release notes", "## License"):
        assert f"\n{section}\n" in readme, section
