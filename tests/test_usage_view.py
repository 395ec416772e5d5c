"""What the Usage page draws, worked out in lib: the chart's granularity and notes, the trend,
the window of a bar and the request rows behind it. Figures by hand from the gateway log of
tests/test_counting_rules.py (5 calls on 2025-01-01, one an error at 11:00) and Anthropic's
daily usage report of that day."""

from __future__ import annotations

from datetime import UTC, date, datetime

from lib.analytics.usage_view import bucket_window, drill_down, month_forecast, usage_chart
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import fixture, write
from tests.test_counting_rules import LOG

NOW = datetime(2025, 1, 3, tzinfo=UTC)
DAY = Filters(preset="custom", start=date(2025, 1, 1), end=date(2025, 1, 1))
HOURLY = DAY.with_(granularity="hour")


def test_an_hourly_rate_beside_a_daily_report_has_a_trend(store, tmp_path):
    """The report states no errors: its daily row has no value and stays out of the trend (it
    made two rows for midnight, which the trend could not put on one time line)."""
    import_file(store, fixture("anthropic_usage.json"))
    import_file(store, write(tmp_path, "gateway.csv", LOG))
    c = usage_chart(store, HOURLY, "error_rate", now=NOW)
    assert c.granularity == "hour" and c.note is None and c.trend is not None
    rates = {t.hour: v for t, v in zip(c.trend["bucket"], c.trend["value"], strict=True)}
    # one call per hour from 09:00 to 13:00; the 11:00 one failed: 1 of 1 = 100 %
    assert {h: rates[h] for h in range(9, 14)} == {9: 0.0, 10: 0.0, 11: 100.0, 12: 0.0, 13: 0.0}


def test_the_chart_says_why_it_is_drawn_as_it_is(store, tmp_path):
    import_file(store, fixture("anthropic_usage.json"))
    daily = usage_chart(store, HOURLY, "input_tokens", now=NOW)
    assert (daily.note, daily.granularity, daily.buckets) == (
        "sources_daily",
        "day",
        [datetime(2025, 1, 1)],
    )
    import_file(store, write(tmp_path, "gateway.csv", LOG))
    mixed = usage_chart(store, HOURLY, "input_tokens", now=NOW)
    assert (mixed.note, mixed.granularity, mixed.trend) == ("mixed", "hour", None)
    users = usage_chart(store, HOURLY, "requests", "user_id", now=NOW)
    assert (users.note, users.granularity) == ("users_daily", "day")
    by_model = usage_chart(store, DAY, "requests", "provider", top_n=1, now=NOW)
    # 5 logged calls: anthropic 3 (the report states no request count), openai 2
    assert by_model.named == ["anthropic"] and by_model.trend is None


def test_a_bar_s_window_in_its_zone():
    # 30 March 2025 in Paris lasts 23 hours (summer time begins)
    assert bucket_window(datetime(2025, 3, 30), "day", "Europe/Paris") == (
        datetime(2025, 3, 29, 23, tzinfo=UTC),
        datetime(2025, 3, 30, 22, tzinfo=UTC),
    )
    assert bucket_window(datetime(2025, 12, 1), "month", "UTC") == (
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )


def test_the_rows_behind_a_bar(store, tmp_path):
    import_file(store, write(tmp_path, "gateway.csv", LOG))
    d = drill_down(store, DAY, datetime(2025, 1, 1), "day", {"provider": "openai"}, page=1, now=NOW)
    assert (d.total, d.page, d.pages) == (2, 1, 1)
    assert list(d.rows["request_id"]) == ["o2", "o1"]  # newest first
    assert d.relation.bar_requests == 2 and not d.relation.differs(d.total)
    none = drill_down(store, DAY, datetime(2025, 1, 1), "day", {"project": None}, page=1, now=NOW)
    assert none.total == 5  # None means the rows without a project: all of them


def test_the_forecast_is_for_amounts_only(store, tmp_path):
    import_file(store, write(tmp_path, "gateway.csv", LOG))
    assert month_forecast(store, DAY, "error_rate", NOW) is None
    fc = month_forecast(store, DAY, "requests", NOW)
    # January 2025 so far (Jan 1 to 3): 5 calls on the 1st, none on the 2nd and 3rd; 28 days
    # left at the mean of those 3 days: 5 + 28 × 5/3 = 51.67
    assert (fc.so_far, fc.days_left, round(fc.expected, 2)) == (5.0, 28, 51.67)
