"""The HTML report rendered from real lab reports, read as text: structure, order, the missing
link, escaping of attacker-controlled text, the CSP hashes, the logs chart, and `check --html`."""

from __future__ import annotations

import base64
import hashlib
import html.parser
import re
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from origin_doctor.cli import cli
from origin_doctor.errors import InputError
from origin_doctor.report.html import render_html, write_html
from origin_doctor.report.html_view import run_view
from tests.html.support import EVIL_NAME, PAYLOADS, lab_args, lab_report, logs_document


@pytest.fixture(scope="module")
def report(lab, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    return lab_report(lab, tmp_path_factory.mktemp("evil"))


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    return logs_document(tmp_path_factory.mktemp("logs"))


class Elements(html.parser.HTMLParser):
    """Every start tag with its attributes, as a browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.data: dict[str, str] = {}  # inline <script>/<style> text

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._last = tag

    def handle_data(self, data: str) -> None:
        if getattr(self, "_last", None) in ("script", "style"):
            self.data[self._last] = self.data.get(self._last, "") + data
        self._last = None


def parsed(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    return parser


def test_view_puts_failing_targets_first_and_places_the_missing_link(report: dict[str, Any]) -> None:
    view = run_view(report)
    failed = [t.failed for t in view.targets]
    assert failed == sorted(failed, reverse=True) and any(failed) and not all(failed)
    assert view.failing == sum(failed) and view.total == len(report["results"])
    ws = next(t for t in view.targets if t.name == "ws.lab.test")
    assert ws.primary == "cert.chain_incomplete" and ws.cause == "certificate or chain"
    chain = ws.addresses[0].chain
    assert [c.missing for c in chain] == [False, True]
    assert chain[1].subject == "CN=Origin Doctor Lab CA R3,O=Origin Doctor Lab" == ws.missing_issuer
    assert dict(ws.stages) == {"dns": "ok", "tcp": "ok", "tls": "ok", "cert": "fail", "http": "ok"}
    refused = next(t for t in view.targets if t.name == "refused.lab.test")
    assert dict(refused.stages)["tcp"] == "fail" and dict(refused.stages)["tls"] == "skip"
    www = next(t for t in view.targets if t.name == "www.lab.test")
    assert not www.failed and all(not c.missing for c in www.addresses[0].chain) and www.tls_version
    expired = next(t for t in view.targets if t.name == "expired.lab.test")
    assert expired.expiry_days is not None and expired.expiry_days < 0
    assert expired.addresses[0].chain[0].expired


def test_page_is_self_contained_with_a_csp_matching_its_inline_code(report: dict[str, Any]) -> None:
    page = render_html(report)
    elements = parsed(page)
    for tag, attrs in elements.tags:
        for name in ("src", "href"):
            assert not (attrs.get(name) or "").startswith(("http:", "https:", "//")), (tag, attrs)
    assert [t for t, _ in elements.tags].count("script") == 1
    csp = next(a["content"] for t, a in elements.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
    assert csp is not None and "default-src 'none'" in csp
    for kind in ("script", "style"):
        digest = base64.b64encode(hashlib.sha256(elements.data[kind].encode()).digest()).decode()
        assert f"{kind}-src 'sha256-{digest}'" in csp
    assert page.count('<tr class="row') == len(report["results"])
    assert "Missing intermediate" in page and "Origin Doctor Lab CA R3" in page


def test_attacker_controlled_text_is_escaped(report: dict[str, Any], logs: dict[str, Any]) -> None:
    evil = next(r for r in report["results"] if r["target"]["name"] == EVIL_NAME)
    chain = evil["addresses"][0]["tls"]["chain"]
    assert "script" in chain[0]["subject"] and any("svg" in n for n in chain[0]["names"])  # the payloads got there
    assert logs["by_path"][0]["key"].startswith("/<script>")  # the log parser kept the markup
    for page in (render_html(report), render_html(logs)):
        elements = parsed(page)
        assert [t for t, _ in elements.tags].count("script") == 1
        assert not [t for t, _ in elements.tags if t in ("img", "iframe", "object", "embed")]
        assert not [a for _, a in elements.tags if any(k.startswith("on") for k in a)]
        for payload in PAYLOADS:
            assert payload not in page
    assert "&lt;svg onload=window.__pwned=3&gt;" in render_html(report)
    assert "&lt;script&gt;window.__pwned=4&lt;/script&gt;" in render_html(logs)


def test_logs_document_draws_the_5xx_chart(logs: dict[str, Any]) -> None:
    page = render_html(logs)
    bars = re.findall(r'<rect x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+" fill="(#[0-9a-f]{6})">', page)
    assert len(bars) == 21  # 12 buckets cycling (5,1,0), (9,0,2), (0,0,0), (14,3,1): 2 + 2 + 0 + 3 bars per cycle
    assert len(set(bars)) == 3
    assert "OriginConnectError (84)" in page and "OriginCommError (12)" in page and "OriginDnsError (9)" in page
    assert "105 5xx in 117 requests" in page


def test_logs_command_writes_html(tmp_path: Path) -> None:
    from tests.html.support import write_cloudfront_log

    log, out = write_cloudfront_log(tmp_path / "cf.log"), tmp_path / "logs.html"
    result = CliRunner().invoke(cli, ["logs", str(log), "--html", str(out)])
    assert result.exit_code == 1, result.output
    page = out.read_text()
    assert "5xx over time by detailed result type" in page and "<svg id=\"chart\"" in page


def test_write_html_and_bad_input(tmp_path: Path, logs: dict[str, Any]) -> None:
    target = tmp_path / "r.html"
    write_html(logs, target)
    assert target.read_text().startswith("<!DOCTYPE html>") and oct(target.stat().st_mode)[-3:] == "644"
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]
    with pytest.raises(InputError, match="schema"):
        render_html({"schema": "something/else"})
    with pytest.raises(InputError, match="cannot write"):
        write_html(logs, tmp_path / "missing-dir" / "r.html")


def test_check_writes_html(lab, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    port = lab.endpoints["ws.lab.test"][1]
    out = tmp_path / "ws.html"
    result = CliRunner().invoke(cli, ["check", f"ws.lab.test:{port}", "--html", str(out), "--json", *lab_args(lab)])
    assert result.exit_code == 1, result.output
    page = out.read_text()
    assert "1 of 1 targets would fail" in page and "cert.chain_incomplete" in page
    bad = CliRunner().invoke(cli, ["check", f"ws.lab.test:{port}", "--html", str(tmp_path / "no" / "x.html"),
                                   *lab_args(lab)])
    assert bad.exit_code == 2 and bad.output.startswith("error: ") and bad.output.count("\n") == 1
