"""One edge-function verdict: findings -> CloudFront's answer, the JSON document and the terminal view.

Also turns a handler run that never produced a result (exception, timeout, coroutine) into findings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from origin_doctor import __version__
from origin_doctor.edge import rules
from origin_doctor.edge.findings import violation
from origin_doctor.edge.rules import EventType, Runtime
from origin_doctor.edge.runner import RunOutcome
from origin_doctor.edge.validate import outcome_of
from origin_doctor.model import Finding, Severity

SCHEMA = "origin-doctor/edge-function/1"
_COROUTINE_NOTE = ("the Lambda Python runtime cannot serialise a coroutine (a marshal error, i.e. a function "
                   "error); that CloudFront then answers 503 is an inference")


@dataclass(frozen=True, slots=True)
class EdgeReport:
    event: EventType
    runtime: Runtime
    subject: str
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()
    execution: dict[str, Any] | None = field(default=None)

    @property
    def outcome(self) -> str:
        return outcome_of(self.findings)

    @property
    def primary(self) -> Finding | None:
        """The root cause: the first failure whose rule is certain, else the first failure."""
        failures = [f for f in self.findings if f.severity is Severity.FAIL]
        certain = [f for f in failures if "uncertain" not in f.evidence]
        chosen = certain or failures
        return chosen[0] if chosen else None

    def to_dict(self) -> dict[str, Any]:
        primary = self.primary
        document: dict[str, Any] = {
            "schema": SCHEMA,
            "tool": {"name": "origin-doctor", "version": __version__},
            "event": str(self.event),
            "runtime": str(self.runtime),
            "subject": self.subject,
            "outcome": self.outcome,
            "primary": primary.code if primary else None,
            "findings": [f.to_dict() for f in self.findings],
            "notes": list(self.notes),
        }
        hint = log_hint(self)
        if hint:
            document["log_hint"] = hint
        if self.execution is not None:
            document["execution"] = self.execution
        return document


def log_hint(report: EdgeReport) -> str | None:
    """What the failure looks like in CloudFront's logs and headers (section 1.11 of the research notes)."""
    if report.outcome == "502":
        name = "LambdaValidationError" if report.runtime is Runtime.LAMBDA_EDGE else "FunctionValidationError"
        return f"'{name}' (X-Cache: '{name} from cloudfront'; observed by third parties, not documented by AWS)"
    if report.outcome == "503":
        return ("x-edge-result-type 'LambdaExecutionError' (CloudFront log reference; X-Cache "
                "'LambdaExecutionError from cloudfront' observed by third parties)")
    return None


def execution_findings(run: RunOutcome, event: EventType, subject: str, timeout: float) -> list[Finding]:
    """Findings for a run that produced no result to validate (empty when it returned one)."""
    if run.status == "timeout":
        return [violation("function.timeout", rules.TIMEOUT, "$",
                          f"the handler did not return within {timeout:g} s and was killed "
                          f"({event} functions get {rules.TIMEOUT_SECONDS[event]:g} s)",
                          subject, limit_s=timeout, elapsed_s=round(run.elapsed_s, 3))]
    if run.status == "coroutine":
        return [violation("function.execution_error", rules.EXECUTION_ERROR, "$", run.message, subject,
                          fix="Make the handler a plain `def`; run async work inside it with asyncio.run().",
                          uncertain=_COROUTINE_NOTE, error_type="coroutine")]
    if run.status == "error":
        where = {"import": "importing the handler failed", "serialise": "the result cannot be serialised",
                 "process": "the handler process died"}.get(run.stage or "", "the handler raised")
        return [violation("function.execution_error", rules.EXECUTION_ERROR, "$",
                          f"{where}: {run.error_type}: {run.message}".rstrip(": "), subject,
                          error_type=run.error_type, message=run.message, stage=run.stage,
                          traceback=run.traceback)]
    return []


def verdict_line(report: EdgeReport) -> str:
    primary = report.primary
    if primary is None:
        warnings = sum(1 for f in report.findings if f.severity is Severity.WARN)
        tail = f" ({warnings} warning{'s' if warnings != 1 else ''})" if warnings else ""
        return f"CloudFront would accept this {report.event} result{tail}."
    failures = sum(1 for f in report.findings if f.severity is Severity.FAIL)
    more = f" (+{failures - 1} more)" if failures > 1 else ""
    line = f"CloudFront would answer {report.outcome}: {primary.summary} [{primary.code}]{more}"
    if "uncertain" in primary.evidence:
        line += f" (UNCERTAIN: {primary.evidence['uncertain']})"
    return line


_MARKS = {Severity.FAIL: ("✗", "bold red"), Severity.WARN: ("!", "yellow"), Severity.INFO: ("i", "cyan")}


def render(report: EdgeReport) -> RenderableType:
    """The terminal view: each violation with path, rule, source and fix, then notes and the verdict."""
    parts: list[RenderableType] = [
        Text(f"{report.subject}: {report.runtime} {report.event}", style="bold")
    ]
    for finding in report.findings:
        mark, style = _MARKS[finding.severity]
        head = Text(f"{mark} {finding.code}", style=style)
        head.append(f"  {finding.evidence.get('path', '$')}", style="bold")
        parts.append(head)
        parts.append(Text(f"    {finding.summary}"))
        if finding.evidence.get("traceback"):
            parts.append(Text("    " + str(finding.evidence["traceback"]).rstrip().replace("\n", "\n    "), style="dim"))
        parts.append(Text(f"    rule:   {finding.evidence.get('rule', '')}", style="dim"))
        parts.append(Text(f"    source: {finding.evidence.get('source', '')}", style="dim"))
        if "uncertain" in finding.evidence:
            parts.append(Text(f"    ⚠ UNCERTAIN: {finding.evidence['uncertain']}", style="yellow"))
        if finding.fix:
            parts.append(Text(f"    fix:    {finding.fix}", style="green"))
    for note in report.notes:
        parts.append(Text(f"note: {note}", style="cyan"))
    if report.execution and report.execution.get("log"):
        parts.append(Text("handler log:", style="bold"))
        parts.append(Text("    " + str(report.execution["log"]).rstrip().replace("\n", "\n    "), style="dim"))
    hint = log_hint(report)
    if hint:
        parts.append(Text(f"in the logs: {hint}", style="dim"))
    style = "bold green" if report.outcome == "ok" else "bold red"
    parts.append(Text(verdict_line(report), style=style))
    return Group(*parts)
