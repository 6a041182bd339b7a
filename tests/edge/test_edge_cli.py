"""`origin-doctor edge-function ...` through click: exit codes, clean --json stdout, one-line errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from origin_doctor.cli import cli
from origin_doctor.edge.rules import EventType, Runtime


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, ["edge-function", *args], catch_exceptions=False)


def write_json(tmp_path: Path, name: str, data: Any) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return str(path)


def sample(event: str, runtime: str = "lambda-edge") -> dict[str, Any]:
    result = invoke("sample", "--event", event, "--runtime", runtime)
    assert result.exit_code == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("runtime", [r.value for r in Runtime])
@pytest.mark.parametrize("event", [e.value for e in EventType])
def test_sample_then_validate_its_own_object(tmp_path: Path, event: str, runtime: str) -> None:
    if runtime == "cloudfront-functions" and not event.startswith("viewer"):
        result = invoke("sample", "--event", event, "--runtime", runtime)
        assert result.exit_code == 2 and result.stderr.startswith("error: CloudFront Functions")
        return
    data = sample(event, runtime)
    container = data["Records"][0]["cf"] if runtime == "lambda-edge" else data
    part = "request" if event.endswith("request") else "response"
    result_file = write_json(tmp_path, "result.json", container[part])
    event_file = write_json(tmp_path, "event.json", data)
    result = invoke("validate", result_file, "--event", event, "--runtime", runtime, "--input", event_file)
    assert result.exit_code == 0, result.stdout
    assert "CloudFront would accept" in result.stdout


def test_invalid_result_exits_1_with_json_document(tmp_path: Path) -> None:
    response = {"status": 204, "body": "x", "headers": {"x-cache": [{"key": "X-Cache", "value": "Hit"}]}}
    result = invoke("validate", write_json(tmp_path, "r.json", response), "--event", "viewer-request", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)  # stdout is exactly one JSON document
    assert document["schema"] == "origin-doctor/edge-function/1"
    assert (document["event"], document["runtime"], document["outcome"]) == ("viewer-request", "lambda-edge", "502")
    codes = {f["code"] for f in document["findings"]}
    assert {"function.status_invalid", "function.header_disallowed", "function.body_not_allowed"} <= codes
    for finding in document["findings"]:
        assert finding["evidence"]["path"].startswith("$")
        assert finding["evidence"]["source"]
        assert finding["evidence"]["cdn_answer"] == "502"
    assert "LambdaValidationError" in document["log_hint"]
    assert result.stderr == ""


def test_terminal_output_lists_path_rule_fix_and_verdict(tmp_path: Path) -> None:
    response = {"statusCode": "200"}
    result = invoke("validate", write_json(tmp_path, "r.json", response), "--event", "viewer-request",
                    "--runtime", "cloudfront-functions")
    assert result.exit_code == 1
    out = result.stdout
    assert "function.status_invalid" in out and "$.statusCode" in out
    assert "rule:" in out and "source:" in out and "fix:" in out
    assert "CloudFront would answer 502: statusCode must be an integer" in out


def test_malformed_json_is_one_line_with_position(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "status": "200",\n  "body": \n}\n')
    result = invoke("validate", str(path), "--event", "viewer-request")
    assert result.exit_code == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"error: {path}: invalid JSON at line 4 column 1: Expecting value")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["validate", "missing.json", "--event", "viewer-request"], "missing.json: no such file"),
        (["validate", "{dir}", "--event", "viewer-request"], "is a directory"),
        (["validate", "{ok}", "--event", "origin-request", "--runtime", "cloudfront-functions"],
         "CloudFront Functions do not run on origin-request events"),
        (["validate", "{ok}", "--event", "origin-request", "--input", "{viewer_event}"],
         "is a viewer-request event, but --event is origin-request"),
        (["validate", "{ok}", "--event", "viewer-request", "--input", "{ok}"], "not a lambda-edge event"),
        (["run", "nothere.py:handler", "--event", "viewer-request"], "nothere.py: no such file"),
        (["run", "{handler}:1bad", "--event", "viewer-request"], "must look like FILE.py:FUNCTION"),
    ],
)
def test_input_errors_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    handler = tmp_path / "h.py"
    handler.write_text("def handler(event, context):\n    return None\n")
    names = {
        "dir": str(tmp_path),
        "ok": write_json(tmp_path, "ok.json", {"status": "200"}),
        "viewer_event": write_json(tmp_path, "ev.json", sample("viewer-request")),
        "handler": str(handler),
    }
    result = CliRunner().invoke(cli, ["edge-function", *[a.format(**names) for a in args]])
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def _write_handler(tmp_path: Path, body: str) -> str:
    path = tmp_path / "edge_fn.py"
    path.write_text(textwrap.dedent(body))
    return str(path)


def test_run_valid_handler_exits_0(tmp_path: Path) -> None:
    handler = _write_handler(tmp_path, """
        def handler(event, context):
            request = event["Records"][0]["cf"]["request"]
            request["headers"]["x-experiment"] = [{"key": "X-Experiment", "value": "b"}]
            return request
    """)
    result = invoke("run", f"{handler}:handler", "--event", "origin-request", "--json")
    assert result.exit_code == 0, result.stdout
    document = json.loads(result.stdout)
    assert document["outcome"] == "ok" and document["execution"]["status"] == "returned"


def test_run_with_sample_file_compares_read_only_headers(tmp_path: Path) -> None:
    handler = _write_handler(tmp_path, """
        def handler(event, context):
            request = event["Records"][0]["cf"]["request"]
            request["headers"]["host"][0]["value"] = "elsewhere.example.com"
            return request
    """)
    event_file = write_json(tmp_path, "event.json", sample("viewer-request"))
    result = invoke("run", f"{handler}:handler", "--event", "viewer-request", "--sample", event_file, "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["primary"] == "function.header_read_only"
    assert document["findings"][0]["evidence"]["path"] == "$.headers.host"


def test_run_raising_handler_predicts_503(tmp_path: Path) -> None:
    handler = _write_handler(tmp_path, """
        def handler(event, context):
            print("about to fail")
            raise ValueError("no such user")
    """)
    result = invoke("run", f"{handler}:handler", "--event", "viewer-request")
    assert result.exit_code == 1
    assert "ValueError: no such user" in result.stdout
    assert "about to fail" in result.stdout
    assert "CloudFront would answer 503" in result.stdout


def test_run_timeout_override(tmp_path: Path) -> None:
    handler = _write_handler(tmp_path, """
        import time
        def handler(event, context):
            time.sleep(30)
    """)
    result = invoke("run", f"{handler}:handler", "--event", "origin-response", "--timeout", "0.3", "--json")
    assert result.exit_code == 1
    document = json.loads(result.stdout)
    assert document["outcome"] == "503" and document["primary"] == "function.timeout"
    assert document["execution"]["timeout_s"] == 0.3


def test_run_none_result_predicts_502(tmp_path: Path) -> None:
    handler = _write_handler(tmp_path, """
        def handler(event, context):
            event["Records"][0]["cf"]["request"]["uri"] = "/x"
    """)
    result = invoke("run", f"{handler}:handler", "--event", "viewer-request", "--json")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["primary"] == "function.result_invalid"


def test_validate_reads_stdin() -> None:
    result = CliRunner().invoke(cli, ["edge-function", "validate", "-", "--event", "origin-response", "--json"],
                                input='{"status": "200", "headers": {}}')
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["outcome"] == "ok"


def test_without_input_read_only_headers_are_a_note(tmp_path: Path) -> None:
    request = sample("viewer-request")["Records"][0]["cf"]["request"]
    result = invoke("validate", write_json(tmp_path, "r.json", request), "--event", "viewer-request", "--json")
    assert result.exit_code == 0
    notes = json.loads(result.stdout)["notes"]
    assert any("host" in note and "--input" in note for note in notes)
