"""Shared fixtures: a clean environment, a pinned clock."""

from __future__ import annotations

import datetime as dt
import os

import pytest

LAB_NOW = dt.datetime(2026, 11, 29, 10, 0, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Proxies and custom trust settings on the developer's machine must not leak into tests."""
    for name in list(os.environ):
        if name.upper() in {"SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE"} or name.upper().endswith("_PROXY"):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture
def now() -> dt.datetime:
    return LAB_NOW


class LabThread:
    """The lab on its own event loop in a background thread, so that every test (sync or async,
    on any loop) can probe it for the whole session."""

    def __init__(self) -> None:
        import asyncio
        import threading

        from origin_doctor.lab.run import Lab

        self.loop = asyncio.new_event_loop()
        self.lab = Lab(now=LAB_NOW)
        self._thread = threading.Thread(target=self.loop.run_forever, name="lab", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self.lab.__aenter__(), self.loop).result(timeout=60)

    def close(self) -> None:
        import asyncio

        try:
            asyncio.run_coroutine_threadsafe(self.lab.__aexit__(None, None, None), self.loop).result(timeout=30)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=10)
            self.loop.close()


@pytest.fixture(scope="session")
def lab():  # type: ignore[no-untyped-def]
    """A running lab (origin_doctor.lab.run.Lab) for the whole test session (per xdist worker)."""
    runner = LabThread()
    try:
        yield runner.lab
    finally:
        runner.close()
