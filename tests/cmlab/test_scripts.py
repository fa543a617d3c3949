"""The dispatcher: the bootstrap is recognised, everything else gets Windows' own refusal."""

from __future__ import annotations

import base64
import json

import pytest

from cmlab.costmodel import DEFAULT_FIGURES, CostModel
from cmlab.engine import Engine, bootstrap_module, load_catalog
from cmlab.scripts import ENGINE_FILE, ScriptDispatcher, normalise_source
from cmlab.topology import load_topology

B = bootstrap_module()
PAYLOAD = json.dumps(
    {
        "protocol": 1,
        "provider": None,
        "steps": [
            {
                "id": "svc",
                "cmdlet": "Get-Service",
                "provider": None,
                "params": {"Name": "WinRM"},
                "select": {"Status": None},
                "on_error": "stop",
            }
        ],
        "secrets": {},
    }
)


@pytest.fixture
def dispatcher() -> ScriptDispatcher:
    model = load_topology("inventories/lab/cmlab.yml").build_model("Scripts-Test-1!")
    return ScriptDispatcher(Engine(model, load_catalog()))


def engine_text() -> str:
    return ENGINE_FILE.read_text(encoding="utf-8")


def test_bootstrap_runs_the_engine(dispatcher):
    outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, B.build_stdin(engine_text(), PAYLOAD))
    assert outcome.rc == 0 and outcome.stderr == b""
    text = outcome.stdout.decode("ascii")
    assert text.endswith(B.RESULT_END + "\r\n")
    doc = json.loads(text[len(B.RESULT_START) : text.index(B.RESULT_END)])
    assert doc["steps"][0]["output"] == [{"Status": "Running"}]


def test_engine_compared_after_normalising_line_ends(dispatcher):
    crlf = "\r\n".join(line + "  " for line in engine_text().split("\n"))
    outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, B.build_stdin(crlf, PAYLOAD))
    assert outcome.rc == 0 and B.RESULT_START.encode() in outcome.stdout


def test_other_engine_refused(dispatcher):
    outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, B.build_stdin("Write-Output 'pwned'", PAYLOAD))
    assert outcome.rc == 1 and outcome.stdout == b""
    assert outcome.stderr.startswith(b"#< CLIXML\r\n") and b"not this checkout" in outcome.stderr


def test_an_engine_without_a_region_the_plan_needs_is_refused(dispatcher):
    # A runner that leaves out the cmsite region for a ConfigMgr step, or sends the secrets region with a plan
    # that has none: not the engine the runner sends for this payload (_protocol.engine_features).
    configmgr = json.dumps({"protocol": 1, "steps": [{"id": "s", "cmdlet": "Get-CMAccount", "provider": "cmsite"}]})
    assert B.engine_features(configmgr) == {"provider", "cmsite"}
    for features in ({"provider"}, {"provider", "cmsite", "secrets"}, B.ENGINE_FEATURES):
        stdin = B.pack_stdin(B.minify(engine_text(), features), configmgr)
        outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, stdin)
        assert outcome.rc == 1 and outcome.stdout == b"" and b"not this checkout" in outcome.stderr, features
    # The engine without regions for a plain read, and the variant the plan needs, run.
    assert dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, B.pack_stdin(B.minify(engine_text(), ()), PAYLOAD)).rc == 0
    exact = B.pack_stdin(B.minify(engine_text(), {"provider", "cmsite"}), configmgr)
    assert B.unframe(dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, exact).stdout.decode("ascii"))


def test_missing_engine_file_accepts_any_engine(tmp_path):
    model = load_topology("inventories/lab/cmlab.yml").build_model("x-Test-1!")
    dispatcher = ScriptDispatcher(Engine(model, load_catalog()), engine_file=tmp_path / "absent.ps1")
    outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, B.build_stdin("anything", PAYLOAD))
    assert outcome.rc == 0


def test_bootstrap_without_separator(dispatcher):
    outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, b"just text\n")
    # What the bootstrap's $s.Remove(-1) makes PowerShell write (an error record, exit code 1).
    assert outcome.rc == 1 and b"StartIndex cannot be less than zero." in outcome.stderr
    assert outcome.stderr.startswith(b"#< CLIXML")


def test_other_powershell_is_not_executed(dispatcher):
    script = base64.b64encode("Get-Process | Select-Object -First 1".encode("utf-16-le")).decode()
    outcome = dispatcher.run("cas.lab.example", B.COMMAND_PREFIX + script, b"")
    assert outcome.rc == 1 and outcome.stdout == b""
    assert outcome.stderr == (
        b'#< CLIXML\r\n<Objs Version="1.1.0.1" xmlns="http://schemas.microsoft.com/powershell/2004/04"><S S="Error">'
        b"The term 'Get-Process' is not recognized as the name of a cmdlet, function, script file, or operable program. "
        b"Check the spelling of the name, or if a path was included, verify that the path is correct and try again."
        b"_x000D__x000A_</S></Objs>"
    )


def test_powershell_command_and_bad_encoding(dispatcher):
    outcome = dispatcher.run("cas.lab.example", 'powershell.exe -NoProfile -Command "& { whoami }"', b"")
    assert outcome.rc == 1 and b"The term" in outcome.stderr and b"whoami" not in outcome.stdout
    bad = dispatcher.run("cas.lab.example", "PowerShell -EncodedCommand !!!notbase64", b"")
    assert bad.rc == 1 and b"not properly encoded" in bad.stderr


def test_cmd_commands_are_not_recognized(dispatcher):
    outcome = dispatcher.run("cas.lab.example", "ipconfig /all", b"")
    assert outcome.rc == 1 and outcome.stdout == b""
    assert outcome.stderr == (b"'ipconfig' is not recognized as an internal or external command,\r\noperable program or batch file.\r\n")


def test_normalise_source():
    assert normalise_source("a  \r\nb\t\r\n\r\n") == normalise_source("a\nb") == "a\nb"


def test_the_bootstrap_encoded_again_runs_as_windows_runs_it(dispatcher):
    # ansible-core 2.16-2.18's winrm plugin encodes an already encoded command once more: Windows
    # starts powershell.exe, which starts powershell.exe with the bootstrap (stdin is inherited).
    twice = B.encode_command(B.BOOTSTRAP_COMMAND)
    dispatcher.engine.accounting.cost_model = CostModel()
    outcome = dispatcher.run("cas.lab.example", twice, B.build_stdin(engine_text(), PAYLOAD))
    assert outcome.rc == 0 and B.unframe(outcome.stdout.decode("ascii"))
    starts = dispatcher.engine.accounting.snapshot()["cas.lab.example"]["estimated_windows_breakdown"]["powershell_start"]
    assert starts == 2 * DEFAULT_FIGURES["powershell_start"]
    # Three levels, or the bootstrap with anything added, is not the bootstrap: never executed.
    for line in (B.encode_command(twice), B.encode_command(B.BOOTSTRAP + ";whoami"), B.BOOTSTRAP_COMMAND + " -x"):
        assert dispatcher.run("cas.lab.example", line, B.build_stdin(engine_text(), PAYLOAD)).rc == 1


def test_in_a_psrp_runspace_no_powershell_starts_and_the_module_stays_loaded(dispatcher):
    dispatcher.engine.accounting.cost_model = CostModel()
    runspace: dict = {}
    configmgr = json.dumps(
        {
            "protocol": 1,
            "provider": {},
            "secrets": {},
            "steps": [{"id": "s", "cmdlet": "Get-CMAccount", "provider": "cmsite", "params": {}, "select": None}],
        }
    )
    for _ in range(2):
        outcome = dispatcher.run("cas.lab.example", B.BOOTSTRAP_COMMAND, B.build_stdin(engine_text(), configmgr), runspace=runspace)
        assert outcome.rc == 0
    estimate = dispatcher.engine.accounting.snapshot()["cas.lab.example"]["estimated_windows_breakdown"]
    assert "powershell_start" not in estimate  # the pool's, charged when it opens
    assert estimate["module_import"] == DEFAULT_FIGURES["module_import"]  # once for two pipelines
    assert estimate["cmsite_drive"] == DEFAULT_FIGURES["cmsite_drive"]
    assert estimate["engine_load"] == 2 * DEFAULT_FIGURES["engine_load"]


def test_the_bootstrap_command_is_read_as_windows_reads_it(dispatcher):
    """ansible-core 2.21's winrm plugin encodes the bootstrap script itself and spells the executable
    `powershell`: Windows reads the executable and parameter names without case, and so does the lab. The
    base64 text, the script, is compared exactly."""
    encoded = B.BOOTSTRAP_COMMAND.rsplit(" ", 1)[1]
    stdin = B.build_stdin(engine_text(), PAYLOAD)
    for line in (
        "powershell -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand " + encoded,
        B.COMMAND_PREFIX.upper() + encoded,
    ):
        outcome = dispatcher.run("cas.lab.example", line, stdin)
        assert outcome.rc == 0 and B.RESULT_START.encode() in outcome.stdout, line[:20]
    for line in (
        B.COMMAND_PREFIX + encoded.swapcase(),  # another text
        B.encode_command(B.BOOTSTRAP.replace("'Stop'", "'Continue'")),  # another script
        "pwsh -NoProfile -NonInteractive -ExecutionPolicy Unrestricted -EncodedCommand " + encoded,
    ):
        outcome = dispatcher.run("cas.lab.example", line, stdin)
        assert outcome.rc != 0 and B.RESULT_START.encode() not in outcome.stdout, line[:20]
