"""Usage analytics for the operator's console: what the service spent and on what, for a period
of whole UTC days, grouped by model, day, user or provider.

The figures are read from the ledger and the message rows on every call (no copy to drift from
them), so each table's cost sums to what `transactions.list` shows for the same days. A period
is `from`..`to` inclusive, at most 400 days; the last 30 days unless given.
"""
from __future__ import annotations

import csv
import io
import math
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from protocol.errors import BadRequest
from storage import Database
from storage import usage as rows
from storage.base import iso

from .usage_spans import split

GROUPS = ("model", "day", "user", "provider")
MAX_DAYS = 400
DEFAULT_DAYS = 30
TOP_USERS = 50
STATUSES = ("complete", "stopped", "error", "interrupted", "streaming")
COLUMNS = {
    "model": ("model", "replies", "prompt_tokens", "completion_tokens", "cost"),
    "day": ("day", "replies", "prompt_tokens", "completion_tokens", "active_users", "cost"),
    "user": ("user_id", "email", "replies", "charges", "cost"),
    "provider": ("provider", "replies", *STATUSES, "error_rate", "ttft_p50_ms", "ttft_p95_ms"),
}


def _date(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else _bad(field)
    except ValueError:
        return _bad(field)


def _bad(field: str) -> date:
    raise BadRequest(f"{field} must be a date, YYYY-MM-DD", field=field)


def period(since: str | None, until: str | None, today: date | None = None) -> tuple[date, date]:
    """The days asked for: reversed, or longer than MAX_DAYS, is `bad_request`."""
    last = _date(until, "to") or today or datetime.now(timezone.utc).date()
    first = _date(since, "from") or last - timedelta(days=DEFAULT_DAYS - 1)
    if first > last:
        raise BadRequest("from is after to", field="from")
    if (last - first).days + 1 > MAX_DAYS:
        raise BadRequest(f"a period is at most {MAX_DAYS} days", field="from")
    return first, last


def _start(day: date) -> str:
    """The first instant of a UTC day, as stored."""
    return iso(datetime.combine(day, time(), timezone.utc))


def percentile(histogram: list[tuple[int, int]], fraction: float) -> int | None:
    """The nearest-rank percentile of (value, count) pairs sorted by value."""
    total = sum(n for _, n in histogram)
    if not total:
        return None
    rank, seen = max(1, math.ceil(total * fraction - 1e-9)), 0
    for value, n in histogram:
        seen += n
        if seen >= rank:
            return value
    return histogram[-1][0]


class UsageReport:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def report(self, *, since: str | None, until: str | None,
                     group_by: str | None) -> dict[str, Any]:
        group = group_by or "day"
        if group not in GROUPS:
            raise BadRequest(f"group_by must be one of {', '.join(GROUPS)}", field="group_by")
        first, last = period(since, until)
        closed, live, parts = await self._spans(first, last)
        found: dict[str, int] = {}
        if group == "user":  # the top users only; everyone's totals are found on the way
            table, found = await self._by_user(live, parts)
        else:
            table = await getattr(self, f"_by_{group}")(closed, live, first, last)
        if group in ("model", "day"):  # every model's or day's spend: they add up to the whole
            found["cost"] = sum(r["cost"] for r in table)
        totals = {"cost": found["cost"] if "cost" in found else (
                      await rows.total_spend(self.db, closed, live)),
                  "replies": sum(r["replies"] for r in table)}
        if group in ("model", "day"):
            totals["prompt_tokens"] = sum(r["prompt_tokens"] for r in table)
            totals["completion_tokens"] = sum(r["completion_tokens"] for r in table)
        totals["active_users"] = found["active_users"] if "active_users" in found else (
            await rows.active_users(self.db, parts, live))
        return {"from": first.isoformat(), "to": last.isoformat(), "group_by": group,
                "columns": list(COLUMNS[group]), "rows": table, "totals": totals}

    async def _spans(self, first: date,
                     last: date) -> tuple[rows.Span, rows.Span, rows.Parts]:
        """(closed days, live timestamps, the closed days' parts for the per-user reads) of the
        period: each day before today is rolled up the first time a report covers it, unless a
        reply begun that day is still streaming (then it and the days after it are read live);
        then each whole month and week of the closed days, the first time a report covers it."""
        today = datetime.now(timezone.utc).date()
        done = set(await rows.closed_days(self.db, first.isoformat(), last.isoformat()))
        live = first
        while live <= last and live < today:
            day = live.isoformat()
            if day not in done:
                start, end = _start(live), _start(live + timedelta(days=1))
                if await rows.streaming_in(self.db, start, end):
                    break
                async with self.db.transaction() as tx:
                    await rows.close_day(tx, day, start, end)
            live += timedelta(days=1)
        spans, days = split(first, live)
        written = await rows.closed_spans(self.db, [s.key for s in spans])
        for span in spans:
            if span.key not in written:
                async with self.db.transaction() as tx:
                    await rows.close_span(tx, span.key, span.start.isoformat(),
                                          span.end.isoformat())
        return ((first.isoformat(), live.isoformat()),
                (_start(min(live, last + timedelta(days=1))), _start(last + timedelta(days=1))),
                rows.Parts(tuple(s.key for s in spans), tuple(d.isoformat() for d in days)))

    async def _by_model(self, closed: rows.Span, live: rows.Span,
                        *_: date) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for r in await rows.replies_by_model(self.db, closed, live):
            found[r["model"]] = {"model": r["model"], "replies": int(r["replies"]),
                                 "prompt_tokens": int(r["prompt_tokens"] or 0),
                                 "completion_tokens": int(r["completion_tokens"] or 0), "cost": 0}
        for r in await rows.spend_by_model(self.db, closed, live):
            found.setdefault(r["model"], {"model": r["model"], "replies": 0, "prompt_tokens": 0,
                                          "completion_tokens": 0, "cost": 0})
            found[r["model"]]["cost"] = int(r["cost"])
        return sorted(found.values(), key=lambda r: (-r["cost"], r["model"]))

    async def _by_day(self, closed: rows.Span, live: rows.Span, first: date,
                      last: date) -> list[dict[str, Any]]:
        days = {(first + timedelta(days=i)).isoformat(): {
            "day": (first + timedelta(days=i)).isoformat(), "replies": 0, "prompt_tokens": 0,
            "completion_tokens": 0, "active_users": 0, "cost": 0}
            for i in range((last - first).days + 1)}
        for r in await rows.replies_by_day(self.db, closed, live):
            days[r["day"]].update(replies=int(r["replies"]),
                                  prompt_tokens=int(r["prompt_tokens"] or 0),
                                  completion_tokens=int(r["completion_tokens"] or 0),
                                  active_users=int(r["active_users"]))
        for r in await rows.spend_by_day(self.db, closed, live):
            days[r["day"]]["cost"] = int(r["cost"])
        return list(days.values())

    async def _by_user(self, live: rows.Span,
                       parts: rows.Parts) -> tuple[list[dict[str, Any]], dict[str, int]]:
        """The top spenders; the period's whole spend and its users with a reply."""
        top = await rows.top_spenders(self.db, parts, live, TOP_USERS)
        return [{"user_id": r["user_id"], "email": r["email"], "replies": int(r["replies"]),
                 "charges": int(r["charges"]), "cost": int(r["cost"])}
                for r in top if int(r["charges"])], {
            "cost": int(top[0]["spent"]) if top else 0,
            "active_users": int(top[0]["active_users"]) if top else 0}

    async def _by_provider(self, closed: rows.Span, live: rows.Span,
                           *_: date) -> list[dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for r in await rows.statuses_by_provider(self.db, closed, live):
            entry = found.setdefault(r["provider"], {"provider": r["provider"], "replies": 0,
                                                     **{s: 0 for s in STATUSES}})
            entry[r["status"]] = int(r["replies"])
            entry["replies"] += int(r["replies"])
        waits: dict[str, list[tuple[int, int]]] = {}
        for r in await rows.first_token_histogram(self.db, closed, live):
            waits.setdefault(r["provider"], []).append((int(r["ms"]), int(r["n"])))
        for name, entry in found.items():
            histogram = sorted(waits.get(name, []))
            entry["error_rate"] = round(entry["error"] / entry["replies"], 4)
            entry["ttft_p50_ms"] = percentile(histogram, 0.5)
            entry["ttft_p95_ms"] = percentile(histogram, 0.95)
        return sorted(found.values(), key=lambda r: (-r["replies"], r["provider"]))


def to_csv(report: dict[str, Any]) -> str:
    """The report's table as CSV (a header row, then one row per line; RFC 4180 quoting)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(report["columns"])
    for row in report["rows"]:
        writer.writerow([_cell(row.get(c)) for c in report["columns"]])
    return out.getvalue()


def _cell(value: Any) -> Any:
    """A value as a spreadsheet should read it: text that would start a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
