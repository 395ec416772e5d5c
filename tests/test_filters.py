"""Global filters: defaults, URL round trip, periods cut in the reporting time zone."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from lib.filters import Filters

NOW = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)


def test_defaults_and_short_links():
    f = Filters.from_query({})
    assert (f.preset, f.granularity, f.tz, f.dims) == ("30d", "day", "UTC", {})
    assert f.to_query() == {}


def test_round_trip():
    q = {
        "period": "custom",
        "from": "2026-02-01",
        "to": "2026-02-28",
        "gran": "hour",
        "tz": "Europe/Paris",
        "model": "gpt-4o,claude-haiku-4-5",
        "user_id": "u1",
    }
    f = Filters.from_query(q)
    assert f.dims == {"model": ("claude-haiku-4-5", "gpt-4o"), "user_id": ("u1",)}
    assert Filters.from_query(f.to_query()) == f
    assert f.to_query()["model"] == "claude-haiku-4-5,gpt-4o"


@pytest.mark.parametrize(
    "q",
    [
        {"period": "forever"},
        {"gran": "week"},
        {"tz": "Mars/Olympus"},
        {"period": "custom", "from": "nope"},
    ],
)
def test_bad_values_fall_back_to_defaults(q):
    f = Filters.from_query(q)
    assert f.preset in ("30d",) and f.granularity == "day" and f.tz == "UTC"


def test_windows_in_utc():
    utc = Filters()
    assert utc.window(NOW) == (datetime(2026, 2, 14, tzinfo=UTC), datetime(2026, 3, 16, tzinfo=UTC))
    assert Filters(preset="24h").window(NOW) == (datetime(2026, 3, 14, 10, 30, tzinfo=UTC), NOW)
    assert Filters(preset="this_month").window(NOW) == (
        datetime(2026, 3, 1, tzinfo=UTC),
        datetime(2026, 4, 1, tzinfo=UTC),
    )
    assert Filters(preset="last_month").window(NOW) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    )
    jan = datetime(2026, 1, 10, tzinfo=UTC)
    assert Filters(preset="last_month").window(jan) == (
        datetime(2025, 12, 1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),
    )
    # 7 days: March 9–15 (today included); the period before: March 2–8
    assert Filters(preset="7d").window(NOW) == (
        datetime(2026, 3, 9, tzinfo=UTC),
        datetime(2026, 3, 16, tzinfo=UTC),
    )
    assert Filters(preset="7d").previous_window(NOW) == (
        datetime(2026, 3, 2, tzinfo=UTC),
        datetime(2026, 3, 9, tzinfo=UTC),
    )
    assert Filters(preset="this_month").previous_window(NOW) == (
        datetime(2026, 2, 1, tzinfo=UTC),
        datetime(2026, 3, 1, tzinfo=UTC),
    )


def test_days_are_cut_in_the_reporting_zone():
    # Paris is UTC+1 in February: a February day starts at 23:00 UTC the day before.
    f = Filters(preset="custom", start=date(2026, 2, 1), end=date(2026, 2, 28), tz="Europe/Paris")
    assert f.window(NOW) == (
        datetime(2026, 1, 31, 23, tzinfo=UTC),
        datetime(2026, 2, 28, 23, tzinfo=UTC),
    )
    # New York's "this month" in March 2026 spans the DST change (UTC−5 then UTC−4).
    ny = Filters(preset="this_month", tz="America/New_York")
    assert ny.window(NOW) == (
        datetime(2026, 3, 1, 5, tzinfo=UTC),
        datetime(2026, 4, 1, 4, tzinfo=UTC),
    )


def test_the_previous_period_always_ends_where_the_period_starts():
    """totals_pair and spend_pair read both periods in one pass on this."""
    from lib.filters import PRESETS

    for preset in PRESETS:
        for tz in ("UTC", "Europe/Paris", "America/New_York"):
            f = Filters(preset=preset, tz=tz, start=date(2026, 2, 27), end=date(2026, 3, 2))
            assert f.previous_window(NOW)[1] == f.window(NOW)[0], (preset, tz)
