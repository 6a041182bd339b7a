"""Judge the WebSocket exchange the origin gave to a CloudFront-shaped upgrade, and say in one
line what a wss:// viewer gets. Owns the ws.* codes beyond the three in the base catalogue."""

from __future__ import annotations

from origin_doctor.codes import CATALOGUE, FAIL, WARN, CodeInfo, finding, register
from origin_doctor.model import Finding, Stage
from origin_doctor.probe.ws import WsObservation
from origin_doctor.verdict import Verdict

register(
    CodeInfo("ws.no_response", FAIL, "502", None,
             "the origin closes the connection without answering the WebSocket upgrade",
             "Check the origin's error log for the upgrade request; the server on this path must answer it."),
    CodeInfo("ws.bad_response", FAIL, "502", None,
             "the answer to the upgrade is not valid HTTP/1.1, or a 101 that breaks the handshake "
             "(Upgrade/Connection headers, a subprotocol or extension that was not offered)",
             "Let the WebSocket server write the 101 itself; a proxy must pass Upgrade, Connection and the "
             "Sec-WebSocket-* headers through unchanged."),
    CodeInfo("ws.closed_early", FAIL, "502", None,
             "the origin accepts the upgrade, then ends the connection before answering a ping or message",
             "Look at the WebSocket server's log for why it closes new connections (authentication, Origin "
             "checks, a proxy idle timeout)."),
    CodeInfo("ws.close_unclean", WARN, "ok", None,
             "the origin does not complete the WebSocket close handshake",
             "Let the server answer a close frame with its own close frame before ending the connection."),
)


def check_ws(obs: WsObservation, subject: str, read_timeout: float) -> list[Finding]:
    path = obs.path
    where = f"{subject} path={path}"
    body = obs.body_sample[:120].decode("utf-8", "replace").strip() or None
    if obs.error == "no_response":
        return [finding("ws.no_response", where, f"The upgrade on {path} got no answer: {obs.detail}.",
                        detail=obs.detail)]
    if obs.error == "malformed":
        return [finding("ws.bad_response", where, f"The answer to the upgrade on {path} is {obs.detail}.",
                        first_bytes=body)]
    if obs.error == "rejected":
        passed = "passes it through" if obs.status is not None and obs.status >= 400 else (
            "passes it through, and the viewer's WebSocket client fails")
        return [finding("ws.upgrade_rejected", where,
                        f"The origin answers the upgrade on {path} with {obs.status} {obs.reason}".rstrip()
                        + f" instead of 101; CloudFront {passed}.",
                        status=obs.status, reason=obs.reason or None, body_start=body,
                        server=_header(obs, "server"))]
    if obs.error == "bad_accept":
        return [finding("ws.bad_accept", where,
                        f"The origin answers 101 on {path}, but Sec-WebSocket-Accept is "
                        f"{obs.accept_received!r}, not {obs.accept_expected!r}; CloudFront drops the upgrade.",
                        received=obs.accept_received, expected=obs.accept_expected,
                        server=_header(obs, "server"))]
    if obs.error == "bad_handshake":
        return [finding("ws.bad_response", where, f"The 101 on {path} breaks the handshake: {obs.detail}.",
                        status=obs.status, detail=obs.detail)]
    if obs.error == "upgrade_timeout":
        return [finding("ws.timeout", where, f"{_sentence(obs.detail)} on {path}.",
                        phase="upgrade", read_timeout_s=read_timeout)]
    if obs.error == "reply_timeout":
        return [finding("ws.timeout", where,
                        f"The upgrade on {path} worked (101), but no {obs.reply_kind} came back within "
                        f"{read_timeout:g} s; viewers' connections open and then hang.",
                        phase=obs.reply_kind, read_timeout_s=read_timeout)]
    if obs.error == "closed_early":
        return [finding("ws.closed_early", where, f"{_sentence(obs.detail)} (path {path}).",
                        close_code=obs.close_code, phase=obs.reply_kind)]
    if obs.close in ("no_close_frame", "timeout"):
        how = "closed without a close frame" if obs.close == "no_close_frame" else "never answered the close frame"
        return [finding("ws.close_unclean", where, f"The WebSocket on {path} works, but the origin {how}.",
                        close=obs.close)]
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
    if primary.code == "ws.closed_early" or primary.evidence.get("phase") in ("pong", "message"):
        return f"{cdn} passes the origin's 101 for {path}, but the WebSocket then fails: {meaning}."
    if primary.stage is Stage.WS:
        return f"{cdn} answers the WebSocket upgrade on {path} with {verdict.outcome} because {meaning}."
    return (f"{cdn} answers the WebSocket upgrade on {path} with {verdict.outcome} because {meaning}{cause}; "
            "wss:// uses the same origin connection rules as https://.")


def _header(obs: WsObservation, name: str) -> str | None:
    return next((v for k, v in obs.headers if k.lower() == name), None)


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]
