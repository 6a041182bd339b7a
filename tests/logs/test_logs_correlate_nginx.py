"""Correlation against an access log written by a real nginx on loopback."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from origin_doctor.cli import cli
from origin_doctor.logs.fields import STANDARD_FIELDS
from origin_doctor.logs.nginx_format import COMBINED

WITH_CF_ID = '$remote_addr [$time_local] "$request" $status "$host" "$http_x_amz_cf_id" $request_time'


def send(port: int, path: str, host: str, cf_id: str) -> int:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path, headers={"Host": host, "X-Amz-Cf-Id": cf_id})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def cloudfront_line(when: float, status: str, detailed: str, request_id: str, host: str, path: str,
                    protocol: str = "https") -> str:  # fmt: skip
    stamp = time.gmtime(when)
    values = dict.fromkeys(STANDARD_FIELDS, "-")
    values.update({
        "date": time.strftime("%Y-%m-%d", stamp), "time": time.strftime("%H:%M:%S", stamp),
        "x-edge-location": "FRA56-P3", "sc-status": status, "cs-method": "GET", "cs-uri-stem": path,
        "x-edge-result-type": "Error" if status.startswith("5") else "Miss",
        "x-edge-detailed-result-type": detailed, "x-edge-request-id": request_id, "x-host-header": host,
        "cs-protocol": protocol, "time-taken": "0.020",
    })  # fmt: skip
    return "\t".join(values[name] for name in STANDARD_FIELDS)


def write_cloudfront_log(path: Path, when: float) -> None:
    rows = [
        cloudfront_line(when, "502", "Error", "REACHED-502-aaaa==", "api.example.com", "/fail/items"),
        cloudfront_line(when, "504", "OriginCommError", "REACHED-200-bbbb==", "api.example.com", "/slow"),
        cloudfront_line(when, "200", "Miss", "OK-1-cccc==", "api.example.com", "/ok"),
        cloudfront_line(when, "502", "OriginConnectError", "NEVER-1-dddd==", "ws.example.com", "/socket", "wss"),
        cloudfront_line(when, "502", "OriginConnectError", "NEVER-2-eeee==", "ws.example.com", "/socket", "wss"),
    ]
    path.write_text("#Version: 1.0\n#Fields: " + " ".join(STANDARD_FIELDS) + "\n" + "\n".join(rows) + "\n")


def correlate_via_cli(tmp_path: Path, log_format: str) -> dict[str, Any]:
    cloudfront = tmp_path / "cf.log"
    write_cloudfront_log(cloudfront, time.time())
    result = CliRunner().invoke(cli, [
        "logs", str(cloudfront), "--origin-log", str(tmp_path / "nginx" / "access.log"),
        "--origin-format", log_format, "--json",
    ])  # fmt: skip
    assert result.exit_code == 1, result.output  # CloudFront generated 5xx
    return dict(json.loads(result.stdout))


def test_request_ids_split_never_reached_from_failed_at_origin(tmp_path: Path, nginx: Callable[[str], Any]) -> None:
    with nginx(WITH_CF_ID) as port:
        assert send(port, "/fail/items", "api.example.com", "REACHED-502-aaaa==") == 502
        assert send(port, "/slow", "api.example.com", "REACHED-200-bbbb==") == 200
        assert send(port, "/ok", "api.example.com", "OK-1-cccc==") == 200
    assert (tmp_path / "nginx" / "access.log").read_text().count("REACHED-") == 2
    correlation = correlate_via_cli(tmp_path, WITH_CF_ID)["correlation"]
    assert correlation["mode"] == "request_id" and correlation["log_format_hint"] is None
    assert correlation["origin_lines"] == 3 and correlation["origin_lines_with_cf_id"] == 3
    hosts = {row["host"]: row for row in correlation["by_host"]}
    assert hosts["ws.example.com"]["failed"] == 2
    assert hosts["ws.example.com"]["never_reached_origin"] == 2
    assert hosts["ws.example.com"]["never_reached_by_detailed_result_type"] == {"OriginConnectError": 2}
    api = hosts["api.example.com"]
    assert (api["failed"], api["never_reached_origin"]) == (2, 0)
    assert api["reached_origin_failed_there"] == 1  # nginx itself answered 502
    assert api["reached_origin_answered"] == 1  # nginx answered 200, CloudFront still gave 504


def test_without_cf_id_falls_back_to_time_and_path(tmp_path: Path, nginx: Callable[[str], Any]) -> None:
    with nginx(COMBINED) as port:
        assert send(port, "/fail/items", "api.example.com", "REACHED-502-aaaa==") == 502
        assert send(port, "/slow", "api.example.com", "REACHED-200-bbbb==") == 200
    correlation = correlate_via_cli(tmp_path, "combined")["correlation"]
    assert correlation["mode"] == "time_and_path"
    assert "$http_x_amz_cf_id" in correlation["log_format_hint"]
    assert "time and path only" in correlation["note"]
    hosts = {row["host"]: row for row in correlation["by_host"]}
    assert hosts["ws.example.com"]["never_reached_origin"] == 2
    api = hosts["api.example.com"]
    assert api["never_reached_origin"] == 0
    assert (api["reached_origin_failed_there"], api["reached_origin_answered"]) == (1, 1)
