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
