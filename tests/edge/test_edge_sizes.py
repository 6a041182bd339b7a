"""Every size limit, just under (or at) and just over."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from origin_doctor.edge import rules
from origin_doctor.edge.rules import EventType, Runtime
from origin_doctor.edge.samples import sample_event
from origin_doctor.edge.validate import validate_result

LE = Runtime.LAMBDA_EDGE


def _codes(result: object, event: EventType) -> list[str]:
    return [f.code for f in validate_result(result, event, LE).findings]


def _request(event: EventType) -> dict[str, Any]:
    return copy.deepcopy(sample_event(event, LE)["Records"][0]["cf"]["request"])


def _base64_of_length(length: int) -> str:
    assert length % 4 == 0
    return "QUJD" * (length // 4)


@pytest.mark.parametrize("event", list(EventType))
@pytest.mark.parametrize("encoding", ["text", "base64"])
def test_generated_response_limit(event: EventType, encoding: str) -> None:
    limit = rules.GENERATED_RESPONSE_LIMIT[event]
    header = [{"key": "Content-Type", "value": "text/html"}]
    header_bytes = len("content-type") + len("text/html") + 4
    body_limit = limit - header_bytes
    if encoding == "base64":
        body_limit -= body_limit % 4
        under, over = _base64_of_length(body_limit), _base64_of_length(body_limit + 4)
    else:
        under, over = "a" * body_limit, "a" * (body_limit + 1)
    for body, expected in ((under, []), (over, ["function.body_too_large"])):
        response = {"status": "200", "headers": {"content-type": header}, "body": body, "bodyEncoding": encoding}
        assert _codes(response, event) == expected


def test_generated_response_size_counts_utf8_bytes() -> None:
    limit = rules.GENERATED_RESPONSE_LIMIT[EventType.VIEWER_REQUEST]
    body = "é" * (limit // 2 + 1)  # fewer characters than the limit, more bytes
    assert _codes({"status": "200", "body": body}, EventType.VIEWER_REQUEST) == ["function.body_too_large"]


@pytest.mark.parametrize("event", [EventType.VIEWER_REQUEST, EventType.ORIGIN_REQUEST])
@pytest.mark.parametrize("encoding", ["text", "base64"])
def test_replaced_request_body_is_truncated_over_the_limit(event: EventType, encoding: str) -> None:
    limit = rules.REQUEST_BODY_LIMIT[(event, encoding)]
    if encoding == "base64":
        under, over = _base64_of_length(limit - limit % 4), _base64_of_length(limit - limit % 4 + 4)
    else:
        under, over = "a" * limit, "a" * (limit + 1)
    for data, expected in ((under, []), (over, ["function.body_truncated"])):
        request = _request(event)
        request["body"] = {"action": "replace", "encoding": encoding, "data": data, "inputTruncated": False}
        validation = validate_result(request, event, LE)
        assert [f.code for f in validation.findings] == expected
        assert validation.outcome == "ok"  # truncation is not a 502


def test_request_body_limits_match_the_documented_numbers() -> None:
    assert rules.REQUEST_BODY_LIMIT[(EventType.VIEWER_REQUEST, "text")] == 40 * 1024
    assert rules.REQUEST_BODY_LIMIT[(EventType.VIEWER_REQUEST, "base64")] == 54476  # 53.2 KB
    assert rules.REQUEST_BODY_LIMIT[(EventType.ORIGIN_REQUEST, "base64")] == 1394606  # 1.33 MB


def test_uri_length_limit() -> None:
    request = _request(EventType.VIEWER_REQUEST)
    query = request["querystring"]
    request["uri"] = "/" + "a" * (rules.URI_MAX_CHARS - 2 - len(query) - 1)  # total 8191
    assert _codes(request, EventType.VIEWER_REQUEST) == []
    request["uri"] += "a"  # total 8192
    assert _codes(request, EventType.VIEWER_REQUEST) == ["function.field_invalid"]


@pytest.mark.parametrize(
    ("field", "under", "over"),
    [
        ("domainName", "a" * 249 + ".com", "a" * 250 + ".com"),
        ("path", "/" + "p" * 254, "/" + "p" * 255),
        ("port", 65535, 65536),
        ("readTimeout", 60, 61),
        ("keepaliveTimeout", 1, 0),
    ],
)
def test_origin_limits(field: str, under: object, over: object) -> None:
    for value, expected in ((under, []), (over, ["function.origin_invalid"])):
        request = _request(EventType.ORIGIN_REQUEST)
        request["origin"]["custom"][field] = value
        assert _codes(request, EventType.ORIGIN_REQUEST) == expected, value
