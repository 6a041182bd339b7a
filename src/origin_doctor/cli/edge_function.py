"""`origin-doctor edge-function validate|run|sample`: check edge function results before they cause 502s."""

from __future__ import annotations

import json
import sys
from typing import Any

import click
from rich.console import Console

from origin_doctor.edge.report import EdgeReport, execution_findings, render
from origin_doctor.edge.rules import TIMEOUT_SECONDS, EventType, Runtime
from origin_doctor.edge.runner import HandlerSpec, run_handler
from origin_doctor.edge.samples import sample_event
from origin_doctor.edge.validate import check_pairing, event_parts, event_type_of, validate_result
from origin_doctor.errors import InputError, UsageError
from origin_doctor.inputs import read_text

_EVENT = click.option("--event", "event_name", required=True, type=click.Choice([e.value for e in EventType]),
                      help="The trigger the function is associated with.")
_RUNTIME = click.option("--runtime", "runtime_name", default=Runtime.LAMBDA_EDGE.value, show_default=True,
                        type=click.Choice([r.value for r in Runtime]), help="Lambda@Edge or CloudFront Functions.")
_JSON = click.option("--json", "as_json", is_flag=True, help="Print one JSON document (origin-doctor/edge-function/1).")


@click.group("edge-function")
def edge_function() -> None:
    """Check what a Lambda@Edge or CloudFront Function returns, before CloudFront answers 502 for it.

    \b
    Exit codes: 0 CloudFront would accept the result, 1 it would answer 502/503, 2 usage or input error.

    \b
    Example:
        origin-doctor edge-function sample --event origin-request > event.json
        origin-doctor edge-function validate result.json --event origin-request
    """


@edge_function.command()
@click.argument("result_file", metavar="RESULT.json")  # "-" reads standard input
@_EVENT
@_RUNTIME
@click.option("--input", "input_file", metavar="EVENT.json",
              help="The event the function received; read-only headers and fields are then compared.")
@_JSON
@click.pass_context
def validate(ctx: click.Context, result_file: str, event_name: str, runtime_name: str,
             input_file: str | None, as_json: bool) -> None:
    """Validate RESULT.json (or - for stdin), the object a function returned, against CloudFront's rules.

    \b
    Example:
        origin-doctor edge-function validate result.json --event viewer-request
        origin-doctor edge-function validate out.json --event viewer-response --runtime cloudfront-functions
    """
    event, runtime = EventType(event_name), Runtime(runtime_name)
    check_pairing(event, runtime)
    result = read_json(result_file)
    received = _received_event(input_file, event, runtime) if input_file else None
    validation = validate_result(result, event, runtime, received, subject=result_file)
    report = EdgeReport(event, runtime, result_file, validation.findings, validation.notes)
    _emit(ctx, report, as_json)


@edge_function.command()
@click.argument("handler", metavar="FILE.py:FUNCTION")
@_EVENT
@click.option("--sample", "sample_file", metavar="EVENT.json",
              help="The event to call the handler with (default: the built-in sample for --event).")
@click.option("--timeout", type=click.FloatRange(min=0.01), metavar="SECONDS",
              help="Time limit (default: the event's Lambda@Edge limit, 5 s viewer / 30 s origin).")
@_JSON
@click.pass_context
def run(ctx: click.Context, handler: str, event_name: str, sample_file: str | None,
        timeout: float | None, as_json: bool) -> None:
    """Run a Python Lambda@Edge HANDLER on a sample event in a separate process, then validate its result.

    An exception, import failure or timeout is an execution error: CloudFront answers 503.

    \b
    Example:
        origin-doctor edge-function run handler.py:handler --event origin-request --sample request.json
    """
    event, runtime = EventType(event_name), Runtime.LAMBDA_EDGE
    spec = HandlerSpec.parse(handler)
    received = _received_event(sample_file, event, runtime) if sample_file else sample_event(event, runtime)
    limit = timeout if timeout is not None else TIMEOUT_SECONDS[event]
    outcome = run_handler(spec, received, limit)
    execution: dict[str, Any] = {
        "handler": str(spec), "status": outcome.status, "elapsed_ms": round(outcome.elapsed_s * 1000, 1),
        "timeout_s": limit, "log": outcome.log,
    }
    findings = execution_findings(outcome, event, str(spec), limit)
    notes: tuple[str, ...] = ()
    if outcome.status == "returned":
        execution["result"] = outcome.result
        validation = validate_result(outcome.result, event, runtime, received, subject=str(spec))
        findings, notes = list(validation.findings), validation.notes
    _emit(ctx, EdgeReport(event, runtime, str(spec), tuple(findings), notes, execution), as_json)


@edge_function.command()
@_EVENT
@_RUNTIME
def sample(event_name: str, runtime_name: str) -> None:
    """Print a realistic sample event for the event type and runtime, to start tests from.

    \b
    Example:
        origin-doctor edge-function sample --event origin-request > event.json
    """
    event, runtime = EventType(event_name), Runtime(runtime_name)
    check_pairing(event, runtime)
    click.echo(json.dumps(sample_event(event, runtime), indent=2))


def read_json(name: str) -> Any:
    """Parse a JSON file; every failure is one line naming the file (and the position)."""
    text = read_text(name)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"{name}: invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise InputError(f"{name}: invalid JSON: nested too deeply") from None


def _received_event(name: str, event: EventType, runtime: Runtime) -> Any:
    received = read_json(name)
    declared = event_type_of(received, runtime)
    if declared is not None and declared != event.value:
        raise UsageError(f"{name} is a {declared} event, but --event is {event}")
    request, _ = event_parts(received, runtime)
    if request is None:
        shape = '{"Records": [{"cf": {"request": ...}}]}' if runtime is Runtime.LAMBDA_EDGE else '{"request": ...}'
        raise InputError(f"{name}: not a {runtime} event (expected {shape})")
    return received


def _emit(ctx: click.Context, report: EdgeReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.to_dict(), indent=2, default=str))
    else:
        Console(file=sys.stdout, highlight=False, soft_wrap=True).print(render(report))  # sys.stdout at call time: CliRunner
    ctx.exit(0 if report.outcome == "ok" else 1)
