"""Counting rules across streams: which source each measure comes from, over one scope.

Fixtures: Anthropic's usage report (``tests/fixtures/anthropic_usage.json``, no request count)
and a small request log written here; every expected figure is worked out in the comments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from lib import summary
from lib.analytics.costs import not_counted
from lib.analytics.overview import spend
from lib.analytics.requests import bar_relation, request_rows
from lib.analytics.savings import unit_costs
from lib.analytics.usage import breakdown_table, series, totals, wider_than_hours
from lib.charts import time_series
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import fixture, openai_page, write

NOW = datetime(2025, 1, 3, tzinfo=UTC)
DAY = Filters(preset="custom", start=date(2025, 1, 1), end=date(2025, 1, 1))
LOG = (
    "timestamp,request_id,model,input_tokens,output_tokens,status\n"
    # three Claude calls the gateway logged on the day the usage report covers
    "2025-01-01T09:00:00Z,c1,claude-sonnet-4-5-20250929,10,1,success\n"
    "2025-01-01T10:00:00Z,c2,claude-sonnet-4-5-20250929,20,2,success\n"
    "2025-01-01T11:00:00Z,c3,claude-haiku-4-5-20251001,30,3,error\n"
    # two OpenAI calls: no usage report for OpenAI, so the log counts everything for them
    "2025-01-01T12:00:00Z,o1,gpt-4o-mini,100,10,success\n"
    "2025-01-01T13:00:00Z,o2,gpt-4o-mini,200,20,success\n"
)


def _load(store, tmp_path) -> None:
    import_file(store, fixture("anthropic_usage.json"))
    import_file(store, write(tmp_path, "gateway.csv", LOG))


def test_requests_come_from_the_logs_where_the_usage_report_has_none(store, tmp_path):
    _load(store, tmp_path)
    t = totals(store, DAY, NOW)
    # requests: 3 Claude (logs; the report states none) + 2 OpenAI (logs) = 5
    assert t["requests"] == 5
    # input tokens: Anthropic from the report (1000 + 200 + 100 + 300 + 500 = 2100), never the
    # log's 10 + 20 + 30 as well; OpenAI from the log (100 + 200): 2400
    assert t["input_tokens"] == 2_400
    # output: report 400 + 100, OpenAI log 10 + 20
    assert t["output_tokens"] == 530
    # the error rate's scope is the logs: 1 error of 5 logged requests
    assert round(t["error_rate"], 6) == 20.0
    s = summary.totals(store)
    assert (s.requests, s.input_tokens, s.output_tokens) == (5, 2_400, 530)


def test_requests_stay_unknown_without_logs(store):
    import_file(store, fixture("anthropic_usage.json"))
    t = totals(store, DAY, NOW)
    assert t["requests"] is None  # never 0: the report states no count
    assert t["input_tokens"] == 2_100
    assert summary.totals(store).requests is None


def test_breakdown_by_provider_counts_each_provider_once(store, tmp_path):
    _load(store, tmp_path)
    tab = breakdown_table(store, DAY, "provider", NOW, latency=False).set_index("provider")
    assert tab.loc["anthropic", "requests"] == 3
    assert tab.loc["anthropic", "input_tokens"] == 2_100
    assert tab.loc["openai", "requests"] == 2
    assert tab.loc["openai", "input_tokens"] == 300


def test_per_1k_requests_divides_only_the_spend_whose_requests_are_counted(store, tmp_path):
    # Anthropic's report (no request count, no Claude logs) and two logged OpenAI calls.
    import_file(store, fixture("anthropic_usage.json"))
    openai_only = "\n".join(line for line in LOG.splitlines() if ",c" not in line) + "\n"
    import_file(store, write(tmp_path, "gateway.csv", openai_only))
    units = unit_costs(store, DAY, NOW)
    total = units[units["total"]].iloc[0]
    assert total["requests"] == 2
    # gpt-4o-mini: 300 input × $0.15/M + 30 output × $0.60/M = 0.000045 + 0.000018 = $0.000063
    assert Decimal(str(total["requests_scope_usd"])) == Decimal("0.000063")
    # per 1K requests: 0.000063 × 1000 / 2 = 0.0315 (Claude's spend is not divided by OpenAI's calls)
    assert round(float(total["per_1k_requests"]), 10) == 0.0315
    assert float(total["estimated"]) > 0.000063  # the Claude estimate is still in the total


OCT = Filters(preset="custom", start=date(2025, 10, 5), end=date(2025, 10, 7))
OCT_NOW = datetime(2025, 10, 9, tzinfo=UTC)
COSTS_OCT_5 = {
    "object": "page",
    "data": [
        {
            "object": "bucket",
            "start_time": 1759622400,  # 2025-10-05T00:00:00Z
            "end_time": 1759708800,
            "results": [
                {
                    "object": "organization.costs.result",
                    "amount": {"value": 0.9, "currency": "usd"},
                    "line_item": "gpt-4o-2024-08-06, input",
                    "project_id": None,
                }
            ],
        }
    ],
    "has_more": False,
    "next_page": None,
}


def test_stated_cost_counts_where_no_cost_report_covers_the_day(store):
    # The French export states cost per day: 0,895874 + 0,56177125 + 0,569788
    import_file(store, fixture("generic_fr_jetons.csv"))
    usd, basis = spend(store, OCT, OCT_NOW)
    assert (usd, basis) == (Decimal("2.02743325"), "stated")


def test_billed_wins_over_stated_and_the_rest_is_named(store, tmp_path):
    import_file(store, fixture("generic_fr_jetons.csv"))
    import_file(store, write(tmp_path, "costs.json", COSTS_OCT_5))
    usd, basis = spend(store, OCT, OCT_NOW)
    # Oct 5 billed 0.9 (not the stated 0.895874); Oct 6 and 7 stated: 0.56177125 + 0.569788
    assert (usd, basis) == (Decimal("2.03155925"), "billed + stated")
    left = not_counted(store, OCT, OCT_NOW)
    assert len(left) == 1
    row = left.iloc[0]
    assert (row["file_name"], row["reason"], row["counted_by"], row["days"]) == (
        "generic_fr_jetons.csv",
        "billed",
        "cost report",
        1,
    )
    assert Decimal(str(row["stated_usd"])) == Decimal("0.895874")


def test_rows_of_another_stream_are_named_with_the_stream_that_counts(store, tmp_path):
    _load(store, tmp_path)
    left = not_counted(store, DAY, NOW)
    claude = left[left["provider"] == "anthropic"]
    assert list(claude["reason"]) == ["other_stream"]
    assert list(claude["counted_by"]) == ["anthropic_usage"]
    # the log's three Claude rows: (10 + 1) + (20 + 2) + (30 + 3) = 66 tokens not counted
    assert (int(claude["rows"].iloc[0]), int(claude["tokens"].iloc[0])) == (3, 66)
    assert left[left["provider"] == "openai"].empty  # OpenAI's log is the counted stream


OPENAI_JAN_1 = openai_page(
    {
        "object": "organization.usage.completions.result",
        "input_tokens": 5000,
        "output_tokens": 500,
        "num_model_requests": 10,
        "model": "gpt-4o-mini",
    },
    start=1735689600,  # 2025-01-01T00:00:00Z
)


def test_the_drill_down_says_how_its_rows_relate_to_the_bar(store, tmp_path):
    # OpenAI's usage API counts 10 gpt-4o-mini requests on Jan 1; the gateway logged 2 of them
    # (o1, o2) and 3 Claude calls, which Anthropic's report (no request count) leaves to the log.
    import_file(store, write(tmp_path, "usage.json", OPENAI_JAN_1))
    _load(store, tmp_path)
    window = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 1, 2, tzinfo=UTC))
    rel = bar_relation(store, DAY, window=window)
    # the bar: 10 (OpenAI report) + 3 (Claude, from the log) = 13; 5 log rows listed below it
    assert (rel.bar_requests, rel.log_rows, rel.counted_log_rows) == (13, 5, 3)
    assert rel.elsewhere == [("openai", "openai_usage", 2, 10)]
    assert rel.report_only_requests == 10
    _rows, total = request_rows(store, DAY, window=window)
    assert total == rel.log_rows
    # one series: the bar of Claude Sonnet only (2 logged calls, counted from the log)
    one = bar_relation(store, DAY, window=window, where={"model": "claude-sonnet-4-5"})
    assert (one.bar_requests, one.log_rows, one.counted_log_rows, one.elsewhere) == (2, 2, 2, [])
    # the same by the name the log gave (the snapshot dimension)
    snap = bar_relation(store, DAY, window=window, where={"snapshot": "claude-sonnet-4-5-20250929"})
    assert (snap.bar_requests, snap.log_rows) == (2, 2)
    assert request_rows(store, DAY, window=window, where={"model": "claude-sonnet-4-5"})[1] == 2


def test_usage_and_costs_pages_say_it(app_env, tmp_path):
    from lib.store import Store
    from tests.conftest import app_test, login, shown

    with Store(app_env) as s:
        import_file(s, write(tmp_path, "usage.json", OPENAI_JAN_1))
        import_file(s, fixture("anthropic_usage.json"))
        import_file(s, write(tmp_path, "gateway.csv", LOG))
    query = {"period": "custom", "from": "2025-01-01", "to": "2025-01-01", "gran": "day"}
    at = app_test("pages/1_Usage.py")
    at.query_params.update(query)
    at = login(at, "vic")
    assert not at.exception
    assert {m.label: m.value for m in at.metric}["Requests"] == "13"
    said = " ".join(shown(c.value) for c in at.caption)
    assert "The bar counts 13 requests: 3 of them are request-log rows listed below" in said
    assert "10 come from usage reports" in said
    assert "2 openai rows below are not counted: the bar counts openai from openai_usage" in said
    costs = app_test("pages/2_Costs.py")
    costs.query_params.update(query)
    costs = login(costs, "vic")
    assert not costs.exception
    per_day = next(d.value for d in costs.dataframe if "Day (UTC)" in d.value.columns)
    assert list(per_day.columns) == ["Day (UTC)", "Provider", "Billed (USD)", "Stated (USD)",
                                     "Estimated (USD)", "Note"]  # fmt: skip
    assert any("Not counted" in i.value for i in costs.info)  # points to its tab
    costs.query_params["tab"] = "left"
    costs.run()
    assert "Not counted, and why" in [h.value for h in costs.subheader]
    table = next(d.value for d in costs.dataframe if "Not counted" in d.value.columns)
    assert sorted(table["Not counted"]) == [
        "tokens and requests: counted from openai_usage for that provider and day",
        # the report has no request count: the log's 3 Claude requests are counted (13 above)
        "tokens: counted from anthropic_usage for that provider and day (it has no request count: "
        "the requests of these rows are counted)",
    ]


def test_playground_runs_join_the_same_model_names(store, tmp_path):
    from lib.llm.chat import ChatRequest, ChatResult, Usage
    from lib.playground.history import record_run

    # the gateway logged "gpt-4o-mini"; the API answered a playground run as the dated snapshot
    import_file(store, write(tmp_path, "gateway.csv", LOG))
    req = ChatRequest(provider="openai", base_url="https://api.openai.com/v1", model="gpt-4o-mini",
                      messages=({"role": "user", "content": "hi"},))  # fmt: skip
    run = ChatResult(text="Hello", usage=Usage(7, 0, 0, 5, 0), ttft_s=0.1, total_s=0.2,
                     model="gpt-4o-mini-2024-07-18")  # fmt: skip
    record_run(store, "ana", req, run, None, keep_text=False)
    everything = Filters(preset="custom", start=date(2020, 1, 1), end=date(2099, 12, 31))
    by_model = breakdown_table(store, everything, "model", NOW, latency=False).set_index("model")
    # one row for the family: 2 logged calls (o1, o2) + 1 playground run
    assert by_model.loc["gpt-4o-mini", "requests"] == 3
    by_snapshot = breakdown_table(store, everything, "snapshot", NOW, latency=False)
    snaps = dict(zip(by_snapshot["snapshot"], by_snapshot["requests"], strict=True))
    assert snaps["gpt-4o-mini"] == 2 and snaps["gpt-4o-mini-2024-07-18"] == 1


HOURLY = Filters(preset="custom", start=date(2025, 1, 1), end=date(2025, 1, 1), granularity="hour")


def test_a_daily_bucket_stands_for_its_whole_day_at_hourly_granularity(store, tmp_path):
    import_file(store, fixture("anthropic_usage.json"))  # one daily bucket, Jan 1
    s = series(store, HOURLY, "input_tokens", "provider", now=NOW)
    # one row: the whole day's 2,100 tokens, starting at midnight and covering 24 hours
    assert [
        (str(b), v, h) for b, v, h in zip(s["bucket"], s["value"], s["span_h"], strict=True)
    ] == [("2025-01-01 00:00:00", 2100, 24)]
    assert wider_than_hours(s) == "daily"
    _load_log_only(store, tmp_path)
    mixed = series(store, HOURLY, "input_tokens", "provider", now=NOW)
    # OpenAI's logged calls stay in their hours (12:00: 100, 13:00: 200); Anthropic's day is one band
    rows = {
        (str(b)[11:16], p, h): v
        for b, p, v, h in mixed[["bucket", "series", "value", "span_h"]].itertuples(index=False)
    }
    assert rows == {
        ("00:00", "anthropic", 24): 2100,
        ("12:00", "openai", 1): 100,
        ("13:00", "openai", 1): 200,
    }
    assert wider_than_hours(mixed) == "mixed"
    spec = time_series(
        mixed, label="Input tokens", unit="tokens", granularity="hour", tz="UTC"
    ).to_dict()
    band = spec["layer"][0]
    assert band["encoding"]["x2"]["field"] == "bucket_end"
    data = spec["datasets"][band["data"]["name"]]
    # the band is as high as the day's average per hour: 2,100 / 24 = 87.5
    assert [d["y1"] for d in data] == [87.5]
    assert [(d["bucket"][:16], d["bucket_end"][:16]) for d in data] == [
        ("2025-01-01T00:00", "2025-01-02T00:00")
    ]


def _load_log_only(store, tmp_path) -> None:
    openai_only = "\n".join(line for line in LOG.splitlines() if ",c" not in line) + "\n"
    import_file(store, write(tmp_path, "openai_log.csv", openai_only))


def test_usage_page_shows_days_when_the_sources_are_daily(app_env):
    from lib.store import Store
    from tests.conftest import app_test, login, shown

    with Store(app_env) as s:
        import_file(s, fixture("anthropic_usage.json"))
    at = app_test("pages/1_Usage.py")
    at.query_params.update(
        {"period": "custom", "from": "2025-01-01", "to": "2025-01-01", "gran": "hour"}
    )
    at = login(at, "vic")
    assert not at.exception
    said = " ".join(shown(c.value) for c in at.caption)
    assert "report per day" in said and "the chart shows days" in said
    picker = next(s for s in at.selectbox if s.label == "Time bucket")
    assert picker.options == ["2025-01-01"]  # a day, not "2025-01-01 00:00"


AUG_8 = Filters(preset="custom", start=date(2025, 8, 8), end=date(2025, 8, 8))
AUG_NOW = datetime(2025, 8, 10, tzinfo=UTC)


def test_a_partly_stated_cost_never_hides_the_estimate_of_the_rest(store, tmp_path):
    log = (
        "timestamp,request_id,model,input_tokens,output_tokens,status,cost\n"
        "2025-08-08T09:00:00Z,a1,gpt-4o-mini,1000000,0,success,0.15\n"  # states its cost
        "2025-08-08T10:00:00Z,a2,gpt-4o,1000000,0,success,\n"
    )  # does not
    import_file(store, write(tmp_path, "gw.csv", log))  # fmt: skip
    # gpt-4o-mini stated 0.15; gpt-4o estimated 1M × $2.50/M = 2.50: 2.65, both labelled
    assert spend(store, AUG_8, AUG_NOW) == (Decimal("2.65"), "stated + estimated")


def test_a_rollup_row_that_only_partly_states_cost_is_estimated(store, tmp_path):
    log = (
        "timestamp,request_id,model,input_tokens,output_tokens,status,cost\n"
        "2025-08-08T09:00:00Z,a1,gpt-4o-mini,1000000,0,success,0.15\n"
        "2025-08-08T09:30:00Z,a2,gpt-4o-mini,1000000,0,success,\n"
    )  # same hour and model
    import_file(store, write(tmp_path, "gw.csv", log))  # fmt: skip
    # one rollup row, half stated: the estimate of both, 2M × $0.15/M = 0.30 (not 0.15 alone)
    assert spend(store, AUG_8, AUG_NOW) == (Decimal("0.30"), "estimated")


def test_a_claude_code_report_never_hides_the_rest_of_anthropic_traffic(store, tmp_path):
    log = (
        "timestamp,request_id,model,input_tokens,output_tokens,status,cost\n"
        "2025-08-08T09:00:00Z,a1,claude-sonnet-4-20250514,1000000,100000,success,4.50\n"
        "2025-08-08T10:00:00Z,a2,claude-sonnet-4-20250514,1000000,100000,success,4.50\n"
        "2025-08-08T11:00:00Z,a3,claude-sonnet-4-20250514,1000000,100000,success,4.50\n"
    )
    import_file(store, write(tmp_path, "gw.csv", log))  # fmt: skip
    import_file(store, fixture("claude_code_docs_example.json"))  # a Claude Code day, 2025-08-08
    t = totals(store, AUG_8, AUG_NOW)
    # the gateway log (all API traffic) stays the counted stream: 3 × 1M input, 3 requests
    assert (t["input_tokens"], t["requests"]) == (3_000_000, 3)
    assert spend(store, AUG_8, AUG_NOW) == (Decimal("13.50"), "stated")  # 3 × 4.50
    left = not_counted(store, AUG_8, AUG_NOW)
    assert list(left["source"]) == ["claude_code"] and list(left["counted_by"]) == ["*request"]
