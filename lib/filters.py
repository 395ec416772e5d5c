"""The global filters every page shares, and their round trip through the URL query string.

Pure Python (no streamlit): ``Filters.from_query`` reads ``st.query_params`` (any mapping of
str to str or list of str) and never fails — an unknown value falls back to the default — and
``to_query`` writes the minimal query string, so a copied link opens the same view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Preset = Literal["24h", "7d", "30d", "this_month", "last_month", "custom"]
Granularity = Literal["hour", "day", "month"]
PRESETS: dict[str, str] = {
    "24h": "Last 24 hours",
    "7d": "Last 7 days",
    "30d": "Last 30 days",
    "this_month": "This month",
    "last_month": "Last month",
    "custom": "Custom",
}
GRANULARITIES: tuple[str, ...] = ("hour", "day", "month")
DIMENSIONS: tuple[str, ...] = ("provider", "project", "model", "api_key", "user_id")
DEFAULT_PRESET = "30d"
DEFAULT_GRANULARITY = "day"


def _one(params: Mapping[str, object], key: str) -> str | None:
    v = params.get(key)
    if isinstance(v, list | tuple):
        v = v[-1] if v else None
    return None if v in (None, "") else str(v)


def _many(params: Mapping[str, object], key: str) -> tuple[str, ...]:
    v = params.get(key)
    if v in (None, ""):
        return ()
    items = list(v) if isinstance(v, list | tuple) else str(v).split(",")
    return tuple(sorted({s.strip() for s in items if s and s.strip()}))


def valid_tz(name: str | None) -> str:
    if not name:
        return "UTC"
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return "UTC"
    return name


@dataclass(frozen=True)
class Filters:
    preset: str = DEFAULT_PRESET
    start: date | None = None  # custom period: first day (inclusive), in the reporting zone
    end: date | None = None  # custom period: last day (inclusive)
    granularity: str = DEFAULT_GRANULARITY
    tz: str = "UTC"
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dimension -> allowed values

    @classmethod
    def from_query(cls, params: Mapping[str, object]) -> Filters:
        preset = _one(params, "period") or DEFAULT_PRESET
        if preset not in PRESETS:
            preset = DEFAULT_PRESET
        start = end = None
        if preset == "custom":
            try:
                start = date.fromisoformat(_one(params, "from") or "")
                end = date.fromisoformat(_one(params, "to") or "")
            except ValueError:
                preset, start, end = DEFAULT_PRESET, None, None
            else:
                if end < start:
                    start, end = end, start
        gran = _one(params, "gran") or DEFAULT_GRANULARITY
        if gran not in GRANULARITIES:
            gran = DEFAULT_GRANULARITY
        dims = {d: v for d in DIMENSIONS if (v := _many(params, d))}
        return cls(preset, start, end, gran, valid_tz(_one(params, "tz")), dims)

    def to_query(self) -> dict[str, str]:
        """Only what differs from the defaults, so links stay short."""
        q: dict[str, str] = {}
        if self.preset != DEFAULT_PRESET:
            q["period"] = self.preset
        if self.preset == "custom" and self.start and self.end:
            q["from"], q["to"] = self.start.isoformat(), self.end.isoformat()
        if self.granularity != DEFAULT_GRANULARITY:
            q["gran"] = self.granularity
        if self.tz != "UTC":
            q["tz"] = self.tz
        for d in DIMENSIONS:
            if self.dims.get(d):
                q[d] = ",".join(self.dims[d])
        return q

    def dims_sql(
        self, dims: tuple[str, ...] = DIMENSIONS, prefix: str = ""
    ) -> tuple[list[str], list[Any]]:
        """SQL conditions, with their parameters, keeping the rows whose ``dims`` columns hold a
        value the filters allow (``prefix`` qualifies the columns, e.g. ``"r."``)."""
        where: list[str] = []
        params: list[Any] = []
        for dim in dims:
            if self.dims.get(dim):
                where.append(f"list_contains(?, {prefix}{dim})")
                params.append(list(self.dims[dim]))
        return where, params

    def with_(self, **changes: object) -> Filters:
        return replace(self, **changes)

    def window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The period as [start, end) in UTC; days and months are cut in the reporting zone."""
        zone = ZoneInfo(self.tz)
        now = (now or datetime.now(UTC)).astimezone(zone)
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.preset == "24h":
            start, end = now - timedelta(hours=24), now
        elif self.preset == "7d":
            start, end = today - timedelta(days=6), today + timedelta(days=1)
        elif self.preset == "this_month":
            start = today.replace(day=1)
            end = next_month(start)
        elif self.preset == "last_month":
            end = today.replace(day=1)
            start = _prev_month(end)
        elif self.preset == "custom" and self.start and self.end:
            start = datetime.combine(self.start, datetime.min.time(), zone)
            end = datetime.combine(self.end + timedelta(days=1), datetime.min.time(), zone)
        else:  # 30d
            start, end = today - timedelta(days=29), today + timedelta(days=1)
        return start.astimezone(UTC), end.astimezone(UTC)

    def empty_hint(self, now: datetime | None = None) -> str:
        """What to tell someone who finds no usage in this period."""
        start, end = self.window(now)
        if end - start <= timedelta(days=1):
            return (
                "No usage in this period. Provider usage reports come in daily buckets, each counted "
                "on the day it starts (UTC), so a period shorter than a day often holds none: choose "
                "“Last 7 days” (hourly granularity works there for request logs), or import request "
                "logs on the Data page for hour-by-hour detail."
            )
        return "No usage in this period. Widen the period in the sidebar, or import data on the Data page."

    def previous_window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The period of the same length just before (a month before, for month presets)."""
        start, end = self.window(now)
        if self.preset in ("this_month", "last_month"):
            zone = ZoneInfo(self.tz)
            s = start.astimezone(zone)
            return _prev_month(s).astimezone(UTC), start
        return start - (end - start), start


def next_month(d: datetime) -> datetime:
    """The first instant of the month after ``d``'s (``d`` is a month start)."""
    return d.replace(year=d.year + (d.month == 12), month=d.month % 12 + 1, day=1)


def _prev_month(d: datetime) -> datetime:
    return d.replace(year=d.year - (d.month == 1), month=(d.month - 2) % 12 + 1, day=1)
