"""Money in other currencies: cost lines keep their ISO currency, totals are kept per currency
and never added to US dollars (nothing is converted); request and usage rows still take only
dollars. Figures are worked out by hand from the small files below."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lib.analytics.costs import CurrencyTotal, billed_other_currencies, by_line_item, daily
from lib.errors import InputError
from lib.filters import Filters
from lib.ingest import import_file, undo_import
from lib.summary import totals
from tests.conftest import fixture, openai_page, run_cli, snapshot, write

JAN = (datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 2, 1, tzinfo=UTC))


def _usd_view(store) -> tuple:
    """Everything the USD figures show: summary (without the other currencies), the Costs
    page's daily and per line item tables."""
    t = totals(store).as_json()
    t.pop("billed_other_currencies")
    t.pop("rows")  # stored rows of every kind
    f = Filters(preset="custom", start=JAN[0].date(), end=datetime(2026, 1, 31).date())
    d = daily(store, f, window=JAN)
    return (t, d.to_dict("records"), by_line_item(store, f, now=JAN[1]).to_dict("records"))


def test_a_header_in_euros_imports_as_cost_lines_in_euros(store, tmp_path):
    text = 'date;model;Coût (€)\n05/01/2026;gpt-4o;"12,50 €"\n06/01/2026;gpt-4o;2\n'
    r = import_file(store, write(tmp_path, "couts.csv", text))
    assert (r.format, r.grain) == ("generic_csv", "cost")
    rows = store.query("SELECT bucket_start, amount, currency FROM cost_items ORDER BY 1")
    assert rows == [
        (datetime(2026, 1, 5, tzinfo=UTC), Decimal("12.50"), "EUR"),
        (datetime(2026, 1, 6, tzinfo=UTC), Decimal("2"), "EUR"),
    ]
    assert any("EUR" in n and "never converted" in n for n in r.notes)
    t = totals(store)
    assert t.stated_cost_usd is None
    assert t.billed_other_currencies == {"EUR": Decimal("14.50")}  # 12,50 + 2


def test_a_dashboard_cost_export_in_euros(store, tmp_path):
    """The OpenAI dashboard's cost export with ``amount_currency = eur`` (the same file in
    dollars gives cost lines in dollars: see test_import_generic_names)."""
    usd = Path(fixture("openai_dashboard_costs.csv")).read_text(encoding="utf-8")
    r = import_file(store, write(tmp_path, "eur.csv", usd.replace(",usd,", ",eur,")))
    assert r.grain == "cost"
    total = sum(
        Decimal(v)
        for v in ("0.895874", "0.56177125", "0.569788", "0.5455665", "0.3409", "0.072054")
    )
    assert totals(store).billed_other_currencies == {"EUR": total}
    assert store.scalar("SELECT count(*) FROM cost_items WHERE currency <> 'EUR'") == 0


def test_a_file_in_euros_never_changes_the_usd_figures(store, tmp_path):
    # dollars: a usage log with its cost, and a cost export in dollars
    import_file(
        store,
        write(tmp_path, "log.csv", "timestamp,model,input_tokens,output_tokens,cost\n"
              "2026-01-05T10:00:00Z,gpt-4o,1000,100,0.0035\n"),
    )  # fmt: skip
    cost = {"object": "organization.costs.result", "line_item": "gpt-4o, input",
            "amount": {"value": 1.25, "currency": "usd"}}  # fmt: skip
    import_file(store, write(tmp_path, "costs.json", openai_page(cost, start=1767657600)))  # 6 Jan
    before = _usd_view(store)
    eur = import_file(
        store,
        write(tmp_path, "bill_eur.csv", "date,line_item,amount,currency\n"
              "2026-01-05,gpt-4o,100,EUR\n2026-01-06,gpt-4o,200.5,EUR\n2026-01-06,gpt-4o,7,GBP\n"),
    )  # fmt: skip
    assert _usd_view(store) == before  # neither 300.5 € nor 7 £ reach a dollar figure
    t = totals(store)
    assert t.stated_cost_usd == Decimal("0.0035") + Decimal("1.25")
    assert t.billed_other_currencies == {"EUR": Decimal("300.5"), "GBP": Decimal("7")}
    undo_import(store, eur.import_id)
    assert totals(store).billed_other_currencies == {}
    assert _usd_view(store) == before


def test_billed_other_currencies_for_a_window_and_filters(store, tmp_path):
    text = (
        "date,line_item,model,provider,amount,currency\n"
        "2026-01-05,a,gpt-4o,openai,10.10,EUR\n"
        "2026-01-20,b,claude-sonnet-4,anthropic,5.05,EUR\n"
        "2026-01-20,c,gpt-4o,openai,3,GBP\n"
        "2026-02-02,d,gpt-4o,openai,1000,EUR\n"  # outside January
        "2026-01-21,e,gpt-4o,openai,99,USD\n"  # dollars: not another currency
    )
    import_file(store, write(tmp_path, "multi.csv", text))
    f = Filters()
    assert billed_other_currencies(store, f, window=JAN) == [
        CurrencyTotal("EUR", Decimal("15.15"), 2),  # 10.10 + 5.05
        CurrencyTotal("GBP", Decimal("3"), 1),
    ]
    only_openai = f.with_(dims={"provider": ["openai"]})
    assert billed_other_currencies(store, only_openai, window=JAN) == [
        CurrencyTotal("EUR", Decimal("10.10"), 1),
        CurrencyTotal("GBP", Decimal("3"), 1),
    ]
    feb = (datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC))
    assert billed_other_currencies(store, f, window=feb) == [
        CurrencyTotal("EUR", Decimal("1000"), 1)
    ]


def test_summary_shows_each_currency_apart(db_path, tmp_path):
    path = write(tmp_path, "b.csv", "date,amount,currency\n2026-01-05,1.5,USD\n2026-01-05,2.25,EUR\n"
                 "2026-01-06,0.75,EUR\n")  # fmt: skip
    assert run_cli("import", path, "--db", db_path, "--quiet").returncode == 0
    data = json.loads(run_cli("summary", "--json", "--db", db_path).stdout)
    assert data["stated_cost_usd"] == "1.50"
    assert data["billed_other_currencies"] == {"EUR": "3.00"}  # 2.25 + 0.75, not added to 1.50
    text = run_cli("summary", "--db", db_path).stdout
    assert "Stated cost (USD):    1.50" in text
    assert "Billed (EUR):         3.00 (not converted, not in USD)" in text


@pytest.mark.parametrize(
    ("text", "line", "found"),
    [
        # the header says euros, a row says dollars
        ("date,Cost (EUR),currency\n2026-01-05,1,EUR\n2026-01-06,2,USD\n", 3, "2 in USD"),
        # a currency that cannot be read
        (
            "date,amount,currency\n2026-01-05,1,EUR\n2026-01-06,2,EURO DOLLARS\n",
            3,
            "2 in EURO DOLLARS",
        ),
        # another currency's sign in a euro row
        ("date,amount,currency\n2026-01-05,1,EUR\n2026-01-06,£2,EUR\n", 3, "£2"),
        # an empty amount on a line that has one
        ("date,line_item,amount,currency\n2026-01-05,a,1,EUR\n2026-01-06,b,,EUR\n", 3, "missing"),
    ],
)
def test_a_cost_line_that_cannot_be_read_stops_the_import(store, tmp_path, text, line, found):
    before = snapshot(store)
    with pytest.raises(InputError) as err:
        import_file(store, write(tmp_path, "bad.csv", text))
    assert err.value.line == line and err.value.found == found, str(err.value)
    assert err.value.field in ("amount", "Cost (EUR)")
    assert snapshot(store) == before


def test_a_money_only_export_in_dollars_is_cost_lines_too(store, tmp_path):
    """Periods and amounts, no token or request counts, no request ids: cost lines whatever
    the currency. In dollars it was once read as one made-up request per line."""
    log = (
        "timestamp,request_id,model,input_tokens,output_tokens,status\n"
        "2025-08-08T09:00:00Z,a1,gpt-4o-mini,1000,10,success\n"
        "2025-08-08T10:00:00Z,a2,gpt-4o-mini,1000,10,success\n"
    )
    import_file(store, write(tmp_path, "gw.csv", log))
    bill = 'Date;Provider;Model;"Cost (USD)"\n08/08/2025;openai;gpt-4o-mini;"12.00"\n'
    r = import_file(store, write(tmp_path, "cost.csv", bill))
    assert (r.format, r.grain, r.rows_read) == ("generic_csv", "cost", 1)
    assert store.query(
        "SELECT bucket_start, bucket_end, provider, model, amount, currency FROM cost_items"
    ) == [
        (datetime(2025, 8, 8, tzinfo=UTC), datetime(2025, 8, 9, tzinfo=UTC), "openai",
         "gpt-4o-mini", Decimal("12.00"), "USD")
    ]  # fmt: skip
    assert store.scalar("SELECT count(*) FROM request_events") == 2  # the log's two calls only
    t = totals(store)
    assert (t.requests, t.input_tokens) == (2, 1000 + 1000)
    assert t.stated_cost_usd == Decimal("12.00")  # the bill, not a request's stated cost
    assert t.billed_other_currencies == {}
    assert any("read as cost lines, not as requests" in n for n in r.notes)
    # the same file in euros: cost lines in euros, as before
    eur = import_file(store, write(tmp_path, "cout.csv", bill.replace("Cost (USD)", "Coût (€)")))
    assert (eur.grain, totals(store).billed_other_currencies) == ("cost", {"EUR": Decimal("12.00")})


def test_a_call_log_without_ids_or_tokens_is_still_one_request_per_line(store, tmp_path):
    """A status or a latency says each line is a call: its cost is the call's, not a bill."""
    text = (
        "timestamp,model,status,latency_ms,cost\n"
        "2025-08-08T09:00:00Z,gpt-4o-mini,success,120,0.0015\n"
        "2025-08-08T09:01:00Z,gpt-4o-mini,error,80,0\n"
    )
    r = import_file(store, write(tmp_path, "calls.csv", text))
    assert (r.grain, r.rows_new) == ("request", 2)
    assert store.scalar("SELECT count(*) FROM cost_items") == 0
    assert totals(store).stated_cost_usd == Decimal("0.0015")  # 0.0015 + 0


def test_request_and_usage_rows_in_another_currency_are_still_refused(store, tmp_path):
    """Their cost is ``cost_usd``: a euro there would be added to dollars, so it is refused."""
    requests = 'timestamp,model,input_tokens,cost\n2026-01-01,gpt-4o,5,"12,50 €"\n'
    with pytest.raises(InputError, match="only USD is supported"):
        import_file(store, write(tmp_path, "req.csv", requests))
    usage = "date,model,requests,Coût (€)\n2026-01-05,gpt-4o,1,2\n"
    with pytest.raises(InputError, match="only US dollars") as err:
        import_file(store, write(tmp_path, "use.csv", usage))
    assert "cost export" in str(err.value)
    tokens = "date,model,input_tokens,amount,currency\n2026-01-05,gpt-4o,10,2,EUR\n"
    with pytest.raises(InputError, match="only USD is supported"):
        import_file(store, write(tmp_path, "tok.csv", tokens))


def test_a_day_billed_only_in_another_currency_says_so(store):
    import_file(store, fixture("azure_cost_mca_eur.csv"))  # Azure OpenAI, 2026-09-10, in EUR
    sep_10 = (datetime(2026, 9, 10, tzinfo=UTC), datetime(2026, 9, 11, tzinfo=UTC))
    f = Filters(preset="custom", start=sep_10[0].date(), end=sep_10[0].date())
    d = daily(store, f, window=sep_10)
    azure = d[d["provider"] == "azure"]
    assert len(azure) == 1
    assert azure["billed"].isna().all()  # no USD bill: the EUR one is never converted
    assert list(azure["note"]) == ["other_currency"]
