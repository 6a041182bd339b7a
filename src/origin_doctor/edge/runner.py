"""Run a Python Lambda@Edge handler once, in its own process, under the event's time limit.

The child (`_child.py`) runs with `python -I` in a new session; on timeout the whole session is
killed. Exceptions, import failures and unserialisable results come back as an ExecutionError with
the traceback of the user's code.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from origin_doctor.errors import InputError, UsageError

_CHILD = Path(__file__).with_name("_child.py")
_REAP_SECONDS = 5.0  # after a kill, how long to wait for the pipes to close


@dataclass(frozen=True, slots=True)
class HandlerSpec:
    path: Path
    function: str

    @classmethod
    def parse(cls, text: str) -> HandlerSpec:
        """`handler.py:handler` (the function defaults to `handler`)."""
        file_part, _, function = text.rpartition(":") if ":" in text else (text, "", "handler")
        if not file_part or not function.isidentifier():
            raise UsageError(f"handler {text!r} must look like FILE.py:FUNCTION, e.g. handler.py:handler")
        path = Path(file_part)
        if not path.is_file():
            raise InputError(f"{file_part}: no such file")
        return cls(path, function)

    def __str__(self) -> str:
        return f"{self.path}:{self.function}"


@dataclass(frozen=True, slots=True)
class RunOutcome:
    """What happened: `returned` (with `result`), `error`, `coroutine` or `timeout`."""

    status: str
    elapsed_s: float
    log: str
    result: Any = None
    error_type: str | None = None
    message: str = ""
    traceback: str = ""
    stage: str | None = None  # import, handler, serialise, process


def run_handler(spec: HandlerSpec, event: Any, timeout: float) -> RunOutcome:
    """Call the handler with `event`; never raises for anything the handler does."""
    command = [sys.executable, "-I", str(_CHILD), str(spec.path.resolve()), spec.function, repr(timeout)]
    started = time.monotonic()
    process = subprocess.Popen(
        command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True, cwd=spec.path.resolve().parent,
    )
    payload = json.dumps(event).encode()
    try:
        out, err = process.communicate(payload, timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill_session(process)
        try:
            _, err = process.communicate(timeout=_REAP_SECONDS)
        except subprocess.TimeoutExpired:  # something outside the session still holds the pipes
            err = b""
        elapsed = time.monotonic() - started
        return RunOutcome("timeout", elapsed, _text(err), message=f"killed after {timeout:g} s")
    finally:
        if process.poll() is None:
            _kill_session(process)
            process.wait(timeout=_REAP_SECONDS)
        for pipe in (process.stdin, process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()
    elapsed = time.monotonic() - started
    return _decode(out, _text(err), process.returncode, elapsed)


def _kill_session(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)  # the child leads its own session: pgid == pid


def _decode(out: bytes, log: str, returncode: int, elapsed: float) -> RunOutcome:
    try:
        report = json.loads(out.decode())
    except (UnicodeDecodeError, ValueError):
        how = f"was killed by signal {-returncode}" if returncode < 0 else f"exited with code {returncode}"
        return RunOutcome("error", elapsed, log, error_type="ProcessExited", stage="process",
                          message=f"the handler process {how} before returning a result")
    status = report["status"]
    if status == "returned":
        return RunOutcome("returned", elapsed, log, result=json.loads(report["result_json"]))
    if status == "coroutine":
        return RunOutcome("coroutine", elapsed, log, message=report["message"])
    return RunOutcome("error", elapsed, log, error_type=report.get("error_type"), message=report.get("message", ""),
                      traceback=report.get("traceback", ""), stage=report.get("stage"))


def _text(data: bytes) -> str:
    return data.decode("utf-8", "replace")
