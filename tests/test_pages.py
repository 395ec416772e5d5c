"""Every page behind the frame: logged out, and as each role."""

from __future__ import annotations

import ast

import pytest

from lib.auth.roles import can
from lib.ingest import import_file
from lib.store import Store
from lib.ui.nav import existing_pages
from tests.conftest import ROOT, app_test, fixture, login

PAGE_FILES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))
ALL_PAGES = ["app.py", *PAGE_FILES]


def test_every_page_starts_with_the_frame():
    for rel in ALL_PAGES:
        tree = ast.parse((ROOT / rel).read_text(encoding="utf-8"))
        calls = [
            n for n in ast.walk(tree)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == "page"
        ]  # fmt: skip
        assert calls, f"{rel} does not call the frame"
        assert calls[0].args and calls[0].args[0].value == rel, (
            f"{rel} frames itself under another name"
        )
        first_st = next(
            (
                n
                for n in ast.walk(tree)
                if isinstance(n, ast.Attribute) and getattr(n.value, "id", "") == "st"
            ),
            None,
        )
        assert first_st is None or first_st.lineno >= calls[0].lineno, (
            f"{rel} draws before the frame"
        )


def test_every_page_file_is_in_the_navigation():
    assert sorted(p.path for p in existing_pages()) == sorted(ALL_PAGES)


@pytest.mark.parametrize("script", ALL_PAGES)
def test_logged_out_sees_no_data_on_any_page(app_env, script):
    with Store(app_env) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
    at = app_test(script)
    at.run()
    assert not at.exception
    assert [t.label for t in at.text_input] == ["Username", "Password"]
    assert len(at.metric) == 0 and len(at.dataframe) == 0
    assert "req-1" not in str(at)


@pytest.mark.parametrize("user", ["ada", "ana", "vic"])
@pytest.mark.parametrize("script", ALL_PAGES)
def test_each_role_on_each_page(app_env, script, user):
    with Store(app_env) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
    at = login(app_test(script), user)
    assert not at.exception, at.exception
    item = next(p for p in existing_pages() if p.path == script)
    role = {"ada": "admin", "ana": "analyst", "vic": "viewer"}[user]
    if can(role, item.action):
        assert not at.error, [e.value for e in at.error]
    else:  # the navigation and a sentence, not a bare red box
        assert not at.error and "not open to the" in at.info[0].value
        assert any(b.label == "Log out" for b in at.button)


def test_data_page_history_and_undo(app_env):
    with Store(app_env) as s:
        first = import_file(s, fixture("litellm_spend_logs.csv"))
        import_file(s, fixture("openai_costs.json"))
    at = login(app_test("pages/7_Data.py"), "ana")
    hist = at.dataframe[0].value
    assert list(hist["Import #"]) == [2, 1]
    assert list(hist["New"]) == [3, 4]
    undo_select = next(s for s in at.selectbox if s.label.startswith("Undo an import"))
    undo_select.select(first.import_id)
    at.run()  # the Undo button is enabled once an import is chosen
    next(b for b in at.button if b.label == "Undo").click()
    at.run()
    assert "Undo import #1" in at.warning[0].value  # asked first: nothing is undone yet
    with Store(app_env) as s:
        assert s.scalar("SELECT count(*) FROM request_events") == 4
    next(b for b in at.button if b.label == "Yes, undo it").click()
    at.run()
    assert "4 rows removed" in at.success[0].value  # it says what it removed
    assert at.selectbox(key="undo_pick").value is None  # and chooses nothing for a next undo
    with Store(app_env) as s:
        assert (
            s.scalar("SELECT status FROM imports WHERE import_id = ?", [first.import_id])
            == "undone"
        )
        assert s.scalar("SELECT count(*) FROM request_events") == 0


def test_data_page_for_a_viewer_is_read_only(app_env):
    with Store(app_env) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
    at = login(app_test("pages/7_Data.py"), "vic")
    assert len(at.dataframe) == 1
    assert not any(b.label == "Undo" for b in at.button)
    assert "Import files" not in [h.value for h in at.subheader]


def test_usage_page_with_data_and_a_filter_change(app_env):
    from datetime import UTC, datetime

    from lib.demo import load_demo

    with Store(app_env) as s:
        load_demo(s, days=20, scale=0.1, end=datetime.now(UTC))
        today = int(datetime.now(UTC).timestamp()) // 86400 * 86400
        # requests of the counted stream, or of the request logs where it states none (Anthropic)
        in_30d = s.scalar(
            """WITH c AS (SELECT provider, hour // 86400 AS day, sum(requests) AS n FROM counted_hourly
                          WHERE hour >= $1 AND hour < $2 GROUP BY ALL),
                    r AS (SELECT provider, hour // 86400 AS day, sum(requests) AS n FROM agg_hourly
                          WHERE grain = 'request' AND hour >= $1 AND hour < $2 GROUP BY ALL)
               SELECT sum(coalesce(c.n, r.n)) FROM c LEFT JOIN r USING (provider, day)""",
            [today - 29 * 86400, today + 86400],
        )
    at = login(app_test("pages/1_Usage.py"), "vic")
    assert not at.exception
    card = next(m for m in at.metric if m.label == "Requests")
    assert _exact(card) == in_30d  # the card is compact ("43.1K"); its help has every digit
    assert len(at.get("vega_lite_chart")) == 1
    table = at.dataframe[-1].value  # by model, in plain words
    assert table["Requests"].sum() == in_30d
    drill = next(d.value for d in at.dataframe if "Request ID" in d.value.columns)
    assert 0 < len(drill) <= 100 and drill["Time (UTC)"].is_monotonic_decreasing
    # the filters are in the URL...
    at.selectbox(key="f_period").select("7d")
    at.run()
    assert at.query_params["period"] in ("7d", ["7d"])
    narrower = _exact(next(m for m in at.metric if m.label == "Requests"))
    assert 0 < narrower < in_30d
    # ...so a copied link opens the same view in a new session
    shared = app_test("pages/1_Usage.py")
    shared.query_params["period"] = "7d"
    shared = login(shared, "ana")
    assert shared.selectbox(key="f_period").value == "7d"
    assert _exact(next(m for m in shared.metric if m.label == "Requests")) == narrower


def _exact(card) -> int:
    """The exact count of a metric card: its value, or its help when the value is compact."""
    import re

    text = card.value if card.value.replace(",", "").isdigit() else card.help
    return int(re.search(r"[\d,]+", text).group(0).replace(",", ""))


def test_costs_page_billed_vs_estimated(app_env):
    with Store(app_env) as s:
        import_file(s, fixture("openai_usage_completions.json"))
        import_file(s, fixture("openai_costs.json"))
    at = app_test("pages/2_Costs.py")
    at.query_params.update({"period": "custom", "from": "2024-11-01", "to": "2024-11-02"})
    at = login(at, "vic")
    assert not at.exception
    values = {m.label: m.value for m in at.metric}
    assert values["Billed (USD)"] == "$1.00"
    assert values["Estimated (USD)"] == "$0.01"  # 0.007935 rounded for display
    assert any("no usage data for this day" in md.value for md in at.markdown)
    assert len(at.get("vega_lite_chart")) == 1
