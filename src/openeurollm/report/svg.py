"""Small inline-SVG charts, so the report needs no plotting library and no external assets."""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

PALETTE = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#4d7c0f", "#be185d")


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    a = abs(v)
    if a >= 1e9:
        return f"{v / 1e9:.3g}G"
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e3:
        return f"{v / 1e3:.3g}k"
    if a >= 0.01:
        return f"{v:.3g}"
    return f"{v:.2e}"


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    step = 10 ** math.floor(math.log10((hi - lo) / n))
    for mult in (1, 2, 5, 10):
        if (hi - lo) / (step * mult) <= n:
            step *= mult
            break
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        if t >= lo - step * 1e-9:
            ticks.append(round(t, 12))
        t += step
    return ticks


def line_chart(
    series: dict[str, Sequence[tuple[float, float]]],
    title: str,
    x_label: str,
    y_label: str,
    chart_id: str,
    width: int = 560,
    height: int = 260,
) -> str:
    """Lines over a shared x axis; each series a list of (x, y)."""
    points = [p for s in series.values() for p in s if math.isfinite(p[1])]
    if not points:
        return f'<p class="empty" id="{chart_id}">{html.escape(title)}: no data recorded</p>'
    left, right, top, bottom = 56, 12, 28, 40
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    x0, x1 = min(xs), max(xs) if max(xs) > min(xs) else min(xs) + 1
    y0, y1 = min(ys), max(ys) if max(ys) > min(ys) else min(ys) + 1
    pad = (y1 - y0) * 0.05
    y0, y1 = y0 - pad, y1 + pad
    pw, ph = width - left - right, height - top - bottom

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def sy(y: float) -> float:
        return top + (1 - (y - y0) / (y1 - y0)) * ph

    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="16" class="title">{html.escape(title)}</text>',
    ]
    for t in _nice_ticks(y0, y1):
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{sy(t):.1f}" y2="{sy(t):.1f}" class="grid"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{sy(t) + 4:.1f}" class="tick" text-anchor="end">{_fmt(t)}</text>'
        )
    for t in _nice_ticks(x0, x1):
        parts.append(
            f'<text x="{sx(t):.1f}" y="{height - bottom + 16}" class="tick" text-anchor="middle">{_fmt(t)}</text>'
        )
    parts.append(
        f'<text x="{left + pw / 2}" y="{height - 6}" class="label" text-anchor="middle">{html.escape(x_label)}</text>'
    )
    parts.append(
        f'<text transform="translate(14 {top + ph / 2}) rotate(-90)" class="label" text-anchor="middle">{html.escape(y_label)}</text>'
    )
    for i, (name, pts) in enumerate(series.items()):
        good = [(x, y) for x, y in pts if math.isfinite(y)]
        if not good:
            continue
        color = PALETTE[i % len(PALETTE)]
        path = " ".join(
            f"{'M' if j == 0 else 'L'}{sx(x):.1f},{sy(y):.1f}" for j, (x, y) in enumerate(good)
        )
        parts.append(
            f'<path d="{path}" fill="none" stroke="{color}" stroke-width="1.8"><title>{html.escape(name)}</title></path>'
        )
        if len(series) > 1:
            ly = top + 12 + 14 * i
            parts.append(
                f'<rect x="{width - right - 110}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
            )
            parts.append(
                f'<text x="{width - right - 96}" y="{ly}" class="tick">{html.escape(name)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def bar_chart(
    labels: Sequence[str],
    series: dict[str, Sequence[float]],
    title: str,
    chart_id: str,
    value_label: str = "",
    width: int = 560,
) -> str:
    """Horizontal grouped bars: one row per label, one bar per series."""
    if not labels or not series:
        return f'<p class="empty" id="{chart_id}">{html.escape(title)}: no data recorded</p>'
    n = len(series)
    bar_h, gap = 9, 5
    row_h = n * bar_h + gap
    left, right, top = 44, 70, 28
    height = top + row_h * len(labels) + 24
    vmax = max((v for vals in series.values() for v in vals), default=1.0) or 1.0
    pw = width - left - right
    parts = [
        f'<svg class="chart" id="{chart_id}" role="img" aria-label="{html.escape(title)}" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">',
        f'<text x="{left}" y="16" class="title">{html.escape(title)}</text>',
    ]
    for r, label in enumerate(labels):
        y = top + r * row_h
        parts.append(
            f'<text x="{left - 6}" y="{y + row_h / 2 + 2}" class="tick" text-anchor="end">{html.escape(label)}</text>'
        )
        for i, (name, vals) in enumerate(series.items()):
            v = vals[r]
            w = max(0.0, v / vmax * pw)
            color = PALETTE[i % len(PALETTE)]
            by = y + i * bar_h
            parts.append(
                f'<rect x="{left}" y="{by}" width="{w:.1f}" height="{bar_h - 1}" fill="{color}">'
                f"<title>{html.escape(label)} {html.escape(name)}: {_fmt(v)}</title></rect>"
            )
            parts.append(
                f'<text x="{left + w + 4:.1f}" y="{by + bar_h - 2}" class="value">{_fmt(v)}</text>'
            )
    ly = height - 8
    for i, name in enumerate(series):
        x = left + i * 150
        parts.append(
            f'<rect x="{x}" y="{ly - 9}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        parts.append(
            f'<text x="{x + 14}" y="{ly}" class="tick">{html.escape(name)}{" (" + html.escape(value_label) + ")" if value_label else ""}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
