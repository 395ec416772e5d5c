"""Trends over an aggregated time series (pandas on a few hundred points, never raw rows):
moving average, week-over-week change, spikes flagged by a robust z-score against the usual
level for the same weekday (and hour), and a month-end forecast with a range."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

import pandas as pd

SPIKE_Z = 3.5  # robust z-score (0.6745 × deviation / MAD) above which a point is a spike
MIN_HISTORY = 4  # same-slot points needed before a point can be called a spike


def add_trends(df: pd.DataFrame, granularity: str) -> pd.DataFrame:
    """``df``: bucket, value for one series, sorted by bucket. Adds ``ma7`` (7-day moving
    average), ``wow`` (% change against the same bucket a week earlier; None when there is
    none), ``usual`` (median of the same weekday/hour), ``z`` and ``spike`` (bool)."""
    out = df[["bucket", "value"]].copy()
    out["value"] = pd.to_numeric(out["value"], errors="coerce").astype(float)
    out = out.sort_values("bucket").reset_index(drop=True)
    step = {"hour": pd.Timedelta(hours=1), "day": pd.Timedelta(days=1)}.get(granularity)
    if step is None:  # months: no weekly structure
        out["ma7"] = out["wow"] = out["usual"] = out["z"] = float("nan")
        out["spike"] = False
        return out
    full = pd.date_range(out["bucket"].min(), out["bucket"].max(), freq=step)
    out = out.set_index("bucket").reindex(full, fill_value=0.0).rename_axis("bucket").reset_index()
    per_week = 7 if granularity == "day" else 168
    out["ma7"] = out["value"].rolling(7 if granularity == "day" else 168, min_periods=1).mean()
    before = out["value"].shift(per_week)
    out["wow"] = ((out["value"] - before) / before.where(before != 0) * 100).where(before.notna())
    slot = (
        out["bucket"].dt.day_of_week
        if granularity == "day"
        else out["bucket"].dt.day_of_week * 24 + out["bucket"].dt.hour
    )
    out["slot"] = slot
    usual, zs = [], []
    for i in range(len(out)):
        row = out.iloc[i]
        history = out.iloc[:i]
        same = history.loc[history["slot"] == row["slot"], "value"]
        if len(same) < MIN_HISTORY:
            usual.append(float("nan"))
            zs.append(float("nan"))
            continue
        med = float(same.median())
        mad = float((same - med).abs().median())
        usual.append(med)
        scale = mad if mad > 0 else max(abs(med) * 0.05, 1e-9)
        zs.append(0.6745 * (row["value"] - med) / scale)
    out["usual"], out["z"] = usual, zs
    out["spike"] = out["z"] > SPIKE_Z
    return out.drop(columns="slot")


@dataclass(frozen=True)
class Spike:
    """A flagged point: its bucket (local time), value and the usual level for its slot (the
    same weekday, and hour with ``granularity`` hour). ``ratio``: value / usual, None when
    the usual level is 0."""

    bucket: datetime
    value: float
    usual: float
    granularity: str

    @property
    def ratio(self) -> float | None:
        return self.value / self.usual if self.usual else None

    @property
    def weekday(self) -> int:
        """0 = Monday."""
        return self.bucket.weekday()


def spikes(trend: pd.DataFrame, granularity: str) -> list[Spike]:
    """The points ``add_trends`` flagged, oldest first."""
    rows = trend[trend["spike"]]
    return [Spike(pd.Timestamp(b).to_pydatetime(), float(v), float(u), granularity)
            for b, v, u in zip(rows["bucket"], rows["value"], rows["usual"], strict=True)]  # fmt: skip


@dataclass(frozen=True)
class WeekChange:
    """The last 7 days (or 168 hours) against the 7 before: summed for amounts, averaged
    (``averaged``) for rates and percentiles. ``change``: relative (0.1 = +10 %), None when
    the week before holds nothing."""

    last: float
    before: float
    averaged: bool

    @property
    def change(self) -> float | None:
        return (self.last - self.before) / self.before if self.before else None


def week_change(trend: pd.DataFrame, granularity: str, additive: bool) -> WeekChange | None:
    """``WeekChange`` of an ``add_trends`` frame (hours or days); None for months or when
    there is no full week before the last one."""
    per_week = {"day": 7, "hour": 168}.get(granularity)
    if per_week is None or len(trend) <= per_week:
        return None
    agg = "sum" if additive else "mean"
    last = float(trend["value"].tail(per_week).agg(agg))
    before = float(trend["value"].iloc[:-per_week].tail(per_week).agg(agg))
    return WeekChange(last, before, not additive)


@dataclass(frozen=True)
class Forecast:
    so_far: float
    expected: float  # month-end total
    low: float  # 80 % range
    high: float
    days_left: int


def month_end_forecast(daily: pd.DataFrame, days_in_month: int) -> Forecast | None:
    """``daily``: bucket, value for the days of this month so far (today included). The rest
    of the month is forecast from the mean of the last 14 days; the range is ±1.28 σ√n."""
    if daily.empty:
        return None
    values = (
        pd.to_numeric(daily.sort_values("bucket")["value"], errors="coerce").fillna(0).astype(float)
    )
    so_far = float(values.sum())
    left = max(0, days_in_month - len(values))
    recent = values.tail(14)
    mean = float(recent.mean())
    sd = float(recent.std(ddof=1)) if len(recent) > 1 else mean * 0.25
    expected = so_far + mean * left
    spread = 1.28 * sd * math.sqrt(left) if left else 0.0
    return Forecast(so_far, expected, max(so_far, expected - spread), expected + spread, left)
