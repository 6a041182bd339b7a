"""What each x-edge-detailed-result-type means, who made the error, and the likely finding codes.

Meanings paraphrase AWS's standard log reference (background doc 2.4). The mapping to finding codes
is ours: where AWS documents the link it says `documented`; everything else is marked `inference`,
as in the background doc (1.11), because AWS names no TLS- or certificate-specific value.
"""

from __future__ import annotations

from dataclasses import dataclass

CDN, ORIGIN, VIEWER, FUNCTION, UNKNOWN = "cdn", "origin", "viewer", "function", "unknown"


@dataclass(frozen=True, slots=True)
class ResultTypeInfo:
    name: str
    meaning: str
    generated_by: str  # cdn | origin | viewer | function | unknown
    reached_origin: str  # "no", "maybe", "yes", "n/a": would the origin have a log line?
    likely_codes: tuple[str, ...]
    certainty: str  # "documented" | "inference" | "none"
    note: str = ""

    def to_dict(self) -> dict[str, object]:
        return {
            "meaning": self.meaning,
            "generated_by": self.generated_by,
            "reached_origin": self.reached_origin,
            "likely_codes": list(self.likely_codes),
            "mapping_certainty": self.certainty,
            "note": self.note,
        }


_TLS_AND_CERT = (
    "tls.not_tls", "tls.protocol_mismatch", "tls.no_shared_cipher", "tls.sni_rejected",
    "tls.client_cert_required", "tls.handshake_failed", "cert.chain_incomplete", "cert.expired",
    "cert.not_yet_valid", "cert.self_signed", "cert.untrusted_root", "cert.name_mismatch",
)  # fmt: skip


def _i(name: str, meaning: str, by: str, reached: str, codes: tuple[str, ...], certainty: str,
       note: str = "") -> ResultTypeInfo:  # fmt: skip
    return ResultTypeInfo(name, meaning, by, reached, codes, certainty, note)


_TABLE: tuple[ResultTypeInfo, ...] = (
    _i("OriginDnsError", "CloudFront could not resolve the origin's domain name.", CDN, "no",
       ("dns.nxdomain", "dns.no_address", "dns.servfail", "dns.timeout"), "documented",
       "AWS's own 502 example line carries this value."),
    _i("OriginConnectError", "CloudFront could not connect to the origin.", CDN, "no",
       ("tcp.refused", "tcp.unreachable", *_TLS_AND_CERT), "inference",
       "Refused or unroutable ports fit the meaning; AWS has no TLS-specific value, so origin TLS "
       "and certificate failures most likely land here too (unverified)."),
    _i("OriginCommError", "The connection to the origin timed out while connecting or reading.", CDN,
       "maybe", ("tcp.timeout", "tls.handshake_timeout", "http.read_timeout"), "inference",
       "A connect timeout never reaches the origin; a read timeout does (the origin may log it late)."),
    _i("OriginReadError", "CloudFront could not read the origin's response.", CDN, "yes",
       ("http.no_response",), "inference"),
    _i("OriginWriteError", "CloudFront could not send the request to the origin.", CDN, "maybe",
       ("http.no_response",), "inference"),
    _i("OriginError", "The origin answered incorrectly.", CDN, "yes", ("http.malformed_response",),
       "inference"),
    _i("OriginInvalidResponseError", "The origin's response was invalid.", CDN, "yes",
       ("http.malformed_response", "ws.bad_accept"), "inference"),
    _i("OriginHeaderTooBigError", "The origin's response headers were too large.", CDN, "yes",
       ("http.header_too_big",), "inference", "CloudFront's limit is 20,480 bytes of headers."),
    _i("OriginContentRangeLengthError", "Content-Length did not match Content-Range in the origin's "
       "response.", CDN, "yes", ("http.malformed_response",), "inference"),
    _i("OriginZeroSizeObjectError", "A zero-size object from the origin caused an error.", CDN, "yes",
       (), "none"),
    _i("AbortedOrigin", "A problem with the origin aborted the request.", CDN, "maybe",
       ("http.no_response",), "inference"),
    _i("Error", "Uncategorised error; for a 5xx usually the origin's own status passed through (or a "
       "cached error served again).", ORIGIN, "yes", ("http.origin_5xx", "ws.upgrade_rejected"),
       "inference", "Check the origin's own log for the same request."),
    _i("LambdaExecutionError", "An edge function failed while running.", FUNCTION, "n/a", (), "none",
       "Lambda@Edge or CloudFront Functions: look at the function's logs, not the origin."),
    _i("LambdaValidationError", "An edge function returned an invalid response.", FUNCTION, "n/a", (),
       "none", "Seen in X-Cache by third parties, not in AWS's log value list."),
    _i("FunctionValidationError", "A CloudFront Function changed a read-only or disallowed header.",
       FUNCTION, "n/a", (), "none", "Seen by third parties, not in AWS's log value list."),
    _i("LimitExceeded", "A CloudFront limit was exceeded.", CDN, "no", (), "none"),
    _i("CapacityExceeded", "CloudFront had no capacity to serve the request.", CDN, "no", (), "none"),
    _i("ClientCommError", "Delivering the response to the viewer was interrupted.", VIEWER, "maybe", (),
       "none"),
    _i("ClientHungUpRequest", "The viewer stopped while sending the request.", VIEWER, "maybe", (), "none"),
    _i("SlowReaderOriginError", "The viewer read the origin's error response too slowly.", VIEWER, "yes",
       (), "none"),
    _i("ClientGeoBlocked", "Blocked by the distribution's geo restriction.", VIEWER, "no", (), "none"),
    _i("InvalidRequest", "The viewer's request was invalid.", VIEWER, "no", (), "none"),
    _i("InvalidRequestBlocked", "Access to the resource is blocked.", VIEWER, "no", (), "none"),
    _i("InvalidRequestCertificate", "The distribution does not match the viewer-facing TLS certificate.",
       VIEWER, "no", (), "none"),
    _i("InvalidRequestHeader", "The viewer sent an invalid header.", VIEWER, "no", (), "none"),
    _i("InvalidRequestMethod", "The method is not allowed for this cache behaviour.", VIEWER, "no", (),
       "none"),
)  # fmt: skip

RESULT_TYPES: dict[str, ResultTypeInfo] = {info.name: info for info in _TABLE}


def describe(name: str) -> ResultTypeInfo:
    """The entry for a detailed result type; unknown values get an honest 'unknown' entry."""
    known = RESULT_TYPES.get(name)
    if known is not None:
        return known
    return ResultTypeInfo(name, "Not in AWS's documented list of values.", UNKNOWN, "maybe", (), "none")


def generated_by_cdn(name: str) -> bool:
    return describe(name).generated_by == CDN
