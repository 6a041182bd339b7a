"""Reading what users hand us: a text file or stdin, and ISO 8601 times. Failures are one-line
InputErrors naming the file; a time that does not parse is None for the caller to judge."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path
from typing import Any

from origin_doctor.errors import InputError


def read_text(name: str) -> str:
    """The UTF-8 text of file `name`, or of stdin for '-'."""
    try:
        return sys.stdin.read() if name == "-" else Path(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputError(f"{name}: is a directory") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise InputError(f"{name}: cannot read: {exc.strerror}") from None


def parse_iso_time(text: Any) -> dt.datetime | None:
    """An ISO 8601 time ('Z' allowed), UTC when it names no zone; None when it is not one."""
    if not isinstance(text, str) or not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
