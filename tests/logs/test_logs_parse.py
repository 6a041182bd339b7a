"""Parsing real-format CloudFront logs: standard (header changes, gzip, bad lines), v2 JSON/plain, real-time."""

from __future__ import annotations

import gzip
import random
from pathlib import Path

from logs_support import FIXTURES, summarise

from origin_doctor.logs.fields import REALTIME_FIELDS, parse_field_list
from origin_doctor.logs.records import Window

AWS_EXAMPLE = FIXTURES / "aws-502-origin-dns-error.log"
MIXED = FIXTURES / "standard-mixed.log"


def by_type(doc: dict) -> dict[str, dict]:
    return {row["type"]: row for row in doc["by_detailed_result_type"]}


def test_aws_published_origin_dns_error_example() -> None:
    doc = summarise(AWS_EXAMPLE)
    assert doc["lines"] == {"lines": 3, "requests": 1, "outside_window": 0, "headers": 2, "blank": 0, "bad": 0}
    row = by_type(doc)["OriginDnsError"]
    assert row["count"] == 1 and row["statuses"] == {"502": 1}
    assert row["example_request_ids"] == ["kBkDzGnceVtWHqSCqBUqtA_cEs2T3tFUBbnBNkB9El_uVRhHgcZfcw=="]
    assert row["first_seen"] == row["last_seen"] == "2019-12-13T22:37:02Z"
    assert row["generated_by"] == "cdn" and row["mapping_certainty"] == "documented"
    assert "dns.nxdomain" in row["likely_codes"]
    assert doc["by_host"][0]["host"] == "www.example.com"
    assert doc["by_protocol"] == [{"key": "http", "count": 1}]
    assert doc["by_edge_location"] == [{"key": "SEA19-C2", "count": 1}]
    assert doc["probe_candidates"][0]["host"] == "www.example.com"
    assert doc["failures"]["cdn_generated_5xx"] == 1


def test_header_change_mid_file_and_wrong_field_count() -> None:
    doc = summarise(MIXED)
    assert doc["lines"] == {"lines": 10, "requests": 6, "outside_window": 0, "headers": 3, "blank": 0, "bad": 1}
    types = by_type(doc)
    # The old field set has no detailed type: the result type stands in for it.
    assert types["Error"]["count"] == 2
    assert types["OriginConnectError"]["count"] == 1 and types["OriginCommError"]["count"] == 1
    [bad] = doc["bad_lines"]["examples"]
    assert (bad["file"], bad["line"]) == (str(MIXED), 8)
    assert bad["reason"] == "20 fields, header says 33"
    ws = next(row for row in doc["by_host"] if row["host"] == "ws.example.com")
    assert ws["protocols"] == {"wss": 1}
    assert {"key": "/socket v2", "count": 1} in doc["by_path"]  # URL-decoded


def test_gzip_reads_the_same_as_plain(tmp_path: Path) -> None:
    packed = tmp_path / "E1.2026-11-20-10.abcd.gz"
    packed.write_bytes(gzip.compress(MIXED.read_bytes()))
    plain, zipped = summarise(MIXED), summarise(packed)
    assert zipped["files"][0]["gzip"] is True
    for key in ("lines", "by_detailed_result_type", "by_host", "series"):
        assert zipped[key] == plain[key]


def test_truncated_gzip_keeps_lines_read_and_reports_where_it_broke(tmp_path: Path) -> None:
    rng = random.Random(3)
    template = AWS_EXAMPLE.read_text().splitlines()
    body = [template[2].replace("kBkDz", f"{rng.getrandbits(64):016x}") for _ in range(3000)]
    data = gzip.compress(("\n".join(template[:2] + body) + "\n").encode())
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    doc = summarise(cut)
    assert 0 < doc["lines"]["requests"] < 3000
    truncated = [b for b in doc["bad_lines"]["examples"] if b["reason"].startswith("truncated or corrupt gzip")]
    assert len(truncated) == 1
    lines = doc["lines"]
    assert truncated[0]["line"] == lines["lines"]  # the unreadable rest is the last, bad, line
    assert lines["lines"] == sum(v for k, v in lines.items() if k != "lines")


def test_non_utf8_bytes_are_a_bad_line_not_a_crash(tmp_path: Path) -> None:
    data = MIXED.read_bytes().splitlines(keepends=True)
    broken = data[5].replace(b"/socket%20v2", b"/caf\xe9\xff")
    path = tmp_path / "latin1.log"
    path.write_bytes(b"".join(data + [broken]))
    doc = summarise(path)
    assert doc["bad_lines"]["by_reason"]["not UTF-8"] == 1
    example = next(b for b in doc["bad_lines"]["examples"] if b["reason"] == "not UTF-8")
    assert example["line"] == 11 and "\\xe9" in example["text"]
    assert doc["lines"]["requests"] == 6


def test_every_line_is_accounted_for(tmp_path: Path) -> None:
    path = tmp_path / "blank.log"
    path.write_bytes(MIXED.read_bytes() + b"\n\ngarbage-without-tabs\n")
    lines = summarise(path)["lines"]
    assert lines["blank"] == 2 and lines["bad"] == 2
    assert lines["lines"] == sum(v for k, v in lines.items() if k != "lines")


def test_data_before_any_header_is_bad(tmp_path: Path) -> None:
    path = tmp_path / "noheader.log"
    path.write_text("2026-11-20\t10:00:00\tshort\tline\n")
    doc = summarise(path)
    assert doc["bad_lines"]["examples"][0]["reason"] == "data line before any #Fields header"


def test_since_until_is_half_open() -> None:
    since, until = 1795168860.0, 1795168980.0  # 2026-11-20T10:01:00Z .. 10:03:00Z
    doc = summarise(MIXED, window=Window(since, until))
    assert doc["lines"]["requests"] == 2 and doc["lines"]["outside_window"] == 4
    assert doc["window"] == {"since": "2026-11-20T10:01:00Z", "until": "2026-11-20T10:03:00Z"}


def test_series_per_bucket_by_detailed_type() -> None:
    series = summarise(MIXED, bucket_seconds=300)["series"]
    assert series["bucket_seconds"] == 300
    starts = [b["start"] for b in series["buckets"]]
    assert starts == ["2026-11-20T10:00:00Z", "2026-11-20T10:05:00Z"]
    first, second = series["buckets"]
    assert first["requests"] == 5 and first["5xx"] == 3
    assert first["by_detailed_result_type"]["OriginCommError"] == 1
    assert second == {"start": "2026-11-20T10:05:00Z", "requests": 1, "5xx": 1,
                      "by_detailed_result_type": {"Error": 1, "OriginConnectError": 0, "OriginCommError": 0}}  # fmt: skip


def test_v2_json_lines() -> None:
    doc = summarise(FIXTURES / "v2.json")
    assert doc["files"][0]["format"] == "json"
    assert doc["lines"]["requests"] == 3 and doc["lines"]["bad"] == 1
    assert doc["bad_lines"]["examples"][0]["line"] == 4
    types = by_type(doc)
    assert types["OriginConnectError"]["first_seen"] == "2026-11-20T10:01:00Z"
    assert {"key": "/v1/items", "count": 1} in doc["by_path"]


def test_v2_plain_with_field_list(tmp_path: Path) -> None:
    fields = parse_field_list("timestamp(ms) sc-status x-edge-detailed-result-type x-host-header cs-protocol")
    path = tmp_path / "plain.log"
    path.write_text("1795168800000 200 Hit www.example.com https\n1795168801000 502 OriginConnectError ws.example.com wss\n")
    doc = summarise(path, fmt="plain", fields=fields, separator=b" ")
    assert doc["lines"]["requests"] == 2
    assert by_type(doc)["OriginConnectError"]["first_seen"] == "2026-11-20T10:00:01Z"


def test_realtime_records_with_field_list() -> None:
    fields = parse_field_list((FIXTURES / "realtime.fields").read_text())
    assert set(fields) <= set(REALTIME_FIELDS)
    doc = summarise(FIXTURES / "realtime.log", fmt="realtime", fields=fields)
    assert doc["lines"]["requests"] == 3 and doc["failures"]["total_5xx"] == 2
    assert by_type(doc)["OriginCommError"]["statuses"] == {"504": 1}
    assert doc["failures"]["first_seen"] == "2026-11-20T10:00:05Z"


def test_directory_and_glob_inputs(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "one.log").write_bytes(AWS_EXAMPLE.read_bytes())
    (tmp_path / "a" / "two.log.gz").write_bytes(gzip.compress(AWS_EXAMPLE.read_bytes()))
    from origin_doctor.logs.sources import expand

    assert len(expand([str(tmp_path / "a")])) == 2
    assert expand([str(tmp_path / "a" / "*.gz")]) == [str(tmp_path / "a" / "two.log.gz")]
    doc = summarise(*expand([str(tmp_path / "a")]))
    assert doc["failures"]["total_5xx"] == 2
