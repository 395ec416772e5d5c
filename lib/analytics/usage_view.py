"""What the Usage page draws, worked out here so the page only draws: the chart's points at
the granularity the sources allow, the trend with its week-over-week change and spikes, the
month-end forecast, and the request rows behind one bar.

Every function takes ``now`` (the page clock): the windows follow it, never the machine's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import pandas as pd

from lib.analytics.requests import BarRelation, bar_relation, request_rows
from lib.analytics.trends import (
    Forecast,
    Spike,
    WeekChange,
    add_trends,
    month_end_forecast,
    spikes,
    week_change,
)
from lib.analytics.usage import METRICS, series, wider_than_hours
from lib.filters import Filters, next_month
from lib.store import Store

# Why the chart is drawn at another granularity or shape than asked (a code; the page words
# it): ``sources_daily`` every source of the period reports per day, so days are drawn;
# ``mixed`` some sources report per day (their bars are bands over the day); ``users_daily``
# per-user figures are kept per day.
ChartNote = Literal["sources_daily", "mixed", "users_daily"]
FORECAST_METRICS = ("requests", "input_tokens", "output_tokens", "estimated_cost", "stated_cost")
PAGE_SIZE = 100


@dataclass(frozen=True)
class UsageChart:
    """The points of one metric over the period (``points``: bucket, grp, series, value and,
    per hour, span_h; see ``lib.analytics.usage.series``), drawn at ``granularity``.
    Without a breakdown, at hour or day, ``trend`` adds the moving average and spikes
    (``add_trends``), ``week`` the last 7 days against the 7 before and ``spikes`` the
    flagged points."""

    metric: str
    breakdown: str | None
    granularity: str
    points: pd.DataFrame
    note: ChartNote | None = None
    trend: pd.DataFrame | None = None
    week: WeekChange | None = None
    spikes: list[Spike] = field(default_factory=list)

    @property
    def additive(self) -> bool:
        return METRICS[self.metric].additive

    @property
    def empty(self) -> bool:
        return self.points.empty

    @property
    def buckets(self) -> list[datetime]:
        """The chart's time buckets (local, naive), oldest first."""
        if self.points.empty:
            return []
        return [pd.Timestamp(b).to_pydatetime() for b in sorted(set(self.points["bucket"]))]

    @property
    def named(self) -> list[str | None]:
        """The breakdown values drawn as series of their own (None: rows without a value),
        in the chart's order; [] without a breakdown."""
        if not self.breakdown or self.points.empty:
            return []
        top = self.points[self.points["grp"] == "top"]["series"]
        return list(dict.fromkeys(None if pd.isna(v) else str(v) for v in top))


def usage_chart(
    store: Store,
    f: Filters,
    metric: str,
    breakdown: str | None = None,
    top_n: int = 8,
    now: datetime | None = None,
    exact: bool = False,
) -> UsageChart:
    """``metric`` over the filters' period, per ``breakdown`` value (the top ``top_n``, the
    rest merged). Hours are asked for but every source reports per day: the days are drawn
    (``note`` sources_daily); some do: bands over their day (``mixed``); users involved: days
    (``users_daily``). ``exact``: latency percentiles from the request rows."""
    points = series(store, f, metric, breakdown, top_n, now, exact)
    shape = wider_than_hours(points)
    if shape == "daily":  # no hourly shape exists: the days the sources report
        points = series(store, f.with_(granularity="day"), metric, breakdown, top_n, now, exact)
    users = breakdown == "user_id" or "user_id" in f.dims
    gran = "day" if shape == "daily" or (users and f.granularity == "hour") else f.granularity
    note: ChartNote | None = None
    if shape == "daily":
        note = "sources_daily"
    elif shape == "mixed":
        note = "mixed"
    elif gran != f.granularity:
        note = "users_daily"
    # one value per bucket for the trend: a daily row without a value (a report that states no
    # errors or latencies) beside the hour's own row draws nothing and is left out
    own = points
    if "span_h" in points:
        own = points[(points["span_h"] <= 1) | points["value"].notna()]
    plain = own.empty or shape == "mixed" or not own["bucket"].is_unique
    if breakdown is None and gran in ("hour", "day") and not plain:
        trend = add_trends(own, gran)
        return UsageChart(metric, breakdown, gran, points, note, trend,
                          week_change(trend, gran, METRICS[metric].additive), spikes(trend, gran))  # fmt: skip
    return UsageChart(metric, breakdown, gran, points, note)


def month_forecast(
    store: Store, f: Filters, metric: str, now: datetime | None = None
) -> Forecast | None:
    """The month-end forecast of ``metric`` for this month (in the filters' zone and
    dimensions, whatever their period); None for metrics that do not add up or without data
    this month."""
    if metric not in FORECAST_METRICS:
        return None
    month = f.with_(preset="this_month", granularity="day", start=None, end=None)
    daily = series(store, month, metric, now=now)
    if daily.empty:
        return None
    m_start, m_end = month.window(now)
    # every day of the month so far, a day without data as 0 (so the days left are counted
    # from today, not from the days that hold data)
    zone = ZoneInfo(f.tz)
    first = m_start.astimezone(zone).replace(tzinfo=None)
    today = (now or datetime.now(UTC)).astimezone(zone).replace(tzinfo=None, hour=0, minute=0, second=0,
                                                                 microsecond=0)  # fmt: skip
    days = pd.date_range(first, max(today, first), freq="D")
    values = daily.groupby("bucket")["value"].sum().reindex(days, fill_value=0)
    filled = pd.DataFrame({"bucket": days, "value": values.to_numpy()})
    return month_end_forecast(filled, round((m_end - m_start).total_seconds() / 86400))


def bucket_window(bucket: datetime, granularity: str, tz: str) -> tuple[datetime, datetime]:
    """The [start, end) in UTC of a chart bucket (local, naive, in the zone ``tz``)."""
    lo = pd.Timestamp(bucket).to_pydatetime().replace(tzinfo=ZoneInfo(tz))
    if granularity == "hour":
        hi = lo + timedelta(hours=1)
    elif granularity == "day":
        hi = lo + timedelta(days=1)
    else:
        hi = next_month(lo)
    return lo.astimezone(UTC), hi.astimezone(UTC)


@dataclass(frozen=True)
class Drill:
    """One page of the request rows behind a bar (newest first): ``page`` of ``pages``
    (1-based), ``total`` matching rows, and how they relate to what the bar counts."""

    rows: pd.DataFrame
    total: int
    page: int
    pages: int
    relation: BarRelation


def drill_down(
    store: Store,
    f: Filters,
    bucket: datetime,
    granularity: str,
    where: dict[str, str | None] | None = None,
    page: int = 1,
    now: datetime | None = None,
) -> Drill:
    """The request rows of ``bucket`` (a chart bucket at ``granularity``) under the filters
    and ``where`` (dimension → value; None means rows without one), page ``page`` (1-based,
    ``PAGE_SIZE`` rows each)."""
    window = bucket_window(bucket, granularity, f.tz)
    page = max(1, int(page))
    rows, total = request_rows(store, f, window=window, where=where, page=page - 1,
                               page_size=PAGE_SIZE)  # fmt: skip
    relation = bar_relation(store, f, window=window, where=where)
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    return Drill(rows, total, page, pages, relation)
