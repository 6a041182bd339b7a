"""Realistic sample events, one per event type and runtime, shaped like the documented event structures.

Addresses and names are documentation ones (RFC 5737, example.com); each sample's own request or
response, returned unchanged, passes validation.
"""

from __future__ import annotations

from typing import Any

from origin_doctor.edge.rules import EventType, Runtime

_DISTRIBUTION = {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE"}
_REQUEST_ID = "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="
_VIA = "2.0 8f22423015641505b8c857a37450d6c0.cloudfront.net (CloudFront)"
_VIEWER_IP = "203.0.113.178"


def _lambda_edge_headers(pairs: list[tuple[str, str]]) -> dict[str, list[dict[str, str]]]:
    headers: dict[str, list[dict[str, str]]] = {}
    for key, value in pairs:
        headers.setdefault(key.lower(), []).append({"key": key, "value": value})
    return headers


def _viewer_request_headers() -> list[tuple[str, str]]:
    return [
        ("Host", "www.example.com"),
        ("User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"),
        ("Accept", "text/html,application/xhtml+xml"),
        ("Accept-Language", "en-GB,en;q=0.5"),
        ("Accept-Encoding", "gzip, deflate, br"),
        ("Cookie", "session=abc123; theme=light"),
    ]


def _origin_request_headers() -> list[tuple[str, str]]:
    return [
        ("Host", "origin.example.com"),
        ("User-Agent", "Amazon CloudFront"),
        ("Via", _VIA),
        ("X-Forwarded-For", _VIEWER_IP),
        ("Accept-Encoding", "gzip"),
        ("CloudFront-Forwarded-Proto", "https"),
    ]


def _response_headers(event: EventType) -> list[tuple[str, str]]:
    pairs = [
        ("Content-Type", "text/html; charset=utf-8"),
        ("Content-Length", "1270"),
        ("Date", "Sun, 29 Nov 2026 10:00:00 GMT"),
        ("Last-Modified", "Fri, 27 Nov 2026 08:30:00 GMT"),
        ("ETag", '"5e8c0b2a-4f6"'),
        ("Server", "nginx"),
        ("Via", _VIA),
    ]
    if event is EventType.VIEWER_RESPONSE:
        pairs.append(("Age", "42"))
    return pairs


def _lambda_edge(event: EventType) -> dict[str, Any]:
    viewer_side = event in (EventType.VIEWER_REQUEST, EventType.VIEWER_RESPONSE)
    request: dict[str, Any] = {
        "clientIp": _VIEWER_IP,
        "headers": _lambda_edge_headers(_viewer_request_headers() if viewer_side else _origin_request_headers()),
        "method": "GET",
        "querystring": "size=large",
        "uri": "/images/picture.jpg",
    }
    if event is EventType.ORIGIN_REQUEST:
        request["origin"] = {
            "custom": {
                "customHeaders": {"x-origin-verify": [{"key": "X-Origin-Verify", "value": "sample-secret"}]},
                "domainName": "origin.example.com",
                "keepaliveTimeout": 5,
                "path": "",
                "port": 443,
                "protocol": "https",
                "readTimeout": 30,
                "sslProtocols": ["TLSv1.2"],
            }
        }
    record: dict[str, Any] = {
        "config": {**_DISTRIBUTION, "eventType": str(event), "requestId": _REQUEST_ID},
        "request": request,
    }
    if not event.is_request:
        record["response"] = {
            "headers": _lambda_edge_headers(_response_headers(event)),
            "status": "200",
            "statusDescription": "OK",
        }
    return {"Records": [{"cf": record}]}


def _cloudfront_functions(event: EventType) -> dict[str, Any]:
    headers = {key.lower(): {"value": value} for key, value in _viewer_request_headers() if key != "Cookie"}
    sample: dict[str, Any] = {
        "version": "1.0",
        "context": {**_DISTRIBUTION, "eventType": str(event), "requestId": _REQUEST_ID},
        "viewer": {"ip": _VIEWER_IP},
        "request": {
            "method": "GET",
            "uri": "/images/picture.jpg",
            "querystring": {"size": {"value": "large"}},
            "headers": headers,
            "cookies": {"session": {"value": "abc123"}, "theme": {"value": "light"}},
        },
    }
    if event is EventType.VIEWER_RESPONSE:
        sample["response"] = {
            "statusCode": 200,
            "statusDescription": "OK",
            "headers": {key.lower(): {"value": value} for key, value in _response_headers(event)},
            "cookies": {"session": {"value": "abc123", "attributes": "Secure; HttpOnly; Path=/"}},
        }
    return sample


def sample_event(event: EventType, runtime: Runtime) -> dict[str, Any]:
    """A fresh sample event (callers may modify it)."""
    if runtime is Runtime.LAMBDA_EDGE:
        return _lambda_edge(event)
    return _cloudfront_functions(event)
