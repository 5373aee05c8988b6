"""Charts drawn on the server as inline SVG: readable without JavaScript, by screen readers too.

Each chart is a small function returning ``Markup`` (safe to put in a template as is): an
``<svg role="img">`` with a ``<title>`` and a ``<desc>`` that says in words what the chart
shows, axis labels, and a ``<title>`` on each mark so hovering one names its value. Every
text is escaped. Colours come from CSS custom properties where the stylesheet defines them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from html import escape

from markupsafe import Markup

__all__ = ["bar_chart", "heatmap", "line_chart", "sparkline"]

_ids = itertools.count(1)


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str, desc: str, css: str) -> tuple[str, str]:
    key = next(_ids)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'aria-labelledby="chart-{key}-title chart-{key}-desc">'
        f'<title id="chart-{key}-title">{_e(title)}</title>'
        f'<desc id="chart-{key}-desc">{_e(desc)}</desc>'
    )
    return head, "</svg>"


def line_chart(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    y_label: str,
    x_label: str,
    y_range: tuple[float, float] = (0.0, 1.0),
    threshold: float | None = None,
    threshold_label: str = "",
    fmt: str = "{:.3f}",
    width: int = 640,
    height: int = 240,
) -> Markup:
    """A line over labelled x positions (weeks); None values leave a gap, stated in the desc."""
    left, right, top, bottom = 66, 16, 14, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = y_range
    span = (high - low) or 1.0

    def x(i: int) -> float:
        return left + (plot_w * (i + 0.5) / max(len(points), 1))

    def y(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, low), high) - low) / span)

    shown = [(label, v) for label, v in points if v is not None]
    missing = [label for label, v in points if v is None]
    desc = "; ".join(f"{label}: {fmt.format(v)}" for label, v in shown) or "no values"
    if missing:
        desc += f". Not enough data for {', '.join(missing)}."
    head, tail = _open(width, height, title, f"{y_label} by {x_label}. {desc}", "line-chart")
    parts = [head]
    for k in range(5):
        value = low + span * k / 4
        parts.append(
            f'<line class="grid" x1="{left}" x2="{width - right}" y1="{_num(y(value))}" '
            f'y2="{_num(y(value))}"/>'
            f'<text class="tick" x="{left - 6}" y="{_num(y(value) + 4)}" text-anchor="end">'
            f"{_e(fmt.format(value) if span < 10 else _num(value))}</text>"
        )
    step = max(1, len(points) // 8)
    for i, (label, _) in enumerate(points):
        if i % step == 0 or i == len(points) - 1:
            parts.append(
                f'<text class="tick" x="{_num(x(i))}" y="{height - bottom + 16}" '
                f'text-anchor="middle">{_e(label.split("-")[-1])}</text>'
            )
    if threshold is not None:
        parts.append(
            f'<line class="threshold" x1="{left}" x2="{width - right}" '
            f'y1="{_num(y(threshold))}" y2="{_num(y(threshold))}"/>'
            f'<text class="threshold-label" x="{width - right}" y="{_num(y(threshold) - 5)}" '
            f'text-anchor="end">{_e(threshold_label or fmt.format(threshold))}</text>'
        )
    runs: list[list[tuple[int, float]]] = [[]]
    for i, (_, v) in enumerate(points):
        if v is None:
            runs.append([])
        else:
            runs[-1].append((i, v))
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{_num(x(i))},{_num(y(v))}" for i, v in run)
            parts.append(f'<polyline class="series" points="{path}"/>')
    for i, (label, v) in enumerate(points):
        if v is not None:
            parts.append(
                f'<circle class="point" cx="{_num(x(i))}" cy="{_num(y(v))}" r="3.5">'
                f"<title>{_e(label)}: {_e(fmt.format(v))}</title></circle>"
            )
        else:
            parts.append(
                f'<text class="gap" x="{_num(x(i))}" y="{top + plot_h - 4}" '
                f'text-anchor="middle"><title>{_e(label)}: not enough data</title>·</text>'
            )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.0f}" y="{height - 6}" '
        f'text-anchor="middle">{_e(x_label)}</text>'
        f'<text class="axis-label" transform="translate(12 {top + plot_h / 2:.0f}) rotate(-90)" '
        f'text-anchor="middle">{_e(y_label)}</text>'
    )
    parts.append(tail)
    return Markup("".join(parts))


def sparkline(
    points: Sequence[tuple[str, float | None]],
    *,
    title: str,
    fmt: str = "{:.1%}",
    width: int = 160,
    height: int = 36,
) -> Markup:
    """A small line without axes, for beside a figure; its desc lists every value."""
    shown = [(label, v) for label, v in points if v is not None]
    desc = "; ".join(f"{label}: {fmt.format(v)}" for label, v in shown) or "no values"
    head, tail = _open(width, height, title, desc, "sparkline")
    parts = [head]
    if shown:
        values = [v for _, v in shown]
        low, high = min(values), max(values)
        span = (high - low) or 1.0
        pad = 4

        def x(i: int) -> float:
            return pad + (width - 2 * pad) * (i / max(len(points) - 1, 1))

        def y(v: float) -> float:
            return pad + (height - 2 * pad) * (1 - (v - low) / span)

        coords = [(x(i), y(v)) for i, (_, v) in enumerate(points) if v is not None]
        parts.append(
            '<polyline class="series" points="'
            + " ".join(f"{_num(a)},{_num(b)}" for a, b in coords)
            + '"/>'
        )
        last_x, last_y = coords[-1]
        parts.append(
            f'<circle class="point" cx="{_num(last_x)}" cy="{_num(last_y)}" r="2.5">'
            f"<title>{_e(shown[-1][0])}: {_e(fmt.format(shown[-1][1]))}</title></circle>"
        )
    parts.append(tail)
    return Markup("".join(parts))


def heatmap(
    rows: Sequence[str],
    columns: Sequence[str],
    cells: dict[tuple[int, int], tuple[float | None, str]],
    *,
    title: str,
    row_label: str,
    column_label: str,
    high: float,
    fmt: str = "{:.3f}",
    cell: int = 34,
) -> Markup:
    """A grid of rows × columns; ``cells[(r, c)]`` is (value or None, tooltip). Shade grows
    with the value up to ``high`` (values at or above it are marked as such); empty cells are
    left blank, cells with too little data hatched."""
    left, top = 140, 34
    width = left + cell * max(len(columns), 1) + 16
    height = top + cell * max(len(rows), 1) + 30
    flagged = [
        f"{rows[r]} in {columns[c]} ({fmt.format(v)})"
        for (r, c), (v, _) in sorted(cells.items())
        if v is not None and v >= high
    ]
    desc = f"{len(rows)} {row_label}s by {len(columns)} {column_label}s. " + (
        f"At or above {fmt.format(high)}: {'; '.join(flagged)}."
        if flagged
        else f"No cell at or above {fmt.format(high)}."
    )
    head, tail = _open(width, height, title, desc, "heatmap")
    hatch = f"hatch-{next(_ids)}"
    parts = [
        head,
        f'<defs><pattern id="{hatch}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" class="hatch"/>'
        "</pattern></defs>",
    ]
    step = max(1, len(columns) // 12)
    for c, name in enumerate(columns):
        if c % step == 0:
            parts.append(
                f'<text class="tick" x="{left + cell * c + cell / 2:.0f}" y="{top - 8}" '
                f'text-anchor="middle">{_e(name.split("-")[-1])}</text>'
            )
    for r, name in enumerate(rows):
        parts.append(
            f'<text class="tick" x="{left - 8}" y="{top + cell * r + cell / 2 + 4:.0f}" '
            f'text-anchor="end">{_e(name[:20])}</text>'
        )
    for (r, c), (value, tip) in sorted(cells.items()):
        x, y = left + cell * c, top + cell * r
        if value is None:
            parts.append(
                f'<rect class="cell thin" x="{x + 1}" y="{y + 1}" width="{cell - 2}" '
                f'height="{cell - 2}" style="fill:url(#{hatch})"><title>{_e(tip)}</title></rect>'
            )
            continue
        share = min(value / high, 1.0) if high else 0.0
        css = "cell hot" if value >= high else "cell"
        parts.append(
            f'<rect class="{css}" x="{x + 1}" y="{y + 1}" width="{cell - 2}" '
            f'height="{cell - 2}" style="fill-opacity:{0.08 + 0.92 * share:.2f}">'
            f"<title>{_e(tip)}</title></rect>"
        )
    parts.append(
        f'<text class="axis-label" x="{left + cell * len(columns) / 2:.0f}" '
        f'y="{height - 8}" text-anchor="middle">{_e(column_label)}</text>'
    )
    parts.append(tail)
    return Markup("".join(parts))


def bar_chart(
    bars: Sequence[tuple[str, float, str]],
    *,
    title: str,
    value_label: str,
    maximum: float = 1.0,
    intervals: Sequence[tuple[float, float] | None] | None = None,
    fmt: str = "{:.0%}",
    width: int = 480,
    bar: int = 22,
) -> Markup:
    """Horizontal bars ``(label, value, tooltip)``, optionally with an interval whisker each."""
    left, right, top = 140, 60, 8
    height = top + (bar + 8) * max(len(bars), 1) + 28
    plot_w = width - left - right
    desc = "; ".join(f"{label}: {fmt.format(v)}" for label, v, _ in bars) or "no values"
    head, tail = _open(width, height, title, f"{value_label}. {desc}", "bar-chart")
    parts = [head]
    for k, (label, value, tip) in enumerate(bars):
        y = top + k * (bar + 8)
        length = plot_w * min(max(value / maximum, 0.0), 1.0) if maximum else 0.0
        parts.append(
            f'<text class="tick" x="{left - 8}" y="{y + bar / 2 + 4:.0f}" text-anchor="end">'
            f"{_e(label[:20])}</text>"
            f'<rect class="bar" x="{left}" y="{y}" width="{length:.1f}" height="{bar}">'
            f"<title>{_e(tip)}</title></rect>"
            f'<text class="value" x="{width - 6}" y="{y + bar / 2 + 4:.0f}" text-anchor="end">'
            f"{_e(fmt.format(value))}</text>"
        )
        interval = intervals[k] if intervals else None
        if interval is not None:
            a = left + plot_w * interval[0] / maximum
            b = left + plot_w * interval[1] / maximum
            mid = y + bar / 2
            parts.append(
                f'<path class="whisker" d="M{a:.1f} {mid - 5:.1f}v10M{a:.1f} {mid:.1f}H{b:.1f}'
                f'M{b:.1f} {mid - 5:.1f}v10"/>'
            )
    parts.append(
        f'<text class="axis-label" x="{left + plot_w / 2:.0f}" y="{height - 6}" '
        f'text-anchor="middle">{_e(value_label)}</text>'
    )
    parts.append(tail)
    return Markup("".join(parts))
