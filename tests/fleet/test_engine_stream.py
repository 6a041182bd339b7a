"""check_targets as a stream: a target source that breaks mid-way ends the stream with its error
after the targets already started have finished, instead of hanging."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from origin_doctor.engine import CheckOptions, check_targets
from origin_doctor.errors import InputError
from origin_doctor.model import Target
from origin_doctor.profile import load_profile


def _options() -> CheckOptions:
    profile = load_profile("cloudfront").with_overrides(connect_timeout=1.0, connect_attempts=1)
    resolve = {(f"n{i}.test", 1): ("127.0.0.1",) for i in range(3)}  # port 1: refused at once
    return CheckOptions(profile=profile, resolve=resolve, compare_profiles=False)


def _targets_then_breaks() -> Iterator[Target]:
    for i in range(3):
        yield Target(name=f"n{i}.test", origin=f"n{i}.test", port=1)
    raise InputError("hosts.txt: the disk went away")


async def test_a_broken_source_raises_after_the_started_targets() -> None:
    seen: list[str] = []
    with pytest.raises(InputError, match="disk went away"):
        async with asyncio.timeout(20):
            async for result in check_targets(_targets_then_breaks(), _options(), concurrency=2):
                seen.append(result.target.name)
    assert sorted(seen) == ["n0.test", "n1.test", "n2.test"]


async def test_a_busy_address_does_not_hold_back_the_others() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # never accepted: each hello waits for the whole timeout
    slow_port = silent.getsockname()[1]
    try:
        profile = load_profile("cloudfront").with_overrides(connect_timeout=3.0, connect_attempts=1)
        slow = [Target(name=f"slow{i}.test", origin=f"slow{i}.test", port=slow_port) for i in range(3)]
        fast = [Target(name=f"fast{i}.test", origin=f"fast{i}.test", port=1) for i in range(4)]
        resolve = {(t.origin, t.port): ("127.0.0.1",) for t in slow}
        resolve |= {(t.origin, t.port): ("127.0.0.2",) for t in fast}  # nothing listens there: refused
        options = CheckOptions(profile=profile, resolve=resolve, compare_profiles=False)
        order: list[str] = []
        started = time.monotonic()
        async with asyncio.timeout(30):
            async for result in check_targets([*slow, *fast], options, concurrency=2, per_address=1):
                order.append(result.target.name)
                if len(order) == len(fast):
                    fast_done = time.monotonic() - started
        assert sorted(order[: len(fast)]) == sorted(t.name for t in fast)
        assert fast_done < 2.5  # before the first slow hello times out
    finally:
        silent.close()


def test_scan_json_stays_one_document_when_the_input_breaks(capsys: pytest.CaptureFixture[str]) -> None:
    """A reader that breaks mid-run (an I/O error on the fleet file, say) is one input error, and the
    --json document on stdout is still whole, holding every result that finished."""
    import json

    from rich.console import Console

    from origin_doctor.cli.scan import _Scan
    from origin_doctor.fleet_input import FleetEntry
    from origin_doctor.model import Severity

    def entries() -> Iterator[FleetEntry]:
        for i in range(3):
            yield FleetEntry(Target(name=f"n{i}.test", origin=f"n{i}.test", port=1), line=i + 1)
        raise OSError(5, "Input/output error")

    run = _Scan(_options(), {}, Console(stderr=True), Severity.FAIL)
    with pytest.raises(InputError, match=r"hosts.txt: cannot read the fleet file \(OSError: .*Input/output error\)"):
        asyncio.run(asyncio.wait_for(run.main(run.items(entries(), "hosts.txt"), "hosts.txt", 3, 2, 0, [], True,
                                              None, show_progress=False), 20))
    document = json.loads(capsys.readouterr().out)
    assert sorted(r["target"]["name"] for r in document["results"]) == ["n0.test", "n1.test", "n2.test"]
    assert document["fleet_findings"] == []
