"""nginx `log_format` strings turned into line parsers for the origin's access log.

Each `$variable` becomes a named group that stops at the next literal character, so the regex is
linear; a lazy fallback pattern catches values that contain that character.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import unquote

from origin_doctor.errors import UsageError

COMBINED = (
    '$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent '
    '"$http_referer" "$http_user_agent"'
)
# combined + the viewer's host, CloudFront's request id and the time nginx spent.
RECOMMENDED = COMBINED + ' "$host" "$http_x_amz_cf_id" $request_time'
RECOMMENDED_NGINX_LINE = (
    "log_format origin_doctor '$remote_addr - $remote_user [$time_local] \"$request\" $status "
    "$body_bytes_sent \"$http_referer\" \"$http_user_agent\" \"$host\" \"$http_x_amz_cf_id\" "
    "$request_time';\naccess_log /var/log/nginx/access.log origin_doctor;"
)
PRESETS = {"combined": COMBINED, "recommended": RECOMMENDED}
CF_ID = "http_x_amz_cf_id"

# Variables nginx always writes as a number (or '-'): anchors for the lazy fallback pattern.
_NUMERIC = frozenset({
    "status", "body_bytes_sent", "bytes_sent", "request_length", "request_time", "msec",
    "connection", "connection_requests", "pid", "server_port", "remote_port",
})  # fmt: skip
_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


@dataclass(frozen=True, slots=True)
class OriginRequest:
    time: float | None
    path: str
    status: int | None
    cf_id: str
    host: str


def normalise(text: str) -> str:
    """Accept the bare format, a preset name, or the `log_format name '...' '...';` directive."""
    text = text.strip()
    if text in PRESETS:
        return PRESETS[text]
    if text.startswith("log_format") or text[:1] in "'\"":
        try:
            tokens = shlex.split(text.rstrip(";"))
        except ValueError as exc:
            raise UsageError(f"--origin-format: cannot split the log_format directive ({exc})") from exc
        if tokens and tokens[0] == "log_format":
            tokens = tokens[2:]
        tokens = [t for t in tokens if not t.startswith(("escape=", "if="))]
        text = "".join(tokens)
    if "$" not in text:
        raise UsageError("--origin-format has no $variable; give an nginx log_format string")
    return text


class OriginFormat:
    """A compiled nginx log format: `parse(line)` gives an OriginRequest or None."""

    def __init__(self, text: str) -> None:
        self.text = normalise(text)
        pieces = _VARIABLE.split(self.text)
        # split() yields literal, braced-name, bare-name, literal, ...
        literals = pieces[0::3]
        names = [braced or bare for braced, bare in zip(pieces[1::3], pieces[2::3], strict=True)]
        self.variables = tuple(names)
        strict, lazy = ["^", re.escape(literals[0])], ["^", re.escape(literals[0])]
        seen: set[str] = set()
        for position, name in enumerate(names):
            following = literals[position + 1]
            group = f"?P<{name}>" if name not in seen else "?:"
            seen.add(name)
            stop = following[:1]
            if name in _NUMERIC:
                strict.append(f"({group}-|[0-9][0-9.]*)")
                lazy.append(f"({group}-|[0-9][0-9.]*)")
            else:
                strict.append(f"({group}[^{re.escape(stop)}]*)" if stop else f"({group}.*)")
                lazy.append(f"({group}.*?)" if stop else f"({group}.*)")
            strict.append(re.escape(following))
            lazy.append(re.escape(following))
        self._strict = re.compile("".join(strict) + "$")
        self._lazy = re.compile("".join(lazy) + "$")
        self.has_cf_id = CF_ID in seen
        self._time_cache: dict[str, float | None] = {}

    def parse(self, line: str) -> OriginRequest | None:
        match = self._strict.match(line) or self._lazy.match(line)
        if match is None:
            return None
        values = match.groupdict()
        status_text = values.get("status", "")
        return OriginRequest(
            time=self._time(values),
            path=_path(values),
            status=int(status_text) if status_text and status_text.isdigit() else None,
            cf_id=_clean(values.get(CF_ID, "")),
            host=_clean(values.get("host") or values.get("http_host") or values.get("server_name") or ""),
        )

    def _time(self, values: dict[str, str]) -> float | None:
        if "msec" in values:
            try:
                return float(values["msec"])
            except ValueError:
                return None
        for name, pattern in (("time_local", "%d/%b/%Y:%H:%M:%S %z"), ("time_iso8601", "%Y-%m-%dT%H:%M:%S%z")):
            raw = values.get(name)
            if raw is None:
                continue
            if raw not in self._time_cache:
                if len(self._time_cache) > 4096:
                    self._time_cache.clear()
                try:
                    self._time_cache[raw] = datetime.strptime(raw, pattern).timestamp()
                except ValueError:
                    self._time_cache[raw] = None
            return self._time_cache[raw]
        return None


def _clean(raw: str) -> str:
    return "" if raw == "-" else raw


def _path(values: dict[str, str]) -> str:
    if values.get("uri"):
        return values["uri"]
    target = values.get("request_uri") or ""
    if not target and values.get("request"):
        parts = values["request"].split(" ")
        target = parts[1] if len(parts) >= 2 else ""
    return unquote(target.split("?", 1)[0])  # $request is raw; CloudFront's stem is decoded too
