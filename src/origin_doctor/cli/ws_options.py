"""WebSocket options shared by commands that probe origins (--ws-protocol, --ws-header, --ws-send),
and their validation into a Target."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from origin_doctor.errors import UsageError
from origin_doctor.model import Target
from origin_doctor.probe.ws import RESERVED_HEADERS

F = TypeVar("F", bound=Callable[..., Any])
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")


def ws_options(func: F) -> F:
    decorators = [
        click.option("--ws-protocol", "ws_protocol", multiple=True, metavar="NAME",
                     help="Offer this subprotocol (Sec-WebSocket-Protocol) in the upgrade. Repeatable."),
        click.option("--ws-header", "ws_header", multiple=True, metavar="'NAME: VALUE'",
                     help="Send this header with the upgrade, as the distribution forwards it "
                          "(e.g. 'Sec-WebSocket-Extensions: permessage-deflate', 'Origin: https://x'). Repeatable."),
        click.option("--ws-send", "ws_send", default=None, metavar="TEXT",
                     help="After the upgrade, send this text message and wait for any message back "
                          "(default: one ping, answered by a pong)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def parse_ws_header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not _TOKEN.match(name):
        raise UsageError(f"--ws-header {text!r}: expected 'Name: value'")
    if any(c in value for c in "\r\n\0"):
        raise UsageError(f"--ws-header {text!r}: the value may not contain line breaks")
    if name.lower() in RESERVED_HEADERS:
        raise UsageError(f"--ws-header {text!r}: {name} is set by the upgrade itself "
                         "(use --host-header for Host, --ws-protocol for subprotocols)")
    return name, value


def apply_ws_options(target: Target, ws_protocol: tuple[str, ...] = (), ws_header: tuple[str, ...] = (),
                     ws_send: str | None = None) -> Target:
    """The target with the WebSocket settings; they need a WebSocket path to mean anything."""
    path = target.websocket_path
    if path is not None and (not path.startswith("/") or any(c.isspace() for c in path)):
        raise UsageError(f"--websocket {path!r}: the path must start with '/' and contain no spaces")
    if not (ws_protocol or ws_header or ws_send is not None):
        return target
    if path is None:
        raise UsageError("--ws-protocol, --ws-header and --ws-send need --websocket PATH or a wss:// target")
    for protocol in ws_protocol:
        if not _TOKEN.match(protocol):
            raise UsageError(f"--ws-protocol {protocol!r}: a subprotocol is a single token (no spaces or commas)")
    return dataclasses.replace(
        target,
        ws_protocols=tuple(ws_protocol),
        ws_headers=tuple(parse_ws_header(h) for h in ws_header),
        ws_send=ws_send,
    )
