"""Cloud bills (Azure Cost Management cost details, Google Cloud billing export): one file, two
grains (cost lines and token usage) in one transaction. Every figure is worked out by hand from
the fixtures (see tests/fixtures/README.md for their sources)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.errors import InputError
from lib.importers.base import arrow_plan
from lib.importers.formats.cloud_billing import azure_meter, count_scale, gcp_sku
from lib.ingest import import_file, import_plan, undo_import
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


# Meter names as Azure writes them (Retail Prices API meterName, the cost export's MeterName),
# copied from public code (sources in tests/fixtures/README.md). Product "" is a file without
# a product column.
@pytest.mark.parametrize(
    ("meter", "unit", "product", "kind", "model", "tier"),
    [
        # embeddings name no direction: tokens are input
        ("text-embedding-3-large-glbl Tokens", "1K", "", "input", "text-embedding-3-large", None),
        ("embedding-ada-glbl Tokens", "1K", "", "input", "text-embedding-ada-002", None),
        ("text-embedding-3-small-glbl", "1K Tokens", "", "input", "text-embedding-3-small", None),
        # cd / ccchd / cchd: cached; Cd Wr: cache write; ShortCo, Std, Gl: not the model
        ("5.6 sol ShortCo Cd Wr Std Gl 1M Tokens", "1M", "", "cache_write", "gpt-5.6-sol", None),
        ("5.4 mini cd Inp Gl 1M Tokens", "1M", "", "cached", "gpt-5.4-mini", None),
        ("gpt-5-codex-ccchd-inp-glbl Tokens", "1K", "", "cached", "gpt-5-codex", None),
        ("gpt 4o dev ft cchd inpt glbl Tokens", "1K", "", "cached", "gpt-4o-dev-ft", None),
        ("V4 Flash cached DZ Tokens", "1K", "", "cached", "v4-flash", None),
        ("4.3 Cached Inp DZ L", "1K", "", "cached", "4.3", None),  # Grok: L = long context
        # Rg = regional; pp = priority processing (twice the standard price), opt = output
        ("GPT 5.1 inp Rg 1M Tokens", "1M", "", "input", "gpt-5.1", None),
        ("5.4 pp opt Gl 1M Tokens", "1M", "", "output", "gpt-5.4", "priority"),
        ("5.5 ShortCo Batch cd inp Gl 1M Tokens", "1M", "", "cached", "gpt-5.5", "batch"),
        ("56sol ShCo Opt Fl Gl 1M Tokens", "1M", "", "output", "56sol", "flex"),
        ("GPT 5 Mini outpt DZone 1M Tokens", "1M", "", "output", "gpt-5-mini", None),
        ("o4-mini 0416 Batch Inp Data Zone Tokens", "1K", "", "input", "o4-mini-0416", "batch"),
        ("o3 mini 0131 cached input regnl Tokens", "1K", "", "cached", "o3-mini-0131", None),
        ("gpt img 1.5 in cd img DZ 1M Tokens", "1M", "", "cached", "gpt-img-1.5", None),
        ("FW Deepseek-v4-Flash Cd In DZ Tokens", "1K", "", "cached", "fw-deepseek-v4-flash", None),
        # the product says whose bare version it is
        ("4.1 pp inp Gl", "1M", "Azure OpenAI PP GPT4s", "input", "gpt-4.1", "priority"),
        ("5.4 nano Opt Gl 1M Tokens", "1M", "Azure OpenAI GPT5 - 5.4 nano Opt Gl - SE Central",
         "output", "gpt-5.4-nano", None),
        ("4.3 Inp Glbl Tokens", "1K", "Azure Grok Models", "input", "4.3", None),
        # not tokens of use: training, hosting, provisioned units, seconds of video
        ("gpt-4.1-mini FT Training regional Tokens", "1K", "", None, None, None),
        ("Provisioned Managed Data Zone Unit", "1/Hour", "", None, None, None),
        ("Sora 480p 1-20s glbl Video", "1 Second", "", None, None, None),
        ("text-embedding-3-small-glbl", "1K", "", None, None, None),  # no word says tokens
    ],
)  # fmt: skip
def test_azure_meter_names_as_foundry_writes_them(meter, unit, product, kind, model, tier):
    m = azure_meter(meter, unit, product)
    assert (m.kind, m.model, m.tier, m.batch) == (kind, model, tier, tier == "batch")


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
    # rows read are the file's 11 data lines (the Storage row too); new counts what was kept:
    # 10 cost lines + 5 usage buckets (one per day and model) = 15
    assert (r.rows_read, r.rows_new, r.rows_duplicate) == (11, 15, 0)
    assert r.notes[0] == (
        "10 cost line(s) (10 new) and 5 usage bucket(s) (5 new) kept from 11 data line(s); "
        "new, duplicate and replaced count these"
    )
    assert "11 rows read, 15 new" in r.summary_line()
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


def _ea_rows(rows: list[tuple[str, str, str, str, str]]) -> str:
    """The EA fixture's header and its ``R1 Inp glbl Tokens`` line (1 April 2025) as a
    template, once per (product, meter name, quantity, unit of measure, cost)."""
    lines = list(csv.reader(io.StringIO(Path(fixture(EA)).read_text(encoding="utf-8-sig"))))
    header, template = lines[0], next(r for r in lines if "R1 Inp glbl Tokens" in r)
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for product, meter, qty, unit, cost in rows:
        row = dict(zip(header, template, strict=True))
        row.update(Product=product, MeterName=meter, Quantity=qty, UnitOfMeasure=unit, Cost=cost)
        w.writerow(row.values())
    return out.getvalue()


def test_azure_meters_of_embeddings_gpt5_cache_writes_and_priority(store, tmp_path):
    """Meter names of current Foundry models (embeddings, the GPT-5 family's bare versions,
    cache writes, priority processing, regional), one day, one resource."""
    gpt5 = "Azure OpenAI GPT5 - "
    text = _ea_rows([
        ("Azure OpenAI - text-embedding-3-large-glbl Tokens", "text-embedding-3-large-glbl Tokens", "25", "1K", "0.00325"),
        ("Azure OpenAI - embedding-ada-glbl Tokens", "embedding-ada-glbl Tokens", "10", "1K", "0.001"),
        (gpt5 + "5.4 mini Inp Gl", "5.4 mini Inp Gl 1M Tokens", "2", "1M", "1.50"),
        (gpt5 + "5.4 mini cd Inp Gl", "5.4 mini cd Inp Gl 1M Tokens", "0.5", "1M", "0.0375"),
        (gpt5 + "5.6 sol ShortCo Cd Wr Std Gl", "5.6 sol ShortCo Cd Wr Std Gl 1M Tokens", "0.2", "1M", "0.25"),
        (gpt5 + "5.4 pp opt Gl", "5.4 pp opt Gl 1M Tokens", "0.1", "1M", "3.00"),
        (gpt5 + "gpt-5-codex-ccchd-inp-glbl", "gpt-5-codex-ccchd-inp-glbl Tokens", "40", "1K", "0.005"),
        (gpt5 + "GPT 5.1 inp Rg", "GPT 5.1 inp Rg 1M Tokens", "0.3", "1M", "0.4125"),
    ])  # fmt: skip
    r = import_file(store, write(tmp_path, "foundry.csv", text))
    # 8 lines, 8 cost lines; buckets per model and tier: gpt-5.4-mini's two lines share one → 7
    assert (r.rows_read, r.rows_new) == (8, 8 + 7)
    rows = store.query(
        """SELECT model, service_tier, sum(input_tokens), sum(cached_input_tokens),
                  sum(cache_write_tokens), sum(output_tokens)
           FROM live_usage GROUP BY ALL ORDER BY model"""
    )
    # quantity × unit: 25 × 1K = 25,000; 2 × 1M = 2,000,000; 0.5 × 1M = 500,000 cached;
    # 0.2 × 1M = 200,000 written to the cache; 0.1 × 1M = 100,000 out; 40 × 1K = 40,000
    # cached; 0.3 × 1M = 300,000. Input counts cached reads and cache writes.
    assert rows == [
        ("gpt-5-codex", None, 40_000, 40_000, 0, 0),
        ("gpt-5.1", None, 300_000, 0, 0, 0),
        ("gpt-5.4", "priority", 0, 0, 0, 100_000),
        ("gpt-5.4-mini", None, 2_000_000 + 500_000, 500_000, 0, 0),
        ("gpt-5.6-sol", None, 200_000, 0, 200_000, 0),
        ("text-embedding-3-large", None, 25_000, 0, 0, 0),
        ("text-embedding-ada-002", None, 10_000, 0, 0, 0),
    ]
    t = totals(store)
    assert t.input_tokens == 40_000 + 300_000 + 2_500_000 + 200_000 + 25_000 + 10_000
    assert t.output_tokens == 100_000
    # every line's money is a token line: 0.00325 + 0.001 + 1.50 + 0.0375 + 0.25 + 3.00
    # + 0.005 + 0.4125 = 5.20925
    assert _money(store) == {"USD": Decimal("5.20925")}
    assert not any("not tokens" in n for n in r.notes)
    line = store.query(
        "SELECT model, token_type, service_tier, quantity FROM cost_items WHERE line_item LIKE '%Cd Wr%'"
    )
    assert line == [("gpt-5.6-sol", "cache_creation_input_tokens", None, 200_000.0)]


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


def test_gcp_cache_write_tokens_are_counted_as_cache_writes(store, tmp_path):
    """A cache-write SKU adds to input and to cache writes, never to plain input only."""
    text = Path(fixture(GCP_EUR)).read_text(encoding="utf-8")
    cached = text.splitlines()[3]
    write_line = (
        cached.replace("Gemini 2.5 Flash Cached Input Tokens", "Gemini 2.5 Flash Cache Write Input Tokens")
        .replace("FA11-0000-0003", "FA11-0000-0004")
        .replace(",0.0258,EUR,0.86,400000,count,400000,", ",0.0100,EUR,0.86,50000,count,50000,")
    )  # fmt: skip
    r = import_file(store, write(tmp_path, "gcp.csv", text + write_line + "\n"))
    assert r.rows_read == 4
    row = store.query(
        """SELECT sum(input_tokens), sum(cached_input_tokens), sum(cache_write_tokens),
                  sum(output_tokens) FROM live_usage"""
    )
    # input 1,000,000 + cached 400,000 + written 50,000 = 1,450,000; output 100,000
    assert row == [(1_450_000, 400_000, 50_000, 100_000)]
    line = store.query(
        "SELECT token_type, quantity, amount FROM cost_items WHERE line_item LIKE '%Cache Write%'"
    )
    assert line == [("cache_creation_input_tokens", 50_000.0, Decimal("0.0100"))]
    # 0.0860 + 0.2150 + 0.0258 + 0.0100 - 0.1 (credit)
    assert _money(store) == {"EUR": Decimal("0.2368")}


def test_gcp_billing_export_as_json_array(store, tmp_path):
    lines = Path(fixture(GCP)).read_text().splitlines()
    path = write(tmp_path, "bq.json", "[" + ",\n".join(lines) + "]")
    assert import_file(store, path).format == "gcp_billing"
    assert totals(store).stated_cost_usd == Decimal("1.841886")


# -- one transaction, one ledger entry ------------------------------------------------------
# data lines of each file: EA 11, MCA 5, the JSON Lines export 8, the CSV export 3
@pytest.mark.parametrize(("name", "lines"), [(EA, 11), (MCA, 5), (GCP, 8), (GCP_EUR, 3)])
def test_undo_removes_both_grains_and_reimport_adds_nothing(store, name, lines):
    empty = snapshot(store)
    first = import_file(store, fixture(name))
    assert first.rows_read == lines
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
    # every cost line and bucket kept again is a duplicate; the lines read are the file's
    assert (again.rows_read, again.rows_new, again.rows_duplicate) == (lines, 0, first.rows_new)
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
    with pytest.raises(InputError, match="end before they start"):
        import_plan(store, cost, origin="file")
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
