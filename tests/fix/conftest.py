"""Fixtures for fix-chain and audit-nginx: a fake AIA host and a PKI whose leaf points at it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fix_support import AiaLab, Route, aia_server, mint_pki


@pytest.fixture
def aia_lab(tmp_path: Path) -> Iterator[AiaLab]:
    routes: dict[str, Route] = {}
    with aia_server(routes) as base:
        pki = mint_pki(aia_url=base + "/ca/intermediate.der")
        routes["/ca/intermediate.der"] = Route(pki.intermediate.der)
        yield AiaLab(base, routes, pki, pki.write_bundle(tmp_path))
