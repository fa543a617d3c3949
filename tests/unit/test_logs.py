"""log_info: where a log is looked for, what the engine is asked for (bounded), and how what comes back is
parsed and filtered on the controller."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleActionFail

from ansible_collections.configmgr.scp.plugins.action import log_info
from ansible_collections.configmgr.scp.plugins.plugin_utils import _logs, _validation
from ansible_collections.configmgr.scp.plugins.plugin_utils._runner import PlanResult, StepResult

FOLDER = "D:\\SMS\\Logs"
SIMPLE = "{msg}  $$<SMS_DMP_DOWNLOADER><11-29-2026 {hm}:00.000+240><thread=4 (0x4)>\r\n"
FULL = (
    '<![LOG[{msg}]LOG]!><time="{hm}:00.000-60" date="11-29-2026" component="CMGatewaySyncUploadWorker" '
    'context="" type="{type}" thread="12" file="worker.cs">\r\n'
)


def ok(step, output):
    return step, StepResult(step, True, output if isinstance(output, list) else [output], None)


def failed(step):
    return step, StepResult(step, False, [], {"message": "Cannot find path"})


def file_row(name, data):
    return {"Name": name, "FullName": f"{FOLDER}\\{name}", "Length": len(data), "LastWriteTime": "2026-11-29T10:00:00Z"}


def read(logs, files, component="SMS_DMP_DOWNLOADER", prefix=""):
    """A PlanResult as the engine returns it: the tracing key and folder, then per log its file and bytes."""
    anchor = prefix + "dir_" + component.lower()
    steps = dict(
        [
            ok(prefix + "trace_" + component.lower(), {"TraceFilename": f"{FOLDER}\\x.log"}),
            ok(anchor, {"FullName": f"{FOLDER}\\x.log", "DirectoryName": FOLDER}),
        ]
    )
    for index, log in enumerate(logs):
        for kind, name in (("log", log.name), ("rolled", _logs.rolled_name(log.name))):
            data = files.get(name)
            file_step, bytes_step = (f"log_{index}", f"bytes_{index}") if kind == "log" else (f"rolled_{index}", f"rolled_bytes_{index}")
            if data is None:
                steps.update([ok(file_step, []), failed(bytes_step)])
            else:
                steps.update([ok(file_step, file_row(name, data)), ok(bytes_step, list(data))])
    return PlanResult(steps)


def test_named_logs_are_found_through_their_component_others_through_smsexec():
    assert _logs.LogRead.of("dmpdownloader.LOG") == _logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")
    assert _logs.LogRead.of("EndpointConnectivityCheckWorker.log").component == "SMS_SERVICE_CONNECTOR"
    assert _logs.LogRead.of("sitecomp.log").component == "SMS_SITE_COMPONENT_MANAGER"
    assert _logs.LogRead.of("SrvBoot.log") == _logs.LogRead("SrvBoot.log", "SMS_EXECUTIVE")
    assert _logs.LogRead.of("hman.log") == _logs.LogRead("hman.log", "SMS_EXECUTIVE")


def test_the_plan_reads_a_bounded_tail_by_exact_name_in_the_recorded_folder():
    logs = [_logs.LogRead.of("Dmpdownloader.log"), _logs.LogRead.of("SrvBoot.log"), _logs.LogRead.of("hman.log")]
    plan = _logs.read_plan(logs, 4096)
    steps = {s.id: s for s in plan.steps}
    # One tracing key and one folder per component, shared by the logs of that folder.
    assert [s.id for s in plan.steps if s.id.startswith("trace_")] == ["trace_sms_dmp_downloader", "trace_sms_executive"]
    assert steps["trace_sms_executive"].params == {"LiteralPath": "HKLM:\\SOFTWARE\\Microsoft\\SMS\\Tracing\\SMS_EXECUTIVE"}
    assert steps["log_1"].params["Filter"] == "SrvBoot.log" and steps["rolled_1"].params["Filter"] == "SrvBoot.lo_"
    assert steps["log_1"].params["LiteralPath"] == {"$ref": "dir_sms_executive", "property": "DirectoryName"}
    assert steps["bytes_2"].params == {"LiteralPath": {"$ref": "log_2", "property": "FullName"}, "Encoding": "Byte", "Tail": 4096}
    assert all(s.on_error == "continue" for s in plan.steps)
    assert {s.cmdlet for s in plan.steps} == {"Get-ItemProperty", "Get-ChildItem", "Get-Content"}
    assert len(_logs.read_plan(logs, 4096, rollover=False).steps) == 2 * 2 + 3 * 2


def test_rolled_over_entries_come_first_and_both_formats_parse():
    log = _logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")
    older = SIMPLE.format(msg="SMS_DMP_DOWNLOADER started. Service connection point mode: Online~~", hm="8:00")
    newer = SIMPLE.format(msg="ERROR: Failed to download", hm="9:00") + FULL.format(msg="line one\r\nline two", hm="15:01", type=2)
    results = _logs.parse(read([log], {"Dmpdownloader.lo_": older.encode(), "Dmpdownloader.log": newer.encode()}), [log])
    entries = results[0].entries
    assert [e.message for e in entries] == [
        "SMS_DMP_DOWNLOADER started. Service connection point mode: Online~~",
        "ERROR: Failed to download",
        "line one\nline two",
    ]
    # +240 is UTC-4, -60 is UTC+1: one timeline in UTC.
    assert [e.time for e in entries] == ["2026-11-29T12:00:00.000+00:00", "2026-11-29T13:00:00.000+00:00", "2026-11-29T14:01:00.000+00:00"]
    assert [e.severity for e in entries] == ["info", "error", "warning"] and entries[2].type == 2
    assert results[0].to_dict()["rolled_over"]["complete"] is True


def test_a_tail_read_drops_the_partial_first_line_and_keeps_a_cut_last_record():
    log = _logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")
    text = (SIMPLE.format(msg="first", hm="8:00") + SIMPLE.format(msg="second", hm="8:01") + "third, being writ").encode()
    tail = text[10:]  # the read started in the middle of the first line
    result = read([log], {"Dmpdownloader.log": text})
    result.steps["bytes_0"] = StepResult("bytes_0", True, list(tail), None)
    entries = _logs.parse(result, [log])[0].entries
    assert [e.message for e in entries] == ["second", "third, being writ"]
    assert entries[-1].truncated and not entries[0].truncated


def test_a_utf16_tail_read_from_an_odd_offset_is_realigned():
    log = _logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")
    text = (SIMPLE.format(msg="first", hm="8:00") + SIMPLE.format(msg="second ü", hm="8:01")).encode("utf-16-le")
    result = read([log], {"Dmpdownloader.log": text})
    result.steps["bytes_0"] = StepResult("bytes_0", True, list(text[41:]), None)  # odd: mid-character
    assert [e.message for e in _logs.parse(result, [log])[0].entries] == ["second ü"]


def test_a_missing_log_or_component_is_reported_not_failed():
    log = _logs.LogRead.of("CMGatewayNotificationWorker.log")
    missing = _logs.parse(read([log], {}, component="SMS_EXECUTIVE"), [log])[0]
    assert not missing.log.found and missing.problem == f"CMGatewayNotificationWorker.log is not in {FOLDER}."
    no_component = PlanResult(
        dict(
            [
                failed("trace_sms_executive"),
                failed("dir_sms_executive"),
                ok("log_0", []),
                failed("bytes_0"),
                ok("rolled_0", []),
                failed("rolled_bytes_0"),
            ]
        )
    )
    problem = _logs.parse(no_component, [log])[0].problem
    assert "ConfigMgr records no log for SMS_EXECUTIVE" in problem


def test_only_the_file_asked_for_in_the_folder_asked_for_is_read():
    log = _logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")
    result = read([log], {"Dmpdownloader.log": b"x  $$<C><11-29-2026 8:00:00.000+0><thread=1 (0x1)>\r\n"})
    result.steps["log_0"].output[0]["FullName"] = "C:\\Elsewhere\\Dmpdownloader.log"
    assert not _logs.parse(result, [log])[0].log.found


def want(**kw):
    args = {
        "logs": [_logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")],
        "max_bytes": 100,
        "rollover": True,
        "tail": 0,
        "filters": _logs.Filters(),
        "query": None,
    }
    args.update(kw)
    return log_info.Want(**args)


def test_filters_tail_and_query_over_every_match():
    log = _logs.LogRead("Dmpdownloader.log", "SMS_DMP_DOWNLOADER")
    text = "".join(
        SIMPLE.format(msg=m, hm=f"8:0{i}")
        for i, m in enumerate(["Download manifest.cab", "WARNING: Retry", "ERROR: Failed one", "ERROR: Failed two"])
    ).encode()
    logs = _logs.parse(read([log], {"Dmpdownloader.log": text}), [log])
    import jmespath

    out = log_info.result(
        logs, want(tail=1, filters=_logs.Filters(min_severity="warning"), query=jmespath.compile("length([?severity=='error'])"))
    )
    assert out["entries_matched"] == 3 and out["truncated"]
    assert [e["message"] for e in out["entries"]] == ["ERROR: Failed two"]
    assert out["query_result"] == 2
    regex = log_info.result(logs, want(filters=_logs.Filters(regex=_validation.regex("^Download"))))
    assert [e["message"] for e in regex["entries"]] == ["Download manifest.cab"]
    since = log_info.result(logs, want(filters=_logs.Filters(since=_validation.since("2026-11-29T12:02:00Z"))))
    assert [e["message"] for e in since["entries"]] == ["ERROR: Failed one", "ERROR: Failed two"]
    assert log_info.result(logs, want(filters=_logs.Filters(component=("sms_dmp_downloader",))))["entries_matched"] == 4
    assert log_info.result(logs, want(filters=_logs.Filters(component=("other",))))["entries_matched"] == 0


@pytest.mark.parametrize(
    "name",
    [
        "..\\..\\Windows\\win.ini",
        "../x.log",
        "C:\\SMS\\Logs\\x.log",
        "*.log",
        "dmp?.log",
        "x[1].log",
        "DMPDOW~1.LOG",
        "x.txt",
        "x.lo_",
        "",
        " x.log",
        "x.log\r\n",
        "a..log",
        "\\\\server\\share\\x.log",
        "x.log:stream",
        "$(calc).log",
    ],
)
def test_a_log_name_is_one_file_name_of_the_logs_folder(name):
    with pytest.raises(AnsibleActionFail, match="name must be the file name of a ConfigMgr log"):
        _validation.log_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "Dmpdownloader.log",
        "sitecomp.log",
        "SMS_CLOUDCONNECTION.log",
        "CMGatewaySyncUploadWorker.log",
        "ccmsetup-20260101-101010.log",
        "x(1).log",
    ],
)
def test_log_names_that_are_accepted(name):
    assert _validation.log_name(name) == name


def test_a_bad_regex_or_query_is_refused_naming_the_option():
    with pytest.raises(AnsibleActionFail, match="regex is not a valid regular expression"):
        _validation.regex("([")
    with pytest.raises(AnsibleActionFail, match="query is not a valid JMESPath expression"):
        _validation.jmespath_query("[?")
