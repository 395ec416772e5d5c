"""Cloud bills (Azure Cost Management cost details, Google Cloud billing export): one file, two
grains (cost lines and token usage) in one transaction. Every figure is worked out by hand from
the fixtures (see tests/fixtures/README.md for their sources)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.errors import InputError
from lib.importers.base import arrow_plan
from lib.importers.cloud_billing import azure_meter, count_scale, gcp_sku
from lib.ingest import _Hasher, _run_plan, import_file, undo_import
from lib.summary import totals
from tests.conftest import fixture, run_cli, snapshot, write

EA = "azure_cost_ea_openai.csv"
MCA = "azure_cost_mca_eur.csv"
GCP = "gcp_billing_vertex.jsonl"
GCP_EUR = "gcp_billing_gemini_eur.csv"


def _tokens_by_model(store) -> dict[str, tuple[int, int, int]]:
    rows = store.query(
        """SELECT model, sum(input_tokens), sum(cached_input_tokens), sum(output_tokens)
           FROM live_usage GROUP BY model ORDER BY model"""
    )
    return {m: (int(i), int(c), int(o)) for m, i, c, o in rows}


def _money(store) -> dict[str, Decimal]:
    rows = store.query("SELECT currency, sum(amount) FROM live_costs GROUP BY 1 ORDER BY 1")
    return {c: Decimal(v) for c, v in rows}


# -- reading meter names, SKUs and units ----------------------------------------------------
@pytest.mark.parametrize(
    ("unit", "scale"),
    [("1K", 1000), ("1K Tokens", 1000), ("1M", 1_000_000), ("10K", 10_000), ("1,000", 1000),
     ("count", 1), ("tokens", 1), ("1 Hour", None), ("1/Month", None), ("", None), ("GiBy", None)],
)  # fmt: skip
def test_count_units(unit, scale):
    assert count_scale(unit) == scale


@pytest.mark.parametrize(
    ("meter", "kind", "model", "batch"),
    [
        ("gpt-4o-mini-0718-Inp-glbl Tokens", "input", "gpt-4o-mini-0718", False),
        ("gpt 4o 0513 Output global Tokens", "output", "gpt-4o-0513", False),
        ("gpt 4.1 mini cached Inp glbl", "cached", "gpt-4.1-mini", False),
        ("gpt-4-8K-Batch-Inp-glbl Tokens", "input", "gpt-4-8k", True),
        ("R1 Outp glbl Tokens", "output", "r1", False),
        ("Standard Text Records", None, None, False),
        ("gpt-4o-mini-0718-FT-Hosting", None, None, False),
    ],
)
def test_azure_meter_names(meter, kind, model, batch):
    m = azure_meter(meter)
    assert (m.kind, m.model, m.batch) == (kind, model, batch)


def test_gcp_skus():
    s = gcp_sku("Gemini 2.5 Flash Text Input Tokens - Predictions")
    assert (s.measure, s.kind, s.model) == ("tokens", "input", "gemini-2.5-flash")
    s = gcp_sku("Gemini 2.5 Flash Cached Input Tokens")
    assert (s.measure, s.kind, s.model) == ("tokens", "cached", "gemini-2.5-flash")
    s = gcp_sku("Gemini 1.0 Pro Text Output Characters - Predictions")
    assert (s.measure, s.kind) == ("characters", "output")  # characters are never tokens
    assert gcp_sku("N2 Instance Core running in Americas").measure is None


# -- Azure ----------------------------------------------------------------------------------
def test_azure_ea_export(store):
    r = import_file(store, fixture(EA))
    assert (r.format, r.source, r.grain) == ("azure_cost", "azure_cost", "cost+usage")
    # Token meters: quantity × 1K. gpt-4o-0513 in: 1660.301 + 704.83 → 1,660,301 + 704,830;
    # out: 124.621 + 68.433 → 124,621 + 68,433. mini-0718: 13.823 in, 2.274 out.
    # R1: 0.376 in, 4.096 out. gpt-4o-1120 cached input: 200 → 200,000 (input counts cached).
    assert _tokens_by_model(store) == {
        "gpt-4o-0513": (1_660_301 + 704_830, 0, 124_621 + 68_433),
        "gpt-4o-1120": (200_000, 200_000, 0),
        "gpt-4o-mini-0718": (13_823, 0, 2_274),
        "r1": (376, 0, 4_096),
    }
    t = totals(store)
    assert t.input_tokens == 1_660_301 + 704_830 + 200_000 + 13_823 + 376
    assert t.cached_input_tokens == 200_000
    assert t.output_tokens == 124_621 + 68_433 + 2_274 + 4_096
    # Money, the file's own digits: the ten Azure OpenAI / Language rows; the Storage row
    # (0.00004 USD) is another service, left out and named in the notes.
    usd = (Decimal("1.869315") + Decimal("8.301505") + Decimal("0.0221184") + Decimal("3.52415")
           + Decimal("0.00207345") + Decimal("0.0013644") + Decimal("1.026495")
           + Decimal("0.0005076") + Decimal("0.0015") + Decimal("0.25"))  # fmt: skip
    assert usd == Decimal("14.99902885")
    assert _money(store) == {"USD": usd}
    assert t.stated_cost_usd == usd  # billed, per provider (azure) and day
    assert t.billed_other_currencies == {}
    # 31 March: 1.869315 + 8.301505
    day = store.scalar(
        "SELECT sum(amount) FROM live_costs WHERE bucket_start = TIMESTAMPTZ '2025-03-31 00:00:00+00'"
    )
    assert day == Decimal("10.17082")
    # the meter that is not tokens keeps its money and quantity as a cost line, and is named
    row = store.query(
        """SELECT cost_type, token_type, quantity, quantity_unit, model, provider, project
           FROM cost_items WHERE line_item = 'Standard Text Records'"""
    )
    assert row == [("other", None, 0.0015, "1K", None, "azure", "ai-adminai3148890574496362")]
    assert any("'Standard Text Records'" in n and "0.0015 USD" in n for n in r.notes)
    assert any("Storage" in n and "0.00004 USD" in n for n in r.notes)
    # token lines carry model, kind and quantity in tokens
    line = store.query(
        """SELECT model, cost_type, token_type, quantity, quantity_unit FROM cost_items
           WHERE line_item = 'gpt 4o 1120 cached Inp glbl'"""
    )
    assert line == [("gpt-4o-1120", "tokens", "cache_read_input_tokens", 200_000.0, "tokens")]
    assert store.scalar("SELECT grain FROM imports WHERE import_id = ?", [r.import_id]) == (
        "cost+usage"
    )


def test_azure_mca_export_in_euros(store):
    r = import_file(store, fixture(MCA))
    assert r.grain == "cost+usage"
    # 12.5 in 1K → 12,500 input; 3.2 in "1K Tokens" → 3,200 output; 0.5 in 1M → 500,000 (batch)
    assert _tokens_by_model(store) == {
        "gpt-4-8k": (500_000, 0, 0),
        "gpt-4o-mini-0718": (12_500, 0, 3_200),
    }
    assert store.query("SELECT model FROM usage_buckets WHERE batch") == [("gpt-4-8k",)]
    # costInBillingCurrency in EUR (costInUsd is never used): 0.00161 + 0.00165 + 6.44 + 35.42
    assert _money(store) == {"EUR": Decimal("41.86326")}
    t = totals(store)
    assert t.stated_cost_usd is None  # nothing in dollars: the euros are not converted
    assert t.billed_other_currencies == {"EUR": Decimal("41.86326")}
    hosting = store.query(
        "SELECT cost_type, quantity, quantity_unit, amount FROM cost_items WHERE line_item LIKE '%Hosting'"
    )
    assert hosting == [("other", 24.0, "1 Hour", Decimal("35.42"))]
    assert any("'gpt-4o-mini-0718-FT-Hosting'" in n and "35.42 EUR" in n for n in r.notes)


# -- Google Cloud ---------------------------------------------------------------------------
def test_gcp_billing_export_json_lines(store):
    r = import_file(store, fixture(GCP))
    assert (r.format, r.grain) == ("gcp_billing", "cost+usage")
    # usage.amount in "count": Flash 358,546 + 98,957 in, 55,301 + 10,685 out; Pro 443,239 in,
    # 144,812 out. The character SKU (100,000 characters) is no token.
    assert _tokens_by_model(store) == {
        "gemini-2.5-flash": (358_546 + 98_957, 0, 55_301 + 10_685),
        "gemini-2.5-pro": (443_239, 0, 144_812),
    }
    # cost + credits: the six token rows, the character row, and the -0.5 promotion credit;
    # the Compute Engine row (0.7594) is another service, left out.
    usd = (Decimal("0.107564") + Decimal("0.138253") + Decimal("0.029687") + Decimal("0.026713")
           + Decimal("0.554049") + Decimal("1.44812") + Decimal("0.0375") - Decimal("0.5"))  # fmt: skip
    assert usd == Decimal("1.841886")
    assert _money(store) == {"USD": usd}
    assert totals(store).stated_cost_usd == usd
    credit = store.query(
        "SELECT line_item, amount, cost_type, token_type FROM cost_items WHERE cost_type = 'credit'"
    )
    assert credit == [
        ("Gemini 2.5 Pro Text Output Tokens - Predictions (credit: Promotional credit for Vertex AI)",
         Decimal("-0.5"), "credit", "output_tokens")
    ]  # fmt: skip
    chars = store.query(
        "SELECT quantity, quantity_unit, cost_type, token_type FROM cost_items WHERE cost_type = 'characters'"
    )
    assert chars == [(100_000.0, "count", "characters", None)]
    assert any("billed = cost + credits" in n for n in r.notes)
    assert any("Compute Engine" in n and "0.7594 USD" in n for n in r.notes)
    # buckets are the export's own periods (a day here), per project
    assert store.query("SELECT DISTINCT bucket_end - bucket_start, project FROM usage_buckets") == [
        (timedelta(days=1), "meridian-clinops-prod")
    ]


def test_gcp_billing_export_as_csv_in_euros(store):
    r = import_file(store, fixture(GCP_EUR))
    assert r.grain == "cost+usage"
    # 1,000,000 uncached + 400,000 cached input (input counts cached), 100,000 output
    assert _tokens_by_model(store) == {"gemini-2.5-flash": (1_400_000, 400_000, 100_000)}
    # 0.0860 + 0.2150 + 0.0258 - 0.1 (free tier credit, JSON text in the credits cell)
    assert _money(store) == {"EUR": Decimal("0.2268")}
    assert totals(store).stated_cost_usd is None
    assert store.query("SELECT DISTINCT bucket_start, bucket_end FROM usage_buckets") == [
        (datetime(2026, 9, 1, 10, tzinfo=UTC), datetime(2026, 9, 1, 11, tzinfo=UTC))
    ]


def test_gcp_billing_export_as_json_array(store, tmp_path):
    lines = Path(fixture(GCP)).read_text().splitlines()
    path = write(tmp_path, "bq.json", "[" + ",\n".join(lines) + "]")
    assert import_file(store, path).format == "gcp_billing"
    assert totals(store).stated_cost_usd == Decimal("1.841886")


# -- one transaction, one ledger entry ------------------------------------------------------
@pytest.mark.parametrize("name", [EA, MCA, GCP, GCP_EUR])
def test_undo_removes_both_grains_and_reimport_adds_nothing(store, name):
    empty = snapshot(store)
    first = import_file(store, fixture(name))
    assert store.scalar("SELECT count(*) FROM live_costs") > 0
    assert store.scalar("SELECT count(*) FROM live_usage") > 0
    undo = undo_import(store, first.import_id)
    assert undo.rows_removed == first.rows_new
    after_undo = snapshot(store)
    assert {k: v for k, v in after_undo.items() if k != "bucket_coverage"} == {
        k: v for k, v in empty.items() if k != "bucket_coverage"
    }
    assert store.scalar("SELECT count(*) FROM agg_hourly") == 0  # rollups of the usage too
    # import twice: the second adds nothing, and totals stay
    import_file(store, fixture(name))
    once = totals(store).as_json()
    money = _money(store)
    again = import_file(store, fixture(name))
    assert (again.rows_new, again.rows_duplicate) == (0, again.rows_read)
    assert totals(store).as_json() == once and _money(store) == money
    # undoing the repeat brings the first import's rows back, both grains
    undo_import(store, again.import_id)
    assert totals(store).as_json() == once and _money(store) == money


def test_a_failure_in_the_second_grain_writes_nothing(store, tmp_path):
    """The usage plan fails after the cost plan was written: the transaction keeps neither."""
    day = datetime(2026, 1, 1, tzinfo=UTC)
    cost = arrow_plan(
        "azure_cost", "azure_cost", "cost", "bill.csv",
        [{"bucket_start": day, "bucket_end": day + timedelta(days=1), "provider": "azure",
          "amount": Decimal("1.5"), "currency": "EUR"}],
        None,
    )  # fmt: skip
    bad = arrow_plan(
        "azure_cost", "azure_cost", "usage", "bill.csv",
        [{"bucket_start": day, "bucket_end": day - timedelta(days=1), "kind": "cloud_bill",
          "provider": "azure", "input_tokens": 5}],
        None,
    )  # fmt: skip
    cost.also = [bad]
    before = snapshot(store)
    path = write(tmp_path, "bill.csv", "x\n")
    hasher = _Hasher(path)
    hasher.start()
    with pytest.raises(InputError, match="end before they start"):
        _run_plan(
            store,
            cost,
            path,
            False,
            lambda _m: None,
            datetime.now(UTC),
            time.perf_counter(),
            hasher,
        )
    assert snapshot(store) == before


# -- what cannot be read stops the import, naming the line and the field --------------------
def _edit(name: str, tmp_path, old: str, new: str, count: int = 1) -> str:
    text = Path(fixture(name)).read_text(encoding="utf-8-sig")
    assert old in text
    return write(tmp_path, name, text.replace(old, new, count))


@pytest.mark.parametrize(
    ("name", "old", "new", "line", "field"),
    [
        # 3rd data line (file line 4): R1 Outp glbl Tokens, quantity 4.096
        (EA, ",4.096,", ",4.096 K,", 4, "Quantity"),
        (EA, ",704.83,", ",,", 5, "Quantity"),  # a token meter without a quantity
        (MCA, ",12.5,1K,", ",12.5,1 Hour,", 2, "unitOfMeasure"),  # a token meter in hours
        (EA, ",8.301505,", ",8.30x,", 3, "Cost"),
        (MCA, ",EUR,USD,0.00165,", ",EURO DOLLARS,USD,0.00165,", 3, "billingCurrency"),
        (GCP, '"unit": "count", "amount_in_pricing_units": 55301.0', '"unit": "seconds", "amount_in_pricing_units": 55301.0', 2, "usage.unit"),
        (GCP, '"amount": 98957.0', '"amount": "lots"', 3, "usage.amount"),
    ],
)  # fmt: skip
def test_unreadable_values_are_refused_with_line_and_field(
    store, tmp_path, name, old, new, line, field
):
    before = snapshot(store)
    path = _edit(name, tmp_path, old, new)
    with pytest.raises(InputError) as err:
        import_file(store, path)
    assert (err.value.line, err.value.field) == (line, field), str(err.value)
    assert snapshot(store) == before
    assert store.scalar("SELECT status FROM imports ORDER BY import_id DESC LIMIT 1") == "failed"


def test_the_command_line_reports_without_a_traceback(db_path, tmp_path):
    path = _edit(EA, tmp_path, ",4.096,", ",abc,")
    res = run_cli("import", path, "--db", db_path, "--quiet")
    assert res.returncode == 1
    assert "line 4" in res.stderr and "'Quantity'" in res.stderr and "Traceback" not in res.stderr
    res = run_cli("import", fixture(MCA), "--db", db_path, "--quiet")
    assert res.returncode == 0 and "(cost+usage)" in res.stdout
    res = run_cli("imports", "--db", db_path)
    assert "cost+usage" in res.stdout


def test_the_preview_counts_both_grains_and_dollars_only(store):
    """The Data page's preview: the tokens of the usage plan too, and a bill in euros is no
    dollar amount."""
    from lib.preview import preview_file

    pv = preview_file(store, fixture(EA))
    assert (pv.grain, pv.rows) == ("cost", 10)  # ten cost lines (the Storage row left out)
    assert (pv.input_tokens, pv.output_tokens) == (2_579_330, 199_424)  # as imported above
    assert pv.cost_usd == Decimal("14.99902885")
    pv = preview_file(store, fixture(GCP_EUR))
    assert (pv.input_tokens, pv.output_tokens, pv.cost_usd) == (1_400_000, 100_000, None)
    assert store.scalar("SELECT count(*) FROM imports") == 0  # a preview writes nothing
