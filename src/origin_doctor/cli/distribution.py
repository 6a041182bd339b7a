"""`origin-doctor distribution`: check every origin of a CloudFront distribution under every name."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
from rich.console import Console

from origin_doctor.cli.options import build_options, probe_options
from origin_doctor.distribution.check import check_distribution, custom_policy_ids
from origin_doctor.distribution.model import Distribution, HeaderPolicy
from origin_doctor.distribution.parse import load_json, parse_distribution, parse_policies
from origin_doctor.distribution.report import DistributionReport, distribution_section, render
from origin_doctor.errors import UsageError
from origin_doctor.inputs import read_text
from origin_doctor.report.html import write_html
from origin_doctor.report.json import dumps, report_document

# Command-line flags that, when given, win over the distribution's per-origin values.
_PER_ORIGIN_FLAGS = ("ssl_protocols", "connect_timeout", "connect_attempts", "read_timeout")


@click.command()
@click.argument("dist_file", metavar="[DIST.json]", required=False)
@click.option("--id", "distribution_id", default=None, metavar="ID",
              help="Read distribution ID live from the CloudFront API (needs boto3: the 'aws' extra).")
@click.option("--profile-name", "aws_profile", default=None, metavar="NAME", help="AWS profile for --id (not the CDN --profile).")
@click.option("--endpoint-url", default=None, metavar="URL", help="CloudFront API endpoint for --id (testing).")
@click.option("--origin-request-policy", "policy_files", multiple=True, metavar="FILE",
              help="get-origin-request-policy (or list-origin-request-policies) JSON for a custom policy. Repeatable.")
@click.option("--cache-policy", "cache_policy_files", multiple=True, metavar="FILE",
              help="get-cache-policy (or list-cache-policies) JSON for a custom cache policy. Repeatable.")
@probe_options
@click.option("--json", "as_json", is_flag=True, help="Write exactly one JSON document to stdout.")
@click.option("--html", "html_path", default=None, metavar="PATH", help="Also write a self-contained HTML report.")
@click.option("-v", "--verbose", is_flag=True, help="Show every probe's details and info findings.")
def distribution(dist_file: str | None, distribution_id: str | None, aws_profile: str | None,
                 endpoint_url: str | None, policy_files: tuple[str, ...], cache_policy_files: tuple[str, ...],
                 as_json: bool, html_path: str | None, verbose: bool, **probe: Any) -> None:
    """Check every origin of a CloudFront distribution, under every alias, as CloudFront connects.

    DIST.json is the output of `aws cloudfront get-distribution-config` or `get-distribution`
    (or a bare DistributionConfig; - reads stdin). With --id, the distribution is read live.
    Where a behaviour forwards Host, CloudFront sends each alias as SNI and checks it on the
    origin's certificate; otherwise the origin domain. Per origin, OriginSslProtocols, connection
    attempts/timeout and the read timeout apply unless given on the command line.

    \b
    Example:
        aws cloudfront get-distribution-config --id E123 > dist.json
        origin-doctor distribution dist.json
        origin-doctor distribution --id E123 --profile-name prod --json > report.json
        origin-doctor distribution dist.json --origin-request-policy my-policy.json
        origin-doctor distribution dist.json --html dist-report.html
    """
    if (dist_file is None) == (distribution_id is None):
        raise UsageError("give either DIST.json or --id ID")
    if distribution_id is None and (aws_profile or endpoint_url):
        raise UsageError("--profile-name and --endpoint-url only apply with --id")
    options = build_options(**probe)
    policies = [p for name in (*policy_files, *cache_policy_files) for p in parse_policies(_read_json(name), name)]
    unread: dict[str, str] = {}
    if distribution_id is not None:
        dist, policies, unread = _live(distribution_id, aws_profile, endpoint_url, policies)
    else:
        assert dist_file is not None
        dist = parse_distribution(_read_json(dist_file), "stdin" if dist_file == "-" else dist_file)
    fixed = [flag for flag in _PER_ORIGIN_FLAGS if probe.get(flag) is not None]
    report = asyncio.run(check_distribution(dist, policies, options, fixed, unread))
    _emit(report, options.profile.id, options.now, as_json, verbose, html_path)
    sys.exit(1 if report.failed else 0)


def _live(distribution_id: str, aws_profile: str | None, endpoint_url: str | None,
          given: list[HeaderPolicy]) -> tuple[Distribution, list[HeaderPolicy], dict[str, str]]:
    from origin_doctor.distribution.live import CloudFrontReader

    reader = CloudFrontReader(aws_profile, endpoint_url)
    dist = parse_distribution(reader.distribution(distribution_id), f"distribution {distribution_id}")
    have = {p.id for p in given}
    fetched, unread = reader.policies(p for p in custom_policy_ids(dist) if p[0] not in have)
    return dist, [*given, *fetched], unread


def _read_json(name: str) -> Any:
    text = read_text(name)
    return load_json(text, "stdin" if name == "-" else name)


def _emit(report: DistributionReport, profile: str, now: Any, as_json: bool, verbose: bool,
          html_path: str | None) -> None:
    doc = report_document(report.ordered_results, profile, checked_at=now, fleet_findings=report.fleet_findings)
    doc["distribution"] = distribution_section(report)
    if html_path is not None:
        write_html(doc, html_path)
    if as_json:
        sys.stdout.write(dumps(doc) + "\n")
    else:
        Console(file=sys.stdout, soft_wrap=False).print(render(report, verbose=verbose))

