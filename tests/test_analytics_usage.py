"""Usage analytics over the rollups, checked against hand-computed figures."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from lib.analytics.usage import breakdown_table, series, totals
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import write

NOW = datetime(2026, 3, 3, 12, tzinfo=UTC)
LOG = (
    "timestamp,request_id,model,project,user,input_tokens,output_tokens,status,cost\n"
    # March 1, UTC: two gpt-4o-mini calls of alpha, one failed
    "2026-03-01T10:00:00Z,a1,gpt-4o-mini,alpha,u1,1000000,0,success,0.15\n"
    "2026-03-01T23:30:00Z,a2,gpt-4o-mini,alpha,u2,0,0,error,0\n"
    # March 2: one gpt-4o call of beta
    "2026-03-02T08:00:00Z,b1,gpt-4o,beta,u1,0,100000,success,1.00\n"
)


def _load(store, tmp_path):
    import_file(store, write(tmp_path, "log.csv", LOG))


def test_totals_and_previous_period(store, tmp_path):
    _load(store, tmp_path)
    f = Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2))
    t = totals(store, f, NOW)
    assert (t["requests"], t["errors"], t["input_tokens"], t["output_tokens"]) == (
        3,
        1,
        1_000_000,
        100_000,
    )
    # gpt-4o-mini 1M input × $0.15 + gpt-4o 100k output × $10/M = 0.15 + 1.00
    assert t["estimated_cost"] == Decimal("1.15")
    assert t["stated_cost"] == Decimal("1.15")
    assert round(t["error_rate"], 4) == round(100 / 3, 4)
    prev = totals(store, f, NOW, previous=True)  # Feb 27–28: nothing
    assert prev["requests"] is None


def test_days_cut_in_the_reporting_zone(store, tmp_path):
    _load(store, tmp_path)
    utc = series(store, Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2)), "requests",
                 now=NOW)  # fmt: skip
    assert [(str(b.date()), v) for b, v in zip(utc["bucket"], utc["value"], strict=True)] == [
        ("2026-03-01", 2),
        ("2026-03-02", 1),
    ]
    # In Paris (UTC+1) the 23:30 UTC call of March 1 belongs to March 2.
    paris = Filters(
        preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2), tz="Europe/Paris"
    )
    s = series(store, paris, "requests", now=NOW)
    assert [(str(b.date()), v) for b, v in zip(s["bucket"], s["value"], strict=True)] == [
        ("2026-03-01", 1),
        ("2026-03-02", 2),
    ]


def test_breakdown_top_n_and_filters(store, tmp_path):
    _load(store, tmp_path)
    f = Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2))
    by_model = series(store, f, "requests", breakdown="model", top_n=1, now=NOW)
    assert set(zip(by_model["grp"], by_model["series"].fillna("-"), strict=True)) == {
        ("top", "gpt-4o-mini"),
        ("other", "-"),
    }
    table = breakdown_table(store, f, "project", NOW)
    assert list(table["project"]) == ["beta", "alpha"]  # beta costs more
    assert list(table["requests"]) == [1, 2]
    only_alpha = f.with_(dims={"project": ("alpha",)})
    assert totals(store, only_alpha, NOW)["requests"] == 2
    by_user = breakdown_table(store, f, "user_id", NOW)
    assert dict(zip(by_user["user_id"], by_user["requests"], strict=True)) == {"u1": 2, "u2": 1}


def test_tokens_from_the_usage_pull_errors_from_the_gateway(store, tmp_path):
    from tests.conftest import fixture

    gw = ("timestamp,request_id,model,input_tokens,output_tokens,status\n"
          "2024-11-01T10:00:00Z,g1,gpt-4o-mini,600,300,success\n"
          "2024-11-01T11:00:00Z,g2,gpt-4o-mini,0,0,error\n"
          "2024-11-01T12:00:00Z,g3,gpt-4o-mini,0,0,error\n"
          "2024-11-01T13:00:00Z,g4,gpt-4o-mini,400,100,success\n")  # fmt: skip
    import_file(store, write(tmp_path, "gw.csv", gw))
    import_file(
        store, fixture("openai_usage_completions.json")
    )  # Nov 1: 8 requests, 3000 input tokens
    f = Filters(preset="custom", start=date(2024, 11, 1), end=date(2024, 11, 1))
    t = totals(store, f, NOW)
    assert (t["requests"], t["input_tokens"]) == (8, 3000)  # the provider's pull, not the gateway
    assert t["errors"] == 2 and t["error_rate"] == 50.0  # the gateway: 2 of its 4 calls failed
    by_model = breakdown_table(store, f, "model", NOW)
    # one name per model (the family) whatever the source called it; the names as given are
    # the snapshot dimension
    assert sorted(by_model["model"]) == ["gpt-4o", "gpt-4o-mini"]
    by_snapshot = breakdown_table(store, f, "snapshot", NOW)
    assert sorted(by_snapshot["snapshot"]) == [
        "gpt-4o-2024-08-06",
        "gpt-4o-mini",
        "gpt-4o-mini-2024-07-18",
    ]


def test_chart_spec_has_numbers_units_and_a_legend_filter(store, tmp_path):
    from lib.charts import time_series

    _load(store, tmp_path)
    f = Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2))
    df = series(store, f, "estimated_cost", "model", now=NOW)
    spec = time_series(
        df, label="Estimated cost", unit="USD", granularity="day", tz="UTC"
    ).to_dict()
    values = next(iter(spec["datasets"].values()))
    assert all(isinstance(v["value"], float) for v in values)  # Decimal would not plot
    assert sorted(round(v["value"], 6) for v in values) == [0.15, 1.0]
    assert spec["encoding"]["y"]["title"] == "Estimated cost (USD)"
    assert spec["encoding"]["x"]["title"] == "Time (UTC)"
    assert spec["params"][0]["bind"] == "legend"


def test_totals_pair_is_both_periods_in_one_pass(store, tmp_path):
    from lib.analytics.usage import totals_pair

    _load(store, tmp_path)
    for f in (Filters(preset="custom", start=date(2026, 3, 2), end=date(2026, 3, 2)),
              Filters(preset="custom", start=date(2026, 3, 2), end=date(2026, 3, 2), tz="Europe/Paris"),
              Filters(preset="this_month"), Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 1),
                                                    dims={"user_id": ("u1",)})):  # fmt: skip
        now, before = totals_pair(store, f, NOW)
        assert now == totals(store, f, NOW)
        assert before == totals(store, f, NOW, previous=True)
    # Mar 2 against Mar 1 (UTC): one request (b1) now, two before (a1, a2; one failed)
    now, before = totals_pair(
        store, Filters(preset="custom", start=date(2026, 3, 2), end=date(2026, 3, 2)), NOW
    )
    assert (now["requests"], before["requests"], before["errors"]) == (1, 2, 1)


def test_tops_in_one_pass_match_the_breakdown_tables(store, tmp_path):
    from lib.analytics.usage import tops

    _load(store, tmp_path)
    f = Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2))
    found = tops(store, f, ("model", "project"), n=1, now=NOW)
    # gpt-4o (1.00 USD, 1 request) beats gpt-4o-mini (0.15 USD); project beta (1.00) beats alpha
    assert found["model"].to_dict("records") == [
        {"model": "gpt-4o", "estimated_cost": Decimal("1.00"), "requests": 1}
    ]
    assert list(found["project"]["project"]) == ["beta"]
