"""Spend basis (billed where a cost export covers the day), month projection, budget setting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lib.analytics.overview import freshness, month_spend, spend
from lib.auth.roles import PermissionDeniedError
from lib.filters import Filters
from lib.ingest import import_file
from lib.settings import monthly_budget, set_monthly_budget
from tests.conftest import fixture, write


def test_spend_is_billed_where_covered_else_estimated(store, tmp_path):
    import_file(store, fixture("openai_costs.json"))  # billed: Nov 1 0.30, Nov 2 0.70
    log = "timestamp,request_id,model,input_tokens,output_tokens\n2024-11-03T10:00:00Z,x,gpt-4o-mini,1000000,0\n"
    import_file(store, write(tmp_path, "gw.csv", log))  # Nov 3: estimated 1M × $0.15
    f = Filters(preset="custom", start=date(2024, 11, 1), end=date(2024, 11, 3))
    assert spend(store, f, datetime(2024, 11, 10, tzinfo=UTC)) == (
        Decimal("1.15"),
        "billed + estimated",
    )
    only_bill = Filters(preset="custom", start=date(2024, 11, 1), end=date(2024, 11, 2))
    assert spend(store, only_bill) == (Decimal("1.00"), "billed")
    assert spend(store, only_bill, previous=True) == (None, "billed")  # Oct 30–31: nothing known


def test_month_projection(store, tmp_path):
    log = "timestamp,request_id,model,input_tokens,output_tokens\n2026-04-02T10:00:00Z,x,gpt-4o-mini,2000000,0\n"
    import_file(store, write(tmp_path, "gw.csv", log))  # $0.30 on April 2
    ms = month_spend(store, now=datetime(2026, 4, 10, 12, tzinfo=UTC))
    assert (ms.usd, ms.basis, ms.days_elapsed, ms.days_in_month) == (
        Decimal("0.30"),
        "estimated",
        10,
        30,
    )
    assert ms.projected == Decimal("0.90")


def test_budget_is_an_admin_setting(store):
    assert monthly_budget(store) is None
    with pytest.raises(PermissionDeniedError):
        set_monthly_budget(store, Decimal("500"), "analyst")
    set_monthly_budget(store, Decimal("500"), "admin")
    assert monthly_budget(store) == Decimal("500")
    set_monthly_budget(store, None, "admin")
    assert monthly_budget(store) is None


def test_freshness_per_source(store):
    import_file(store, fixture("openai_costs.json"))
    import_file(store, fixture("helicone_export.csv"))
    fr = freshness(store)
    assert list(fr["source"]) == ["helicone", "openai_costs"]
    assert list(fr["imports"]) == [1, 1]


def test_spend_pair_matches_two_calls(store, tmp_path):
    from lib.analytics.overview import spend_pair

    import_file(store, fixture("openai_costs.json"))  # billed: Nov 1 0.30, Nov 2 0.70
    log = "timestamp,request_id,model,input_tokens,output_tokens\n2024-11-03T10:00:00Z,x,gpt-4o-mini,1000000,0\n"
    import_file(store, write(tmp_path, "gw.csv", log))  # Nov 3: estimated 1M × $0.15
    for f in (Filters(preset="custom", start=date(2024, 11, 2), end=date(2024, 11, 2)),
              Filters(preset="custom", start=date(2024, 11, 1), end=date(2024, 11, 1)),
              Filters(preset="custom", start=date(2024, 11, 2), end=date(2024, 11, 3), tz="Europe/Paris")):  # fmt: skip
        assert spend_pair(store, f) == (spend(store, f), spend(store, f, previous=True))
    # Nov 3 against Nov 2: the estimate now, the bill before
    pair = spend_pair(
        store, Filters(preset="custom", start=date(2024, 11, 3), end=date(2024, 11, 3))
    )
    assert pair == ((Decimal("0.15"), "estimated"), (Decimal("0.70"), "billed"))
