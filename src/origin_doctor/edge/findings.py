"""The `function.*` finding codes, and the one helper that turns a broken rule into a Finding.

Every finding carries the JSON path of the offending field, the rule, its source and CloudFront's
predicted answer in its evidence, so the terminal and JSON renderers need nothing else.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from origin_doctor import codes
from origin_doctor.codes import CodeInfo
from origin_doctor.edge.rules import Rule
from origin_doctor.model import Finding, Severity

FAIL, WARN = Severity.FAIL, Severity.WARN
LAMBDA_CAUSE = 6  # item 6 in AWS's list of 502 causes: Lambda@Edge / CloudFront Functions validation

_ROWS = (
    CodeInfo("function.result_invalid", FAIL, "502", LAMBDA_CAUSE,
             "the function returned something that is neither a request nor a response object "
             "(null, a list, a string, the whole event)",
             "Return the (modified) request, or a response object, from the handler."),
    CodeInfo("function.missing_field", FAIL, "502", LAMBDA_CAUSE,
             "a field CloudFront needs is missing from the returned object (response status, request uri...)",
             "Start from the object in the event and change it, instead of building a new one."),
    CodeInfo("function.field_invalid", FAIL, "502", LAMBDA_CAUSE,
             "a field has the wrong type or an invalid value (uri, query string, statusDescription...)",
             "Give the field the type and form shown in the event structure."),
    CodeInfo("function.field_read_only", FAIL, "502", LAMBDA_CAUSE,
             "the function changed a read-only field (method, clientIp, a viewer-response status)",
             "Leave the field as the event had it."),
    CodeInfo("function.status_invalid", FAIL, "502", LAMBDA_CAUSE,
             "the status has the wrong type (Lambda@Edge wants a string, CloudFront Functions an integer) "
             "or lies outside 200-599",
             "Lambda@Edge: status: '302'. CloudFront Functions: statusCode: 302."),
    CodeInfo("function.header_shape", FAIL, "502", LAMBDA_CAUSE,
             "headers are not in the shape CloudFront reads (lowercase names; Lambda@Edge: a list of "
             "{key, value}; CloudFront Functions: {value})",
             "Lambda@Edge: headers['x-name'] = [{'key': 'X-Name', 'value': 'v'}]; "
             "CloudFront Functions: headers['x-name'] = {value: 'v'}."),
    CodeInfo("function.header_disallowed", FAIL, "502", LAMBDA_CAUSE,
             "the function adds a header CloudFront does not let functions set (Connection, X-Cache, X-Edge-*...)",
             "Remove the header from the function's result."),
    CodeInfo("function.header_read_only", FAIL, "502", LAMBDA_CAUSE,
             "the function adds or changes a header that is read-only in this event (Host, Via, Content-Length...)",
             "Leave the header as the event had it; set it elsewhere (origin, cache or response headers policy)."),
    CodeInfo("function.header_misplaced", WARN, None, None,
             "a CloudFront Function puts Cookie or Set-Cookie in headers instead of cookies "
             "(CloudFront's reaction is not documented)",
             "Use request.cookies / response.cookies for cookies."),
    CodeInfo("function.body_too_large", FAIL, "502", LAMBDA_CAUSE,
             "the generated response (headers and body) is over the event's size limit",
             "Shrink the body, or serve it from the origin (S3) and return a redirect instead."),
    CodeInfo("function.body_truncated", WARN, "ok", None,
             "a replaced request body is over the event's limit and CloudFront truncates it",
             "Send large bodies to the origin unchanged (action read-only), or use an origin-request trigger."),
    CodeInfo("function.body_invalid", FAIL, "502", LAMBDA_CAUSE,
             "the body has the wrong type or shape",
             "Lambda@Edge: body is a string. CloudFront Functions: a string or {data, encoding}."),
    CodeInfo("function.body_encoding_invalid", FAIL, "502", LAMBDA_CAUSE,
             "the body encoding is not text or base64, or a base64 body does not decode",
             "Use bodyEncoding 'text' or 'base64', and base64.b64encode(data).decode() for binary bodies."),
    CodeInfo("function.body_not_allowed", FAIL, "502", LAMBDA_CAUSE,
             "a body on a status that carries none (204, 304)",
             "Drop the body, or answer 200."),
    CodeInfo("function.origin_invalid", FAIL, "502", LAMBDA_CAUSE,
             "the origin object an origin-request function returns breaks a rule (IP domain, port, "
             "protocol, timeouts, sslProtocols, path, custom headers)",
             "Use a DNS name, port 80/443/1024-65535, protocol http/https, timeouts in range."),
    CodeInfo("function.execution_error", FAIL, "503", None,
             "the function raised, failed to import, or returned something the runtime cannot serialise",
             "Fix the error in the traceback; catch exceptions and return a response instead of raising."),
    CodeInfo("function.timeout", FAIL, "503", None,
             "the function ran past the event's time limit (5 s viewer, 30 s origin)",
             "Make the function faster; move slow work to the origin."),
)
codes.register(*_ROWS)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


def at(path: str, key: str | int) -> str:
    """The JSON path of `key` inside `path`: $.headers["x-cache"][0].value"""
    if isinstance(key, int):
        return f"{path}[{key}]"
    if _IDENTIFIER.match(key):
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key)}]"


def violation(
    code: str, rule: Rule, path: str, summary: str, subject: str = "result", fix: str | None = None,
    uncertain: str | None = None, **evidence: Any,
) -> Finding:
    """A Finding for one broken rule at one JSON path, with CloudFront's predicted answer."""
    answer = codes.info(code).cdn_answer
    details: dict[str, Any] = {"path": path, "rule": rule.statement, "source": rule.source, "cdn_answer": answer}
    note = uncertain or rule.uncertain
    if note:
        details["uncertain"] = note
    details.update(evidence)
    return codes.finding(code, subject, summary, fix, **details)


def json_type(value: object) -> str:
    """How a JSON reader would name the type of `value` (for messages)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    names: dict[type, str] = {str: "a string", list: "a list", dict: "an object"}
    return names.get(type(value), type(value).__name__)


@dataclass(slots=True)
class Collector:
    """Accumulates the findings of one validation, and notes on what could not be checked."""

    subject: str = "result"
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(
        self, code: str, rule: Rule, path: str, summary: str, fix: str | None = None,
        uncertain: str | None = None, **evidence: Any,
    ) -> None:
        self.findings.append(
            violation(code, rule, path, summary, self.subject, fix, uncertain, **evidence)
        )

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)
