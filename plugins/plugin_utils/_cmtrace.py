# -*- coding: utf-8 -*-
# Copyright: (c) 2026, configmgr.scp contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""FOR INTERNAL COLLECTION USE ONLY. A parser for ConfigMgr (CMTrace) logs, run on the controller.

The engine only reads bounded raw text from a log (and its rolled-over `.lo_`); everything else
happens here, in pure Python with the standard library (`jmespath` only for `query`). The formats and
the rollover are described in docs/configmgr-behaviour.md#logs.

Formats (both may appear in one text; each record is recognised on its own):

- *full* (the "CCM" format):
  `<![LOG[message]LOG]!><time="HH:mm:ss.fff+BBB" date="M-d-yyyy" component="C" context="" type="1|2|3"
  thread="N" file="source">`. The message may span several lines. `type` 1, 2, 3 give the severity
  info, warning, error.
- *simple* (site server and site system components run by SMS_EXECUTIVE):
  `message  $$<COMPONENT><MM-dd-yyyy HH:mm:ss.fff+BBB><thread=N (0xHEX)>`. A message of several
  lines has its first lines on their own and the trailer on its last line. There is no severity
  field: like CMTrace, which highlights such lines by their words, the parser *infers* ``error``
  when the message contains "error" and ``warning`` when it contains "warn" (any case), else
  ``info``; `type` stays None so a caller can tell an inferred severity from a written one.

Times: `+BBB`/`-BBB` is the time zone bias in minutes, UTC = local time + bias. Month, day and hour
may have one digit. Fractions of seconds are kept to the millisecond.

API
---

``parse(text, *, source, bias_default=None, skip_partial_first_line=False) -> list[Entry]``
    Every record of `text`, in file order. `source` names the file (it is copied into each entry).
    `bias_default` (minutes) is used for a record whose time carries no bias; when it is None such
    a record has ``time=None`` (UTC unknown) and only ``local_time``. With
    `skip_partial_first_line=True` (text read from the middle of a file, as a tail read is) the text
    up to the first line break is dropped as a fragment of a record that began before the read.
    Text that cannot be a complete record (a last line cut off by `max_bytes`, or a line being
    written) becomes an entry with ``truncated=True`` holding what could be read; it is never
    silently lost.

``parse_files(files, *, bias_default=None) -> list[Entry]``
    `files` maps file names to their text (or is an iterable of (name, text) pairs). Files of one
    log are put in the order ConfigMgr wrote them: date-stamped history files, then `X.lo_` (the
    previous contents), then `X.log`; different logs keep the order given.

``decode(data: bytes) -> str``
    Bytes of a log file to text: UTF-8 with or without a BOM, UTF-16 LE or BE with a BOM, and
    UTF-16 LE without a BOM (recognised by its NUL bytes), which some ConfigMgr logs use.

``select(entries, *, component=None, severity=None, min_severity=None, since=None, regex=None)``
    The entries that pass every filter given. `component`: a name or a list of names, compared
    without case. `severity`: a name or a list of names (exact). `min_severity`: ``warning`` keeps
    warnings and errors. `since`: an aware ``datetime`` or an ISO 8601 text (naive means UTC); an
    entry whose UTC time is unknown does not pass it. `regex`: searched in the message.

``query(entries, expression)``
    A JMESPath expression evaluated over the entries as dictionaries (``Entry.as_dict()``).

Entry
-----

``time``        UTC as ISO 8601 text, ``2026-03-15T13:12:45.332+00:00``, or None when unknown.
``local_time``  the time as the log wrote it, ISO 8601 with its UTC offset when the bias is known
                (``2026-03-15T09:12:45.332-04:00``), without one when it is not; None when the record
                has no readable time.
``bias_minutes`` the bias used (from the record, else `bias_default`), or None.
``component``, ``thread`` (int or None), ``file`` (the full format's source file; "" for simple).
``severity``    ``info`` / ``warning`` / ``error``; ``type`` 1/2/3 as written, None for simple.
``message``     the text; lines of a multi-line message are joined with ``\\n``.
``line_no``     the 1-based line of `source` on which the record starts.
``source``, ``format`` (``full`` / ``simple`` / None for an unrecognised fragment), ``truncated``.

``time`` texts all have one fixed shape, so they sort and compare as text.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Mapping
from functools import partial
from operator import itemgetter
from typing import Any

SEVERITIES = ("info", "warning", "error")
_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}
_TYPE_SEVERITY = {"1": "info", "2": "warning", "3": "error"}
_TYPE_NUMBER = {"1": 1, "2": 2, "3": 3}

# One precompiled expression per format. The full format's attributes come in the order CMTrace
# writers use; `file` may be missing. The message is everything between the markers (several lines).
_FULL = re.compile(
    r"<!\[LOG\[(.*?)\]LOG\]!>"
    r'<time="(?:(\d{1,2}:\d{2}):(\d{2}(?:\.\d+)?)([+-]\d+)?)?[^"]*" '
    r'date="(\d{1,2}-\d{1,2}-\d{4})?[^"]*" '
    r'component="([^"]*)" context="[^"]*" type="([^"]*)" thread="([^"]*)"(?: file="([^"]*)")?\s*>',
    re.DOTALL,
)
# The simple format's trailer; the message is the text before it on its line (found with rfind, which
# is much cheaper than letting the expression scan each message for the trailer).
_SIMPLE = re.compile(
    r"\$\$<([^>\n]*)><(\d{1,2}-\d{1,2}-\d{4}) (\d{1,2}:\d{2}):(\d{2}(?:\.\d+)?)([+-]\d+)?"
    r"><thread=(\d+)[^>\n]*>"
)
_COMPONENT_ATTR = re.compile(r'component="([^"]*)"')
_FULL_OPEN = "<![LOG["
_FULL_CLOSE = "]LOG]!>"


FIELDS = (
    "time",
    "local_time",
    "bias_minutes",
    "component",
    "thread",
    "severity",
    "type",
    "message",
    "file",
    "line_no",
    "source",
    "format",
    "truncated",
)


class Entry(tuple):
    """One log record (see the module docstring for the fields); immutable, a tuple of FIELDS."""

    __slots__ = ()

    def __new__(
        cls, time, local_time, bias_minutes, component, thread, severity, type_, message, file, line_no, source, fmt, truncated=False
    ):
        return tuple.__new__(
            cls, (time, local_time, bias_minutes, component, thread, severity, type_, message, file, line_no, source, fmt, truncated)
        )

    time = property(itemgetter(0))
    local_time = property(itemgetter(1))
    bias_minutes = property(itemgetter(2))
    component = property(itemgetter(3))
    thread = property(itemgetter(4))
    severity = property(itemgetter(5))
    type = property(itemgetter(6))
    message = property(itemgetter(7))
    file = property(itemgetter(8))
    line_no = property(itemgetter(9))
    source = property(itemgetter(10))
    format = property(itemgetter(11))
    truncated = property(itemgetter(12))

    def as_dict(self) -> dict[str, Any]:
        return dict(zip(FIELDS, self))

    @property
    def utc(self) -> datetime.datetime | None:
        """`time` as an aware datetime."""
        return None if self[0] is None else datetime.datetime.fromisoformat(self[0])

    def __repr__(self) -> str:
        return (
            f"Entry({self.source}:{self.line_no} {self.time or self.local_time} {self.component} "
            f"{self.severity}{' truncated' if self.truncated else ''} {self.message!r})"
        )


# The parser's constructor: tuple.__new__ itself (no Python-level __new__ per record).
_new_entry = partial(tuple.__new__, Entry)


# ---------------------------------------------------------------------------------------------------
# Times. Most records of a log share their date, hour and minute with a neighbour, so the conversion
# of (date, hour, minute, bias) to text prefixes is cached; seconds are appended as they were written.

_UTC = datetime.timezone.utc
_NO_TIME = (None, None, None, None)
# (date "M-d-yyyy", hour and minute "H:mm", bias text, default bias) -> (UTC prefix "YYYY-MM-DDTHH:MM"
# or None when the bias is unknown, local prefix, local offset text, bias minutes); _NO_TIME for an
# impossible date.
_PREFIXES: dict[tuple, tuple] = {}


def _offset_text(bias: int) -> str:
    offset = -bias  # UTC = local + bias, so local = UTC - bias
    sign = "+" if offset >= 0 else "-"
    return f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"


def _prefixes(date_text: str, hm_text: str, bias_text: str | None, bias_default: int | None) -> tuple:
    bias = bias_default
    if bias_text:
        try:
            bias = int(bias_text)
        except ValueError:
            pass
    try:
        mo, d, y = date_text.split("-")
        h, mi = hm_text.split(":")
        local = datetime.datetime(int(y), int(mo), int(d), int(h), int(mi))
    except ValueError:
        return _NO_TIME
    local_prefix = local.strftime("%Y-%m-%dT%H:%M")
    if bias is None:
        return None, local_prefix, "", None
    utc = local + datetime.timedelta(minutes=bias)
    return utc.strftime("%Y-%m-%dT%H:%M"), local_prefix, _offset_text(bias), bias


def _stamp(date_text, hm_text, sec_text, bias_text, bias_default):
    """(time, local_time, bias) of one record; the parsing loops inline the common case."""
    key = (date_text, hm_text, bias_text, bias_default)
    prefixes = _PREFIXES.get(key)
    if prefixes is None:
        if len(_PREFIXES) > 100_000:
            _PREFIXES.clear()
        prefixes = _PREFIXES[key] = _prefixes(date_text, hm_text, bias_text, bias_default)
    utc_prefix, local_prefix, offset, bias = prefixes
    if local_prefix is None:
        return None, None, bias
    secs = (sec_text + ".000")[:6] if "." not in sec_text else (sec_text + "00")[:6]
    if utc_prefix is None:
        return None, f"{local_prefix}:{secs}", None
    return f"{utc_prefix}:{secs}+00:00", f"{local_prefix}:{secs}{offset}", bias


def _bias(text: str | None, default: int | None) -> int | None:
    if text:
        try:
            return int(text)
        except ValueError:
            return default
    return default


def _simple_severity(message: str) -> str:
    lowered = message.lower()
    if "error" in lowered:
        return "error"
    if "warn" in lowered:
        return "warning"
    return "info"


def _thread(text: str) -> int | None:
    digits = text.strip().split(" ", 1)[0]
    if digits.isdigit():
        return int(digits)
    if digits.lower().startswith("0x"):
        try:
            return int(digits, 16)
        except ValueError:
            return None
    return None


# ---------------------------------------------------------------------------------------------------
# Parsing


def decode(data: bytes) -> str:
    """Bytes of a log to text (UTF-8 or UTF-16, with or without a BOM)."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8", errors="replace")
    if data.startswith(b"\xff\xfe"):
        return data[2:].decode("utf-16-le", errors="replace")
    if data.startswith(b"\xfe\xff"):
        return data[2:].decode("utf-16-be", errors="replace")
    sample = data[:4096]
    if len(sample) >= 4 and sample[1::2].count(0) > len(sample) // 4 and sample[0::2].count(0) < len(sample) // 8:
        return data[: len(data) - len(data) % 2].decode("utf-16-le", errors="replace")
    return data.decode("utf-8", errors="replace")


def _fragment(text: str, source: str, line_no: int) -> Entry | None:
    """An entry for text that is not a complete record (or None when it is only blank)."""
    body = text.strip("\r\n\ufeff")
    if not body.strip():
        return None
    fmt = None
    component = ""
    message = body
    start = body.find(_FULL_OPEN)
    if start >= 0:
        fmt = "full"
        message = body[start + len(_FULL_OPEN) :]
        close = message.find(_FULL_CLOSE)
        if close >= 0:
            found = _COMPONENT_ATTR.search(message, close)
            component = found.group(1) if found else ""
            message = message[:close]
    else:
        trailer = body.rfind("$$<")
        if trailer >= 0:
            fmt = "simple"
            rest = body[trailer + 3 :]
            component = rest.split(">", 1)[0] if ">" in rest else ""  # a cut-off name would mislead
            message = body[:trailer].rstrip(" ")
    message = message.replace("\r\n", "\n")
    severity = _simple_severity(message) if fmt != "full" else "info"
    return Entry(None, None, None, component, None, severity, None, message, "", line_no, source, fmt, True)


def _parse_simple(text: str, start: int, end: int, line_no: int, source: str, bias_default: int | None, out: list[Entry]) -> int:
    """Parse text[start:end] as simple-format records; returns the line number reached at `end`."""
    pos = start
    count = text.count
    rfind = text.rfind
    append = out.append
    new = _new_entry
    stamp = _stamp
    prefix_cache = _PREFIXES
    for m in _SIMPLE.finditer(text, start, end):
        m_start, m_end = m.span()
        comp, date_text, hm_text, sec_text, bias_text, tid = m.groups()
        line_start = rfind("\n", pos, m_start) + 1
        if line_start <= pos:
            line_start = pos
        msg = text[line_start:m_start].rstrip(" ")
        if line_start - pos > 2 and text[pos:line_start].strip():
            # Lines before the trailer's line that belong to no earlier record: the first lines of
            # this record's message (a multi-line message).
            lead = text[pos:line_start].lstrip("\r\n")
            line_no += count("\n", pos, line_start - len(lead))
            msg = lead.replace("\r\n", "\n") + msg
            record_line = line_no
            line_no += count("\n", line_start - len(lead), m_end)
        else:
            line_no += count("\n", pos, m_start)
            record_line = line_no
        prefixes = prefix_cache.get((date_text, hm_text, bias_text, bias_default))
        if prefixes is not None and prefixes[0] is not None and len(sec_text) == 6:
            # The common case, inline: a minute seen before, a bias, milliseconds.
            utc_prefix, local_prefix, offset, bias = prefixes
            time = f"{utc_prefix}:{sec_text}+00:00"
            local = f"{local_prefix}:{sec_text}{offset}"
        else:
            time, local, bias = stamp(date_text, hm_text, sec_text, bias_text, bias_default)
        lowered = msg.lower()
        severity = "error" if "error" in lowered else "warning" if "warn" in lowered else "info"
        append(new((time, local, bias, comp, int(tid), severity, None, msg, "", record_line, source, "simple", False)))
        pos = m_end
    if pos < end:
        tail = text[pos:end]
        if tail.strip():
            lead = len(tail) - len(tail.lstrip("\r\n"))
            fragment = _fragment(tail, source, line_no + count("\n", pos, pos + lead))
            if fragment is not None:
                append(fragment)
        line_no += count("\n", pos, end)
    return line_no


def _full_entry(m: re.Match, line_no: int, source: str, bias_default: int | None) -> Entry:
    msg, hm_text, sec_text, bias_text, date_text, comp, type_text, tid, file = m.groups()
    if "\r" in msg:
        msg = msg.replace("\r\n", "\n")
    if hm_text is not None and date_text is not None:
        prefixes = _PREFIXES.get((date_text, hm_text, bias_text, bias_default))
        if prefixes is not None and prefixes[0] is not None and len(sec_text) == 6:
            utc_prefix, local_prefix, offset, bias = prefixes
            time = f"{utc_prefix}:{sec_text}+00:00"
            local = f"{local_prefix}:{sec_text}{offset}"
        else:
            time, local, bias = _stamp(date_text, hm_text, sec_text, bias_text, bias_default)
    else:
        time, local, bias = None, None, _bias(bias_text, bias_default)
    severity = _TYPE_SEVERITY.get(type_text)
    if severity is None:
        severity, type_ = "info", (int(type_text) if type_text.isdigit() else None)
    else:
        type_ = _TYPE_NUMBER[type_text]
    return _new_entry(
        (
            time,
            local,
            bias,
            comp,
            int(tid) if tid.isdigit() else _thread(tid),
            severity,
            type_,
            msg,
            file or "",
            line_no,
            source,
            "full",
            False,
        )
    )


def parse(text: str, *, source: str, bias_default: int | None = None, skip_partial_first_line: bool = False) -> list[Entry]:
    """Every record of `text` in file order (see the module docstring)."""
    out: list[Entry] = []
    start = 0
    line_no = 1
    if text.startswith("\ufeff"):
        start = 1
    if skip_partial_first_line:
        newline = text.find("\n", start)
        if newline < 0:
            return out
        start = newline + 1
        line_no = 2
    if text.find(_FULL_OPEN, start) < 0:
        _parse_simple(text, start, len(text), line_no, source, bias_default, out)
        return out
    pos = start
    count = text.count
    for m in _FULL.finditer(text, start):
        m_start = m.start()
        if skip_partial_first_line and pos == start and _FULL_CLOSE in text[pos:m_start]:
            # The end of a record whose beginning lies before the text that was read.
            line_no += count("\n", pos, m_start)
            pos = m_start
        if m_start > pos:
            gap_has_text = text[pos:m_start].strip()
            if gap_has_text:
                line_no = _parse_simple(text, pos, m_start, line_no, source, bias_default, out)
            else:
                line_no += count("\n", pos, m_start)
        if _FULL_OPEN in m.group(1):
            # A record cut short (its end marker missing) before this one: keep it as a fragment.
            inner = text.rfind(_FULL_OPEN, m_start + 1, m.end(1))
            fragment = _fragment(text[m_start:inner], source, line_no)
            if fragment is not None:
                out.append(fragment)
            line_no += count("\n", m_start, inner)
            m_start = inner
            m = _FULL.match(text, inner)
        out.append(_full_entry(m, line_no, source, bias_default))
        line_no += count("\n", m_start, m.end())
        pos = m.end()
    if pos < len(text) and text[pos:].strip():
        _parse_simple(text, pos, len(text), line_no, source, bias_default, out)
    return out


_HISTORY = re.compile(r"^(?P<stem>.+?)-\d{8}-\d{6}\.log$", re.IGNORECASE)


def _log_key(name: str) -> tuple[str, int, str]:
    """(log identity, rank within the log, name): history files, then .lo_, then .log."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    lower = base.lower()
    history = _HISTORY.match(base)
    if history:
        return history.group("stem").lower(), 0, lower
    if lower.endswith(".lo_"):
        return lower[:-4], 1, lower
    if lower.endswith(".log"):
        return lower[:-4], 2, lower
    return lower, 2, lower


def parse_files(files: Mapping[str, str] | Iterable[tuple[str, str]], *, bias_default: int | None = None) -> list[Entry]:
    """Entries of several files; the files of one log in the order ConfigMgr wrote them."""
    pairs = list(files.items()) if isinstance(files, Mapping) else list(files)
    first_seen: dict[str, int] = {}
    for index, (name, _text) in enumerate(pairs):
        first_seen.setdefault(_log_key(name)[0], index)
    ordered = sorted(pairs, key=lambda pair: (first_seen[_log_key(pair[0])[0]], _log_key(pair[0])[1:]))
    out: list[Entry] = []
    for name, text in ordered:
        out.extend(parse(text, source=name, bias_default=bias_default))
    return out


# ---------------------------------------------------------------------------------------------------
# Filters


def _names(value: str | Iterable[str] | None) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, str):
        return {value.lower()}
    return {item.lower() for item in value}


def _since_text(since: datetime.datetime | str) -> str:
    if isinstance(since, str):
        text = since.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        since = datetime.datetime.fromisoformat(text)
    if since.tzinfo is None:
        since = since.replace(tzinfo=_UTC)
    utc = since.astimezone(_UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+00:00"


def select(
    entries: Iterable[Entry],
    *,
    component: str | Iterable[str] | None = None,
    severity: str | Iterable[str] | None = None,
    min_severity: str | None = None,
    since: datetime.datetime | str | None = None,
    regex: str | re.Pattern | None = None,
) -> list[Entry]:
    """The entries that pass every filter given (see the module docstring)."""
    components = _names(component)
    severities = _names(severity)
    for name in severities or ():
        if name not in _RANK:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}, not {name!r}")
    floor = None
    if min_severity is not None:
        if min_severity.lower() not in _RANK:
            raise ValueError(f"min_severity must be one of {', '.join(SEVERITIES)}, not {min_severity!r}")
        floor = _RANK[min_severity.lower()]
    since_text = None if since is None else _since_text(since)
    pattern = re.compile(regex) if isinstance(regex, str) else regex
    out = []
    for entry in entries:
        if components is not None and entry.component.lower() not in components:
            continue
        if severities is not None and entry.severity not in severities:
            continue
        if floor is not None and _RANK[entry.severity] < floor:
            continue
        if since_text is not None and (entry.time is None or entry.time < since_text):
            continue
        if pattern is not None and not pattern.search(entry.message):
            continue
        out.append(entry)
    return out


def query(entries: Iterable[Entry], expression: str) -> Any:
    """Evaluate a JMESPath expression over the entries as dictionaries."""
    try:
        import jmespath
    except ImportError as exc:  # pragma: no cover - depends on the controller
        raise ImportError("the query option needs the Python library jmespath on the Ansible controller (pip install jmespath)") from exc
    return jmespath.search(expression, [entry.as_dict() for entry in entries])
