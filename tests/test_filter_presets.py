"""Every analysis page under every period preset, over a small demo database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from lib.filters import Filters
from lib.store import Store
from lib.ui.words import PRESET_LABELS
from tests.conftest import app_test, login

PAGES = ("app.py", "pages/1_Usage.py", "pages/2_Costs.py")


@pytest.mark.parametrize("script", PAGES)
def test_every_preset_opens_with_its_window(app_env, script):
    from lib.demo import load_demo

    with Store(app_env) as s:  # 70 days reach back over the whole of last month
        load_demo(s, days=70, scale=0.02, end=datetime.now(UTC) + timedelta(days=1))
    at = login(app_test(script), "ana")
    for preset, label in PRESET_LABELS.items():
        at.selectbox(key="f_period").select(preset)
        at.radio(key="f_gran").set_value("hour" if preset == "24h" else "day")
        at.run()
        if preset == "custom":
            day = (datetime.now(UTC) - timedelta(days=3)).date()
            while day.weekday() >= 5:  # the small demo has no weekend traffic at this scale
                day -= timedelta(days=1)
            at.date_input(key="f_range").set_value((day, day))
            at.run()
        assert not at.exception, (preset, at.exception)
        query = {k: at.query_params[k] for k in at.query_params}
        f = Filters.from_query(query)
        assert f.preset == preset  # the URL carries the preset (and the custom days)
        start, end = f.window()
        if not at.metric:
            # only the periods that may hold nothing yet at this time of day or month say so: the
            # last 24 hours over daily reports, this month just after it began
            assert preset in ("24h", "this_month") and at.info[0].value.startswith("No "), preset
            if preset == "24h":
                assert "daily" in at.info[0].value
        else:
            assert any(m.label in ("Requests", "Billed (USD)") for m in at.metric), preset
        if script == "pages/2_Costs.py":  # Costs states the period through its figures only
            continue
        caption = next(c.value for c in at.caption if c.value.startswith(label))
        assert f"{start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} UTC" in caption, (preset, caption)


def test_filters_follow_the_user_from_page_to_page(app_env):
    """Streamlit's navigation drops the query string and the previous page's widget values:
    the next page starts from the filters the user had."""
    at = login(app_test("pages/1_Usage.py"), "ana")
    at.selectbox(key="f_period").select("7d")
    at.radio(key="f_gran").set_value("hour")
    at.run()
    for script in ("pages/2_Costs.py", "app.py", "pages/1_Usage.py"):
        at.query_params.clear()  # as after a click on the navigation
        at.switch_page(script)
        at.run()
        assert not at.exception
        assert (at.selectbox(key="f_period").value, at.radio(key="f_gran").value) == (
            "7d",
            "hour",
        ), script
        assert at.query_params["period"] in ("7d", ["7d"]) and at.query_params["gran"] in (
            "hour",
            ["hour"],
        )
