"""The lab DNS server answers dnspython's real resolver as an authoritative server would."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import AsyncIterator

import dns.asyncquery
import dns.asyncresolver
import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.resolver
import pytest

from origin_doctor.lab.dns_server import DnsServer

RECORDS = {
    "www.lab.test": {"A": ["127.0.0.1"], "AAAA": ["::1"]},
    "alias.lab.test": {"CNAME": ["www.lab.test"]},
    "alias2.lab.test": {"CNAME": ["alias.lab.test"]},
    "dangling.lab.test": {"CNAME": ["gone.lab.test"]},
    "loop1.lab.test": {"CNAME": ["loop2.lab.test"]},
    "loop2.lab.test": {"CNAME": ["loop1.lab.test"]},
    "txt.lab.test": {"TXT": ["v=1", "two words"]},
    "many.lab.test": {"A": [f"127.0.{i // 250}.{i % 250 + 1}" for i in range(60)]},
}
STEP = 3.0


@pytest.fixture
async def server() -> AsyncIterator[DnsServer]:
    async with DnsServer(
        RECORDS, servfail={"broken.lab.test"}, refused={"nope.lab.test"}, silent={"quiet.lab.test"}
    ) as running:
        yield running


def resolver_for(server: DnsServer, lifetime: float = STEP) -> dns.asyncresolver.Resolver:
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [server.host]
    resolver.port = server.port
    resolver.lifetime = lifetime
    resolver.timeout = lifetime
    return resolver


async def resolve(server: DnsServer, name: str, rdtype: str, lifetime: float = STEP) -> list[str]:
    answer = await resolver_for(server, lifetime).resolve(name, rdtype)
    return sorted(rdata.to_text() for rdata in answer)


async def udp_query(server: DnsServer, name: str, rdtype: str) -> dns.message.Message:
    query = dns.message.make_query(name, rdtype)
    return await dns.asyncquery.udp(query, server.host, timeout=STEP, port=server.port)


async def test_a_and_aaaa(server: DnsServer) -> None:
    assert await resolve(server, "www.lab.test", "A") == ["127.0.0.1"]
    assert await resolve(server, "www.lab.test", "AAAA") == ["::1"]
    assert await resolve(server, "WWW.Lab.Test.", "A") == ["127.0.0.1"]  # case-insensitive


async def test_unknown_name_is_nxdomain_with_soa(server: DnsServer) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        await resolve(server, "missing.lab.test", "A")
    response = await udp_query(server, "missing.lab.test", "A")
    assert response.rcode() == dns.rcode.NXDOMAIN
    assert response.flags & dns.flags.AA
    assert [rrset.rdtype for rrset in response.authority] == [dns.rdatatype.SOA]


async def test_name_without_the_asked_type_is_nodata(server: DnsServer) -> None:
    with pytest.raises(dns.resolver.NoAnswer):
        await resolve(server, "txt.lab.test", "A")
    assert await resolve(server, "txt.lab.test", "TXT") == ['"two words"', '"v=1"']
    response = await udp_query(server, "txt.lab.test", "AAAA")
    assert response.rcode() == dns.rcode.NOERROR
    assert not response.answer
    assert response.authority[0].rdtype == dns.rdatatype.SOA
    assert response.authority[0].name.to_text() == "lab.test."


@pytest.mark.parametrize("name", ["broken.lab.test", "nope.lab.test"])
async def test_servfail_and_refused_leave_no_nameserver(server: DnsServer, name: str) -> None:
    with pytest.raises(dns.resolver.NoNameservers):
        await resolve(server, name, "A")


@pytest.mark.parametrize(("name", "rcode"), [("broken.lab.test", "SERVFAIL"), ("nope.lab.test", "REFUSED")])
async def test_servfail_and_refused_rcodes_on_the_wire(server: DnsServer, name: str, rcode: str) -> None:
    response = await udp_query(server, name, "A")
    assert dns.rcode.to_text(response.rcode()) == rcode


async def test_silent_name_times_out(server: DnsServer) -> None:
    started = time.monotonic()
    with pytest.raises(dns.resolver.LifetimeTimeout):
        await resolve(server, "quiet.lab.test", "A", lifetime=0.5)
    assert time.monotonic() - started < STEP
    assert await resolve(server, "www.lab.test", "A") == ["127.0.0.1"]  # still serving


async def test_cname_chain_is_followed(server: DnsServer) -> None:
    answer = await resolver_for(server).resolve("alias2.lab.test", "A")
    assert sorted(rdata.to_text() for rdata in answer) == ["127.0.0.1"]
    assert answer.canonical_name.to_text() == "www.lab.test."
    assert [rrset.rdtype for rrset in answer.response.answer] == [
        dns.rdatatype.CNAME,
        dns.rdatatype.CNAME,
        dns.rdatatype.A,
    ]
    assert await resolve(server, "alias.lab.test", "CNAME") == ["www.lab.test."]


async def test_dangling_cname_is_nxdomain_and_a_loop_is_servfail(server: DnsServer) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        await resolve(server, "dangling.lab.test", "A")
    with pytest.raises(dns.resolver.NoNameservers):
        await resolve(server, "loop1.lab.test", "A")


async def test_big_answer_truncates_on_udp_and_comes_whole_over_tcp(server: DnsServer) -> None:
    query = dns.message.make_query("many.lab.test", "A", use_edns=False)
    over_udp = await dns.asyncquery.udp(query, server.host, timeout=STEP, port=server.port)
    assert over_udp.flags & dns.flags.TC
    over_tcp = await dns.asyncquery.tcp(query, server.host, timeout=STEP, port=server.port)
    assert len(over_tcp.answer[0]) == 60
    # The resolver retries over TCP on TC by itself.
    assert len(await resolve(server, "many.lab.test", "A")) == 60
    assert ("tcp", "many.lab.test.", "A") in server.queries


async def test_malformed_queries_are_dropped_and_the_server_keeps_serving(server: DnsServer) -> None:
    family = socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        for junk in (b"", b"\x00", b"not dns at all" * 10, bytes(12), b"\xff" * 40):
            udp.sendto(junk, server.address)
        udp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            udp.recvfrom(4096)
    # Junk over TCP: a framed non-message, then a length promising more than is sent.
    reader, writer = await asyncio.wait_for(asyncio.open_connection(*server.address), STEP)
    writer.write(struct.pack("!H", 5) + b"hello" + struct.pack("!H", 500) + b"short")
    await writer.drain()
    writer.close()
    await asyncio.wait_for(writer.wait_closed(), STEP)
    # A response sent as a query is ignored too.
    reply_as_query = dns.message.make_response(dns.message.make_query("www.lab.test", "A")).to_wire()
    with socket.socket(family, socket.SOCK_DGRAM) as udp:
        udp.sendto(reply_as_query, server.address)
        udp.settimeout(0.3)
        with pytest.raises(TimeoutError):
            udp.recvfrom(4096)
    assert await resolve(server, "www.lab.test", "A") == ["127.0.0.1"]


async def test_close_is_bounded_with_idle_tcp_clients() -> None:
    server = DnsServer(RECORDS)
    await server.start()
    writers = [(await asyncio.wait_for(asyncio.open_connection(*server.address), STEP))[1] for _ in range(3)]
    await asyncio.sleep(0.1)
    started = time.monotonic()
    await server.close()
    assert time.monotonic() - started < 2.0
    for writer in writers:
        writer.transport.abort()


async def test_ipv6_loopback() -> None:
    async with DnsServer(RECORDS, host="::1") as server:
        assert server.address[0] == "::1"
        assert await resolve(server, "www.lab.test", "AAAA") == ["::1"]


def test_bad_records_fail_at_construction() -> None:
    with pytest.raises(dns.exception.SyntaxError):
        DnsServer({"x.lab.test": {"A": ["not an address"]}})
