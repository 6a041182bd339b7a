"""The per-address limit: never more than `limit` holders of one address, others unaffected,
and no gate left behind once an address is idle."""

from __future__ import annotations

import asyncio

from origin_doctor.engine import AddressGates


async def _hold(gates: AddressGates, address: str, inside: dict[str, int], peak: dict[str, int]) -> None:
    async with gates.hold(address):
        inside[address] = inside.get(address, 0) + 1
        peak[address] = max(peak.get(address, 0), inside[address])
        await asyncio.sleep(0.01)
        inside[address] -= 1


async def test_limit_per_address_and_no_leftovers() -> None:
    gates = AddressGates(2)
    inside: dict[str, int] = {}
    peak: dict[str, int] = {}
    jobs = [_hold(gates, "192.0.2.1", inside, peak) for _ in range(8)]
    jobs += [_hold(gates, "192.0.2.2", inside, peak) for _ in range(2)]
    async with asyncio.timeout(5):
        await asyncio.gather(*jobs)
    assert peak == {"192.0.2.1": 2, "192.0.2.2": 2}
    assert gates._gates == {}


async def test_zero_means_no_limit() -> None:
    gates = AddressGates(0)
    inside: dict[str, int] = {}
    peak: dict[str, int] = {}
    async with asyncio.timeout(5):
        await asyncio.gather(*(_hold(gates, "192.0.2.1", inside, peak) for _ in range(6)))
    assert peak == {"192.0.2.1": 6}
