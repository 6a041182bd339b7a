"""Validate what an edge function returns for one event type and runtime: pure, no I/O.

    validate_result(result, event, runtime, received=None) -> Validation

`received` is the event the function was given; with it, read-only headers and fields are compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from origin_doctor.edge import rules
from origin_doctor.edge.findings import Collector, json_type
from origin_doctor.edge.headers import header_values
from origin_doctor.edge.request import check_request
from origin_doctor.edge.response import check_response
from origin_doctor.edge.rules import EventType, Runtime
from origin_doctor.errors import UsageError
from origin_doctor.model import Finding, Severity

_REQUEST_KEYS = frozenset({"uri", "method", "querystring", "clientIp", "origin", "cookies"})
_RESPONSE_KEYS = frozenset({"status", "statusCode", "statusDescription", "bodyEncoding"})


@dataclass(frozen=True, slots=True)
class Validation:
    event: EventType
    runtime: Runtime
    kind: str | None  # "request", "response", or None when the result is neither
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]

    @property
    def outcome(self) -> str:
        return outcome_of(self.findings)


def outcome_of(findings: tuple[Finding, ...] | list[Finding]) -> str:
    """CloudFront's answer: "503" for execution errors, "502" for failed validation, else "ok"."""
    answers = {f.evidence.get("cdn_answer") for f in findings if f.severity is Severity.FAIL}
    for answer in ("503", "502"):
        if answer in answers:
            return answer
    return "ok"


def check_pairing(event: EventType, runtime: Runtime) -> None:
    if runtime is Runtime.CLOUDFRONT_FUNCTIONS and not event.is_viewer:
        raise UsageError(
            f"CloudFront Functions do not run on {event} events (viewer-request and viewer-response only); "
            "use --runtime lambda-edge"
        )


def validate_result(
    result: object, event: EventType, runtime: Runtime, received: object = None, subject: str = "result"
) -> Validation:
    check_pairing(event, runtime)
    out = Collector(subject)
    kind = _classify(result, event, runtime, out)
    original_request, original_response = event_parts(received, runtime)
    if kind == "request" and isinstance(result, Mapping):
        check_request(result, event, runtime, original_request, out)
    elif kind == "response" and isinstance(result, Mapping):
        headers = None
        if original_response is not None:
            headers = header_values(original_response.get("headers"), runtime)
        check_response(result, event, runtime, original_response, headers, out)
    if received is None and kind is not None and _may_need_original(event, runtime, kind):
        out.note("read-only fields were not compared with the event the function received "
                 "(pass --input EVENT.json, or use `edge-function run`)")
    return Validation(event, runtime, kind, tuple(out.findings), tuple(out.notes))


def event_parts(received: object, runtime: Runtime) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    """The request and response objects inside an event as CloudFront passes it to the function."""
    if not isinstance(received, Mapping):
        return None, None
    container: object = received
    if runtime is Runtime.LAMBDA_EDGE:
        try:
            container = received["Records"][0]["cf"]
        except (KeyError, IndexError, TypeError):
            return None, None
    if not isinstance(container, Mapping):
        return None, None
    request, response = container.get("request"), container.get("response")
    return (request if isinstance(request, Mapping) else None,
            response if isinstance(response, Mapping) else None)


def event_type_of(received: object, runtime: Runtime) -> str | None:
    """The eventType an event declares (config.eventType or context.eventType), if any."""
    try:
        if runtime is Runtime.LAMBDA_EDGE:
            value = received["Records"][0]["cf"]["config"]["eventType"]  # type: ignore[index]
        else:
            value = received["context"]["eventType"]  # type: ignore[index]
    except (KeyError, IndexError, TypeError):
        return None
    return value if isinstance(value, str) else None


def _may_need_original(event: EventType, runtime: Runtime, kind: str) -> bool:
    if kind == "request":
        return True
    return runtime is Runtime.LAMBDA_EDGE and event is EventType.VIEWER_RESPONSE


def _classify(result: object, event: EventType, runtime: Runtime, out: Collector) -> str | None:
    """Decide whether the result is a request or a response, reporting results that are neither."""
    status_key = "status" if runtime is Runtime.LAMBDA_EDGE else "statusCode"
    if not isinstance(result, Mapping):
        what = "None (null)" if result is None else json_type(result)
        out.add("function.result_invalid", rules.RESULT_SHAPE, "$",
                f"the function returned {what}, not a request or response object",
                fix="Return event['Records'][0]['cf']['request'] (or the response, or a generated response)."
                if runtime is Runtime.LAMBDA_EDGE else "Return event.request or event.response.")
        return None
    if "Records" in result or "cf" in result or ("context" in result and ("request" in result or "response" in result)):
        out.add("function.result_invalid", rules.RESULT_SHAPE, "$",
                "the function returned the whole event; return only its request or response object")
        return None
    if runtime is Runtime.CLOUDFRONT_FUNCTIONS and set(result) in ({"request"}, {"response"}):
        key = next(iter(result))
        out.add("function.result_invalid", rules.RESULT_SHAPE, "$",
                f"the result wraps the object in {{\"{key}\": ...}}; return the {key} object itself")
        return None
    looks_like_response = bool(_RESPONSE_KEYS & set(result)) or (
        not _REQUEST_KEYS & set(result) and "body" in result
    )
    if not event.is_request:
        if not looks_like_response and _REQUEST_KEYS & set(result):
            out.add("function.result_invalid", rules.RESULT_SHAPE, "$",
                    f"a {event} function returned a request; it must return the response")
            return None
        return "response"
    if status_key in result or looks_like_response:
        return "response"
    if _REQUEST_KEYS & set(result) or "headers" in result:
        return "request"
    out.add("function.result_invalid", rules.RESULT_SHAPE, "$",
            "the result is neither a request (no uri, method) nor a response (no status)")
    return None
