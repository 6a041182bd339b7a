"""Judge the DNS and TCP observations (the stages before TLS)."""

from __future__ import annotations

from origin_doctor.codes import finding
from origin_doctor.model import Finding
from origin_doctor.probe.dns import DnsObservation
from origin_doctor.probe.tcp import TcpObservation


def check_dns(obs: DnsObservation, nameserver: str) -> list[Finding]:
    if obs.error is None:
        return []
    subject = f"{obs.name} (resolver {nameserver})"
    if obs.error == "nxdomain":
        return [finding("dns.nxdomain", subject, f"The origin name '{obs.name}' does not exist (NXDOMAIN).",
                        fix=f"Create a DNS record for '{obs.name}', or correct the origin domain on the distribution.",
                        name=obs.name, resolver=nameserver, cnames=", ".join(obs.cnames) or None)]
    if obs.error == "no_address":
        return [finding("dns.no_address", subject,
                        f"'{obs.name}' exists but has no A or AAAA record.",
                        name=obs.name, resolver=nameserver, cnames=", ".join(obs.cnames) or None)]
    if obs.error == "timeout":
        return [finding("dns.timeout", subject, f"No DNS answer for '{obs.name}' in time.",
                        name=obs.name, resolver=nameserver, elapsed_ms=round(obs.elapsed_ms, 1))]
    return [finding("dns.servfail", subject, f"Resolving '{obs.name}' failed: {obs.detail}.",
                    name=obs.name, resolver=nameserver)]


def check_tcp(obs: TcpObservation, subject: str, timeout: float) -> list[Finding]:
    if obs.error is None:
        return []
    where = f"{obs.address} port {obs.port}"
    if obs.error == "timeout":
        return [finding("tcp.timeout", subject,
                        f"{obs.attempts} connection attempt(s) to {where} got no answer within {timeout:g} s each.",
                        attempts=obs.attempts, timeout_s=timeout)]
    if obs.error == "unreachable":
        return [finding("tcp.unreachable", subject, f"No route to {where}.", errno=obs.errno)]
    if obs.error == "reset":
        return [finding("tcp.refused", subject, f"{where} reset the connection.", errno=obs.errno)]
    return [finding("tcp.refused", subject, f"Nothing listens on {where} (connection refused).",
                    fix=f"Start the service on port {obs.port}, or set the distribution's origin port to the one that listens.",
                    errno=obs.errno)]
