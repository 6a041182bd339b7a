"""The validation table: every invalid result has a valid twin that differs in one knob."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from origin_doctor.edge.rules import EventType, Runtime
from origin_doctor.edge.samples import sample_event
from origin_doctor.edge.validate import validate_result
from origin_doctor.errors import UsageError
from origin_doctor.model import Severity

LE, CFF = Runtime.LAMBDA_EDGE, Runtime.CLOUDFRONT_FUNCTIONS
VREQ, OREQ = EventType.VIEWER_REQUEST, EventType.ORIGIN_REQUEST
ORESP, VRESP = EventType.ORIGIN_RESPONSE, EventType.VIEWER_RESPONSE


def event_object(runtime: Runtime, event: EventType, part: str) -> dict[str, Any]:
    sample = sample_event(event, runtime)
    container = sample["Records"][0]["cf"] if runtime is LE else sample
    return copy.deepcopy(container[part])


def generated(runtime: Runtime, event: EventType) -> dict[str, Any]:
    """A small generated response (request events) in the runtime's shape."""
    if runtime is LE:
        return {"status": "302", "statusDescription": "Found",
                "headers": {"location": [{"key": "Location", "value": "https://www.example.com/"}],
                            "content-type": [{"key": "Content-Type", "value": "text/plain"}]},
                "body": "moved", "bodyEncoding": "text"}
    return {"statusCode": 302, "statusDescription": "Found",
            "headers": {"location": {"value": "https://www.example.com/"}},
            "cookies": {"seen": {"value": "1", "attributes": "Path=/"}},
            "body": {"encoding": "text", "data": "moved"}}


Base = Callable[[Runtime, EventType], dict[str, Any]]


def request(runtime: Runtime, event: EventType) -> dict[str, Any]:
    return event_object(runtime, event, "request")


def response(runtime: Runtime, event: EventType) -> dict[str, Any]:
    return event_object(runtime, event, "response")


@dataclass(frozen=True)
class Case:
    id: str
    runtime: Runtime
    event: EventType
    base: Base
    mutate: Callable[[dict[str, Any]], object]
    code: str
    path: str
    received: bool = False
    outcome: str = "502"


def _set(path: list[Any], value: object) -> Callable[[dict[str, Any]], None]:
    def mutate(obj: dict[str, Any]) -> None:
        target: Any = obj
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return mutate


def _delete(key: str) -> Callable[[dict[str, Any]], None]:
    def mutate(obj: dict[str, Any]) -> None:
        del obj[key]
    return mutate


def _le_header(name: str, value: str) -> Callable[[dict[str, Any]], None]:
    return _set(["headers", name.lower()], [{"key": name, "value": value}])


def _cff_header(name: str, value: str) -> Callable[[dict[str, Any]], None]:
    return _set(["headers", name.lower()], {"value": value})


CASES = [
    # --- Lambda@Edge, viewer request: generated responses ---
    Case("le-vreq-status-number", LE, VREQ, generated, _set(["status"], 302), "function.status_invalid", "$.status"),
    Case("le-vreq-status-text", LE, VREQ, generated, _set(["status"], "Found"), "function.status_invalid", "$.status"),
    Case("le-vreq-status-range", LE, VREQ, generated, _set(["status"], "199"), "function.status_invalid", "$.status"),
    Case("le-vreq-status-missing", LE, VREQ, generated, _delete("status"), "function.missing_field", "$.status"),
    Case("le-vreq-header-uppercase-key", LE, VREQ, generated,
         _set(["headers", "X-Trace"], [{"key": "X-Trace", "value": "1"}]), "function.header_shape",
         '$.headers["X-Trace"]'),
    Case("le-vreq-header-not-list", LE, VREQ, generated, _set(["headers", "content-type"], "text/plain"),
         "function.header_shape", '$.headers["content-type"]'),
    Case("le-vreq-header-key-mismatch", LE, VREQ, generated,
         _set(["headers", "content-type"], [{"key": "Content-Length", "value": "5"}]),
         "function.header_shape", '$.headers["content-type"][0].key'),
    Case("le-vreq-header-value-number", LE, VREQ, generated,
         _set(["headers", "content-type"], [{"key": "Content-Type", "value": 5}]),
         "function.header_shape", '$.headers["content-type"][0]'),
    Case("le-vreq-disallowed", LE, VREQ, generated, _le_header("X-Cache", "HIT"), "function.header_disallowed",
         '$.headers["x-cache"]'),
    Case("le-vreq-disallowed-prefix", LE, VREQ, generated, _le_header("X-Amz-Cf-Pop", "LHR"),
         "function.header_disallowed", '$.headers["x-amz-cf-pop"]'),
    Case("le-vreq-generated-read-only", LE, VREQ, generated, _le_header("Via", "1.1 proxy"),
         "function.header_read_only", "$.headers.via"),
    Case("le-vreq-204-body", LE, VREQ, generated, _set(["status"], "204"), "function.body_not_allowed", "$.body"),
    Case("le-vreq-encoding", LE, VREQ, generated, _set(["bodyEncoding"], "gzip"), "function.body_encoding_invalid",
         "$.bodyEncoding"),
    Case("le-vreq-bad-base64", LE, VREQ, generated, _set(["bodyEncoding"], "base64"),
         "function.body_encoding_invalid", "$.body"),
    Case("le-vreq-body-object", LE, VREQ, generated, _set(["body"], {"data": "x"}), "function.body_invalid", "$.body"),
    Case("le-vreq-description", LE, VREQ, generated, _set(["statusDescription"], 1), "function.field_invalid",
         "$.statusDescription"),
    # --- Lambda@Edge, viewer request: returned requests ---
    Case("le-vreq-missing-uri", LE, VREQ, request, _delete("uri"), "function.missing_field", "$.uri"),
    Case("le-vreq-uri-slash", LE, VREQ, request, _set(["uri"], "index.html"), "function.field_invalid", "$.uri"),
    Case("le-vreq-query-space", LE, VREQ, request, _set(["querystring"], "q=a b"), "function.field_invalid",
         "$.querystring"),
    Case("le-vreq-query-type", LE, VREQ, request, _set(["querystring"], {"q": "a"}), "function.field_invalid",
         "$.querystring"),
    Case("le-vreq-host-edited", LE, VREQ, request, _le_header("Host", "other.example.com"),
         "function.header_read_only", "$.headers.host", received=True),
    Case("le-vreq-viewer-country", LE, VREQ, request, _le_header("CloudFront-Viewer-Country", "GB"),
         "function.header_read_only", '$.headers["cloudfront-viewer-country"]', received=True),
    Case("le-vreq-method", LE, VREQ, request, _set(["method"], "POST"), "function.field_read_only", "$.method",
         received=True),
    Case("le-vreq-client-ip", LE, VREQ, request, _set(["clientIp"], "198.51.100.1"), "function.field_read_only",
         "$.clientIp", received=True),
    Case("le-vreq-request-body-base64", LE, VREQ, request,
         _set(["body"], {"action": "replace", "encoding": "base64", "data": "not base64!"}),
         "function.body_encoding_invalid", "$.body.data"),
    Case("le-vreq-request-body-action", LE, VREQ, request,
         _set(["body"], {"action": "rewrite", "encoding": "text", "data": "x"}), "function.body_invalid",
         "$.body.action"),
    # --- Lambda@Edge, origin request ---
    Case("le-oreq-ip-origin", LE, OREQ, request, _set(["origin", "custom", "domainName"], "192.0.2.10"),
         "function.origin_invalid", "$.origin.custom.domainName"),
    Case("le-oreq-colon-origin", LE, OREQ, request, _set(["origin", "custom", "domainName"], "origin.example.com:8443"),
         "function.origin_invalid", "$.origin.custom.domainName"),
    Case("le-oreq-port", LE, OREQ, request, _set(["origin", "custom", "port"], 1023), "function.origin_invalid",
         "$.origin.custom.port"),
    Case("le-oreq-port-string", LE, OREQ, request, _set(["origin", "custom", "port"], "443"),
         "function.origin_invalid", "$.origin.custom.port"),
    Case("le-oreq-protocol", LE, OREQ, request, _set(["origin", "custom", "protocol"], "tls"),
         "function.origin_invalid", "$.origin.custom.protocol"),
    Case("le-oreq-read-timeout", LE, OREQ, request, _set(["origin", "custom", "readTimeout"], 3),
         "function.origin_invalid", "$.origin.custom.readTimeout"),
    Case("le-oreq-keepalive", LE, OREQ, request, _set(["origin", "custom", "keepaliveTimeout"], 61),
         "function.origin_invalid", "$.origin.custom.keepaliveTimeout"),
    Case("le-oreq-ssl", LE, OREQ, request, _set(["origin", "custom", "sslProtocols"], ["TLSv1.3"]),
         "function.origin_invalid", "$.origin.custom.sslProtocols"),
    Case("le-oreq-path", LE, OREQ, request, _set(["origin", "custom", "path"], "/static/"),
         "function.origin_invalid", "$.origin.custom.path"),
    Case("le-oreq-custom-header-denied", LE, OREQ, request,
         _set(["origin", "custom", "customHeaders", "cache-control"], [{"key": "Cache-Control", "value": "no-cache"}]),
         "function.origin_invalid", '$.origin.custom.customHeaders["cache-control"]'),
    Case("le-oreq-custom-header-duplicate", LE, OREQ, request,
         _set(["origin", "custom", "customHeaders", "user-agent"], [{"key": "User-Agent", "value": "x"}]),
         "function.origin_invalid", '$.origin.custom.customHeaders["user-agent"]'),
    Case("le-oreq-origin-missing-field", LE, OREQ, request,
         lambda r: r["origin"]["custom"].pop("protocol"), "function.missing_field", "$.origin.custom.protocol"),
    Case("le-oreq-both-origins", LE, OREQ, request,
         _set(["origin", "s3"], {"domainName": "bucket.s3.amazonaws.com", "authMethod": "none", "path": ""}),
         "function.origin_invalid", "$.origin"),
    Case("le-oreq-accept-encoding", LE, OREQ, request, _le_header("Accept-Encoding", "identity"),
         "function.header_read_only", '$.headers["accept-encoding"]', received=True),
    Case("le-oreq-304-body", LE, OREQ, generated, _set(["status"], "304"), "function.body_not_allowed", "$.body"),
    # --- Lambda@Edge, origin response ---
    Case("le-oresp-status-number", LE, ORESP, response, _set(["status"], 200), "function.status_invalid", "$.status"),
    Case("le-oresp-status-range", LE, ORESP, response, _set(["status"], "600"), "function.status_invalid",
         "$.status"),
    Case("le-oresp-transfer-encoding", LE, ORESP, response, _le_header("Transfer-Encoding", "chunked"),
         "function.header_read_only", '$.headers["transfer-encoding"]', received=True),
    Case("le-oresp-via-edited", LE, ORESP, response, _le_header("Via", "1.1 mine"),
         "function.header_read_only", "$.headers.via", received=True),
    Case("le-oresp-returns-request", LE, ORESP, response, lambda r: event_object(LE, ORESP, "request"),
         "function.result_invalid", "$"),
    Case("le-oresp-disallowed", LE, ORESP, response, _le_header("Connection", "close"),
         "function.header_disallowed", "$.headers.connection"),
    # --- Lambda@Edge, viewer response ---
    Case("le-vresp-status-changed", LE, VRESP, response, _set(["status"], "404"), "function.field_read_only",
         "$.status", received=True),
    Case("le-vresp-warning", LE, VRESP, response, _le_header("Warning", "199 - x"), "function.header_read_only",
         "$.headers.warning", received=True),
    Case("le-vresp-x-edge", LE, VRESP, response, _le_header("X-Edge-Origin-Shield", "1"),
         "function.header_disallowed", '$.headers["x-edge-origin-shield"]'),
    # --- CloudFront Functions, viewer request ---
    Case("cff-vreq-status-string", CFF, VREQ, generated, _set(["statusCode"], "302"), "function.status_invalid",
         "$.statusCode"),
    Case("cff-vreq-status-missing", CFF, VREQ, generated, _delete("statusCode"), "function.missing_field",
         "$.statusCode"),
    Case("cff-vreq-header-uppercase", CFF, VREQ, generated, _set(["headers", "Location"], {"value": "/"}),
         "function.header_shape", "$.headers.Location"),
    Case("cff-vreq-header-le-shape", CFF, VREQ, generated,
         _set(["headers", "location"], [{"key": "Location", "value": "/"}]), "function.header_shape",
         "$.headers.location"),
    Case("cff-vreq-body-base64", CFF, VREQ, generated, _set(["body"], {"encoding": "base64", "data": "%%%"}),
         "function.body_encoding_invalid", "$.body.data"),
    Case("cff-vreq-body-encoding", CFF, VREQ, generated, _set(["body"], {"encoding": "binary", "data": "x"}),
         "function.body_encoding_invalid", "$.body.encoding"),
    Case("cff-vreq-disallowed", CFF, VREQ, generated, _cff_header("X-Accel-Redirect", "/x"),
         "function.header_disallowed", '$.headers["x-accel-redirect"]'),
    Case("cff-vreq-wrapped", CFF, VREQ, generated, lambda r: {"response": dict(r)}, "function.result_invalid", "$"),
    Case("cff-vreq-missing-cookies", CFF, VREQ, request, _delete("cookies"), "function.missing_field", "$.cookies"),
    Case("cff-vreq-query-string-type", CFF, VREQ, request, _set(["querystring"], "size=large"),
         "function.field_invalid", "$.querystring"),
    Case("cff-vreq-query-shape", CFF, VREQ, request, _set(["querystring", "size"], "large"),
         "function.header_shape", "$.querystring.size"),
    Case("cff-vreq-method", CFF, VREQ, request, _set(["method"], "DELETE"), "function.field_read_only", "$.method",
         received=True),
    Case("cff-vreq-host", CFF, VREQ, request, _cff_header("Host", "evil.example.com"), "function.header_read_only",
         "$.headers.host", received=True),
    Case("cff-vreq-multivalue", CFF, VREQ, request, _set(["headers", "accept", "multiValue"], ["a", "b"]),
         "function.header_shape", "$.headers.accept.multiValue"),
    # --- CloudFront Functions, viewer response ---
    Case("cff-vresp-status-float", CFF, VRESP, response, _set(["statusCode"], 200.5), "function.status_invalid",
         "$.statusCode"),
    Case("cff-vresp-x-cache", CFF, VRESP, response, _cff_header("X-Cache", "Hit"), "function.header_disallowed",
         '$.headers["x-cache"]'),
    Case("cff-vresp-warning", CFF, VRESP, response, _cff_header("Warning", "199 - x"), "function.header_read_only",
         "$.headers.warning", received=True),
    Case("cff-vresp-cookie-attributes", CFF, VRESP, response, _set(["cookies", "session", "attributes"], 1),
         "function.header_shape", "$.cookies.session.attributes"),
    Case("cff-vresp-set-cookie-header", CFF, VRESP, response, _cff_header("Set-Cookie", "a=b"),
         "function.header_misplaced", '$.headers["set-cookie"]', outcome="ok"),
    Case("cff-vresp-body-type", CFF, VRESP, response, _set(["body"], 42), "function.body_invalid", "$.body"),
]


def _run(case: Case, obj: object) -> Any:
    received = sample_event(case.event, case.runtime) if case.received else None
    return validate_result(obj, case.event, case.runtime, received)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_invalid_result_and_its_valid_twin(case: Case) -> None:
    twin = case.base(case.runtime, case.event)
    healthy = _run(case, copy.deepcopy(twin))
    assert [f.code for f in healthy.findings if f.severity is Severity.FAIL] == []
    assert healthy.outcome == "ok"

    broken = copy.deepcopy(twin)
    replaced = case.mutate(broken)
    result = replaced if isinstance(replaced, dict) else broken
    validation = _run(case, result)
    matching = [f for f in validation.findings if f.code == case.code]
    assert matching, [f.to_dict() for f in validation.findings]
    assert matching[0].evidence["path"] == case.path
    assert matching[0].evidence["source"]
    assert validation.outcome == case.outcome
    if case.outcome == "502":
        assert matching[0].evidence["cdn_answer"] == "502"


@pytest.mark.parametrize("value", [None, [], "ok", 200])
def test_non_object_results(value: object) -> None:
    validation = validate_result(value, VREQ, LE)
    assert [f.code for f in validation.findings] == ["function.result_invalid"]
    assert validation.outcome == "502"


def test_whole_event_returned() -> None:
    validation = validate_result(sample_event(OREQ, LE), OREQ, LE)
    assert [f.code for f in validation.findings] == ["function.result_invalid"]


def test_cloudfront_functions_do_not_run_on_origin_events() -> None:
    with pytest.raises(UsageError):
        validate_result({}, OREQ, CFF)


def test_uncertain_rules_say_so() -> None:
    validation = validate_result({"status": "700"}, VREQ, LE)
    (finding,) = validation.findings
    assert "uncertain" in finding.evidence


def test_read_only_headers_without_the_event_become_a_note() -> None:
    validation = validate_result(request(LE, VREQ), VREQ, LE)
    assert validation.outcome == "ok"
    assert any("host" in note and "--input" in note for note in validation.notes)


def test_sample_objects_pass_unchanged() -> None:
    for runtime in Runtime:
        for event in EventType:
            if runtime is CFF and not event.is_viewer:
                continue
            part = "request" if event.is_request else "response"
            obj = event_object(runtime, event, part)
            validation = validate_result(obj, event, runtime, sample_event(event, runtime))
            assert validation.findings == (), (runtime, event, validation.findings)
