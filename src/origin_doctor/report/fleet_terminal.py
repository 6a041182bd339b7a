"""The end-of-scan summary: a running tally of results (bounded memory) and the rich renderables
for it: totals, ok/fail per code, the worst hosts first, then the fleet findings.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from origin_doctor.codes import CATALOGUE
from origin_doctor.model import Finding, Severity
from origin_doctor.result import TargetResult

WORST_SHOWN = 10
_STYLE = {Severity.FAIL: "bold red", Severity.WARN: "yellow", Severity.INFO: "cyan"}


@dataclass
class Tally:
    """Counts per outcome and per code, and the few worst hosts; never the results themselves."""

    fail_on: Severity = Severity.FAIL
    done: int = 0
    failing: int = 0
    warned: int = 0
    codes: dict[str, int] = field(default_factory=dict)  # targets with at least one finding of the code
    primaries: dict[str, int] = field(default_factory=dict)  # failing targets by root cause
    _worst: list[tuple[int, int, str, str, str]] = field(default_factory=list)  # min-heap of the worst

    def is_failing(self, result: TargetResult) -> bool:
        worst = result.worst
        return result.outcome != "ok" or (worst is not None and worst >= self.fail_on)

    def add(self, result: TargetResult) -> bool:
        """Count one result; returns whether it fails under `fail_on`."""
        self.done += 1
        failing = self.is_failing(result)
        self.failing += failing
        self.warned += result.worst is Severity.WARN
        for code in {f.code for f in result.findings}:
            self.codes[code] = self.codes.get(code, 0) + 1
        primary = result.verdict.primary
        if primary is not None:
            self.primaries[primary.code] = self.primaries.get(primary.code, 0) + 1
        rank = _rank(result)
        if rank > 0:
            target = result.target
            entry = (rank, -self.done, f"{target.name}:{target.port}", result.outcome,
                     primary.code if primary else _top_code(result.findings))
            if len(self._worst) < WORST_SHOWN:
                heapq.heappush(self._worst, entry)
            else:
                heapq.heappushpop(self._worst, entry)
        return failing

    @property
    def worst(self) -> list[tuple[int, int, str, str, str]]:
        return sorted(self._worst, reverse=True)


def _rank(result: TargetResult) -> int:
    """Higher is worse: failing targets first (more failing addresses worse), then warnings."""
    worst = result.worst
    if result.outcome != "ok":
        return 100 + sum(a.failed for a in result.addresses) + sum(f.severity is Severity.FAIL for f in result.findings)
    return int(worst) if worst is not None and worst >= Severity.WARN else 0


def _top_code(findings: tuple[Finding, ...]) -> str:
    top = max(findings, key=lambda f: f.severity, default=None)
    return top.code if top else "-"


def totals_line(tally: Tally, *, elapsed_s: float, bad_lines: int, interrupted: bool) -> Text:
    line = Text()
    line.append(f"{tally.done} targets", style="bold")
    line.append(f" in {elapsed_s:.1f} s ({tally.done / elapsed_s if elapsed_s > 0 else 0:.0f}/s): ")
    line.append(f"{tally.done - tally.failing} ok", style="green")
    line.append(", ")
    line.append(f"{tally.failing} failing", style="bold red" if tally.failing else "green")
    if tally.warned:
        line.append(f", {tally.warned} with warnings", style="yellow")
    if bad_lines:
        line.append(f", {bad_lines} input lines skipped", style="bold red")
    if interrupted:
        line.append(" (interrupted: only finished targets are counted)", style="bold red")
    return line


def codes_table(tally: Tally) -> Table:
    table = Table(title="findings per code", title_justify="left", box=None, header_style="bold")
    table.add_column("code")
    table.add_column("severity")
    table.add_column("targets", justify="right")
    table.add_column("root cause of", justify="right")
    rows = sorted(tally.codes.items(), key=lambda kv: (-_severity(kv[0]), -kv[1], kv[0]))
    for code, count in rows:
        severity = CATALOGUE[code].severity if code in CATALOGUE else Severity.INFO
        table.add_row(code, Text(severity.label, style=_STYLE[severity]), str(count),
                      str(tally.primaries.get(code, "")))
    return table


def _severity(code: str) -> int:
    return int(CATALOGUE[code].severity) if code in CATALOGUE else 0


def worst_table(tally: Tally) -> Table:
    table = Table(title="worst hosts first", title_justify="left", box=None, header_style="bold")
    table.add_column("host")
    table.add_column("CDN answer")
    table.add_column("root cause")
    for _, _, host, outcome, code in tally.worst:
        table.add_row(host, Text(outcome, style="green" if outcome == "ok" else "bold red"), code)
    return table


def fleet_view(findings: list[Finding]) -> RenderableType:
    if not findings:
        return Text("fleet: no inconsistencies between names, addresses or sites", style="green")
    parts: list[RenderableType] = [Text("fleet findings", style="bold")]
    for item in findings:
        line = Text()
        line.append(f"{item.severity.label.upper():4} ", style=_STYLE[item.severity])
        line.append(f"{item.code} ", style="bold")
        line.append(f"[{item.subject}] ")
        line.append(item.summary)
        parts.append(line)
        if item.fix:
            parts.append(Text(f"     fix: {item.fix}", style="dim"))
    return Group(*parts)


def render_summary(tally: Tally, fleet_findings: list[Finding], *, elapsed_s: float, bad_lines: list[str],
                   bad_count: int, interrupted: bool = False) -> Group:
    parts: list[RenderableType] = [totals_line(tally, elapsed_s=elapsed_s, bad_lines=bad_count,
                                               interrupted=interrupted)]
    if tally.codes:
        parts.append(codes_table(tally))
    if tally.worst:
        parts.append(worst_table(tally))
    parts.append(fleet_view(fleet_findings))
    if bad_lines:
        more = f" (and {bad_count - len(bad_lines)} more)" if bad_count > len(bad_lines) else ""
        parts.append(Text(f"skipped input lines{more}:", style="bold red"))
        parts.extend(Text(f"  {line}") for line in bad_lines)
    return Group(*parts)
