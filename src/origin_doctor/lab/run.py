"""`Lab`: mints the PKI, writes the files, and starts nginx, the peers and the DNS server that
reproduce every scenario in `scenarios.py`; stops all of it within a few seconds, even on errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import tempfile
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from origin_doctor.lab.dns_server import DnsServer
from origin_doctor.lab.nginx import (
    NginxPortInUse,
    NginxServer,
    ServerBlock,
    free_ports,
    respond,
    websocket_proxy,
)
from origin_doctor.lab.peers import HUGE_HEADER_BYTES, Peer, closed_port, start_peer
from origin_doctor.lab.pki import (
    DAY,
    Issued,
    LabPki,
    issue_leaf,
    mint_pki,
    self_signed_leaf,
    write_chain,
    write_key,
)
from origin_doctor.lab.scenarios import SCENARIOS, ChainKind, LeafKind, Scenario
from origin_doctor.model import Target

DEFAULT_NOW = datetime(2026, 11, 29, 10, 0, tzinfo=UTC)
LAB_ADDRESS = "127.0.0.1"
PORT_ATTEMPTS = 3


class Lab:
    """Every lab origin on loopback. `async with Lab(now=..., workdir=...) as lab:`.

    Non-DNS scenarios are reached with curl-style overrides (`resolve_args()`); DNS scenarios by
    asking `dns_address`, which also answers 127.0.0.1 for every other lab name.
    """

    def __init__(
        self, *, now: datetime = DEFAULT_NOW, workdir: Path | None = None,
        scenarios: Sequence[Scenario] = SCENARIOS,
    ) -> None:
        self.now = now
        self.scenarios = {scenario.name: scenario for scenario in scenarios}
        self._workdir = workdir
        self.endpoints: dict[str, tuple[str, int]] = {}
        self.dns_address: tuple[str, int] = (LAB_ADDRESS, 0)
        self.aia_url = ""
        self.nginx: NginxServer | None = None
        self._stack = contextlib.AsyncExitStack()
        self._pki: LabPki | None = None

    @property
    def workdir(self) -> Path:
        if self._workdir is None:
            raise RuntimeError("the lab is not running")
        return self._workdir

    @property
    def ca_bundle(self) -> Path:
        """The lab root as PEM: the trust store to hand the engine (`--ca-bundle`)."""
        return self.workdir / "lab-root.pem"

    @property
    def pki(self) -> LabPki:
        if self._pki is None:
            raise RuntimeError("the lab is not running")
        return self._pki

    def scenario(self, name: str) -> Scenario:
        try:
            return self.scenarios[name]
        except KeyError:
            raise KeyError(f"no lab scenario named {name!r}") from None

    def target(self, name: str) -> Target:
        """The engine's view of a scenario: origin = the scenario name, port from `endpoints`."""
        scenario = self.scenario(name)
        return Target(
            name=name, origin=name, port=self.endpoints[name][1], websocket_path=scenario.websocket_path
        )

    def resolve_args(self) -> list[str]:
        """`HOST:PORT:ADDR` overrides (curl --resolve syntax) for every scenario not resolved by DNS."""
        return [
            f"{name}:{port}:{address}"
            for name, (address, port) in self.endpoints.items()
            if self.scenarios[name].needs != "dns"
        ]

    async def __aenter__(self) -> Lab:
        try:
            await self._start()
        except BaseException:
            await self._stack.aclose()
            raise
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stack.aclose()

    async def _start(self) -> None:
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="origin-doctor-lab-"))
            self._stack.callback(shutil.rmtree, self._workdir, ignore_errors=True)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._pki = await asyncio.to_thread(mint_pki, self.now)
        self.pki.write_ca_bundle(self.ca_bundle)
        websocket_backend = await self._start_peers()
        await self._start_nginx(websocket_backend)
        for scenario in self.scenarios.values():
            if scenario.name not in self.endpoints and scenario.twin in self.endpoints:
                self.endpoints[scenario.name] = self.endpoints[scenario.twin]  # DNS failures: never connected
        self.endpoints = {name: self.endpoints[name] for name in self.scenarios if name in self.endpoints}
        records, servfail, silent = _dns_zone(self.scenarios.values())
        dns = DnsServer(records, servfail=servfail, silent=silent, host=LAB_ADDRESS)
        await self._stack.enter_async_context(dns)
        self.dns_address = dns.address

    async def _start_peers(self) -> int:
        """Start one peer per peer scenario (and the WebSocket backend nginx proxies to)."""
        peer_rows = [s for s in self.scenarios.values() if s.origin.peer is not None]
        tls_names = [s.name for s in peer_rows if s.origin.peer_tls]
        context: ssl.SSLContext | None = None
        if tls_names:
            leaf = self._leaf("good", tls_names)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(
                write_chain(self.workdir / "peers.pem", leaf.chain()),
                write_key(self.workdir / "peers.key", leaf.key),
            )
        starts = [start_peer("ws_ok", tls=None, host=LAB_ADDRESS)] + [
            start_peer(
                s.origin.peer or "", tls=context if s.origin.peer_tls else None, host=LAB_ADDRESS,
                header_bytes=s.origin.peer_header_bytes or HUGE_HEADER_BYTES,
            )
            for s in peer_rows
        ]
        started = await asyncio.gather(*starts, return_exceptions=True)
        peers = [peer for peer in started if isinstance(peer, Peer)]
        self._stack.push_async_callback(_close_all, peers)
        for outcome in started:
            if isinstance(outcome, BaseException):
                raise outcome
        for scenario, peer in zip(peer_rows, peers[1:], strict=True):
            self.endpoints[scenario.name] = (LAB_ADDRESS, peer.port)
        for scenario in self.scenarios.values():
            if scenario.origin.closed_port:
                self.endpoints[scenario.name] = (LAB_ADDRESS, closed_port(LAB_ADDRESS))
        return peers[0].port

    async def _start_nginx(self, websocket_backend: int) -> None:
        rows = [s for s in self.scenarios.values() if _served_by_nginx(s)]
        # Rows that share a listener come after the row that owns it.
        rows.sort(key=lambda s: s.origin.share_port_with is not None)
        for attempt in range(PORT_ATTEMPTS):
            ports = iter(free_ports(1 + sum(s.origin.share_port_with is None for s in rows), LAB_ADDRESS))
            aia_port = next(ports)
            self.aia_url = f"http://{LAB_ADDRESS}:{aia_port}/"
            endpoints: dict[str, tuple[str, int]] = {}
            blocks = [self._aia_block(aia_port)]
            for scenario in rows:
                owner = scenario.origin.share_port_with
                port = endpoints[owner][1] if owner is not None else next(ports)
                endpoints[scenario.name] = (LAB_ADDRESS, port)
                blocks.extend(self._server_blocks(scenario, port, websocket_backend))
            nginx = NginxServer(self.workdir / "nginx", blocks)
            try:
                await nginx.__aenter__()
            except NginxPortInUse:
                if attempt + 1 == PORT_ATTEMPTS:
                    raise
                continue
            self._stack.push_async_exit(nginx)
            self.nginx = nginx
            self.endpoints.update(endpoints)
            return

    def _server_blocks(self, scenario: Scenario, port: int, websocket_backend: int) -> list[ServerBlock]:
        origin = scenario.origin
        body = respond(200, "ok\n") if origin.status == 200 else respond(origin.status)
        if origin.plain_http:
            return [ServerBlock(port, scenario.name, ssl=False, default_server=True, locations=(("/", body),))]
        served_name = origin.served_name or scenario.name
        leaf = self._leaf(origin.leaf, [served_name])
        slug = scenario.name.removesuffix(".lab.test")
        blocks = []
        if origin.reject_unknown_sni:
            blocks.append(ServerBlock(port, "_", default_server=True, reject_handshake=True))
        blocks.append(
            ServerBlock(
                port,
                served_name,
                default_server=origin.share_port_with is None and not origin.reject_unknown_sni,
                certificate=write_chain(self.workdir / f"{slug}.pem", self._served_chain(leaf, origin.chain)),
                certificate_key=write_key(self.workdir / f"{slug}.key", leaf.key),
                protocols=origin.protocols,
                ciphers=origin.ciphers,
                client_ca=self.ca_bundle if origin.client_cert_required else None,
                conf_commands=origin.conf_commands,
                locations=(("/", body), ("/ws", websocket_proxy(websocket_backend, LAB_ADDRESS))),
            )
        )
        return blocks

    def _aia_block(self, port: int) -> ServerBlock:
        """Plain-HTTP server with each lab CA as DER at /<name>.der, the leaves' AIA CA Issuers URL."""
        locations = []
        for filename, ca in self._aia_files().items():
            path = self.workdir / "aia" / filename
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(ca.cert.public_bytes(serialization.Encoding.DER))
            locations.append((f"= /{filename}", f"alias {path};\ndefault_type application/pkix-cert;"))
        locations.append(("/", respond(404)))
        return ServerBlock(port, "aia.lab.test", ssl=False, default_server=True, locations=tuple(locations))

    def _aia_files(self) -> dict[str, Issued]:
        pki = self.pki
        return {
            "r3.der": pki.intermediate, "level1.der": pki.level1, "level2.der": pki.level2,
            "expired.der": pki.expired_intermediate, "unknown-r1.der": pki.unknown_intermediate,
        }

    def _aia_for(self, issuer: Issued) -> str | None:
        for filename, ca in self._aia_files().items():
            if ca is issuer and self.aia_url:
                return self.aia_url + filename
        return None

    def _leaf(self, kind: LeafKind, names: list[str]) -> Issued:
        pki, now = self.pki, self.now
        not_before, not_after = now - 30 * DAY, now + 90 * DAY
        issuer = {"untrusted": pki.unknown_intermediate, "expired_ca": pki.expired_intermediate,
                  "level2": pki.level2}.get(kind, pki.intermediate)
        if kind == "self_signed":
            return self_signed_leaf(names, not_before=not_before, not_after=not_after)
        if kind == "expired":
            not_before, not_after = now - 91 * DAY, now - DAY
        elif kind == "not_yet_valid":
            not_before, not_after = now + DAY, now + 91 * DAY
        elif kind == "expires_soon":
            not_before, not_after = now - 80 * DAY, now + 10 * DAY
        elif kind == "other_name":
            names = ["other.lab.test"]
        return issue_leaf(
            issuer, names, not_before=not_before, not_after=not_after,
            key="rsa1024" if kind == "rsa1024" else "ec521" if kind == "ec521" else "rsa2048",
            hash="sha1" if kind == "sha1" else "sha256",
            aia_url=self._aia_for(issuer),
        )

    def _served_chain(self, leaf: Issued, kind: ChainKind) -> list[x509.Certificate]:
        if kind == "leaf_only":
            return [leaf.cert]
        if kind == "wrong_order":
            return [leaf.cert, *reversed(leaf.chain()[1:])]
        if kind == "with_root":
            return leaf.chain(with_root=True)
        if kind == "with_extra":
            return [*leaf.chain(), self.pki.unknown_intermediate.cert]
        return leaf.chain()


async def _close_all(peers: Sequence[Peer]) -> None:
    """Close peers side by side: each close is bounded, so the whole is too."""
    await asyncio.gather(*(peer.close() for peer in peers), return_exceptions=True)


def _served_by_nginx(scenario: Scenario) -> bool:
    origin = scenario.origin
    return origin.peer is None and not origin.closed_port and origin.dns == "address"


def _dns_zone(
    scenarios: Iterable[Scenario],
) -> tuple[dict[str, dict[str, list[str]]], set[str], set[str]]:
    """Records, SERVFAIL names and silent names for the lab name server."""
    records: dict[str, dict[str, list[str]]] = {}
    servfail: set[str] = set()
    silent: set[str] = set()
    for scenario in scenarios:
        kind = scenario.origin.dns
        if kind == "address":
            records[scenario.name] = {"A": [LAB_ADDRESS]}
        elif kind == "no_address":
            records[scenario.name] = {"TXT": ["lab: this name has no address"]}
        elif kind == "servfail":
            servfail.add(scenario.name)
        elif kind == "timeout":
            silent.add(scenario.name)
    return records, servfail, silent
