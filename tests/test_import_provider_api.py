"""Provider admin API responses: every figure below is computed by hand from the fixtures."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from lib.errors import InputError
from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, openai_page, snapshot, write


def test_openai_usage_completions(store):
    r = import_file(store, fixture("openai_usage_completions.json"))
    assert (r.format, r.grain, r.rows_read, r.rows_new) == ("openai_usage", "usage", 2, 2)
    t = totals(store)
    assert t.requests == 5 + 3
    assert t.input_tokens == 1000 + 2000
    assert t.cached_input_tokens == 200
    assert t.output_tokens == 500 + 1000
    assert t.errors is None  # the Usage API states no errors
    assert t.stated_cost_usd is None  # and no cost
    # gpt-4o-mini: 800 uncached × 0.15 + 200 cached × 0.075 + 500 out × 0.60 = 435 µ$
    # gpt-4o (batch, half price): (2000 × 2.50 + 1000 × 10.00) × 0.5 = 7500 µ$
    assert t.estimated_cost_usd == Decimal("0.007935")
    # the empty second bucket is still covered (so a later pull can replace it)
    assert store.scalar("SELECT count(*) FROM bucket_coverage WHERE kind = 'completions'") == 2
    rows = store.query("SELECT model, batch, service_tier FROM usage_buckets ORDER BY model")
    assert rows == [("gpt-4o-2024-08-06", True, "default"), ("gpt-4o-mini-2024-07-18", False, None)]


def test_openai_costs_are_exact_decimals(store):
    import_file(store, fixture("openai_costs.json"))
    t = totals(store)
    # 0.1 + 0.2 + 0.7 in binary floating point is 1.0000000000000002; money must be 1.00 exactly.
    assert t.stated_cost_usd == Decimal("1.00")
    assert t.as_json()["stated_cost_usd"] == "1.00"
    row = store.query(
        "SELECT quantity, quantity_unit, model FROM cost_items WHERE line_item = 'gpt-4o, input'"
    )
    assert row == [(280000.0, "tokens", "gpt-4o")]


def test_anthropic_usage_counts_every_input_kind(store):
    r = import_file(store, fixture("anthropic_usage.json"))
    assert r.format == "anthropic_usage"
    t = totals(store)
    # total input = uncached + 5m writes + 1h writes + cache reads, over both rows
    assert t.input_tokens == (1000 + 200 + 100 + 300) + 500
    assert t.cached_input_tokens == 300
    assert t.output_tokens == 400 + 100
    assert t.requests is None  # Anthropic's usage report has no request count: null, not 0
    # Sonnet 4.5: 1000×3 + 300×0.30 + 200×3.75 + 100×6 + 400×15 = 10440 µ$
    # Haiku 4.5 batch: (500×1 + 100×5) × 0.5 = 500 µ$
    assert t.estimated_cost_usd == Decimal("0.01094")
    row = store.query(
        "SELECT batch, quantity, quantity_unit, project FROM usage_buckets WHERE model LIKE 'claude-sonnet%'"
    )
    assert row == [(False, 2.0, "web_searches", "wrkspc_01")]


def test_anthropic_cost_amounts_are_cents(store):
    import_file(store, fixture("anthropic_cost.json"))
    t = totals(store)
    # "123.45" + "0.5" + "1000" cents = 1123.95 cents = $11.2395
    assert t.stated_cost_usd == Decimal("11.2395")
    assert store.scalar(
        "SELECT sum(amount) FROM cost_items WHERE bucket_start = '2025-01-01'"
    ) == Decimal("1.2395")


def test_several_pages_of_one_pull_as_json_lines(store, tmp_path):
    def page(start, tokens, has_more):
        return {
            "object": "page",
            "has_more": has_more,
            "next_page": "page_x" if has_more else None,
            "data": [
                {
                    "object": "bucket",
                    "start_time": start,
                    "end_time": start + 86400,
                    "results": [
                        {
                            "object": "organization.usage.completions.result",
                            "input_tokens": tokens,
                            "output_tokens": 1,
                            "num_model_requests": 1,
                            "model": "gpt-4o",
                        }
                    ],
                }
            ],
        }

    text = (
        json.dumps(page(1730419200, 10, True))
        + "\n"
        + json.dumps(page(1730505600, 20, False))
        + "\n"
    )
    r = import_file(store, write(tmp_path, "pull.jsonl", text))
    assert (r.format, r.rows_read) == ("openai_usage", 2)
    assert totals(store).input_tokens == 30
    # a JSON array of pages works the same way
    r2 = import_file(store, write(tmp_path, "pull.json", [page(1730592000, 5, False)]))
    assert r2.rows_new == 1
    assert totals(store).input_tokens == 35


def test_optional_fields_absent_and_other_endpoints(store, tmp_path):
    doc = openai_page(
        {
            "object": "organization.usage.images.result",
            "images": 4,
            "num_model_requests": 2,
            "source": "image.generation",
            "size": "1024x1024",
        }
    )
    r = import_file(store, write(tmp_path, "images.json", doc))
    assert r.rows_new == 1
    assert store.query(
        "SELECT kind, quantity, quantity_unit, requests, input_tokens FROM usage_buckets"
    ) == [("images", 4.0, "images", 2, 0)]


def test_legacy_v1_usage(store, tmp_path):
    doc = {
        "object": "list",
        "data": [
            {
                "aggregation_timestamp": 1730419200,
                "n_requests": 3,
                "operation": "completion",
                "snapshot_id": "gpt-4o-mini-2024-07-18",
                "n_context_tokens_total": 300,
                "n_generated_tokens_total": 30,
            },
            {
                "aggregation_timestamp": 1730419500,
                "n_requests": 1,
                "operation": "completion",
                "snapshot_id": "gpt-4o-mini-2024-07-18",
                "n_context_tokens_total": 100,
                "n_generated_tokens_total": 10,
            },
        ],
        "ft_data": [],
        "dalle_api_data": [],
        "whisper_api_data": [],
        "tts_api_data": [],
        "current_usage_usd": 0.0,
    }
    r = import_file(store, write(tmp_path, "legacy.json", doc))
    assert r.format == "openai_legacy_usage"
    t = totals(store)
    assert (t.requests, t.input_tokens, t.output_tokens) == (4, 400, 40)
    ends = store.query("SELECT bucket_end - bucket_start FROM usage_buckets LIMIT 1")[0][0]
    assert ends.total_seconds() == 300


@pytest.mark.parametrize(
    ("endpoint", "result", "expected"),
    [
        (
            "embeddings",
            {"input_tokens": 70, "num_model_requests": 7, "model": "text-embedding-3-small"},
            (7, 70, None, None),
        ),
        (
            "moderations",
            {"input_tokens": 9, "num_model_requests": 3, "model": "omni-moderation-latest"},
            (3, 9, None, None),
        ),
        (
            "audio_speeches",
            {"characters": 1200, "num_model_requests": 2, "model": "tts-1"},
            (2, 0, 1200.0, "characters"),
        ),
        (
            "audio_transcriptions",
            {"seconds": 95, "num_model_requests": 4, "model": "whisper-1"},
            (4, 0, 95.0, "seconds"),
        ),
        (
            "vector_stores",
            {"usage_bytes": 4096, "project_id": "proj_a"},
            (None, 0, 4096.0, "bytes"),
        ),
        ("code_interpreter_sessions", {"num_sessions": 5}, (None, 0, 5.0, "sessions")),
        (
            "file_searches",
            {"num_requests": 11, "vector_store_id": "vs_1"},
            (None, 0, 11.0, "file_searches"),
        ),
        (
            "web_searches",
            {"num_model_requests": 6, "num_requests": 8, "context_level": "low"},
            (6, 0, 8.0, "web_searches"),
        ),
    ],
)
def test_every_usage_endpoint(store, tmp_path, endpoint, result, expected):
    doc = openai_page({"object": f"organization.usage.{endpoint}.result", **result})
    r = import_file(store, write(tmp_path, f"{endpoint}.json", doc))
    assert r.format == "openai_usage" and r.rows_new == 1
    row = store.query("SELECT requests, input_tokens, quantity, quantity_unit FROM usage_buckets")[
        0
    ]
    assert row == expected


def test_progress_is_reported(store):
    said: list[str] = []
    import_file(store, fixture("litellm_spend_logs.csv"), progress=said.append)
    assert said[0].startswith("litellm_spend_logs.csv: litellm_spend_logs recognised")
    assert any("5 rows read; checking duplicates" in m for m in said)
    assert said[-1].endswith("committing")


# --- Real saved responses (sources in tests/fixtures/README.md) -----------------------------

COOKBOOK_COSTS = (  # amount.value of each bucket, copied by hand from the cookbook's output
    "0.13080438340307526",
    "0.12270423340307525",
    "9.888144383403077",
    "0.0003226181279184669",
    "0.00032195744715549047",
    "0.00012073404268330895",
)


def test_cookbook_costs_array_of_buckets_keeps_every_digit(store):
    r = import_file(store, fixture("openai_costs_cookbook_buckets.json"))
    assert (r.format, r.grain, r.rows_new) == ("openai_costs", "cost", 6)
    expected = sum((Decimal(v) for v in COOKBOOK_COSTS), Decimal(0))
    assert expected == Decimal("10.14241830982698477632")  # worked out by hand as well
    assert totals(store).stated_cost_usd == expected
    stored = [a for (a,) in store.query("SELECT amount FROM cost_items ORDER BY bucket_start")]
    assert stored == [Decimal(v) for v in COOKBOOK_COSTS]
    assert store.scalar("SELECT count(*) FROM bucket_coverage") == 6


def test_preview_of_long_decimals_is_exact(store):
    from lib.preview import preview_file

    p = preview_file(store, fixture("openai_costs_cookbook_buckets.json"))
    assert (p.format, p.rows) == ("openai_costs", 6)
    assert p.cost_usd == sum((Decimal(v) for v in COOKBOOK_COSTS), Decimal(0))


def test_cookbook_usage_json_lines_of_buckets(store):
    r = import_file(store, fixture("openai_usage_cookbook_buckets.jsonl"))
    assert (r.format, r.rows_new) == ("openai_usage", 3)
    t = totals(store)
    assert t.requests == 470 + 150 + 3053
    assert t.input_tokens == 141201 + 45949 + 3718360
    assert t.cached_input_tokens == 76544
    assert t.output_tokens == 9756 + 282 + 97756
    # the empty fourth bucket is covered too
    assert store.scalar("SELECT count(*) FROM bucket_coverage WHERE kind = 'completions'") == 4


def _bucket_lines(path: str) -> list[str]:
    """The top-level buckets of a JSON array file, each as one line of its own source text
    (digits untouched)."""
    text = Path(path).read_text(encoding="utf-8")
    decoder, pos, out = json.JSONDecoder(), text.index("[") + 1, []
    while True:
        while text[pos] in " \t\r\n,":
            pos += 1
        if text[pos] == "]":
            return out
        _value, end = decoder.raw_decode(text, pos)
        out.append(" ".join(text[pos:end].split()))
        pos = end


def test_json_lines_of_cost_buckets(store, tmp_path):
    lines = _bucket_lines(fixture("openai_costs_cookbook_buckets.json"))
    assert len(lines) == 6 and "0.00032195744715549047" in lines[4]
    r = import_file(store, write(tmp_path, "costs.jsonl", "\n".join(lines) + "\n"))
    assert (r.format, r.rows_new) == ("openai_costs", 6)
    assert totals(store).stated_cost_usd == sum((Decimal(v) for v in COOKBOOK_COSTS), Decimal(0))


def test_array_of_anthropic_buckets(store, tmp_path):
    doc = json.loads(Path(fixture("anthropic_cost_docs_example.json")).read_text())
    r = import_file(store, write(tmp_path, "buckets.json", doc["data"]))
    assert (r.format, r.rows_new) == ("anthropic_cost", 1)
    assert totals(store).stated_cost_usd == Decimal("1.2378912")


@pytest.mark.parametrize(
    "envelope",
    [
        lambda data: {"data": data, "total": len(data), "page": 1},
        lambda data: {"buckets": data, "next_cursor": None},
        lambda data: {"data": data, "page": 1, "per_page": 50, "total_pages": 1},
    ],
)
def test_page_envelopes_other_than_has_more(store, tmp_path, envelope):
    oas = json.loads(
        Path(fixture("openai_costs_oas_example.json")).read_text(), parse_float=Decimal
    )
    doc = envelope(oas["data"])
    text = json.dumps(doc, default=str).replace('"0.06"', "0.06")
    r = import_file(store, write(tmp_path, "wrapped.json", text))
    assert (r.format, r.rows_new) == ("openai_costs", 1)
    assert totals(store).stated_cost_usd == Decimal("0.06")


def test_anthropic_cost_docs_example_and_long_cents(store, tmp_path):
    import_file(store, fixture("anthropic_cost_docs_example.json"))
    # "123.78912" cents = $1.2378912
    assert totals(store).stated_cost_usd == Decimal("1.2378912")
    doc = json.loads(Path(fixture("anthropic_cost_docs_example.json")).read_text())
    # a cents amount with 18 decimals, as a sum of per-token prices gives (constructed)
    doc["data"][0]["results"][0]["amount"] = "0.123456789012345678"
    doc["data"][0]["starting_at"] = "2025-08-02T00:00:00Z"
    doc["data"][0]["ending_at"] = "2025-08-03T00:00:00Z"
    import_file(store, write(tmp_path, "long_cents.json", doc))
    assert totals(store).stated_cost_usd == Decimal("1.2378912") + Decimal("0.00123456789012345678")


def test_amount_beyond_the_stored_scale_is_rounded_half_even(store, tmp_path):
    # 1.2345678901234567e-05 has 22 decimals; the 21st and 22nd (67) round the 20th up
    text = json.dumps(openai_page({"object": "organization.costs.result",
                                   "amount": {"value": "@", "currency": "usd"}}))  # fmt: skip
    path = write(tmp_path, "tiny.json", text.replace('"@"', "1.2345678901234567e-05"))
    import_file(store, path)
    assert store.scalar("SELECT amount FROM cost_items") == Decimal("0.00001234567890123457")


def test_legacy_v1_usage_2024_has_no_current_usage_usd(store):
    r = import_file(store, fixture("openai_legacy_usage_2024.json"))
    assert r.format == "openai_legacy_usage"
    rows = store.query(
        "SELECT kind, sum(requests), sum(input_tokens), sum(output_tokens), sum(quantity) "
        "FROM usage_buckets GROUP BY kind ORDER BY kind"
    )
    assert rows == [
        ("audio_transcriptions", 1, 0, 0, 2.0),
        ("completion", 2, 31 + 13, 12 + 9, None),
        ("completion-realtime", 1, 118, 35, None),
        ("images", 1, 0, 0, 1.0),
    ]


def test_legacy_cached_context_tokens_are_cached_input(store, tmp_path):
    doc = json.loads(Path(fixture("openai_legacy_usage_2024.json")).read_text())
    doc["data"][0]["n_cached_context_tokens_total"] = 64  # of its 118 context tokens
    import_file(store, write(tmp_path, "legacy.json", doc))
    t = totals(store)
    assert (t.input_tokens, t.cached_input_tokens) == (118 + 31 + 13, 64)


@pytest.mark.parametrize("missing", ["n_context_tokens_total", "n_generated_tokens_total"])
def test_legacy_v1_usage_without_a_token_total_is_refused_not_zero(store, tmp_path, missing):
    entry = {"aggregation_timestamp": 1730419200, "n_requests": 3, "operation": "completion",
             "snapshot_id": "gpt-4o-mini-2024-07-18", "n_context_tokens_total": 300,
             "n_generated_tokens_total": 30}  # fmt: skip
    del entry[missing]
    doc = {"object": "list", "data": [entry], "dalle_api_data": [], "whisper_api_data": []}
    before = snapshot(store)
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, "legacy.json", doc))
    assert f"data[0].{missing}" in str(err.value) and "missing" in str(err.value)
    assert snapshot(store) == before


@pytest.mark.parametrize("with_results", [True, False], ids=["with results", "empty"])
@pytest.mark.parametrize(
    ("name", "end_key"),
    [
        ("openai_usage_completions.json", "end_time"),
        ("openai_costs.json", "end_time"),
        ("anthropic_usage.json", "ending_at"),
        ("anthropic_cost.json", "ending_at"),
    ],
)
def test_a_bucket_that_ends_as_it_starts_is_refused_naming_its_field(
    store, tmp_path, name, end_key, with_results
):
    """Every admin API's bucket: its end field is named, and an empty bucket is refused too
    (costs and Anthropic's once recorded its span as covered without a word)."""
    doc = json.loads(Path(fixture(name)).read_text(encoding="utf-8"))
    doc["data"][0][end_key] = doc["data"][0][
        "start_time" if end_key == "end_time" else "starting_at"
    ]
    if not with_results:
        doc["data"][0]["results"] = []
    before = snapshot(store)
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, name, doc), display=name)
    start_key = "start_time" if end_key == "end_time" else "starting_at"
    assert str(err.value).startswith(f"{name}, field 'data[0].{end_key}': ends before it starts")
    assert str(err.value).endswith(f"expected {end_key} > {start_key}")
    assert snapshot(store) == before


def test_the_first_bad_value_in_file_order_is_the_one_named(store, tmp_path):
    """A bad amount in the first result is named, not the second result that is no object."""
    doc = {"object": "page", "data": [{"object": "bucket", "start_time": 1730419200,
           "end_time": 1730505600, "results": [{"amount": "x"}, 5]}]}  # fmt: skip
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, "costs.json", doc), display="costs.json")
    assert str(err.value).startswith("costs.json, field 'data[0].results[0].amount'"), err.value
