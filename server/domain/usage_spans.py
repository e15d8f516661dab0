"""How the per-user figures read a run of closed days (migration 0017): whole calendar months
from `usage_user_spans`, then whole ISO weeks (Monday to Sunday) of what is left, then the single
days left at the edges from `usage_user_days` — besides the months, at most 8 weeks and 24 days
however long the period (30 days holding no whole month: 3 or 4 weeks and 2 to 9 days), instead of one row per
user and day.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta


@dataclass(frozen=True)
class Span:
    """A month ('YYYY-MM') or an ISO week ('YYYY-Www') of days [start, end)."""
    key: str
    start: date
    end: date


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


def _weeks(first: date, end: date) -> tuple[list[Span], list[date]]:
    monday = first + timedelta(days=(7 - first.weekday()) % 7)
    spans = []
    while monday + timedelta(days=7) <= end:
        year, week, _ = monday.isocalendar()
        spans.append(Span(f"{year}-W{week:02d}", monday, monday + timedelta(days=7)))
        monday += timedelta(days=7)
    if not spans:
        return [], _days(first, end)
    return spans, _days(first, spans[0].start) + _days(spans[-1].end, end)


def _days(first: date, end: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((end - first).days)]


def split(first: date, end: date) -> tuple[list[Span], list[date]]:
    """Days [first, end) as whole months, whole weeks of the rest and the days left over."""
    start = first if first.day == 1 else _next_month(first)
    months = []
    while _next_month(start) <= end:
        months.append(Span(start.strftime("%Y-%m"), start, _next_month(start)))
        start = _next_month(start)
    if not months:
        return _weeks(first, end)
    head, head_days = _weeks(first, months[0].start)
    tail, tail_days = _weeks(months[-1].end, end)
    return head + months + tail, head_days + tail_days
