"""Reading fleet files: txt with comments and key=value overrides, YAML, CSV, stdin; every bad
entry becomes a BadLine that names its file and line, and the entries after it still come out."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from origin_doctor.errors import InputError
from origin_doctor.fleet_input import BadLine, FleetEntry, open_fleet


def _read(path: Path, fmt: str | None = None) -> list[FleetEntry | BadLine]:
    return list(open_fleet(str(path), fmt).entries)


def test_text_lines_comments_and_overrides(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("# header\nwww.example.com\n\n  ws.example.com:8443  # trailing\n"
                     "https://shop.example.com/health origin=lb.example.com host-header=shop.example.com\n")
    fleet = open_fleet(str(hosts))
    assert fleet.total == 3
    www, ws, shop = list(fleet.entries)
    assert isinstance(www, FleetEntry) and www.target.name == "www.example.com" and www.line == 2
    assert isinstance(ws, FleetEntry) and ws.target.port == 8443 and ws.line == 4
    assert isinstance(shop, FleetEntry)
    assert (shop.target.origin, shop.target.host_header, shop.target.path) == (
        "lb.example.com", "shop.example.com", "/health")


def test_text_bad_lines_name_the_line_and_do_not_stop(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_text("a.example.com\nb.example.com:http\nc.example.com color=red\nd.example.com port=x\ne.example.com\n")
    entries = _read(hosts)
    assert [str(e) for e in entries if isinstance(e, BadLine)] == [
        f"{hosts}:2: target 'b.example.com:http': port 'http' is not a number",
        f"{hosts}:3: unknown key 'color' (known: at, ca_bundle, compare, connect_attempts, connect_timeout, "
        "host_header, name, origin, path, port, profile, read_timeout, site, ssl_protocols, target, warn_days, "
        "websocket)",
        f"{hosts}:4: port must be a whole number, got 'x'",
    ]
    assert [e.target.name for e in entries if isinstance(e, FleetEntry)] == ["a.example.com", "e.example.com"]


def test_yaml_defaults_overrides_and_line_numbers(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(
        "defaults:\n  port: 8443\n  connect_timeout: 2\n"
        "targets:\n"
        "  - www.example.com\n"
        "  - target: ws.example.com\n    websocket: /socket\n    site: example-site\n    compare: false\n"
        "  - target: api.example.com\n    port: seventy\n"
        "  - [not, a, target]\n"
    )
    opened = open_fleet(str(fleet))
    assert opened.total == 4
    www, ws, api, odd = list(opened.entries)
    assert isinstance(www, FleetEntry) and www.target.port == 8443
    assert dict(www.overrides) == {"connect_timeout": 2.0}
    assert isinstance(ws, FleetEntry) and ws.target.websocket_path == "/socket" and ws.target.site == "example-site"
    assert dict(ws.overrides) == {"compare": False, "connect_timeout": 2.0}
    assert isinstance(api, BadLine) and api.line == 10 and "port must be a whole number" in api.message
    assert isinstance(odd, BadLine) and odd.line == 12


def test_yaml_syntax_error_is_one_input_error_with_a_line(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yml"
    fleet.write_text("targets:\n  - ok.example.com\n  - target: [\n")
    with pytest.raises(InputError, match=r"fleet.yml:\d+: not valid YAML"):
        open_fleet(str(fleet))


def test_csv_header_and_rows(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.csv"
    hosts.write_text("target,origin,port,profile\n# comment row\nwww.example.com,,,\n"
                     "ws.example.com,lb.example.com,8443,cloudfront-2025\n,lb.example.com,,\n")
    www, ws, empty = _read(hosts)
    assert isinstance(www, FleetEntry) and www.overrides == ()
    assert isinstance(ws, FleetEntry) and ws.target.origin == "lb.example.com" and ws.target.port == 8443
    assert dict(ws.overrides) == {"profile": "cloudfront-2025"}
    assert isinstance(empty, BadLine) and empty.line == 5 and "no target" in empty.message


def test_csv_without_target_column_is_an_input_error(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.csv"
    hosts.write_text("host,port\nwww.example.com,443\n")
    with pytest.raises(InputError, match="hosts.csv:1: the CSV header needs a 'target' column"):
        _read(hosts)


def test_stdin_is_streamed_without_a_total() -> None:
    fleet = open_fleet("-", stdin=io.StringIO("a.example.com\n# c\nb.example.com\n"))
    assert fleet.total is None and fleet.source == "<stdin>"
    assert [e.target.name for e in fleet.entries if isinstance(e, FleetEntry)] == ["a.example.com", "b.example.com"]


def test_unreadable_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read the fleet file"):
        open_fleet(str(tmp_path / "missing.txt"))


def test_undecodable_bytes_fail_their_line_only(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.txt"
    hosts.write_bytes(b"a.example.com\nb\xff\xfe.example.com\nc.example.com\n")
    entries = _read(hosts)
    assert [e.target.name for e in entries if isinstance(e, FleetEntry)][::2] == ["a.example.com", "c.example.com"]


def test_csv_header_is_checked_when_the_file_is_opened(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.csv"
    hosts.write_text("# only a comment\n")
    with pytest.raises(InputError, match="empty CSV file"):
        open_fleet(str(hosts))


DEFAULTS_LAST = ("targets:\n  - a.example.com\n  - target: b.example.com\n    port: 9443\n"
                 "defaults:\n  port: 8443\n  read_timeout: 3\n")


def test_yaml_defaults_after_the_targets_still_apply(tmp_path: Path) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(DEFAULTS_LAST)
    opened = open_fleet(str(fleet))
    assert opened.total == 2
    a, b = list(opened.entries)
    assert isinstance(a, FleetEntry) and (a.target.port, a.line) == (8443, 2)
    assert isinstance(b, FleetEntry) and (b.target.port, b.line) == (9443, 3)
    assert dict(a.overrides) == {"read_timeout": 3.0}
    # the same document on stdin (spooled to a file first, then read the same way)
    piped = open_fleet("-", "yaml", stdin=io.StringIO(DEFAULTS_LAST))
    assert piped.total == 2
    assert [(e.target.port, dict(e.overrides)) for e in piped.entries if isinstance(e, FleetEntry)] == [
        (8443, {"read_timeout": 3.0}), (9443, {"read_timeout": 3.0})]


@pytest.mark.parametrize(("text", "message"), [
    ("targets:\n  - a.example.com\n---\ntargets: []\n", "one YAML document"),
    ("targets: a.example.com\n", "fleet.yaml:1: 'targets:' must be a list"),
    ("defaults: {}\nhosts:\n  - a.example.com\n", "found key 'hosts'"),
    ("defaults:\n  - port\ntargets: []\n", "fleet.yaml:2: 'defaults:' must be a mapping"),
    ("defaults: {port: 443}\n", "found no 'targets:'"),
    ("just-a-name\n", "expected a list of targets"),
])
def test_yaml_layout_errors_stop_before_anything_is_checked(tmp_path: Path, text: str, message: str) -> None:
    fleet = tmp_path / "fleet.yaml"
    fleet.write_text(text)
    with pytest.raises(InputError, match=message):
        open_fleet(str(fleet))


def test_yaml_entries_are_read_one_at_a_time(tmp_path: Path) -> None:
    """Memory for reading a fleet.yaml stays flat in its size: the peak while handing out 3,000
    entries is about the peak for 300 (a whole-document load grows tenfold)."""
    import tracemalloc

    def peak(count: int) -> int:
        fleet = tmp_path / f"fleet-{count}.yaml"
        fleet.write_text("defaults:\n  port: 8443\ntargets:\n" + "".join(
            f"  - target: h{i}.example.com\n    site: s{i % 7}\n" for i in range(count)))
        tracemalloc.start()
        try:
            seen = sum(1 for entry in open_fleet(str(fleet)).entries if isinstance(entry, FleetEntry))
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
            assert seen == count

    small, large = peak(300), peak(3000)
    assert large < 2 * small, (small, large)


def test_csv_row_the_reader_refuses_is_a_bad_line(tmp_path: Path) -> None:
    hosts = tmp_path / "hosts.csv"
    hosts.write_text("target\na.example.com\n\"" + "x" * 140_000 + "\"\nb.example.com\n")
    entries = _read(hosts)
    bad = [e for e in entries if isinstance(e, BadLine)]
    assert len(bad) == 1 and bad[0].line == 3 and "unreadable CSV row (field larger than field limit" in bad[0].message
    assert [e.target.name for e in entries if isinstance(e, FleetEntry)] == ["a.example.com", "b.example.com"]


def test_yaml_on_stdin_is_checked_before_anything_runs() -> None:
    with pytest.raises(InputError, match=r"<stdin>:4: not valid YAML"):  # the line where the stream ends
        open_fleet("-", "yaml", stdin=io.StringIO("targets:\n  - a.example.com\n  - target: [\n"))
