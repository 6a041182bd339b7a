"""Inputs: expand files, directories and globs; open plain or gzip (or stdin); pick each file's parser.

A truncated or corrupt gzip stream ends that file with a bad-line entry; the lines read before it count.
"""

from __future__ import annotations

import glob
import gzip
import io
import itertools
import sys
import zlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from origin_doctor.errors import InputError
from origin_doctor.logs.columns import Layout, scan_columns
from origin_doctor.logs.fields import STANDARD_FIELDS
from origin_doctor.logs.jsonlines import scan_json
from origin_doctor.logs.records import BadLines, Window
from origin_doctor.logs.summary import LogSummary

FORMATS = ("auto", "standard", "json", "plain", "realtime")
STDIN = "-"


def expand(paths: Sequence[str]) -> list[str]:
    """Files in argument order; a directory gives its files (recursively, sorted); globs are expanded."""
    found: list[str] = []
    for given in paths:
        if given == STDIN:
            found.append(given)
            continue
        if any(ch in given for ch in "*?["):
            matches = sorted(m for m in glob.glob(given, recursive=True) if Path(m).is_file())
            if not matches:
                raise InputError(f"{given}: no file matches this pattern")
            found.extend(matches)
            continue
        path = Path(given)
        if path.is_dir():
            files = sorted(str(p) for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
            if not files:
                raise InputError(f"{given}: directory holds no files")
            found.extend(files)
        elif path.is_file():
            found.append(given)
        else:
            raise InputError(f"{given}: no such file or directory")
    return found


@contextmanager
def open_binary(name: str) -> Iterator[tuple[BinaryIO, bool]]:
    """The input as a buffered binary stream, gunzipped when it starts with the gzip magic bytes."""
    try:
        raw: BinaryIO = sys.stdin.buffer if name == STDIN else open(name, "rb")  # noqa: SIM115
    except OSError as exc:
        raise InputError(f"{name}: cannot read ({exc.strerror or exc})") from exc
    try:
        if not hasattr(raw, "peek"):  # a stdin replaced by a plain byte stream
            raw = io.BufferedReader(raw)  # type: ignore[type-var]
        magic = raw.peek(2)[:2]
        if magic == b"\x1f\x8b":
            with gzip.open(raw, "rb") as unzipped:
                yield unzipped, True  # type: ignore[misc]
        else:
            yield raw, False
    finally:
        if name != STDIN:
            raw.close()


def scan_file(
    name: str,
    summary: LogSummary,
    window: Window,
    fmt: str = "auto",
    fields: tuple[str, ...] = (),
    separator: bytes = b"\t",
) -> None:
    """Feed one input into the summary; never raises for bad content, only for unreadable files."""
    lines_before = summary.tally.lines
    chosen = fmt
    with open_binary(name) as (stream, compressed):
        try:
            first = stream.readline()
            chosen = _detect(first, fmt, fields, separator)
            lines = itertools.chain((first,), stream) if first else iter(())
            if chosen == "json":
                scan_json(lines, name, summary, window)
            else:
                layout = None
                if chosen != "standard":
                    layout = Layout(fields or STANDARD_FIELDS, separator)
                scan_columns(lines, name, summary, window, layout)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            at = summary.tally.lines - lines_before + 1
            summary.tally.lines += 1  # the unreadable rest counts as one bad line, so the tally adds up
            summary.tally.bad += 1
            summary.bad.add(name, at, f"truncated or corrupt gzip, rest of file unreadable ({exc})")
        except OSError as exc:
            raise InputError(f"{name}: read failed ({exc.strerror or exc})") from exc
    summary.files.append({
        "file": name,
        "format": chosen,
        "gzip": compressed,
        "lines": summary.tally.lines - lines_before,
    })  # fmt: skip


def _detect(first: bytes, fmt: str, fields: tuple[str, ...], separator: bytes) -> str:
    if fmt != "auto":
        return fmt
    head = first.lstrip()
    if head.startswith(b"#"):
        return "standard"
    if head.startswith(b"{"):
        return "json"
    if fields:
        return "plain"
    if first.count(separator) == len(STANDARD_FIELDS) - 1:
        return "plain"  # headerless lines with the standard field count: v2 plain output
    return "standard"


def guarded_lines(stream: BinaryIO, source: str, bad: BadLines) -> Iterator[bytes]:
    """Lines of a stream; a truncated or corrupt gzip ends it with a bad-line entry instead of an error."""
    count = 0
    try:
        for line in stream:
            count += 1
            yield line
    except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
        bad.add(source, count + 1, f"truncated or corrupt gzip, rest of file unreadable ({exc})")
    except OSError as exc:
        raise InputError(f"{source}: read failed ({exc.strerror or exc})") from exc


def scan_all(
    names: Sequence[str],
    summary: LogSummary,
    window: Window,
    fmt: str = "auto",
    fields: tuple[str, ...] = (),
    separator: bytes = b"\t",
) -> None:
    for name in names:
        scan_file(name, summary, window, fmt, fields, separator)
