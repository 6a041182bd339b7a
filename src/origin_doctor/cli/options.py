"""Options shared by every command that probes origins, bundled once (sqlite-utils' habit)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from origin_doctor.engine import CheckOptions
from origin_doctor.errors import InputError, UsageError
from origin_doctor.inputs import parse_iso_time
from origin_doctor.profile import available_profiles, load_profile
from origin_doctor.targets import parse_nameserver, parse_resolve

F = TypeVar("F", bound=Callable[..., Any])


def probe_options(func: F) -> F:
    decorators = [
        click.option("--profile", "profile_name", default="cloudfront", show_default=True,
                     help=f"CDN profile: {', '.join(available_profiles())}."),
        click.option("--ssl-protocols", default=None, metavar="LIST",
                     help="Narrow the TLS versions as the distribution's OriginSslProtocols does, e.g. TLSv1.2,TLSv1.1."),
        click.option("--resolve", multiple=True, metavar="HOST:PORT:ADDR",
                     help="Skip DNS for HOST:PORT (as curl does); PORT may be '*'. Repeatable."),
        click.option("--nameserver", multiple=True, metavar="ADDR[:PORT]", help="Ask this DNS server. Repeatable."),
        click.option("--ca-bundle", type=click.Path(dir_okay=False, path_type=Path), default=None,
                     help="Trust these roots instead of Mozilla's (certifi)."),
        click.option("--at", "at", default=None, metavar="TIME",
                     help="Judge certificates at this time (ISO 8601, UTC if no zone). Default: now."),
        click.option("--warn-days", default=21, show_default=True, type=click.IntRange(0, 3650),
                     help="Warn when a certificate expires within this many days."),
        click.option("--connect-timeout", type=click.FloatRange(0.05, 60), default=None,
                     help="Seconds per connection attempt (profile default: 10)."),
        click.option("--connect-attempts", type=click.IntRange(1, 3), default=None,
                     help="Connection attempts (profile default: 3)."),
        click.option("--read-timeout", type=click.FloatRange(0.05, 180), default=None,
                     help="Origin response timeout in seconds (profile default: 30)."),
        click.option("--no-compare", is_flag=True, help="Do not compare with the other CloudFront TLS policy."),
        click.option("--debug", is_flag=True, help="Let internal errors raise with a traceback."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def parse_at(value: str | None) -> dt.datetime | None:
    if value is None:
        return None
    moment = parse_iso_time(value)
    if moment is None:
        raise UsageError(f"--at {value!r}: not an ISO 8601 time (e.g. 2026-11-29T10:00:00Z)")
    return moment


def build_options(
    *,
    profile_name: str,
    ssl_protocols: str | None,
    resolve: tuple[str, ...],
    nameserver: tuple[str, ...],
    ca_bundle: Path | None,
    at: str | None,
    warn_days: int,
    connect_timeout: float | None,
    connect_attempts: int | None,
    read_timeout: float | None,
    no_compare: bool,
    debug: bool,
    **_: Any,
) -> CheckOptions:
    if ca_bundle is not None and not ca_bundle.is_file():
        raise InputError(f"{ca_bundle}: CA bundle not found")
    protocols = tuple(p.strip() for p in ssl_protocols.split(",") if p.strip()) if ssl_protocols else None
    profile = load_profile(profile_name).with_overrides(
        ssl_protocols=protocols, connect_timeout=connect_timeout, connect_attempts=connect_attempts,
        read_timeout=read_timeout, ca_bundle=ca_bundle,
    )
    from origin_doctor.profile import trust_anchors

    trust_anchors(profile)  # fail early, as one line, on an unreadable or empty bundle
    return CheckOptions(
        profile=profile,
        now=parse_at(at),
        warn_days=warn_days,
        resolve=parse_resolve(resolve),
        nameservers=tuple(parse_nameserver(n) for n in nameserver),
        compare_profiles=not no_compare,
        debug=debug,
    )
