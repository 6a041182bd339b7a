"""A scan spread over worker processes (TLS in Python is CPU-bound): the parent shards targets by
origin name, so each worker keeps its own DNS answers and address limits, and reads pickled results
back over pipes as they finish. One worker means no processes at all: the engine runs in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pickle
import signal
import struct
import sys
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from typing import Any

from origin_doctor.engine import CheckOptions, check_targets
from origin_doctor.model import Target
from origin_doctor.report.json import result_line
from origin_doctor.result import TargetResult

Item = Target | tuple[Target, CheckOptions]
_FRAME = struct.Struct("!I")


def default_workers(total: int | None) -> int:
    """One process per CPU (at most 8) for big fleets; in place for small ones (startup costs more)."""
    if total is not None and total < 500:
        return 1
    return max(1, min(8, os.cpu_count() or 1))


async def scan_results(items: Iterable[Item], options: CheckOptions, *, workers: int, concurrency: int,
                       per_address: int) -> AsyncIterator[tuple[TargetResult, str]]:
    """(result, its JSON line) in completion order from `workers` processes (1: in this process).
    From workers the result is slimmed to what the tally and fleet analysis read; the line is whole."""
    if workers <= 1:
        async for result in check_targets(items, options, concurrency, per_address):
            yield result, result_line(result)
        return
    share = (max(1, -(-concurrency // workers)), max(1, per_address // workers) if per_address > 0 else 0)
    children = [await asyncio.create_subprocess_exec(
        sys.executable, "-m", "origin_doctor.scan_workers", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ), start_new_session=True,
    ) for _ in range(workers)]
    results: asyncio.Queue[tuple[TargetResult, str] | None] = asyncio.Queue(maxsize=workers * 256)
    tasks = [asyncio.create_task(_feed(items, options, share, children))]
    tasks += [asyncio.create_task(_collect(child, results)) for child in children]
    clean = False
    try:
        finished = 0
        while finished < workers:
            done = await results.get()
            if done is None:
                finished += 1
            else:
                yield done
        await tasks[0]
        clean = True
    finally:
        for task in tasks:
            task.cancel()
        for child in children:
            # Workers that closed their output exit by themselves; killing one that has just exited
            # would reap it behind asyncio's child watcher. Interrupted runs stop them at once.
            if clean:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(child.wait(), 5.0)
            if child.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGKILL)  # not child.kill(): it polls, and so reaps
            await child.wait()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def _feed(items: Iterable[Item], options: CheckOptions, share: tuple[int, int],
                children: list[asyncio.subprocess.Process]) -> None:
    """Send each target to the worker its origin name hashes to; own options travel once per worker."""
    sent_options: list[set[int]] = [set() for _ in children]
    try:
        for child in children:
            _send(child, ("start", options, share))
        for item in items:
            target, own = item if isinstance(item, tuple) else (item, None)
            index = zlib.crc32(target.origin.encode()) % len(children)
            child = children[index]
            key = None
            if own is not None:
                key = id(own)
                if key not in sent_options[index]:
                    _send(child, ("options", key, own))
                    sent_options[index].add(key)
            _send(child, ("target", target, key))
            assert child.stdin is not None
            await child.stdin.drain()
    finally:  # also on a bad input file: the workers finish what they have, then the error surfaces
        for child in children:
            assert child.stdin is not None
            child.stdin.close()


def _send(child: asyncio.subprocess.Process, message: tuple[Any, ...]) -> None:
    assert child.stdin is not None
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    child.stdin.write(_FRAME.pack(len(payload)) + payload)


async def _collect(child: asyncio.subprocess.Process, results: asyncio.Queue[tuple[TargetResult, str] | None]
                   ) -> None:
    assert child.stdout is not None
    try:
        while True:
            try:
                head = await child.stdout.readexactly(_FRAME.size)
                payload = await child.stdout.readexactly(_FRAME.unpack(head)[0])
            except asyncio.IncompleteReadError:
                break
            await results.put(pickle.loads(payload))
    finally:
        await results.put(None)


_CERT_KEYS = ("sha256", "subject", "issuer", "names", "not_after")


def slim(result: TargetResult) -> TargetResult:
    """The result without what only the JSON line needs (PEMs, HTTP details), cheap to pickle."""
    addresses = []
    for address in result.addresses:
        tls = address.tls or {}
        kept = {"chain": [{k: cert.get(k) for k in _CERT_KEYS} for cert in tls.get("chain") or []],
                "version": tls.get("version"), "negotiation": {"result": (tls.get("negotiation") or {}).get("result")}}
        addresses.append(replace(address, tls=kept if address.tls is not None else None, http=None, ws=None))
    return replace(result, addresses=tuple(addresses), extra={})


# --- the worker process -----------------------------------------------------------------------


async def _worker() -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=2**24)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin.buffer)
    out = sys.stdout.buffer

    async def read() -> tuple[Any, ...] | None:
        try:
            head = await reader.readexactly(_FRAME.size)
            message: tuple[Any, ...] = pickle.loads(await reader.readexactly(_FRAME.unpack(head)[0]))
        except asyncio.IncompleteReadError:
            return None
        return message

    start = await read()
    if start is None:
        return
    _, options, (concurrency, per_address) = start
    own_options: dict[int, CheckOptions] = {}

    async def items() -> AsyncIterator[Item]:
        while (message := await read()) is not None:
            if message[0] == "options":
                own_options[message[1]] = message[2]
            else:
                _, target, key = message
                yield target if key is None else (target, own_options[key])

    async for result in check_targets(items(), options, concurrency, per_address):
        payload = pickle.dumps((slim(result), result_line(result)), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_FRAME.pack(len(payload)) + payload)
        out.flush()


def worker_main() -> None:
    # The parent owns Ctrl-C and SIGTERM: it stops the workers once it has written what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(BrokenPipeError):
        asyncio.run(_worker())


if __name__ == "__main__":
    worker_main()
