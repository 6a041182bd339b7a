"""Findings -> the CDN's predicted answer and the root cause (pure)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from origin_doctor.codes import CATALOGUE
from origin_doctor.model import PIPELINE_ORDER, Finding, Severity


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: str  # "ok", "502", "504", or the origin's own status
    generated_by: str | None  # "cdn" | "origin" | None
    primary: Finding | None
    cause: int | None

    @property
    def failed(self) -> bool:
        """A failure even when the viewer still gets an answer below 500 (a rejected upgrade)."""
        return self.primary is not None


def root_cause(findings: Iterable[Finding]) -> Finding | None:
    """The first failure in pipeline order (dns, tcp, tls, cert, http, ws)."""
    fails = [f for f in findings if f.severity is Severity.FAIL]
    if not fails:
        return None
    order = {stage: i for i, stage in enumerate(PIPELINE_ORDER)}
    return min(enumerate(fails), key=lambda item: (order.get(item[1].stage, 99), item[0]))[1]


def decide(findings: Iterable[Finding]) -> Verdict:
    findings = list(findings)
    primary = root_cause(findings)
    if primary is None:
        return Verdict("ok", None, None, None)
    row = CATALOGUE[primary.code]
    if row.cdn_answer == "origin":
        # REPORT.md: the outcome is "ok" whenever the origin answers below 500.
        status = primary.evidence.get("status")
        if isinstance(status, int) and status < 500:
            return Verdict("ok", None, primary, row.cause)
        return Verdict(str(status) if status is not None else "502", "origin", primary, row.cause)
    if row.cdn_answer in ("502", "504"):
        return Verdict(row.cdn_answer, "cdn", primary, row.cause)
    # A failure without a request outcome of its own (fleet, internal): the CDN cannot serve it.
    return Verdict("502", "cdn", primary, row.cause)


def headline(verdict: Verdict, cdn: str = "CloudFront") -> str:
    if verdict.primary is None:
        return f"{cdn} would serve this origin."
    meaning = CATALOGUE[verdict.primary.code].meaning
    cause = f" (AWS cause {verdict.cause})" if verdict.cause else ""
    if verdict.outcome == "ok":
        status = verdict.primary.evidence.get("status")
        return f"{cdn} would pass the origin's {status} to the viewer: {meaning}."
    if verdict.generated_by == "origin":
        return f"{cdn} would pass through the origin's {verdict.outcome}: {meaning}{cause}."
    return f"{cdn} would answer {verdict.outcome}: {meaning}{cause}."
