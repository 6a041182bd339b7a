"""Judge the HTTP response the origin gave to a CloudFront-shaped request."""

from __future__ import annotations

from origin_doctor.codes import finding
from origin_doctor.model import Finding
from origin_doctor.probe.http import HttpObservation


def check_http(obs: HttpObservation, subject: str, read_timeout: float, max_header_bytes: int) -> list[Finding]:
    first = obs.first_bytes[:48].decode("latin-1", "replace")
    if obs.error == "no_response":
        return [finding("http.no_response", subject,
                        "The origin closed the connection without sending a response.", detail=obs.detail)]
    if obs.error == "malformed":
        return [finding("http.malformed_response", subject,
                        f"The response is not valid HTTP/1.1 ({obs.detail}).", first_bytes=first)]
    if obs.error == "header_too_big":
        return [finding("http.header_too_big", subject,
                        f"The response headers take {obs.header_bytes} bytes; CloudFront's limit is {max_header_bytes}.",
                        header_bytes=obs.header_bytes, limit=max_header_bytes, status=obs.status)]
    if obs.error == "timeout":
        return [finding("http.read_timeout", subject,
                        f"{obs.detail[:1].upper()}{obs.detail[1:]}.",
                        read_timeout_s=read_timeout, received_bytes=len(obs.first_bytes))]
    if obs.error == "closed":
        return [finding("http.no_response", subject, f"The request could not be completed: {obs.detail}.")]
    if obs.status is not None and obs.status >= 500:
        body = obs.body_sample[:120].decode("utf-8", "replace").strip()
        return [finding("http.origin_5xx", subject,
                        f"The origin itself answers {obs.status} {obs.reason}; CloudFront passes it through.",
                        status=obs.status, reason=obs.reason, body_start=body or None)]
    return []
