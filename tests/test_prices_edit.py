"""The price catalog's editing (lib.pricing.edit) on a real DuckDB file: each refusal of a
price names its field and changes nothing; add, edit and delete are audited with before and
after, the actor and the address; an analyst is refused even by a crafted call; the catalog
version moves and the estimate follows; LiteLLM's price list (a real excerpt) becomes per-1M
prices exactly; Tokenboard's export reads back as the same catalog."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_file
from lib.pricing.catalog import catalog_version
from lib.pricing.edit import (
    PriceError,
    add_price,
    apply_import,
    check_price,
    delete_price,
    edit_price,
    export_catalog,
    list_prices,
    preview,
    read_price_list,
)
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import fixture

TODAY = date(2026, 5, 4)
NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)
MAY4 = datetime(2026, 5, 4, 9, tzinfo=UTC)
GOOD = dict(provider="openai", model="gpt-test", effective_from="2026-05-01", input="1.5",
            output="6", cached_input="0.75", cache_write_5m=None, cache_write_1h=None,
            batch_discount="0.5", note="")  # fmt: skip


def checked(**changes: object):
    return check_price(**{**GOOD, **changes}, today=TODAY)  # type: ignore[arg-type]


def version(store: Store) -> str:
    with store.read() as cur:
        return catalog_version(cur)


def one_request_log(tmp_path: Path, model: str = "gpt-4o-mini") -> str:
    """One request on 2026-05-04 of 1,000,000 input and 1,000,000 output tokens, no cost."""
    row = {"request_id": "r1", "timestamp": MAY4.isoformat(), "provider": "openai", "model": model,
           "status": "success", "prompt_tokens": 1_000_000, "completion_tokens": 1_000_000}  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    return str(path)


def estimate(store: Store) -> Decimal:
    from lib.analytics.costs import costs_view
    from lib.filters import Filters

    f = Filters.from_query({"period": "custom", "from": "2026-05-04", "to": "2026-05-04"})
    est = costs_view(store, f, now=NOW).totals.estimated
    assert est is not None
    return Decimal(est)


# -- validation ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "code", "field"),
    [
        ({"provider": ""}, "provider", "provider"),
        ({"provider": "Open AI"}, "provider", "provider"),
        ({"model": ""}, "required", "model"),
        ({"model": "gpt 4o"}, "model", "model"),
        ({"model": "-gpt"}, "model", "model"),
        ({"model": "x" * 201}, "model", "model"),
        ({"effective_from": "2026-13-01"}, "date", "effective_from"),
        ({"effective_from": None}, "required", "effective_from"),
        ({"effective_from": "1999-12-31"}, "date", "effective_from"),  # before 2000
        ({"effective_from": "2028-06-01"}, "date", "effective_from"),  # > 2 years ahead
        ({"input": ""}, "required", "input"),
        ({"output": None}, "required", "output"),
        ({"input": "abc"}, "number", "input"),
        ({"input": "NaN"}, "number", "input"),
        ({"input": "1,5"}, "number", "input"),  # no decimal comma: "1,000" would be ambiguous
        ({"output": 1.5}, "number", "output"),  # a float's digits are not exact
        ({"cached_input": "-0.1"}, "negative", "cached_input"),
        ({"output": "10000.01"}, "too_high", "output"),
        ({"cache_write_5m": "0.0000001"}, "too_precise", "cache_write_5m"),  # 7 decimals
        ({"batch_discount": "1"}, "discount", "batch_discount"),
        ({"batch_discount": "-0.1"}, "discount", "batch_discount"),
        ({"batch_discount": "0.12345"}, "discount", "batch_discount"),
        ({"note": "n" * 201}, "note", "note"),
    ],
)
def test_each_refusal_names_its_field(changes, code, field):
    with pytest.raises(PriceError) as err:
        checked(**changes)
    assert (err.value.code, err.value.field) == (code, field)


def test_a_good_price_is_exact_and_lower_case():
    p = checked(model="  GPT-Test ", provider="OpenAI", input="1.500000", output="10000")
    assert (p.provider, p.model, p.effective_from) == ("openai", "gpt-test", date(2026, 5, 1))
    assert p.input == Decimal("1.5") and p.output == Decimal("10000")
    assert p.cached_input == Decimal("0.75") and p.cache_write_5m is None
    assert p.batch_discount == Decimal("0.5")
    assert checked(input="0", output="0").output == 0  # an embedding's output is free


# -- add, edit, delete --------------------------------------------------------------------------
def test_add_edit_delete_are_audited_and_move_the_version(store):
    v0 = version(store)
    add_price(store, "admin", "ada", checked(), from_ip="10.0.0.7", now=NOW)
    v1 = version(store)
    assert v1 != v0
    assert [x.model for x in list_prices(store, model="gpt-test")] == ["gpt-test"]
    with pytest.raises(PriceError) as err:  # the same model and day again
        add_price(store, "admin", "ada", checked(input="2"), now=NOW)
    assert err.value.code == "duplicate"
    edited = edit_price(store, "admin", "ada", "gpt-test", date(2026, 5, 1), checked(output="7"),
                        from_ip="10.0.0.7", now=NOW)  # fmt: skip
    assert version(store) not in (v0, v1)
    assert edited.output == 7
    delete_price(store, "admin", "ada", "gpt-test", date(2026, 5, 1), from_ip="10.0.0.8", now=NOW)
    assert list_prices(store, model="gpt-test") == []
    assert version(store) == v0  # the same rows as before: the same version
    log = entries(store, actions=("price_added", "price_edited", "price_deleted"))
    assert [(e.action, e.actor, e.subject, e.from_ip) for e in log] == [
        ("price_deleted", "ada", "gpt-test", "10.0.0.8"),
        ("price_edited", "ada", "gpt-test", "10.0.0.7"),
        ("price_added", "ada", "gpt-test", "10.0.0.7"),
    ]
    assert log[1].detail["before"]["output_per_mtok"] == "6"
    assert log[1].detail["after"]["output_per_mtok"] == "7"
    assert log[2].detail["after"]["input_per_mtok"] == "1.5"
    assert log[0].detail["before"]["effective_from"] == "2026-05-01"


def test_an_edit_to_another_days_price_or_a_missing_row_is_refused(store):
    add_price(store, "admin", "ada", checked(), now=NOW)
    add_price(store, "admin", "ada", checked(effective_from="2026-06-01"), now=NOW)
    with pytest.raises(PriceError) as err:
        edit_price(store, "admin", "ada", "gpt-test", date(2026, 6, 1),
                   checked(effective_from="2026-05-01"), now=NOW)  # fmt: skip
    assert err.value.code == "duplicate"
    with pytest.raises(PriceError) as err:
        delete_price(store, "admin", "ada", "gpt-test", date(2026, 7, 1), now=NOW)
    assert err.value.code == "not_found"
    assert len(list_prices(store, model="gpt-test")) == 2


def test_an_analyst_or_viewer_changes_nothing_even_by_a_crafted_call(store):
    v0 = version(store)
    for role in ("analyst", "viewer", None):
        with pytest.raises(PermissionDeniedError):
            add_price(store, role, "ana", checked(), now=NOW)
        with pytest.raises(PermissionDeniedError):
            edit_price(store, role, "ana", "gpt-4o", date(2020, 1, 1), checked(model="gpt-4o"))
        with pytest.raises(PermissionDeniedError):
            delete_price(store, role, "ana", "gpt-4o", date(2020, 1, 1))
        plan = read_price_list(Path(fixture("litellm_model_prices_excerpt.json")).read_bytes(),
                               TODAY, TODAY)  # fmt: skip
        with pytest.raises(PermissionDeniedError):
            apply_import(store, role, "ana", plan)
    assert version(store) == v0
    assert entries(store) == []


def test_in_force_today_and_history(store):
    add_price(store, "admin", "ada", checked(model="gpt-4o", effective_from="2026-05-01", input="3",
                                            output="12"), now=NOW)  # fmt: skip
    add_price(store, "admin", "ada", checked(model="gpt-4o", effective_from="2026-07-01", input="4",
                                            output="16"), now=NOW)  # fmt: skip
    history = list_prices(store, model="gpt-4o", provider="openai")
    # newest first per model: gpt-4o (3 rows), then gpt-4o-2024-05-13 and gpt-4o-mini (seed)
    assert [(p.model, str(p.effective_from)) for p in history][:3] == [
        ("gpt-4o", "2026-07-01"), ("gpt-4o", "2026-05-01"), ("gpt-4o", "2020-01-01")]  # fmt: skip
    today = list_prices(store, model="gpt-4o", in_force_on=TODAY)
    assert {(p.model, p.input) for p in today} == {
        ("gpt-4o", Decimal("3")), ("gpt-4o-2024-05-13", Decimal("5")),
        ("gpt-4o-mini", Decimal("0.15"))}  # fmt: skip


def test_an_edit_changes_the_estimate(store, tmp_path):
    import_file(store, one_request_log(tmp_path))
    # seed gpt-4o-mini: 1M input × $0.15 + 1M output × $0.60 = $0.75
    assert estimate(store) == Decimal("0.75")
    edit_price(store, "admin", "ada", "gpt-4o-mini", date(2020, 1, 1),
               checked(model="gpt-4o-mini", effective_from="2020-01-01", input="1", output="2",
                       cached_input="0.5"), now=NOW)  # fmt: skip
    assert estimate(store) == Decimal("3")  # 1M × $1 + 1M × $2
    add_price(store, "admin", "ada", checked(model="gpt-4o-mini", effective_from="2026-05-05",
                                            input="9", output="9"), now=NOW)  # fmt: skip
    assert estimate(store) == Decimal("3")  # a price from May 5 on does not price May 4


# -- LiteLLM ------------------------------------------------------------------------------------
def litellm_bytes() -> bytes:
    return Path(fixture("litellm_model_prices_excerpt.json")).read_bytes()


def test_litellm_prices_become_per_million_exactly(store):
    plan = read_price_list(litellm_bytes(), date(2026, 5, 1), TODAY)
    assert plan.format == "litellm"
    # image_generation (dall-e-2) and embedding (titan-embed-text-v1) skipped; pegasus is chat
    # without input_cost_per_token; sample_spec is the file's own description, not an entry
    assert (plan.skipped_mode, plan.skipped_unpriced) == (2, 1)
    by = {p.model: p for p in plan.prices}
    assert sorted(by) == ["ai21.j2-mid-v1", "amazon.nova-lite-v1:0",
                          "anthropic.claude-3-5-sonnet-20241022-v2:0",
                          "anthropic.claude-haiku-4-5-20251001-v1:0",
                          "anthropic.claude-sonnet-4-20250514-v1:0"]  # fmt: skip
    j2 = by["ai21.j2-mid-v1"]  # 1.25e-05 per token × 1,000,000 = 12.5 per 1M, both ways
    assert (j2.provider, j2.input, j2.output, j2.cached_input) == ("bedrock", 12.5, 12.5, None)
    nova = by["amazon.nova-lite-v1:0"]  # 6e-08 → 0.06; 2.4e-07 → 0.24; bedrock_converse
    assert (nova.provider, nova.input, nova.output) == ("bedrock", Decimal("0.06"), Decimal("0.24"))
    haiku = by["anthropic.claude-haiku-4-5-20251001-v1:0"]
    # input 1e-06 → 1; output 5e-06 → 5; cache read 1e-07 → 0.1; cache write 1.25e-06 → 1.25
    assert (haiku.input, haiku.output, haiku.cached_input, haiku.cache_write_5m) == (
        Decimal("1"), Decimal("5"), Decimal("0.1"), Decimal("1.25"))  # fmt: skip
    sonnet4 = by["anthropic.claude-sonnet-4-20250514-v1:0"]  # the above_200k tiers not read
    assert (sonnet4.input, sonnet4.output, sonnet4.cached_input, sonnet4.cache_write_5m) == (
        Decimal("3"), Decimal("15"), Decimal("0.3"), Decimal("3.75"))  # fmt: skip
    assert all(
        p.effective_from == date(2026, 5, 1) and p.cache_write_1h is None for p in plan.prices
    )
    assert "input_cost_per_token_above_200k_tokens" in plan.ignored_fields
    assert "max_tokens" in plan.ignored_fields and "mode" not in plan.ignored_fields


def test_litellm_preview_then_apply_all_at_once(store):
    add_price(store, "admin", "ada", checked(provider="bedrock", model="ai21.j2-mid-v1",
                                            effective_from="2026-01-01", input="12.5", output="12.5",
                                            cached_input=None, batch_discount=None),
              now=NOW)  # fmt: skip
    add_price(store, "admin", "ada", checked(provider="bedrock", model="amazon.nova-lite-v1:0",
                                            effective_from="2026-01-01", input="0.05", output="0.24",
                                            cached_input=None, batch_discount=None),
              now=NOW)  # fmt: skip
    plan = read_price_list(litellm_bytes(), date(2026, 5, 1), TODAY)
    seen = preview(store, plan)
    # j2-mid: the same price in force → unchanged; nova-lite: 0.05 → 0.06 → changed; the three
    # Claude ids on Bedrock are not in the catalog → added
    assert (len(seen.added), len(seen.changed), len(seen.unchanged)) == (3, 1, 1)
    assert seen.changed[0][0].input == Decimal("0.05") and seen.changed[0][1].input == Decimal(
        "0.06"
    )
    v0 = version(store)
    done = apply_import(store, "admin", "ada", plan, from_ip="10.0.0.7", now=NOW)
    assert (len(done.added), len(done.changed), len(done.unchanged)) == (3, 1, 1)
    assert version(store) != v0
    nova = list_prices(store, model="amazon.nova-lite-v1:0")
    assert [(str(p.effective_from), p.input) for p in nova] == [
        ("2026-05-01", Decimal("0.06")), ("2026-01-01", Decimal("0.05"))]  # fmt: skip
    assert len(list_prices(store, model="ai21.j2-mid-v1")) == 1  # unchanged: nothing written
    log = entries(store, actions=("prices_imported",))
    assert len(log) == 1 and (log[0].actor, log[0].from_ip) == ("ada", "10.0.0.7")
    d = log[0].detail
    assert (len(d["added"]), d["unchanged"], d["skipped_mode"], d["skipped_unpriced"]) == (
        3,
        1,
        2,
        1,
    )
    assert (d["added_count"], d["changed_count"]) == (3, 1)
    assert d["changed"][0]["before"]["input_per_mtok"] == "0.05"
    assert d["changed"][0]["after"]["input_per_mtok"] == "0.06"
    # the same list again: all unchanged
    again = preview(store, plan)
    assert (len(again.added), len(again.changed), len(again.unchanged)) == (0, 0, 5)


def test_a_bad_litellm_entry_names_the_entry_and_field_and_imports_nothing(store):
    doc = json.loads(litellm_bytes())
    doc["amazon.nova-lite-v1:0"]["output_cost_per_token"] = "cheap"
    plan_text = json.dumps(doc)
    with pytest.raises(PriceError) as err:
        read_price_list(plan_text, date(2026, 5, 1), TODAY)
    assert (err.value.code, err.value.entry, err.value.field) == (
        "number", "amazon.nova-lite-v1:0", "output_cost_per_token")  # fmt: skip
    doc["amazon.nova-lite-v1:0"]["output_cost_per_token"] = -1e-06
    with pytest.raises(PriceError) as err:
        read_price_list(json.dumps(doc), date(2026, 5, 1), TODAY)
    assert (err.value.code, err.value.field) == ("negative", "output_cost_per_token")
    doc["amazon.nova-lite-v1:0"]["output_cost_per_token"] = 1.5e-13  # 0.00000015 per 1M
    with pytest.raises(PriceError) as err:
        read_price_list(json.dumps(doc), date(2026, 5, 1), TODAY)
    assert (err.value.code, err.value.field) == ("too_precise", "output_cost_per_token")
    for text, code in [("{", "json"), ("[1, 2]", "format"), ('{"a": 1}', "format"),
                       ('{"x": {"mode": "embedding"}}', "empty")]:  # fmt: skip
        with pytest.raises(PriceError) as err:
            read_price_list(text, date(2026, 5, 1), TODAY)
        assert err.value.code == code
    with pytest.raises(PriceError) as err:  # a LiteLLM list needs the admin's day
        read_price_list(litellm_bytes(), None, TODAY)
    assert (err.value.code, err.value.field) == ("required", "effective_from")
    assert entries(store) == []


# -- export and import --------------------------------------------------------------------------
def test_export_then_import_gives_the_same_catalog(store, tmp_path):
    add_price(store, "admin", "ada", checked(model="gpt-4o", effective_from="2026-05-01", input="3",
                                            output="12", cache_write_1h="6.000001"), now=NOW)  # fmt: skip
    before = list_prices(store)
    text = export_catalog(store, now=NOW)
    doc = json.loads(text)
    assert doc["format"] == "tokenboard-prices" and len(doc["prices"]) == len(before)
    row = next(
        r for r in doc["prices"] if r["model"] == "gpt-4o" and r["effective_from"] == "2026-05-01"
    )
    assert row["cache_write_1h_per_mtok"] == "6.000001"  # decimal text: no digit lost
    other = Store(str(tmp_path / "other.duckdb"))
    try:
        with other.write() as cur:
            cur.execute("DELETE FROM prices")
        plan = read_price_list(text, None, TODAY)
        assert preview(other, plan).added and not preview(other, plan).changed
        apply_import(other, "admin", "ada", plan, now=NOW)
        assert list_prices(other) == before
        with store.read() as a, other.read() as b:
            assert catalog_version(a) == catalog_version(b)
        assert preview(store, read_price_list(text, None, TODAY)).unchanged == plan.prices
    finally:
        other.close()
    bad = json.loads(text)
    bad["prices"][3]["output_per_mtok"] = "-1"
    with pytest.raises(PriceError) as err:
        read_price_list(json.dumps(bad), None, TODAY)
    assert (err.value.entry, err.value.field) == (bad["prices"][3]["model"], "output_per_mtok")
