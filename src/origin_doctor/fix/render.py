"""Say what a chain plan does, as lines for the terminal and as a JSON document."""

from __future__ import annotations

import datetime as dt
from typing import Any

from cryptography.hazmat.primitives import hashes

from origin_doctor import __version__
from origin_doctor.analyze.certfacts import name_of
from origin_doctor.fix.plan import ChainPlan
from origin_doctor.fix.writers import Written
from origin_doctor.model import Severity

SCHEMA = "origin-doctor/fix-chain/1"
_DROP_REASON = {
    "root": "a root: the CDN has its own copy, sending it only costs bytes",
    "unrelated": "not on the path from the leaf to the root",
    "duplicate": "sent twice",
}


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def plan_lines(plan: ChainPlan, profile: str, now: dt.datetime) -> list[str]:
    given = " > ".join(name_of(c.cert) for c in plan.given) or "(nothing)"
    lines = [f"fix-chain for {plan.name} (profile {profile}, judged at {_iso(now)})",
             f"  given:     {len(plan.given)} certificate(s): {given}"]
    for attempt in plan.aia:
        state = f"{len(attempt.certs)} certificate(s)" if attempt.ok else f"failed: {attempt.error}"
        lines.append(f"  AIA:       {attempt.url}: {state}")
    if not plan.ok:
        lines.append("  result:    NO BUNDLE written: no bundle of these certificates would pass.")
        lines += [f"  why:       {problem}" for problem in plan.problems]
        return lines
    path = " > ".join(name_of(c) for c in plan.bundle)
    anchor = plan.path.anchor
    root = f" (root '{name_of(anchor)}' is in the trust store, not included)" if anchor is not None else ""
    lines.append(f"  bundle:    {path}{root}")
    lines += [f"  added:     '{name_of(c.cert)}' from {c.source}" for c in plan.added]
    lines += [f"  dropped:   '{name_of(d.cert)}': {_DROP_REASON[d.reason]}" for d in plan.dropped]
    if plan.reordered:
        lines.append("  reordered: leaf first, then each issuer in turn")
    if not (plan.added or plan.dropped or plan.reordered):
        lines.append("  unchanged: the chain given is already complete and in order")
    warnings = [f for f in plan.verification if f.severity is Severity.WARN]
    lines.append(f"  verified:  the bundle passes the {profile} chain check for {plan.name}")
    lines += [f"  warning:   {f.summary}" for f in warnings]
    return lines


def written_lines(written: Written, form: str) -> list[str]:
    lines = [f"  wrote:     {path}" for path in written.files]
    if form == "nginx":
        lines.append(f"  next:      ssl_certificate {written.files[0]};  then: nginx -t && nginx -s reload")
    elif form == "haproxy":
        lines.append(f"  next:      bind :443 ssl crt {written.files[0]}  (file mode 0600: it holds the key)")
    elif written.command:
        lines.append(f"  next:      {written.command}")
    return lines


def _cert(cert: Any, source: str | None = None) -> dict[str, Any]:
    data = {"subject": cert.subject.rfc4514_string(), "sha256": cert.fingerprint(hashes.SHA256()).hex()}
    if source is not None:
        data["source"] = source
    return data


def plan_document(plan: ChainPlan, profile: str, now: dt.datetime, written: Written | None) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "origin-doctor", "version": __version__},
        "profile": profile,
        "checked_at": _iso(now),
        "name": plan.name,
        "ok": plan.ok,
        "problems": list(plan.problems),
        "given": [_cert(c.cert, c.source) for c in plan.given],
        "bundle": [_cert(c.cert, c.source) for c in plan.path.path] if plan.ok else [],
        "root": _cert(plan.path.anchor) if plan.path.anchor is not None else None,
        "added": [_cert(c.cert, c.source) for c in plan.added] if plan.ok else [],
        "dropped": [{**_cert(d.cert), "reason": d.reason} for d in plan.dropped] if plan.ok else [],
        "reordered": plan.reordered if plan.ok else False,
        "aia": [{"url": a.url, "ok": a.ok, "error": a.error, "hops": list(a.hops), "certificates": len(a.certs)}
                for a in plan.aia],
        "verification": [f.to_dict() for f in plan.verification],
        "written": [str(p) for p in written.files] if written else [],
        "command": written.command if written else None,
    }
