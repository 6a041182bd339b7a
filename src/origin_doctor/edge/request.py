"""Request objects returned by request-event functions: required fields, uri and query string,
read-only fields and headers, the Lambda@Edge request body, and the origin object.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from typing import Any

from origin_doctor.edge import rules
from origin_doctor.edge.findings import Collector, at, json_type
from origin_doctor.edge.headers import (
    HeaderContext,
    HeaderValues,
    check_headers,
    header_values,
    lambda_edge_values,
    single_values,
)
from origin_doctor.edge.response import body_text
from origin_doctor.edge.rules import EventType, Runtime

_MISSING_FIX = "Return the request object from the event (modified), not a new object."


def check_request(
    request: Mapping[str, Any], event: EventType, runtime: Runtime,
    original: Mapping[str, Any] | None, out: Collector,
) -> None:
    """Judge a request object returned by a viewer-request or origin-request function."""
    required = rules.LE_REQUEST_FIELDS if runtime is Runtime.LAMBDA_EDGE else rules.CFF_REQUEST_FIELDS
    for name, kind in required.items():
        if name not in request:
            out.add("function.missing_field", rules.REQUEST_FIELDS, at("$", name),
                    f"the returned request has no `{name}`", fix=_MISSING_FIX)
        elif not isinstance(request[name], kind):
            out.add("function.field_invalid", rules.REQUEST_FIELDS, at("$", name),
                    f"`{name}` must be {json_type(kind())}, not {json_type(request[name])}")
    _uri_and_query(request, runtime, out)
    if original is not None:
        for name in rules.READ_ONLY_FIELDS[runtime]:
            if name in original and name in request and request[name] != original[name]:
                out.add("function.field_read_only", rules.READ_ONLY_FIELD, at("$", name),
                        f"`{name}` is read-only; the function changes it from {original[name]!r} "
                        f"to {request[name]!r}", before=original[name], after=request[name])
    received = header_values(original.get("headers"), runtime) if original is not None else None
    headers: HeaderValues = {}
    if isinstance(request.get("headers"), Mapping):
        headers = check_headers(request["headers"], "$.headers", HeaderContext(event, runtime, False, received), out)
    if runtime is Runtime.CLOUDFRONT_FUNCTIONS:
        _cloudfront_function_maps(request, out)
        if "body" in request:
            out.note("the returned request has a `body`; CloudFront Functions cannot access or set the "
                     f"request body, so it has no effect (UNCERTAIN: {rules.CFF_NO_REQUEST_BODY.uncertain})")
        return
    if "body" in request:
        _lambda_edge_request_body(request["body"], event, out)
    if event is EventType.ORIGIN_REQUEST and "origin" in request:
        check_origin(request["origin"], headers, out)


def _uri_and_query(request: Mapping[str, Any], runtime: Runtime, out: Collector) -> None:
    uri = request.get("uri")
    if not isinstance(uri, str):
        return
    if not uri.startswith("/"):
        out.add("function.field_invalid", rules.URI_RULE, "$.uri", f"uri {uri[:60]!r} must start with '/'")
    query = request.get("querystring")
    query_length = len(query) + 1 if isinstance(query, str) and query else 0
    if len(uri) + query_length >= rules.URI_MAX_CHARS:
        out.add("function.field_invalid", rules.URI_RULE, "$.uri",
                f"uri and query string are {len(uri) + query_length:,} characters; "
                f"the limit is under {rules.URI_MAX_CHARS:,}", length=len(uri) + query_length)
    if runtime is Runtime.LAMBDA_EDGE and isinstance(query, str):
        bad = sorted({ch for ch in query if ch in rules.QUERY_FORBIDDEN_CHARS or ord(ch) < 0x20 or ord(ch) == 0x7F})
        if bad:
            out.add("function.field_invalid", rules.QUERYSTRING_RULE, "$.querystring",
                    f"the query string contains {', '.join(repr(ch) for ch in bad)}",
                    fix="Percent-encode the query string (urllib.parse.urlencode).")


def _cloudfront_function_maps(request: Mapping[str, Any], out: Collector) -> None:
    for field in ("querystring", "cookies"):
        entries = request.get(field)
        if not isinstance(entries, Mapping):
            continue
        for name, entry in entries.items():
            single_values(entry, at(at("$", field), name), rules.CFF_HEADER_SHAPE, out, f"{field} '{name}'")


def _lambda_edge_request_body(body: object, event: EventType, out: Collector) -> None:
    if not isinstance(body, Mapping):
        out.add("function.body_invalid", rules.REQUEST_BODY_SHAPE, "$.body",
                f"a request body must be an object {{action, encoding, data}}, not {json_type(body)}")
        return
    action = body.get("action", "read-only")
    if action not in rules.REQUEST_BODY_ACTIONS:
        out.add("function.body_invalid", rules.REQUEST_BODY_SHAPE, "$.body.action",
                f"body action {action!r} is neither 'read-only' nor 'replace'", value=action)
        return
    if action != "replace":
        return
    encoding = body.get("encoding", "base64")
    if encoding not in rules.BODY_ENCODINGS:
        out.add("function.body_encoding_invalid", rules.BODY_ENCODING, "$.body.encoding",
                f"body encoding {encoding!r} is neither 'text' nor 'base64'", value=encoding)
        return
    size = body_text(body.get("data"), encoding, "$.body.data", out)
    limit = rules.REQUEST_BODY_LIMIT[(event, encoding)]
    if size is not None and size > limit:
        out.add("function.body_truncated", rules.REQUEST_BODY_SIZE, "$.body.data",
                f"the replaced {encoding} body is {size:,} bytes; {event} truncates it at {limit:,}",
                size=size, limit=limit, encoding=encoding)


def check_origin(origin: object, request_headers: HeaderValues, out: Collector) -> None:
    """The origin object of an origin-request result: exactly one of custom or s3, each field in range."""
    if not isinstance(origin, Mapping) or len([key for key in ("custom", "s3") if key in origin]) != 1:
        out.add("function.origin_invalid", rules.ORIGIN_RULE, "$.origin",
                "origin must be an object with exactly one of `custom` or `s3`")
        return
    if "custom" in origin:
        _custom_origin(origin["custom"], request_headers, out)
    else:
        _s3_origin(origin["s3"], request_headers, out)


def _custom_origin(custom: object, request_headers: HeaderValues, out: Collector) -> None:
    base = "$.origin.custom"
    if not isinstance(custom, Mapping):
        out.add("function.origin_invalid", rules.ORIGIN_RULE, base, f"must be an object, not {json_type(custom)}")
        return
    for name in ("domainName", "port", "protocol", "path", "sslProtocols", "readTimeout", "keepaliveTimeout",
                 "customHeaders"):
        if name not in custom:
            out.add("function.missing_field", rules.ORIGIN_RULE, at(base, name),
                    f"the custom origin has no `{name}`", fix="Set every field of the custom origin object.",
                    uncertain="AWS's examples set every field; which missing field fails validation is not stated")
    _domain(custom.get("domainName"), at(base, "domainName"), rules.ORIGIN_DOMAIN_MAX, out, custom_origin=True)
    port = custom.get("port")
    if port is not None and not _valid_port(port):
        out.add("function.origin_invalid", rules.ORIGIN_RULE, at(base, "port"),
                f"port {port!r} is not 80, 443 or 1024-65535", value=port)
    protocol = custom.get("protocol")
    if protocol is not None and protocol not in rules.ORIGIN_PROTOCOLS:
        out.add("function.origin_invalid", rules.ORIGIN_RULE, at(base, "protocol"),
                f"protocol {protocol!r} is neither 'http' nor 'https'", value=protocol)
    for name, (low, high) in (("readTimeout", rules.ORIGIN_READ_TIMEOUT),
                              ("keepaliveTimeout", rules.ORIGIN_KEEPALIVE_TIMEOUT)):
        value = custom.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)
                                  or not low <= value <= high):
            out.add("function.origin_invalid", rules.ORIGIN_TIMEOUT_RULE, at(base, name),
                    f"{name} {value!r} is not a number of seconds in {low}-{high}", value=value)
    protocols = custom.get("sslProtocols")
    if protocols is not None and (not isinstance(protocols, list) or not protocols
                                  or not set(protocols) <= rules.ORIGIN_SSL_PROTOCOLS):
        out.add("function.origin_invalid", rules.ORIGIN_RULE, at(base, "sslProtocols"),
                f"sslProtocols {protocols!r} must be a non-empty list drawn from "
                f"{', '.join(sorted(rules.ORIGIN_SSL_PROTOCOLS))}", value=protocols)
    _path(custom.get("path"), at(base, "path"), out)
    _custom_headers(custom.get("customHeaders"), at(base, "customHeaders"), request_headers, out)


def _s3_origin(s3: object, request_headers: HeaderValues, out: Collector) -> None:
    base = "$.origin.s3"
    if not isinstance(s3, Mapping):
        out.add("function.origin_invalid", rules.S3_ORIGIN_RULE, base, f"must be an object, not {json_type(s3)}")
        return
    _domain(s3.get("domainName"), at(base, "domainName"), rules.S3_DOMAIN_MAX, out, custom_origin=False)
    method = s3.get("authMethod")
    if method is not None and method not in rules.S3_AUTH_METHODS:
        out.add("function.origin_invalid", rules.S3_ORIGIN_RULE, at(base, "authMethod"),
                f"authMethod {method!r} is neither 'origin-access-identity' nor 'none'", value=method)
    if method == "origin-access-identity" and not s3.get("region"):
        out.add("function.origin_invalid", rules.S3_ORIGIN_RULE, at(base, "region"),
                "an S3 origin with origin-access-identity needs its `region`")
    _path(s3.get("path"), at(base, "path"), out)
    _custom_headers(s3.get("customHeaders"), at(base, "customHeaders"), request_headers, out)


def _domain(domain: object, path: str, limit: int, out: Collector, custom_origin: bool) -> None:
    rule = rules.ORIGIN_RULE if custom_origin else rules.S3_ORIGIN_RULE
    if not isinstance(domain, str) or not domain:
        out.add("function.origin_invalid", rule, path, f"domainName must be a non-empty string, not {domain!r}")
        return
    problem = None
    if ":" in domain:
        problem = "contains ':' (an IPv6 address or a port); put the port in `port`"
    elif _is_ipv4(domain):
        problem = "is an IPv4 address; CloudFront needs a DNS name"
    elif len(domain) > limit:
        problem = f"is {len(domain)} characters; at most {limit}"
    elif not custom_origin and domain != domain.lower():
        problem = "must be lowercase"
    if problem:
        out.add("function.origin_invalid", rule, path, f"domainName {domain[:80]!r} {problem}", value=domain[:253])


def _is_ipv4(domain: str) -> bool:
    try:
        ipaddress.IPv4Address(domain)
    except ValueError:
        return False
    return True


def _valid_port(port: object) -> bool:
    if isinstance(port, bool) or not isinstance(port, int):
        return False
    low, high = rules.ORIGIN_PORT_RANGE
    return port in rules.ORIGIN_PORTS_FIXED or low <= port <= high


def _path(value: object, path: str, out: Collector) -> None:
    if value is None or value == "":
        return
    if (not isinstance(value, str) or not value.startswith("/") or value.endswith("/")
            or len(value) > rules.ORIGIN_PATH_MAX):
        out.add("function.origin_invalid", rules.ORIGIN_RULE, path,
                f"origin path {value!r} must start with '/', not end with '/', and be at most "
                f"{rules.ORIGIN_PATH_MAX} characters", value=value)


def _custom_headers(headers: object, path: str, request_headers: HeaderValues, out: Collector) -> None:
    if headers is None:
        return
    if not isinstance(headers, Mapping):
        out.add("function.header_shape", rules.LE_HEADER_SHAPE, path,
                f"customHeaders must be an object keyed by header name, not {json_type(headers)}")
        return
    for name, entry in headers.items():
        name_path = at(path, name)
        if lambda_edge_values(name, entry, name_path, out) is None:
            continue
        if rules.is_disallowed(name) or rules.is_denied_custom_header(name):
            out.add("function.origin_invalid", rules.CUSTOM_HEADERS_RULE, name_path,
                    f"'{name}' cannot be an origin custom header", header=name)
        elif name in request_headers:
            out.add("function.origin_invalid", rules.CUSTOM_HEADERS_RULE, name_path,
                    f"'{name}' is both an origin custom header and a request header", header=name,
                    fix=f"Keep '{name}' in one place: request.headers or origin customHeaders.")
