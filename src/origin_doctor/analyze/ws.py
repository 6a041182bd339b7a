"""Judge the WebSocket exchange the origin gave to a CloudFront-shaped upgrade, and say in one
line what a wss:// viewer gets. Failures of the upgrade as an HTTP request keep their http.* codes."""

from __future__ import annotations

from origin_doctor.codes import CATALOGUE, finding
from origin_doctor.model import Finding, Stage
from origin_doctor.probe.ws import WsObservation
from origin_doctor.verdict import Verdict


def check_ws(obs: WsObservation, subject: str, read_timeout: float) -> list[Finding]:
    path = obs.path
    where = f"{subject} path={path}"
    body = obs.body_sample[:120].decode("utf-8", "replace").strip() or None
    if obs.error == "no_response":
        return [finding("http.no_response", where, f"The upgrade on {path} got no answer: {obs.detail}.",
                        detail=obs.detail, request="websocket upgrade")]
    if obs.error == "malformed":
        return [finding("http.malformed_response", where, f"The answer to the upgrade on {path} is {obs.detail}.",
                        first_bytes=body, request="websocket upgrade")]
    if obs.error == "rejected":
        return [finding("ws.upgrade_rejected", where,
                        f"The origin answers the upgrade on {path} with {obs.status} {obs.reason}".rstrip()
                        + f" instead of 101; CloudFront {_passed(obs.status)}.",
                        status=obs.status, reason=obs.reason or None, body_start=body,
                        server=_header(obs, "server"))]
    if obs.error == "bad_handshake":
        # CloudFront relays the 101; the viewer's WebSocket client is the one that refuses it.
        return [finding("ws.upgrade_rejected", where,
                        f"The origin answers 101 on {path}, but the handshake is invalid ({obs.detail}); "
                        "CloudFront passes it through and the viewer's WebSocket client fails.",
                        status=obs.status, detail=obs.detail, server=_header(obs, "server"))]
    if obs.error == "bad_accept":
        return [finding("ws.bad_accept", where,
                        f"The origin answers 101 on {path}, but Sec-WebSocket-Accept is "
                        f"{obs.accept_received!r}, not {obs.accept_expected!r}; CloudFront drops the upgrade.",
                        received=obs.accept_received, expected=obs.accept_expected,
                        server=_header(obs, "server"))]
    if obs.error == "upgrade_timeout":
        return [finding("ws.timeout", where, f"{_sentence(obs.detail)} on {path}.",
                        phase="upgrade", read_timeout_s=read_timeout)]
    if obs.error == "reply_timeout":
        return [finding("ws.timeout", where,
                        f"The upgrade on {path} worked (101), but no {obs.reply_kind} came back within "
                        f"{read_timeout:g} s; viewers' connections open and then hang.",
                        phase=obs.reply_kind, read_timeout_s=read_timeout)]
    if obs.error == "closed_early":
        return [finding("ws.timeout", where,
                        f"The upgrade on {path} worked (101), but {obs.detail}; viewers' connections open and drop.",
                        phase=obs.reply_kind, closed=True, close_code=obs.close_code)]
    return []


def upgrade_headline(verdict: Verdict, path: str, cdn: str = "CloudFront") -> str:
    """What a wss:// viewer gets for the upgrade on `path`, and why."""
    primary = verdict.primary
    if primary is None:
        return f"{cdn} would serve this origin, and the WebSocket upgrade on {path} works."
    meaning = CATALOGUE[primary.code].meaning
    cause = f" (AWS cause {verdict.cause})" if verdict.cause else ""
    if verdict.outcome == "ok":  # the origin's own answer below 500 goes to the viewer as is
        status = primary.evidence.get("status")
        return (f"{cdn} passes the origin's {status} for the WebSocket upgrade on {path} to the viewer, "
                f"whose WebSocket client then fails: {meaning}.")
    if verdict.generated_by == "origin":
        return f"{cdn} answers the WebSocket upgrade on {path} with the origin's own {verdict.outcome}: {meaning}."
    if primary.evidence.get("phase") in ("pong", "message"):
        return f"{cdn} passes the origin's 101 for {path}, but the WebSocket then fails: {meaning}."
    if primary.stage is Stage.WS:
        return f"{cdn} answers the WebSocket upgrade on {path} with {verdict.outcome} because {meaning}."
    return (f"{cdn} answers the WebSocket upgrade on {path} with {verdict.outcome} because {meaning}{cause}; "
            "wss:// uses the same origin connection rules as https://.")


def _passed(status: int | None) -> str:
    if status is not None and 200 <= status < 300:
        return "passes it through, and the viewer's WebSocket client fails on a non-101 answer"
    return "passes it through"


def _header(obs: WsObservation, name: str) -> str | None:
    return next((v for k, v in obs.headers if k.lower() == name), None)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
