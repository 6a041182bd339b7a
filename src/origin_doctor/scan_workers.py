"""A scan spread over worker processes (TLS in Python is CPU-bound): the parent shards targets by
origin name, so each worker keeps its own DNS answers and address limits, and reads pickled results
back over pipes as they finish. One worker means no processes at all: the engine runs in place.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import pickle
import signal
import struct
import sys
import zlib
from collections.abc import AsyncIterator, Iterable
from dataclasses import replace
from typing import Any

from origin_doctor.codes import finding
from origin_doctor.engine import CheckOptions, check_targets
from origin_doctor.model import Target
from origin_doctor.report.json import result_line
from origin_doctor.result import TargetResult
from origin_doctor.verdict import decide

Item = Target | tuple[Target, CheckOptions]
_FRAME = struct.Struct("!I")


def tune_gc() -> None:
    """A scan allocates a lot of short-lived objects per target: collect the young generation 10x
    less often than the default and take the objects made at start-up (modules, caches' owners) out
    of every collection. Cycles are still collected; memory stays flat (~6 % of one process's CPU)."""
    gc.freeze()
    gc.set_threshold(7000, 20, 100)


def default_workers(total: int | None) -> int:
    """One process per CPU (at most 8) for big fleets; in place for small ones (startup costs more)."""
    if total is not None and total < 500:
        return 1
    return max(1, min(8, os.cpu_count() or 1))


async def scan_results(items: Iterable[Item], options: CheckOptions, *, workers: int, concurrency: int,
                       per_address: int) -> AsyncIterator[tuple[TargetResult, str]]:
    """(result, its JSON line) in completion order from `workers` processes (1: in this process).
    From workers the result is slimmed to what the tally and fleet analysis read; the line is whole.
    A worker that dies leaves an internal.error result for each target it had not finished."""
    tune_gc()
    if workers <= 1:
        async for result in check_targets(items, options, concurrency, per_address):
            yield result, result_line(result)
        return
    share = (max(1, -(-concurrency // workers)), max(1, per_address // workers) if per_address > 0 else 0)
    pool = [_Worker(await asyncio.create_subprocess_exec(
        sys.executable, "-m", "origin_doctor.scan_workers", stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env=dict(os.environ), start_new_session=True,
    ), options.profile.id) for _ in range(workers)]
    results: asyncio.Queue[tuple[TargetResult, str] | None] = asyncio.Queue(maxsize=workers * 256)
    tasks = [asyncio.create_task(_feed(items, options, share, pool, results))]
    tasks += [asyncio.create_task(worker.collect(results)) for worker in pool]
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
        for worker in pool:
            await worker.stop(wait=clean)
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


class _Worker:
    """One worker process, the targets it has not answered yet, and whether it is gone."""

    def __init__(self, process: asyncio.subprocess.Process, profile: str) -> None:
        self.process = process
        self.profile = profile
        self.pending: dict[int, Target] = {}
        self.sent_options: set[int] = set()
        self.dead = False

    def send(self, message: tuple[Any, ...]) -> None:
        assert self.process.stdin is not None
        payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        self.process.stdin.write(_FRAME.pack(len(payload)) + payload)

    async def collect(self, results: asyncio.Queue[tuple[TargetResult, str] | None]) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        try:
            while True:
                try:
                    head = await stdout.readexactly(_FRAME.size)
                    seq, result, line = pickle.loads(await stdout.readexactly(_FRAME.unpack(head)[0]))
                except asyncio.IncompleteReadError:
                    break
                self.pending.pop(seq, None)
                await results.put((result, line))
            self.dead = True
            if self.pending:
                code = await self.process.wait()
                for target in self.pending.values():
                    await results.put(self.lost(target, f"its worker process exited with status {code}"))
                self.pending.clear()
        finally:
            await results.put(None)

    def lost(self, target: Target, why: str) -> tuple[TargetResult, str]:
        bug = finding("internal.error", target.name, f"origin-doctor did not finish this target: {why}.",
                      exception="WorkerLost", message=why)
        result = TargetResult(target, decide([bug]), (bug,), profile=self.profile)
        return result, result_line(result)

    async def stop(self, *, wait: bool) -> None:
        # A worker that closed its output exits by itself; killing one that has just exited would reap
        # it behind asyncio's child watcher (child.kill() polls). Interrupted runs stop them at once.
        if wait:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.process.wait(), 5.0)
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.process.pid, signal.SIGKILL)
        await self.process.wait()


async def _feed(items: Iterable[Item], options: CheckOptions, share: tuple[int, int], pool: list[_Worker],
                results: asyncio.Queue[tuple[TargetResult, str] | None]) -> None:
    """Send each target to the worker its origin name hashes to; own options travel once per worker."""
    try:
        for worker in pool:
            worker.send(("start", options, share))
        for seq, item in enumerate(items):
            target, own = item if isinstance(item, tuple) else (item, None)
            worker = pool[zlib.crc32(target.origin.encode()) % len(pool)]
            if worker.dead:
                await results.put(worker.lost(target, "its worker process had exited"))
                continue
            key = None
            if own is not None:
                key = id(own)
                if key not in worker.sent_options:
                    worker.send(("options", key, own))
                    worker.sent_options.add(key)
            worker.pending[seq] = target
            worker.send(("target", target, key, seq))
            assert worker.process.stdin is not None
            with contextlib.suppress(ConnectionError):  # a dead worker: collect() reports its targets
                await worker.process.stdin.drain()
    finally:  # also on a bad input file: the workers finish what they have, then the error surfaces
        for worker in pool:
            assert worker.process.stdin is not None
            worker.process.stdin.close()


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

    seqs: dict[int, int] = {}  # id(target) -> the parent's sequence number

    async def items() -> AsyncIterator[Item]:
        while (message := await read()) is not None:
            if message[0] == "options":
                own_options[message[1]] = message[2]
            else:
                _, target, key, seq = message
                seqs[id(target)] = seq
                yield target if key is None else (target, own_options[key])

    async for result in check_targets(items(), options, concurrency, per_address):
        seq = seqs.pop(id(result.target))
        payload = pickle.dumps((seq, slim(result), result_line(result)), protocol=pickle.HIGHEST_PROTOCOL)
        out.write(_FRAME.pack(len(payload)) + payload)
        out.flush()


def worker_main() -> None:
    # The parent owns Ctrl-C and SIGTERM: it stops the workers once it has written what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_gc()
    with contextlib.suppress(BrokenPipeError):
        asyncio.run(_worker())


if __name__ == "__main__":
    worker_main()
