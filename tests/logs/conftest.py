"""Fixtures for the logs tests (helpers live in logs_support.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from logs_support import running_nginx


@pytest.fixture
def nginx(tmp_path: Path) -> Callable[[str], Any]:
    def start(log_format: str) -> Any:
        return running_nginx(tmp_path / "nginx", log_format)

    return start
