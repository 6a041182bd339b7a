"""CDN profiles: the origin-facing rules of a CDN, loaded from data files in profiles/.

A profile is frozen; user flags (--ssl-protocols, timeouts, --ca-bundle) derive a new one.
Building the trust store and the OpenSSL context from a profile also lives here.
"""

from __future__ import annotations

import dataclasses
import functools
import tomllib
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from cryptography import x509
from cryptography.utils import CryptographyDeprecationWarning
from OpenSSL import SSL

from origin_doctor.errors import InputError, ProfileError, UsageError

ALL_VERSIONS = ("SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
_SSL_VERSION = {
    "TLSv1": SSL.TLS1_VERSION,
    "TLSv1.1": SSL.TLS1_1_VERSION,
    "TLSv1.2": SSL.TLS1_2_VERSION,
    "TLSv1.3": SSL.TLS1_3_VERSION,
}
# Suites OpenSSL (3.x, and cryptography's own build) cannot offer; the ClientHello probe still offers them.
OPENSSL_MISSING = frozenset({"DES-CBC3-SHA", "RC4-MD5"})


@dataclass(frozen=True, slots=True)
class Profile:
    id: str
    title: str
    read_on: str
    sources: tuple[str, ...]
    tls_versions: tuple[str, ...]
    optional_versions: tuple[str, ...]
    cipher_suites: tuple[str, ...]
    groups: tuple[str, ...]
    signature_algorithms: tuple[str, ...]
    trust_store: str
    fetch_intermediates: bool
    connect_timeout: float
    connect_attempts: int
    read_timeout: float
    max_response_header_bytes: int
    chain_order_fatal: bool
    client_cert_request_fatal: bool
    other_profile: str | None = None
    ca_bundle: Path | None = None
    enabled_optional: tuple[str, ...] = ()  # optional versions the user turned on (--ssl-protocols SSLv3)

    @property
    def tls12_suites(self) -> tuple[str, ...]:
        return tuple(s for s in self.cipher_suites if not s.startswith("TLS_"))

    @property
    def tls13_suites(self) -> tuple[str, ...]:
        return tuple(s for s in self.cipher_suites if s.startswith("TLS_"))

    @property
    def offers_tls13(self) -> bool:
        return "TLSv1.3" in self.tls_versions

    def with_overrides(
        self,
        *,
        ssl_protocols: tuple[str, ...] | None = None,
        connect_timeout: float | None = None,
        connect_attempts: int | None = None,
        read_timeout: float | None = None,
        ca_bundle: Path | None = None,
    ) -> Profile:
        changes: dict[str, object] = {}
        if ssl_protocols:
            unknown = [v for v in ssl_protocols if v not in ALL_VERSIONS]
            if unknown:
                raise UsageError(f"--ssl-protocols: unknown version {unknown[0]!r}; use {', '.join(ALL_VERSIONS)}")
            allowed = set(self.tls_versions) | set(self.optional_versions)
            outside = [v for v in ssl_protocols if v not in allowed]
            if outside:
                raise UsageError(f"--ssl-protocols: profile {self.id} cannot offer {outside[0]}")
            changes["tls_versions"] = tuple(v for v in ALL_VERSIONS if v in ssl_protocols and v != "SSLv3")
            changes["enabled_optional"] = ("SSLv3",) if "SSLv3" in ssl_protocols else ()
        if connect_timeout is not None:
            changes["connect_timeout"] = connect_timeout
        if connect_attempts is not None:
            changes["connect_attempts"] = connect_attempts
        if read_timeout is not None:
            changes["read_timeout"] = read_timeout
        if ca_bundle is not None:
            changes["ca_bundle"] = ca_bundle
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def offered_versions(self) -> tuple[str, ...]:
        return tuple(v for v in ALL_VERSIONS if v in self.tls_versions or v in self.enabled_optional)


def available_profiles() -> tuple[str, ...]:
    folder = resources.files("origin_doctor.profiles")
    return tuple(sorted(p.name[: -len(".toml")] for p in folder.iterdir() if p.name.endswith(".toml")))


@functools.cache
def load_profile(name: str) -> Profile:
    if name not in available_profiles():
        raise UsageError(f"unknown profile {name!r}; available: {', '.join(available_profiles())}")
    text = resources.files("origin_doctor.profiles").joinpath(f"{name}.toml").read_text("utf-8")
    try:
        raw = tomllib.loads(text)
        return Profile(
            id=str(raw["id"]),
            title=str(raw["title"]),
            read_on=str(raw["read_on"]),
            sources=tuple(raw["sources"]),
            tls_versions=tuple(raw["tls_versions"]),
            optional_versions=tuple(raw.get("optional_versions", ())),
            cipher_suites=tuple(raw["cipher_suites"]),
            groups=tuple(raw["groups"]),
            signature_algorithms=tuple(raw["signature_algorithms"]),
            trust_store=str(raw["trust_store"]),
            fetch_intermediates=bool(raw["fetch_intermediates"]),
            connect_timeout=float(raw["connect_timeout"]),
            connect_attempts=int(raw["connect_attempts"]),
            read_timeout=float(raw["read_timeout"]),
            max_response_header_bytes=int(raw["max_response_header_bytes"]),
            chain_order_fatal=bool(raw["chain_order_fatal"]),
            client_cert_request_fatal=bool(raw["client_cert_request_fatal"]),
            other_profile=raw.get("other_profile"),
        )
    except (KeyError, TypeError, ValueError, tomllib.TOMLDecodeError) as exc:
        raise ProfileError(f"profile {name}: malformed ({exc})") from exc


@functools.cache
def _load_bundle(path: str) -> tuple[x509.Certificate, ...]:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read CA bundle ({exc.strerror or exc})") from exc
    try:
        with warnings.catch_warnings():
            # Mozilla's store still holds a root with a non-positive serial; it is valid to trust it.
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        try:
            certs = [x509.load_der_x509_certificate(data)]
        except ValueError as exc:
            raise InputError(f"{path}: no PEM or DER certificate found") from exc
    if not certs:
        raise InputError(f"{path}: no certificate found")
    return tuple(certs)


def trust_anchors(profile: Profile) -> tuple[x509.Certificate, ...]:
    """The profile's roots: Mozilla's (certifi) unless a CA bundle replaces them."""
    if profile.ca_bundle is not None:
        return _load_bundle(str(profile.ca_bundle))
    import certifi

    return _load_bundle(certifi.where())


@functools.cache
def permissive_context() -> SSL.Context:
    """A client that accepts any version, suite and certificate: used to observe, never to judge.
    Built once and shared (building a context costs more than a loopback handshake): do not mutate."""
    ctx = _client_context(SSL.TLS1_VERSION, SSL.TLS1_3_VERSION)
    ctx.set_cipher_list(b"ALL:@SECLEVEL=0")
    return ctx


def _client_context(lowest: int, highest: int) -> SSL.Context:
    """An OpenSSL client (cryptography's build, through pyOpenSSL) that verifies nothing: the
    chain is judged afterwards from what was sent. TLS 1.0/1.1 also need @SECLEVEL=0 in the
    cipher string."""
    ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE)
    ctx.set_min_proto_version(lowest)
    ctx.set_max_proto_version(highest)
    # The options Python's ssl gives a client (OpenSSL's interoperability workarounds, such as
    # padding a ClientHello of 256-511 bytes, but with CBC's empty fragments), so the handshake
    # looks the same as it did through Python's ssl.
    ctx.set_options((SSL.OP_ALL & ~SSL.OP_DONT_INSERT_EMPTY_FRAGMENTS) | SSL.OP_NO_COMPRESSION)
    _offer_groups(ctx, CLASSIC_GROUPS)
    return ctx


# OpenSSL 3.0's default groups, which Python's ssl offered. OpenSSL 3.5 and later lead with the
# hybrid X25519MLKEM768 and send its 1,216-byte key share: a 1,680-byte ClientHello, where some
# old origins and middleboxes fail (this list: 517 bytes, as before).
CLASSIC_GROUPS = "X25519:P-256:X448:P-521:P-384:ffdhe2048:ffdhe3072:ffdhe4096:ffdhe6144:ffdhe8192"


def _offer_groups(ctx: SSL.Context, groups: str) -> None:
    # pyOpenSSL has no public call for the client's groups; cryptography's binding, which
    # pyOpenSSL itself drives, has SSL_CTX_set1_curves_list (OpenSSL's older name for it).
    from OpenSSL._util import lib

    if lib.SSL_CTX_set1_curves_list(ctx._context, groups.encode("ascii")) != 1:  # noqa: SLF001
        raise ProfileError(f"OpenSSL refused the group list {groups!r}")


@functools.lru_cache(maxsize=32)
def profile_context(profile: Profile) -> SSL.Context:
    """The closest OpenSSL client to the profile (it offers more groups and signature schemes;
    the ClientHello probe answers the negotiation question exactly). Cached per profile and
    shared by every connection: do not mutate."""
    versions = [v for v in profile.tls_versions if v in _SSL_VERSION]
    if not versions:
        raise UsageError(f"profile {profile.id}: no TLS version that OpenSSL can offer")
    ctx = _client_context(_SSL_VERSION[versions[0]], _SSL_VERSION[versions[-1]])
    suites = [s for s in profile.tls12_suites if s not in OPENSSL_MISSING]
    ctx.set_cipher_list((":".join(suites) + ":@SECLEVEL=0").encode("ascii"))
    return ctx
