"""A tiny authoritative DNS server on loopback (UDP and TCP, one port) for the lab and the tests.

Answers from a dict of records, can be told to SERVFAIL, REFUSE or ignore names, and drops
anything it cannot parse. Wire format by dnspython; the serving loop is plain asyncio.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

Records = Mapping[str, Mapping[str, list[str]]]

DEFAULT_TTL = 60
UDP_PLAIN_LIMIT = 512  # RFC 1035: without EDNS, a UDP answer fits in 512 bytes or is truncated
MAX_CNAME_CHAIN = 8
TCP_IDLE_SECONDS = 10.0
CLOSE_WAIT_SECONDS = 1.5
BIND_ATTEMPTS = 20


def _name(text: str) -> dns.name.Name:
    return dns.name.from_text(text, origin=dns.name.root)


def _zone_apex(names: Iterable[dns.name.Name]) -> dns.name.Name:
    """The deepest name that is a parent of every record owner (the root if they share nothing)."""
    parents = [name.parent() for name in names if name != dns.name.root]
    if not parents:
        return dns.name.root
    apex = parents[0]
    for parent in parents[1:]:
        while not parent.is_subdomain(apex):
            apex = apex.parent()
    return apex


def _rdata_text(rdtype: dns.rdatatype.RdataType, value: str) -> str:
    # TXT values are given raw ("v=1 spf"); quote them so spaces stay inside one string.
    if rdtype == dns.rdatatype.TXT and not value.startswith('"'):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


class DnsServer:
    """Serves `records` on host:<free port> over UDP and TCP; use `async with` or start()/close()."""

    def __init__(
        self,
        records: Records,
        *,
        servfail: Iterable[str] = frozenset(),
        refused: Iterable[str] = frozenset(),
        silent: Iterable[str] = frozenset(),
        host: str = "127.0.0.1",
        ttl: int = DEFAULT_TTL,
    ) -> None:
        self.host = host
        self.port = 0
        self._rrsets: dict[dns.name.Name, dict[dns.rdatatype.RdataType, dns.rrset.RRset]] = {}
        for owner_text, by_type in records.items():
            owner = _name(owner_text)
            owned = self._rrsets.setdefault(owner, {})
            for type_text, values in by_type.items():
                rdtype = dns.rdatatype.RdataType.make(type_text)
                texts = [_rdata_text(rdtype, value) for value in values]
                owned[rdtype] = dns.rrset.from_text_list(
                    owner, ttl, dns.rdataclass.IN, rdtype, texts, origin=dns.name.root, relativize=False
                )
        self.zone = _zone_apex(self._rrsets)
        soa_text = f"ns.{self.zone} hostmaster.{self.zone} 1 3600 600 86400 {ttl}"
        self._soa = dns.rrset.from_text_list(
            self.zone,
            ttl,
            dns.rdataclass.IN,
            dns.rdatatype.SOA,
            [soa_text],
            origin=dns.name.root,
            relativize=False,
        )
        self._servfail = {_name(n) for n in servfail}
        self._refused = {_name(n) for n in refused}
        self._silent = {_name(n) for n in silent}
        # (transport, name, type) of every query parsed, for tests that want to see what was asked.
        self.queries: list[tuple[str, str, str]] = []
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp: asyncio.Server | None = None
        self._tcp_tasks: set[asyncio.Task[None]] = set()
        self._tcp_writers: set[asyncio.StreamWriter] = set()
        self._closed = False

    @property
    def address(self) -> tuple[str, int]:
        return (self.host, self.port)

    async def __aenter__(self) -> DnsServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        """Bind UDP and TCP on the same free port (retrying if the UDP side of a port is taken)."""
        loop = asyncio.get_running_loop()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        for _ in range(BIND_ATTEMPTS):
            tcp_sock = socket.socket(family, socket.SOCK_STREAM)
            udp_sock = socket.socket(family, socket.SOCK_DGRAM)
            try:
                tcp_sock.bind((self.host, 0))
                port: int = tcp_sock.getsockname()[1]
                udp_sock.bind((self.host, port))
            except OSError:
                tcp_sock.close()
                udp_sock.close()
                continue
            tcp_sock.listen(64)
            tcp_sock.setblocking(False)
            udp_sock.setblocking(False)
            self.port = port
            self._udp, _ = await loop.create_datagram_endpoint(lambda: _UdpProtocol(self), sock=udp_sock)
            self._tcp = await asyncio.start_server(self._on_tcp, sock=tcp_sock)
            return
        raise OSError(f"no port free for both UDP and TCP on {self.host} after {BIND_ATTEMPTS} tries")

    async def close(self) -> None:
        """Stop serving; bounded, ends open TCP connections."""
        if self._closed:
            return
        self._closed = True
        if self._udp is not None:
            self._udp.close()
        if self._tcp is not None:
            self._tcp.close()
        for writer in list(self._tcp_writers):
            writer.transport.abort()
        tasks = list(self._tcp_tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=CLOSE_WAIT_SECONDS)
        if self._tcp is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._tcp.wait_closed(), CLOSE_WAIT_SECONDS)

    def answer(self, wire: bytes, transport: str) -> dns.message.Message | None:
        """The response to one query in wire format, or None to stay silent (or drop junk)."""
        try:
            query = dns.message.from_wire(wire)
        except dns.exception.DNSException:
            return None
        if query.flags & dns.flags.QR or query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            return None
        question = query.question[0]
        self.queries.append((transport, question.name.to_text(), dns.rdatatype.to_text(question.rdtype)))
        name = question.name.canonicalize()
        if name in self._silent:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if name in self._servfail:
            response.set_rcode(dns.rcode.SERVFAIL)
        elif name in self._refused:
            response.set_rcode(dns.rcode.REFUSED)
        else:
            self._resolve(response, name, question.rdtype)
        return response

    def _resolve(
        self, response: dns.message.Message, name: dns.name.Name, rdtype: dns.rdatatype.RdataType
    ) -> None:
        """Fill the answer, following CNAMEs inside the zone; NXDOMAIN and NODATA carry the SOA."""
        for _ in range(MAX_CNAME_CHAIN):
            owned = self._rrsets.get(name)
            if owned is None:
                if name.is_subdomain(self.zone):
                    response.set_rcode(dns.rcode.NXDOMAIN)
                    response.authority.append(self._soa)
                return  # a chain leaving the zone ends here; the client resolves the rest
            if rdtype in owned:
                response.answer.append(owned[rdtype])
                return
            cname = owned.get(dns.rdatatype.CNAME)
            if cname is None:
                response.authority.append(self._soa)  # NODATA
                return
            response.answer.append(cname)
            name = cname[0].target.canonicalize()
        response.set_rcode(dns.rcode.SERVFAIL)  # a loop or an overlong chain

    def wire_answer(self, wire: bytes, transport: str) -> bytes | None:
        try:
            response = self.answer(wire, transport)
            if response is None:
                return None
            if transport == "tcp":
                return response.to_wire()
            limit = max(UDP_PLAIN_LIMIT, response.request_payload) if response.edns >= 0 else UDP_PLAIN_LIMIT
            return response.to_wire(max_size=limit, prefer_truncation=True)
        except Exception:  # a test server must survive any query; junk in, nothing out
            return None

    async def _on_tcp(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if self._closed or task is None:
            writer.transport.abort()
            return
        self._tcp_tasks.add(task)
        self._tcp_writers.add(writer)
        try:
            while True:
                async with asyncio.timeout(TCP_IDLE_SECONDS):
                    (length,) = struct.unpack("!H", await reader.readexactly(2))
                    wire = await reader.readexactly(length)
                reply = self.wire_answer(wire, "tcp")
                if reply is not None:
                    writer.write(struct.pack("!H", len(reply)) + reply)
                    await writer.drain()
        except asyncio.CancelledError:
            pass  # ending cancelled would make the stream machinery log a spurious error
        except (OSError, TimeoutError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.transport.abort()
            self._tcp_writers.discard(writer)
            self._tcp_tasks.discard(task)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | object, ...]) -> None:
        reply = self._server.wire_answer(data, "udp")
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)
