"""Response objects from edge functions: status, description, headers, cookies, body and size.

Covers responses generated in request events and responses modified in response events, for both
Lambda@Edge (`status` string, `body` + `bodyEncoding`) and CloudFront Functions (`statusCode`
integer, `body` string or {data, encoding}).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from origin_doctor.edge import rules
from origin_doctor.edge.findings import Collector, at, json_type
from origin_doctor.edge.headers import HeaderContext, HeaderValues, check_headers, single_values
from origin_doctor.edge.rules import EventType, Runtime


def check_response(
    response: Mapping[str, Any], event: EventType, runtime: Runtime,
    original: Mapping[str, Any] | None, received_headers: HeaderValues | None, out: Collector,
) -> None:
    """Judge a response object returned by a function; `original` is the event's response, if any."""
    generated = event.is_request
    if runtime is Runtime.LAMBDA_EDGE:
        status = _lambda_edge_status(response, event, original, out)
    else:
        status = _cloudfront_function_status(response, out)
    description = response.get("statusDescription")
    if description is not None and not isinstance(description, str):
        out.add("function.field_invalid", rules.LE_STATUS if runtime is Runtime.LAMBDA_EDGE else rules.CFF_STATUS,
                "$.statusDescription", f"statusDescription must be a string, not {json_type(description)}")
    headers: HeaderValues = {}
    if "headers" in response:
        ctx = HeaderContext(event, runtime, generated, None if generated else received_headers)
        headers = check_headers(response["headers"], "$.headers", ctx, out)
    if runtime is Runtime.CLOUDFRONT_FUNCTIONS and "cookies" in response:
        _cloudfront_function_cookies(response["cookies"], out)
    body_size = _body(response, runtime, out)
    if body_size is not None and body_size > 0 and status in rules.NO_BODY_STATUSES:
        documented = runtime is Runtime.LAMBDA_EDGE and event is EventType.VIEWER_REQUEST and status == 204
        out.add("function.body_not_allowed", rules.BODY_ON_204 if documented else rules.BODY_ON_NO_CONTENT,
                "$.body", f"a {status} response must not carry a body ({body_size} bytes here)", status=status)
    if runtime is Runtime.LAMBDA_EDGE:
        _generated_size(response, headers, body_size or 0, event, out)
    elif body_size:
        out.note(rules.CFF_BODY_SIZE_NOTE)


def _lambda_edge_status(
    response: Mapping[str, Any], event: EventType, original: Mapping[str, Any] | None, out: Collector
) -> int | None:
    if "status" not in response:
        out.add("function.missing_field", rules.LE_STATUS, "$.status",
                "the response has no `status`; it is the one required field", fix="Add status: '200' (a string).")
        return None
    status = response["status"]
    if not isinstance(status, str):
        fix = f"Write status: '{status}' (a string)." if isinstance(status, int) else None
        out.add("function.status_invalid", rules.LE_STATUS, "$.status",
                f"status must be a string such as \"200\", not {json_type(status)}", fix=fix, value=status)
        return status if isinstance(status, int) and not isinstance(status, bool) else None
    if not status.isascii() or not status.isdigit():
        out.add("function.status_invalid", rules.LE_STATUS, "$.status",
                f"status {status!r} is not a number written as a string", value=status)
        return None
    number = int(status)
    _status_range(number, rules.LE_STATUS_RANGE, out, "$.status")
    if event is EventType.VIEWER_RESPONSE and original is not None and "status" in original:
        before = str(original["status"])
        if before != status:
            out.add("function.field_read_only", rules.LE_VIEWER_RESPONSE_STATUS, "$.status",
                    f"a viewer-response function cannot change the status ({before} -> {status})",
                    fix="Change the status in an origin-response function instead.", before=before, after=status)
    return number


def _cloudfront_function_status(response: Mapping[str, Any], out: Collector) -> int | None:
    if "statusCode" not in response:
        out.add("function.missing_field", rules.CFF_STATUS, "$.statusCode",
                "the response has no `statusCode`", fix="Add statusCode: 200 (a number).")
        return None
    status = response["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int):
        fix = f"Write statusCode: {status} (a number, not a string)." if isinstance(status, str) else None
        out.add("function.status_invalid", rules.CFF_STATUS, "$.statusCode",
                f"statusCode must be an integer such as 200, not {json_type(status)}", fix=fix, value=status)
        if isinstance(status, str) and status.isascii() and status.isdigit():
            return int(status)
        return None
    _status_range(status, rules.CFF_STATUS_RANGE, out, "$.statusCode")
    return status


def _status_range(status: int, rule: rules.Rule, out: Collector, path: str) -> None:
    if not rules.STATUS_MIN <= status <= rules.STATUS_MAX:
        out.add("function.status_invalid", rule, path,
                f"status {status} is outside {rules.STATUS_MIN}-{rules.STATUS_MAX}", value=status)


def _cloudfront_function_cookies(cookies: object, out: Collector) -> None:
    if not isinstance(cookies, Mapping):
        out.add("function.header_shape", rules.CFF_HEADER_SHAPE, "$.cookies",
                f"cookies must be an object keyed by cookie name, not {json_type(cookies)}")
        return
    for name, entry in cookies.items():
        path = at("$.cookies", name)
        if single_values(entry, path, rules.CFF_HEADER_SHAPE, out, f"cookie '{name}'") is None:
            continue
        attributes = entry.get("attributes")
        if attributes is not None and not isinstance(attributes, str):
            out.add("function.header_shape", rules.CFF_HEADER_SHAPE, at(path, "attributes"),
                    f"cookie attributes must be a string such as 'Secure; Path=/', not {json_type(attributes)}")


def _body(response: Mapping[str, Any], runtime: Runtime, out: Collector) -> int | None:
    """Check body type and encoding; return its size in bytes as returned, None when absent or broken."""
    if runtime is Runtime.LAMBDA_EDGE:
        encoding = response.get("bodyEncoding", "text")
        if encoding not in rules.BODY_ENCODINGS:
            out.add("function.body_encoding_invalid", rules.BODY_ENCODING, "$.bodyEncoding",
                    f"bodyEncoding {encoding!r} is neither 'text' nor 'base64'", value=encoding)
            encoding = "text"
        return body_text(response.get("body"), encoding, "$.body", out)
    body = response.get("body")
    if isinstance(body, Mapping):
        encoding = body.get("encoding", "text")
        if encoding not in rules.BODY_ENCODINGS:
            out.add("function.body_encoding_invalid", rules.BODY_ENCODING, "$.body.encoding",
                    f"body encoding {encoding!r} is neither 'text' nor 'base64'", value=encoding)
            encoding = "text"
        return body_text(body.get("data"), encoding, "$.body.data", out)
    return body_text(body, "text", "$.body", out)


def body_text(body: object, encoding: str, path: str, out: Collector) -> int | None:
    """Size in bytes of a body string as the function returns it; base64 must decode."""
    if body is None:
        return None
    if not isinstance(body, str):
        out.add("function.body_invalid", rules.BODY_TYPE, path, f"the body must be a string, not {json_type(body)}",
                fix="Serialise the body yourself (json.dumps) and, for bytes, base64-encode it.")
        return None
    if encoding == "base64" and not is_base64(body):
        out.add("function.body_encoding_invalid", rules.BODY_BASE64, path,
                "the body is declared base64 but does not decode as base64", preview=body[:40])
    return len(body.encode("utf-8", "surrogatepass"))


def is_base64(text: str) -> bool:
    try:
        base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return False
    return True


def _generated_size(
    response: Mapping[str, Any], headers: HeaderValues, body_size: int, event: EventType, out: Collector
) -> None:
    header_bytes = sum(len(name) + len(value) + 4 for name, values in headers.items() for value in values)
    total = header_bytes + body_size
    limit = rules.GENERATED_RESPONSE_LIMIT[event]
    if total > limit:
        out.add("function.body_too_large", rules.GENERATED_SIZE, "$.body" if body_size else "$.headers",
                f"the response is {total:,} bytes (headers {header_bytes:,} + body {body_size:,}); "
                f"{event} allows {limit:,}", size=total, limit=limit, body_bytes=body_size,
                header_bytes=header_bytes, encoding=response.get("bodyEncoding", "text"))
