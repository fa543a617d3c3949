"""The CMTrace log parser (plugins/plugin_utils/_cmtrace.py) on real-shaped lines of both formats.

Formats and rollover: docs/configmgr-behaviour.md#logs. What a user of `log_info` would notice: the
right UTC time for each line, multi-line messages kept whole, nothing lost at a cut-off end, the
older `.lo_` file before the current log, severities as CMTrace shows them, and the filters.
"""

from __future__ import annotations

import datetime

import pytest

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace
from cmlab.model import cmtrace as lab_cmtrace

# Simple format, as SMS_EXECUTIVE components write it (two spaces before $$<, CRLF).
HMAN = (
    "INFO: AddAIUsersToAIToolsDBRole, User [CONTOSO\\cmadmin] is added to role SMSDBROLE_AITOOL. "
    "$$<SMS_HIERARCHY_MANAGER><09-17-2023 17:26:15.614+420><thread=7064 (0x1B98)>\r\n"
)
DMP = (
    "Download manifest.cab~~  $$<SMS_DMP_DOWNLOADER><08-02-2026 14:20:24.003+240><thread=7568 (0x1D90)>\r\n"
    "WARNING: Failed to download easy setup payload with exception: The underlying connection was closed: "
    "Could not establish trust relationship for the SSL/TLS secure channel.~~  "
    "$$<SMS_DMP_DOWNLOADER><08-02-2026 14:20:25.110+240><thread=10760 (0x2A08)>\r\n"
    "WARNING: Retry in the next polling cycle~~  $$<SMS_DMP_DOWNLOADER><08-02-2026 14:20:25.111+240>"
    "<thread=10760 (0x2A08)>\r\n"
    "ERROR: Failed to call AdminUIContentDownload. error = Error -2146233079~~  "
    "$$<SMS_DMP_DOWNLOADER><08-02-2026 14:20:26.500+240><thread=10760 (0x2A08)>\r\n"
)
# Full format with one-digit month, day and hour, as CCM-style writers produce it.
FULL = (
    "<![LOG[Connectivity check for https://aka.ms/configmgrgateway succeeded.]LOG]!>"
    '<time="9:05:03.120+000" date="3-5-2026" component="EndpointConnectivityCheckWorker" context="" '
    'type="1" thread="4412" file="endpointcheck.cs:88">\r\n'
    "<![LOG[Proxy returned 407 for https://login.microsoftonline.com]LOG]!>"
    '<time="9:05:04.500+000" date="3-5-2026" component="EndpointConnectivityCheckWorker" context="" '
    'type="2" thread="4412" file="endpointcheck.cs:97">\r\n'
    "<![LOG[Critical endpoint check failed: timeout]LOG]!>"
    '<time="9:05:34.501+000" date="3-5-2026" component="EndpointConnectivityCheckWorker" context="" '
    'type="3" thread="4412" file="endpointcheck.cs:101">\r\n'
)


def parse(text: str, **kw):
    return _cmtrace.parse(text, source=kw.pop("source", "test.log"), **kw)


def test_simple_line_gives_component_thread_and_utc_time_from_the_bias():
    [entry] = parse(HMAN, source="hman.log")
    assert entry.component == "SMS_HIERARCHY_MANAGER"
    assert entry.thread == 7064
    assert entry.message.startswith("INFO: AddAIUsersToAIToolsDBRole") and entry.message.endswith("SMSDBROLE_AITOOL.")
    # +420 minutes: the server's clock is UTC-7, so 17:26 local is 00:26 UTC the next day.
    assert entry.local_time == "2023-09-17T17:26:15.614-07:00"
    assert entry.time == "2023-09-18T00:26:15.614+00:00"
    assert entry.bias_minutes == 420
    assert entry.utc == datetime.datetime(2023, 9, 18, 0, 26, 15, 614000, tzinfo=datetime.timezone.utc)
    assert (entry.source, entry.line_no, entry.format, entry.type, entry.file) == ("hman.log", 1, "simple", None, "")


def test_simple_format_severity_is_inferred_from_the_words_as_cmtrace_highlights_them():
    entries = parse(DMP)
    assert [e.severity for e in entries] == ["info", "warning", "warning", "error"]
    assert all(e.type is None for e in entries)  # no severity field in this format
    assert [e.line_no for e in entries] == [1, 2, 3, 4]
    assert entries[1].message.endswith("SSL/TLS secure channel.~~")  # trailing spaces before $$< dropped


def test_full_format_with_one_digit_month_day_and_hour():
    entries = parse(FULL)
    assert [e.time for e in entries] == ["2026-03-05T09:05:03.120+00:00", "2026-03-05T09:05:04.500+00:00", "2026-03-05T09:05:34.501+00:00"]
    assert [e.type for e in entries] == [1, 2, 3]
    assert [e.severity for e in entries] == ["info", "warning", "error"]
    assert entries[1].component == "EndpointConnectivityCheckWorker"
    assert entries[1].thread == 4412
    assert entries[1].file == "endpointcheck.cs:97"
    assert entries[2].local_time == "2026-03-05T09:05:34.501+00:00"


@pytest.mark.parametrize(
    ("stamp", "utc"),
    [
        ("12-31-2026 23:30:00.000-120", "2026-12-31T21:30:00.000+00:00"),  # UTC+2: earlier in UTC
        ("12-31-2026 23:30:00.000+120", "2027-01-01T01:30:00.000+00:00"),  # UTC-2: into the next year
        ("02-28-2028 23:59:59.999+060", "2028-02-29T00:59:59.999+00:00"),  # a leap day
        ("07-01-2026 00:15:00.000-330", "2026-06-30T18:45:00.000+00:00"),  # India, half-hour offset
        ("07-01-2026 08:00:00.000+000", "2026-07-01T08:00:00.000+00:00"),
    ],
)
def test_positive_and_negative_bias(stamp, utc):
    [entry] = parse(f"Heartbeat  $$<SMS_SERVICE_CONNECTOR><{stamp}><thread=100 (0x64)>\r\n")
    assert entry.time == utc


def test_negative_bias_in_the_full_format_gives_the_local_offset():
    [entry] = parse('<![LOG[x]LOG]!><time="10:00:00.000-060" date="11-2-2026" component="C" context="" type="1" thread="8" file="">')
    assert entry.local_time == "2026-11-02T10:00:00.000+01:00"
    assert entry.time == "2026-11-02T09:00:00.000+00:00"


def test_multi_line_messages_in_both_formats_stay_whole_and_line_numbers_follow():
    simple = (
        "Executing SQL statement:\r\nSELECT SiteCode FROM vSMS_SC_SysResUse\r\n"
        "WHERE RoleName = 'SMS Dmp Connector'  $$<SMS_SITE_COMPONENT_MANAGER><03-15-2026 09:00:00.000+240>"
        "<thread=4 (0x4)>\r\n"
        "Done.  $$<SMS_SITE_COMPONENT_MANAGER><03-15-2026 09:00:01.000+240><thread=4 (0x4)>\r\n"
    )
    first, second = parse(simple)
    assert first.message == ("Executing SQL statement:\nSELECT SiteCode FROM vSMS_SC_SysResUse\nWHERE RoleName = 'SMS Dmp Connector'")
    assert (first.line_no, second.line_no) == (1, 4)
    assert second.message == "Done."

    full = (
        "<![LOG[Exception: System.Net.WebException\r\n   at System.Net.HttpWebRequest.GetResponse()\r\n"
        '   at Dmp.Download()]LOG]!><time="14:20:25.110+240" date="08-02-2026" component="SMS_DMP_DOWNLOADER" '
        'context="" type="3" thread="10760" file="">\r\n'
        '<![LOG[Next]LOG]!><time="14:20:26.000+240" date="08-02-2026" component="SMS_DMP_DOWNLOADER" '
        'context="" type="1" thread="10760" file="">\r\n'
    )
    first, second = parse(full)
    assert first.message.splitlines() == [
        "Exception: System.Net.WebException",
        "   at System.Net.HttpWebRequest.GetResponse()",
        "   at Dmp.Download()",
    ]
    assert (first.line_no, second.line_no) == (1, 4)


@pytest.mark.parametrize("cut", [10, 40, 70, 95])
def test_a_truncated_last_simple_line_is_kept_as_a_truncated_entry(cut):
    last = "ERROR: Failed to download manifest  $$<SMS_DMP_DOWNLOADER><08-02-2026 14:20:27.000+240><thread=4 (0x4)>"
    entries = parse(DMP + last[:cut])
    assert len(entries) == 5
    assert [e.truncated for e in entries] == [False] * 4 + [True]
    tail = entries[-1]
    assert tail.time is None and tail.line_no == 5
    assert last[:cut].startswith(tail.message)
    assert tail.component in ("", "SMS_DMP_DOWNLOADER")  # never a cut-off component name


def test_a_truncated_last_full_record_is_kept_as_a_truncated_entry():
    entries = parse(FULL + "<![LOG[Uploading usage data to the cloud serv")
    assert len(entries) == 4
    assert entries[-1].truncated and entries[-1].message == "Uploading usage data to the cloud serv"
    assert entries[-1].format == "full" and entries[-1].time is None
    entries = parse(FULL + '<![LOG[Uploaded]LOG]!><time="9:06:00.000+000" date="3-5-2026" compo')
    assert entries[-1].truncated and entries[-1].message == "Uploaded"


def test_a_tail_read_that_starts_in_the_middle_of_a_line_drops_the_fragment():
    text = DMP[30:]  # starts inside the first line
    entries = parse(text, skip_partial_first_line=True)
    assert [e.severity for e in entries] == ["warning", "warning", "error"]
    assert entries[0].line_no == 2
    full_tail = FULL[FULL.index("component=") :]  # starts inside the first record
    entries = parse(full_tail, skip_partial_first_line=True)
    assert [e.type for e in entries] == [2, 3] and not any(e.truncated for e in entries)


def test_utf8_with_a_bom_and_utf16_le_decode_to_the_same_entries():
    expected = parse(DMP)
    for data in (
        b"\xef\xbb\xbf" + DMP.encode("utf-8"),
        DMP.encode("utf-8"),
        b"\xff\xfe" + DMP.encode("utf-16-le"),
        DMP.encode("utf-16-le"),
        b"\xfe\xff" + DMP.encode("utf-16-be"),
    ):
        text = _cmtrace.decode(data)
        assert parse(text) == expected
    # A BOM left in the text (decoded as plain UTF-8 elsewhere) does not end up in the first message.
    [entry] = parse("\ufeff" + HMAN)
    assert entry.message.startswith("INFO:") and entry.line_no == 1


def test_non_ascii_text_survives_decoding():
    line = "Benutzer CONTOSO\\Jürgen hinzugefügt  $$<SMS_HIERARCHY_MANAGER><01-02-2026 03:04:05.006+000><thread=1 (0x1)>"
    [entry] = parse(_cmtrace.decode(b"\xef\xbb\xbf" + line.encode("utf-8")))
    assert entry.message == "Benutzer CONTOSO\\Jürgen hinzugefügt"


def test_rollover_puts_the_older_lo_file_before_the_current_log():
    old = "Old line  $$<SMS_DMP_DOWNLOADER><08-01-2026 23:59:59.000+240><thread=4 (0x4)>\r\n"
    entries = _cmtrace.parse_files(
        {"C:\\SMS\\Logs\\dmpdownloader.log": DMP, "C:\\SMS\\Logs\\dmpdownloader.lo_": old, "C:\\SMS\\Logs\\SrvBoot.log": HMAN}
    )
    assert [e.source for e in entries] == (
        ["C:\\SMS\\Logs\\dmpdownloader.lo_"] + ["C:\\SMS\\Logs\\dmpdownloader.log"] * 4 + ["C:\\SMS\\Logs\\SrvBoot.log"]
    )
    assert entries[0].message == "Old line" and entries[0].line_no == 1 and entries[1].line_no == 1
    times = [e.time for e in entries[:5]]
    assert times == sorted(times)


def test_date_stamped_history_files_come_before_lo_and_log():
    def line(message: str) -> str:
        return f"{message}  $$<SMS_SITE_COMPONENT_MANAGER><03-15-2026 09:00:00.000+000><thread=4 (0x4)>\r\n"

    entries = _cmtrace.parse_files(
        [("sitecomp.log", line("current")), ("sitecomp.lo_", line("previous")), ("sitecomp-20260301-120000.log", line("history"))]
    )
    assert [e.message for e in entries] == ["history", "previous", "current"]


def test_a_time_without_bias_has_no_utc_time_unless_a_default_bias_is_given():
    text = '<![LOG[No bias here]LOG]!><time="10:00:00.000" date="09-30-2026" component="X" context="" type="1" thread="1" file="">'
    [entry] = parse(text)
    assert entry.time is None and entry.local_time == "2026-09-30T10:00:00.000" and entry.bias_minutes is None
    [entry] = parse(text, bias_default=-120)
    assert entry.time == "2026-09-30T08:00:00.000+00:00" and entry.bias_minutes == -120


def test_an_impossible_date_keeps_the_record_without_a_time():
    [entry] = parse("Odd  $$<SMS_EXECUTIVE><13-45-2026 09:00:00.000+000><thread=4 (0x4)>\r\n")
    assert entry.message == "Odd" and entry.time is None and entry.local_time is None and not entry.truncated


def test_both_formats_in_one_text_keep_their_order():
    entries = parse(HMAN + FULL + DMP)
    assert [e.format for e in entries] == ["simple"] + ["full"] * 3 + ["simple"] * 4
    assert [e.line_no for e in entries] == list(range(1, 9))


def test_lines_written_by_cmlab_parse_back_to_the_time_they_were_written():
    # cmlab's writer (cmlab/model/cmtrace.py) is what integration tests read back through log_info.
    when = datetime.datetime(2026, 1, 2, 3, 4, 5, 678000)
    simple = lab_cmtrace.simple_line("Lab line", "SMS_DMP_DOWNLOADER", when, 300, 1234)
    full = lab_cmtrace.full_line("Lab warning", "SMS_DMP_UPLOADER", when, -60, 8, severity=2, source_file="up.cs")
    first, second = parse(simple + "\r\n" + full + "\r\n")
    assert first.time == "2026-01-02T08:04:05.678+00:00" and first.thread == 1234
    assert second.time == "2026-01-02T02:04:05.678+00:00" and second.severity == "warning"
    assert second.file == "up.cs"


def test_select_filters_by_component_severity_since_and_regex():
    entries = parse(HMAN + DMP + FULL)
    assert len(_cmtrace.select(entries, component="sms_dmp_downloader")) == 4
    assert len(_cmtrace.select(entries, component=["SMS_HIERARCHY_MANAGER", "EndpointConnectivityCheckWorker"])) == 4
    assert [e.severity for e in _cmtrace.select(entries, min_severity="warning")] == ["warning", "warning", "error", "warning", "error"]
    assert len(_cmtrace.select(entries, severity=["error"])) == 2
    # since: aware datetimes in any zone, ISO text with Z, naive text taken as UTC.
    eastern = datetime.timezone(datetime.timedelta(hours=-4))
    assert len(_cmtrace.select(entries, since=datetime.datetime(2026, 8, 2, 14, 20, 25, 111000, tzinfo=eastern))) == 2
    assert len(_cmtrace.select(entries, since="2026-08-02T18:20:25.111Z")) == 2
    assert len(_cmtrace.select(entries, since="2026-03-05T09:05:04")) == 6  # 4 in August, 2 in March
    assert [e.thread for e in _cmtrace.select(entries, regex=r"\b407\b")] == [4412]
    assert _cmtrace.select(entries, component="SMS_DMP_DOWNLOADER", min_severity="error", regex="AdminUI")[0].line_no == 5
    with pytest.raises(ValueError, match="severity must be one of info, warning, error"):
        _cmtrace.select(entries, severity="fatal")


def test_since_leaves_out_entries_whose_utc_time_is_unknown():
    entries = parse(DMP + "cut off  $$<SMS_DMP")
    assert entries[-1].truncated
    assert not any(e.truncated for e in _cmtrace.select(entries, since="2000-01-01T00:00:00Z"))


def test_query_evaluates_jmespath_over_the_entries():
    entries = parse(DMP + FULL)
    assert _cmtrace.query(entries, "[?severity=='error'].component") == ["SMS_DMP_DOWNLOADER", "EndpointConnectivityCheckWorker"]
    assert _cmtrace.query(entries, "length([?type==`2`])") == 1
    assert (
        _cmtrace.query(entries, "max_by(@, &time).message") == "ERROR: Failed to call AdminUIContentDownload. error = Error -2146233079~~"
    )


def test_entries_are_plain_data_for_a_module_result():
    [entry] = parse(HMAN)
    result = entry.as_dict()
    assert list(result) == list(_cmtrace.FIELDS)
    assert result["time"] == "2023-09-18T00:26:15.614+00:00" and result["truncated"] is False
