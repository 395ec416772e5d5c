"""Gateway exports as their own tools write them: Helicone's export CLI at two versions and
its JSON Lines records, LiteLLM's spend logs from the API and from the UI's pages.

Fixture sources: tests/fixtures/README.md ("Gateways (Helicone, LiteLLM)"). Every expected
total is worked out by hand from the fixture's values.
"""

from __future__ import annotations

import json
from decimal import Decimal

from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, write


def _rows(store, columns: str) -> list[tuple]:
    return store.query(f"SELECT request_id, {columns} FROM request_events ORDER BY request_id")


def test_helicone_current_cli_csv(store):
    """JSON in request_properties escaped twice; latency empty (the API record has delay_ms
    only); a 429 without tokens; a cost written as 2.4e-7."""
    r = import_file(store, fixture("helicone_export_cli.csv"))
    assert (r.format, r.rows_read, r.rows_new) == ("helicone_csv", 4, 4)
    t = totals(store)
    assert (t.requests, t.errors) == (4, 1)
    assert t.input_tokens == 1200 + 2000 + 0 + 12
    assert t.output_tokens == 300 + 500 + 0 + 0
    assert t.stated_cost_usd == Decimal("0.00036") + Decimal("0.0135") + Decimal("0.00000024")
    assert [row[1] for row in _rows(store, "project")] == [
        "checkout",
        "support",
        "checkout",
        "search",
    ]
    assert store.scalar("SELECT count(*) FROM request_events WHERE latency_ms IS NOT NULL") == 0
    notes = " ".join(r.notes)
    assert "latency is empty on 4 of 4 rows (latency)" in notes
    assert "input tokens is empty on 1 of 4 rows (prompt_tokens)" in notes
    assert "cost is empty" not in notes


def test_helicone_older_cli_cost_usd(store):
    """The older CLI names the cost column cost_usd: the cost is read from it."""
    r = import_file(store, fixture("helicone_export_cli_cost_usd.csv"))
    assert r.format == "helicone_csv"
    t = totals(store)
    assert (t.requests, t.errors, t.input_tokens, t.output_tokens) == (3, 1, 1500, 300)
    assert t.stated_cost_usd == Decimal("0.0045") + Decimal("0") + Decimal("0.0008")
    assert [row[1] for row in _rows(store, "project")] == ["web", "web", "batch-jobs"]
    assert not any("cost" in n for n in r.notes)


def test_helicone_empty_cost_is_named(store, tmp_path):
    """The older CLI reading a record without cost_usd writes the column empty: the import
    says so instead of storing a silent NULL."""
    with open(fixture("helicone_export_cli_cost_usd.csv"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    emptied = [lines[0]] + [ln[: ln.rindex(",")] + "," for ln in lines[1:]]
    r = import_file(store, write(tmp_path, "h.csv", "\n".join(emptied) + "\n"))
    assert "cost is empty on 3 of 3 rows (cost_usd)" in " ".join(r.notes)
    assert totals(store).stated_cost_usd is None  # estimated from catalog prices instead


def test_helicone_without_cost_column_is_named(store, tmp_path):
    with open(fixture("helicone_export_cli.csv"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    cut = [ln[: ln.rindex(",")] for ln in lines]
    r = import_file(store, write(tmp_path, "h.csv", "\n".join(cut) + "\n"))
    assert any(n.startswith("no cost column") for n in r.notes)


def test_helicone_delay_ms_when_latency_empty(store, tmp_path):
    header = (
        "response_id,response_created_at,response_status,request_created_at,request_properties,"
        "model,prompt_tokens,completion_tokens,latency,delay_ms,cost\n"
    )
    body = (
        '"a","2025-06-02T09:15:01Z","200","2025-06-02T09:15:00Z","{}","gpt-4o","10","5",,"842","0.001"\n'
        '"b","2025-06-02T09:16:01Z","200","2025-06-02T09:16:00Z","{}","gpt-4o","10","5","700","650","0.001"\n'
    )
    r = import_file(store, write(tmp_path, "h.csv", header + body))
    assert _rows(store, "latency_ms") == [("a", 842), ("b", 700)]
    assert not any("latency" in n for n in r.notes)


def test_helicone_jsonl_records(store):
    """The CLI's default format: one API record per line (delay_ms, cost and costUSD,
    request_properties as an object, cache reads)."""
    r = import_file(store, fixture("helicone_export_cli.jsonl"))
    assert (r.format, r.source, r.rows_new) == ("helicone_csv", "helicone", 2)
    t = totals(store)
    assert (t.requests, t.errors, t.input_tokens, t.output_tokens) == (2, 0, 1800, 300)
    assert t.stated_cost_usd == Decimal("0.00018") + Decimal("0.00144")
    assert _rows(store, "project, latency_ms, cached_input_tokens, provider") == [
        ("7d3f0b9e-2222-4c4c-9d9d-000000000201", "checkout", 640, 400, "openai"),
        ("7d3f0b9e-2222-4c4c-9d9d-000000000202", "support", 1210, 0, "anthropic"),
    ]


def test_litellm_spend_logs_api_json(store):
    """GET /spend/logs: a JSON array of LiteLLM_SpendLogs rows, metadata as an object."""
    r = import_file(store, fixture("litellm_spend_logs_api.json"))
    assert (r.format, r.source, r.rows_new) == ("litellm_spend_logs", "litellm", 3)
    t = totals(store)
    assert (t.requests, t.errors) == (3, 1)
    assert (t.input_tokens, t.output_tokens) == (500 + 0 + 12, 100 + 0 + 0)
    assert t.stated_cost_usd == Decimal("0.00012") + Decimal("0.00000024")
    assert _rows(store, "project, api_key, latency_ms, cached_input_tokens, http_status") == [
        ("chatcmpl-6a1f0c2e-0001", "team-1", "prod-key", 1250, 200, None),
        (
            "chatcmpl-6a1f0c2e-0002",
            None,
            "151e85e46ab8c9c7fad090793e3fe87940213f6ae665b543ca633b0b85ba6dc6",
            310,
            0,
            429,
        ),
        ("embd-6a1f0c2e-0003", "team-1", "prod-key", 100, 0, None),  # end − start
    ]


def test_litellm_ui_page_json(store, tmp_path):
    """The UI's paginated response {"data": [...], "total", "page", …}; two saved pages in
    one JSON array count each row once."""
    r = import_file(store, fixture("litellm_spend_logs_ui_page.json"))
    assert (r.format, r.rows_new) == ("litellm_spend_logs", 2)
    t = totals(store)
    assert (t.requests, t.input_tokens, t.output_tokens) == (2, 1400, 250)
    assert t.stated_cost_usd == Decimal("0.0045") + Decimal("0.0015")
    assert _rows(store, "project, api_key, user_id") == [
        ("chatcmpl-9c2b7d41-0004", "team-1", "prod-key", "alice"),
        ("chatcmpl-9c2b7d41-0005", None, "ci-key", "bob"),
    ]
    with open(fixture("litellm_spend_logs_ui_page.json"), encoding="utf-8") as fh:
        page = json.load(fh)
    pages = [
        {**page, "data": page["data"][:1], "page_size": 1, "total_pages": 2},
        {**page, "data": page["data"][1:], "page": 2, "page_size": 1, "total_pages": 2},
    ]
    again = import_file(store, write(tmp_path, "pages.json", pages))
    assert (again.rows_read, again.rows_new, again.rows_duplicate) == (2, 0, 2)
    lines = "".join(json.dumps(p) + "\n" for p in pages)
    third = import_file(store, write(tmp_path, "pages.jsonl", lines))
    assert (third.format, third.rows_read, third.rows_new) == ("litellm_spend_logs", 2, 0)
    assert totals(store).requests == 2


def test_litellm_daily_team_spend_csv(store, tmp_path):
    """LiteLLM_DailyTeamSpend as CSV: one usage bucket per day, team, key and model; a
    second export of the same days replaces them."""
    r = import_file(store, fixture("litellm_daily_team_spend.csv"))
    assert (r.format, r.source, r.grain, r.rows_new) == (
        "litellm_daily_spend",
        "litellm_daily",
        "usage",
        3,
    )
    t = totals(store)
    assert (t.requests, t.errors) == (1 + 5 + 1, 0 + 1 + 0)
    assert t.input_tokens == 500 + 12000 + 12
    assert t.cached_input_tokens == 200 + 8000 + 0
    assert t.output_tokens == 100 + 800 + 0
    assert t.stated_cost_usd == Decimal("0.00012") + Decimal("0.0498") + Decimal("0.00000024")
    rows = store.query(
        "SELECT CAST(bucket_start AS DATE), bucket_end - bucket_start, provider, project, "
        "cache_write_tokens FROM usage_buckets ORDER BY bucket_start, model"
    )
    assert [(str(d), w.days, p, proj, cw) for d, w, p, proj, cw in rows] == [
        ("2025-05-10", 1, "anthropic", "team-1", 1000),
        ("2025-05-10", 1, "openai", "team-1", 0),
        ("2025-05-11", 1, "openai", None, 0),
    ]
    with open(fixture("litellm_daily_team_spend.csv"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    # later the same day: the Claude row grew by one request (LiteLLM updates rows in place)
    later = lines[2].replace(",0.0498,5,4,1,", ",0.0598,6,5,1,")
    again = import_file(store, write(tmp_path, "d.csv", "\n".join([*lines[:2], later]) + "\n"))
    assert (again.rows_read, again.rows_new, again.rows_duplicate, again.rows_replaced) == (
        2,
        1,
        1,
        1,
    )
    t = totals(store)
    assert t.requests == 1 + 6 + 1
    assert t.stated_cost_usd == Decimal("0.00012") + Decimal("0.0598") + Decimal("0.00000024")


def test_helicone_negative_status_is_an_error(store, tmp_path):
    """A request without a provider response has a negative response_status in Helicone: an
    error with no HTTP status, not a refused file."""
    with open(fixture("helicone_export_cli.csv"), encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    lines[3] = lines[3].replace('"429"', '"-1"')
    r = import_file(store, write(tmp_path, "h.csv", "\n".join(lines) + "\n"))
    assert (r.rows_new, totals(store).errors) == (4, 1)
    row = store.query(
        "SELECT status, http_status, error_code FROM request_events "
        "WHERE request_id = '5b0e4f2a-1c3d-4e5f-8a9b-0c1d2e3f4a03'"
    )
    assert row == [("error", None, "-1")]
    assert any("1 rows have a negative response_status" in n for n in r.notes)
