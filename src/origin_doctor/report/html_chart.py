"""The logs report's chart: 5xx per time bucket, stacked by detailed result type, as SVG geometry.

Only numbers and colours are computed here; the template writes the SVG elements (escaped), so
log content never becomes markup.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

WIDTH, HEIGHT = 900, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 36
MAX_BARS = 300  # more buckets than this are merged, so bars stay at least ~3 px wide
PALETTE = ("#d1495b", "#edae49", "#00798c", "#30638e", "#8e6c8a", "#6a994e", "#bc4749", "#577590",
           "#f28482", "#84a59d")
OTHER_COLOUR = "#9a9a9a"


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    label: str  # tooltip text: bucket start, type, count


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    bars: tuple[Bar, ...]
    legend: tuple[tuple[str, str, int], ...]  # (type, colour, total)
    y_max: int
    first: str
    last: str
    plot_left: int
    plot_bottom: int
    plot_right: int
    plot_top: int


def _merged(buckets: list[dict[str, Any]], factor: int) -> list[dict[str, Any]]:
    merged: list[dict[str, Any]] = []
    for start in range(0, len(buckets), factor):
        group = buckets[start:start + factor]
        counts: dict[str, int] = {}
        for bucket in group:
            for kind, count in (bucket.get("by_detailed_result_type") or {}).items():
                counts[kind] = counts.get(kind, 0) + int(count or 0)
        merged.append({"start": group[0].get("start"), "by_detailed_result_type": counts})
    return merged


def failures_chart(series: dict[str, Any] | None) -> Chart | None:
    """None when the document has no failures over time to draw."""
    if not isinstance(series, dict):
        return None
    buckets = [b for b in series.get("buckets") or [] if isinstance(b, dict)]
    if not buckets:
        return None
    factor = -(-len(buckets) // MAX_BARS)
    if factor > 1:
        buckets = _merged(buckets, factor)
    types = [str(t) for t in series.get("types") or []]
    totals = {t: 0 for t in types}
    for bucket in buckets:
        for kind, count in (bucket.get("by_detailed_result_type") or {}).items():
            totals[str(kind)] = totals.get(str(kind), 0) + int(count or 0)
    ordered = sorted(totals, key=lambda t: -totals[t])
    colours = {t: PALETTE[i] if i < len(PALETTE) else OTHER_COLOUR for i, t in enumerate(ordered)}
    stack_heights = [sum(int(c or 0) for c in (b.get("by_detailed_result_type") or {}).values()) for b in buckets]
    y_max = max(max(stack_heights, default=0), 1)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / len(buckets)
    bars: list[Bar] = []
    for index, bucket in enumerate(buckets):
        base = float(HEIGHT - BOTTOM)
        counts = bucket.get("by_detailed_result_type") or {}
        for kind in ordered:
            count = int(counts.get(kind, 0) or 0)
            if not count:
                continue
            height = plot_h * count / y_max
            base -= height
            bars.append(Bar(round(LEFT + index * step, 2), round(base, 2), round(max(step * 0.85, 0.5), 2),
                            round(height, 2), colours[kind], f"{bucket.get('start')} {kind}: {count}"))
    return Chart(
        width=WIDTH, height=HEIGHT, bars=tuple(bars),
        legend=tuple((t, colours[t], totals[t]) for t in ordered if totals[t]),
        y_max=y_max, first=str(buckets[0].get("start") or ""), last=str(buckets[-1].get("start") or ""),
        plot_left=LEFT, plot_bottom=HEIGHT - BOTTOM, plot_right=WIDTH - RIGHT, plot_top=TOP,
    )
