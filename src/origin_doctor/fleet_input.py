"""Read a fleet: hosts.txt (one target per line, '#' comments), fleet.yaml or hosts.csv with
per-target overrides. Entries stream out lazily; a malformed entry becomes a `BadLine`, not an abort.
"""

from __future__ import annotations

import csv
import io
import shutil
import sys
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import yaml

from origin_doctor.errors import InputError, OriginDoctorError
from origin_doctor.model import Target
from origin_doctor.targets import parse_target

# Keys that shape the target itself.
TARGET_KEYS = ("origin", "port", "host_header", "path", "websocket", "site", "profile")
# Keys that override a `check` probing option for this target (names as on the command line).
OPTION_KEYS = ("ssl_protocols", "ca_bundle", "at", "warn_days", "connect_timeout", "connect_attempts",
               "read_timeout", "compare")
KNOWN_KEYS = frozenset(("target", "name", *TARGET_KEYS, *OPTION_KEYS))
_INT_KEYS = frozenset(("port", "warn_days", "connect_attempts"))
_FLOAT_KEYS = frozenset(("connect_timeout", "read_timeout"))


@dataclass(frozen=True, slots=True)
class FleetEntry:
    """One target to check, with the probing options it overrides (empty: the run's defaults)."""

    target: Target
    overrides: tuple[tuple[str, Any], ...] = ()
    line: int = 0


@dataclass(frozen=True, slots=True)
class BadLine:
    """An entry that could not be read; the rest of the fleet still runs."""

    source: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.message}"


@dataclass
class Fleet:
    """A fleet file opened for streaming. `total` is the number of entries when known up front."""

    source: str
    entries: Iterable[FleetEntry | BadLine]
    total: int | None = None
    defaults: dict[str, Any] = field(default_factory=dict)


def open_fleet(path: str, fmt: str | None = None, stdin: TextIO | None = None) -> Fleet:
    """Open `path` ('-' for stdin). `fmt` is txt, yaml or csv; by default the file name decides."""
    kind = fmt or _format_of(path)
    if path == "-":
        stream = stdin or io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8", errors="replace", newline="")
        return _open_stream("<stdin>", stream, kind, total=None)
    file = Path(path)
    try:
        text_total = _count_entries(file) if kind in ("txt", "csv") else None
        # Undecodable bytes become U+FFFD: that line then fails as a target, not the whole run.
        handle = file.open(encoding="utf-8", errors="replace", newline="")
    except OSError as exc:
        raise InputError(f"{path}: cannot read the fleet file ({exc.__class__.__name__}: {exc})") from exc
    return _open_stream(path, handle, kind, total=text_total)


def _format_of(path: str) -> str:
    lower = path.lower()
    if lower.endswith((".yaml", ".yml")):
        return "yaml"
    if lower.endswith(".csv"):
        return "csv"
    return "txt"


def _open_stream(source: str, stream: TextIO, kind: str, total: int | None) -> Fleet:
    if kind == "yaml":
        return _yaml_fleet(source, stream, seekable=source != "<stdin>" and stream.seekable())
    if kind == "csv":
        rows = csv.reader(_uncommented(stream))
        try:
            header = _csv_header(source, rows)  # a bad header stops the run before anything is checked
        except InputError:
            stream.close()
            raise
        return Fleet(source, _csv_entries(source, stream, rows, header),
                     total=None if total is None else max(0, total - 1))
    if kind == "txt":
        return Fleet(source, _text_entries(source, stream), total=total)
    raise InputError(f"{source}: unknown fleet format {kind!r} (txt, yaml or csv)")


def _count_entries(file: Path) -> int:
    """Entries in a text or CSV file, counted without keeping them (for the progress bar)."""
    count = 0
    with file.open("rb") as handle:
        for raw in handle:
            stripped = raw.split(b"#", 1)[0].strip()
            count += bool(stripped)
    return count


# --- hosts.txt: "TARGET [key=value ...]" per line --------------------------------------------


def _text_entries(source: str, stream: TextIO) -> Iterator[FleetEntry | BadLine]:
    with stream:
        for number, raw in enumerate(stream, start=1):
            text = raw.split("#", 1)[0].strip()
            if not text:
                continue
            first, *rest = text.split()
            fields: dict[str, Any] = {"target": first}
            bad = None
            for item in rest:
                key, sep, value = item.partition("=")
                if not sep or not key:
                    bad = f"expected key=value after the target, got {item!r}"
                    break
                fields[key.replace("-", "_")] = value
            yield BadLine(source, number, bad) if bad else entry_from_fields(source, number, fields)


# --- hosts.csv: a header row naming `target` (or `name`) and any override columns ---------------


def _csv_header(source: str, rows: Any) -> list[str]:
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        header = [cell.strip().lower().replace("-", "_") for cell in row]
        unknown = [c for c in header if c not in KNOWN_KEYS]
        if unknown or not ({"target", "name"} & set(header)):
            raise InputError(
                f"{source}:{rows.line_num}: the CSV header needs a 'target' column; "
                f"unknown columns: {', '.join(unknown) or 'none'} (known: {', '.join(sorted(KNOWN_KEYS))})"
            )
        return header
    raise InputError(f"{source}: empty CSV file (a header row with a 'target' column is needed)")


def _csv_entries(source: str, stream: TextIO, rows: Any, header: list[str]) -> Iterator[FleetEntry | BadLine]:
    with stream:
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except csv.Error as exc:  # a field over csv's size limit, a broken quote at the end
                yield BadLine(source, rows.line_num, f"unreadable CSV row ({exc})")
                continue
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                yield BadLine(source, rows.line_num, f"{len(row)} cells for {len(header)} columns")
                continue
            fields = {key: cell.strip() for key, cell in zip(header, row, strict=False) if cell.strip()}
            yield entry_from_fields(source, rows.line_num, fields)


def _uncommented(stream: TextIO) -> Iterator[str]:
    """Lines with '#' comment lines blanked (kept, so csv's line numbers stay true)."""
    for line in stream:
        yield "\n" if line.lstrip().startswith("#") else line


# --- fleet.yaml: a list of entries, or {defaults: {...}, targets: [...]} ------------------------


class _LineLoader(yaml.SafeLoader):
    """Safe loader that remembers the line of every mapping, so errors can name it."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping["__line__"] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


def _yaml_fleet(source: str, stream: TextIO, *, seekable: bool) -> Fleet:
    """Stream a fleet.yaml one target entry at a time. It is read twice: first to check the syntax
    and the layout, count the entries and find `defaults:` wherever it stands (errors stop the run
    before anything is checked), then to hand out the entries. Stdin is spooled to a temporary
    file first."""
    if not seekable:  # spool it (to disk, not memory), so it is checked before anything runs
        spool = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115 - closed by the entries
        with stream:
            shutil.copyfileobj(stream, spool)
        spool.seek(0)
        stream = spool
    count = 0
    defaults: dict[str, Any] = {}
    try:
        for kind, value, _ in _yaml_walk(source, stream):
            if kind == "defaults":
                defaults = value
            else:
                count += 1
        stream.seek(0)
    except BaseException:
        stream.close()
        raise
    return Fleet(source, _yaml_entries(source, stream, defaults), total=count, defaults=defaults)


def _yaml_entries(source: str, stream: TextIO, defaults: dict[str, Any]) -> Iterator[FleetEntry | BadLine]:
    with stream:
        for kind, value, line in _yaml_walk(source, stream):
            if kind == "item":
                yield _yaml_entry(source, value, line, defaults)


def _yaml_entry(source: str, item: Any, line: int, defaults: dict[str, Any]) -> FleetEntry | BadLine:
    if isinstance(item, str):
        fields: dict[str, Any] = {"target": item}
    elif isinstance(item, dict):
        fields = {str(k): v for k, v in item.items() if k != "__line__"}
        line = int(item.get("__line__", line))
    else:
        return BadLine(source, line, f"an entry must be a target or a mapping, not {type(item).__name__}")
    return entry_from_fields(source, line, {**defaults, **fields})


def _yaml_walk(source: str, stream: TextIO) -> Iterator[tuple[str, Any, int]]:
    """("defaults", mapping, line) and ("item", entry, line) in document order, each entry
    composed on its own so memory does not grow with the fleet."""
    loader = _LineLoader(stream)
    try:
        _skip(loader)  # stream start
        if loader.check_event(yaml.StreamEndEvent):
            return
        _skip(loader)  # document start
        if loader.check_event(yaml.SequenceStartEvent):
            _skip(loader)
            yield from _yaml_items(loader)
        elif loader.check_event(yaml.MappingStartEvent):
            yield from _yaml_mapping(source, loader)
        else:
            raise InputError(f"{source}: expected a list of targets, or a mapping with 'targets:' "
                             "(and optional 'defaults:')")
        _skip(loader)  # document end
        if not loader.check_event(yaml.StreamEndEvent):
            raise InputError(f"{source}: expected one YAML document, found more")
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InputError(f"{source}{where}: not valid YAML ({problem})") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{source}: cannot read the fleet file ({exc})") from exc
    finally:
        loader.dispose()


def _yaml_mapping(source: str, loader: _LineLoader) -> Iterator[tuple[str, Any, int]]:
    _skip(loader)  # mapping start
    seen: set[str] = set()
    while not loader.check_event(yaml.MappingEndEvent):
        key_node = _compose(loader)
        key = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "(not a name)"
        if key == "targets" and loader.check_event(yaml.SequenceStartEvent):
            _skip(loader)
            yield from _yaml_items(loader)
        elif key == "defaults":
            node = _compose(loader)
            value = loader.construct_document(node)
            if value is not None and not isinstance(value, dict):
                raise InputError(f"{source}:{node.start_mark.line + 1}: 'defaults:' must be a mapping")
            defaults = dict(value or {})
            defaults.pop("__line__", None)
            yield "defaults", defaults, node.start_mark.line + 1
        elif key == "targets":
            raise InputError(f"{source}:{key_node.start_mark.line + 1}: 'targets:' must be a list")
        else:
            raise InputError(f"{source}: expected a list of targets, or a mapping with 'targets:' "
                             f"(and optional 'defaults:'); found key {key!r}")
        seen.add(key)
    _skip(loader)  # mapping end
    if "targets" not in seen:
        raise InputError(f"{source}: expected a list of targets, or a mapping with 'targets:' "
                         "(and optional 'defaults:'); found no 'targets:'")


def _skip(loader: _LineLoader) -> None:
    loader.get_event()  # type: ignore[no-untyped-call]


def _compose(loader: _LineLoader) -> yaml.Node:
    node = loader.compose_node(None, None)  # type: ignore[arg-type]
    assert node is not None  # None only at a document's end, which every caller checks first
    return node


def _yaml_items(loader: _LineLoader) -> Iterator[tuple[str, Any, int]]:
    while not loader.check_event(yaml.SequenceEndEvent):
        node = _compose(loader)
        yield "item", loader.construct_document(node), node.start_mark.line + 1
    _skip(loader)  # sequence end


# --- one entry ----------------------------------------------------------------------------------


def entry_from_fields(source: str, line: int, fields: Mapping[str, Any]) -> FleetEntry | BadLine:
    """Check and convert one entry's fields; every problem becomes a BadLine naming the line."""
    unknown = sorted(k for k in fields if k not in KNOWN_KEYS)
    if unknown:
        return BadLine(source, line, f"unknown key {unknown[0]!r} (known: {', '.join(sorted(KNOWN_KEYS))})")
    text = fields.get("target", fields.get("name"))
    if not isinstance(text, str) or not text.strip():
        return BadLine(source, line, "no target (give 'target:' or 'name:')")
    try:
        values = {key: _convert(key, value) for key, value in fields.items()}
        target = parse_target(
            text, origin=values.get("origin"), host_header=values.get("host_header"),
            websocket=values.get("websocket"), port=values.get("port"),
        )
    except OriginDoctorError as exc:
        return BadLine(source, line, str(exc))
    if "path" in values:
        target = replace(target, path=values["path"] if values["path"].startswith("/") else "/" + values["path"])
    if "site" in values:
        target = replace(target, site=values["site"].lower().rstrip("."))
    if "profile" in values:
        target = replace(target, profile=values["profile"])
    overrides = tuple(sorted((k, values[k]) for k in (*OPTION_KEYS, "profile") if k in values))
    return FleetEntry(target, overrides, line)


def _convert(key: str, value: Any) -> Any:
    if key in _INT_KEYS:
        if isinstance(value, bool) or not str(value).strip().isdigit():
            raise InputError(f"{key} must be a whole number, got {value!r}")
        return int(str(value).strip())
    if key in _FLOAT_KEYS:
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise InputError(f"{key} must be a number of seconds, got {value!r}") from exc
        if not 0.05 <= number <= 180:
            raise InputError(f"{key} must be between 0.05 and 180 seconds, got {value!r}")
        return number
    if key == "compare":
        if isinstance(value, bool):
            return value
        text = str(value).strip().lower()
        if text not in ("true", "false", "yes", "no", "1", "0"):
            raise InputError(f"compare must be true or false, got {value!r}")
        return text in ("true", "yes", "1")
    if key == "ssl_protocols" and isinstance(value, list):
        return ",".join(str(v) for v in value)
    if isinstance(value, dict | list):
        raise InputError(f"{key} must be a single value, got a {type(value).__name__}")
    return str(value)
