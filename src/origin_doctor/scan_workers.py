"""A scan spread over worker processes (TLS in Python is CPU-bound): the parent shards targets by
origin name, so each worker keeps its own DNS answers and address limits, and reads pickled results
back over pipes as they finish (both ways in frames of several). One worker means no processes at
all: the engine runs in place.

Workers are forked before the parent starts its event loop, so they begin with every module
already imported (a spawned interpreter spent ~0.15 s of CPU importing the engine, inside the run).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import os
import pickle
import signal
import struct
import zlib
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass, replace
from typing import Any

from origin_doctor.codes import finding
from origin_doctor.engine import CheckOptions, check_targets, each_item
from origin_doctor.model import Target
from origin_doctor.report.json import result_line
from origin_doctor.result import TargetResult
from origin_doctor.verdict import decide

Item = Target | tuple[Target, CheckOptions]
_FRAME = struct.Struct("!I")
# What a pipe reader buffers before it stops reading (a bigger message is still read whole): the
# parent no longer pushes a 100k-target file into a worker's memory ahead of its probes.
_PIPE_BUFFER = 2**16


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


@dataclass
class ForkedWorker:
    """A worker process and the parent's ends of its two pipes (owned by scan_results once taken)."""

    pid: int
    to_worker: int
    from_worker: int
    taken: bool = False


def fork_workers(count: int) -> list[ForkedWorker]:
    """Fork `count` workers (none where fork does not exist: the scan then runs in place).
    Call before any event loop or thread starts in this process."""
    if count <= 1 or not hasattr(os, "fork"):
        return []
    forked: list[ForkedWorker] = []
    for _ in range(count):
        down_read, down_write = os.pipe()
        up_read, up_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the parent's code
            code = 70
            try:
                os.setsid()  # Ctrl-C at a terminal reaches the parent only; it stops the workers
                for fd in (down_write, up_read, *(f for w in forked for f in (w.to_worker, w.from_worker))):
                    os.close(fd)
                # The parent's stdin and stdout (a piped fleet, a --json reader) are not the
                # worker's: holding them would keep a reader waiting for an end of file.
                quiet = os.open(os.devnull, os.O_RDWR)
                os.dup2(quiet, 0)
                os.dup2(quiet, 1)
                os.close(quiet)
                worker_main(down_read, up_write)
                code = 0
            finally:
                os._exit(code)
        os.close(down_read)
        os.close(up_write)
        forked.append(ForkedWorker(pid, down_write, up_read))
    return forked


def stop_forked(forked: list[ForkedWorker]) -> None:
    """Kill and reap workers that scan_results never took over (the run failed before it began)."""
    for worker in forked:
        if worker.taken:
            continue
        with contextlib.suppress(ProcessLookupError):
            os.kill(worker.pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(worker.pid, 0)
        for fd in (worker.to_worker, worker.from_worker):
            with contextlib.suppress(OSError):
                os.close(fd)


async def scan_results(items: Iterable[Item] | AsyncIterable[Item], options: CheckOptions, *, forked: list[ForkedWorker],
                       concurrency: int, per_address: int) -> AsyncIterator[tuple[TargetResult, str]]:
    """(result, its JSON line) in completion order from the forked workers (none: in this process).
    From workers the result is slimmed to what the tally and fleet analysis read; the line is whole.
    A worker that dies leaves an internal.error result for each target it had not finished."""
    tune_gc()
    if not forked:
        async for result in check_targets(items, options, concurrency, per_address):
            yield result, result_line(result)
        return
    workers = len(forked)
    share = (max(1, -(-concurrency // workers)), max(1, per_address // workers) if per_address > 0 else 0)
    pool = [await _Worker.attach(worker, options.profile.id) for worker in forked]
    results: asyncio.Queue[list[tuple[TargetResult, str]] | None] = asyncio.Queue(maxsize=workers * 16)
    tasks = [asyncio.create_task(_feed(items, options, share, pool, results))]
    tasks += [asyncio.create_task(worker.collect(results)) for worker in pool]
    clean = False
    try:
        finished = 0
        while finished < workers:
            batch = await results.get()
            if batch is None:
                finished += 1
                continue
            for done in batch:
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
    """One worker process seen from the parent's event loop: its pipes, the targets it has not
    answered yet, and whether it is gone."""

    def __init__(self, pid: int, stdin: asyncio.StreamWriter, stdout: asyncio.StreamReader, profile: str) -> None:
        self.pid = pid
        self.stdin = stdin
        self.stdout = stdout
        self.profile = profile
        self.pending: dict[int, Target] = {}
        self.outgoing: list[tuple[Any, ...]] = []  # messages not yet sent, in order
        self.sent_options: set[int] = set()
        self.dead = False
        self.returncode: int | None = None

    @classmethod
    async def attach(cls, forked: ForkedWorker, profile: str) -> _Worker:
        forked.taken = True
        loop = asyncio.get_running_loop()
        stdout = asyncio.StreamReader(limit=_PIPE_BUFFER)
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(stdout),
                                     os.fdopen(forked.from_worker, "rb", buffering=0))
        transport, protocol = await loop.connect_write_pipe(
            lambda: asyncio.StreamReaderProtocol(asyncio.StreamReader()), os.fdopen(forked.to_worker, "wb", buffering=0))
        return cls(forked.pid, asyncio.StreamWriter(transport, protocol, None, loop), stdout, profile)

    async def wait(self) -> int:
        """The worker's exit code, once it has exited (reaped here: no child watcher involved)."""
        while self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
            else:
                await asyncio.sleep(0.02)
        return self.returncode

    def send(self) -> None:
        """Write the outgoing messages as one frame."""
        if self.outgoing:
            payload = pickle.dumps(self.outgoing, protocol=pickle.HIGHEST_PROTOCOL)
            self.outgoing = []
            self.stdin.write(_FRAME.pack(len(payload)) + payload)

    async def collect(self, results: asyncio.Queue[list[tuple[TargetResult, str]] | None]) -> None:
        stdout = self.stdout
        pending = self.pending
        try:
            while True:
                try:
                    head = await stdout.readexactly(_FRAME.size)
                    batch = pickle.loads(await stdout.readexactly(_FRAME.unpack(head)[0]))
                except asyncio.IncompleteReadError:
                    break
                for seq, _, _ in batch:
                    pending.pop(seq, None)
                await results.put([(result, line) for _, result, line in batch])
            self.dead = True
            if pending:
                code = await self.wait()
                await results.put([self.lost(target, f"its worker process exited with status {code}")
                                   for target in pending.values()])
                pending.clear()
        finally:
            await results.put(None)

    def lost(self, target: Target, why: str) -> tuple[TargetResult, str]:
        bug = finding("internal.error", target.name, f"origin-doctor did not finish this target: {why}.",
                      exception="WorkerLost", message=why)
        result = TargetResult(target, decide([bug]), (bug,), profile=self.profile)
        return result, result_line(result)

    async def stop(self, *, wait: bool) -> None:
        # A worker that closed its output exits by itself; interrupted runs stop them at once.
        if wait:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait(), 5.0)
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)
            await self.wait()
        self.stdin.close()


# Targets travel to a worker in frames of up to this many (one pickle, one write), except while
# the worker holds fewer than it could run at once: then each goes at once, so none waits.
_BATCH = 64


async def _feed(items: Iterable[Item] | AsyncIterable[Item], options: CheckOptions, share: tuple[int, int],
                pool: list[_Worker],
                results: asyncio.Queue[list[tuple[TargetResult, str]] | None]) -> None:
    """Send each target to the worker its origin name hashes to; own options travel once per worker."""
    hungry = share[0]
    try:
        for worker in pool:
            worker.outgoing.append(("start", options, share))
            worker.send()
        seq = -1
        async for item in each_item(items):
            seq += 1
            target, own = item if isinstance(item, tuple) else (item, None)
            worker = pool[zlib.crc32(target.origin.encode()) % len(pool)]
            if worker.dead:
                await results.put([worker.lost(target, "its worker process had exited")])
                continue
            key = None
            if own is not None:
                key = id(own)
                if key not in worker.sent_options:
                    worker.outgoing.append(("options", key, own))
                    worker.sent_options.add(key)
            worker.pending[seq] = target
            worker.outgoing.append(("target", target, key, seq))
            if len(worker.outgoing) >= _BATCH or len(worker.pending) - len(worker.outgoing) < hungry:
                worker.send()
                with contextlib.suppress(ConnectionError):  # a dead worker: collect() reports its targets
                    await worker.stdin.drain()
    finally:  # also on a bad input file: the workers finish what they have, then the error surfaces
        for worker in pool:
            with contextlib.suppress(ConnectionError, RuntimeError):  # a gone worker's pipe
                worker.send()
            worker.stdin.close()


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


async def _worker(inbox: int, outbox: int) -> None:
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader(limit=_PIPE_BUFFER)
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(inbox, "rb", buffering=0))
    out = os.fdopen(outbox, "wb")

    async def messages() -> AsyncIterator[tuple[Any, ...]]:
        while True:
            try:
                head = await reader.readexactly(_FRAME.size)
                frame: list[tuple[Any, ...]] = pickle.loads(await reader.readexactly(_FRAME.unpack(head)[0]))
            except asyncio.IncompleteReadError:
                return
            for message in frame:
                yield message

    inbox_messages = messages()
    start = await anext(inbox_messages, None)
    if start is None:
        return
    _, options, (concurrency, per_address) = start
    own_options: dict[int, CheckOptions] = {}

    seqs: dict[int, int] = {}  # id(target) -> the parent's sequence number

    async def items() -> AsyncIterator[Item]:
        async for message in inbox_messages:
            if message[0] == "options":
                own_options[message[1]] = message[2]
            else:
                _, target, key, seq = message
                seqs[id(target)] = seq
                yield target if key is None else (target, own_options[key])

    # Results finished in one turn of the event loop go back as one frame, written as the turn ends.
    finished: list[tuple[int, TargetResult, str]] = []

    def send_finished() -> None:
        if finished:
            payload = pickle.dumps(finished, protocol=pickle.HIGHEST_PROTOCOL)
            finished.clear()
            out.write(_FRAME.pack(len(payload)) + payload)
            out.flush()

    async for result in check_targets(items(), options, concurrency, per_address):
        if not finished:
            loop.call_soon(send_finished)
        finished.append((seqs.pop(id(result.target)), slim(result), result_line(result)))
    send_finished()


def worker_main(inbox: int, outbox: int) -> None:
    """A forked worker's life: targets in on `inbox`, results out on `outbox`, until inbox closes."""
    # The parent owns Ctrl-C and SIGTERM: it stops the workers once it has written what finished.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    tune_gc()
    with contextlib.suppress(BrokenPipeError):
        asyncio.run(_worker(inbox, outbox))
