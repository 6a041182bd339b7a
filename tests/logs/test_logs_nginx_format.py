"""nginx log_format strings -> origin log parsers."""

from __future__ import annotations

import pytest

from origin_doctor.errors import UsageError
from origin_doctor.logs.nginx_format import RECOMMENDED_NGINX_LINE, OriginFormat

COMBINED_LINE = (
    '127.0.0.1 - - [20/Nov/2026:10:00:02 +0000] "GET /api/items%20x?page=2 HTTP/1.1" 502 157 "-" '
    '"curl/8.5.0"'
)


def test_combined_preset_parses_time_path_and_status() -> None:
    fmt = OriginFormat("combined")
    request = fmt.parse(COMBINED_LINE)
    assert request is not None
    assert request.time == 1795168802.0
    assert request.path == "/api/items x" and request.status == 502
    assert request.cf_id == "" and not fmt.has_cf_id


def test_directive_form_with_quoted_pieces_and_cf_id() -> None:
    fmt = OriginFormat(
        "log_format cf escape=default '$remote_addr [$time_iso8601] \"$request\" '\n"
        "                   '$status cf=$http_x_amz_cf_id host=${host}';"
    )
    assert fmt.has_cf_id
    request = fmt.parse('10.0.0.9 [2026-11-20T10:00:02+00:00] "GET / HTTP/1.1" 200 cf=abc_DEF== host=api.example.com')
    assert request is not None
    assert (request.cf_id, request.host, request.time) == ("abc_DEF==", "api.example.com", 1795168802.0)


def test_value_containing_the_stop_character_falls_back_to_lazy_match() -> None:
    fmt = OriginFormat("$remote_addr $upstream_response_time $status")
    request = fmt.parse("10.0.0.1 0.001, 0.002 504")
    assert request is not None and request.status == 504


def test_dash_means_no_cf_id_and_mismatch_is_none() -> None:
    fmt = OriginFormat("recommended")
    line = COMBINED_LINE + ' "api.example.com" "-" 0.003'
    request = fmt.parse(line)
    assert request is not None and request.cf_id == ""
    assert fmt.parse("not an access log line") is None


def test_recommended_line_is_a_valid_directive_for_our_parser() -> None:
    directive = RECOMMENDED_NGINX_LINE.splitlines()[0]
    assert OriginFormat(directive).has_cf_id


def test_format_without_variables_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        OriginFormat("just text")
