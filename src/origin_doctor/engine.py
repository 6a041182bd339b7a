"""Diagnose one target as the CDN connects to it, and many targets as a bounded stream.

The pipeline reads top to bottom in `_check_address`: connect, negotiate (the profile's exact
ClientHello), handshake, certificate, HTTP, WebSocket. Only the wire stops it, never a finding.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import time
import traceback
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from origin_doctor.analyze import network as judge_net
from origin_doctor.analyze.cert import check_chain
from origin_doctor.analyze.certfacts import AnchorIndex, describe, parse_chain
from origin_doctor.analyze.http import check_http
from origin_doctor.analyze.tls import (
    ALL_GROUPS,
    ALL_SIGALGS,
    ALL_SUITES,
    LEGACY_VERSIONS,
    NO_SNI,
    TLS12_ANY,
    WITH_TLS13,
    Negotiation,
    check_negotiation,
)
from origin_doctor.codes import finding
from origin_doctor.model import Finding, Target
from origin_doctor.probe import dns as dns_probe
from origin_doctor.probe import http as http_probe
from origin_doctor.probe import tcp as tcp_probe
from origin_doctor.probe import tls as tls_probe
from origin_doctor.probe.hello import HelloOffer, HelloResult, negotiate
from origin_doctor.profile import Profile, load_profile, permissive_context, profile_context, trust_anchors
from origin_doctor.result import AddressResult, TargetResult
from origin_doctor.verdict import decide

EXTRA_SUITES = (
    "AES128-GCM-SHA256", "AES256-GCM-SHA384", "AES128-SHA256", "AES256-SHA256",
    "ECDHE-ECDSA-CHACHA20-POLY1305", "ECDHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-GCM-SHA256", "DHE-RSA-AES256-GCM-SHA384", "DHE-RSA-CHACHA20-POLY1305",
    "DHE-RSA-AES128-SHA", "DHE-RSA-AES256-SHA",
)
LEGACY_TLS = ("TLSv1", "TLSv1.1", "TLSv1.2")
TLS13_SUITES = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")
EXTRA_GROUPS = ("P-521", "X448")
EXTRA_SIGALGS = (
    "rsa_pss_rsae_sha256", "rsa_pss_rsae_sha384", "rsa_pss_rsae_sha512",
    "rsa_pss_pss_sha256", "rsa_pss_pss_sha384", "rsa_pss_pss_sha512", "ed25519", "ed448",
)


@dataclass(frozen=True)
class CheckOptions:
    profile: Profile
    now: dt.datetime | None = None  # None: the clock at the start of each target
    warn_days: int = 21
    resolve: Mapping[tuple[str, int], tuple[str, ...]] = field(default_factory=dict)
    nameservers: tuple[tuple[str, int], ...] = ()
    dns_timeout: float = 5.0
    compare_profiles: bool = True
    debug: bool = False


class DnsCache:
    """One lookup per name per run, shared by every target that resolves it."""

    def __init__(self, options: CheckOptions) -> None:
        self._options = options
        self._resolver: Any = None  # made on first use: dnspython is not even imported when --resolve covers all
        self._pending: dict[str, asyncio.Task[dns_probe.DnsObservation]] = {}
        self.nameserver = (
            ", ".join(f"{h}:{p}" for h, p in options.nameservers) if options.nameservers else "system resolver"
        )

    KEEP = 8192  # answers kept for reuse; older finished ones go, so a huge fleet stays flat in memory

    async def resolve(self, name: str) -> dns_probe.DnsObservation:
        task = self._pending.get(name)
        if task is None:
            if len(self._pending) >= self.KEEP:
                self._forget_oldest()
            if self._resolver is None:
                self._resolver = dns_probe.make_resolver(self._options.nameservers, self._options.dns_timeout)
            task = asyncio.ensure_future(dns_probe.resolve(name, self._resolver))
            self._pending[name] = task
        return await asyncio.shield(task)

    def _forget_oldest(self) -> None:
        done = [name for name, task in self._pending.items() if task.done()][: self.KEEP // 4]
        for name in done:
            del self._pending[name]


class AddressGates:
    """At most `limit` probes of one address at once (0: no limit) and at most `probes` in all
    (0: no limit). A probe takes its address slot first, so targets queued behind a busy address
    hold no global slot. Idle address entries are dropped, so memory does not grow with addresses."""

    def __init__(self, limit: int = 0, probes: int = 0) -> None:
        self.limit = limit
        self._gates: dict[str, tuple[asyncio.Semaphore, int]] = {}
        self._probes = asyncio.Semaphore(probes) if probes > 0 else None

    @contextlib.asynccontextmanager
    async def hold(self, address: str) -> AsyncIterator[None]:
        async with self._address(address):
            if self._probes is None:
                yield
            else:
                async with self._probes:
                    yield

    @contextlib.asynccontextmanager
    async def _address(self, address: str) -> AsyncIterator[None]:
        if self.limit <= 0:
            yield
            return
        gate, users = self._gates.get(address) or (asyncio.Semaphore(self.limit), 0)
        self._gates[address] = (gate, users + 1)
        try:
            async with gate:
                yield
        finally:
            gate, users = self._gates[address]
            if users <= 1:
                del self._gates[address]
            else:
                self._gates[address] = (gate, users - 1)


class _Context:
    """What one run shares: options, the anchor index, the DNS cache and the per-address gates."""

    def __init__(self, options: CheckOptions, gates: AddressGates | None = None,
                 dns: DnsCache | None = None) -> None:
        self.options = options
        self.anchors = AnchorIndex(trust_anchors(options.profile))
        self.dns = dns or DnsCache(options)
        self.gates = gates or AddressGates()
        other = options.profile.other_profile
        self.other_profile: Profile | None = (
            load_profile(other) if other and options.compare_profiles else None
        )
        self.other_covers = self.other_profile is not None and _covers(self.other_profile, options.profile)


def _offer(profile: Profile, sni: str | None, **changes: Any) -> HelloOffer:
    base = HelloOffer(
        versions=profile.offered_versions(),
        cipher_suites=profile.cipher_suites,
        groups=profile.groups,
        signature_algorithms=profile.signature_algorithms,
        sni=sni,
    )
    return replace(base, **changes)


def _plus(base: tuple[str, ...], extra: tuple[str, ...]) -> tuple[str, ...]:
    """`base` followed by what `extra` adds, without repeats."""
    return tuple(dict.fromkeys((*base, *extra)))


def _diagnostic_offers(profile: Profile, sni: str | None) -> dict[str, HelloOffer]:
    suites = _plus(profile.cipher_suites, EXTRA_SUITES)
    groups = _plus(profile.groups, EXTRA_GROUPS)
    sigalgs = _plus(profile.signature_algorithms, EXTRA_SIGALGS)
    offers = {
        WITH_TLS13: _offer(
            profile, sni,
            versions=_plus(profile.offered_versions(), ("TLSv1.3",)),
            cipher_suites=_plus(TLS13_SUITES, profile.cipher_suites),
            signature_algorithms=sigalgs,
        ),
        ALL_SUITES: _offer(profile, sni, cipher_suites=suites),
        ALL_GROUPS: _offer(profile, sni, groups=groups),
        ALL_SIGALGS: _offer(profile, sni, signature_algorithms=sigalgs),
        LEGACY_VERSIONS: _offer(profile, sni, versions=LEGACY_TLS),
        TLS12_ANY: _offer(profile, sni, versions=LEGACY_TLS, cipher_suites=suites, groups=groups,
                          signature_algorithms=sigalgs),
    }
    if sni:
        offers[NO_SNI] = _offer(profile, None)
    return offers


def _subject(address: str, port: int, sni: str | None) -> str:
    host = f"[{address}]" if ":" in address else address
    return f"{host}:{port} sni={sni or '-'}"


async def _negotiate(ctx: _Context, address: str, port: int, sni: str | None) -> Negotiation:
    profile = ctx.options.profile
    timeout = profile.connect_timeout
    other = ctx.other_profile
    # The other policy's hello goes out with the first unless its offer covers the profile's
    # (every version, suite, group and signature scheme): then it can only tell something new when
    # the profile's own hello fails, and a healthy origin is spared one handshake.
    eager = other is not None and not ctx.other_covers
    jobs = [negotiate(address, port, _offer(profile, sni), timeout)]
    if eager and other is not None:
        jobs.append(negotiate(address, port, _offer(other, sni), timeout))
    first, *eager_answers = await asyncio.gather(*jobs) if len(jobs) > 1 else [await jobs[0]]
    other_hello: HelloResult | None = eager_answers[0] if eager_answers else None
    late: dict[str, HelloOffer] = {}
    if other is not None and other_hello is None and first.kind != "accepted":
        late["other"] = _offer(other, sni)
    if first.kind in ("alert", "closed"):
        late.update(_diagnostic_offers(profile, sni))
    diagnostics: dict[str, HelloResult] = {}
    if late:
        answers = await asyncio.gather(*(negotiate(address, port, o, timeout) for o in late.values()))
        diagnostics = dict(zip(late, answers, strict=True))
        other_hello = diagnostics.pop("other", other_hello)
    return Negotiation(
        profile_hello=first,
        diagnostics=diagnostics,
        other_profile=other.id if other else None,
        other_hello=other_hello,
    )


def _covers(wide: Profile, narrow: Profile) -> bool:
    """Whether `wide`'s ClientHello offers everything `narrow`'s does."""
    return all(set(getattr(narrow, attr)) <= set(getattr(wide, attr))
               for attr in ("cipher_suites", "groups", "signature_algorithms")) and \
        set(narrow.offered_versions()) <= set(wide.offered_versions())


def _hello_summary(result: HelloResult) -> dict[str, Any]:
    return {
        "result": result.kind,
        "version": result.version,
        "cipher": result.cipher,
        "group": result.group,
        "signature_algorithm": result.signature_algorithm,
        "alert": result.alert,
        "client_cert_requested": result.client_cert_requested,
    }


async def _check_address(ctx: _Context, target: Target, address: str, dns_ms: float | None,
                         now: dt.datetime) -> AddressResult:
    profile = ctx.options.profile
    sni = target.sni
    subject = _subject(address, target.port, sni)
    found: list[Finding] = []

    tcp, conn = await tcp_probe.connect(address, target.port, profile.connect_timeout, profile.connect_attempts)
    found += judge_net.check_tcp(tcp, subject, profile.connect_timeout)
    if conn is None:
        return AddressResult(address, target.port, dns_ms, None, tcp.error, findings=tuple(found))

    tls_info: dict[str, Any] = {}
    http_info: dict[str, Any] | None = None
    try:
        negotiation = await _negotiate(ctx, address, target.port, sni)
        found += check_negotiation(negotiation, subject, profile, sni)
        tls_info["negotiation"] = _hello_summary(negotiation.profile_hello)
        if negotiation.other_hello is not None:
            tls_info["other_profile"] = {"profile": negotiation.other_profile,
                                         **_hello_summary(negotiation.other_hello)}
        if negotiation.profile_hello.kind in ("not_tls", "timeout", "refused"):
            return _address(address, target, dns_ms, tcp, tls_info, None, found)

        # The real handshake: as close to the profile as OpenSSL allows when the profile's hello
        # works, else a permissive one, so that the chain and HTTP are still seen.
        accepted = negotiation.profile_hello.kind == "accepted"
        observed_with = "profile" if accepted else "permissive"
        tls_ctx = profile_context(profile) if accepted else permissive_context()
        tls = await tls_probe.handshake(conn, tls_ctx, sni, profile.connect_timeout)
        if not tls.ok and accepted:
            tcp_probe.close(conn)
            _, conn = await tcp_probe.connect(address, target.port, profile.connect_timeout, 1)
            if conn is not None:
                observed_with = "permissive"
                tls = await tls_probe.handshake(conn, permissive_context(), sni, profile.connect_timeout)
        chain = tls.chain or negotiation.profile_hello.chain
        tls_info.update(version=tls.version, cipher=tls.cipher, handshake_ms=round(tls.elapsed_ms, 1),
                        observed_with=observed_with, error=tls.error, reason=tls.reason)
        tls_info["chain"] = [describe(c) for c in parse_chain(chain).certs]
        if chain:
            found += check_chain(chain, target.checked_name, ctx.anchors, now, subject,
                                 ctx.options.warn_days, profile.chain_order_fatal)
        if not tls.ok or conn is None:
            return _address(address, target, dns_ms, tcp, tls_info, None, found)
        if target.websocket_path is not None:  # a wss:// viewer request reaches the origin only as the upgrade
            # websockets is imported only when a target needs it (scan workers start faster)
            from origin_doctor.analyze.ws import check_ws
            from origin_doctor.probe import ws as ws_probe

            ws = await ws_probe.upgrade(conn, target, profile.read_timeout)
            found += check_ws(ws, subject, profile.read_timeout)
            return replace(_address(address, target, dns_ms, tcp, tls_info, None, found), ws=ws.summary())

        http = await http_probe.request(conn, target.http_host, target.path, profile.read_timeout,
                                        profile.max_response_header_bytes, extra_headers=target.origin_headers)
        found += check_http(http, subject, profile.read_timeout, profile.max_response_header_bytes)
        http_info = {
            "status": http.status, "reason": http.reason or None, "header_bytes": http.header_bytes,
            "ttfb_ms": None if http.ttfb_ms is None else round(http.ttfb_ms, 1),
            "error": http.error, "request_id": http.request_id,
            "server": next((v for k, v in http.headers if k.lower() == "server"), None),
        }
        return _address(address, target, dns_ms, tcp, tls_info, http_info, found)
    finally:
        tcp_probe.close(conn)


def _address(address: str, target: Target, dns_ms: float | None, tcp: tcp_probe.TcpObservation,
             tls: dict[str, Any], http: dict[str, Any] | None, found: list[Finding]) -> AddressResult:
    return AddressResult(address, target.port, dns_ms, round(tcp.elapsed_ms, 1), None, tls or None, http,
                         findings=tuple(found))


async def _addresses(ctx: _Context, target: Target) -> tuple[list[Finding], list[str], float | None]:
    """The addresses to probe: from --resolve, an IP literal, or DNS."""
    resolve = ctx.options.resolve
    for key in ((target.origin, target.port), (target.origin, 0)):
        if key in resolve:
            return [], list(resolve[key]), None
    literal = dns_probe.ip_literal(target.origin)
    if literal is not None:
        note = finding("config.ip_origin", target.origin,
                       f"The origin '{target.origin}' is an IP address; CloudFront only accepts a domain name.")
        return [note], [literal], None
    obs = await ctx.dns.resolve(target.origin)
    return judge_net.check_dns(obs, ctx.dns.nameserver), list(obs.addresses), obs.elapsed_ms


async def _check(ctx: _Context, target: Target) -> TargetResult:
    started = time.perf_counter()
    now = ctx.options.now or dt.datetime.now(dt.UTC)
    found, addresses, dns_ms = await _addresses(ctx, target)
    if len(addresses) == 1:  # most origins: no task per address
        per_address = [await _gated(ctx, target, addresses[0], dns_ms, now)]
    else:
        per_address = await asyncio.gather(*(_gated(ctx, target, a, dns_ms, now) for a in addresses))
    for result in per_address:
        found += result.findings
    return TargetResult(
        target=target,
        verdict=decide(found),
        findings=tuple(found),
        addresses=tuple(per_address),
        elapsed_ms=(time.perf_counter() - started) * 1000,
        profile=ctx.options.profile.id,
    )


async def _gated(ctx: _Context, target: Target, address: str, dns_ms: float | None,
                 now: dt.datetime) -> AddressResult:
    async with ctx.gates.hold(address):
        return await _check_address(ctx, target, address, dns_ms, now)


async def check_target(target: Target, options: CheckOptions) -> TargetResult:
    return await _guarded(_Context(options), target)


async def _guarded(ctx: _Context, target: Target) -> TargetResult:
    """A bug of ours on one target becomes an internal.error finding; the run goes on."""
    try:
        return await _check(ctx, target)
    except Exception as exc:  # noqa: BLE001 - the boundary where our own bugs become data
        if ctx.options.debug:
            raise
        where = traceback.extract_tb(exc.__traceback__)[-1]
        bug = finding("internal.error", target.name, f"origin-doctor failed on this target: {type(exc).__name__}: {exc}",
                      exception=type(exc).__name__, message=str(exc)[:300], at=f"{where.filename}:{where.lineno}")
        return TargetResult(target, decide([bug]), (bug,), profile=ctx.options.profile.id)


WAITING_PER_SLOT = 4


_Item = TypeVar("_Item")


async def each_item(items: Iterable[_Item] | AsyncIterable[_Item]) -> AsyncIterator[_Item]:
    """The items of a plain or an async iterable, taken lazily."""
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


async def check_targets(targets: Iterable[Target | tuple[Target, CheckOptions]]
                        | AsyncIterable[Target | tuple[Target, CheckOptions]], options: CheckOptions,
                        concurrency: int = 64, per_address: int = 0) -> AsyncIterator[TargetResult]:
    """Results in completion order, with at most `concurrency` address probes at once and at most
    `per_address` of them on any one address (0: no limit). Up to WAITING_PER_SLOT times as many
    targets are admitted, so targets queued behind one busy address do not hold back the others.
    The target iterable is consumed lazily, so a huge input is never held in memory. An item may
    carry its own options (a fleet file's per-target overrides); pass the same object for equal
    options so contexts are shared."""
    gates = AddressGates(per_address, max(1, concurrency))
    ctx = _Context(options, gates)
    contexts: dict[int, tuple[CheckOptions, _Context]] = {id(options): (options, ctx)}

    def context_for(own: CheckOptions) -> _Context:
        known = contexts.get(id(own))
        if known is None:
            shared_dns = ctx.dns if own.nameservers == options.nameservers else None
            known = contexts[id(own)] = (own, _Context(own, gates, shared_dns))
        return known[1]

    results: asyncio.Queue[TargetResult | None] = asyncio.Queue(maxsize=max(1, concurrency))
    gate = asyncio.Semaphore(max(1, concurrency) * WAITING_PER_SLOT)

    async def one(target_ctx: _Context, target: Target) -> None:
        try:
            await results.put(await _guarded(target_ctx, target))
        finally:
            gate.release()

    source_failed: list[Exception] = []

    async def produce() -> None:
        async with asyncio.TaskGroup() as group:
            try:
                async for item in each_item(targets):
                    target, target_ctx = (item[0], context_for(item[1])) if isinstance(item, tuple) else (item, ctx)
                    await gate.acquire()
                    group.create_task(one(target_ctx, target))
            except Exception as exc:  # noqa: BLE001 - the target source broke (bad input): finish, then raise it
                source_failed.append(exc)
        await results.put(None)

    producer = asyncio.create_task(produce())
    try:
        while (item := await results.get()) is not None:
            yield item
        await producer
        if source_failed:
            raise source_failed[0]
    finally:
        if not producer.done():
            producer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await producer
