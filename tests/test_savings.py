"""Savings, what-if repricing and unit costs against figures worked out by hand.

Prices (catalog, USD per 1M tokens): gpt-4o-mini input 0.15, cached 0.075, output 0.60;
gpt-4o input 2.50, cached 1.25, output 10.00; batch 50 % off for both.

Fixture (input includes cached tokens):
  1. Mar 1, gpt-4o-mini, u1: input 2M (1M cached), output 1M     → 0.15 + 0.075 + 0.60 = 0.825
  2. Mar 1, gpt-4o-mini, u2: input 1M, batch                     → 0.15 × 0.5           = 0.075
  3. Mar 2, gpt-4o, u1: input 1M, output 100k                    → 2.50 + 1.00          = 3.50
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lib.analytics.savings import reprice, savings_by_model, unit_costs
from lib.errors import NotFoundError
from lib.filters import Filters
from lib.ingest import import_file
from tests.conftest import write

NOW = datetime(2026, 3, 3, 12, tzinfo=UTC)
PERIOD = Filters(preset="custom", start=date(2026, 3, 1), end=date(2026, 3, 2))
LOG = (
    "timestamp,request_id,model,user,input_tokens,cached_input_tokens,output_tokens,batch\n"
    "2026-03-01T10:00:00Z,r1,gpt-4o-mini,u1,2000000,1000000,1000000,false\n"
    "2026-03-01T11:00:00Z,r2,gpt-4o-mini,u2,1000000,0,0,true\n"
    "2026-03-02T09:00:00Z,r3,gpt-4o,u1,1000000,0,100000,false\n"
)


@pytest.fixture
def loaded(store, tmp_path):
    import_file(store, write(tmp_path, "log.csv", LOG))
    return store


def _money(v) -> Decimal:
    return Decimal(str(v)).quantize(Decimal("0.000001"))


def test_savings_made_and_possible(loaded):
    s = savings_by_model(loaded, PERIOD, NOW).set_index("model")
    mini, big = s.loc["gpt-4o-mini"], s.loc["gpt-4o"]
    assert (mini["requests"], big["requests"]) == (2, 1)
    assert _money(mini["estimated"]) == Decimal("0.900000")
    assert _money(big["estimated"]) == Decimal("3.500000")
    # batch: request 2 paid 0.075 instead of 0.15
    assert _money(mini["saved_batch"]) == Decimal("0.075000")
    assert _money(big["saved_batch"]) == 0
    # caching: request 1's 1M cached tokens at 0.075 instead of 0.15
    assert _money(mini["saved_cache"]) == Decimal("0.075000")
    # still possible: non-batch spend × 50 % (0.825 × 0.5; 3.50 × 0.5)
    assert _money(mini["could_batch"]) == Decimal("0.412500")
    assert _money(big["could_batch"]) == Decimal("1.750000")
    # uncached input read from cache instead: r1 1M × 0.075 + r2 1M × 0.075 × 0.5 (batch); r3 1M × 1.25
    assert _money(mini["could_cache"]) == Decimal("0.112500")
    assert _money(big["could_cache"]) == Decimal("1.250000")


def test_what_if_moving_half_of_gpt_4o_to_mini(loaded):
    w = reprice(loaded, PERIOD, "gpt-4o", "gpt-4o-mini", 0.5, NOW)
    # 2 days of data → × 30.4375 / 2 = 15.21875 per month
    assert w.days == 2
    assert w.current_monthly == Decimal("4.40") * Decimal("15.21875")  # 66.9625
    assert w.moved_before == Decimal("3.50") * Decimal("0.5") * Decimal("15.21875")
    # r3's tokens at mini prices: 1M × 0.15 + 100k × 0.60 = 0.21; half of it
    assert w.moved_after == Decimal("0.21") * Decimal("0.5") * Decimal("15.21875")
    assert w.new_monthly == Decimal("41.92765625")
    assert w.change == Decimal("41.92765625") - Decimal("66.9625")
    # moving nothing changes nothing; moving to the same model changes nothing
    assert reprice(loaded, PERIOD, "gpt-4o", "gpt-4o-mini", 0, NOW).change == 0
    assert reprice(loaded, PERIOD, "gpt-4o", "gpt-4o", 1, NOW).change == 0


def test_what_if_refuses_what_it_cannot_price(loaded):
    with pytest.raises(NotFoundError, match="no price"):
        reprice(loaded, PERIOD, "gpt-4o", "no-such-model", 0.5, NOW)
    with pytest.raises(NotFoundError, match="no priced traffic"):
        reprice(loaded, PERIOD, "gpt-4.1-mini", "gpt-4o-mini", 0.5, NOW)
    with pytest.raises(ValueError):
        reprice(loaded, PERIOD, "gpt-4o", "gpt-4o-mini", 1.5, NOW)


def test_unit_costs(loaded):
    units = unit_costs(loaded, PERIOD, NOW)
    assert list(units["total"]) == [True, False, False]  # the total first, then each model
    u = units[~units["total"]].set_index("model")
    assert list(u.index) == ["gpt-4o", "gpt-4o-mini"]
    total = units.iloc[0]
    # 4.40 USD, 3 requests, 5.1M tokens (3M + 1M + 1.1M), 2 users
    assert (_money(total["estimated"]), total["requests"], total["tokens"], total["users"]) == (
        Decimal("4.400000"), 3, 5_100_000, 2,
    )  # fmt: skip
    assert total["per_1k_requests"] == pytest.approx(4400 / 3)
    assert total["per_1m_tokens"] == pytest.approx(4.40 / 5.1)
    assert total["per_user"] == pytest.approx(2.20)
    mini = u.loc["gpt-4o-mini"]
    assert (mini["per_1k_requests"], mini["per_1m_tokens"], mini["per_user"]) == pytest.approx(
        (450, 0.225, 0.45)
    )
    assert u.loc["gpt-4o", "users"] == 1 and u.loc["gpt-4o", "per_user"] == pytest.approx(3.5)


def test_costs_page_shows_unit_costs_savings_and_what_if(app_env, tmp_path):
    from lib.store import Store
    from tests.conftest import app_test, login

    with Store(app_env) as s:
        import_file(s, write(tmp_path, "log.csv", LOG))
    period = {"period": "custom", "from": "2026-03-01", "to": "2026-03-02"}
    at = app_test("pages/2_Costs.py")
    at.query_params.update({**period, "tab": "units"})  # each question has its tab, in the URL
    at = login(at, "ana")
    assert not at.exception
    v = {m.label: m.value for m in at.metric}
    assert v["Per 1K requests (USD)"] == "$1,466.67"  # 4.40 × 1000 / 3
    assert v["Per 1M tokens (USD)"] == "$0.86"  # 4.40 / 5.1
    assert v["Per active user (USD)"] == "$2.20"
    at.query_params["tab"] = "savings"
    at.run()
    v = {m.label: m.value for m in at.metric}
    assert v["Saved by the batch API (USD)"] == "$0.08"  # 0.075, half up
    assert v["Saved by cache reads (USD)"] == "$0.08"
    assert v["Possible with batch, at most (USD)"] == "$2.16"  # 0.4125 + 1.75 = 2.1625
    assert v["Possible with caching, at most (USD)"] == "$1.36"  # 0.1125 + 1.25 = 1.3625
    at.query_params["tab"] = "whatif"
    at.run()
    v = {m.label: m.value for m in at.metric}
    # the what-if defaults to moving half of the costliest model (gpt-4o) to gpt-4o-mini
    assert at.selectbox(key="wi_source").value == "gpt-4o"
    assert v["Monthly cost now (USD)"] == "$66.96"
    assert v["Monthly cost after (USD)"] == "$41.93"
    at.slider(key="wi_share").set_value(100)
    at.run()
    v = {m.label: m.value for m in at.metric}
    # all of gpt-4o: 66.9625 − 3.50 × 15.21875 + 0.21 × 15.21875 = 16.890625
    assert v["Monthly cost after (USD)"] == "$16.89"
    assert at.query_params["share"] in ("100", ["100"])  # the what-if is in the link
    shared = app_test("pages/2_Costs.py")
    shared.query_params.update({k: at.query_params[k] for k in at.query_params})
    shared = login(shared, "vic")
    assert shared.slider(key="wi_share").value == 100
    assert {m.label: m.value for m in shared.metric}["Monthly cost after (USD)"] == "$16.89"
