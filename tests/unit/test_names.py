from __future__ import annotations

import pytest

from origin_doctor.analyze.certfacts import name_matches


@pytest.mark.parametrize(
    ("pattern", "name", "ok"),
    [
        ("www.example.com", "www.example.com", True),
        ("WWW.example.com", "www.EXAMPLE.com.", True),
        ("*.example.com", "ws.example.com", True),
        ("*.example.com", "a.b.example.com", False),  # one label only
        ("*.example.com", "example.com", False),
        ("*.com", "example.com", False),  # no wildcard directly under a TLD
        ("ws.example.com", "www.example.com", False),
    ],
)
def test_wildcard_is_one_leftmost_label(pattern: str, name: str, ok: bool) -> None:
    assert name_matches(pattern, name) is ok
