"""The Data page's import history leaves playground runs out and filters its status before the
limit; the cache key's versions change when a setting (the monthly budget) does."""

from __future__ import annotations

from decimal import Decimal

import pytest

from lib.analytics.imports import LISTED_ORIGINS, import_history
from lib.analytics.versions import versions
from lib.errors import InputError
from lib.ingest import import_file, undo_import
from lib.ingest.ledger import history
from lib.settings import set_monthly_budget
from lib.store import Store
from tests.conftest import app_test, fixture, login, write

LOG = "timestamp,request_id,model,input_tokens,output_tokens\n" + "".join(
    f"2025-01-01T0{h}:00:00Z,r{h},gpt-4o-mini,100,10\n" for h in range(3)
)


def _playground_run(store: Store) -> None:
    from lib.llm.chat import ChatRequest, ChatResult, Usage
    from lib.playground.history import record_run

    req = ChatRequest("openai", "http://x/v1", "gpt-4o-mini", ({"role": "user", "content": "hi"},))
    ok = ChatResult(text="Hello", usage=Usage(12, 2, 0, 3, 0), total_s=0.5, model="gpt-4o-mini")
    record_run(store, "ana", req, ok, None, keep_text=False)


@pytest.fixture
def ledger(store, tmp_path) -> Store:
    """#2 a failed file import (its attempt used id 1: ids are never reused), #3 and #4 file
    imports (#3 undone since), #5–#7 playground runs: the failure sits behind five newer
    imports."""
    with pytest.raises(InputError):
        import_file(store, fixture("bad_number.csv"))  # 2: failed
    import_file(store, write(tmp_path, "a.csv", LOG))  # 3
    import_file(store, write(tmp_path, "b.csv", LOG.replace(",r", ",s")))  # 4
    for _ in range(3):  # 5, 6, 7
        _playground_run(store)
    undo_import(store, 3)
    assert store.query("SELECT import_id, status, origin FROM imports ORDER BY 1") == [
        (2, "failed", "file"), (3, "undone", "file"), (4, "ok", "file"),
        (5, "ok", "playground"), (6, "ok", "playground"), (7, "ok", "playground"),
    ]  # fmt: skip
    return store


def test_the_ledger_filters_origin_and_status_before_the_limit(ledger):
    assert "playground" not in LISTED_ORIGINS and "file" in LISTED_ORIGINS
    # every origin: the two newest are playground runs
    assert [r.import_id for r in history(ledger, 2)] == [7, 6]
    # files only: #4 and #3, the runs skipped
    assert [r.import_id for r in history(ledger, 2, LISTED_ORIGINS)] == [4, 3]
    # the failure (#2) is found although five imports are newer than it
    assert [(r.import_id, r.status) for r in history(ledger, 2, status="failed")] == [(2, "failed")]
    assert [r.import_id for r in history(ledger, 2, LISTED_ORIGINS, "ok")] == [4]
    assert [r.import_id for r in history(ledger, 2, status="ok")] == [7, 6]


def test_the_data_pages_history_leaves_playground_runs_out(ledger):
    def ids(show: str) -> list[int]:
        return list(import_history(ledger, show, limit=2)["import_id"])

    assert ids("all") == [4, 3]  # not 7, 6
    assert list(import_history(ledger, "all", limit=2)["status"]) == ["ok", "undone"]
    assert ids("failed") == [2]  # older than the two newest, found all the same
    assert ids("ok") == [4]  # the only live import that is not a playground run
    assert ids("undone") == [3]
    assert list(import_history(ledger)["origin"]) == ["file", "file", "file"]


def test_a_saved_budget_changes_the_versions(store):
    before = versions(store)
    set_monthly_budget(store, Decimal("500"), "admin")
    set500 = versions(store)
    assert set500 != before
    # only the settings part changed: no import, no price
    assert (set500.data, set500.prices) == (before.data, before.prices)
    assert set500.settings != before.settings
    assert versions(store) == set500  # read again: the same
    set_monthly_budget(store, Decimal("600"), "admin")
    assert versions(store).settings not in (before.settings, set500.settings)
    set_monthly_budget(store, None, "admin")
    assert versions(store) == before  # no settings again: "0-0"
    assert before.settings == "0-0"


def test_a_budget_saved_on_the_overview_shows_on_the_next_run(app_env, tmp_path):
    with Store(app_env) as s:
        import_file(s, write(tmp_path, "log.csv", LOG))
    at = login(app_test(), "ada")
    assert not at.exception, at.exception
    assert any("No monthly budget is set." in m.value for m in at.markdown)
    field = next(t for t in at.text_input if t.label == "Organisation budget (USD per month)")
    field.input("500")
    next(b for b in at.button if b.label == "Save budget").click()
    at.run()
    assert not at.exception, at.exception
    with Store(app_env) as s:
        assert s.scalar("SELECT value FROM settings") == "500.00"
    assert not any("No monthly budget is set." in m.value for m in at.markdown)
    [bar] = at.get("progress")
    assert "$500.00 budget" in bar.proto.text
