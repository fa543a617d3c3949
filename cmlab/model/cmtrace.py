"""CMTrace logs as ConfigMgr components write them (docs/configmgr-behaviour.md#logs).

Two line formats (docs/configmgr-behaviour.md#logs):

- simple ("SMS trace", site server and site system components run by SMS_EXECUTIVE):
  `<message>  $$<<COMPONENT>><MM-dd-yyyy HH:mm:ss.fff+BBB><thread=N (0xHEX)>`
- full ("CCM" format):
  `<![LOG[<message>]LOG]!><time="HH:mm:ss.fff+BBB" date="MM-dd-yyyy" component="<C>" context="" type="1|2|3" thread="N" file="">`

`+BBB` is the time-zone bias in minutes (UTC = local time + bias). A log rolls over from `.log` to `.lo_`
when the next line would take it past its maximum size (docs/configmgr-behaviour.md#logs, default 250,000
bytes). Each component has `HKLM\\SOFTWARE\\Microsoft\\SMS\\Tracing\\<COMPONENT>` whose `TraceFilename` is
the log's full path (docs/configmgr-behaviour.md#sms-executive-threads): the robust way for a client to find
a log.
"""

from __future__ import annotations

import datetime
import zlib
from typing import Any, Protocol

from .errors import InvalidArgument
from .wellknown import TRACING_KEY


class LogHost(Protocol):
    """What a log writer needs of a host (a WindowsHost has all of it)."""

    registry: Any  # cmlab.model.windows.Registry
    fs: Any  # cmlab.model.files.FileSystem
    scheduler: Any  # cmlab.model.clock.Scheduler (its clock gives the time)
    time_zone_bias: int  # minutes, UTC = local + bias


DEFAULT_MAX_SIZE = 250_000
FORMATS = ("simple", "full")
NEWLINE = "\r\n"


def default_thread(component: str) -> int:
    """A stable thread id per component (Windows thread ids are multiples of 4)."""
    return (0x100 + zlib.crc32(component.upper().encode()) % 0x1F00) * 4


def _bias_text(bias: int) -> str:
    return f"{bias:+04d}"  # +000, +240, -120


def _local(when: float | datetime.datetime, bias: int) -> datetime.datetime:
    if isinstance(when, datetime.datetime):
        return when
    utc = datetime.datetime.fromtimestamp(when, tz=datetime.timezone.utc)
    return (utc - datetime.timedelta(minutes=bias)).replace(tzinfo=None)


def simple_line(message: str, component: str, when: datetime.datetime, bias: int, thread: int) -> str:
    stamp = when.strftime("%m-%d-%Y %H:%M:%S.") + f"{when.microsecond // 1000:03d}" + _bias_text(bias)
    return f"{message}  $$<{component}><{stamp}><thread={thread} (0x{thread:X})>"


def full_line(
    message: str, component: str, when: datetime.datetime, bias: int, thread: int, severity: int = 1, source_file: str = ""
) -> str:
    time_text = when.strftime("%H:%M:%S.") + f"{when.microsecond // 1000:03d}" + _bias_text(bias)
    return (
        f'<![LOG[{message}]LOG]!><time="{time_text}" date="{when.strftime("%m-%d-%Y")}" '
        f'component="{component}" context="" type="{severity}" thread="{thread}" file="{source_file}">'
    )


def rollover_path(path: str) -> str:
    """hman.log → hman.lo_ (docs/configmgr-behaviour.md#logs)."""
    return path[:-1] + "_" if path.lower().endswith(".log") else path + "_"


class LogWriter:
    """Appends CMTrace lines to a log file on a host (the caller holds the model lock)."""

    def __init__(
        self, host: LogHost, path: str, component: str, fmt: str = "simple", max_size: int = DEFAULT_MAX_SIZE, register: bool = True
    ) -> None:
        if fmt not in FORMATS:
            raise InvalidArgument(f"log format must be one of {', '.join(FORMATS)}, not {fmt!r}")
        self.host = host
        self.path = path
        self.component = component
        self.fmt = fmt
        self.max_size = max_size
        self.tracing_key = f"{TRACING_KEY}\\{component}"
        if register:
            self._register()

    def _register(self) -> None:
        """The component's Tracing key (docs/configmgr-behaviour.md#logs): values already there (an admin's
        change) stay."""
        key = self.host.registry.ensure_key(self.tracing_key)
        for name, data, kind in (
            ("TraceFilename", self.path, "String"),
            ("Enabled", 1, "DWord"),
            ("LoggingLevel", 1, "DWord"),
            ("LogMaxHistory", 1, "DWord"),
            ("MaxFileSize", self.max_size, "DWord"),
            ("DebugLogging", 0, "DWord"),
        ):
            if key.value(name) is None:
                key.set_value(name, data, kind)

    @property
    def effective_max_size(self) -> int:
        """`MaxFileSize` of the Tracing key when set (docs/configmgr-behaviour.md#sms-executive-threads), else the writer's own."""
        value = self.host.registry.get_value(self.tracing_key, "MaxFileSize")
        return value if isinstance(value, int) and value > 0 else self.max_size

    def format(
        self,
        message: str,
        severity: int = 1,
        thread: int | None = None,
        when: float | datetime.datetime | None = None,
        source_file: str = "",
    ) -> str:
        if severity not in (1, 2, 3):
            raise InvalidArgument("severity is 1 (information), 2 (warning) or 3 (error)")
        bias = int(getattr(self.host, "time_zone_bias", 0))
        moment = _local(self.host.scheduler.clock.now() if when is None else when, bias)
        tid = default_thread(self.component) if thread is None else thread
        if self.fmt == "simple":
            return simple_line(message, self.component, moment, bias, tid)
        return full_line(message, self.component, moment, bias, tid, severity, source_file)

    def write(
        self,
        message: str,
        severity: int = 1,
        thread: int | None = None,
        when: float | datetime.datetime | None = None,
        source_file: str = "",
    ) -> str:
        """Append one line (CRLF-terminated), rolling the log over first if it would grow too big."""
        line = self.format(message, severity, thread, when, source_file) + NEWLINE
        fs = self.host.fs
        node = fs.node(self.path)
        if node is not None and not node.is_dir and node.size > 0 and node.size + len(line.encode(node.encoding)) > self.effective_max_size:
            fs.move(self.path, rollover_path(self.path))
        fs.append_text(self.path, line)
        return line
