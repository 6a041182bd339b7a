"""Read an nginx configuration with crossplane (includes followed) and list its `server` blocks
with the TLS settings each one ends up with, http-level values inherited as nginx does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import crossplane

from origin_doctor.errors import InputError

# nginx >= 1.23.4 defaults (older releases also enabled TLSv1 and TLSv1.1).
DEFAULT_PROTOCOLS = ("TLSv1.2", "TLSv1.3")
DEFAULT_CIPHERS = "HIGH:!aNULL:!MD5"
_INHERITED = ("ssl_protocols", "ssl_ciphers", "ssl_certificate", "ssl_certificate_key")


@dataclass(frozen=True, slots=True)
class Setting:
    """A directive's value and where it was written ("default" when nginx's own default)."""

    values: tuple[str, ...]
    where: str


@dataclass(frozen=True, slots=True)
class FilePair:
    certificate: str  # as written in the config
    key: str | None
    certificate_path: Path | None  # resolved; None when the value holds variables
    key_path: Path | None
    where: str  # file:line of the ssl_certificate directive


@dataclass(frozen=True, slots=True)
class ServerBlock:
    file: str
    line: int
    listen: tuple[str, ...]
    server_names: tuple[str, ...]
    tls: bool
    pairs: tuple[FilePair, ...]
    protocols: Setting
    ciphers: Setting

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    @property
    def label(self) -> str:
        first = next((n for n in self.server_names if n), "_")
        return f"{self.where} server_name {first}"


Entry = dict[str, Any]
Settings = dict[str, list[tuple[tuple[str, ...], str]]]


def _resolve(value: str, prefix: Path) -> Path | None:
    if "$" in value or value.startswith("data:"):
        return None
    path = Path(value)
    return path if path.is_absolute() else prefix / path


class _Walker:
    """Follows includes (crossplane resolved them into file indexes) and keeps file:line."""

    def __init__(self, configs: list[Entry]) -> None:
        self.configs = configs

    def entries(self, parsed: list[Entry], chain: tuple[int, ...]) -> list[tuple[Entry, str, tuple[int, ...]]]:
        """(directive, file:line, include chain) with includes spliced in, at this block level."""
        found: list[tuple[Entry, str, tuple[int, ...]]] = []
        file = self.configs[chain[-1]]["file"]
        for entry in parsed:
            where = f"{file}:{entry.get('line', '?')}"
            if entry["directive"] == "include":
                for index in entry.get("includes", []):
                    if index in chain:
                        raise InputError(f"{where}: include loop through {self.configs[index]['file']}")
                    found += self.entries(self.configs[index]["parsed"], (*chain, index))
            else:
                found.append((entry, where, chain))
        return found


def parse_config(main: Path, prefix: Path | None = None) -> tuple[list[ServerBlock], list[str]]:
    """Every http `server` block and the files read. Unreadable or invalid config: InputError
    naming file:line."""
    payload = crossplane.parse(str(main), catch_errors=True, combine=False)
    if payload["errors"]:
        error = payload["errors"][0]
        message = re.sub(r" in \S+:\d+$", "", str(error.get("error", "invalid configuration")))
        message = re.sub(r"^\[Errno \d+\] ", "", message)
        line = error.get("line")
        where = f"{error.get('file', main)}:{line}" if line else str(error.get("file", main))
        raise InputError(f"{where}: {message}")
    configs: list[Entry] = payload["config"]
    walker = _Walker(configs)
    base = prefix or main.parent
    blocks: list[ServerBlock] = []
    for entry, _, chain in walker.entries(configs[0]["parsed"], (0,)):
        if entry["directive"] != "http":
            continue
        http_settings: Settings = {}
        servers: list[tuple[Entry, str, tuple[int, ...]]] = []
        for item, where, inner in walker.entries(entry.get("block", []), chain):
            if item["directive"] in _INHERITED:
                http_settings.setdefault(item["directive"], []).append((tuple(item["args"]), where))
            elif item["directive"] == "server":
                servers.append((item, where, inner))
        # nginx merges http-level values into servers after reading the whole http block.
        blocks += [_server(walker, item, where, inner, http_settings, base) for item, where, inner in servers]
    return blocks, [c["file"] for c in configs]


def _server(walker: _Walker, entry: Entry, where: str, chain: tuple[int, ...], http: Settings,
            base: Path) -> ServerBlock:
    own: Settings = {}
    listen: list[str] = []
    names: list[str] = []
    ssl_on = False
    for item, item_where, _ in walker.entries(entry.get("block", []), chain):
        directive, args = item["directive"], tuple(item["args"])
        if directive == "listen":
            listen.append(" ".join(args))
        elif directive == "server_name":
            names.extend(args)
        elif directive == "ssl" and args == ("on",):
            ssl_on = True
        elif directive in _INHERITED:
            own.setdefault(directive, []).append((args, item_where))

    def pick(directive: str) -> list[tuple[tuple[str, ...], str]]:
        # A server-level directive replaces the http-level one entirely.
        return own.get(directive) or http.get(directive) or []

    certs, keys = pick("ssl_certificate"), pick("ssl_certificate_key")
    pairs = []
    for position, (args, cert_where) in enumerate(certs):
        key = keys[position][0][0] if position < len(keys) and keys[position][0] else None
        cert = args[0] if args else ""
        pairs.append(FilePair(cert, key, _resolve(cert, base), _resolve(key, base) if key else None, cert_where))
    protocols, ciphers = pick("ssl_protocols"), pick("ssl_ciphers")
    file, _, line = where.rpartition(":")
    return ServerBlock(
        file=file,
        line=int(line) if line.isdigit() else 0,
        listen=tuple(listen),
        server_names=tuple(names) or ("",),
        tls=ssl_on or any("ssl" in item.split() for item in listen),
        pairs=tuple(pairs),
        protocols=Setting(protocols[-1][0], protocols[-1][1]) if protocols else Setting(DEFAULT_PROTOCOLS, "default"),
        ciphers=Setting(ciphers[-1][0], ciphers[-1][1]) if ciphers else Setting((DEFAULT_CIPHERS,), "default"),
    )
