"""Resolve the origin name: A/AAAA/CNAME, and the difference between NXDOMAIN, NODATA,
SERVFAIL/REFUSED and no answer in time."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from origin_doctor.model import parse_ip

if TYPE_CHECKING:
    import dns.asyncresolver


@dataclass(frozen=True, slots=True)
class DnsObservation:
    name: str
    addresses: tuple[str, ...]
    cnames: tuple[str, ...] = ()
    error: str | None = None  # "nxdomain" | "no_address" | "servfail" | "timeout"
    detail: str = ""
    source: str = "dns"  # "dns" | "resolve" (from --resolve) | "literal" (an IP address)
    elapsed_ms: float = 0.0


def ip_literal(name: str) -> str | None:
    ip = parse_ip(name.strip("[]"))
    return None if ip is None else str(ip)


def make_resolver(nameservers: tuple[tuple[str, int], ...], timeout: float) -> dns.asyncresolver.Resolver:
    # dnspython costs ~50 ms to import: only runs that resolve names pay it (scan workers start faster).
    import dns.asyncresolver
    import dns.nameserver
    import dns.resolver

    if nameservers:
        resolver = dns.asyncresolver.Resolver(configure=False)
        # dnspython binds the port when the list is assigned, so each server keeps its own.
        resolver.nameservers = [dns.nameserver.Do53Nameserver(host, port) for host, port in nameservers]
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            resolver = dns.asyncresolver.Resolver(configure=False)
            resolver.nameservers = ["127.0.0.1"]
    resolver.lifetime = timeout
    resolver.timeout = min(timeout, 2.0)
    return resolver


async def _query(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> tuple[list[str], list[str], str | None, str]:
    import dns.exception
    import dns.rdatatype
    import dns.resolver

    try:
        answer = await resolver.resolve(name, rdtype, search=False)
    except dns.resolver.NXDOMAIN:
        return [], [], "nxdomain", f"{name} does not exist (NXDOMAIN)"
    except dns.resolver.NoAnswer:
        return [], [], "nodata", f"{name} has no {rdtype} record"
    except dns.resolver.NoNameservers:
        return [], [], "servfail", f"no server gave a usable answer for {name} {rdtype} (SERVFAIL or REFUSED)"
    except dns.exception.Timeout:
        return [], [], "timeout", f"no DNS answer for {name} {rdtype} in time"
    except dns.exception.DNSException as exc:
        return [], [], "servfail", f"DNS error for {name}: {type(exc).__name__}"
    addresses = [rr.to_text() for rr in answer]
    cnames = [
        str(rrset.name).rstrip(".")
        for rrset in answer.response.answer
        if rrset.rdtype == dns.rdatatype.CNAME
    ]
    return addresses, cnames, None, ""


async def resolve(name: str, resolver: dns.asyncresolver.Resolver) -> DnsObservation:
    """Ask A and AAAA at once; both failing the same way decides the error."""
    started = time.perf_counter()
    (a, cn_a, err_a, det_a), (aaaa, cn_aaaa, err_aaaa, det_aaaa) = await asyncio.gather(
        _query(resolver, name, "A"), _query(resolver, name, "AAAA")
    )
    elapsed = (time.perf_counter() - started) * 1000
    addresses = tuple(dict.fromkeys(a + aaaa))
    cnames = tuple(dict.fromkeys(cn_a + cn_aaaa))
    if addresses:
        return DnsObservation(name, addresses, cnames, elapsed_ms=elapsed)
    errors = {err_a, err_aaaa}
    for kind, detail in (("nxdomain", det_a if err_a == "nxdomain" else det_aaaa),
                         ("servfail", det_a if err_a == "servfail" else det_aaaa),
                         ("timeout", det_a if err_a == "timeout" else det_aaaa)):
        if kind in errors:
            return DnsObservation(name, (), cnames, kind, detail, elapsed_ms=elapsed)
    return DnsObservation(name, (), cnames, "no_address", f"{name} exists but has no A or AAAA record",
                          elapsed_ms=elapsed)
