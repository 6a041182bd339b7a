"""Terminal renderables (rich). Nothing here prints: callers hand the renderables to a Console."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from origin_doctor.analyze.ws import upgrade_headline
from origin_doctor.model import Finding, Severity
from origin_doctor.result import AddressResult, TargetResult
from origin_doctor.verdict import headline

_STYLE = {Severity.FAIL: "bold red", Severity.WARN: "yellow", Severity.INFO: "cyan"}
_MARK = {Severity.FAIL: "FAIL", Severity.WARN: "WARN", Severity.INFO: "info"}
_STAGES = ("tcp", "tls", "cert", "http", "ws")


def verdict_line(result: TargetResult) -> Text:
    target = result.target
    via = f" (origin {target.origin})" if target.origin != target.name else ""
    line = Text()
    line.append(f"{target.name}:{target.port}{via}  ", style="bold")
    style = "bold green" if result.outcome == "ok" else "bold red"
    path = target.websocket_path
    line.append(headline(result.verdict) if path is None else upgrade_headline(result.verdict, path), style=style)
    return line


def _stage_cell(address: AddressResult, stage: str) -> Text:
    worst = max((f.severity for f in address.findings if str(f.stage) == stage), default=None)
    reached = {
        "tcp": True,
        "tls": address.tcp_error is None,
        "cert": bool(address.tls and address.tls.get("chain")),
        "http": address.http is not None,
        "ws": address.ws is not None,
    }[stage]
    if worst is not None:
        return Text(_MARK[worst], style=_STYLE[worst])
    if not reached:
        return Text("-", style="dim")
    return Text("ok", style="green")


def stage_table(result: TargetResult) -> Table:
    table = Table(box=None, pad_edge=False, show_edge=False, header_style="bold")
    table.add_column("address")
    for stage in _STAGES:
        if stage == "ws" and result.target.websocket_path is None:
            continue
        table.add_column(stage)
    table.add_column("detail", overflow="fold")
    for address in result.addresses:
        cells: list[RenderableType] = [address.address]
        for stage in _STAGES:
            if stage == "ws" and result.target.websocket_path is None:
                continue
            cells.append(_stage_cell(address, stage))
        cells.append(_detail(address))
        table.add_row(*cells)
    return table


def _detail(address: AddressResult) -> str:
    parts: list[str] = []
    tls = address.tls or {}
    if tls.get("version"):
        parts.append(f"{tls['version']} {tls.get('cipher') or ''}".strip())
    if tls.get("chain") is not None:
        parts.append(f"{len(tls['chain'])} cert(s) sent")
    http = address.http or {}
    if http.get("status"):
        parts.append(f"HTTP {http['status']}")
    ws = address.ws or {}
    if ws.get("status"):
        reply = f", {ws['reply']} in {ws['reply_ms']:g} ms" if ws.get("reply_ms") is not None else ""
        parts.append(f"WS {ws['status']}{reply}")
    return ", ".join(parts)


def finding_block(f: Finding) -> Text:
    text = Text()
    text.append(f"  {_MARK[f.severity]:<4} ", style=_STYLE[f.severity])
    text.append(f.code, style="bold")
    text.append(f"  {f.subject}\n", style="dim")
    text.append(f"       {f.summary}\n")
    if f.fix and f.severity >= Severity.WARN:
        text.append("       fix: ", style="bold green")
        text.append(f"{f.fix}\n")
    return text


def chain_view(address: AddressResult) -> Text:
    text = Text()
    chain = (address.tls or {}).get("chain") or []
    text.append(f"  chain as sent by {address.address} ({len(chain)} certificate(s)):\n", style="bold")
    for position, cert in enumerate(chain):
        text.append(f"   {position}: {cert['subject']}\n")
        text.append(f"      issuer {cert['issuer']}\n", style="dim")
        text.append(f"      valid {cert['not_before']} .. {cert['not_after']}  {cert['key']}  "
                    f"names {', '.join(cert['names']) or '-'}\n", style="dim")
    return text


def render_result(result: TargetResult, verbose: bool = False) -> Group:
    parts: list[RenderableType] = [verdict_line(result)]
    if result.addresses:
        parts.append(stage_table(result))
    shown = sorted(result.findings, key=lambda f: -f.severity)
    for f in shown:
        if f.severity is Severity.INFO and not verbose:
            continue
        parts.append(finding_block(f))
    if verbose:
        for address in result.addresses:
            if address.tls and address.tls.get("chain") is not None:
                parts.append(chain_view(address))
    parts.append(Text(""))
    return Group(*parts)
