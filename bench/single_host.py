"""Single-host latency: one `check` of the lab's healthy origin against a bare TLS handshake with
verification to the same nginx, measured side by side in one run (ratios, not absolute times).

    .venv/bin/python bench/single_host.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import ssl
import statistics
import time

from origin_doctor.engine import check_target
from origin_doctor.lab.checking import lab_options, lab_target
from origin_doctor.lab.run import Lab


async def bare_handshake(port: int, ctx: ssl.SSLContext) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="www.lab.test")
    writer.close()
    await writer.wait_closed()


async def bare_handshake_and_get(port: int, ctx: ssl.SSLContext) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=ctx, server_hostname="www.lab.test")
    writer.write(b"GET / HTTP/1.1\r\nHost: www.lab.test\r\nConnection: close\r\n\r\n")
    await writer.drain()
    await reader.read()
    writer.close()
    await writer.wait_closed()


async def main(rounds: int) -> None:
    async with Lab() as lab:
        options = lab_options(lab)
        no_compare = dataclasses.replace(options, compare_profiles=False)
        target = lab_target(lab, "www.lab.test")
        port = target.port
        ctx = ssl.create_default_context(cafile=str(lab.ca_bundle))
        cases = {
            "bare handshake + verify": lambda: bare_handshake(port, ctx),
            "bare handshake + verify + GET": lambda: bare_handshake_and_get(port, ctx),
            "origin-doctor check": lambda: check_target(target, options),
            "origin-doctor check --no-compare": lambda: check_target(target, no_compare),
        }
        timings: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(rounds):  # interleaved, so machine noise hits every case alike
            for name, make in cases.items():
                started = time.perf_counter()
                await make()
                timings[name].append((time.perf_counter() - started) * 1000)
        floor = statistics.median(timings["bare handshake + verify"])
        print(f"{rounds} rounds, interleaved; median ms and ratio to a bare handshake + verify")
        for name, values in timings.items():
            median = statistics.median(values)
            print(f"  {name:<36} {median:7.2f} ms   x{median / floor:5.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=200)
    asyncio.run(main(parser.parse_args().rounds))
