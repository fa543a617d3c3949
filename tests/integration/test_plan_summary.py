"""The configmgr.scp.plan_summary callback, read the way a reviewer reads it: rendered as Markdown.

Hostile values (newlines, backticks, code fences, #, |, < >, HTML, entities, links, non-ASCII,
control and bidi characters) go through every place the callback writes a value: task names
(headings), host names (table cells), module descriptions and warnings (list items), diffs and
failure messages (fenced blocks). The document is parsed with a CommonMark parser (GFM tables on)
and its structure compared with what the callback meant to write: no forged heading, no HTML, no
link or image, every fence closed where it should be, and each value shown literally.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.fixtures import PLAN_PASSWORD

REPO = Path(__file__).resolve().parents[2]
SITE = REPO / "playbooks" / "site.yml"
ANSIBLE_PLAYBOOK = os.environ.get("CMSCP_ANSIBLE_PLAYBOOK") or str(Path(sys.executable).parent / "ansible-playbook")

# One hostile value with everything that could break out of Markdown. \x00 is added separately
# (YAML cannot carry it).
HOSTILE = (
    "a\n```\n# Forged heading\n~~~\n````\n<script>alert(1)</script> <img src=x onerror=alert(1)> <!-- c -->"
    " | x | `tick` ~~s~~ [link](https://evil.example) ![img](https://evil.example/i.png) &lt; &#10;"
    " *em* _u_ $x$ {+ins+} [[_TOC_]] \\ é 日本 🚀 \u202e\u200b\u2028\x1b\x07\r\t end"
)
STARTS = ["# h1", "- item", "1. one", "> quote", "```", "    code", "<div>", "| a | b |", "=== ", "+ plus", "2) two"]

TEST_ACTION = '''
from ansible.plugins.action import ActionBase

class ActionModule(ActionBase):
    """Returns what a configmgr.scp module returns, with the values it is given."""
    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        value = self._task.args["value"]
        result.update(changed=True, actions=[value, *self._task.args.get("more", [])], warnings=[value],
                      diff={"before": "same\\n" + value + "\\nold\\n", "after": "same\\n" + value + "\\nnew\\n",
                            "before_header": value, "after_header": value})
        return result
'''


def md_parser() -> MarkdownIt:
    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def rendered(inline) -> str:
    """The text a reader sees for an inline token (no HTML, links or images allowed in it)."""
    out = []
    for child in inline.children or []:
        assert child.type in ("text", "code_inline", "softbreak", "strong_open", "strong_close", "em_open", "em_close"), (
            f"unexpected {child.type} in {inline.content!r}"
        )
        out.append(child.content if child.type != "softbreak" else "\n")
    return "".join(out)


def visible(value: str) -> str:
    """How the callback shows a value on one line: control and invisible characters as escapes."""
    named = {
        "\n": "\\n",
        "\r": "\\r",
        "\t": "\\t",
        "\x00": "\\x00",
        "\x1b": "\\x1b",
        "\x07": "\\x07",
        "\u202e": "\\u202e",
        "\u200b": "\\u200b",
        "\u2028": "\\u2028",
    }
    return "".join(named.get(c, c) for c in value)


def structure(text: str):
    tokens = md_parser().parse(text)
    for token in tokens:
        assert token.type not in ("html_block", "html_inline"), token
        for child in token.children or []:
            assert child.type not in ("html_inline", "link_open", "image"), (child.type, token.content)
    headings = [(tok.tag, rendered(tokens[i + 1])) for i, tok in enumerate(tokens) if tok.type == "heading_open"]
    return tokens, headings


def table_rows(tokens) -> list[list[str]]:
    rows, row = [], None
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            row = []
        elif tok.type in ("th_open", "td_open"):
            row.append(rendered(tokens[i + 1]))
        elif tok.type == "tr_close":
            rows.append(row)
    return rows


def run_local(tmp_path: Path, play: str, *args: str, inventory: str, extra: dict | None = None) -> tuple[int, str, str]:
    (tmp_path / "action_plugins").mkdir(exist_ok=True)
    (tmp_path / "action_plugins" / "describe.py").write_text(TEST_ACTION)
    (tmp_path / "play.yml").write_text(play)
    (tmp_path / "hosts.yml").write_text(inventory)
    plan = tmp_path / "plan.md"
    cmd = [ANSIBLE_PLAYBOOK, "-i", str(tmp_path / "hosts.yml"), str(tmp_path / "play.yml"), *args]
    if extra is not None:
        (tmp_path / "vars.json").write_text(json.dumps(extra))
        cmd += ["-e", f"@{tmp_path / 'vars.json'}"]
    env = dict(
        os.environ,
        ANSIBLE_CONFIG=str(REPO / "ansible.cfg"),
        ANSIBLE_COLLECTIONS_PATH=str(REPO / ".collections"),
        ANSIBLE_ACTION_PLUGINS=str(tmp_path / "action_plugins"),
        ANSIBLE_CALLBACKS_ENABLED="configmgr.scp.plan_summary",
        CONFIGMGR_SCP_PLAN_FILE=str(plan),
        ANSIBLE_NOCOLOR="1",
    )
    proc = subprocess.run(cmd, cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300, check=False)
    return proc.returncode, plan.read_text(encoding="utf-8") if plan.exists() else "", proc.stdout + proc.stderr


HOSTILE_PLAY = textwrap.dedent("""\
    - name: Hostile values everywhere
      hosts: all
      gather_facts: false
      tasks:
        - name: "describe {{ evil }}"
          describe:
            value: "{{ evil }}"
            more: "{{ starts }}"

        - name: "secret {{ evil }}"
          describe:
            value: "{{ secret }}"
          no_log: true

        - name: Runs for real
          ansible.builtin.command: /bin/true
          check_mode: false
          changed_when: true

        - name: Fails with the value in its message
          ansible.builtin.fail:
            msg: "{{ evil }}"
          ignore_errors: true
    """)


def test_hostile_values_render_literally_in_a_plan(tmp_path):
    evil = HOSTILE + "\x00"
    inventory = json.dumps(
        {"all": {"hosts": {"evil|<b>#host</b>`x`": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}}
    )
    rc, text, out = run_local(
        tmp_path, HOSTILE_PLAY, "--check", "--diff", inventory=inventory, extra={"evil": evil, "starts": STARTS, "secret": PLAN_PASSWORD}
    )
    assert rc == 0, out
    assert PLAN_PASSWORD not in text
    tokens, headings = structure(text)
    host = "evil|<b>#host</b>`x`"
    assert headings == [
        ("h1", "configmgr.scp plan"),
        ("h2", "Ran for real during this plan"),
        ("h3", f"Runs for real ({host})"),
        ("h2", "Failed"),
        ("h3", f"Fails with the value in its message ({host})"),
        ("h2", "Would change"),
        ("h3", f"describe {visible(evil)} ({host})"),
        ("h3", f"secret {visible(evil)} ({host})"),  # no_log: listed by name, nothing else
        ("h2", "Recap"),
    ]
    # The module's own descriptions and warnings: one list item each, shown literally.
    items = [rendered(tokens[i + 2]) for i, tok in enumerate(tokens) if tok.type == "list_item_open"]
    assert items == [visible(evil), *STARTS, f"warning: {visible(evil)}"]
    # No nested block came out of a value: the only lists are the callback's, with no quote or heading in them.
    assert sum(tok.type == "bullet_list_open" for tok in tokens) == 1
    assert not any(tok.type in ("ordered_list_open", "blockquote_open", "code_block", "hr") for tok in tokens)
    # Fenced blocks: the failure message and the diff, each whole (their content keeps its lines).
    fences = [tok for tok in tokens if tok.type == "fence"]
    assert [f.info for f in fences] == ["text", "diff"]
    assert fences[0].content.splitlines() == visible(evil).split("\\n")
    diff = fences[1].content.splitlines()
    before = ["same", *visible(evil).split("\\n")]  # the lines the value spans
    hunk = f"@@ -{len(before) - 2},4 +{len(before) - 2},4 @@"  # three lines of context, then the change
    assert diff == [f"--- {visible(evil)}", f"+++ {visible(evil)}", hunk, *[f" {line}" for line in before[-3:]], "-old", "+new"]
    # The no_log task: named, "changes hidden", nothing of its result.
    hidden = next(i for i, (_, h) in enumerate(headings) if h.startswith("secret"))
    assert "changes hidden (no_log)" in text
    assert text.count("changes hidden (no_log)") == 1 and hidden == len(headings) - 2
    # The recap table: one row, the host's name in one cell.
    assert table_rows(tokens) == [
        ["host", "ok", "changed", "failed", "unreachable", "skipped", "rescued", "ignored"],
        [host, "4", "3", "0", "0", "0", "0", "1"],
    ]


def test_an_apply_has_its_own_heading_and_unreachable_hosts_are_listed(tmp_path):
    inventory = json.dumps(
        {
            "all": {
                "hosts": {
                    "local": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable},
                    # Nothing listens on port 9 of loopback: the connection is refused at once.
                    "gone.example": {
                        "ansible_host": "127.0.0.1",
                        "ansible_port": 9,
                        "ansible_connection": "winrm",
                        "ansible_winrm_transport": "ntlm",
                        "ansible_user": "u",
                        "ansible_password": "p",
                        "ansible_winrm_scheme": "http",
                    },
                }
            }
        }
    )
    play = textwrap.dedent("""\
        - hosts: all
          gather_facts: false
          tasks:
            - name: Describe it
              describe:
                value: a value
              when: inventory_hostname == 'local'
            - name: Reach it
              ansible.builtin.raw: whoami
              when: inventory_hostname != 'local'
            - name: Ask for a restart
              ansible.builtin.debug:
                msg: Restarting SMS_Executive
              changed_when: true
              when: inventory_hostname == 'local'
        """)
    rc, text, out = run_local(tmp_path, play, "--diff", inventory=inventory)
    assert rc != 0, out
    _, headings = structure(text)
    assert headings == [
        ("h1", "configmgr.scp apply"),
        ("h2", "Failed"),
        ("h3", "Reach it (gone.example)"),
        ("h2", "Changed"),
        ("h3", "Describe it (local)"),
        ("h3", "Ask for a restart (local)"),
        ("h2", "Recap"),
    ]
    assert "- Restarting SMS\\_Executive\n" in text
    assert "**unreachable**" in text
    assert "This run applied the changes below" in text


@pytest.mark.parametrize("value", ["plain", "ends with a backslash \\", "``` ```` `````", "~~~\n~~~~"])
def test_a_fence_is_longer_than_any_backtick_run_in_its_content(tmp_path, value):
    inventory = json.dumps({"all": {"hosts": {"local": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable}}}})
    play = '- hosts: all\n  gather_facts: false\n  tasks:\n    - name: Fails\n      ansible.builtin.fail:\n        msg: "{{ v }}"\n'
    rc, text, _ = run_local(tmp_path, play, "--check", inventory=inventory, extra={"v": value})
    assert rc != 0
    tokens, _ = structure(text)
    fences = [tok for tok in tokens if tok.type == "fence"]
    assert len(fences) == 1 and fences[0].content == value + "\n", text


# Against the lab: the role's own tasks ------------------------------------------------------------


def plan_env(plan: Path) -> dict:
    return {"ANSIBLE_CALLBACKS_ENABLED": "record_results,configmgr.scp.plan_summary", "CONFIGMGR_SCP_PLAN_FILE": str(plan)}


def test_plan_of_the_site_lists_the_hidden_account_task_and_no_secret_then_a_failure(lab):
    secrets = {
        "service_connection_point_installation_account": "LAB\\svc-cminstall",
        "service_connection_point_installation_account_password": PLAN_PASSWORD,
    }
    before = lab.state()
    plan = lab.state_dir / "plan.md"
    run = lab.playbook(SITE, "--check", "--diff", "-vvv", extra_vars=secrets, env=plan_env(plan))
    assert run.rc == 0, run.stdout
    assert lab.state() == before
    text = plan.read_text(encoding="utf-8")
    assert PLAN_PASSWORD not in text
    tokens, headings = structure(text)
    assert headings[0] == ("h1", "configmgr.scp plan")
    titles = [h for level, h in headings if level == "h3"]
    account = "service_connection_point : Create the site system installation account in ConfigMgr (cas.lab.example)"
    assert account in titles
    after_account = text.split(account.replace("_", "\\_"), 1)[1].split("\n### ", 1)[0]
    assert "changes hidden (no_log)" in after_account and "svc" not in after_account
    assert (
        "service_connection_point : Let the site install roles on the SCP server (local Administrators) "
        "(cas.lab.example → scp01.lab.example)"
    ) in titles
    # A real unified diff, in order, with a hunk header and context lines.
    scp = next(tok.content for tok in tokens if tok.type == "fence" and "+++ service connection point" in tok.content)
    assert scp.splitlines() == [
        "--- service connection point",
        "+++ service connection point",
        "@@ -1,4 +1,4 @@",
        " mode: online",
        " present: true",
        "-site_code: PS1",
        "-site_system_server: ps1.lab.example",
        "+site_code: CAS",
        "+site_system_server: scp01.lab.example",
    ]
    items = [rendered(tokens[i + 2]) for i, tok in enumerate(tokens) if tok.type == "list_item_open"]
    assert "remove the service connection point from ps1.lab.example (site PS1)" in items
    assert "add LAB\\svc-cminstall" in items

    # The same change refused (no allow_move): the failure and its message are in the plan.
    failed = lab.playbook(SITE, "--check", extra_vars={"service_connection_point_allow_move": False}, env=plan_env(plan))
    assert failed.rc != 0
    text = plan.read_text(encoding="utf-8")
    tokens, headings = structure(text)
    assert ("h2", "Failed") in headings
    assert ("h3", "service_connection_point : Install, move or remove the service connection point (cas.lab.example)") in headings
    message = next(tok.content for tok in tokens if tok.type == "fence" and tok.info == "text")
    scp_task = "service_connection_point : Install, move or remove the service connection point"
    assert message.strip() == failed.task(scp_task)["result"]["msg"]
    assert "ps1.lab.example (site PS1)" in message


def test_an_apply_through_a_real_module_with_a_hostile_description(lab):
    # No '|': Windows refuses it in a rule's description (the module refuses it before sending).
    description = "```\n# Approved by security\n<b>ok</b> `x` \u00e9 [l](https://evil.example)"
    play = lab.write_playbook(
        "rule.yml",
        textwrap.dedent("""\
        - hosts: scp_hosts
          gather_facts: false
          tasks:
            - name: A rule with a hostile description
              configmgr.scp.firewall_rule:
                name: Plan-Summary-Test
                display_name: Plan summary test
                description: "{{ description }}"
                direction: outbound
                protocol: tcp
                remote_port: ["443"]
        """),
    )
    plan = lab.state_dir / "apply.md"
    run = lab.playbook(play, "--diff", env=plan_env(plan), extra_vars={"description": description})
    assert run.rc == 0, run.stdout
    tokens, headings = structure(plan.read_text(encoding="utf-8"))
    assert headings == [
        ("h1", "configmgr.scp apply"),
        ("h2", "Changed"),
        ("h3", "A rule with a hostile description (scp01.lab.example)"),
        ("h2", "Recap"),
    ]
    diff = next(tok.content for tok in tokens if tok.type == "fence" and tok.info == "diff").splitlines()
    assert diff[0].startswith("--- ") and diff[2].startswith("@@ ")
    added = [line[1:] for line in diff if line.startswith("+") and not line.startswith("+++")]
    assert any(visible(description).split("\\n")[0] in line for line in added), diff
