"""The global filters every page shares, and their round trip through the URL query string.

Pure Python (no streamlit): ``Filters.parse_query`` reads ``st.query_params`` (any mapping of
str to str or list of str) and never fails: a value that is unknown, malformed or out of range
falls back to the default and is reported as a ``QueryIssue`` (the page words the notice).
``to_query`` writes the minimal query string, so a copied link opens the same view. Only codes
live here (``PRESETS``, ``GRANULARITIES``, ``QueryIssue.code``, ``EmptyReason``): their words
are in ``lib.ui.words``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, available_timezones

import duckdb

Preset = Literal["24h", "7d", "30d", "this_month", "last_month", "custom"]
Granularity = Literal["hour", "day", "month"]
PRESETS: tuple[str, ...] = ("24h", "7d", "30d", "this_month", "last_month", "custom")
# Why a period holds no usage (a code; the page words it): ``short`` a period of a day or less,
# where daily reports often hold nothing yet; ``empty`` any other.
EmptyReason = Literal["short", "empty"]
GRANULARITIES: tuple[str, ...] = ("hour", "day", "month")
# ``model`` is the model family (``gpt-4o``); ``snapshot`` the name the source gave (``gpt-4o-2024-08-06``)
DIMENSIONS: tuple[str, ...] = ("provider", "project", "model", "snapshot", "api_key", "user_id")
DEFAULT_PRESET = "30d"
DEFAULT_GRANULARITY = "day"
# Custom periods: days in this range only (Python datetimes and the queries' epoch arithmetic
# both handle the period and the one before it; no LLM API usage is older).
MIN_DATE = date(1970, 1, 1)
MAX_DATE = date(2099, 12, 31)
MAX_VALUE_LEN = 200  # characters of one dimension value
MAX_VALUES = 100  # values of one dimension filter
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\ud800-\udfff]")

# What was wrong with a parameter; lib.ui words the notice.
ISSUE_CODES = ("period", "dates", "date_range", "granularity", "tz", "dimension")


@dataclass(frozen=True)
class QueryIssue:
    """One URL parameter that was refused: ``code`` (one of ``ISSUE_CODES``), the parameter's
    name and its value as given (cut to 100 characters)."""

    code: str
    param: str
    value: str


def _issue(code: str, param: str, value: object) -> QueryIssue:
    text = str(value)
    return QueryIssue(code, param, text if len(text) <= 100 else text[:99] + "…")


def _one(params: Mapping[str, object], key: str) -> str | None:
    v = params.get(key)
    if isinstance(v, list | tuple):
        v = v[-1] if v else None
    return None if v in (None, "") else str(v)


def _many(params: Mapping[str, object], key: str) -> tuple[str, ...]:
    v = params.get(key)
    if v in (None, ""):
        return ()
    # repeated parameters and comma-separated lists alike (``to_query`` writes commas)
    given = [str(x) for x in v] if isinstance(v, list | tuple) else [str(v)]
    items = [part for item in given for part in item.split(",")]
    return tuple(sorted({s.strip() for s in items if s and s.strip()}))


@functools.cache
def time_zones() -> frozenset[str]:
    """Zone names both DuckDB (which cuts the buckets) and Python's zoneinfo (which cuts the
    period) know: ``localtime``, ``right/…`` and ``posix/…`` pass zoneinfo, not DuckDB."""
    with duckdb.connect() as con:
        names = {r[0] for r in con.execute("SELECT name FROM pg_timezone_names()").fetchall()}
    return frozenset(names & available_timezones())


def valid_tz(name: str | None) -> str:
    """``name`` when it is a zone DuckDB and Python both know, else "UTC"."""
    return name if name and name in time_zones() else "UTC"


def _date(text: str | None) -> date | None:
    """An ISO day (YYYY-MM-DD) within [MIN_DATE, MAX_DATE], else None."""
    if not text or len(text) > 10 or not text.isascii():
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        return None
    return day if MIN_DATE <= day <= MAX_DATE else None


def _clean_values(values: tuple[str, ...]) -> tuple[str, ...] | None:
    """The values of one dimension filter, or None when any is unusable (too long, control
    characters, lone surrogates) or there are too many."""
    if len(values) > MAX_VALUES:
        return None
    if any(len(v) > MAX_VALUE_LEN or _CONTROL.search(v) for v in values):
        return None
    return values


@dataclass(frozen=True)
class Filters:
    preset: str = DEFAULT_PRESET
    start: date | None = None  # custom period: first day (inclusive), in the reporting zone
    end: date | None = None  # custom period: last day (inclusive)
    granularity: str = DEFAULT_GRANULARITY
    tz: str = "UTC"
    dims: dict[str, tuple[str, ...]] = field(default_factory=dict)  # dimension -> allowed values
    # the zone a query without ``tz`` means (the reporting defaults'); not part of the value
    default_tz: str = field(default="UTC", compare=False, repr=False)

    @classmethod
    def from_query(cls, params: Mapping[str, object], default_tz: str = "UTC") -> Filters:
        """The filters of a query string; what is unusable falls back to the default."""
        return cls.parse_query(params, default_tz)[0]

    @classmethod
    def parse_query(
        cls, params: Mapping[str, object], default_tz: str = "UTC"
    ) -> tuple[Filters, list[QueryIssue]]:
        """The filters of a query string and the parameters refused (each fell back to its
        default). Never raises, whatever the values. A query without ``tz`` (or with one
        refused) is in ``default_tz``, the reporting defaults' zone."""
        issues: list[QueryIssue] = []
        preset = _one(params, "period") or DEFAULT_PRESET
        if preset not in PRESETS:
            issues.append(_issue("period", "period", preset))
            preset = DEFAULT_PRESET
        start = end = None
        if preset == "custom":
            raw_from, raw_to = _one(params, "from"), _one(params, "to")
            start, end = _date(raw_from), _date(raw_to)
            if start is None or end is None:
                parsed = [_date_any(raw_from), _date_any(raw_to)]
                code = "date_range" if all(parsed) else "dates"
                issues.append(_issue(code, "from/to", f"{raw_from or ''} → {raw_to or ''}"))
                preset, start, end = DEFAULT_PRESET, None, None
            elif end < start:
                start, end = end, start
        gran = _one(params, "gran") or DEFAULT_GRANULARITY
        if gran not in GRANULARITIES:
            issues.append(_issue("granularity", "gran", gran))
            gran = DEFAULT_GRANULARITY
        tz_given = _one(params, "tz")
        default_tz = valid_tz(default_tz)
        tz = valid_tz(tz_given) if tz_given else default_tz
        if tz_given and tz != tz_given:
            issues.append(_issue("tz", "tz", tz_given))
            tz = default_tz
        dims: dict[str, tuple[str, ...]] = {}
        for d in DIMENSIONS:
            values = _many(params, d)
            if not values:
                continue
            clean = _clean_values(values)
            if clean is None:
                issues.append(_issue("dimension", d, ",".join(values)))
            else:
                dims[d] = clean
        return cls(preset, start, end, gran, tz, dims, default_tz), issues

    def to_query(self) -> dict[str, str]:
        """Only what differs from the defaults, so links stay short."""
        q: dict[str, str] = {}
        if self.preset != DEFAULT_PRESET:
            q["period"] = self.preset
        if self.preset == "custom" and self.start and self.end:
            q["from"], q["to"] = self.start.isoformat(), self.end.isoformat()
        if self.granularity != DEFAULT_GRANULARITY:
            q["gran"] = self.granularity
        if self.tz != self.default_tz:
            q["tz"] = self.tz
        for d in DIMENSIONS:
            if self.dims.get(d):
                q[d] = ",".join(self.dims[d])
        return q

    @property
    def filtered_dims(self) -> set[str]:
        """The dimensions the filters restrict (those with at least one allowed value)."""
        return {d for d, v in self.dims.items() if v}

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

    def with_(self, **changes: Any) -> Filters:
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

    def empty_reason(self, now: datetime | None = None) -> EmptyReason:
        """Why a period without usage may hold none: ``short`` when it lasts a day or less
        (provider reports come in daily buckets counted on the day they start, UTC), else
        ``empty``."""
        start, end = self.window(now)
        return "short" if end - start <= timedelta(days=1) else "empty"

    def previous_window(self, now: datetime | None = None) -> tuple[datetime, datetime]:
        """The period of the same length just before (a month before, for month presets)."""
        start, end = self.window(now)
        if self.preset in ("this_month", "last_month"):
            zone = ZoneInfo(self.tz)
            s = start.astimezone(zone)
            return _prev_month(s).astimezone(UTC), start
        return start - (end - start), start


def _date_any(text: str | None) -> date | None:
    """An ISO day with no range check (to tell "out of range" from "not a date")."""
    try:
        return date.fromisoformat(text or "") if text and len(text) <= 10 else None
    except ValueError:
        return None


def next_month(d: datetime) -> datetime:
    """The first instant of the month after ``d``'s (``d`` is a month start)."""
    return d.replace(year=d.year + (d.month == 12), month=d.month % 12 + 1, day=1)


def _prev_month(d: datetime) -> datetime:
    return d.replace(year=d.year - (d.month == 1), month=(d.month - 2) % 12 + 1, day=1)
