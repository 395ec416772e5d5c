"""Gateway logs and generic exports, including spreadsheets as people really save them."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq

from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, write


def test_litellm_spend_logs(store):
    r = import_file(store, fixture("litellm_spend_logs.csv"))
    assert (r.format, r.grain) == ("litellm_spend_logs", "request")
    assert (r.rows_read, r.rows_new, r.rows_duplicate) == (5, 4, 1)  # req-1 appears twice
    t = totals(store)
    assert t.requests == 4
    assert t.errors == 2  # req-2 says failure; req-4 has an empty status but error details
    assert t.input_tokens == 100 + 0 + 200 + 0
    assert t.output_tokens == 50 + 0 + 100 + 0
    assert t.stated_cost_usd == Decimal("0.00323")
    # gpt-4o 100×2.50 + 50×10 = 750 µ$; gpt-4o-mini 200×0.15 + 100×0.60 = 90 µ$; Claude: 0 tokens
    assert t.estimated_cost_usd == Decimal("0.00084")
    rows = dict(store.query("SELECT request_id, latency_ms FROM request_events"))
    assert rows["req-3"] == 2250  # no duration column value: end − start
    detail = store.query(
        "SELECT provider, status, http_status, error_type, api_key, project, user_id FROM request_events "
        "WHERE request_id IN ('req-1', 'req-2', 'req-4') ORDER BY request_id"
    )
    assert detail == [
        ("openai", "success", None, None, "prod-key", "team-a", "alice"),
        (
            "anthropic",
            "error",
            429,
            "RateLimitError",
            "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "team-b",
            "bob",
        ),
        ("openai", "error", 500, "InternalServerError", None, None, None),
    ]


def test_helicone_export(store):
    r = import_file(store, fixture("helicone_export.csv"))
    assert r.format == "helicone_csv"
    t = totals(store)
    assert (t.requests, t.errors, t.input_tokens, t.output_tokens) == (3, 1, 1500, 300)
    assert t.stated_cost_usd == Decimal("0.0053")
    # 08:00 at +02:00 is 06:00 UTC
    ts = store.scalar("SELECT ts FROM request_events WHERE request_id = 'r3'")
    assert ts == datetime(2025, 4, 2, 6, 0, tzinfo=UTC)
    assert store.scalar("SELECT project FROM request_events WHERE request_id = 'r1'") == "web"


def test_french_spreadsheet_csv(store):
    """BOM, ';', CRLF, no-break-space thousands, decimal commas, dd/mm/yyyy, a blank line
    and a totals line — the totals line is not data."""
    r = import_file(store, fixture("generic_fr.csv"))
    assert (r.format, r.grain, r.rows_read) == ("generic_csv", "usage", 3)
    t = totals(store)
    assert t.requests == 1200 + 10 + 5
    assert t.input_tokens == 1_234_567 + 1_000 + 100
    assert t.output_tokens == 234_567 + 500 + 50
    assert t.stated_cost_usd == Decimal("3.4605")
    days = store.query(
        "SELECT CAST(bucket_start AS DATE), bucket_end - bucket_start FROM usage_buckets ORDER BY 1"
    )
    assert [str(d) for d, _ in days] == ["2026-02-01", "2026-02-02", "2026-02-13"]  # day first
    assert all(w.days == 1 for _, w in days)
    assert store.query("SELECT DISTINCT project FROM usage_buckets ORDER BY 1") == [
        ("alpha",),
        ("beta",),
    ]


def test_latin1_tab_separated_with_offsets(store):
    r = import_file(store, fixture("generic_latin1_tab.csv"))
    assert r.notes == ["only total tokens are given: they are counted as input tokens"]
    t = totals(store)
    assert (t.requests, t.input_tokens, t.stated_cost_usd) == (2, 150, Decimal("3.75"))
    ts = [r[0] for r in store.query("SELECT ts FROM request_events ORDER BY ts")]
    assert ts == [datetime(2026, 3, 1, 10, 0, tzinfo=UTC), datetime(2026, 3, 1, 10, 30, tzinfo=UTC)]
    assert store.scalar("SELECT DISTINCT model FROM request_events") == "gpt-4o"


def test_jsonl_requests(store):
    r = import_file(store, fixture("generic_requests.jsonl"))
    assert r.format == "generic_jsonl"
    t = totals(store)
    assert (t.requests, t.errors, t.input_tokens, t.output_tokens) == (2, 1, 1010, 100)
    assert t.stated_cost_usd == Decimal("0.0028")  # the failed call states no cost
    assert t.estimated_cost_usd == Decimal("0.00282")  # gpt-4.1: 1010×2 + 100×8 µ$


def test_parquet_requests(store, tmp_path):
    table = pa.table(
        {
            "created_at": pa.array(
                [datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 10, tzinfo=UTC)]
            ),
            "model": ["claude-haiku-4-5", "claude-haiku-4-5"],
            "input_tokens": pa.array([100, 300], pa.int32()),
            "output_tokens": pa.array([10, 30], pa.int64()),
            "cost_usd": pa.array([Decimal("0.00015"), Decimal("0.00045")], pa.decimal128(10, 6)),
            "status_code": [200, 529],
        }
    )
    path = str(tmp_path / "requests.parquet")
    pq.write_table(table, path)
    r = import_file(store, path)
    assert r.format == "generic_parquet"
    t = totals(store)
    assert (t.requests, t.errors, t.input_tokens, t.output_tokens) == (2, 1, 400, 40)
    assert t.stated_cost_usd == Decimal("0.0006")
    assert store.scalar("SELECT DISTINCT provider FROM request_events") == "anthropic"


def test_explicit_mapping_for_unusual_columns(store, tmp_path):
    text = "quand,qui,combien_in,combien_out\n2026-01-05 08:00,gpt-4o,10,2\n2026-01-05 09:00,gpt-4o,20,4\n"
    path = write(tmp_path, "odd.csv", text)
    r = import_file(
        store,
        path,
        mapping={
            "ts": "quand",
            "model": "qui",
            "input_tokens": "combien_in",
            "output_tokens": "combien_out",
        },
    )
    assert r.rows_new == 2
    t = totals(store)
    assert (t.input_tokens, t.output_tokens) == (30, 6)


def test_monthly_period_export_gets_month_buckets(store, tmp_path):
    text = "month,model,requests,input_tokens,output_tokens\n2026-01-01,gpt-4o,10,100,10\n2026-02-01,gpt-4o,20,200,20\n"
    import_file(store, write(tmp_path, "monthly.csv", text))
    ends = store.query("SELECT CAST(bucket_end AS DATE) FROM usage_buckets ORDER BY 1")
    assert [str(e[0]) for e in ends] == ["2026-02-01", "2026-03-01"]


def test_month_first_dates_when_unambiguous(store, tmp_path):
    text = "date,model,input_tokens\n12/31/2025,gpt-4o,1\n01/02/2026,gpt-4o,1\n"
    import_file(store, write(tmp_path, "us.csv", text))
    days = [
        str(r[0]) for r in store.query("SELECT CAST(ts AS DATE) FROM request_events ORDER BY 1")
    ]
    assert days == ["2025-12-31", "2026-01-02"]


def test_thousands_comma_with_decimal_point(store, tmp_path):
    text = 'date,model,requests,input_tokens,cost\n2026-01-01,gpt-4o,"1,000","12,345,678","$1,234.50"\n'
    import_file(store, write(tmp_path, "us_numbers.csv", text))
    t = totals(store)
    assert (t.requests, t.input_tokens, t.stated_cost_usd) == (1000, 12_345_678, Decimal("1234.50"))


def test_format_is_detected_from_content_not_name(store, tmp_path):
    with open(fixture("openai_usage_completions.json")) as fh:
        path = write(tmp_path, "looks_like_a.csv", fh.read())
    assert import_file(store, path).format == "openai_usage"


def test_values_past_the_sniffed_sample_fall_back_to_text(store, tmp_path):
    """A clean-looking numeric column that has "1 234" after DuckDB's type sample."""
    from datetime import timedelta

    t0 = datetime(2026, 1, 1)
    lines = ["timestamp,model,input_tokens"] + [
        f"{t0 + timedelta(seconds=i)},gpt-4o,1" for i in range(30000)
    ]
    lines.append('2026-01-02 00:00:00,gpt-4o,"1 234"')
    said: list[str] = []
    r = import_file(
        store, write(tmp_path, "late.csv", "\n".join(lines) + "\n"), progress=said.append
    )
    assert any("text reader" in m for m in said)  # the typed read met the value and retried
    assert r.rows_new == 30001
    assert totals(store).input_tokens == 30000 + 1234
