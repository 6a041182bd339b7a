"""`origin-doctor explain CODE`: what a finding code means and how to fix it."""

from __future__ import annotations

import click

from origin_doctor.codes import CATALOGUE
from origin_doctor.errors import UsageError


@click.command()
@click.argument("code", required=False)
def explain(code: str | None) -> None:
    """Print what a finding CODE means, what the CDN answers and how to fix it.

    Without CODE, list every code.

    \b
    Example:
        origin-doctor explain cert.chain_incomplete
    """
    if code is None:
        for row in CATALOGUE.values():
            click.echo(f"{row.code:<32} {row.severity.label:<5} {row.meaning}")
        return
    found = CATALOGUE.get(code.strip().lower())
    if found is None:
        raise UsageError(f"unknown finding code {code!r}; 'origin-doctor explain' lists them all")
    row = found
    answer = {"origin": "the origin's own status (passed through)", None: "not a request outcome"}.get(
        row.cdn_answer, row.cdn_answer
    )
    click.echo(f"{row.code}  ({row.severity.label})")
    click.echo(f"  meaning:     {row.meaning}")
    click.echo(f"  CDN answer:  {answer}")
    click.echo(f"  AWS cause:   {row.cause if row.cause is not None else '-'}")
    click.echo(f"  fix:         {row.fix}")
