"""Running real Python handlers in a child process: results, exceptions, timeouts, odd return values."""

from __future__ import annotations

import os
import textwrap
import time
from pathlib import Path

import pytest

from origin_doctor.edge.report import execution_findings
from origin_doctor.edge.rules import EventType, Runtime
from origin_doctor.edge.runner import HandlerSpec, run_handler
from origin_doctor.edge.samples import sample_event
from origin_doctor.errors import InputError, UsageError

EVENT = sample_event(EventType.VIEWER_REQUEST, Runtime.LAMBDA_EDGE)


def _handler(tmp_path: Path, body: str, name: str = "handler") -> HandlerSpec:
    path = tmp_path / "edge_handler.py"
    path.write_text(textwrap.dedent(body))
    return HandlerSpec(path, name)


def test_returns_the_request_and_keeps_prints_in_the_log(tmp_path: Path) -> None:
    spec = _handler(tmp_path, """
        def handler(event, context):
            print("remaining", context.get_remaining_time_in_millis() > 0)
            return event["Records"][0]["cf"]["request"]
    """)
    run = run_handler(spec, EVENT, timeout=10)
    assert run.status == "returned"
    assert run.result == EVENT["Records"][0]["cf"]["request"]
    assert "remaining True" in run.log


def test_exception_gives_the_users_traceback_only(tmp_path: Path) -> None:
    spec = _handler(tmp_path, """
        def helper(event):
            return event["Records"][0]["cf"]["nope"]

        def handler(event, context):
            return helper(event)
    """)
    run = run_handler(spec, EVENT, timeout=10)
    assert run.status == "error" and run.error_type == "KeyError" and run.stage == "handler"
    assert "edge_handler.py" in run.traceback and "in helper" in run.traceback
    assert "_child.py" not in run.traceback and "origin_doctor" not in run.traceback
    (finding,) = execution_findings(run, EventType.VIEWER_REQUEST, str(spec), 10)
    assert finding.code == "function.execution_error"
    assert finding.evidence["cdn_answer"] == "503"
    assert "in helper" in finding.evidence["traceback"]


def test_loop_forever_is_killed_at_the_limit(tmp_path: Path) -> None:
    spec = _handler(tmp_path, """
        def handler(event, context):
            while True:
                pass
    """)
    started = time.monotonic()
    run = run_handler(spec, EVENT, timeout=0.5)
    assert run.status == "timeout"
    assert time.monotonic() - started < 5
    (finding,) = execution_findings(run, EventType.VIEWER_REQUEST, str(spec), 0.5)
    assert finding.code == "function.timeout" and finding.evidence["cdn_answer"] == "503"


def test_timeout_kills_processes_the_handler_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    spec = _handler(tmp_path, f"""
        import subprocess, sys, time
        def handler(event, context):
            child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
            open({str(pid_file)!r}, "w").write(str(child.pid))
            time.sleep(60)
    """)
    run = run_handler(spec, EVENT, timeout=1.0)
    assert run.status == "timeout"
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_coroutine_result_is_an_execution_error(tmp_path: Path) -> None:
    spec = _handler(tmp_path, """
        async def handler(event, context):
            return event["Records"][0]["cf"]["request"]
    """)
    run = run_handler(spec, EVENT, timeout=10)
    assert run.status == "coroutine"
    assert "RuntimeWarning" not in run.log
    (finding,) = execution_findings(run, EventType.VIEWER_REQUEST, str(spec), 10)
    assert finding.code == "function.execution_error" and "uncertain" in finding.evidence


def test_none_result_is_returned_as_null(tmp_path: Path) -> None:
    spec = _handler(tmp_path, """
        def handler(event, context):
            return None
    """)
    run = run_handler(spec, EVENT, timeout=10)
    assert run.status == "returned" and run.result is None
    assert execution_findings(run, EventType.VIEWER_REQUEST, str(spec), 10) == []


@pytest.mark.parametrize(
    ("body", "name", "stage", "error_type"),
    [
        ("def handler(event, context)\n    return 1\n", "handler", "import", "SyntaxError"),
        ("import no_such_module_for_edge_tests\n", "handler", "import", "ModuleNotFoundError"),
        ("def handler(event, context):\n    return 1\n", "other", "import", "HandlerNotFound"),
        ("def handler(event, context):\n    return {1, 2}\n", "handler", "serialise", "TypeError"),
        ("import sys\ndef handler(event, context):\n    sys.exit(3)\n", "handler", "handler", "SystemExit"),
        ("import os\ndef handler(event, context):\n    os._exit(7)\n", "handler", "process", "ProcessExited"),
    ],
)
def test_other_execution_errors(tmp_path: Path, body: str, name: str, stage: str, error_type: str) -> None:
    spec = _handler(tmp_path, body, name)
    run = run_handler(spec, EVENT, timeout=10)
    assert (run.status, run.stage, run.error_type) == ("error", stage, error_type)


def test_handler_directory_is_importable(tmp_path: Path) -> None:
    (tmp_path / "edge_helpers_lib.py").write_text("VALUE = 'from-the-package'\n")
    spec = _handler(tmp_path, """
        import edge_helpers_lib
        def handler(event, context):
            return {"status": "200", "body": edge_helpers_lib.VALUE}
    """)
    run = run_handler(spec, EVENT, timeout=10)
    assert run.result == {"status": "200", "body": "from-the-package"}


def test_handler_spec_parsing(tmp_path: Path) -> None:
    path = tmp_path / "h.py"
    path.write_text("")
    assert HandlerSpec.parse(f"{path}:main") == HandlerSpec(path, "main")
    assert HandlerSpec.parse(str(path)).function == "handler"
    with pytest.raises(UsageError):
        HandlerSpec.parse(f"{path}:not-a-name")
    with pytest.raises(InputError):
        HandlerSpec.parse(f"{tmp_path / 'missing.py'}:handler")
    assert os.path.exists(path)
