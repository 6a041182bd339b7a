"""serve reads the same fleet files as scan (text, YAML, CSV), and refuses what it cannot honour."""

from __future__ import annotations

from pathlib import Path

import pytest

from origin_doctor.errors import InputError
from origin_doctor.exporter import read_targets


def test_yaml_fleet_with_per_target_names(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text("targets:\n  - www.lab.test:8443\n  - {target: ws.lab.test, origin: lb.lab.test, websocket: /ws}\n")
    targets = read_targets(str(fleet))
    assert [(t.name, t.origin, t.port, t.websocket_path) for t in targets] == [
        ("www.lab.test", "www.lab.test", 8443, None), ("ws.lab.test", "lb.lab.test", 443, "/ws")]


def test_text_fleet_with_comments(tmp_path: Path) -> None:
    fleet = tmp_path / "hosts.txt"
    fleet.write_text("# fleet\nwww.lab.test\n\nwss://ws.lab.test/socket  # the websocket\n")
    assert [t.name for t in read_targets(str(fleet))] == ["www.lab.test", "ws.lab.test"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [("www.lab.test\nftp://x\n", "hosts.txt:2"), ("www.lab.test read_timeout=5\n", "one set of probe options"),
     ("# nothing\n", "no targets")],
)
def test_bad_fleet_files_are_one_line_errors(tmp_path: Path, text: str, needle: str) -> None:
    fleet = tmp_path / "hosts.txt"
    fleet.write_text(text)
    with pytest.raises(InputError, match=needle):
        read_targets(str(fleet))
