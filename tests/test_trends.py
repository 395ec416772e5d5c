"""Trends on small hand-made series."""

from __future__ import annotations

import math

import pandas as pd

from lib.analytics.trends import add_trends, month_end_forecast, spikes, week_change


def _days(values: list[float], start: str = "2026-01-05") -> pd.DataFrame:  # a Monday
    return pd.DataFrame(
        {"bucket": pd.date_range(start, periods=len(values), freq="D"), "value": values}
    )


def test_moving_average_and_week_over_week():
    df = add_trends(_days([10.0] * 7 + [20.0] * 7), "day")
    assert df["ma7"].iloc[6] == 10.0 and df["ma7"].iloc[13] == 20.0
    assert math.isnan(df["wow"].iloc[6])  # no week before
    assert df["wow"].iloc[7] == 100.0  # 20 against 10 a week earlier


def test_a_spike_is_judged_against_the_same_weekday():
    # Five quiet weeks: weekdays 100 (±2), weekends 30; then a week with a Tuesday at 400.
    week = [100, 102, 98, 101, 99, 30, 31]
    values = week * 5 + [100, 400, 100, 100, 100, 30, 31]
    df = add_trends(_days([float(v) for v in values]), "day")
    flagged = df[df["spike"]]
    assert list(flagged["bucket"].dt.strftime("%Y-%m-%d")) == ["2026-02-10"]  # that Tuesday
    (spike,) = spikes(df, "day")
    assert spike.weekday == 1  # a Tuesday
    # 400 against the usual Tuesday (the median of 102 × 5)
    assert (spike.value, spike.usual, round(spike.ratio, 2)) == (400.0, 102.0, 3.92)
    # the weekend at 30 is its usual level, not a dip to flag; 100 on a Saturday would be a spike
    sat = add_trends(_days([float(v) for v in week * 5 + [100, 102, 98, 101, 99, 100, 31]]), "day")
    assert list(sat[sat["spike"]]["bucket"].dt.day_name()) == ["Saturday"]


def test_week_over_week():
    days = _days([10.0] * 7 + [15.0] * 7)
    tr = add_trends(days, "day")
    w = week_change(tr, "day", additive=True)
    assert (w.last, w.before, w.change) == (105.0, 70.0, 0.5)  # 7 × 15 against 7 × 10
    rate = week_change(tr, "day", additive=False)
    assert (rate.last, rate.before, rate.averaged) == (15.0, 10.0, True)
    assert week_change(add_trends(_days([1.0] * 7), "day"), "day", True) is None  # no week before


def test_month_end_forecast():
    # 10 days of January at exactly 5 USD: 21 days left, no spread
    f = month_end_forecast(_days([5.0] * 10, "2026-01-01"), 31)
    assert (f.so_far, f.expected, f.low, f.high, f.days_left) == (50.0, 155.0, 155.0, 155.0, 21)
    g = month_end_forecast(_days([4.0, 6.0] * 5, "2026-01-01"), 31)
    assert g.expected == 155.0 and g.low < 155.0 < g.high
    assert month_end_forecast(_days([]), 31) is None
