"""The counting rules as a user sees them, in a real browser: Claude requests counted from the
gateway log while tokens come from Anthropic's daily report, that report drawn over its day
at hourly granularity, and the Costs page naming what it leaves out. Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

import pytest

from lib.ingest import import_file
from lib.store import Store
from tests.app_server import VIEWPORT, chromium, serve_app, session_cookie, shot, sign_in, wait_idle
from tests.conftest import PASSWORDS, fixture, write
from tests.test_counting_rules import LOG

pytestmark = [pytest.mark.browser, pytest.mark.slow]
DAY = "period=custom&from=2025-01-01&to=2025-01-01"
HOSTILE_NAME = "**gw** [log](javascript:alert(1)).csv"
HOSTILE_VALUE = "[x](javascript:alert(2)) <b>y</b>"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("counting")
    db = str(tmp / "counting.duckdb")
    with Store(db) as s:
        import_file(s, fixture("anthropic_usage.json"))  # daily, no request count
        # hourly: 3 Claude and 2 OpenAI calls, under a file name written as markdown and a link
        import_file(s, write(tmp, "gateway.csv", LOG), display=HOSTILE_NAME)
    with serve_app(tmp, db) as base, chromium() as browser:
        context = browser.new_context(viewport=VIEWPORT)
        p = context.new_page()
        sign_in(p, base, "ana", PASSWORDS["ana"])
        assert session_cookie(context) is not None
        yield base, p
        context.close()


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("h1", timeout=60000)
    wait_idle(page)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()[:2000]


def _metric(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']", has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text()


def test_usage_counts_claude_requests_and_draws_the_daily_report_over_its_day(page):
    base, p = page
    for _ in range(2):  # back and forth: the figures must not drift
        _open(p, f"{base}/Usage?{DAY}&gran=hour")
        assert _metric(p, "Requests") == "5"  # 3 Claude + 2 OpenAI, all from the log
        assert _metric(p, "Input tokens") == "2,400"  # 2,100 from the report + 300 logged
        assert (
            p.get_by_text("bands across the whole day").count() == 0
        )  # requests: hourly logs only
        p.locator("[data-testid='stSelectbox']", has_text="Metric").click()
        p.get_by_role("option", name="Input tokens", exact=True).click()
        wait_idle(p)
        p.get_by_text("their bars are bands across the whole day").first.wait_for(timeout=30000)
        p.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=60000)
        shot(p, "counting_usage_hourly")
        _open(p, f"{base}/Usage?{DAY}&gran=day")
        assert _metric(p, "Requests") == "5"
        assert p.get_by_text("bands across the whole day").count() == 0
        shot(p, "counting_usage_daily")


def test_costs_say_what_is_not_counted_and_why(page):
    base, p = page
    _open(p, f"{base}/Costs?{DAY}")
    p.get_by_text("Spend (USD, estimated)").first.wait_for(timeout=30000)  # drawn, under load too
    p.get_by_role("tab", name="Not counted").click()  # each question has its tab
    # the URL follows the tab once the rerun is done: wait for it, under load too
    p.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'left'",
                        timeout=30000)  # fmt: skip
    wait_idle(p)
    assert "tab=left" in p.url
    p.get_by_text("Not counted, and why").wait_for(timeout=30000)
    grid = p.locator("[data-testid='stDataFrame']").filter(has_text="Not counted").first
    grid.wait_for(timeout=30000)
    assert "Spend (USD, estimated)" in p.content()
    assert p.locator("a[href^='javascript']").count() == 0  # the file name is text, never a link
    shot(p, "counting_costs")


def test_a_crafted_snapshot_in_the_link_changes_nothing_it_should_not(page):
    from urllib.parse import quote

    base, p = page
    for path in ("/Usage", "/Costs"):
        _open(p, f"{base}{path}?{DAY}&snapshot={quote(HOSTILE_VALUE)}")
        assert p.locator("a[href^='javascript']").count() == 0
        assert p.locator("b", has_text="y").count() == 0  # no HTML made from the value
    # a real snapshot narrows the view to it: the log's 2 Sonnet calls
    _open(p, f"{base}/Usage?{DAY}&snapshot=claude-sonnet-4-5-20250929")
    assert _metric(p, "Requests") == "2"
