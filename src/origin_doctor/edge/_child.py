"""Runs inside the child process started by runner.py: import a handler file, call it once, report.

Standard library only, run with `python -I` so neither this package nor the caller's path leaks in.
Argv: HANDLER_FILE FUNCTION_NAME TIMEOUT_SECONDS; the event arrives as JSON on stdin. The outcome is
one JSON object written to the original stdout; the handler's own prints go to stderr (its log).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import sys
import time
import traceback
import uuid
from typing import Any

_THIS_FILE = os.path.abspath(__file__)


class LambdaContext:
    """The attributes of the Lambda Python context object that handlers commonly read."""

    def __init__(self, name: str, timeout: float) -> None:
        self.function_name = name
        self.function_version = "1"
        self.invoked_function_arn = f"arn:aws:lambda:us-east-1:123456789012:function:{name}:1"
        self.memory_limit_in_mb = "128"
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/us-east-1.{name}"
        self.log_stream_name = "local/origin-doctor"
        self._deadline = time.monotonic() + timeout

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _user_traceback(exc: BaseException) -> str:
    """The traceback without this runner's frames: what the user's code did."""
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__)
              if os.path.abspath(frame.filename) != _THIS_FILE
              and not frame.filename.startswith("<frozen importlib")]
    lines = ["Traceback (most recent call last):\n"] if frames else []
    lines += traceback.format_list(frames)
    lines += traceback.format_exception_only(type(exc), exc)
    return "".join(lines)


def _error(stage: str, exc: BaseException) -> dict[str, Any]:
    return {"status": "error", "stage": stage, "error_type": type(exc).__name__,
            "message": str(exc), "traceback": _user_traceback(exc)}


def _run(handler_file: str, function_name: str, timeout: float, event: Any) -> dict[str, Any]:
    sys.path.insert(0, os.path.dirname(os.path.abspath(handler_file)))
    module_name = os.path.splitext(os.path.basename(handler_file))[0]
    try:
        spec = importlib.util.spec_from_file_location(module_name, handler_file)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot import {handler_file}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
    except BaseException as exc:  # noqa: BLE001 - every failure of the user's module is reported
        return _error("import", exc)
    handler = getattr(module, function_name, None)
    if not callable(handler):
        return {"status": "error", "stage": "import", "error_type": "HandlerNotFound",
                "message": f"{module_name}.{function_name} is not a function in {handler_file}", "traceback": ""}
    context = LambdaContext(module_name, timeout)
    try:
        result = handler(event, context)
    except BaseException as exc:  # noqa: BLE001
        return _error("handler", exc)
    if inspect.iscoroutine(result):
        result.close()
        return {"status": "coroutine", "message": f"{function_name} returned a coroutine (async def); "
                "the Lambda Python runtime does not await it"}
    try:
        encoded = json.dumps(result)
    except (TypeError, ValueError) as exc:
        return {"status": "error", "stage": "serialise", "error_type": type(exc).__name__,
                "message": f"Unable to marshal response: {exc}", "traceback": ""}
    return {"status": "returned", "result_json": encoded}


def main() -> None:
    handler_file, function_name, timeout = sys.argv[1], sys.argv[2], float(sys.argv[3])
    event = json.loads(sys.stdin.read())
    sys.stdout.flush()
    report_fd = os.dup(1)
    os.dup2(2, 1)  # the handler's prints (and any C-level writes to fd 1) become its log
    sys.stdout = os.fdopen(1, "w", buffering=1, closefd=False)
    outcome = _run(handler_file, function_name, timeout, event)
    sys.stdout.flush()
    sys.stderr.flush()
    with os.fdopen(report_fd, "w") as report:
        report.write(json.dumps(outcome))


if __name__ == "__main__":
    main()
