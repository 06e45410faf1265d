"""Charts drawn on the server as inline SVG: no script, no library, nothing fetched from the internet.

Colours come from kiosk.domain.levels, the one place that defines the five levels. Every chart also says its numbers
in words (text in the bars, a <title> for screen readers), so it still reads when printed in black and white.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from kiosk.domain.levels import LEVELS, level

# Dark text on a light fill (the yellow and light green faces), white on a dark one: both must stay readable. A
# fill is light when its relative luminance (WCAG) is above this.
_LIGHT_LUMINANCE = 0.3
# Seen on white paper in black and white, neighbouring segments need more than a hue to tell them apart.
_PATTERNS = {1: "cross", 2: "diagonal", 3: "dots"}
NO_DATA_FILL = "#e4e4e4"
GRID = "#c8c8c8"
INK = "#1a1a1a"
LINE = "#0b5394"
TARGET = "#a33b00"   # the target line: dark orange, apart from the index line's blue and readable on white


def percent(share: float | None, digits: int = 1) -> str:
    """A share as Vietnamese writes it: 82,5%; '–' when there is nothing to divide."""
    if share is None:
        return "–"
    return f"{share * 100:.{digits}f}".replace(".", ",") + "%"


def _attr(text: str) -> str:
    return escape(text, quote=True)


def _luminance(colour: str) -> float:
    """The relative luminance (WCAG 2) of a #rrggbb colour: 0 for black, 1 for white."""
    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i:i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def _text_colour(fill: str) -> str:
    return INK if _luminance(fill) > _LIGHT_LUMINANCE else "#ffffff"


def _pattern_defs(prefix: str) -> str:
    """Hatching laid over levels 1–3, so a grey printout still tells them apart."""
    shapes = {
        "cross": '<path d="M0 0L8 8M8 0L0 8" stroke="#ffffff" stroke-width="1.2" stroke-opacity="0.55"/>',
        "diagonal": '<path d="M0 8L8 0" stroke="#ffffff" stroke-width="1.2" stroke-opacity="0.55"/>',
        "dots": '<circle cx="4" cy="4" r="1.3" fill="#ffffff" fill-opacity="0.6"/>',
    }
    return "".join(f'<pattern id="{prefix}-{name}" width="8" height="8" patternUnits="userSpaceOnUse">{shape}'
                   "</pattern>" for name, shape in shapes.items())


def distribution_bar(levels: Sequence[int], *, lang: str = "vi", width: int = 640, height: int = 44,
                     chart_id: str = "dist") -> Markup:
    """One bar split into the five levels (best first, as the faces appear), each share written in its segment.

    `levels[i]` is the count at level i+1, as in reports.Figures.
    """
    if len(levels) != 5:
        raise ValueError("five level counts expected")
    total = sum(levels)
    title = "Phân bố năm mức hài lòng" if lang == "vi" else "The five levels"
    if total == 0:
        empty = "Chưa có lượt đánh giá" if lang == "vi" else "No ratings"
        body = (f'<rect x="0" y="0" width="{width}" height="{height}" fill="{NO_DATA_FILL}"/>'
                f'<text x="{width / 2:.1f}" y="{height / 2 + 5:.1f}" text-anchor="middle" font-size="15" '
                f'fill="{INK}">{_attr(empty)}</text>')
        return _svg(width, height, f"{title}: {empty}", body, "chart-distribution")
    parts = [f"<defs>{_pattern_defs(chart_id)}</defs>"]
    described = []
    x = 0.0
    for lv in LEVELS:  # best first
        count = levels[lv.value - 1]
        share = count / total
        described.append(f"{lv.label(lang)} {count} ({percent(share)})")
        if count == 0:
            continue
        w = width * share
        label = _attr(f"{lv.label(lang)}: {count} ({percent(share)})")
        parts.append(f'<g class="segment level-{lv.value}"><title>{label}</title>'
                     f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" fill="{lv.colour}"/>')
        pattern = _PATTERNS.get(lv.value)
        if pattern:
            parts.append(f'<rect x="{x:.2f}" y="0" width="{w:.2f}" height="{height}" '
                         f'fill="url(#{chart_id}-{pattern})"/>')
        # A thin white seam between segments: they stay apart even without colour.
        parts.append(f'<rect x="{x + w - 1:.2f}" y="0" width="1" height="{height}" fill="#ffffff"/>')
        if w >= 44:
            colour = _text_colour(lv.colour)
            parts.append(f'<text x="{x + w / 2:.2f}" y="{height / 2 + 5:.1f}" text-anchor="middle" '
                         f'font-size="15" font-weight="700" fill="{colour}" stroke="{lv.colour}" '
                         f'stroke-width="3" paint-order="stroke">{percent(share, 0)}</text>')
        parts.append("</g>")
        x += w
    return _svg(width, height, f"{title}: " + "; ".join(described), "".join(parts), "chart-distribution")


@dataclass(frozen=True)
class TrendValue:
    """One point of the trend chart: its axis label, the satisfaction index (None: no ratings), the count."""

    label: str
    index: float | None
    ratings: int


def trend_chart(points: Sequence[TrendValue], *, lang: str = "vi", width: int = 900, height: int = 300,
                target: float | None = None, target_label: str = "") -> Markup:
    """The satisfaction index over time as a line (gaps where there were no ratings), ratings as faint bars, and
    the target (a share) as a dashed line labelled in words."""
    left, right, top, bottom = 52, 12, 14, 46
    plot_w, plot_h = width - left - right, height - top - bottom
    title = "Chỉ số hài lòng theo thời gian" if lang == "vi" else "Satisfaction index over time"
    parts = []
    for tick in (0, 25, 50, 75, 100):
        y = top + plot_h * (1 - tick / 100)
        dashes = "" if tick in (0, 100) else ' stroke-dasharray="4 4"'
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID}" '
                     f'stroke-width="1"{dashes}/>')
        parts.append(f'<text x="{left - 8}" y="{y + 5:.1f}" text-anchor="end" font-size="14" fill="{INK}">'
                     f"{tick}%</text>")
    if not points:
        empty = "Chưa có dữ liệu" if lang == "vi" else "No data"
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" text-anchor="middle" '
                     f'font-size="15" fill="{INK}">{_attr(empty)}</text>')
        return _svg(width, height, f"{title}: {empty}", "".join(parts), "chart-trend")
    step = plot_w / len(points)
    most = max(p.ratings for p in points) or 1
    target_text = ""
    if target is not None:
        y = top + plot_h * (1 - target)
        # The line under the index line; its label (above it, below when near 100%) over everything, haloed.
        label_y = y - 6 if y - 6 > top + 12 else y + 17
        parts.append(f'<g class="target-line" data-target="{target:.4f}"><line x1="{left}" y1="{y:.1f}" '
                     f'x2="{width - right}" y2="{y:.1f}" stroke="{TARGET}" stroke-width="2" stroke-dasharray="9 5"/>'
                     "</g>")
        target_text = (f'<text class="target-label" x="{width - right - 4}" y="{label_y:.1f}" text-anchor="end" '
                       f'font-size="14" font-weight="700" fill="{TARGET}" stroke="#ffffff" stroke-width="4" '
                       f'paint-order="stroke">{_attr(target_label)}</text>')
    for i, point in enumerate(points):  # the number of ratings, faint, behind the line
        if point.ratings:
            bar_h = plot_h * 0.35 * point.ratings / most
            parts.append(f'<rect x="{left + i * step + step * 0.2:.2f}" y="{top + plot_h - bar_h:.2f}" '
                         f'width="{max(step * 0.6, 1):.2f}" height="{bar_h:.2f}" fill="#d9e4ef"/>')
    runs: list[list[tuple[float, float]]] = [[]]
    described = []
    for i, point in enumerate(points):
        described.append(f"{point.label}: {percent(point.index)} ({point.ratings})")
        if point.index is None:
            if runs[-1]:
                runs.append([])
            continue
        runs[-1].append((left + (i + 0.5) * step, top + plot_h * (1 - point.index)))
    for run in runs:
        if len(run) > 1:
            path = " ".join(f"{x:.2f},{y:.2f}" for x, y in run)
            parts.append(f'<polyline points="{path}" fill="none" stroke="{LINE}" stroke-width="2.5" '
                         'stroke-linejoin="round"/>')
        for x, y in run:
            parts.append(f'<circle cx="{x:.2f}" cy="{y:.2f}" r="{3.5 if len(points) <= 40 else 2}" '
                         f'fill="{LINE}"/>')
    # At most about twelve labels along the axis, always the first and the last.
    every = max(1, -(-len(points) // 12))
    for i, point in enumerate(points):
        if i % every and i != len(points) - 1:
            continue
        if i == len(points) - 1 and i % every and (len(points) - 1) % every < every / 2:
            continue  # too close to the previous label
        x = left + (i + 0.5) * step
        parts.append(f'<text x="{x:.1f}" y="{height - bottom + 20}" text-anchor="middle" font-size="13" '
                     f'fill="{INK}">{_attr(point.label)}</text>')
    legend = ("Đường: chỉ số hài lòng · Cột nhạt: số lượt (cao nhất " if lang == "vi"
              else "Line: satisfaction index · Faint bars: ratings (most ") + f"{most})"
    parts.append(f'<text x="{left}" y="{height - 6}" font-size="13" fill="#5a5a5a">{_attr(legend)}</text>')
    if target is not None:
        parts.append(target_text)
        described.append(target_label)
    return _svg(width, height, f"{title}: " + "; ".join(described), "".join(parts), "chart-trend")


def share_bar(share: float | None, *, colour: str, threshold: float | None = None, width: int = 120,
              height: int = 14) -> Markup:
    """A small bar for a table cell: the share filled in `colour`, an optional threshold mark in black."""
    parts = [f'<rect x="0" y="0" width="{width}" height="{height}" fill="{NO_DATA_FILL}"/>']
    if share is not None:
        parts.append(f'<rect x="0" y="0" width="{width * min(max(share, 0.0), 1.0):.2f}" height="{height}" '
                     f'fill="{_attr(colour)}"/>')
    if threshold is not None:
        x = width * threshold
        parts.append(f'<rect x="{x - 1:.2f}" y="-2" width="2" height="{height + 4}" fill="{INK}"/>')
    label = percent(share) + (f" (ngưỡng / threshold {percent(threshold, 0)})" if threshold is not None else "")
    return _svg(width, height, label, "".join(parts), "chart-share", pad=2)


def index_colour() -> str:
    """The colour of a satisfaction index bar: the 'satisfied' face's."""
    return level(4).colour


def dissatisfied_colour() -> str:
    """The colour of a dissatisfied share bar: the 'very dissatisfied' face's."""
    return level(1).colour


def _svg(width: int, height: int, label: str, body: str, css_class: str, pad: int = 0) -> Markup:
    view = f"0 {-pad} {width} {height + 2 * pad}"
    return Markup(f'<svg class="{css_class}" viewBox="{view}" '
                  f'role="img" aria-label="{_attr(label)}" preserveAspectRatio="xMinYMid meet" '
                  f'font-family="system-ui, \'Noto Sans\', sans-serif"><title>{_attr(label)}</title>{body}</svg>')
