"""`origin-doctor logs` end to end: JSON document, terminal tables, stdin, errors, --probe on loopback."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from logs_support import FIXTURES

from origin_doctor.cli import cli
from origin_doctor.lab.nginx import free_ports

AWS_EXAMPLE = FIXTURES / "aws-502-origin-dns-error.log"
MIXED = FIXTURES / "standard-mixed.log"


def run(*args: str, stdin: bytes | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["logs", *args], input=stdin)
    return result.exit_code, result.stdout, result.stderr


def test_json_is_one_document_with_schema() -> None:
    code, out, err = run(str(MIXED), "--json")
    assert code == 1  # CloudFront generated 5xx (OriginConnectError, OriginCommError)
    doc = json.loads(out)
    assert doc["schema"] == "origin-doctor/logs/1" and doc["tool"]["name"] == "origin-doctor"
    assert doc["series"]["buckets"] and doc["correlation"] is None and doc["probe"] is None
    assert err == ""


def test_only_origin_errors_exit_zero(tmp_path: Path) -> None:
    lines = MIXED.read_text().splitlines()
    keep = [line for line in lines if "OriginC" not in line]
    path = tmp_path / "origin-only.log"
    path.write_text("\n".join(keep) + "\n")
    code, out, _ = run(str(path), "--json")
    assert code == 0 and json.loads(out)["failures"]["total_5xx"] == 2


@pytest.mark.parametrize("packed", [False, True])
def test_stdin_dash_plain_and_gzip(packed: bool) -> None:
    data = AWS_EXAMPLE.read_bytes()
    code, out, _ = run("-", "--json", stdin=gzip.compress(data) if packed else data)
    assert code == 1
    doc = json.loads(out)
    assert doc["files"] == [{"file": "-", "format": "standard", "gzip": packed, "lines": 3}]


def test_terminal_tables_name_types_codes_and_bad_lines() -> None:
    code, out, _ = run(str(MIXED), "--since", "2026-11-20T00:00Z")
    assert code == 1
    for text in ("OriginConnectError", "OriginCommError", "tcp.refused", "(inference)", "ws.example.com",
                 "wss", "standard-mixed.log:8", "20 fields, header says 33"):  # fmt: skip
        assert text in out, text


def test_realtime_fields_flag() -> None:
    fields = (FIXTURES / "realtime.fields").read_text().strip()
    code, out, _ = run(str(FIXTURES / "realtime.log"), "--realtime-fields", fields, "--json")
    assert code == 1 and json.loads(out)["failures"]["total_5xx"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--since", "yesterday"], "--since 'yesterday'"),
        (["--since", "2026-11-21", "--until", "2026-11-20"], "--since must be before --until"),
        (["--bucket", "30s"], "--bucket '30s'"),
        (["--format", "realtime"], "needs --realtime-fields"),
        (["--realtime-fields", "timestamp,c-ip"], "needs sc-status"),
        (["--origin-format", "combined2 $x"], "--origin-format needs --origin-log"),
        (["--origin", "a=b"], "--origin goes with --probe"),
        (["--probe", "--origin", "nonsense"], "use HOST=ORIGIN"),
    ],
)
def test_usage_errors_are_one_line_exit_2(args: list[str], message: str) -> None:
    code, out, err = run(str(MIXED), *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and message in err and err.count("\n") == 1


def test_missing_file_is_an_input_error(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path / "nope.log"))
    assert code == 2 and "no such file or directory" in err
    code, _, err = run(str(tmp_path / "*.gz"))
    assert code == 2 and "no file matches" in err


def test_origin_log_in_combined_format_prints_the_log_format_to_add(tmp_path: Path) -> None:
    origin = tmp_path / "access.log"
    origin.write_text('127.0.0.1 - - [20/Nov/2026:10:07:00 +0000] "GET /api/items HTTP/1.1" 503 0 "-" "x"\nbroken\n')
    code, out, _ = run(str(MIXED), "--origin-log", str(origin))
    assert code == 1
    assert "time and path only" in out and "log_format origin_doctor" in out and "$http_x_amz_cf_id" in out
    assert "did not match the format" in out


def test_probe_checks_the_mapped_origin_and_sets_it_beside_the_log(tmp_path: Path) -> None:
    port = free_ports(1)[0]  # closed again: nothing listens there, so the connection is refused
    log = tmp_path / "cf.log"
    log.write_text(AWS_EXAMPLE.read_text().replace("OriginDnsError", "OriginConnectError")
                   .replace("www.example.com", "shop.example.test"))  # fmt: skip
    code, out, _ = run(
        str(log), "--probe", "--origin", f"shop.example.test=origin.example.test:{port}",
        "--resolve", f"origin.example.test:{port}:127.0.0.1", "--connect-attempts", "1",
        "--connect-timeout", "2", "--no-compare", "--json",
    )  # fmt: skip
    assert code == 1
    [row] = json.loads(out)["probe"]
    assert row["host"] == "shop.example.test" and row["origin"] == f"origin.example.test:{port}"
    assert row["logged_types"] == {"OriginConnectError": 1}
    assert (row["outcome"], row["primary"]) == ("502", "tcp.refused")
    assert row["consistent_with_log"] is True and row["fix"]


def test_log_content_is_never_read_as_markup(tmp_path: Path) -> None:
    log = tmp_path / "markup.log"
    log.write_text("#Fields: date time sc-status x-host-header cs-uri-stem x-edge-detailed-result-type\n"
                   "2026-11-20\t10:00:00\t502\t[bold]x[/y]\t/[/a]\tOriginConnectError\n")  # fmt: skip
    code, out, _ = run(str(log))
    assert code == 1 and "[bold]x[/y]" in out and "/[/a]" in out
