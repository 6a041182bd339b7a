"""Fixtures for the WebSocket tests; the peers themselves live in ws_lab.py."""

from __future__ import annotations

import pytest
from ws_lab import Pki, make_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    return make_pki(tmp_path_factory.mktemp("pki"))
