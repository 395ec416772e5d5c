"""The Settings page's Prices tab in AppTest over a real DuckDB file: an admin adds and edits
prices (each audited) and the Costs page's estimate follows at once; a refused field is named
and changes nothing; an analyst reads the catalog with no form; French words."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from lib.ingest import import_file
from lib.pricing.edit import list_prices
from lib.store import Store
from lib.store.audit import entries
from tests.conftest import PASSWORDS, ROOT, app_test, login, shown

SETTINGS = "pages/8_Settings.py"
NOON = datetime(2026, 5, 4, 12, tzinfo=UTC)
PRICE_ACTIONS = ("price_added", "price_edited", "price_deleted", "prices_imported")
DAY = {"period": "custom", "from": "2026-05-04", "to": "2026-05-04"}


def one_request(db: str, tmp_path: Path) -> None:
    """One gpt-4o-mini request on 2026-05-04: 1,000,000 input and 1,000,000 output tokens."""
    row = {"request_id": "r1", "timestamp": "2026-05-04T09:00:00Z", "provider": "openai",
           "model": "gpt-4o-mini", "status": "success", "prompt_tokens": 1_000_000,
           "completion_tokens": 1_000_000}  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with Store(db) as s:
        import_file(s, str(path))


def sign_in(at, user: str):
    """The login form in any language: user name, password, the one button."""
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORDS[user])
    at.button[0].click()
    return at.run()


def open_prices(user: str, **params: str):
    at = app_test(SETTINGS)
    at.session_state["tb_now"] = NOON.isoformat()
    at.query_params.update({"tab": "prices", **params})
    return sign_in(at, user)


def field(at, key: str):
    return next(w for w in at.text_input if w.key == key)


def button(at, key: str):
    return next(b for b in at.button if b.key == key)


def estimate(at) -> str:
    return next(m.value for m in at.metric if m.label in ("Estimated (USD)", "Estimé (USD)"))


def costs(user: str = "ana", lang: str | None = None):
    at = app_test("pages/2_Costs.py")
    at.session_state["tb_now"] = NOON.isoformat()
    at.query_params.update({**DAY, **({"lang": lang} if lang else {})})
    return login(at, user)


def test_admin_edits_a_price_and_the_costs_estimate_changes(app_env, tmp_path):
    one_request(app_env, tmp_path)
    before = costs()
    assert not before.exception, before.exception
    # seed gpt-4o-mini: 1M × $0.15 + 1M × $0.60 = $0.75
    assert estimate(before) == "$0.75"
    at = open_prices("ada")
    assert not at.exception, at.exception
    at.text_input(key="prices_search").input("gpt-4o-mini")
    at = at.run()
    assert "gpt-4o-mini" in at.selectbox(key="price_pick").value
    key = "price_edit_gpt-4o-mini_2020-01-01"
    field(at, f"{key}_input").input("1")
    field(at, f"{key}_output").input("2")
    at = button(at, "price_save").click().run()
    assert not at.exception, at.exception
    assert "Price of gpt\\-4o\\-mini from 2020-01-01 saved." in at.success[0].value
    after = costs()
    assert estimate(after) == "$3.00"  # 1M × $1 + 1M × $2
    with Store(app_env) as s:
        log = entries(s, actions=("price_edited",))
    assert len(log) == 1 and log[0].actor == "ada" and log[0].subject == "gpt-4o-mini"
    assert (log[0].detail["before"]["input_per_mtok"], log[0].detail["after"]["input_per_mtok"]) == (
        "0.15", "1")  # fmt: skip
    # the Costs page's own session recomputes too (the catalog version is in its cache key)
    before.run()
    assert estimate(before) == "$3.00"


def test_admin_adds_a_price_and_a_bad_field_is_named(app_env):
    at = open_prices("ada")
    k = "price_add_0"
    field(at, f"{k}_provider").input("openai")
    field(at, f"{k}_model").input("gpt-new")
    field(at, f"{k}_input").input("2,5")
    field(at, f"{k}_output").input("10")
    at = button(at, "price_add").click().run()
    assert not at.exception, at.exception
    assert "Input: expected a decimal number such as 2.50" in at.error[0].value
    with Store(app_env) as s:
        assert list_prices(s, model="gpt-new") == [] and entries(s, actions=PRICE_ACTIONS) == []
    field(at, f"{k}_input").input("2.5")
    at = button(at, "price_add").click().run()
    assert "Price of gpt\\-new from 2026-05-04 added." in at.success[0].value
    with Store(app_env) as s:
        [p] = list_prices(s, model="gpt-new")
        assert (p.input, p.output, p.effective_from) == (2.5, 10, date(2026, 5, 4))
        assert [e.action for e in entries(s, actions=PRICE_ACTIONS)] == ["price_added"]


def test_an_analyst_reads_the_catalog_without_forms(app_env):
    at = open_prices("ana", prices="history")
    assert not at.exception, at.exception
    assert at.dataframe, "the catalog is listed"
    keys = {b.key for b in at.button}
    assert not keys & {"price_add", "price_save", "price_delete", "prices_apply"}
    assert not [w for w in at.text_input if (w.key or "").startswith("price_")]
    assert any("Admins add, change and import prices." in c.value for c in at.caption)


def test_a_viewer_does_not_see_the_tab(app_env):
    at = open_prices("vic")
    assert not at.exception, at.exception
    assert not [w for w in at.text_input if (w.key or "").startswith("price")]


def test_in_french(app_env):
    at = open_prices("ada", lang="fr")
    assert not at.exception, at.exception
    assert "Modèle contient" in {w.label for w in at.text_input}
    assert "Ajouter le prix" in {b.label for b in at.button}
    at = open_prices("ana", lang="fr")
    assert any("Les administrateurs ajoutent, modifient et importent les prix." in c.value
               for c in at.caption)  # fmt: skip


def test_admin_imports_litellms_price_list_after_a_preview(app_env):
    at = open_prices("ada")
    litellm = (ROOT / "tests" / "fixtures" / "litellm_model_prices_excerpt.json").read_bytes()
    bad = json.loads(litellm)
    bad["amazon.nova-lite-v1:0"]["output_cost_per_token"] = "cheap"
    at.file_uploader(key="prices_file_0").set_value(
        ("prices.json", json.dumps(bad).encode(), "application/json")
    )
    at = at.run()
    at = button(at, "prices_preview").click().run()
    assert not at.exception, at.exception
    # the entry and LiteLLM's own field are named
    assert shown(at.error[0].value) == (
        "Entry amazon.nova-lite-v1:0: output_cost_per_token: expected a decimal number such as 2.50 "
        "(a dot for the decimals)."
    )
    at.file_uploader(key="prices_file_0").set_value(("prices.json", litellm, "application/json"))
    at.date_input(key="prices_import_day_0").set_value(date(2026, 5, 1))
    at = at.run()
    at = button(at, "prices_preview").click().run()
    assert not at.exception, at.exception
    said = " ".join(m.value for m in at.markdown)
    assert "**5** to add · **0** to change · **0** unchanged" in said
    notes = [c.value for c in at.caption]
    # dall-e-2 (image_generation) and titan-embed-text-v1 (embedding); pegasus: no input price
    assert "2 entries skipped: not chat or completion models" in notes
    assert "1 entry skipped: no per-token input and output price" in notes
    with Store(app_env) as s:
        assert list_prices(s, model="nova") == []  # nothing before the import is applied
    at = button(at, "prices_apply").click().run()
    assert not at.exception, at.exception
    assert at.success[0].value == "Price list imported: 5 added, 0 changed."
    with Store(app_env) as s:
        [nova] = list_prices(s, model="amazon.nova-lite-v1:0")
        # 6e-08 and 2.4e-07 per token → 0.06 and 0.24 per 1M, from May 1
        assert (nova.provider, nova.input, nova.output, nova.effective_from) == (
            "bedrock", Decimal("0.06"), Decimal("0.24"), date(2026, 5, 1))  # fmt: skip
        [entry] = entries(s, actions=("prices_imported",))
        assert entry.actor == "ada" and entry.detail["added_count"] == 5


def test_admin_deletes_a_price_after_confirming(app_env):
    at = open_prices("ada", prices="history")
    at.text_input(key="prices_search").input("gpt-4o-mini")
    at = at.run()
    assert at.selectbox(key="price_pick").value[0] == "gpt-4o-mini"
    assert button(at, "price_delete").disabled  # not before "Yes, delete it"
    at.checkbox(key="price_sure").check()
    at = at.run()
    at = button(at, "price_delete").click().run()
    assert not at.exception, at.exception
    assert "Price of gpt\\-4o\\-mini from 2020-01-01 deleted." in at.success[0].value
    with Store(app_env) as s:
        assert list_prices(s, model="gpt-4o-mini") == []
        [entry] = entries(s, actions=("price_deleted",))
        assert entry.detail["before"]["output_per_mtok"] == "0.6"
