"""Custom origin headers reach the origin as CloudFront adds them; their values never reach the report."""

from __future__ import annotations

import asyncio

from dist_documents import get_distribution_config_output

from origin_doctor.distribution.check import host_decisions
from origin_doctor.distribution.parse import parse_distribution
from origin_doctor.distribution.plan import build_plan
from origin_doctor.probe import http as http_probe
from origin_doctor.probe.conn import Connection

PORTS = {"www.lab.test": 4443, "http-ok.lab.test": 5443, "origin-503.lab.test": 6443}


async def test_probe_sends_the_custom_headers() -> None:
    received: asyncio.Queue[bytes] = asyncio.Queue()

    async def origin(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
        await received.put(head)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(origin, "127.0.0.1", 0)
    async with server:
        port = server.sockets[0].getsockname()[1]
        conn = await asyncio.wait_for(Connection.open("127.0.0.1", port), 5)
        observed = await http_probe.request(conn, "www.lab.test", "/app/", 5, 20480,
                                            extra_headers=(("X-Origin-Secret", "s3cr3t"),))
        conn.close()
        head = await asyncio.wait_for(received.get(), 5)
    assert observed.status == 200
    assert b"\r\nX-Origin-Secret: s3cr3t\r\n" in head and head.startswith(b"GET /app/ HTTP/1.1\r\n")
    # Twin: without custom headers the request carries only CloudFront's own.
    assert b"X-Origin-Secret" not in b"".join(
        f"{k}: {v}".encode() for k, v in http_probe.cloudfront_request_headers("www.lab.test", "id"))


def test_targets_carry_the_origin_headers_but_the_report_only_their_names() -> None:
    dist = parse_distribution(get_distribution_config_output(PORTS), "d.json")
    plan = build_plan(dist, host_decisions(dist, []), ())
    web = next(p for p in plan.probes if p.target.path == "/app/")
    assert web.target.origin_headers == (("X-Origin-Secret", "s3cr3t"),)
    assert web.target.to_dict()["origin_headers"] == ["X-Origin-Secret"]
    plain = next(p for p in plan.probes if p.target.origin == "http-ok.lab.test")
    assert "origin_headers" not in plain.target.to_dict()
