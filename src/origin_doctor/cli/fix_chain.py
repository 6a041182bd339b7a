"""`origin-doctor fix-chain`: write the complete, ordered chain for a live origin or a certificate file."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import click
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.analyze.certfacts import AnchorIndex, common_names, dns_names, name_of, parse_chain
from origin_doctor.cli.options import build_options, probe_options
from origin_doctor.engine import CheckOptions, check_target
from origin_doctor.errors import InputError, UsageError
from origin_doctor.fix.aia import AiaPolicy
from origin_doctor.fix.path import pick_leaf
from origin_doctor.fix.plan import ChainPlan, FetchSettings, plan_chain
from origin_doctor.fix.render import SCHEMA, plan_document, plan_lines, written_lines
from origin_doctor.fix.sources import (
    Candidate,
    PrivateKey,
    key_matches,
    load_certificate_file,
    load_intermediates,
    load_private_key,
    load_report_chains,
)
from origin_doctor.fix.writers import FORMATS, Written, default_out, write_bundle
from origin_doctor.profile import trust_anchors
from origin_doctor.report.json import dumps
from origin_doctor.targets import parse_target

_FILE = click.Path(dir_okay=False, path_type=Path)


def _from_origin(target: str, origin: str | None, host_header: str | None,
                 options: CheckOptions) -> tuple[str, list[Candidate], list[Candidate], str]:
    """The chain the origin sends (first address that sent one) and other addresses' certificates."""
    parsed = parse_target(target, origin=origin, host_header=host_header)
    result = asyncio.run(check_target(parsed, options))
    given: list[Candidate] = []
    others: list[Candidate] = []
    where = ""
    for address in result.addresses:
        chain = (address.tls or {}).get("chain") or []
        certs = parse_chain(tuple(_der(entry) for entry in chain if entry.get("pem"))).certs
        if not given and certs:
            where = f"{address.address}:{address.port}"
            given = [Candidate(c, f"sent by {where}") for c in certs]
        else:
            others += [Candidate(c, f"sent by {address.address}:{address.port}") for c in certs]
    if not given:
        primary = result.verdict.primary
        why = f": {primary.summary}" if primary is not None else ""
        raise _NoChain(f"no certificate seen from {parsed.origin}:{parsed.port}{why}")
    return parsed.checked_name, given, others, f"the chain sent by {where}"


def _der(entry: dict[str, Any]) -> bytes:
    pem = str(entry["pem"]).encode("ascii")
    return x509.load_pem_x509_certificate(pem).public_bytes(serialization.Encoding.DER)


class _NoChain(Exception):
    pass


def _default_name(leaf: x509.Certificate) -> str:
    names = dns_names(leaf) or common_names(leaf)
    if not names:
        raise UsageError("the leaf names no host; say which name the CDN checks with --name")
    return names[0]


def _check_key(key_path: Path | None, leaf: x509.Certificate) -> tuple[PrivateKey | None, str | None]:
    """The key, and why it cannot be used with this leaf (None when it matches)."""
    if key_path is None:
        return None, None
    key = load_private_key(key_path)
    if key_matches(key, leaf):
        return key, None
    return None, (f"Key mismatch: {key_path} is not the private key of the leaf '{name_of(leaf)}' (their public "
                  "keys differ); nginx would refuse to load the pair. Use the key the leaf was issued for.")


def _refuse(message: str, as_json: bool, profile: str) -> NoReturn:
    """No chain to work on: one line (or one JSON document), exit 1."""
    if as_json:
        sys.stdout.write(dumps({"schema": SCHEMA, "profile": profile, "ok": False, "problems": [message],
                                "bundle": [], "written": []}) + "\n")
    else:
        click.echo(f"fix-chain: {message} No bundle written.")
    sys.exit(1)


@click.command("fix-chain")
@click.argument("target", required=False)
@click.option("--cert", "cert_path", type=_FILE, help="Start from this certificate file (PEM/DER/PKCS#7, one or many).")
@click.option("--key", "key_path", type=_FILE, help="The leaf's private key: checked against the leaf, never printed.")
@click.option("--name", default=None, help="With --cert: the name the CDN checks (default: the leaf's first name).")
@click.option("--origin", default=None, help="The origin domain CloudFront connects to (default: TARGET's name).")
@click.option("--host-header", default=None, help="The forwarded Host: SNI and the name checked.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where to write (acm: a folder). Default: NAME-fullchain.pem, NAME-acm/, NAME.pem.")
@click.option("--format", "form", type=click.Choice(FORMATS), default="nginx", show_default=True)
@click.option("--intermediates", type=click.Path(exists=False, path_type=Path), multiple=True,
              help="A file or folder of intermediates to build from. Repeatable.")
@click.option("--from-report", "report", type=_FILE, multiple=True,
              help="A JSON scan report: certificates other hosts served. Repeatable.")
@click.option("--no-fetch", is_flag=True, help="Never fetch the AIA 'CA Issuers' URL.")
@click.option("--aia-allow", multiple=True, metavar="PATTERN", help="Fetch AIA only from hosts matching this glob.")
@click.option("--aia-timeout", type=click.FloatRange(0.1, 60), default=5.0, show_default=True,
              help="Seconds for one AIA fetch, redirects included.")
@probe_options
@click.option("--json", "as_json", is_flag=True, help="Write one JSON document to stdout.")
def fix_chain(target: str | None, cert_path: Path | None, key_path: Path | None, name: str | None,
              origin: str | None, host_header: str | None, out: Path | None, form: str,
              intermediates: tuple[Path, ...], report: tuple[Path, ...], no_fetch: bool,
              aia_allow: tuple[str, ...], aia_timeout: float, as_json: bool, **probe: Any) -> None:
    """Write the chain the origin should serve: leaf, then intermediates in order, no root.

    Sources, in order: the chain given (live origin or --cert), --intermediates, --from-report,
    then the AIA "CA Issuers" URL. The bundle is verified with the profile before it is written.
    Exit 0 written, 1 no bundle can pass (the reason is printed), 2 usage or input error.

    \b
    Example:
        origin-doctor fix-chain ws.example.com --out ws-fullchain.pem
        origin-doctor fix-chain --cert ws.crt --key ws.key --format haproxy --out ws.pem
        origin-doctor fix-chain --cert ws.crt --format acm --no-fetch --intermediates ca/
    """
    if (target is None) == (cert_path is None):
        raise UsageError("give either TARGET (a live origin) or --cert FILE")
    if cert_path is None and name is not None:
        raise UsageError("--name is for --cert; for a live origin the checked name is TARGET or --host-header")
    if form == "haproxy" and key_path is None:
        raise UsageError("--format haproxy writes the chain and the key in one file: give --key KEY")
    options = build_options(**probe)
    now = options.now or dt.datetime.now(dt.UTC)
    # Every file first, so that bad input is exit 2 before any network traffic.
    extra, extra_sources = _extra_sources(intermediates, report)
    if target is not None:
        try:
            name, given, others, described = _from_origin(target, origin, host_header, options)
        except _NoChain as exc:
            _refuse(f"{exc}.", as_json, options.profile.id)
        leaf = given[0]
        extra = others + extra
    else:
        assert cert_path is not None
        certs = load_certificate_file(cert_path)
        given = [Candidate(c, f"file {cert_path.name}") for c in certs]
        chosen = pick_leaf(certs)
        leaf = next(c for c in given if c.cert is chosen)
        name = name or _default_name(chosen)
        described = str(cert_path)
    sources = [described, *extra_sources]
    key, key_problem = _check_key(key_path, leaf.cert)
    fetching = FetchSettings(enabled=not no_fetch, policy=AiaPolicy(allowed_hosts=aia_allow, timeout=aia_timeout))
    anchors = AnchorIndex(trust_anchors(options.profile))
    plan = plan_chain(given, leaf, extra, anchors, now, name, warn_days=options.warn_days,
                      order_fatal=options.profile.chain_order_fatal, fetching=fetching, sources=sources)
    if key_problem is not None:
        plan = replace(plan, problems=(key_problem, *plan.problems))
    written = _write(plan, form, out, key, key_path) if plan.ok else None
    if as_json:
        sys.stdout.write(dumps(plan_document(plan, options.profile.id, now, written)) + "\n")
    else:
        lines = plan_lines(plan, options.profile.id, now)
        lines += written_lines(written, form) if written else ["  wrote:     nothing"]
        click.echo("\n".join(lines))
    sys.exit(0 if plan.ok else 1)


def _extra_sources(intermediates: tuple[Path, ...], reports: tuple[Path, ...]) -> tuple[list[Candidate], list[str]]:
    extra: list[Candidate] = []
    sources: list[str] = []
    for path in intermediates:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder (--intermediates)")
        extra += load_intermediates(path)
        sources.append(str(path))
    for path in reports:
        extra += load_report_chains(path)
        sources.append(f"the report {path}")
    return extra, sources


def _write(plan: ChainPlan, form: str, out: Path | None, key: PrivateKey | None, key_path: Path | None) -> Written:
    return write_bundle(plan, form, out or default_out(plan, form), key, key_path)
