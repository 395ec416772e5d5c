"""Real OpenAI, Anthropic and OpenRouter exports that failed: OpenRouter's activity API and its
Activity page's export by model (cost in ``usage``, read as none before), its per-request
activity CSV (refused for its cost parts and time-to-first-token column), its generation
lookups (``{"data": {…}}``, refused), and saved API pages that say more pages follow.

Expected totals are worked out by hand from the fixture files (sources in
tests/fixtures/README.md).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lib.errors import InputError
from lib.importers.formats.generic import known_mapping
from lib.importers.match import match_columns
from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, run_cli, snapshot, write


def _buckets(store) -> list[tuple]:
    return store.query(
        "SELECT provider, model, requests, input_tokens, output_tokens, reasoning_tokens, "
        "cost_usd FROM usage_buckets ORDER BY bucket_start, model"
    )


def test_openrouter_activity_api_reads_usage_as_dollars(store):
    """GET /api/v1/activity: ``usage`` is the dollars OpenRouter charged; it was read as no
    cost at all (only a token estimate was shown)."""
    r = import_file(store, fixture("openrouter_activity_api_docs_example.json"))
    assert (r.grain, r.rows_read) == ("usage", 1)
    # docs example: usage 0.015, byok_usage_inference 0.012 (billed by the provider, left out)
    assert _buckets(store) == [
        ("openai", "openai/gpt-4.1-2025-04-14", 5, 50, 125, 25, Decimal("0.015"))
    ]
    t = totals(store)
    assert (t.requests, t.input_tokens, t.output_tokens) == (5, 50, 125)
    assert t.stated_cost_usd == Decimal("0.015")
    assert any("byok_usage_inference" in n and "$0.012" in n for n in r.notes)


def test_openrouter_activity_api_pages_add_up(store, tmp_path):
    """Two saved days (the docs' row, and a second day with another model) in one array."""
    doc = json.loads(Path(fixture("openrouter_activity_api_docs_example.json")).read_text())
    row = dict(doc["data"][0])
    row.update(
        date="2025-08-25",
        model="anthropic/claude-sonnet-4",
        model_permaslug="anthropic/claude-sonnet-4",
        usage=0.2,
        byok_usage_inference=0,
        requests=7,
        prompt_tokens=1000,
        completion_tokens=300,
        reasoning_tokens=0,
    )
    path = write(tmp_path, "activity.json", [doc, {"data": [row]}])
    r = import_file(store, path)
    assert r.rows_read == 2
    t = totals(store)
    assert t.requests == 5 + 7
    assert (t.input_tokens, t.output_tokens) == (50 + 1000, 125 + 300)
    assert t.stated_cost_usd == Decimal("0.015") + Decimal("0.2")  # 0.215
    assert any("$0.012" in n for n in r.notes)  # the second day has no BYOK spend


def test_openrouter_activity_page_export_by_model(store):
    """The Activity page's export (``Date, Slug, Usage, BYOK Usage, Requests, …``): its cost
    and model were dropped (provider ``unknown``, no cost)."""
    r = import_file(store, fixture("openrouter_activity_by_model.csv"))
    assert (r.grain, r.rows_read) == ("usage", 2)
    assert _buckets(store) == [
        ("anthropic", "anthropic/claude-opus-4.7", 4115, 70965665, 3009973, 0, Decimal("430.07")),
        ("anthropic", "anthropic/claude-opus-4.7", 4254, 87199493, 2795119, 0, Decimal("505.87")),
    ]
    t = totals(store)
    assert t.requests == 4115 + 4254  # 8369
    assert t.input_tokens == 70_965_665 + 87_199_493  # 158,165,158
    assert t.output_tokens == 3_009_973 + 2_795_119  # 5,805,092
    assert t.stated_cost_usd == Decimal("430.07") + Decimal("505.87")  # 935.94
    assert not any("BYOK" in n for n in r.notes)  # every BYOK Usage is 0


def test_known_shapes_need_every_column():
    """``usage`` is read as dollars only with the columns that only OpenRouter writes."""
    assert known_mapping(["date", "model", "usage", "requests"]) == {}
    assert known_mapping(["Date", "Slug", "Usage", "BYOK Usage", "Requests"]) == {
        "cost_usd": "Usage",
        "model": "Slug",
    }


def test_openrouter_per_request_export_with_cost_parts(store):
    """The activity CSV's current header (24 columns) was refused: ``cost_web_search`` and
    ``cost_file_processing`` (parts of ``cost_total``) and ``time_to_first_token_ms`` (a time)
    were taken for measures nothing matched."""
    r = import_file(store, fixture("openrouter_activity_export_per_request.csv"))
    assert (r.grain, r.rows_read) == ("request", 3)
    t = totals(store)
    assert t.requests == 3
    assert t.input_tokens == 10389 + 2500 + 800  # 13,689
    assert t.cached_input_tokens == 1000
    assert t.output_tokens == 137 + 300 + 40  # 477
    # cost_total only: its parts (0.004 web search, -0.0002 cache) are in it already
    assert t.stated_cost_usd == Decimal("0.0123") + Decimal("0.0071") + Decimal("0.00005")
    assert any("byok_usage_inference" in n and "$0.001" in n for n in r.notes)
    rows = store.query(
        "SELECT request_id, latency_ms, reasoning_tokens FROM request_events ORDER BY ts"
    )
    assert rows == [
        ("gen-1782618417-billableAAA", 1200, 0),
        ("gen-1782618501-searchBBB", 2100, 120),
        ("gen-1782618620-byokCCC", 700, 0),
    ]


def test_a_money_part_without_a_total_is_still_refused(store, tmp_path):
    """Parts are left out only beside a total of money: alone, ``cost_web_search`` would be
    lost, so it stops the import, and the example mapping names a money field."""
    path = write(
        tmp_path,
        "parts.csv",
        "created_at,model,tokens_prompt,tokens_completion,cost,cost_web_search\n"
        "2026-06-28 03:46:57,openai/gpt-4o,10,5,0.01,0.002\n",
    )
    before = snapshot(store)
    with pytest.raises(InputError) as e:
        import_file(store, path)
    assert "cost_web_search" in str(e.value)
    assert "--map cost_usd='cost_web_search'" in str(e.value)
    assert snapshot(store) == before


def test_openrouter_generation_lookup_captured(store):
    """A real ``GET /api/v1/generation`` response (``{"data": {…}}``) was refused; the
    provider's own counts (``native_tokens_*``) are the billed ones."""
    r = import_file(store, fixture("openrouter_generation_captured.json"))
    assert (r.grain, r.rows_read) == ("request", 1)
    rows = store.query(
        "SELECT request_id, provider, model, input_tokens, output_tokens, cost_usd "
        "FROM request_events"
    )
    assert rows == [
        (
            "gen-1771967973-0hZ8J5kY7qLMOKbPx0u3",
            "deepinfra",
            "meta-llama/llama-4-scout-17b-16e-instruct",
            64,  # native_tokens_prompt (tokens_prompt says 65)
            98,  # native_tokens_completion (tokens_completion says 116)
            Decimal("0.00003452"),
        )
    ]


def test_openrouter_generation_lookups_one_per_line(store, tmp_path):
    """The captured lookup and the docs' example saved one per line add up."""
    lines = [
        Path(fixture("openrouter_generation_captured.json")).read_text(),
        Path(fixture("openrouter_generation_docs_example.json")).read_text(),
    ]
    path = write(tmp_path, "generations.jsonl", "\n".join(json.dumps(json.loads(x)) for x in lines))
    r = import_file(store, path)
    assert r.rows_read == 2
    t = totals(store)
    assert t.input_tokens == 64 + 10
    assert t.cached_input_tokens == 0 + 3
    assert t.output_tokens == 98 + 25
    assert t.stated_cost_usd == Decimal("0.00003452") + Decimal("0.0015")  # 0.00153452
    assert store.scalar("SELECT sum(reasoning_tokens) FROM request_events") == 0 + 5


def test_native_token_counts_come_first():
    found = match_columns(["tokens_prompt", "native_tokens_prompt", "created_at"])
    assert found["input_tokens"] == "native_tokens_prompt"


def test_saved_page_that_says_more_follow_is_noted(store):
    """Anthropic's docs example page (``has_more: true``) imports its bucket and says the
    following pages are not in the file."""
    r = import_file(store, fixture("anthropic_usage_messages_docs_example.json"))
    # input = uncached 1500 + cache writes 500 (5m) + 1000 (1h) + cache reads 200 = 3200
    row = store.query(
        "SELECT model, input_tokens, cached_input_tokens, cache_write_tokens, output_tokens, "
        "quantity, quantity_unit FROM usage_buckets"
    )
    assert row == [("claude-opus-4-6", 3200, 200, 1500, 500, 10.0, "web_searches")]
    assert any("has_more: true" in n for n in r.notes)


def test_openai_page_with_has_more_and_every_token_kind(store, tmp_path):
    """The OpenAPI example of completions usage: input 1000 (cached 400, cache writes 100),
    output 500, 5 requests; its ``has_more`` is true, so the note; the same page followed by
    a last page (``has_more`` false, in any order) has none."""
    r = import_file(store, fixture("openai_usage_completions_oas_example.json"))
    t = totals(store)
    assert (t.requests, t.input_tokens, t.cached_input_tokens, t.output_tokens) == (
        5,
        1000,
        400,
        500,
    )
    assert any("has_more: true" in n for n in r.notes)
    page = json.loads(Path(fixture("openai_usage_completions_oas_example.json")).read_text())
    last = {"object": "page", "data": [], "has_more": False, "next_page": None}
    path = write(tmp_path, "both.json", [last, page])
    r2 = import_file(store, path)
    assert not any("has_more" in n for n in r2.notes)


def test_cli_imports_openrouter_files_into_a_fresh_database(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    res = run_cli(
        "import",
        fixture("openrouter_activity_by_model.csv"),
        fixture("openrouter_generation_captured.json"),
        "--db",
        db,
    )
    assert res.returncode == 0, res.stderr
    out = run_cli("summary", "--json", "--db", db)
    data = json.loads(out.stdout)
    assert Decimal(data["stated_cost_usd"]) == Decimal("935.94") + Decimal("0.00003452")
    assert data["output_tokens"] == 5_805_092 + 98


def test_openai_dashboard_cost_export_is_openais_bill(store):
    """The dashboard's cost export names no provider and, ungrouped, no model: its bill was
    stored under provider ``unknown``. Its columns (the Costs API's buckets flattened) say
    OpenAI; a line item names its model first."""
    r = import_file(store, fixture("openai_dashboard_costs_line_items.csv"))
    assert (r.grain, r.rows_read) == ("cost", 2)
    assert any("1 empty bucket line" in n for n in r.notes)
    rows = store.query(
        "SELECT provider, project, api_key, model, amount FROM cost_items ORDER BY amount"
    )
    # 0.003835980000000000000000000000 (30 decimals) kept to the stored 20
    assert rows == [
        ("openai", "proj_a", "key_1", "gpt-5-nano", Decimal("0.00383598")),
        ("openai", "proj_a", "key_1", "gpt-5-nano", Decimal("0.5")),
    ]
    assert totals(store).stated_cost_usd == Decimal("0.5") + Decimal("0.00383598")  # 0.50383598


def test_openai_dashboard_cost_export_without_grouping(store):
    import_file(store, fixture("openai_dashboard_costs.csv"))
    assert store.query("SELECT DISTINCT provider, model FROM cost_items") == [("openai", None)]


def test_openai_legacy_billing_usage_in_cents(store):
    """The old dashboard endpoint ``/dashboard/billing/usage`` (2023) was refused as
    "unrecognised columns object, total_usage". Its line items are cents per day."""
    r = import_file(store, fixture("openai_legacy_billing_usage.json"))
    assert (r.format, r.grain, r.rows_read) == ("openai_legacy_billing", "cost", 70)  # 10 x 7
    # cents: 12 + 16 + 18 + 4 + (32 + 0.2964) + (4 + 15 + 16) + 3.6 + (10 + 10 + 44) + 69
    # + (80 + 110) = 443.8964 -> $4.438964
    assert totals(store).stated_cost_usd == Decimal("4.438964")
    rows = store.query(
        "SELECT line_item, sum(amount) FROM cost_items WHERE provider = 'openai' "
        "GROUP BY 1 HAVING sum(amount) > 0 ORDER BY 1"
    )
    assert rows == [
        ("Audio models", Decimal("0.16")),
        ("Chat models", Decimal("0.002964")),
        ("Embedding models", Decimal("0.10")),
        ("Fine-tuned models", Decimal("0.14")),
        ("GPT-4", Decimal("0.92")),
        ("Image models", Decimal("2.416")),
        ("Instruct models", Decimal("0.70")),
    ]
    # the file's total_usage (443900) is not its line items' sum: said, never used
    assert any("total_usage says $4439" in n and "$4.438964" in n for n in r.notes)
    again = import_file(store, fixture("openai_legacy_billing_usage.json"))
    assert again.rows_new == 0 and totals(store).stated_cost_usd == Decimal("4.438964")


def test_openai_legacy_billing_float_timestamps_and_bad_values(store, tmp_path):
    doc = {
        "object": "list",
        "daily_costs": [
            {"timestamp": 1681171200.0, "line_items": [{"name": "Chat models", "cost": 1.5}]}
        ],
        "total_usage": 1.5,
    }
    r = import_file(store, write(tmp_path, "billing.json", doc))
    assert r.notes == [] and totals(store).stated_cost_usd == Decimal("0.015")
    assert (
        store.scalar("SELECT min(bucket_start) FROM cost_items")
        .isoformat()
        .startswith("2023-04-11T00:00")
    )
    before = snapshot(store)
    doc["daily_costs"][0]["line_items"][0]["cost"] = "lots"
    with pytest.raises(InputError) as e:
        import_file(store, write(tmp_path, "bad.json", doc))
    assert "daily_costs[0].line_items[0].cost" in str(e.value)
    assert snapshot(store) == before
