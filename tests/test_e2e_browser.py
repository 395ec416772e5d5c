"""End to end in a real browser: Debian's chromium driven by Playwright against
``streamlit run`` on a free loopback port. Saves a screenshot of every page it visits to
``test-artifacts/``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from lib.demo import load_demo
from lib.store import Store
from tests.app_server import VIEWPORT, chromium, serve_app, shot, wait_idle
from tests.chat_api_server import OPENAI_KEY, ChatApi
from tests.conftest import PASSWORDS, fixture

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chat_api():
    with ChatApi() as api:
        yield api


@pytest.fixture(scope="module")
def server(tmp_path_factory, chat_api):
    tmp = tmp_path_factory.mktemp("e2e")
    db = str(tmp / "e2e.duckdb")
    with Store(db) as s:
        load_demo(s, days=30, scale=0.2, end=datetime.now(UTC))
    with serve_app(
        tmp, db, OPENAI_BASE_URL=f"{chat_api.url}/v1", OPENAI_API_KEY=OPENAI_KEY
    ) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _metric(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']", has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text()


def test_a_session_in_the_browser(server, browser, tmp_path):
    page = browser.new_page(viewport=VIEWPORT, accept_downloads=True)
    page.goto(server)
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    shot(page, "00_login")
    page.fill("input[aria-label='Username']", "ana")
    page.fill("input[aria-label='Password']", PASSWORDS["ana"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    wait_idle(page)
    assert page.get_by_role("heading", name="Overview").is_visible()
    shot(page, "01_overview")
    # the login cookie signs the same browser in again without the password
    for _ in range(50):  # the browser stores the cookie once the cookie component has loaded
        if any(c["name"] == "tokenboard_session" for c in page.context.cookies()):
            break
        page.wait_for_timeout(200)
    assert any(c["name"] == "tokenboard_session" for c in page.context.cookies())
    page.reload()
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    wait_idle(page)

    # Usage: a narrower period lowers the count, and the URL carries the filter
    page.get_by_role("link", name="Usage").click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    wait_idle(page)
    wide = int(_metric(page, "Requests").replace(",", ""))
    shot(page, "02_usage")
    page.locator("[data-testid='stSelectbox']", has_text="Period").click()
    page.get_by_role("option", name="Last 7 days").click()
    wait_idle(page)
    page.wait_for_url("**period=7d**", timeout=30000)
    wait_idle(page)  # the URL moves first; the rerun that draws the 7 days comes after
    for _ in range(50):
        narrow = int(_metric(page, "Requests").replace(",", ""))
        if narrow != wide:
            break
        page.wait_for_timeout(200)
    assert 0 < narrow < wide
    shot(page, "03_usage_7_days")

    page.get_by_role("link", name="Costs").click()
    page.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=60000)
    wait_idle(page)
    shot(page, "04_costs")

    # Data: upload a file, see its preview, import it, see it in the history, download CSV
    page.get_by_role("link", name="Data").click()
    page.wait_for_selector("text=Import history", timeout=60000)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        fixture("helicone_export.csv")
    )
    page.wait_for_selector("text=Recognised as", timeout=60000)
    wait_idle(page)
    shot(page, "05_data_preview")
    page.get_by_role("button", name="Import 1 file").click()
    page.wait_for_selector("text=1 of 1 imported", timeout=60000)
    wait_idle(page)
    shot(page, "06_data_imported")
    csv_button = page.locator("[data-testid='stDownloadButton']", has_text="CSV").first
    csv_button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60000) as dl:
        csv_button.locator("button, a").first.click()
    saved = tmp_path / "imports.csv"
    dl.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith("Import #,Status,File") and "helicone_export.csv" in text

    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    shot(page, "07_logged_out")


def test_playground_streams_an_answer(server, browser, chat_api):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server}/Playground")
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    page.fill("input[aria-label='Username']", "ana")
    page.fill("input[aria-label='Password']", PASSWORDS["ana"])
    page.get_by_role("button", name="Log in").click()
    page.locator("h1", has_text="Playground").first.wait_for(timeout=60000)
    wait_idle(page)
    page.get_by_placeholder("Message the model").fill("Say hello")
    page.get_by_placeholder("Message the model").press("Enter")
    page.locator("[data-testid='stChatMessage']", has_text="Hello world").first.wait_for(
        timeout=60000
    )
    wait_idle(page)
    assert _metric(page, "Tokens out") == "3"
    assert chat_api.bodies[-1]["stream"] is True
    shot(page, "08_playground")
    for n, tab in enumerate(("Compare", "Presets", "History"), start=9):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(500)
        shot(page, f"{n:02d}_playground_{tab.lower()}")
    assert (
        page.get_by_text("Import presets (JSON)").is_visible() is False
    )  # only the History tab shows now
