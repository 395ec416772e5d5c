"""Generic exports written by other people: names matched by their words, measures never
left out silently, nested JSON records flattened, empty bucket lines skipped and counted.

Expected totals are worked out by hand from the fixture files (see tests/fixtures/README.md).
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from lib.errors import InputError
from lib.importers.match import Matcher, match_columns, words
from lib.importers.synonyms import SYNONYMS
from lib.ingest import import_file
from lib.summary import totals
from tests.conftest import fixture, run_cli, snapshot, write


def test_names_are_compared_by_their_words():
    assert words("Jetons d’entrée") == words("jetons_entree") == words("JETONS DE ENTREE")
    assert words("tokens_prompt") == words("prompt_tokens") == words("Prompt Tokens")
    assert words("inputTokenCount") == words("input tokens")
    assert words("Coût (USD)") == words("cout")
    assert words("CostInBillingCurrency") == words("cost_in_billing_currency")
    found = match_columns(
        ["Date", "Jetons d'entrée", "Jetons de sortie", "tokens_cached", "tokens_reasoning"]
    )
    assert found == {
        "ts": "Date",
        "input_tokens": "Jetons d'entrée",
        "output_tokens": "Jetons de sortie",
        "cached_input_tokens": "tokens_cached",
        "reasoning_tokens": "tokens_reasoning",
    }
    real = ["amount_value", "cost_total", "cost_usd", "model_permaslug", "CostInBillingCurrency"]
    for name in real:
        assert match_columns([name]), name


def test_shallowest_nested_path_wins_and_copies_are_not_left_over():
    cols = ["output.body.usage.input_tokens", "input.inputTokenCount", "metadata.id"]
    m = Matcher(SYNONYMS)
    found = m.match(cols)
    assert found["input_tokens"] == "input.inputTokenCount"
    assert "request_id" not in found  # one-word tails of a path are not matched
    assert m.unmatched_measures(cols, found) == []


def test_french_excel_export_with_apostrophes(store):
    """``Jetons d’entrée`` / ``Jetons de sortie`` once imported as 0 tokens without a word."""
    r = import_file(store, fixture("generic_fr_jetons.csv"))
    assert (r.grain, r.rows_read) == ("usage", 3)
    t = totals(store)
    assert t.requests == 10 + 9 + 21
    assert t.input_tokens == 59_200 + 52_047 + 80_992
    assert t.output_tokens == 10_646 + 76_000 + 274_770
    assert t.stated_cost_usd == Decimal("0.895874") + Decimal("0.56177125") + Decimal("0.569788")


def test_openrouter_activity_columns(store):
    r = import_file(store, fixture("openrouter_activity.csv"))
    assert (r.grain, r.rows_new) == ("request", 3)
    t = totals(store)
    assert (t.requests, t.input_tokens, t.output_tokens) == (3, 100 + 150 + 1200, 200 + 250 + 900)
    assert t.cached_input_tokens == 40
    assert t.stated_cost_usd == Decimal("0.01") + Decimal("0.02") + Decimal("0.00528")
    rows = store.query(
        "SELECT model, provider, reasoning_tokens, latency_ms FROM request_events ORDER BY ts"
    )
    assert rows == [
        ("openai/gpt-4-turbo", "openai", 0, 1830),
        ("anthropic/claude-3-opus", "anthropic", 0, 2410),
        ("openai/o3-mini", "openai", 640, 5120),
    ]


def test_an_unmatched_measure_column_stops_the_import(store, tmp_path, db_path):
    text = "date,model,input_tokens,Jetons facturés\n2026-01-05,gpt-4o,10,7\n"
    path = write(tmp_path, "billed.csv", text)
    before = snapshot(store)
    with pytest.raises(InputError) as err:
        import_file(store, path)
    msg = str(err.value)
    assert "Jetons facturés" in msg and "--map" in msg and "mapping" in msg
    assert snapshot(store) == before
    # the CLI says the same, without a traceback, and --map lets the file in
    store.close()
    res = run_cli("import", path, "--db", db_path, "--quiet")
    assert res.returncode == 1 and "Jetons facturés" in res.stderr and "Traceback" not in res.stderr
    res = run_cli(
        "import", path, "--db", db_path, "--quiet",
        "--map", "ts=date", "--map", "input_tokens=input_tokens",
        "--map", "output_tokens=Jetons facturés",
    )  # fmt: skip
    assert res.returncode == 0, res.stderr


def test_header_units_that_cannot_be_stored_are_refused(store, tmp_path):
    euros = write(tmp_path, "eur.csv", "date,model,requests,Coût (€)\n2026-01-05,gpt-4o,1,2\n")
    with pytest.raises(InputError, match="only US dollars"):
        import_file(store, euros)
    kilo = write(tmp_path, "k.csv", "date,model,requests,Input tokens (K)\n2026-01-05,gpt-4o,1,2\n")
    with pytest.raises(InputError, match="whole counts"):
        import_file(store, kilo)


def test_bedrock_invocation_log_nested_records(store):
    """input.inputTokenCount / output.outputTokenCount; once "field 'input' … expected a whole
    number" because the object was taken for the token count."""
    r = import_file(store, fixture("bedrock_invocations.jsonl"))
    assert (r.format, r.grain, r.rows_new) == ("generic_jsonl", "request", 2)
    t = totals(store)
    assert (t.requests, t.input_tokens, t.output_tokens) == (2, 4 + 1520, 38 + 11)
    assert t.cached_input_tokens == 1024
    ids = [r[0] for r in store.query("SELECT request_id FROM request_events ORDER BY ts")]
    assert ids == ["ff4b6c63-5561-4431-93b8-06a817275900", "2b7c9a52-1f0e-4c8e-9d3a-7e51c0a4b6d1"]


def test_an_object_is_never_read_as_a_number(store, tmp_path):
    lines = [
        '{"timestamp": "2026-01-01T00:00:00Z", "model": "gpt-4o", "input": {"tokens": 5}, "output": 2}',
        '{"timestamp": "2026-01-01T01:00:00Z", "model": "gpt-4o", "input": {"tokens": 7}, "output": 3}',
    ]
    import_file(store, write(tmp_path, "nested.jsonl", "\n".join(lines) + "\n"))
    t = totals(store)
    assert (t.input_tokens, t.output_tokens) == (12, 5)


def test_litellm_spend_log_records_with_usage_object(store):
    """Read as generic records (the LiteLLM importer has its own test): the nested
    ``metadata.usage_object.prompt_tokens_details.cached_tokens`` is found by its words."""
    r = import_file(store, fixture("litellm_spend_logs_nested.json"), fmt="generic")
    assert (r.grain, r.rows_new) == ("request", 2)
    t = totals(store)
    assert (t.input_tokens, t.output_tokens, t.cached_input_tokens) == (120 + 12, 80 + 9, 60)
    assert t.stated_cost_usd == Decimal("0.00123") + Decimal("0.12")
    rows = store.query(
        "SELECT request_id, reasoning_tokens, cache_write_tokens FROM request_events "
        "ORDER BY request_id"
    )
    assert rows == [("chatcmpl-5b2f0c1e", 25, 20), ("req-legacy-123", 4, 0)]


def test_openai_dashboard_usage_export_skips_empty_bucket_lines(store):
    r = import_file(store, fixture("openai_dashboard_usage.csv"))
    assert (r.grain, r.rows_read) == ("usage", 6)  # 7 lines, one empty bucket (2025-10-08)
    assert any("1 empty bucket line" in n for n in r.notes)
    assert "1 empty bucket line" in r.summary_line()
    t = totals(store)
    assert t.requests == 10 + 8 + 1 + 21 + 11 + 2
    assert t.input_tokens == 59_200 + 46_264 + 5_783 + 80_992 + 124_784 + 22_688
    assert t.output_tokens == 10_646 + 60_000 + 16_000 + 274_770 + 154_852 + 33_191
    assert t.cached_input_tokens == 5_760 + 8_192


def test_openai_dashboard_cost_export(store):
    """Money is its only measure: cost lines in dollars (once read as usage buckets that
    counted no tokens and no requests, unlike the same file in euros)."""
    r = import_file(store, fixture("openai_dashboard_costs.csv"))
    assert (r.grain, r.rows_read) == ("cost", 6)  # 8 days, two of them empty
    assert any("2 empty bucket lines" in n for n in r.notes)
    total = sum(
        Decimal(v)
        for v in ("0.895874", "0.56177125", "0.569788", "0.5455665", "0.3409", "0.072054")
    )
    assert total == Decimal("2.98595375")
    assert totals(store).stated_cost_usd == total
    assert store.query("SELECT currency, count(*), sum(amount) FROM cost_items GROUP BY 1") == [
        ("USD", 6, total)
    ]
    assert store.scalar("SELECT count(*) FROM usage_buckets") == 0


def test_a_cost_export_keeps_each_rows_currency(store, tmp_path):
    """Money only, with a currency column: cost lines in their own currency (once refused)."""
    text = (
        "UsageDate,MeterName,CostInBillingCurrency,BillingCurrencyCode,Model\n"
        "2026-05-01,gpt-4o Input global Tokens,2.5,USD,gpt-4o\n"
        "2026-05-02,gpt-4o Input global Tokens,3,EUR,gpt-4o\n"
    )
    r = import_file(store, write(tmp_path, "azure.csv", text))
    assert r.grain == "cost"
    rows = store.query("SELECT currency, amount, line_item FROM cost_items ORDER BY bucket_start")
    assert rows == [
        ("USD", Decimal("2.5"), "gpt-4o Input global Tokens"),
        ("EUR", Decimal("3"), "gpt-4o Input global Tokens"),
    ]


def test_a_usage_row_in_another_currency_is_refused(store, tmp_path):
    text = (
        "UsageDate,MeterName,Tokens,CostInBillingCurrency,BillingCurrencyCode,Model\n"
        "2026-05-01,gpt-4o Input global Tokens,100,2.5,USD,gpt-4o\n"
        "2026-05-02,gpt-4o Input global Tokens,100,3,EUR,gpt-4o\n"
    )
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, "azure.csv", text))
    assert err.value.line == 3 and "EUR" in str(err.value)
