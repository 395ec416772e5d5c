"""Crafted and shared links in a real browser: a user in the link opens the Overview (it crashed
with a binder error), and hostile period or time zone values fall back to the defaults with a
notice instead of an exception."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest

from lib.demo import load_demo
from lib.store import Store
from tests.app_server import VIEWPORT, chromium, serve_app, session_cookie, shot, sign_in, wait_idle
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NOTICE = "This link had values that cannot be used"
CRAFTED = [
    "period=custom&from=0001-01-01&to=9999-12-31",
    "tz=localtime",
    "tz=right/UTC",
    "tz=posix/Asia/Tokyo",
    "gran=week&model=" + urllib.parse.quote("a\x00b"),
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("links")
    db = str(tmp / "links.duckdb")
    with Store(db) as s:
        load_demo(s, days=14, scale=0.1, end=datetime.now(UTC))
        user = s.scalar("SELECT min(user_id) FROM agg_user_daily WHERE user_id IS NOT NULL")
        key = s.scalar("SELECT min(api_key) FROM agg_hourly WHERE api_key IS NOT NULL")
    with serve_app(tmp, db) as base:
        yield base, user, key


@pytest.fixture(scope="module")
def page(served):
    base, _, _ = served
    with chromium() as browser:
        context = browser.new_context(viewport=VIEWPORT)
        p = context.new_page()
        sign_in(p, base, "ana", PASSWORDS["ana"])
        assert session_cookie(context) is not None  # later links open without the form
        yield p
        context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("h1", timeout=60000)
    wait_idle(page)


def _no_exception(page) -> None:
    assert page.locator("[data-testid='stException']").count() == 0
    assert "Traceback" not in page.content()


def test_a_user_in_the_link_opens_the_overview(served, page):
    base, user, key = served
    _open(page, f"{base}/?user_id={urllib.parse.quote(user)}")
    _no_exception(page)
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    assert page.get_by_role("heading", name="Overview").is_visible()
    page.get_by_text("Top API keys").wait_for(timeout=30000)  # drawn below the figures
    shot(page, "links_overview_user")
    # Usage broken down by key under a user filter (the second place that crashed)
    _open(
        page, f"{base}/Usage?user_id={urllib.parse.quote(user)}&api_key={urllib.parse.quote(key)}"
    )
    _no_exception(page)
    assert page.get_by_role("heading", name="Usage").is_visible()


@pytest.mark.parametrize("query", CRAFTED)
def test_a_crafted_link_falls_back_with_a_notice(served, page, query):
    base, _, _ = served
    for path in ("/", "/Usage"):
        _open(page, f"{base}{path}?{query}")
        _no_exception(page)
        page.get_by_text(NOTICE).first.wait_for(timeout=30000)
        page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    shot(page, "links_crafted_" + query.split("=")[0])
