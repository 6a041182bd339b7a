"""Build the path leaf -> trusted root from candidate certificates (in the order of their
sources), asking AIA only when no candidate issues the current certificate. Pure apart from the
fetch callback; the time is an argument.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.analyze.certfacts import MAX_PATH, AnchorIndex, is_self_signed, issued_by
from origin_doctor.fix.sources import Candidate

# Given a certificate whose issuer no candidate provides, return newly found candidates.
IssuerFetcher = Callable[[x509.Certificate], list[Candidate]]


def fingerprint(cert: x509.Certificate) -> bytes:
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).digest()


def valid_at(cert: x509.Certificate, now: dt.datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


@dataclass(frozen=True, slots=True)
class PathResult:
    path: tuple[Candidate, ...]  # leaf first, without the trust anchor
    anchor: x509.Certificate | None  # the store's root that ends the path
    missing_issuer: x509.Certificate | None  # the certificate whose issuer was found nowhere
    ends_untrusted_self_signed: bool  # the path climbs to a self-signed certificate outside the store

    @property
    def complete(self) -> bool:
        return self.anchor is not None


def pick_leaf(certs: Sequence[x509.Certificate]) -> x509.Certificate:
    """In a file of several certificates, the leaf is the one that issues none of the others,
    preferring a non-CA; for a chain as sent it is simply the first."""
    def is_ca(cert: x509.Certificate) -> bool:
        try:
            return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
        except (x509.ExtensionNotFound, ValueError):
            return False

    issuing_none = [c for c in certs if not any(o is not c and issued_by(o, c) for o in certs)]
    for cert in issuing_none:
        if not is_ca(cert):
            return cert
    return issuing_none[0] if issuing_none else certs[0]


class _Search:
    def __init__(self, pool: list[Candidate], anchors: AnchorIndex, now: dt.datetime,
                 fetch_issuer: IssuerFetcher | None) -> None:
        self.pool = pool
        self.anchors = anchors
        self.now = now
        self.fetch_issuer = fetch_issuer
        self.fetched: set[bytes] = set()  # certificates whose AIA was already asked
        self.first_failure: PathResult | None = None
        self.expired_complete: PathResult | None = None

    def issuers(self, cert: x509.Certificate, used: set[bytes]) -> list[Candidate]:
        found = [c for c in self.pool if fingerprint(c.cert) not in used and issued_by(cert, c.cert)]
        key = fingerprint(cert)
        if not found and self.fetch_issuer is not None and key not in self.fetched:
            self.fetched.add(key)
            fresh = self.fetch_issuer(cert)
            self.pool.extend(fresh)
            found = [c for c in fresh if fingerprint(c.cert) not in used and issued_by(cert, c.cert)]
        # Currently valid issuers first; among equals, the order of the sources.
        return sorted(_unique(found), key=lambda c: not valid_at(c.cert, self.now))

    def extend(self, path: list[Candidate]) -> PathResult | None:
        """A complete path whose certificates are all valid now, or None (failures remembered)."""
        current = path[-1].cert
        if len(path) > 1 and self.anchors.contains(current):
            anchor: x509.Certificate | None = current
            path = path[:-1]
        else:
            anchor = self.anchors.issuer_of(current)
        if anchor is not None:
            result = PathResult(tuple(path), anchor, None, False)
            if all(valid_at(c.cert, self.now) for c in path):
                return result
            self.expired_complete = self.expired_complete or result
            return None
        if is_self_signed(current):
            self._failed(PathResult(tuple(path), None, None, True))
            return None
        if len(path) >= MAX_PATH:
            self._failed(PathResult(tuple(path), None, current, False))
            return None
        used = {fingerprint(c.cert) for c in path}
        options = self.issuers(current, used)
        if not options:
            self._failed(PathResult(tuple(path), None, current, False))
            return None
        for option in options:
            done = self.extend([*path, option])
            if done is not None:
                return done
        return None

    def _failed(self, result: PathResult) -> None:
        if self.first_failure is None or len(result.path) > len(self.first_failure.path):
            self.first_failure = result


def _unique(candidates: list[Candidate]) -> list[Candidate]:
    seen: set[bytes] = set()
    unique: list[Candidate] = []
    for candidate in candidates:
        key = fingerprint(candidate.cert)
        if key not in seen:
            seen.add(key)
            unique.append(candidate)
    return unique


def build_path(leaf: Candidate, pool: list[Candidate], anchors: AnchorIndex, now: dt.datetime,
               fetch_issuer: IssuerFetcher | None = None) -> PathResult:
    """The best path: all valid and trusted if one exists; else a trusted one with an expired
    certificate; else the longest path that got stuck (missing issuer or untrusted root)."""
    search = _Search(list(pool), anchors, now, fetch_issuer)
    found = search.extend([leaf])
    if found is not None:
        return found
    if search.expired_complete is not None:
        return search.expired_complete
    assert search.first_failure is not None  # extend() records every dead end
    return search.first_failure
