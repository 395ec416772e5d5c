"""Nothing lost, nothing doubled: re-imports, overlapping pulls, undo."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lib.errors import InputError, NotFoundError, TokenboardError
from lib.ingest import import_file, undo_import
from lib.summary import totals
from tests.conftest import fixture, openai_buckets, snapshot, write

DAY = 86400
D1 = 1730419200  # 2024-11-01 00:00 UTC


def usage_pull(buckets: dict[int, int], width: int = DAY, model: str = "gpt-4o") -> dict:
    """An OpenAI usage page: {bucket start: input tokens} (0 = an empty bucket)."""
    result = {"object": "organization.usage.completions.result", "output_tokens": 0, "num_model_requests": 1,
              "model": model}  # fmt: skip
    return openai_buckets(
        {s: [{**result, "input_tokens": n}] if n else [] for s, n in buckets.items()}, width
    )


def test_reimporting_the_same_file_adds_nothing(store):
    for name in (
        "litellm_spend_logs.csv",
        "openai_usage_completions.json",
        "anthropic_cost.json",
        "generic_fr.csv",
        "helicone_export.csv",
    ):
        first = import_file(store, fixture(name))
        before = totals(store).as_json()
        again = import_file(store, fixture(name))
        assert again.rows_new == 0, name
        assert again.rows_duplicate == again.rows_read == first.rows_read, name
        assert totals(store).as_json() == before, name


def test_newer_pull_replaces_the_buckets_it_covers(store, tmp_path):
    import_file(store, write(tmp_path, "a.json", usage_pull({D1: 100, D1 + DAY: 200})))
    assert totals(store).input_tokens == 300
    # the newer pull covers day 2 (corrected to 250) and day 3 (new)
    r = import_file(
        store, write(tmp_path, "b.json", usage_pull({D1 + DAY: 250, D1 + 2 * DAY: 400}))
    )
    assert (r.rows_new, r.rows_replaced) == (2, 1)
    assert totals(store).input_tokens == 100 + 250 + 400
    # an empty bucket in a newer pull says "no usage": it replaces what was there
    r = import_file(store, write(tmp_path, "c.json", usage_pull({D1: 0, D1 + 2 * DAY: 400})))
    assert (r.rows_new, r.rows_duplicate, r.rows_replaced) == (0, 1, 1)
    assert totals(store).input_tokens == 250 + 400
    # the rollups agree with the live rows
    assert store.scalar("SELECT sum(input_tokens) FROM agg_hourly") == 650


def test_an_all_empty_pull_keeps_earlier_data_and_says_why(store, tmp_path):
    import_file(store, write(tmp_path, "a.json", usage_pull({D1: 100})))
    r = import_file(store, write(tmp_path, "empty.json", usage_pull({D1: 0})))
    assert "endpoint cannot be told" in r.notes[0]
    assert totals(store).input_tokens == 100


def test_hourly_pull_over_daily_buckets_is_refused(store, tmp_path):
    import_file(store, write(tmp_path, "daily.json", usage_pull({D1: 100})))
    before = snapshot(store)
    with pytest.raises(InputError, match="cover only part of 1 bucket"):
        import_file(
            store, write(tmp_path, "hourly.json", usage_pull({D1: 5, D1 + 3600: 6}, width=3600))
        )
    assert snapshot(store) == before


def test_daily_pull_over_hourly_buckets_replaces_them(store, tmp_path):
    import_file(
        store, write(tmp_path, "hourly.json", usage_pull({D1: 5, D1 + 3600: 6}, width=3600))
    )
    import_file(store, write(tmp_path, "daily.json", usage_pull({D1: 100})))
    assert totals(store).input_tokens == 100


def test_undo_removes_only_its_rows_and_brings_back_what_it_replaced(store, tmp_path):
    a = import_file(store, write(tmp_path, "a.json", usage_pull({D1: 100, D1 + DAY: 200})))
    b = import_file(store, write(tmp_path, "b.json", usage_pull({D1 + DAY: 250})))
    g = import_file(store, fixture("litellm_spend_logs.csv"))
    assert totals(store).input_tokens == 100 + 250 + 300  # other provider-days from the gateway
    res = undo_import(store, b.import_id)
    assert (res.rows_removed, res.rows_restored) == (1, 1)
    assert totals(store).input_tokens == 100 + 200 + 300
    undo_import(store, g.import_id)
    assert totals(store).input_tokens == 300
    assert store.scalar("SELECT count(*) FROM agg_hourly WHERE import_id = ?", [g.import_id]) == 0
    assert store.scalar("SELECT count(*) FROM agg_error_hourly") == 0
    assert store.scalar("SELECT status FROM imports WHERE import_id = ?", [b.import_id]) == "undone"
    with pytest.raises(TokenboardError, match="undone"):
        undo_import(store, b.import_id)
    with pytest.raises(NotFoundError):
        undo_import(store, 999)
    undo_import(store, a.import_id)
    assert totals(store).input_tokens is None


def test_undo_keeps_rows_still_covered_by_a_newer_pull(store, tmp_path):
    a = import_file(store, write(tmp_path, "a.json", usage_pull({D1: 100})))
    import_file(store, write(tmp_path, "b.json", usage_pull({D1: 150})))
    c = import_file(store, write(tmp_path, "c.json", usage_pull({D1: 175})))
    # undo the middle one: c still covers the day, so a's row must stay replaced
    b_id = c.import_id - 1
    undo_import(store, b_id)
    assert totals(store).input_tokens == 175
    undo_import(store, c.import_id)
    assert totals(store).input_tokens == 100
    assert a.import_id < b_id


def test_overlapping_request_logs_count_each_request_once(store, tmp_path):
    head = "timestamp,request_id,model,input_tokens,output_tokens\n"
    rows = [f"2026-01-01 00:0{i}:00,r{i},gpt-4o,{10 * i},1\n" for i in range(1, 6)]
    import_file(store, write(tmp_path, "w1.csv", head + "".join(rows[:3])))
    r = import_file(store, write(tmp_path, "w2.csv", head + "".join(rows[1:])))
    assert (r.rows_read, r.rows_new, r.rows_duplicate) == (4, 2, 2)
    assert totals(store).input_tokens == 10 + 20 + 30 + 40 + 50
    assert store.scalar("SELECT sum(requests) FROM agg_hourly") == 5


def test_exact_duplicate_rows_without_ids_are_dropped(store, tmp_path):
    text = "timestamp,model,input_tokens\n2026-01-01 10:00,gpt-4o,5\n2026-01-01 10:00,gpt-4o,5\n2026-01-01 10:01,gpt-4o,5\n"
    r = import_file(store, write(tmp_path, "d.csv", text))
    assert (r.rows_read, r.rows_new, r.rows_duplicate) == (3, 2, 1)


def test_gateway_and_provider_usage_are_not_added_together(store, tmp_path):
    """The same OpenAI traffic seen by a gateway log and by the Usage API is counted once,
    from the provider's usage pull, on the days the pull covers."""
    head = "timestamp,request_id,model,input_tokens,output_tokens,cost\n"
    gw = (
        head
        + "2024-11-01 10:00:00,g1,gpt-4o-mini,600,300,0.000270\n2024-11-03 10:00:00,g2,gpt-4o,1000,0,0.0025\n"
    )
    import_file(store, write(tmp_path, "gateway.csv", gw))
    import_file(store, fixture("openai_usage_completions.json"))  # covers 2024-11-01 and 11-02
    t = totals(store)
    # Nov 1 from the usage pull (3000), Nov 3 from the gateway (1000)
    assert t.input_tokens == 3000 + 1000
    # stated cost: Nov 1's counted stream (the usage pull) states none; Nov 3's gateway does
    assert t.stated_cost_usd == Decimal("0.0025")
    assert ("openai", "*request", 1) in t.streams and ("openai", "openai_usage", 1) in t.streams


def test_billed_costs_win_over_stated_costs_for_the_same_day(store, tmp_path):
    head = "timestamp,request_id,model,input_tokens,output_tokens,cost\n"
    gw = (
        head
        + "2024-11-01 10:00:00,g1,gpt-4o-mini,600,300,0.5\n2024-11-05 10:00:00,g2,gpt-4o,10,0,0.25\n"
    )
    import_file(store, write(tmp_path, "gateway.csv", gw))
    import_file(store, fixture("openai_costs.json"))  # Nov 1: 0.30 billed, Nov 2: 0.70 billed
    assert totals(store).stated_cost_usd == Decimal("0.30") + Decimal("0.70") + Decimal("0.25")


def test_a_viewer_can_neither_import_nor_undo(store):
    from lib.auth.roles import PermissionDeniedError

    r = import_file(store, fixture("generic_requests.jsonl"), role="analyst")
    before = snapshot(store)
    with pytest.raises(PermissionDeniedError):
        import_file(store, fixture("helicone_export.csv"), role="viewer")
    with pytest.raises(PermissionDeniedError):
        undo_import(store, r.import_id, role="viewer")
    with pytest.raises(PermissionDeniedError):
        import_file(store, fixture("helicone_export.csv"), role=None)
    assert snapshot(store) == before
