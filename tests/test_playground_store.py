"""Presets (save, restore exactly, rename, delete, share, export/import) and the run history."""

from __future__ import annotations

import json
from decimal import Decimal

import pandas as pd
import pytest

from lib.error_kb import ErrorFacts, explain
from lib.errors import InputError, NotFoundError
from lib.llm.chat import ChatError, ChatRequest, ChatResult, Usage
from lib.playground import presets
from lib.playground.history import recent_runs, record_run
from tests.conftest import snapshot

SUPPORT = {"provider": "openai", "model": "gpt-4o-mini", "system": "You are a patient support agent.",
           "params": {"temperature": 0.35, "top_p": 0.9, "max_tokens": 400, "stop": ["###"], "seed": 7,
                      "frequency_penalty": 0.1, "presence_penalty": -0.25,
                      "response_format": {"json_schema": {"name": "reply", "schema": {"type": "object"}}}},
           "messages": [{"role": "user", "content": "My order is late"},
                        {"role": "assistant", "content": "Sorry! Which order?"}]}  # fmt: skip


def test_restoring_a_preset_gives_back_every_parameter_exactly(store):
    saved = presets.save(store, "ana", "Support chatbot", SUPPORT)
    again = presets.get(store, "ana", saved.preset_id)
    assert again.config == SUPPORT and not again.shared
    # saving under the same name overwrites; another owner's same name is another preset
    presets.save(store, "ana", "Support chatbot", {**SUPPORT, "model": "gpt-4.1-mini"}, shared=True)
    presets.save(store, "vic", "Support chatbot", SUPPORT)
    mine = [p for p in presets.visible(store, "ana") if p.owner == "ana"]
    assert [(p.name, p.config["model"], p.shared) for p in mine] == [
        ("Support chatbot", "gpt-4.1-mini", True)
    ]


def test_private_and_shared(store):
    private = presets.save(store, "ana", "Draft", SUPPORT)
    shared = presets.save(
        store, "ana", "Product descriptions", {**SUPPORT, "messages": []}, shared=True
    )
    assert [p.name for p in presets.visible(store, "bob")] == ["Product descriptions"]
    with pytest.raises(NotFoundError):
        presets.get(store, "bob", private.preset_id)
    # only the owner or an admin may change a shared preset
    with pytest.raises(NotFoundError, match="belongs to ana"):
        presets.delete(store, "bob", "analyst", shared.preset_id)
    presets.rename(store, "root", "admin", shared.preset_id, "Product copy")
    assert presets.get(store, "bob", shared.preset_id).name == "Product copy"
    with pytest.raises(InputError, match="already has a preset named"):
        presets.rename(store, "ana", "analyst", private.preset_id, "Product copy")
    presets.delete(store, "ana", "analyst", private.preset_id)
    assert [p.name for p in presets.visible(store, "ana")] == ["Product copy"]
    assert (
        "messages" not in presets.get(store, "ana", shared.preset_id).config
    )  # empty history not kept


def test_export_and_import_round_trip(store):
    presets.save(store, "ana", "Support chatbot", SUPPORT, shared=True)
    text = presets.export_json(presets.visible(store, "ana"))
    imported = presets.import_json(store, "bob", text)
    assert [(p.name, p.owner, p.shared, p.config) for p in imported] == [
        ("Support chatbot", "bob", True, SUPPORT)
    ]


@pytest.mark.parametrize(("text", "phrase"), [
    ("{not json", "not valid JSON"),
    (json.dumps({"format": "other", "presets": []}), "not a Tokenboard presets file"),
    (json.dumps({"format": "tokenboard-presets/1", "presets": [{"name": "ok", "config": SUPPORT},
                                                                {"name": "", "config": SUPPORT}]}), "needs a name"),
    (json.dumps({"format": "tokenboard-presets/1", "presets": [
        {"name": "hot", "config": {**SUPPORT, "params": {"temperature": 3}}}]}), "expected 0 to 2"),
    (json.dumps({"format": "tokenboard-presets/1", "presets": [
        {"name": "x", "config": {**SUPPORT, "provider": "mistral"}}]}), "unknown provider"),
])  # fmt: skip
def test_bad_preset_files_change_nothing(store, text, phrase):
    before = store.query("SELECT count(*) FROM presets")
    with pytest.raises(InputError, match=phrase):
        presets.import_json(store, "bob", text, "team.json")
    assert store.query("SELECT count(*) FROM presets") == before


def _req(model="gpt-4o-mini") -> ChatRequest:
    return ChatRequest("openai", "http://x/v1", model, ({"role": "user", "content": "secret plan"},),
                       params={"temperature": 0.2}, api_key="sk-never-stored")  # fmt: skip


def test_runs_are_stored_and_counted_in_usage(store):
    ok = ChatResult(
        text="Hello", usage=Usage(12, 2, 0, 3, 0), ttft_s=0.25, total_s=1.5, model="gpt-4o-mini"
    )
    first = record_run(store, "ana", _req(), ok, Decimal("0.00000345"), keep_text=False)
    failed = ChatResult(status="error", total_s=0.2, error=ChatError(
        explain(ErrorFacts("openai", 429, "requests", "rate_limit_exceeded")), 429, "Rate limit"))  # fmt: skip
    record_run(store, "ana", _req(), failed, None, keep_text=True)
    runs = recent_runs(store, "ana")
    assert list(runs["status"]) == ["error", "ok"]
    assert (runs["prompt_tokens"][1], runs["ttft_ms"][1], runs["total_ms"][1]) == (12, 250, 1500)
    assert runs["cost_usd"][1] == Decimal("0.00000345")
    assert (
        pd.isna(runs["prompt_text"][1]) and runs["prompt_text"][0] == "secret plan"
    )  # text only when opted in
    assert runs["error_title"][0] == "Rate limit reached"
    # counted as two requests of source "playground", one failed, with the tokens and cost of the first
    row = store.query("""SELECT sum(requests), sum(errors), sum(input_tokens), sum(output_tokens), sum(cost_usd)
                         FROM counted_hourly WHERE source = 'playground'""")[0]  # fmt: skip
    assert row == (2, 1, 12, 3, Decimal("0.00000345"))
    assert store.scalar("SELECT sum(requests) FROM counted_user_daily WHERE user_id = 'ana'") == 2
    # the key never reaches the database
    everything = json.dumps(store.query("SELECT * FROM playground_runs"), default=str)
    assert "sk-never-stored" not in everything and first.run_id == 1


def test_undoing_the_playground_ledger_entry_removes_runs_from_usage(store):
    from lib.ingest import undo_import

    record_run(
        store,
        "ana",
        _req(),
        ChatResult(text="x", usage=Usage(1, 0, 0, 1, 0), total_s=0.1),
        None,
        False,
    )
    iid = store.scalar("SELECT import_id FROM imports WHERE source = 'playground'")
    undo_import(store, iid)
    assert store.scalar("SELECT count(*) FROM agg_hourly WHERE source = 'playground'") == 0
    assert snapshot(store)["imports_ok"] == 0
