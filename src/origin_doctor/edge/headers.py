"""Header maps returned by edge functions: shape (per runtime), disallowed and read-only names.

Read-only headers can only be judged against what the function received; without that event the
check is reported as a note, except in generated responses, where every header is new.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from origin_doctor.edge import rules
from origin_doctor.edge.findings import Collector, at, json_type
from origin_doctor.edge.rules import EventType, Runtime

HeaderValues = dict[str, list[str]]


@dataclass(frozen=True, slots=True)
class HeaderContext:
    event: EventType
    runtime: Runtime
    generated: bool  # a response generated in a request event: every header is added by the function
    original: HeaderValues | None  # the same object's headers in the event, when known


def check_headers(headers: object, path: str, ctx: HeaderContext, out: Collector) -> HeaderValues:
    """Check one headers map; return the values it carries (name -> values) for later rules."""
    if not isinstance(headers, Mapping):
        shape = rules.LE_HEADER_SHAPE if ctx.runtime is Runtime.LAMBDA_EDGE else rules.CFF_HEADER_SHAPE
        out.add("function.header_shape", shape, path,
                f"headers must be an object keyed by header name, not {json_type(headers)}")
        return {}
    values: HeaderValues = {}
    unchecked: list[str] = []
    for name, entry in headers.items():
        name_path = at(path, name)
        if ctx.runtime is Runtime.LAMBDA_EDGE:
            found = lambda_edge_values(name, entry, name_path, out)
        else:
            found = _cloudfront_function_values(name, entry, name_path, out)
        if found is None:
            continue
        lowered = name.lower()
        values[lowered] = found
        if rules.is_disallowed(lowered):
            out.add("function.header_disallowed", rules.DISALLOWED, name_path,
                    f"'{name}' is a disallowed header; functions cannot add it", header=lowered)
            continue
        if ctx.runtime is Runtime.CLOUDFRONT_FUNCTIONS and lowered in ("cookie", "set-cookie"):
            out.add("function.header_misplaced", rules.CFF_COOKIE_IN_HEADERS, name_path,
                    f"'{name}' belongs in `cookies`, not in `headers`", header=lowered)
        if lowered in rules.READ_ONLY_HEADERS[ctx.event] and not _judge_read_only(
            lowered, found, name_path, ctx, rules.READ_ONLY, out
        ):
            unchecked.append(lowered)
        if (lowered == rules.VIEWER_COUNTRY_HEADER and ctx.event is EventType.VIEWER_REQUEST
                and ctx.runtime is Runtime.LAMBDA_EDGE
                and not _judge_read_only(lowered, found, name_path, ctx, rules.VIEWER_COUNTRY, out)):
            unchecked.append(lowered)
    if unchecked:
        out.note(
            f"read-only header(s) {', '.join(sorted(set(unchecked)))} present but not compared with the "
            "event the function received; pass --input EVENT.json to check that they are unchanged"
        )
    return values


def header_values(headers: object, runtime: Runtime) -> HeaderValues | None:
    """The name -> values view of a headers map from an event (no judging); None when unreadable."""
    if not isinstance(headers, Mapping):
        return None
    scratch = Collector()
    values: HeaderValues = {}
    for name, entry in headers.items():
        if runtime is Runtime.LAMBDA_EDGE:
            found = lambda_edge_values(name, entry, "$", scratch)
        else:
            found = _cloudfront_function_values(name, entry, "$", scratch)
        if found is not None:
            values[str(name).lower()] = found
    return values


def _judge_read_only(
    name: str, found: list[str], path: str, ctx: HeaderContext, rule: rules.Rule, out: Collector
) -> bool:
    """Report an added or edited read-only header; False when there is nothing to compare with."""
    if ctx.generated:
        out.add("function.header_read_only", rules.READ_ONLY_IN_GENERATED if rule is rules.READ_ONLY else rule,
                path, f"'{name}' is read-only in {ctx.event} events; the generated response adds it",
                header=name)
        return True
    if ctx.original is None:
        return False
    before = ctx.original.get(name)
    if before is None:
        out.add("function.header_read_only", rule, path,
                f"'{name}' is read-only in {ctx.event} events; the function adds it", header=name, value=found)
    elif before != found:
        out.add("function.header_read_only", rule, path,
                f"'{name}' is read-only in {ctx.event} events; the function changes it",
                header=name, before=before, after=found)
    return True


def lambda_edge_values(name: Any, entry: object, path: str, out: Collector) -> list[str] | None:
    rule = rules.LE_HEADER_SHAPE
    if name != name.lower():
        out.add("function.header_shape", rule, path,
                f"header map key '{name}' must be lowercase ('{name.lower()}'); the spelling goes in `key`")
        return None
    if not isinstance(entry, list) or not entry:
        out.add("function.header_shape", rule, path,
                f"'{name}' must map to a non-empty list of {{key, value}} objects, not {json_type(entry)}",
                fix=f"headers['{name}'] = [{{'key': '{_canonical(name)}', 'value': '...'}}]")
        return None
    found: list[str] = []
    for index, item in enumerate(entry):
        item_path = at(path, index)
        if not isinstance(item, Mapping) or not isinstance(item.get("value"), str):
            out.add("function.header_shape", rule, item_path,
                    f"each '{name}' entry must be an object with a string `value`, not {_describe(item)}")
            return None
        key = item.get("key")
        if key is not None and not isinstance(key, str):
            out.add("function.header_shape", rule, at(item_path, "key"),
                    f"`key` must be a string, not {json_type(key)}")
            return None
        if isinstance(key, str) and key.lower() != name:
            out.add("function.header_shape", rules.LE_HEADER_KEY_MATCH, at(item_path, "key"),
                    f"`key` '{key}' does not name the header '{name}' it is filed under",
                    fix=f"Use key '{_canonical(name)}', or file the value under headers['{key.lower()}'].")
        found.append(item["value"])
    return found


def _cloudfront_function_values(name: Any, entry: object, path: str, out: Collector) -> list[str] | None:
    rule = rules.CFF_HEADER_SHAPE
    if name != name.lower():
        out.add("function.header_shape", rule, path,
                f"header name '{name}' must be lowercase ('{name.lower()}'); CloudFront capitalises it on output")
        return None
    found = single_values(entry, path, rule, out, f"'{name}'")
    return found


def single_values(entry: object, path: str, rule: rules.Rule, out: Collector, what: str) -> list[str] | None:
    """CloudFront Functions {value, multiValue?} objects (headers, query strings, cookies)."""
    if not isinstance(entry, Mapping) or not isinstance(entry.get("value"), str):
        out.add("function.header_shape", rule, path,
                f"{what} must be an object with a string `value`, not {_describe(entry)}",
                fix="Use {value: '...'} (and multiValue: [{value: '...'}, ...] for repeated names).")
        return None
    multi = entry.get("multiValue")
    if multi is None:
        return [entry["value"]]
    if not isinstance(multi, list) or not all(
        isinstance(item, Mapping) and isinstance(item.get("value"), str) for item in multi
    ):
        out.add("function.header_shape", rule, at(path, "multiValue"),
                f"{what} `multiValue` must be a list of {{value: string}} objects")
        return None
    return [item["value"] for item in multi] or [entry["value"]]


def _canonical(name: str) -> str:
    return "-".join(part.capitalize() for part in name.split("-"))


def _describe(value: object) -> str:
    if isinstance(value, Mapping):
        return "an object without a string `value`"
    return json_type(value)
