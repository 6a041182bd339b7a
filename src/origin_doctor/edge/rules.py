"""What CloudFront accepts from an edge function, as data: every limit, list and range with its source.

Validators read only this module; when AWS changes a number, it changes here. `uncertain` says where
the source is indirect or silent, and the product repeats it wherever the rule is reported.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class EventType(enum.StrEnum):
    VIEWER_REQUEST = "viewer-request"
    ORIGIN_REQUEST = "origin-request"
    ORIGIN_RESPONSE = "origin-response"
    VIEWER_RESPONSE = "viewer-response"

    @property
    def is_request(self) -> bool:
        return self in (EventType.VIEWER_REQUEST, EventType.ORIGIN_REQUEST)

    @property
    def is_viewer(self) -> bool:
        return self in (EventType.VIEWER_REQUEST, EventType.VIEWER_RESPONSE)


class Runtime(enum.StrEnum):
    LAMBDA_EDGE = "lambda-edge"
    CLOUDFRONT_FUNCTIONS = "cloudfront-functions"


@dataclass(frozen=True, slots=True)
class Rule:
    """One documented constraint: what it says, where it is written, and how sure we are."""

    statement: str
    source: str
    uncertain: str | None = None


_GUIDE = "https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/"
_ARCHIVE = "[AWS-2023] awsdocs/amazon-cloudfront-developer-guide doc_source/"

SRC_RESTRICTIONS = f"{_GUIDE}edge-functions-restrictions.html ({_ARCHIVE}edge-functions-restrictions.md)"
SRC_GENERATED = (
    f"{_GUIDE}lambda-generating-http-responses.html ({_ARCHIVE}lambda-generating-http-responses-in-requests.md)"
)
SRC_UPDATING = f"{_GUIDE}lambda-updating-http-responses.html"
SRC_LE_EVENT = f"{_GUIDE}lambda-event-structure.html ({_ARCHIVE}lambda-event-structure.md)"
SRC_CFF_EVENT = f"{_GUIDE}functions-event-structure.html ({_ARCHIVE}functions-event-structure.md)"
SRC_QUOTAS = f"{_GUIDE}cloudfront-limits.html ({_ARCHIVE}cloudfront-limits.md)"
SRC_CUSTOM_HEADERS = f"{_GUIDE}add-origin-custom-headers.html ({_ARCHIVE}add-origin-custom-headers.md)"
SRC_502 = f"{_GUIDE}http-502-bad-gateway.html"
SRC_503 = f"{_GUIDE}http-503-service-unavailable.html"
SRC_LAMBDA_PY = "https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html"

KB = 1024
MB = 1024 * 1024
_UNIT_NOTE = "AWS writes KB/MB without saying 1,000 or 1,024; read here as 1,024 (inference)"

# --- runtimes and events -------------------------------------------------------------------------

CLOUDFRONT_FUNCTION_EVENTS = Rule(
    "CloudFront Functions run only on viewer-request and viewer-response events",
    f"{SRC_QUOTAS}; {SRC_RESTRICTIONS}",
)

TIMEOUT_SECONDS: dict[EventType, float] = {
    EventType.VIEWER_REQUEST: 5.0,
    EventType.VIEWER_RESPONSE: 5.0,
    EventType.ORIGIN_REQUEST: 30.0,
    EventType.ORIGIN_RESPONSE: 30.0,
}
TIMEOUT = Rule(
    "Lambda@Edge function timeout: 5 s for viewer events, 30 s for origin events; "
    "a timeout or throttle gives 503",
    f"{SRC_QUOTAS}; {SRC_503}",
)

EXECUTION_ERROR = Rule(
    "an unhandled exception (or a result the runtime cannot serialise) is a Lambda execution "
    "error; CloudFront answers 503 (LambdaExecutionError)",
    f"{SRC_503}; {SRC_LAMBDA_PY}",
    uncertain="the 2023 guide (http-500-lambda-execution-error.md) called this HTTP 500; current docs say 503",
)

RESULT_SHAPE = Rule(
    "the function must return the request (request events) or a response object; anything else "
    "does not match the event structure and fails validation (502)",
    f"{_ARCHIVE}lambda-edge-testing-debugging.md; {SRC_502}",
)

# --- status ----------------------------------------------------------------------------------------

STATUS_MIN, STATUS_MAX = 200, 599
LE_STATUS = Rule(
    "Lambda@Edge `status` is required and is the HTTP status code as a string, e.g. \"200\"",
    SRC_GENERATED,
)
LE_STATUS_RANGE = Rule(
    "`status` must be between 200 and 599, otherwise CloudFront returns an error to the viewer",
    f"{SRC_GENERATED}; {SRC_UPDATING}",
    uncertain="the docs say 'an error' without naming the status; 502 is an inference",
)
CFF_STATUS = Rule(
    "CloudFront Functions `statusCode` is required and is an integer, not a string",
    SRC_CFF_EVENT,
)
CFF_STATUS_RANGE = Rule(
    "the status must be between 200 and 599",
    f"{SRC_GENERATED} (Lambda@Edge)",
    uncertain="the 200-599 range is documented for Lambda@Edge; applying it to CloudFront Functions is an inference",
)
LE_VIEWER_RESPONSE_STATUS = Rule(
    "Lambda@Edge viewer-response functions cannot change the HTTP status code",
    SRC_RESTRICTIONS,
    uncertain="the docs do not say whether a changed status fails validation or is ignored",
)

# --- headers ---------------------------------------------------------------------------------------

DISALLOWED_HEADERS: frozenset[str] = frozenset(
    name.lower()
    for name in (
        "Connection", "Expect", "Keep-Alive", "Proxy-Authenticate", "Proxy-Authorization",
        "Proxy-Connection", "Trailer", "Upgrade", "X-Accel-Buffering", "X-Accel-Charset",
        "X-Accel-Limit-Rate", "X-Accel-Redirect", "X-Amzn-Auth", "X-Amzn-Cf-Billing", "X-Amzn-Cf-Id",
        "X-Amzn-Cf-Xff", "X-Amzn-Errortype", "X-Amzn-Fle-Profile", "X-Amzn-Header-Count",
        "X-Amzn-Header-Order", "X-Amzn-Lambda-Integration-Tag", "X-Amzn-RequestId", "X-Cache",
        "X-Forwarded-Proto", "X-Real-IP",
    )
)
DISALLOWED_PREFIXES: tuple[str, ...] = ("x-amz-cf-", "x-edge-")
DISALLOWED = Rule(
    "disallowed headers are not exposed to edge functions and a function cannot add them; "
    "adding one fails validation (502)",
    f"{SRC_RESTRICTIONS}; {SRC_502}",
)

READ_ONLY_HEADERS: dict[EventType, frozenset[str]] = {
    EventType.VIEWER_REQUEST: frozenset({"content-length", "host", "transfer-encoding", "via"}),
    EventType.ORIGIN_REQUEST: frozenset(
        {"accept-encoding", "content-length", "if-modified-since", "if-none-match", "if-range",
         "if-unmodified-since", "transfer-encoding", "via"}
    ),
    EventType.ORIGIN_RESPONSE: frozenset({"transfer-encoding", "via"}),
    EventType.VIEWER_RESPONSE: frozenset({"warning", "via"}),
}
READ_ONLY = Rule(
    "read-only headers can be read but not added or changed; adding or editing one fails "
    "validation (502)",
    f"{SRC_RESTRICTIONS}; {SRC_502}",
)
READ_ONLY_IN_GENERATED = Rule(
    "read-only headers can be read but not added or changed (502)",
    SRC_RESTRICTIONS,
    uncertain="AWS lists read-only headers per event; applying the request event's list to a "
    "response the function generates is an inference",
)
VIEWER_COUNTRY_HEADER = "cloudfront-viewer-country"
VIEWER_COUNTRY = Rule(
    "a Lambda@Edge viewer-request function that adds CloudFront-Viewer-Country fails validation (502)",
    SRC_RESTRICTIONS,
)

LE_HEADER_SHAPE = Rule(
    "Lambda@Edge `headers` maps each lowercase header name to a list of {\"key\": name, "
    "\"value\": string} objects; `key` is optional and is the same name in any case",
    f"{SRC_LE_EVENT}; {SRC_GENERATED}",
)
LE_HEADER_KEY_MATCH = Rule(
    "each entry's `key` is the case-sensitive spelling of the map's lowercase name",
    SRC_LE_EVENT,
    uncertain="the docs describe the shape; that a different `key` fails validation is an inference",
)
CFF_HEADER_SHAPE = Rule(
    "CloudFront Functions `headers`, `querystring` and `cookies` map each name to "
    "{\"value\": string} (plus `multiValue`: a list of such objects); header names must be lowercase",
    SRC_CFF_EVENT,
)
CFF_COOKIE_IN_HEADERS = Rule(
    "CloudFront Functions keep Cookie and Set-Cookie out of `headers`: they go in `cookies`",
    SRC_CFF_EVENT,
    uncertain="the docs do not say what CloudFront does with a cookie header set in `headers`",
)

# --- body ------------------------------------------------------------------------------------------

BODY_ENCODINGS: frozenset[str] = frozenset({"text", "base64"})
BODY_ENCODING = Rule(
    "`bodyEncoding` (Lambda@Edge) or `body.encoding` (CloudFront Functions) is \"text\" or \"base64\"",
    f"{SRC_GENERATED}; {SRC_CFF_EVENT}",
)
BODY_BASE64 = Rule(
    "with base64 encoding, a body that is not valid base64 makes CloudFront return an error",
    f"{SRC_GENERATED}; {SRC_CFF_EVENT}",
    uncertain="the docs say 'an error' without naming the status; 502 (validation) is an inference",
)
BODY_TYPE = Rule(
    "`body` is a string (Lambda@Edge), or a string or {\"data\", \"encoding\"} (CloudFront Functions)",
    f"{SRC_GENERATED}; {SRC_CFF_EVENT}",
)

GENERATED_RESPONSE_LIMIT: dict[EventType, int] = {
    EventType.VIEWER_REQUEST: 40 * KB,
    EventType.VIEWER_RESPONSE: 40 * KB,
    EventType.ORIGIN_REQUEST: 1 * MB,
    EventType.ORIGIN_RESPONSE: 1 * MB,
}
GENERATED_SIZE = Rule(
    "a response generated by a Lambda@Edge function, headers and body, may be at most 40 KB "
    "(viewer events) or 1 MB (origin events); larger fails with 502",
    f"{SRC_QUOTAS}; {SRC_GENERATED}",
    uncertain=f"{_UNIT_NOTE}; size counted here as body bytes as returned plus 'Name: value' header "
    "lines (AWS does not give the formula)",
)
CFF_BODY_SIZE_NOTE = (
    "CloudFront Functions response body size: no documented limit found (UNCERTAIN); not checked"
)

REQUEST_BODY_LIMIT: dict[tuple[EventType, str], int] = {
    (EventType.VIEWER_REQUEST, "text"): 40 * KB,
    (EventType.ORIGIN_REQUEST, "text"): 1 * MB,
    (EventType.VIEWER_REQUEST, "base64"): int(53.2 * KB),
    (EventType.ORIGIN_REQUEST, "base64"): int(1.33 * MB),
}
REQUEST_BODY_SIZE = Rule(
    "a request body replaced by Lambda@Edge is truncated above 40 KB text / 53.2 KB base64 "
    "(viewer request) or 1 MB text / 1.33 MB base64 (origin request)",
    f"{SRC_RESTRICTIONS}; {SRC_QUOTAS}",
    uncertain=_UNIT_NOTE,
)
REQUEST_BODY_ACTIONS: frozenset[str] = frozenset({"read-only", "replace"})
REQUEST_BODY_SHAPE = Rule(
    "a Lambda@Edge request `body` is {\"action\": \"read-only\"|\"replace\", \"encoding\": "
    "\"text\"|\"base64\", \"data\": string, \"inputTruncated\": bool}",
    f"{_GUIDE}lambda-include-body-access.html; {SRC_RESTRICTIONS}",
)
CFF_NO_REQUEST_BODY = Rule(
    "CloudFront Functions cannot access or set the request body",
    SRC_RESTRICTIONS,
    uncertain="the docs say the body is not accessible; what CloudFront does with a returned `body` is not stated",
)

NO_BODY_STATUSES: frozenset[int] = frozenset({204, 304})
BODY_ON_204 = Rule(
    "a response generated in a viewer-request function with status 204 and a body gives 502",
    SRC_GENERATED,
)
BODY_ON_NO_CONTENT = Rule(
    "a 204 or 304 response carries no body",
    f"{SRC_GENERATED} (documented for 204 in viewer-request functions only)",
    uncertain="documented only for 204 generated in viewer-request functions; 304 and other "
    "events are an inference from the same RFC rule",
)

# --- request fields --------------------------------------------------------------------------------

LE_REQUEST_FIELDS: dict[str, type] = {"uri": str, "method": str, "querystring": str, "headers": dict}
CFF_REQUEST_FIELDS: dict[str, type] = {
    "uri": str, "method": str, "querystring": dict, "headers": dict, "cookies": dict,
}
REQUEST_FIELDS = Rule(
    "a returned request keeps the fields of the event's request object (uri, method, querystring, "
    "headers; cookies for CloudFront Functions) with their types",
    f"{SRC_LE_EVENT}; {SRC_CFF_EVENT}; {SRC_502}",
    uncertain="AWS documents the structure, not which missing field fails validation",
)
READ_ONLY_FIELDS: dict[Runtime, tuple[str, ...]] = {
    Runtime.LAMBDA_EDGE: ("method", "clientIp"),
    Runtime.CLOUDFRONT_FUNCTIONS: ("method",),
}
READ_ONLY_FIELD = Rule(
    "`method` (and Lambda@Edge `clientIp`) are read-only in a returned request",
    f"{SRC_LE_EVENT}; {SRC_CFF_EVENT}",
    uncertain="the docs mark the fields read-only without saying whether a change fails or is ignored",
)
URI_MAX_CHARS = 8192
URI_RULE = Rule(
    "`uri` starts with '/'; the URI with its query string must be shorter than 8,192 characters",
    f"{SRC_RESTRICTIONS}; {SRC_LE_EVENT}",
)
QUERY_FORBIDDEN_CHARS = " #"
QUERYSTRING_RULE = Rule(
    "a query string set by a function has no spaces, control characters or '#'",
    SRC_RESTRICTIONS,
)

# --- origin object (Lambda@Edge origin-request) ---------------------------------------------------

ORIGIN_PORTS_FIXED: frozenset[int] = frozenset({80, 443})
ORIGIN_PORT_RANGE = (1024, 65535)
ORIGIN_PROTOCOLS: frozenset[str] = frozenset({"http", "https"})
ORIGIN_READ_TIMEOUT = (4, 60)
ORIGIN_KEEPALIVE_TIMEOUT = (1, 60)
ORIGIN_SSL_PROTOCOLS: frozenset[str] = frozenset({"TLSv1.2", "TLSv1.1", "TLSv1", "SSLv3"})
ORIGIN_DOMAIN_MAX = 253
ORIGIN_PATH_MAX = 255
S3_DOMAIN_MAX = 128
S3_AUTH_METHODS: frozenset[str] = frozenset({"origin-access-identity", "none"})
ORIGIN_RULE = Rule(
    "custom origin: domainName not empty, no ':', not an IPv4 address, at most 253 characters; port "
    "80, 443 or 1024-65535; protocol http or https; readTimeout 4-60; keepaliveTimeout 1-60; "
    "sslProtocols from TLSv1.2, TLSv1.1, TLSv1, SSLv3; path starts with '/', no trailing '/', "
    "at most 255 characters; exactly one of custom or s3",
    SRC_LE_EVENT,
)
ORIGIN_TIMEOUT_RULE = Rule(
    "readTimeout 4-60 s, keepaliveTimeout 1-60 s",
    SRC_LE_EVENT,
    uncertain="current AWS pages allow longer timeouts after a quota increase (60/120/180/300 s are all cited)",
)
S3_ORIGIN_RULE = Rule(
    "S3 origin: domainName lowercase, at most 128 characters; authMethod origin-access-identity or "
    "none; region required with origin-access-identity",
    SRC_LE_EVENT,
)
CUSTOM_HEADER_DENYLIST: frozenset[str] = frozenset(
    name.lower()
    for name in (
        "Cache-Control", "Connection", "Content-Length", "Cookie", "Host", "If-Match",
        "If-Modified-Since", "If-None-Match", "If-Range", "If-Unmodified-Since", "Max-Forwards",
        "Pragma", "Proxy-Authorization", "Proxy-Connection", "Range", "Request-Range", "TE", "Trailer",
        "Transfer-Encoding", "Upgrade", "Via", "X-Real-Ip",
    )
)
CUSTOM_HEADER_DENY_PREFIXES: tuple[str, ...] = ("x-amz-", "x-edge-")
CUSTOM_HEADERS_RULE = Rule(
    "origin customHeaders may not use names CloudFront cannot add to origin requests, the "
    "disallowed headers, or a name also present in request.headers",
    f"{SRC_LE_EVENT}; {SRC_CUSTOM_HEADERS}",
)


def is_disallowed(name: str) -> bool:
    lowered = name.lower()
    return lowered in DISALLOWED_HEADERS or lowered.startswith(DISALLOWED_PREFIXES)


def is_denied_custom_header(name: str) -> bool:
    lowered = name.lower()
    return lowered in CUSTOM_HEADER_DENYLIST or lowered.startswith(CUSTOM_HEADER_DENY_PREFIXES)
