"""`origin-doctor audit-nginx CONFIG`: check every TLS server block offline, before a reload."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from origin_doctor.cli.options import parse_at
from origin_doctor.errors import InputError
from origin_doctor.model import Severity
from origin_doctor.nginx_audit import AuditReport, audit
from origin_doctor.profile import available_profiles, load_profile, trust_anchors
from origin_doctor.report.json import dumps

_MARK = {Severity.FAIL: "FAIL", Severity.WARN: "warn", Severity.INFO: "info"}


def report_lines(report: AuditReport, verbose: bool = False) -> list[str]:
    lines = [f"nginx audit of {report.config} ({len(report.files)} file(s), profile {report.profile})"]
    if not report.blocks:
        lines.append("  no TLS server block found")
    for result in report.blocks:
        block = result.block
        state = "FAIL" if result.failed else "ok"
        names = " ".join(n or '""' for n in block.server_names)
        lines.append(f"{state:<4} {block.where}  server_name {names}")
        lines.append(f"     listen {' | '.join(block.listen)}")
        for pair in block.pairs:
            lines.append(f"     ssl_certificate {pair.certificate}  key {pair.key or '-'}")
        lines.append(f"     ssl_protocols {' '.join(block.protocols.values)} ({block.protocols.where}); "
                     f"ssl_ciphers {' '.join(block.ciphers.values)} ({block.ciphers.where})")
        for item in result.findings:
            if item.severity is Severity.INFO and not verbose:
                continue
            lines.append(f"     {_MARK[item.severity]} {item.code}: {item.summary}")
            if item.severity is Severity.FAIL and item.fix:
                lines.append(f"          fix: {item.fix}")
    failed = sum(1 for b in report.blocks if b.failed)
    lines.append(f"{len(report.blocks)} TLS server block(s), {failed} would fail behind CloudFront"
                 + (f"; {report.skipped_plain} plain-HTTP block(s) not audited" if report.skipped_plain else ""))
    return lines


@click.command("audit-nginx")
@click.argument("config", type=click.Path(path_type=Path))
@click.option("--prefix", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where relative certificate paths start (nginx's conf prefix). Default: CONFIG's folder.")
@click.option("--profile", "profile_name", default="cloudfront", show_default=True,
              help=f"CDN profile: {', '.join(available_profiles())}.")
@click.option("--ca-bundle", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Trust these roots instead of Mozilla's (certifi).")
@click.option("--at", "at", default=None, metavar="TIME", help="Judge certificates at this time (ISO 8601).")
@click.option("--warn-days", default=21, show_default=True, type=click.IntRange(0, 3650))
@click.option("--json", "as_json", is_flag=True, help="Write one JSON document (origin-doctor/nginx-audit/1).")
@click.option("-v", "--verbose", is_flag=True, help="Also show info findings (names not checked, ...).")
def audit_nginx(config: Path, prefix: Path | None, profile_name: str, ca_bundle: Path | None, at: str | None,
                warn_days: int, as_json: bool, verbose: bool) -> None:
    """Check an nginx configuration before a reload, as CloudFront will meet each TLS server.

    Parses CONFIG with its includes, lists every TLS server block and checks its certificate file
    (chain complete and ordered, dates, every server_name, key), protocols and ciphers.
    Exit 0 all pass, 1 a block would fail, 2 unreadable or invalid configuration.

    \b
    Example:
        origin-doctor audit-nginx /etc/nginx/nginx.conf
        origin-doctor audit-nginx /etc/nginx/nginx.conf --json > audit.json
    """
    if not config.is_file():
        raise InputError(f"{config}: no such configuration file")
    if ca_bundle is not None and not ca_bundle.is_file():
        raise InputError(f"{ca_bundle}: CA bundle not found")
    profile = load_profile(profile_name).with_overrides(ca_bundle=ca_bundle)
    trust_anchors(profile)
    now = parse_at(at) or dt.datetime.now(dt.UTC)
    report = audit(config, profile, now, warn_days, prefix)
    if as_json:
        sys.stdout.write(dumps(report.to_dict()) + "\n")
    else:
        click.echo("\n".join(report_lines(report, verbose)))
    sys.exit(1 if report.failed else 0)
