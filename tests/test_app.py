"""The Overview page through Streamlit's AppTest, over a real database file."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from lib.ingest import import_file
from lib.store import Store
from tests.conftest import ROOT, fixture


@pytest.fixture
def app_db(tmp_path, monkeypatch):
    path = str(tmp_path / "app.duckdb")
    monkeypatch.setenv("TOKENBOARD_DB", path)
    return path


def _run() -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception
    return at


def test_empty_database_shows_what_to_do(app_db, monkeypatch):
    monkeypatch.setenv("TOKENBOARD_DEMO", "0")
    at = _run()
    assert "No data yet" in at.info[0].value
    assert at.button[0].label == "Load demo data"
    assert len(at.metric) == 0


def test_totals_of_the_store(app_db, monkeypatch):
    monkeypatch.setenv("TOKENBOARD_DEMO", "0")
    with Store(app_db) as s:
        import_file(s, fixture("openai_usage_completions.json"))
        import_file(s, fixture("openai_costs.json"))
    at = _run()
    values = {m.label: m.value for m in at.metric}
    assert values["Requests"] == "8"
    assert values["Input tokens"] == "3,000"
    assert values["Stated cost (USD)"] == "$1.00"
    assert values["Errors"] == "—"


def test_first_start_loads_demo_data(app_db):
    at = _run()
    assert "demo data" in at.warning[0].value
    with Store(app_db) as s:
        assert s.scalar("SELECT count(*) FROM imports WHERE is_demo") == 5


def test_database_held_by_another_program_is_explained(app_db, monkeypatch):
    import subprocess
    import sys

    from tests.test_store_cli import HOLDER

    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, app_db], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
        at.run()
        assert f"is open in process {holder.pid}" in at.error[0].value
        assert len(at.metric) == 0
    finally:
        holder.kill()
        holder.wait()
