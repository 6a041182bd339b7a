"""check_targets as a stream: a target source that breaks mid-way ends the stream with its error
after the targets already started have finished, instead of hanging."""

from __future__ import annotations

import asyncio
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
