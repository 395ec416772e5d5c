"""The Errors page (AppTest over a real DuckDB file): the hand-made request log of
``tests/test_errors_view.py`` (17 rows: 11 errors, 6 successes), the period May 1–3 2026 UTC
through the URL. Counts worked out in that file: in the period 10 errors of 16 requests
(R0 falls on April 30); kinds of error: the four rate-limit messages of OpenAI share one
fingerprint (ids and numbers replaced), Bedrock's throttle another, the two overloaded a third."""

from __future__ import annotations

import pytest

from lib.ingest import import_file
from lib.store import Store
from tests.conftest import app_test, login, shown
from tests.test_errors_view import write_log

PERIOD = {"period": "custom", "from": "2026-05-01", "to": "2026-05-03", "tz": "UTC"}
NB = "\u00a0"


@pytest.fixture
def errors_db(app_env, tmp_path):
    with Store(app_env) as s:
        import_file(s, write_log(tmp_path))
    return app_env


def _open(query: dict[str, str], lang: str = "en"):
    at = app_test("pages/3_Errors.py")
    at.query_params.update({**PERIOD, **query, **({"lang": lang} if lang != "en" else {})})
    if lang == "fr":
        from tests.test_i18n import login_fr

        at = login_fr(at, "ana")
    else:
        at = login(at, "ana")
    assert not at.exception, at.exception
    return at


def _metrics(at) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_the_errors_page_counts_groups_and_explains(errors_db):
    at = _open({})
    assert at.title[0].value == "Errors"
    m = _metrics(at)
    assert m["Errors"] == "10"
    assert m["Error rate"] == "62.5%"  # 10 / 16
    heads = [e.label for e in at.expander]
    assert heads[0].startswith("Rate limit reached · 3 · ")  # R1, R2, R3: one fingerprint
    texts = " ".join(shown(x.value) for x in at.markdown)
    assert "How to fix it:" in texts and "[The provider's documentation](" in texts


def test_a_kind_of_error_filters_every_figure(errors_db):
    at = _open({"class": "overloaded"})
    assert _metrics(at)["Errors"] == "2"  # O1, O2
    assert at.multiselect(key="err_class").value == ["overloaded"]
    assert at.query_params["class"] in ("overloaded", ["overloaded"])


def test_recent_errors_newest_first(errors_db):
    at = _open({"tab": "recent"})
    df = at.dataframe[0].value
    assert len(df) == 10
    assert list(df["error_code"])[:2] == [None, None] or df["ts"].is_monotonic_decreasing
    assert df["ts"].is_monotonic_decreasing
    assert (
        df["message"].iloc[0] == "Too many requests, please wait before trying again."
    )  # B1, May 3 10:00


def test_the_rate_over_time_draws(errors_db):
    at = _open({"tab": "rate", "by": "code"})
    assert not at.exception
    assert any("429s are split" in c.value for c in at.caption)


def test_the_errors_page_in_french(errors_db):
    from tests.test_i18n import _english_left

    at = _open({}, lang="fr")
    assert at.title[0].value == "Erreurs"
    m = _metrics(at)
    assert m["Erreurs"] == "10" and m["Taux d'erreur"] == f"62,5{NB}%"
    assert not _english_left(at), _english_left(at)


def test_no_errors_says_what_to_do(app_env):
    at = _open({})
    assert "No errors in this period" in at.info[0].value
