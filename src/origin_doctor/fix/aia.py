"""Fetch a CA certificate from an AIA "CA Issuers" URL, treating the URL as untrusted input:
http/https only, an optional host allow-list, a size cap, one deadline for the whole fetch and
a few redirects at most, each of them http/https again. Failures are values, never exceptions.
"""

from __future__ import annotations

import fnmatch
import http.client
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

from cryptography import x509

from origin_doctor.fix.sources import parse_certificates

MAX_BYTES = 64 * 1024
MAX_REDIRECTS = 3
TIMEOUT = 5.0
_SCHEMES = ("http", "https")
_REDIRECTS = (301, 302, 303, 307, 308)


@dataclass(frozen=True, slots=True)
class AiaFetch:
    url: str
    certs: tuple[x509.Certificate, ...] = ()
    error: str | None = None  # why nothing usable came back
    hops: tuple[str, ...] = field(default=())  # every URL requested, in order

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(frozen=True, slots=True)
class AiaPolicy:
    allowed_hosts: tuple[str, ...] = ()  # fnmatch patterns; empty: any host
    max_bytes: int = MAX_BYTES
    timeout: float = TIMEOUT
    max_redirects: int = MAX_REDIRECTS


class _Refused(Exception):
    """One fetch step failed; the message is shown to the user as is."""


def _check_url(url: str, policy: AiaPolicy) -> urllib.parse.SplitResult:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme.lower() not in _SCHEMES:
        raise _Refused(f"refusing the {parts.scheme or 'schemeless'} URL {url!r}: only http and https are fetched")
    host = parts.hostname
    if not host:
        raise _Refused(f"the URL {url!r} has no host")
    if policy.allowed_hosts and not any(fnmatch.fnmatch(host.lower(), p.lower()) for p in policy.allowed_hosts):
        raise _Refused(f"the host {host!r} is not allowed by --aia-allow ({', '.join(policy.allowed_hosts)})")
    return parts


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise _Refused("timed out")
    return left


def _connection(parts: urllib.parse.SplitResult, timeout: float) -> http.client.HTTPConnection:
    host = parts.hostname or ""
    try:
        port = parts.port
    except ValueError as exc:
        raise _Refused(f"bad port in {parts.geturl()!r}") from exc
    if parts.scheme.lower() == "https":
        import certifi

        context = ssl.create_default_context(cafile=certifi.where())
        return http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    return http.client.HTTPConnection(host, port, timeout=timeout)


def _get_once(parts: urllib.parse.SplitResult, policy: AiaPolicy, deadline: float) -> tuple[int, str | None, bytes]:
    """One GET: (status, Location, body up to the cap)."""
    connection = _connection(parts, _remaining(deadline))
    try:
        target = parts.path or "/"
        if parts.query:
            target += "?" + parts.query
        connection.request("GET", target, headers={"User-Agent": "origin-doctor fix-chain", "Accept": "*/*"})
        response = connection.getresponse()
        if response.status in _REDIRECTS:
            return response.status, response.getheader("Location"), b""
        if response.status != 200:
            raise _Refused(f"HTTP {response.status} {response.reason}")
        declared = response.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > policy.max_bytes:
            raise _Refused(f"the answer is {int(declared)} bytes, over the {policy.max_bytes}-byte cap")
        body = bytearray()
        while len(body) <= policy.max_bytes:
            if connection.sock is not None:
                connection.sock.settimeout(_remaining(deadline))
            chunk = response.read1(16384)
            if not chunk:
                return response.status, None, bytes(body)
            body += chunk
        raise _Refused(f"the answer is over the {policy.max_bytes}-byte cap")
    finally:
        connection.close()


def fetch(url: str, policy: AiaPolicy = AiaPolicy()) -> AiaFetch:
    """GET `url` and parse the body as DER, PEM or PKCS#7 certificates."""
    deadline = time.monotonic() + policy.timeout
    hops: list[str] = []
    current = url
    try:
        for _ in range(policy.max_redirects + 1):
            parts = _check_url(current, policy)
            hops.append(current)
            status, location, body = _get_once(parts, policy, deadline)
            if location is None and status in _REDIRECTS:
                raise _Refused(f"HTTP {status} without a Location")
            if location is not None:
                current = urllib.parse.urljoin(current, location)
                continue
            certs = parse_certificates(body)
            if not certs:
                raise _Refused(f"the answer ({len(body)} bytes) is not a certificate in DER, PEM or PKCS#7")
            return AiaFetch(url, tuple(certs), None, tuple(hops))
        raise _Refused(f"more than {policy.max_redirects} redirects")
    except _Refused as exc:
        return AiaFetch(url, (), str(exc), tuple(hops))
    except TimeoutError:
        return AiaFetch(url, (), f"timed out after {policy.timeout:g} s", tuple(hops))
    except ssl.SSLError as exc:
        return AiaFetch(url, (), f"TLS error: {exc.reason or exc}", tuple(hops))
    except (OSError, http.client.HTTPException) as exc:
        detail = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        return AiaFetch(url, (), f"{type(exc).__name__}: {detail}", tuple(hops))

