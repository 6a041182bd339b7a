"""The self-contained HTML report: one file, CSS and JS inline, no network, rendered from the
JSON documents ('origin-doctor/report/1', 'origin-doctor/logs/1') by one autoescaping template.

Hostnames, certificate subjects and log fields are attacker-controlled text: they only ever reach
the page through Jinja2's autoescaping, and a Content-Security-Policy that allows nothing but our
own inline style and script (by hash) backs that up.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import os
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from origin_doctor.errors import InputError
from origin_doctor.report.html_chart import failures_chart
from origin_doctor.report.html_view import run_view
from origin_doctor.report.json import dumps

REPORT_SCHEMA = "origin-doctor/report/1"
LOGS_SCHEMA = "origin-doctor/logs/1"


def _asset(name: str) -> str:
    return (resources.files("origin_doctor.report") / "assets" / name).read_text(encoding="utf-8")


def _csp_hash(text: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("origin_doctor.report", "templates"),
        autoescape=True,  # every template, whatever its file name: the input is attacker-controlled
        undefined=jinja2.ChainableUndefined,  # a field missing from an older document renders empty
        trim_blocks=False,
    )
    return env.get_template("report.html.j2")


@functools.cache
def _inline_assets() -> dict[str, Any]:
    style, script = _asset("report.css"), _asset("report.js")
    # Markup: our own static files, inserted verbatim so their CSP hashes match byte for byte.
    return {"style": Markup(style), "script": Markup(script),
            "style_hash": _csp_hash(style), "script_hash": _csp_hash(script)}


def _logs_context(document: dict[str, Any]) -> dict[str, Any]:
    failures = document.get("failures") if isinstance(document.get("failures"), dict) else {}
    window = document.get("window") if isinstance(document.get("window"), dict) else {}
    logs = {
        "generated_at": document.get("generated_at", ""),
        "requests": document.get("requests", 0),
        "failures": {"total_5xx": 0, "cdn_generated_5xx": 0, **(failures or {})},
        "window": {"since": None, "until": None, **(window or {})},
        "by_detailed_result_type": _rows(document.get("by_detailed_result_type")),
        "by_host": _rows(document.get("by_host")),
        "by_path": _rows(document.get("by_path")),
    }
    probed = [row["result"] for row in _rows(document.get("probe")) if isinstance(row.get("result"), dict)]
    run = None
    if probed:
        run = run_view({"results": probed, "generated_at": document.get("generated_at")}, "Origins probed")
    return {"kind": "logs", "title": "origin-doctor logs report", "logs": logs,
            "chart": failures_chart(document.get("series")), "run": run}


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def render_html(document: dict[str, Any], title: str | None = None) -> str:
    """The page for a report or logs document; anything else is an input error."""
    # Through JSON first: the page shows exactly what --json would print (datetimes as ISO text).
    document = json.loads(dumps(document, indent=None))
    schema = document.get("schema")
    if schema == REPORT_SCHEMA:
        view = run_view(document, title or "origin-doctor report")
        context: dict[str, Any] = {"kind": "report", "title": view.title, "run": view}
    elif schema == LOGS_SCHEMA:
        context = _logs_context(document)
        if title:
            context["title"] = title
    else:
        raise InputError(f"cannot render a document with schema {schema!r} as HTML")
    return _template().render(**context, **_inline_assets())


def write_html(document: dict[str, Any], path: str | os.PathLike[str], title: str | None = None) -> None:
    """Write the page to `path` atomically (a half-written report never replaces a good one)."""
    target = Path(path)
    page = render_html(document, title)
    temporary: Path | None = None
    try:
        with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=target.parent, prefix=f".{target.name}.",
                                         suffix=".tmp", delete=False) as handle:
            temporary = Path(handle.name)
            handle.write(page)
        os.chmod(temporary, 0o644)  # a report to share, not the private 0600 of a temporary file
        os.replace(temporary, target)
    except OSError as exc:
        if temporary is not None:
            temporary.unlink(missing_ok=True)
        raise InputError(f"{target}: cannot write the HTML report ({exc.strerror or exc})") from exc
