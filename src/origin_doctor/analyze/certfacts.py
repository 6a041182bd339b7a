"""Facts about a certificate chain as sent, computed before any judging: the path from the leaf
to a trust anchor, what is missing, out of order or extra, and how names match.

Pure: no I/O, no clock. The judging lives in analyze/cert.py.
"""

from __future__ import annotations

import datetime as dt
import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509 import verification
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtensionOID, NameOID

MAX_PATH = 12

_P = ParamSpec("_P")
_R = TypeVar("_R")


def by_identity(maxsize: int) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Memoize a pure function of certificates by the identity of its arguments.

    cryptography's Certificate.__hash__ hashes the whole DER on every call (about 20,000
    instructions under callgrind, dozens of calls per target), while _load_der hands out one object
    per DER, so identity finds the same entries for almost nothing. An entry keeps its arguments
    alive, so no id is reused while it stands; a certificate equal to a cached one but loaded
    apart merely misses. Oldest entries go first once `maxsize` is reached."""

    def wrap(function: Callable[_P, _R]) -> Callable[_P, _R]:
        memo: dict[object, tuple[tuple[object, ...], _R]] = {}

        @functools.wraps(function)
        def cached(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            assert not kwargs, "by_identity takes positional arguments only"
            key: object = id(args[0]) if len(args) == 1 else tuple(map(id, args))
            hit = memo.get(key)
            if hit is not None:  # entries are tuples, so a cached None is found too
                return hit[1]
            value = function(*args, **kwargs)
            if len(memo) >= maxsize:
                del memo[next(iter(memo))]
            memo[key] = (args, value)
            return value

        return cached

    return wrap


@by_identity(4096)  # every judgement and report line asks again; each ask builds a Name
def subject_name(cert: x509.Certificate) -> x509.Name:
    return cert.subject


@by_identity(4096)
def issuer_name(cert: x509.Certificate) -> x509.Name:
    return cert.issuer


def name_of(cert: x509.Certificate) -> str:
    """A short human name: the CN when there is one, else the whole DN."""
    cns = subject_name(cert).get_attributes_for_oid(NameOID.COMMON_NAME)
    if cns:
        value = cns[0].value
        return value.decode("latin-1") if isinstance(value, bytes) else value
    return subject_name(cert).rfc4514_string() or "(empty subject)"


def dns_names(cert: x509.Certificate) -> list[str]:
    return list(_san_names(cert) or ())


def has_san(cert: x509.Certificate) -> bool:
    return _san_names(cert) is not None


@by_identity(4096)  # the report and the name check both read the leaf's names
def _san_names(cert: x509.Certificate) -> tuple[str, ...] | None:
    """The subjectAltName's DNS names and IP addresses; None without a (readable) extension."""
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    assert isinstance(san, x509.SubjectAlternativeName)
    return tuple([str(n) for n in san.get_values_for_type(x509.DNSName)]
                 + [str(ip) for ip in san.get_values_for_type(x509.IPAddress)])


def common_names(cert: x509.Certificate) -> list[str]:
    return [str(a.value) for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]


def name_matches(pattern: str, name: str) -> bool:
    """RFC 6125 style: exact, or a wildcard standing for exactly one left-most label."""
    pattern, name = pattern.lower().rstrip("."), name.lower().rstrip(".")
    if pattern == name:
        return True
    if not pattern.startswith("*."):
        return False
    suffix = pattern[1:]  # ".example.com"
    if not name.endswith(suffix):
        return False
    first = name[: -len(suffix)]
    return bool(first) and "." not in first and suffix.count(".") >= 2


@by_identity(4096)  # a fleet's intermediates and roots repeat on every target
def issued_by(child: x509.Certificate, parent: x509.Certificate) -> bool:
    if issuer_name(child) != subject_name(parent):
        return False
    try:
        child.verify_directly_issued_by(parent)
    except ValueError:
        # cryptography refuses legacy signature hashes (SHA-1) here; old origins still send them,
        # and OpenSSL-style clients still chain them, so check the signature by hand.
        return _legacy_signature_ok(child, parent)
    except (TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _legacy_signature_ok(child: x509.Certificate, parent: x509.Certificate) -> bool:
    try:
        algorithm = child.signature_hash_algorithm
        key = parent.public_key()
        if algorithm is None:
            return False
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, padding.PKCS1v15(), algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(child.signature, child.tbs_certificate_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def is_self_signed(cert: x509.Certificate) -> bool:
    return issued_by(cert, cert)


def aia_ca_issuers(cert: x509.Certificate) -> list[str]:
    try:
        aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    except (x509.ExtensionNotFound, ValueError):
        return []
    return [
        str(d.access_location.value)
        for d in aia
        if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS
        and isinstance(d.access_location, x509.UniformResourceIdentifier)
    ]


@by_identity(4096)  # the report and the strength check both ask
def key_description(cert: x509.Certificate) -> tuple[str, int | None]:
    try:
        key = cert.public_key()
    except (ValueError, UnsupportedAlgorithm):
        return "unknown", None
    if isinstance(key, rsa.RSAPublicKey):
        return f"RSA {key.key_size}", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.key_size
    return type(key).__name__.replace("PublicKey", "").lstrip("_"), None


def signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except UnsupportedAlgorithm:
        return "unsupported"
    return algorithm.name if algorithm is not None else None


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe(cert: x509.Certificate, include_pem: bool = True) -> dict[str, Any]:
    """The report's view of one certificate (a fresh dict; the work is cached per certificate)."""
    return dict(_described(cert, include_pem))


@by_identity(2048)
def _described(cert: x509.Certificate, include_pem: bool) -> dict[str, Any]:
    key, _ = key_description(cert)
    data: dict[str, Any] = {
        "subject": subject_name(cert).rfc4514_string(),
        "issuer": issuer_name(cert).rfc4514_string(),
        "sha256": _fingerprint(cert).hex(),
        "not_before": _utc(cert.not_valid_before_utc),
        "not_after": _utc(cert.not_valid_after_utc),
        "names": dns_names(cert),
        "key": key,
        "signature_hash": signature_hash(cert),
        "self_signed": is_self_signed(cert),
    }
    if include_pem:
        data["pem"] = cert.public_bytes(serialization.Encoding.PEM).decode("ascii")
    return data


@dataclass(frozen=True, slots=True)
class ParsedChain:
    certs: tuple[x509.Certificate, ...]
    unparsable: tuple[int, ...] = ()  # positions in the sent chain that did not parse


def parse_chain(chain: tuple[bytes, ...]) -> ParsedChain:
    return _parse_chain(tuple(chain))


@functools.lru_cache(maxsize=256)  # the report and the judgement of one target parse the same chain
def _parse_chain(chain: tuple[bytes, ...]) -> ParsedChain:
    certs: list[x509.Certificate] = []
    bad: list[int] = []
    for position, der in enumerate(chain):
        try:
            certs.append(_load_der(der))
        except ValueError:
            bad.append(position)
    return ParsedChain(tuple(certs), tuple(bad))


@functools.lru_cache(maxsize=4096)  # a fleet's intermediates repeat: parse each once
def _load_der(der: bytes) -> x509.Certificate:
    with warnings.catch_warnings():
        # Judge what the origin sends even when a future cryptography would refuse it.
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return x509.load_der_x509_certificate(der)


@dataclass(frozen=True, slots=True)
class ChainFacts:
    sent: tuple[x509.Certificate, ...]
    path: tuple[int, ...]  # positions in `sent`, leaf first
    anchor: x509.Certificate | None  # trust anchor that ends the path, if any
    ends_self_signed_untrusted: bool  # the path ends at a self-signed certificate outside the store
    missing_issuer: str | None  # DN of the issuer nobody sent and the store lacks
    leaf_self_signed: bool
    out_of_order: bool
    extra: tuple[int, ...]  # sent positions not on the path
    extra_roots: tuple[int, ...] = field(default=())  # of those, self-signed ones

    @property
    def leaf(self) -> x509.Certificate:
        return self.sent[0]

    def path_certs(self) -> list[x509.Certificate]:
        return [self.sent[i] for i in self.path]


@by_identity(4096)  # asked for every certificate on every path walk
def _fingerprint(cert: x509.Certificate) -> bytes:
    return cert.fingerprint(hashes.SHA256())


class AnchorIndex:
    """Trust anchors by subject, built once per store."""

    def __init__(self, anchors: tuple[x509.Certificate, ...]) -> None:
        self.by_subject: dict[x509.Name, list[x509.Certificate]] = {}
        self.fingerprints: set[bytes] = set()
        for anchor in anchors:
            self.by_subject.setdefault(anchor.subject, []).append(anchor)
            self.fingerprints.add(_fingerprint(anchor))
        self.anchors = anchors
        self._store: verification.Store | None = None
        # keyed by the certificates' identity, for the reason given in by_identity(); the value
        # holds the certificates, so their ids stay theirs while the entry lives
        self._facts: dict[tuple[int, ...], tuple[tuple[x509.Certificate, ...], ChainFacts]] = {}

    FACTS_KEPT = 1024

    def facts_for(self, sent: tuple[x509.Certificate, ...]) -> ChainFacts:
        """chain_facts(sent, self), remembered: the path depends only on the certificates sent and
        this store, not on the name or the time, so a SAN certificate served under many names (or
        one name behind many addresses) builds its path once. Bounded; it lives as long as the store."""
        facts = self.known_facts(sent)
        if facts is None:
            facts = self._remember(sent, chain_facts(sent, self))
        return facts

    def known_facts(self, sent: tuple[x509.Certificate, ...]) -> ChainFacts | None:
        entry = self._facts.get(tuple(map(id, sent)))
        return None if entry is None else entry[1]

    def _remember(self, sent: tuple[x509.Certificate, ...], facts: ChainFacts) -> ChainFacts:
        if len(self._facts) >= self.FACTS_KEPT:
            self._facts.clear()
        self._facts[tuple(map(id, sent))] = (sent, facts)
        return facts

    def facts_from_verified(self, sent: tuple[x509.Certificate, ...],
                            verified: list[x509.Certificate]) -> ChainFacts | None:
        """The facts of a chain the path verifier accepted exactly as sent plus one trust anchor
        (the healthy case), without our own signature walk: the verifier checked every signature.
        None when the chain is not that simple (a sent certificate in the store, an anchor that
        could end the path early): chain_facts() then walks it."""
        count = len(sent)
        if len(verified) != count + 1 or any(verified[i] != sent[i] for i in range(count)):
            return None
        if any(self.contains(cert) for cert in sent) or any(issuer_name(cert) in self.by_subject for cert in sent[:-1]):
            return None
        anchor = next((a for a in self.by_subject.get(subject_name(verified[-1]), ()) if a == verified[-1]), None)
        if anchor is None:
            return None
        facts = ChainFacts(sent=sent, path=tuple(range(count)), anchor=anchor, ends_self_signed_untrusted=False,
                           missing_issuer=None, leaf_self_signed=is_self_signed(sent[0]), out_of_order=False,
                           extra=())
        return self._remember(sent, facts)

    @property
    def store(self) -> verification.Store:
        """The verifier's store, built on first use (hundreds of roots: once, not per chain)."""
        if self._store is None:
            self._store = verification.Store(list(self.anchors))
        return self._store

    def issuer_of(self, cert: x509.Certificate) -> x509.Certificate | None:
        for candidate in self.by_subject.get(issuer_name(cert), ()):
            if issued_by(cert, candidate):
                return candidate
        return None

    def contains(self, cert: x509.Certificate) -> bool:
        return _fingerprint(cert) in self.fingerprints


def chain_facts(sent: tuple[x509.Certificate, ...], anchors: AnchorIndex) -> ChainFacts:
    leaf = sent[0]
    path = [0]
    anchor: x509.Certificate | None = None
    ends_self_signed = False
    missing: str | None = None
    leaf_self_signed = is_self_signed(leaf)
    while len(path) < MAX_PATH:
        current = sent[path[-1]]
        if anchors.contains(current):
            anchor = current
            break
        found_anchor = anchors.issuer_of(current)
        if found_anchor is not None:
            anchor = found_anchor
            break
        if is_self_signed(current):
            ends_self_signed = True
            break
        nxt = next((i for i, c in enumerate(sent) if i not in path and issued_by(current, c)), None)
        if nxt is None:
            missing = issuer_name(current).rfc4514_string()
            break
        path.append(nxt)
    on_path = set(path)
    extra = tuple(i for i in range(len(sent)) if i not in on_path)
    extra_roots = tuple(i for i in extra if is_self_signed(sent[i]))
    return ChainFacts(
        sent=sent,
        path=tuple(path),
        anchor=anchor,
        ends_self_signed_untrusted=ends_self_signed,
        missing_issuer=missing,
        leaf_self_signed=leaf_self_signed,
        out_of_order=list(path) != sorted(path),
        extra=extra,
        extra_roots=extra_roots,
    )
