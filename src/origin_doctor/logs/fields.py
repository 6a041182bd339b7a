"""CloudFront log field names and value helpers (time stamps, '-' for empty, URL decoding).

Field facts: background doc section 2 (standard log reference, real-time log field order).
"""

from __future__ import annotations

import calendar
from urllib.parse import unquote

# The standard (access) log field order as CloudFront writes it in the '#Fields' header; also the
# default column order for standard logging v2 "plain" output when no field list is given.
STANDARD_FIELDS: tuple[str, ...] = (
    "date", "time", "x-edge-location", "sc-bytes", "c-ip", "cs-method", "cs(Host)", "cs-uri-stem",
    "sc-status", "cs(Referer)", "cs(User-Agent)", "cs-uri-query", "cs(Cookie)", "x-edge-result-type",
    "x-edge-request-id", "x-host-header", "cs-protocol", "cs-bytes", "time-taken", "x-forwarded-for",
    "ssl-protocol", "ssl-cipher", "x-edge-response-result-type", "cs-protocol-version", "fle-status",
    "fle-encrypted-fields", "c-port", "time-to-first-byte", "x-edge-detailed-result-type",
    "sc-content-type", "sc-content-len", "sc-range-start", "sc-range-end",
)  # fmt: skip

# Real-time log fields in the fixed order CloudFront emits the selected ones.
REALTIME_FIELDS: tuple[str, ...] = (
    "timestamp", "c-ip", "time-to-first-byte", "sc-status", "sc-bytes", "cs-method", "cs-protocol",
    "cs-host", "cs-uri-stem", "cs-bytes", "x-edge-location", "x-edge-request-id", "x-host-header",
    "time-taken", "cs-protocol-version", "c-ip-version", "cs-user-agent", "cs-referer", "cs-cookie",
    "cs-uri-query", "x-edge-response-result-type", "x-forwarded-for", "ssl-protocol", "ssl-cipher",
    "x-edge-result-type", "fle-encrypted-fields", "fle-status", "sc-content-type", "sc-content-len",
    "sc-range-start", "sc-range-end", "c-port", "x-edge-detailed-result-type", "c-country",
    "cs-accept-encoding", "cs-accept", "cache-behavior-path-pattern", "cs-headers", "cs-header-names",
    "cs-headers-count", "origin-fbl", "origin-lbl", "asn",
)  # fmt: skip

TIME_FIELDS = ("timestamp(ms)", "timestamp")


def value(raw: str) -> str:
    """CloudFront writes '-' for an empty field."""
    return "" if raw == "-" else raw


def decoded(raw: str) -> str:
    """URL-decoded field value ('%20' -> ' '); '-' becomes ''."""
    if raw == "-":
        return ""
    return unquote(raw) if "%" in raw else raw


def parse_field_list(text: str) -> tuple[str, ...]:
    """'a,b c' -> ('a', 'b', 'c'); names are case-sensitive as CloudFront writes them."""
    names = tuple(part for part in text.replace(",", " ").split() if part)
    return names


def epoch_of_minute(date_and_minute: str) -> int:
    """'2019-12-13<sep>22:37' -> epoch seconds of that minute (UTC). Raises ValueError when malformed."""
    if len(date_and_minute) != 16 or date_and_minute[4] != "-" or date_and_minute[13] != ":":
        raise ValueError(date_and_minute)
    year, month, day = int(date_and_minute[0:4]), int(date_and_minute[5:7]), int(date_and_minute[8:10])
    hour, minute = int(date_and_minute[11:13]), int(date_and_minute[14:16])
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60):
        raise ValueError(date_and_minute)
    return calendar.timegm((year, month, day, hour, minute, 0, 0, 0, 0))


def epoch_of_date_time(date: str, time: str) -> float:
    """'2019-12-13', '22:37:02' -> epoch seconds (UTC)."""
    seconds = time[6:8] if len(time) >= 8 and time[5] == ":" else ""
    if not seconds.isdigit():
        raise ValueError(time)
    return epoch_of_minute(f"{date} {time[:5]}") + int(seconds)


def epoch_of_timestamp(name: str, raw: str) -> float:
    """Real-time 'timestamp' (seconds with millis) or v2 'timestamp(ms)' -> epoch seconds."""
    number = float(raw)
    if name == "timestamp(ms)" or number > 100_000_000_000:
        number /= 1000.0
    if number != number or number < 0:  # NaN or negative
        raise ValueError(raw)
    return number
