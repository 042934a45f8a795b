"""Server-side SVG charts: no JavaScript, no external assets.

Every piece of text that goes into the markup passes through `escape`; the
result is marked safe only because it is assembled from escaped parts and
numbers this module formats itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from entities.selectors import WeekCount

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 40, 12, 14, 40
AXIS_COLOUR = "#5b6572"  # --muted: 5.9:1 on white
GRID_COLOUR = "#dfe3e8"
BAR_COLOUR = "#0b5cad"  # --accent


def _nice_max(value: int) -> int:
    """The smallest 1, 2, 5 × 10^k at or above `value` (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def _y_ticks(top: int) -> list[int]:
    if top <= 5:
        return list(range(top + 1))
    step = top // 4 if top % 4 == 0 else top // 5 if top % 5 == 0 else top // 2
    return list(range(0, top + 1, max(step, 1)))


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _week_label(week: date, *, with_year: bool) -> str:
    return f"{week.day} {week:%b}" + (f" {week.year}" if with_year else "")


def _x_labels(weeks: Sequence[date]) -> list[tuple[int, str]]:
    """(index, label) pairs, few enough to stay readable (at most ~8)."""
    n = len(weeks)
    if n <= 8:
        years = {w.year for w in weeks}
        return [(i, _week_label(w, with_year=len(years) > 1)) for i, w in enumerate(weeks)]
    # Label the first week of a month, thinned to at most 8 labels.
    starts = [i for i, w in enumerate(weeks) if i == 0 or w.month != weeks[i - 1].month]
    every = max(1, math.ceil(len(starts) / 8))
    chosen = starts[::every]
    return [(i, f"{weeks[i]:%b} {weeks[i].year}") for i in chosen]


def weekly_chart(
    weeks: Sequence[WeekCount], *, title: str, chart_id: str = "weekly-chart"
) -> SafeString:
    """A bar chart of stories per week, with an accessible title and summary."""
    title_id, desc_id = f"{chart_id}-title", f"{chart_id}-desc"
    if not weeks:
        return mark_safe("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _nice_max(max(w.stories for w in weeks))
    slot = plot_w / len(weeks)
    bar_w = max(1.0, slot * 0.8)
    total = sum(w.stories for w in weeks)
    busiest = max(weeks, key=lambda w: (w.stories, w.week))
    desc = (
        f"{total} stor{'y' if total == 1 else 'ies'} over {len(weeks)} "
        f"week{'' if len(weeks) == 1 else 's'}, from the week of "
        f"{_week_label(weeks[0].week, with_year=True)} to the week of "
        f"{_week_label(weeks[-1].week, with_year=True)}; the busiest week "
        f"({_week_label(busiest.week, with_year=True)}) had {busiest.stories}."
    )
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-labelledby="{escape(title_id)} {escape(desc_id)}" '
        f'preserveAspectRatio="xMidYMid meet">',
        f'<title id="{escape(title_id)}">{escape(title)}</title>',
        f'<desc id="{escape(desc_id)}">{escape(desc)}</desc>',
        f'<g font-size="12" fill="{AXIS_COLOUR}" font-family="system-ui, sans-serif">',
    ]
    for tick in _y_ticks(top):
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{_fmt(y)}" y2="{_fmt(y)}" '
            f'stroke="{GRID_COLOUR}" stroke-width="1"/>'
            f'<text x="{LEFT - 6}" y="{_fmt(y + 4)}" text-anchor="end">{tick}</text>'
        )
    parts.append("</g>")
    parts.append(f'<g fill="{BAR_COLOUR}">')
    for i, week in enumerate(weeks):
        height = plot_h * week.stories / top
        x = LEFT + i * slot + (slot - bar_w) / 2
        y = TOP + plot_h - height
        label = (
            f"Week of {_week_label(week.week, with_year=True)}: {week.stories} "
            f"stor{'y' if week.stories == 1 else 'ies'}"
        )
        parts.append(
            f'<rect x="{_fmt(x)}" y="{_fmt(y)}" width="{_fmt(bar_w)}" height="{_fmt(height)}">'
            f"<title>{escape(label)}</title></rect>"
        )
    parts.append("</g>")
    baseline = TOP + plot_h
    parts.append(
        f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{baseline}" y2="{baseline}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>'
    )
    parts.append(f'<g font-size="12" fill="{AXIS_COLOUR}" font-family="system-ui, sans-serif">')
    for i, label in _x_labels([w.week for w in weeks]):
        if len(weeks) <= 8:
            x, anchor = LEFT + i * slot + slot / 2, "middle"
        elif LEFT + i * slot + 64 > WIDTH - RIGHT:
            x, anchor = WIDTH - RIGHT, "end"  # keep the last label inside the frame
        else:
            x, anchor = LEFT + i * slot, "start"
        parts.append(
            f'<line x1="{_fmt(x)}" x2="{_fmt(x)}" y1="{baseline}" y2="{baseline + 4}" '
            f'stroke="{AXIS_COLOUR}"/>'
            f'<text x="{_fmt(x)}" y="{baseline + 18}" text-anchor="{anchor}">{escape(label)}</text>'
        )
    parts.append(
        f'<text x="{LEFT + plot_w / 2:.0f}" y="{HEIGHT - 4}" text-anchor="middle">'
        "Stories per week</text>"
    )
    parts.append("</g></svg>")
    return mark_safe("".join(parts))  # every text piece is escaped above
