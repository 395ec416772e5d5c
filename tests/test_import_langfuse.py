"""Langfuse daily metrics (``GET /api/public/metrics/daily``): figures worked out by hand
from the documentation's example response (tests/fixtures/README.md)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from lib.errors import InputError
from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, run_cli, snapshot, write

DOCS = "langfuse_daily_metrics_docs_example.json"


def _docs() -> dict:
    with open(fixture(DOCS), encoding="utf-8") as fh:
        return json.load(fh)


def test_daily_metrics_one_bucket_per_day_and_model(store):
    r = import_file(store, fixture(DOCS))
    assert (r.format, r.source, r.grain, r.rows_read, r.rows_new) == (
        "langfuse", "langfuse", "usage", 3, 3,
    )  # fmt: skip
    # both days' totals equal the sum of their models; the docs' page is page 1 of 30
    assert r.notes == [
        "partial pull: the file holds page 1 of the 30 its meta.totalPages says exist, so the "
        "days of pages 2-30 are missing: import them too (each page adds its own days)"
    ]
    t = totals(store)
    # 2024-02-18: llama2 1200 in / 1300 out, gpt-4o 500 / 550; 2024-02-17: llama2 1000 / 1100
    assert t.input_tokens == 1200 + 500 + 1000 == 2700
    assert t.output_tokens == 1300 + 550 + 1100 == 2950
    # the models' costs, not the days' totals on top: 50.19 + 52.0 + 250.0
    assert t.stated_cost_usd == Decimal("352.19")
    # observations are not requests (spans and events are observations too)
    assert t.requests is None
    rows = store.query(
        """SELECT CAST(bucket_start AS DATE)::VARCHAR, model, provider, kind, requests, cost_usd
           FROM usage_buckets ORDER BY bucket_start, model"""
    )
    assert rows == [
        ("2024-02-17", "llama2", "unknown", "langfuse_daily", None, Decimal("250.0")),
        ("2024-02-18", "gpt-4o", "openai", "langfuse_daily", None, Decimal("52.0")),
        ("2024-02-18", "llama2", "unknown", "langfuse_daily", None, Decimal("50.19")),
    ]
    # the provider is inferred like the generic importer does: gpt-4o is OpenAI, llama2 unknown
    assert sorted(t.streams) == [("openai", "langfuse", 1), ("unknown", "langfuse", 2)]
    again = import_file(store, fixture(DOCS))
    assert (again.rows_new, again.rows_duplicate) == (0, 3)
    assert totals(store).stated_cost_usd == Decimal("352.19")


def test_daily_metrics_through_the_cli(db_path):
    res = run_cli("import", fixture(DOCS), "--db", db_path, "--quiet")
    assert res.returncode == 0, res.stderr
    data = json.loads(run_cli("summary", "--json", "--db", db_path).stdout)
    assert (data["input_tokens"], data["stated_cost_usd"], data["requests"]) == (
        2700, "352.19", None,
    )  # fmt: skip


@pytest.mark.parametrize("shape", ["days", "days_jsonl", "pages", "pages_jsonl"])
def test_daily_metrics_saved_shapes(store, tmp_path, shape):
    doc = _docs()
    second = {"data": [doc["data"].pop()], "meta": {**doc["meta"], "page": 2}}
    pages = [doc, second]
    days = [d for p in pages for d in p["data"]]
    content = {
        "days": json.dumps(days),
        "days_jsonl": "\n".join(json.dumps(d) for d in days) + "\n",
        "pages": json.dumps(pages),
        "pages_jsonl": "\n".join(json.dumps(p) for p in pages) + "\n",
    }[shape]
    r = import_file(store, write(tmp_path, "lf.json", content))
    assert (r.format, r.rows_new) == ("langfuse", 3)
    assert totals(store).stated_cost_usd == Decimal("352.19")


def test_a_partial_pull_is_named_and_its_pages_add_up(store, tmp_path):
    """Pages 1 and 3 of 3 in one file, page 2 in another: the first import names what is
    missing; the second adds its days; a file of every page gives no note."""
    doc = _docs()
    day17 = doc["data"].pop()  # the docs' page holds 2024-02-18, then 2024-02-17
    meta = {"limit": 1, "totalItems": 3, "totalPages": 3}
    day16 = json.loads(json.dumps(day17))
    day16["date"] = "2024-02-16"
    pages = [
        {"data": doc["data"], "meta": {**meta, "page": 1}},
        {"data": [day17], "meta": {**meta, "page": 2}},
        {"data": [day16], "meta": {**meta, "page": 3}},
    ]
    r = import_file(store, write(tmp_path, "p1_p3.json", [pages[0], pages[2]]))
    assert r.notes == [
        "partial pull: the file holds pages 1, 3 of the 3 its meta.totalPages says exist, so "
        "the days of page 2 are missing: import it too (each page adds its own days)"
    ]
    # 02-18: 50.19 + 52.0; 02-16: a copy of 02-17's 250.0
    assert totals(store).stated_cost_usd == Decimal("352.19")
    r2 = import_file(store, write(tmp_path, "p2.json", pages[1]))
    assert "page 2 of the 3" in r2.notes[0] and "pages 1, 3 are missing" in r2.notes[0]
    assert (r2.rows_new, r2.rows_replaced) == (1, 0)
    assert totals(store).stated_cost_usd == Decimal("352.19") + Decimal("250.0")
    whole = import_file(store, write(tmp_path, "all.json", pages))
    assert whole.notes == [] and whole.rows_new == 0  # every page: nothing missing, nothing new
    # pages without their numbers: counted against the total
    r3 = import_file(store, write(tmp_path, "p.json", {"data": [day17], "meta": {"totalPages": 3}}))
    assert r3.notes == [
        "partial pull: the file holds 1 page(s) of the 3 its meta.totalPages says exist, so "
        "days may be missing: import the other pages too"
    ]
    # days saved alone carry no paging: no note
    assert import_file(store, write(tmp_path, "days.json", [day17])).notes == []


def test_a_day_total_that_differs_from_its_models_is_not_added(store, tmp_path):
    doc = _docs()
    doc["data"][0]["totalCost"] = 110.0  # 7.81 more than 50.19 + 52.0
    doc["data"][0]["usage"].append(
        {"model": None, "inputUsage": 0, "outputUsage": 0, "totalUsage": 0,
         "countTraces": 3, "countObservations": 6, "totalCost": 0}
    )  # fmt: skip
    r = import_file(store, write(tmp_path, "lf.json", doc))
    assert r.rows_new == 3  # the entry without a model, usage or cost is skipped
    assert any("2024-02-18 (day 110, models 102.19)" in n for n in r.notes), r.notes
    assert any("1 entry without a model" in n for n in r.notes), r.notes
    # 102.19 + 250.0: neither 110 added on top of the models nor in their place
    assert totals(store).stated_cost_usd == Decimal("352.19")


def test_a_newer_pull_of_the_same_days_replaces_the_older(store, tmp_path):
    import_file(store, fixture(DOCS))
    doc = _docs()
    doc["data"] = doc["data"][1:]  # 2024-02-17 only, pulled again with more usage
    doc["data"][0]["usage"][0].update(inputUsage=1500, totalCost=300.0)
    doc["data"][0]["totalCost"] = 300.0
    r = import_file(store, write(tmp_path, "newer.json", doc))
    assert r.rows_replaced == 1
    # 2024-02-18 kept (1200 + 500), 2024-02-17 now 1500
    assert totals(store).input_tokens == 1200 + 500 + 1500
    assert totals(store).stated_cost_usd == Decimal("50.19") + Decimal("52.0") + Decimal("300.0")


def test_bad_daily_metrics_are_refused_and_change_nothing(store, tmp_path):
    import_file(store, fixture(DOCS))
    before = snapshot(store)

    def refused(name: str, content: object, *words: str) -> None:
        with pytest.raises(InputError) as err:
            import_file(store, write(tmp_path, name, content))
        msg = str(err.value)
        assert msg.startswith(name) and all(w in msg for w in words), msg
        assert snapshot(store) == before

    doc = _docs()
    del doc["data"][1]["usage"][0]["inputUsage"]
    refused("a.json", doc, "data[1].usage[0].inputUsage", "missing")
    doc = _docs()
    doc["data"][0]["usage"][1]["outputUsage"] = "550"
    refused("b.json", doc, "data[0].usage[1].outputUsage", "not a count")
    doc = _docs()
    doc["data"][0]["usage"][0]["totalCost"] = "50.19"
    refused("c.json", doc, "data[0].usage[0].totalCost", "not a number")
    doc = _docs()
    doc["data"][0]["date"] = "18/02/2024"
    refused("d.json", doc, "data[0].date")
    whole = json.dumps(_docs(), indent=2)
    refused("e.json", whole[: whole.rindex("]")], "ends early")
    lines = "\n".join(json.dumps(d) for d in _docs()["data"])
    refused("f.jsonl", lines[:-30] + "\n", "line 2")


# -- observations ----------------------------------------------------------------------------
# tests/fixtures/langfuse_observations_api.jsonl (sources in tests/fixtures/README.md):
#   obs-001     GENERATION gpt-4o-mini  usage 50 in / 20 out, cost 0.00007, 14:00:00.000 → 02.500
#   obs-002     SPAN (not an LLM call: skipped)
#   generation  GENERATION gpt-5-mini   usageDetails input 70 + input_cached_tokens 30 = 100 in
#               (30 cached), output 5 + output_reasoning_tokens 15 = 20 out (15 reasoning),
#               cost 0.00005825
#   obs-003     GENERATION gpt-4o-mini  level ERROR, 12 in / 0 out, cost 0, 0.4 s
# Totals: 3 requests, 1 error, 50 + 100 + 12 = 162 in, 30 cached, 20 + 20 + 0 = 40 out,
# 15 reasoning, 0.00007 + 0.00005825 + 0 = 0.00012825 USD.


def test_langfuse_observations_count_generations_only(store):
    r = import_file(store, fixture("langfuse_observations_api.jsonl"))
    assert r.format == "langfuse_observations"
    assert any("1 observation(s) that are not LLM calls" in n for n in r.notes)
    t = totals(store)
    assert (t.requests, t.errors, t.input_tokens, t.cached_input_tokens, t.output_tokens) == (
        3, 1, 162, 30, 40,
    )  # fmt: skip
    assert t.stated_cost_usd == Decimal("0.00012825")
    rows = store.query(
        "SELECT request_id, latency_ms, reasoning_tokens, error_message FROM request_events ORDER BY ts"
    )
    assert rows == [
        ("obs-001", 2500, 0, None),
        ("generation", None, 15, None),
        ("obs-003", 400, 0, "Rate limit reached for gpt-4o-mini"),
    ]
    again = import_file(store, fixture("langfuse_observations_api.jsonl"))
    assert (again.rows_new, again.rows_duplicate) == (0, 3)


def test_langfuse_blob_export_rows_with_flattened_usage(store, tmp_path):
    # the blob-storage export's snake_case fields (langfuse.com docs, blob-storage export fields)
    rec = {"id": "o1", "trace_id": "t1", "type": "GENERATION", "start_time": "2025-12-09 14:00:00.000000",
           "end_time": "2025-12-09 14:00:01.250000", "provided_model_name": "gpt-4o-mini",
           "usage_details": {"input": 10, "output": 5}, "total_cost": 0.00001, "level": "DEFAULT"}  # fmt: skip
    import_file(store, write(tmp_path, "observations.jsonl", json.dumps(rec) + "\n"))
    assert store.query(
        "SELECT model, input_tokens, output_tokens, latency_ms, cost_usd FROM request_events"
    ) == [("gpt-4o-mini", 10, 5, 1250, Decimal("0.0000100000"))]


def test_langfuse_observations_without_readable_tokens_are_refused(store, tmp_path):
    csv = ('id,trace_id,type,start_time,provided_model_name,usage_details,total_cost\n'
           'o1,t1,GENERATION,2025-12-09 14:00:00.000000,gpt-4o-mini,"{""input"": 10}",0.00001\n')  # fmt: skip
    before = snapshot(store)
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, "observations.csv", csv))
    assert "usage_details" in str(err.value) and "no token counts" in str(err.value)
    assert snapshot(store) == before
