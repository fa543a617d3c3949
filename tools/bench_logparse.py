#!/usr/bin/env python3
"""`make bench`: throughput of the CMTrace log parser (plugins/plugin_utils/_cmtrace.py) on one core.

Generates a 50 MB log in each format ConfigMgr writes (docs/configmgr-behaviour.md#logs): the simple
format of SMS_EXECUTIVE components and the full ("CCM") format, with the shapes a parser meets in
practice (one-digit months and days in the full format, positive and negative bias, multi-line
messages, warning and error lines). It prints MB/s for each, parsing only (generation and decoding
are not timed), the best of a few runs. It prints figures; it asserts nothing.
"""

from __future__ import annotations

import argparse
import gc
import random
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.configmgr.scp.plugins.plugin_utils import _cmtrace  # noqa: E402

MESSAGES = [
    "Download manifest.cab~~",
    "Redirected to URL https://sccm.manage.microsoft.com/SCCMConnectedService.svc~~",
    "Generating state message: 0 for package 00000000-0000-0000-0000-000000000000~~",
    "WARNING: Failed to download easy setup payload with exception: The underlying connection was closed: "
    "An unexpected error occurred on a send.~~",
    "WARNING: Retry in the next polling cycle~~",
    "Synchronizing component server scp01.contoso.com...",
    "Sending status message (MessageID = 500).",
    "ERROR: Failed to call AdminUIContentDownload. error = Error -2146233079~~",
    "Successfully Dropped the state message 4~~",
    "Executing SQL statement:\r\nSELECT SiteCode, RoleName FROM vSMS_SC_SysResUse\r\nWHERE RoleName = 'SMS Dmp Connector'",
]
COMPONENTS = ["SMS_DMP_DOWNLOADER", "SMS_DMP_UPLOADER", "SMS_SERVICE_CONNECTOR", "SMS_SITE_COMPONENT_MANAGER"]


def generate(fmt: str, size: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    parts: list[str] = []
    total = 0
    month, day, hour, minute, second, ms = 3, 5, 8, 0, 0, 0
    while total < size:
        ms += rng.randrange(1, 400)
        if ms >= 1000:
            second, ms = second + ms // 1000, ms % 1000
        if second >= 60:
            minute, second = minute + 1, second - 60
        if minute >= 60:
            hour, minute = hour + 1, 0
        if hour >= 24:
            day, hour = day + 1, 0
        if day > 28:
            month, day = month % 12 + 1, 1
        message = rng.choice(MESSAGES)
        component = rng.choice(COMPONENTS)
        bias = rng.choice((240, 240, 240, -60, 0))
        thread = rng.randrange(1, 0x2000) * 4
        if fmt == "simple":
            line = (
                f"{message}  $$<{component}><{month:02d}-{day:02d}-2026 {hour:02d}:{minute:02d}:{second:02d}."
                f"{ms:03d}{bias:+04d}><thread={thread} (0x{thread:X})>\r\n"
            )
        else:
            kind = 3 if message.startswith("ERROR") else 2 if message.startswith("WARNING") else 1
            line = (
                f'<![LOG[{message}]LOG]!><time="{hour:02d}:{minute:02d}:{second:02d}.{ms:03d}{bias:+04d}" '
                f'date="{month}-{day}-2026" component="{component}" context="" type="{kind}" '
                f'thread="{thread}" file="dmpdownloader.cpp:{rng.randrange(10, 900)}">\r\n'
            )
        parts.append(line)
        total += len(line)
    return "".join(parts)


def measure(text: str, rounds: int) -> tuple[float, int]:
    best = float("inf")
    count = 0
    for _ in range(rounds):
        gc.collect()
        started = time.process_time()
        entries = _cmtrace.parse(text, source="bench.log")
        best = min(best, time.process_time() - started)
        count = len(entries)
        del entries
    return best, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--megabytes", type=float, default=50.0, help="size of each generated log (default 50)")
    parser.add_argument("--rounds", type=int, default=3, help="parses per format; the best is reported")
    args = parser.parse_args()
    size = int(args.megabytes * 1_000_000)
    print(f"\nCMTrace parser throughput (plugins/plugin_utils/_cmtrace.py), one core, best of {args.rounds}")
    total_bytes = total_seconds = 0.0
    for fmt in ("simple", "full"):
        text = generate(fmt, size)
        nbytes = len(text.encode("utf-8"))
        seconds, count = measure(text, args.rounds)
        total_bytes += nbytes
        total_seconds += seconds
        print(f"  {fmt:6}  {nbytes / 1e6:6.1f} MB  {count:9,d} records  {seconds:6.2f} s  {nbytes / 1e6 / seconds:6.1f} MB/s")
    print(f"  both    {total_bytes / 1e6:6.1f} MB  {total_bytes / 1e6 / total_seconds:6.1f} MB/s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
