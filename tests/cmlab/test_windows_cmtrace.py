"""CMTrace logs (docs/configmgr-behaviour.md#logs): both line formats byte-exact, Tracing keys, rollover to
.lo_."""

from __future__ import annotations

import datetime

import pytest
from windows_harness import WindowsLab

from cmlab.model import InvalidArgument, LogWriter
from cmlab.model.cmtrace import default_thread, rollover_path
from tests.fixtures import step

HOST = "ps1.lab.example"
LOGS = "C:\\Program Files\\Microsoft Configuration Manager\\Logs"
WHEN = datetime.datetime(2023, 9, 17, 17, 26, 15, 614000)


@pytest.fixture
def lab() -> WindowsLab:
    return WindowsLab()


def test_simple_format_byte_exact(lab):
    writer = LogWriter(lab.host(HOST), f"{LOGS}\\hman.log", "SMS_HIERARCHY_MANAGER")
    lab.host(HOST).time_zone_bias = 420  # UTC-7, as in the public hman.log sample (docs/configmgr-behaviour.md#logs)
    line = writer.write("INFO: Sending status message (MessageID = 500).", thread=7064, when=WHEN)
    assert line == (
        "INFO: Sending status message (MessageID = 500).  $$<SMS_HIERARCHY_MANAGER><09-17-2023 17:26:15.614+420><thread=7064 (0x1B98)>\r\n"
    )
    assert lab.host(HOST).fs.file(f"{LOGS}\\hman.log").content.encode() == line.encode()


def test_full_format_byte_exact_and_bias_from_epoch(lab):
    host = lab.host(HOST)
    writer = LogWriter(host, "C:\\Windows\\CCM\\Logs\\x.log", "X", fmt="full")
    assert (
        writer.write("new message 0x87D00692", when=datetime.datetime(2026, 9, 30, 10, 0), thread=1)
        == '<![LOG[new message 0x87D00692]LOG]!><time="10:00:00.000+000" date="09-30-2026" component="X" context="" '
        'type="1" thread="1" file="">\r\n'
    )
    host.time_zone_bias = -120  # UTC+2
    epoch = datetime.datetime(2026, 1, 2, 3, 4, 5, 6000, tzinfo=datetime.timezone.utc).timestamp()
    assert (
        writer.format("boom", severity=3, thread=8, when=epoch, source_file="x.cpp")
        == '<![LOG[boom]LOG]!><time="05:04:05.006-120" date="01-02-2026" component="X" context="" type="3" '
        'thread="8" file="x.cpp">'
    )
    assert default_thread("X") % 4 == 0 and default_thread("X") == default_thread("x")


def test_tracing_key_names_the_log(lab):
    writer = lab.host(HOST).executive.log("SMS_TEST_COMPONENT", "testcomp.log")
    assert writer.path == f"{LOGS}\\testcomp.log"
    out = lab.ok(
        step(
            "t",
            "Get-ItemProperty",
            {"TraceFilename": None, "MaxFileSize": None, "LoggingLevel": None},
            LiteralPath="HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\SMS_TEST_COMPONENT",
        ),
        host=HOST,
    )
    assert out["t"] == [{"TraceFilename": f"{LOGS}\\testcomp.log", "MaxFileSize": 250000, "LoggingLevel": 1}]
    assert lab.host(HOST).executive.log("sms_test_component", "other.log") is writer


def test_rollover_then_get_content_tail(lab):
    host = lab.host(HOST)
    path = f"{LOGS}\\rolling.log"
    writer = LogWriter(host, path, "SMS_ROLLING", max_size=400)
    lines = [writer.write(f"line {i:02d}", thread=4, when=WHEN).rstrip("\r\n") for i in range(12)]
    assert rollover_path(path) == f"{LOGS}\\rolling.lo_"
    old, new = host.fs.file(rollover_path(path)), host.fs.file(path)
    assert old.size <= 400 and new.size <= 400 and old.lines() + new.lines() == lines[-len(old.lines() + new.lines()) :]
    out = lab.ok(
        step("tail", "Get-Content", Path=[path], Tail=2),
        step("old", "Get-Content", Path=[rollover_path(path)], Tail=1),
        step("both", "Get-ChildItem", None, Path=f"{LOGS}\\rolling.lo*", Name=True),
        host=HOST,
    )
    assert out["tail"] == lines[-2:] and out["old"] == [old.lines()[-1]]
    assert out["both"] == ["rolling.lo_", "rolling.log"]
    assert lab.dump_host(HOST)["files"][path] == {"bytes": new.size, "lines": len(new.lines())}


def test_max_file_size_from_the_tracing_key(lab):
    host = lab.host(HOST)
    writer = LogWriter(host, f"{LOGS}\\small.log", "SMS_SMALL", max_size=100_000)
    lab.ok(
        step("s", "Set-ItemProperty", LiteralPath="HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\SMS_SMALL", Name="MaxFileSize", Value=120),
        host=HOST,
    )
    for i in range(3):
        writer.write(f"entry {i}", thread=4, when=WHEN)
    assert host.fs.kind(f"{LOGS}\\small.lo_") == "leaf" and host.fs.file(f"{LOGS}\\small.log").size <= 120


def test_bad_format_or_severity():
    lab = WindowsLab()
    with pytest.raises(InvalidArgument, match="log format"):
        LogWriter(lab.host(HOST), f"{LOGS}\\x.log", "X", fmt="xml")
    with pytest.raises(InvalidArgument, match="severity"):
        LogWriter(lab.host(HOST), f"{LOGS}\\x.log", "X").write("m", severity=4)
