"""The terminal view on a fixed-width console, the verdict line, and the code catalogue and its docs."""

from __future__ import annotations

import io
import re
from pathlib import Path

from click.testing import CliRunner
from rich.console import Console

from origin_doctor.cli import cli
from origin_doctor.codes import CATALOGUE
from origin_doctor.edge.report import EdgeReport, render, verdict_line
from origin_doctor.edge.rules import EventType, Runtime
from origin_doctor.edge.validate import validate_result

DOCS = Path(__file__).resolve().parents[2] / "docs"


def _report(result: object, event: EventType = EventType.VIEWER_REQUEST) -> EdgeReport:
    validation = validate_result(result, event, Runtime.LAMBDA_EDGE)
    return EdgeReport(event, Runtime.LAMBDA_EDGE, "result.json", validation.findings, validation.notes)


def _text(report: EdgeReport) -> str:
    console = Console(file=io.StringIO(), width=100, color_system=None, soft_wrap=True)
    console.print(render(report))
    output = console.file.getvalue()  # type: ignore[attr-defined]
    assert isinstance(output, str)
    return output


def test_render_lists_path_rule_source_fix_and_verdict() -> None:
    text = _text(_report({"status": "200", "headers": {"x-cache": [{"key": "X-Cache", "value": "Hit"}]}}))
    lines = text.splitlines()
    assert lines[0] == "result.json: lambda-edge viewer-request"
    assert lines[1] == '✗ function.header_disallowed  $.headers["x-cache"]'
    assert any(line.startswith("    rule:   disallowed headers") for line in lines)
    assert any(line.startswith("    source: https://docs.aws.amazon.com/") for line in lines)
    assert any(line.startswith("    fix:    Remove the header") for line in lines)
    assert lines[-1].startswith("CloudFront would answer 502: 'x-cache' is a disallowed header")


def test_verdict_prefers_a_certain_rule_and_flags_uncertain_ones() -> None:
    both = _report({"status": "700", "headers": {"x-cache": [{"value": "Hit"}]}})
    assert "[function.header_disallowed]" in verdict_line(both)
    assert "UNCERTAIN" not in verdict_line(both)
    only_uncertain = _report({"status": "700"})
    assert "UNCERTAIN" in verdict_line(only_uncertain)
    assert "⚠ UNCERTAIN" in _text(only_uncertain)


def test_accepting_verdict_counts_warnings() -> None:
    assert verdict_line(_report({"status": "200"})) == "CloudFront would accept this viewer-request result."


def test_every_function_code_is_documented_and_explained() -> None:
    codes_md = (DOCS / "codes.md").read_text(encoding="utf-8")
    headings = set(re.findall(r"^### (function\.\w+)$", codes_md, flags=re.M))
    ours = {code for code in CATALOGUE if code.startswith("function.")}
    assert ours and ours == headings
    for code in sorted(ours):
        result = CliRunner().invoke(cli, ["explain", code])
        assert result.exit_code == 0 and CATALOGUE[code].meaning in result.stdout
