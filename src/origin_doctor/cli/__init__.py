"""The `origin-doctor` command group: thin commands over the library.

Each command lives in its own module and is registered here, so commands stay small and apart.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from origin_doctor import __version__
from origin_doctor.errors import OriginDoctorError


class _Group(click.Group):
    """Turns our input errors into one line and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except OriginDoctorError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="origin-doctor")
def cli() -> None:
    """Explain why a CDN answers 502 or 504 for your origin, and how to fix it.

    \b
    Exit codes: 0 every target would be served (warnings allowed),
                1 at least one target would fail, 2 usage or input error.
    """


def _register() -> None:
    from origin_doctor.cli import (
        audit_nginx,
        check,
        demo,
        distribution,
        edge_function,
        explain,
        fix_chain,
        logs,
        scan,
        serve,
    )

    for command in (
        check.check,
        scan.scan,
        demo.demo,
        distribution.distribution,
        fix_chain.fix_chain,
        audit_nginx.audit_nginx,
        logs.logs,
        edge_function.edge_function,
        serve.serve,
        explain.explain,
    ):
        cli.add_command(command)


_register()


def main() -> None:
    try:
        cli.main(prog_name="origin-doctor")
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
