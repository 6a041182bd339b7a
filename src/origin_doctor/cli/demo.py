"""`origin-doctor demo`: start the built-in lab, diagnose it, print the report, stop everything."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from origin_doctor.analyze.fleet import fleet_findings
from origin_doctor.engine import check_target, check_targets
from origin_doctor.report.json import dumps, report_document
from origin_doctor.report.terminal import finding_block, render_result
from origin_doctor.result import TargetResult

if TYPE_CHECKING:
    from origin_doctor.lab.run import Lab

STORY = ("www.lab.test", "ws.lab.test")


def _matches(result: TargetResult, lab: Lab) -> bool:
    scenario = lab.scenario(result.target.name)
    primary = result.verdict.primary.code if result.verdict.primary else None
    return result.outcome == scenario.expect_outcome and primary == scenario.expect_primary


async def _run(run_all: bool) -> tuple[list[TargetResult], bool, Lab]:
    # The lab (PKI minting, nginx) is imported only when the demo runs, not at every CLI start.
    from origin_doctor.lab.checking import lab_options, lab_target
    from origin_doctor.lab.run import Lab

    async with Lab() as lab:
        options = lab_options(lab)
        if run_all:
            targets = [lab_target(lab, name) for name in lab.scenarios]
            results = [r async for r in check_targets(targets, options, concurrency=16)]
            order = list(lab.scenarios)
            results.sort(key=lambda r: order.index(r.target.name))
        else:
            results = list(await asyncio.gather(*(check_target(lab_target(lab, n), options) for n in STORY)))
        return results, all(_matches(r, lab) for r in results), lab


def _scenario_table(results: list[TargetResult], lab: Lab) -> Table:
    table = Table(title="Every lab scenario: expected vs diagnosed", header_style="bold")
    for column in ("scenario", "expected", "diagnosed", "primary code", ""):
        table.add_column(column)
    for result in results:
        scenario = lab.scenario(result.target.name)
        primary = result.verdict.primary.code if result.verdict.primary else "-"
        ok = _matches(result, lab)
        table.add_row(result.target.name, scenario.expect_outcome, result.outcome, primary,
                      Text("match", style="green") if ok else Text("MISMATCH", style="bold red"))
    return table


@click.command()
@click.option("--all", "run_all", is_flag=True, help="Diagnose every lab scenario, not only the incident.")
@click.option("--json", "as_json", is_flag=True, help="Write the report as one JSON document.")
@click.option("-v", "--verbose", is_flag=True, help="Also show the chains as sent.")
def demo(run_all: bool, as_json: bool, verbose: bool) -> None:
    """Reproduce the incident on loopback and diagnose it, offline.

    The lab mints a private PKI and starts nginx with two names on one address: www.lab.test sends
    its full chain, ws.lab.test only its leaf. origin-doctor checks both as CloudFront would
    (the lab's root stands in for Mozilla's store; timeouts are shortened). Exit code 0 when every
    diagnosis matches what the lab was built to show.

    \b
    Example:
        origin-doctor demo
        origin-doctor demo --all
    """
    from origin_doctor.lab.checking import LAB_CONNECT_TIMEOUT, LAB_READ_TIMEOUT

    console = Console(stderr=as_json)
    with console.status("starting the lab (private PKI, nginx, peers, DNS) ..."):
        results, all_match, lab = asyncio.run(_run(run_all))
    # The incident's second half: the chain was fixed on www only. Compare the names of the site.
    cross = [] if run_all else fleet_findings(results)
    if as_json:
        doc = report_document(results, "cloudfront", checked_at=lab.now, fleet_findings=cross)
        sys.stdout.write(dumps(doc) + "\n")
    else:
        console.print(Text(
            f"Lab clock pinned at {lab.now:%Y-%m-%d %H:%M} UTC; lab root as trust store; "
            f"connect timeout {LAB_CONNECT_TIMEOUT:g} s x 1, read timeout {LAB_READ_TIMEOUT:g} s.\n", style="dim"))
        if run_all:
            console.print(_scenario_table(results, lab))
        else:
            for result in results:
                console.print(render_result(result, verbose=verbose))
        if cross:
            console.print(Text("Across the site's names:", style="bold"))
            for found in cross:
                console.print(finding_block(found))
    sys.exit(0 if all_match else 1)
