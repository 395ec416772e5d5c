"""Crafted links: every URL parameter is validated; a bad one falls back to its default with a
notice, and no query string (of ~1,000 generated hostile ones) makes the parser or a page fail."""

from __future__ import annotations

import random
import re
import urllib.parse
from datetime import UTC, date, datetime

import pytest

from lib.analytics.usage import totals
from lib.filters import DIMENSIONS, ISSUE_CODES, MAX_DATE, MIN_DATE, Filters, time_zones
from lib.ingest import import_file
from lib.store import Store
from tests.conftest import app_test, fixture, login

CRAFTED = [
    "period=custom&from=0001-01-01&to=9999-12-31",
    "tz=localtime",
    "tz=right/UTC",
    "tz=posix/Asia/Tokyo",
]
KEYS = ["period", "from", "to", "gran", "tz", *DIMENSIONS, "x", "", "period[]", "TZ"]
NASTY = [
    "0001-01-01", "9999-12-31", "-0001-01-01", "99999-01-01", "2024-02-30", "2024-13-01",
    "+2024-01-01", "1969-12-31", "2100-01-01", "2024-01-01T00:00", "1e308", "-1", "0", "NaN",
    "localtime", "right/UTC", "posix/Asia/Tokyo", "posixrules", "Factory", "../../etc/passwd",
    "Europe/Paris\x00", "UTC' OR '1'='1", "'; DROP TABLE imports; --", "custom", "hour", "week",
    "模型", "ｇｐｔ", "\u202egpt", "𝕏" * 300, "a" * 20000, "%00", "%ff%fe", "%2C%2C", ",,,", " ",
    "<script>alert(1)</script>", "![b](http://host/x.png)", "[x](http://phish)", "\x1b[31mred",
    "Europe/Paris", "UTC", "2025-03-01", "2025-03-02", "gpt-4o", "alice", "day", "month", "7d",
]  # fmt: skip


def hostile_queries(n: int = 1000, seed: int = 7) -> list[str]:
    """``n`` query strings: the crafted cases, then seeded random mixes of nasty values,
    repeated parameters, raw percent-encodings and very long values."""
    rnd = random.Random(seed)
    out = list(CRAFTED)
    while len(out) < n:
        parts = []
        for _ in range(rnd.randint(1, 8)):
            key = rnd.choice(KEYS)
            value = rnd.choice(NASTY)
            if rnd.random() < 0.2:
                value = ",".join(rnd.choice(NASTY) for _ in range(rnd.randint(2, 150)))
            if rnd.random() < 0.1:
                value = "".join(chr(rnd.randint(1, 0x2FFF)) for _ in range(rnd.randint(1, 50)))
            raw = rnd.random() < 0.2  # unencoded: the parser sees what a browser might send
            parts.append(f"{key}={value if raw else urllib.parse.quote(value)}")
            if rnd.random() < 0.1:
                parts.append(parts[-1])  # repeated parameter
        if rnd.random() < 0.3:
            parts.insert(0, "period=custom")
        out.append("&".join(parts))
    return out


def as_params(qs: str, lists: bool) -> dict[str, object]:
    """The query string as Streamlit hands it over: last value per key, or every value."""
    parsed = urllib.parse.parse_qs(qs, keep_blank_values=True)
    return {k: (v if lists else v[-1]) for k, v in parsed.items()}


@pytest.mark.parametrize(
    ("qs", "code"),
    [
        ("period=custom&from=0001-01-01&to=9999-12-31", "date_range"),
        ("period=custom&from=2024-01-01&to=2100-01-01", "date_range"),
        ("period=custom&from=nope&to=2024-01-01", "dates"),
        ("period=forever", "period"),
        ("gran=week", "granularity"),
        ("tz=localtime", "tz"),
        ("tz=right/UTC", "tz"),
        ("tz=posix/Asia/Tokyo", "tz"),
        ("tz=Mars/Olympus", "tz"),
        ("model=" + "a" * 300, "dimension"),
        ("user_id=al%00ice", "dimension"),
        ("project=" + ",".join(f"p{i}" for i in range(101)), "dimension"),
    ],
)
def test_a_bad_parameter_falls_back_with_its_code(qs, code):
    f, issues = Filters.parse_query(as_params(qs, lists=False))
    assert [i.code for i in issues] == [code]
    assert (f.preset, f.granularity, f.tz) == ("30d", "day", "UTC")
    assert f.dims == {}


def test_good_parameters_give_no_issue():
    qs = "period=custom&from=2025-03-02&to=2025-03-01&gran=hour&tz=Asia/Tokyo&model=gpt-4o,模型"
    f, issues = Filters.parse_query(as_params(qs, lists=False))
    assert issues == []
    assert (f.start, f.end, f.tz) == (date(2025, 3, 1), date(2025, 3, 2), "Asia/Tokyo")
    assert f.dims == {"model": ("gpt-4o", "模型")}


def test_time_zones_are_those_duckdb_knows():
    zones = time_zones()
    assert {"UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York"} <= zones
    assert not {"localtime", "right/UTC", "posix/Asia/Tokyo", "posixrules"} & zones


def test_the_widest_custom_period_is_usable():
    f = Filters(preset="custom", start=MIN_DATE, end=MAX_DATE, tz="Pacific/Kiritimati")
    start, end = f.window()
    p_start, p_end = f.previous_window()
    assert p_start < p_end == start < end


@pytest.mark.parametrize("lists", [False, True])
def test_a_thousand_hostile_links_never_raise(lists):
    now = datetime(2026, 3, 15, 10, 30, tzinfo=UTC)
    seen = set()
    for qs in hostile_queries():
        f, issues = Filters.parse_query(as_params(qs, lists))
        seen |= {i.code for i in issues}
        assert all(i.code in ISSUE_CODES and len(i.value) <= 100 for i in issues)
        assert f.tz in time_zones()
        start, end = f.window(now)
        p_start, _ = f.previous_window(now)
        assert p_start < start < end
        again, more = Filters.parse_query(f.to_query())  # what the page writes back is clean
        assert (again, more) == (f, [])
    assert seen == set(ISSUE_CODES)


def test_hostile_links_query_the_database(store):
    import_file(store, fixture("litellm_spend_logs.csv"))
    for qs in [*hostile_queries(150, seed=11), "period=custom&from=1970-01-01&to=2099-12-31"]:
        f = Filters.from_query(as_params(qs, lists=True))
        totals(store, f)


SAMPLE = [
    *CRAFTED,
    "user_id=alice",
    "period=custom&from=1970-01-01&to=2099-12-31&gran=month",
    "period=custom&from=2025-03-01&to=2025-03-02&user_id=alice&api_key=prod-key&gran=hour",
    "tz=Pacific/Kiritimati&period=custom&from=2025-02-28&to=2025-03-03",
]
SAMPLE += hostile_queries(20 - len(SAMPLE) + len(CRAFTED), seed=3)[len(CRAFTED) :]


WORDS = {"period": "the period", "dates": "needs two days", "date_range": "must lie between",
         "granularity": "the granularity", "tz": "the time zone", "dimension": "filter"}  # fmt: skip


@pytest.mark.parametrize("script", ["app.py", "pages/1_Usage.py"])
def test_pages_open_every_sampled_link(app_env, script):
    assert len(SAMPLE) == 20
    with Store(app_env) as s:
        import_file(s, fixture("litellm_spend_logs.csv"))
    at = login(app_test(script), "ana")
    for qs in SAMPLE:
        at.query_params.clear()
        at.query_params.update(as_params(qs, lists=True))
        at.run()
        assert not at.exception, (qs, at.exception)
        _, issues = Filters.parse_query(as_params(qs, lists=True))
        notices = [w.value for w in at.warning if "This link had values" in w.value]
        assert bool(notices) == bool(issues), (qs, notices)
        for issue in issues:
            assert WORDS[issue.code] in notices[0], (qs, issue, notices)


# each page's own controls drawn on its first tab (a page leaves the others' parameters alone);
# lang is every page's
PAGE_SCRIPTS = {"app.py": ("tops", "lang"), "pages/1_Usage.py": ("metric", "by", "top", "lang"),
                "pages/2_Costs.py": ("tab", "lang"), "pages/7_Data.py": ("show", "lang"),
                "pages/3_Errors.py": ("class", "code", "tab", "lang"),
                "pages/4_Alerts.py": ("tab", "show", "lang"),
                "pages/5_API_keys.py": ("tab", "lang"), "pages/8_Settings.py": ("tab", "lang"),
                "pages/9_Help.py": ("tab", "lang")}  # fmt: skip
# who opens each page (the Keys page is for admins; the others for any role)
PAGE_USERS = {"pages/5_API_keys.py": "ada", "pages/8_Settings.py": "ada"}
# a page's own parameters beyond the shared ones (the Help page's search, topic, ticket number
# and the view a ticket is filed from; it has no period filter, so "from" is its own)
PAGE_EXTRA = {"pages/9_Help.py": ("q", "topic", "ticket", "from")}
# the data each page opens on (the Errors page draws its controls only when there are errors)
PAGE_DATA = {"pages/3_Errors.py": ("litellm_spend_logs.csv", "2025-03-01")}
TITLES = ("Overview", "Usage", "Costs", "Data", "Errors", "Alerts", "API keys", "Settings", "Help")
HOSTILE_PAGE_VALUES = ["<script>alert(1)</script>", "**bold** [x](http://phish)", "-5", "1e308",
                       "a" * 5000, "'; DROP TABLE imports; --", "\u202ecode", ""]  # fmt: skip


@pytest.mark.parametrize("script", PAGE_SCRIPTS)
def test_page_controls_in_the_url_refuse_hostile_values(app_env, script):
    """The page controls a shared link carries (metric, by, top, tab, tops, move, into, share,
    show, lang) with hostile values: the page draws with its defaults, the language stays
    English, and no value reaches the page as text or markup."""
    from lib.ui.url import PAGE_PARAMS

    name, day = PAGE_DATA.get(script, ("openai_usage_completions.json", "2024-11-01"))
    with Store(app_env) as s:
        import_file(s, fixture(name))
    for value in HOSTILE_PAGE_VALUES:
        at = app_test(script)
        at.query_params.update({p: value for p in PAGE_PARAMS})
        at.query_params.update({"period": "custom", "from": day, "to": day})
        at.query_params.update({p: value for p in PAGE_EXTRA.get(script, ())})
        at = login(at, PAGE_USERS.get(script, "vic"))
        assert not at.exception, (script, value)
        assert at.title[0].value in TITLES  # English kept
        shown = " ".join(
            str(e.value)
            for kind in (at.markdown, at.caption, at.info, at.warning, at.error, at.title)
            for e in kind
        )
        if value and not re.fullmatch(r"[-+0-9.e]+", value):  # a number may be any figure's part
            assert value not in shown, (script, value)
        for p in PAGE_SCRIPTS[script]:  # a page's own control drops a bad value from the URL
            if value:
                assert at.query_params.get(p) not in (value, [value]), (script, p, value)
