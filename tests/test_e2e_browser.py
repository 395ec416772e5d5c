"""End to end in a real browser: Debian's chromium driven by Playwright against
``streamlit run`` on a free loopback port. Saves a screenshot of every page it visits to
``test-artifacts/``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime

import pytest

from lib.demo import load_demo
from lib.store import Store
from tests.chat_api_server import OPENAI_KEY, ChatApi
from tests.conftest import COOKIE_KEY, PASSWORDS, ROOT, fixture, write_users

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
    port = _free_port()
    env = {**os.environ, "TOKENBOARD_DB": db, "TOKENBOARD_USERS": str(write_users(tmp / "users.yaml")),
           "TOKENBOARD_COOKIE_KEY": COOKIE_KEY, "TOKENBOARD_DEMO": "0",
           "OPENAI_BASE_URL": f"{chat_api.url}/v1", "OPENAI_API_KEY": OPENAI_KEY}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("streamlit did not start")
    yield base
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        yield b
        b.close()


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(1.5)  # let charts finish drawing
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _metric(page, label: str) -> str:
    card = page.locator("[data-testid='stMetric']", has_text=label).first
    return card.locator("[data-testid='stMetricValue']").inner_text()


def _wait_idle(page) -> None:
    page.wait_for_timeout(300)
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60000
    )


def test_a_session_in_the_browser(server, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page.goto(server)
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    _shot(page, "00_login")
    page.fill("input[aria-label='Username']", "ana")
    page.fill("input[aria-label='Password']", PASSWORDS["ana"])
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    _wait_idle(page)
    assert page.get_by_role("heading", name="Overview").is_visible()
    _shot(page, "01_overview")
    # the login cookie signs the same browser in again without the password
    for _ in range(50):  # the browser stores the cookie once the cookie component has loaded
        if any(c["name"] == "tokenboard_session" for c in page.context.cookies()):
            break
        page.wait_for_timeout(200)
    assert any(c["name"] == "tokenboard_session" for c in page.context.cookies())
    page.reload()
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    _wait_idle(page)

    # Usage: a narrower period lowers the count, and the URL carries the filter
    page.get_by_role("link", name="Usage").click()
    page.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    _wait_idle(page)
    wide = int(_metric(page, "Requests").replace(",", ""))
    _shot(page, "02_usage")
    page.locator("[data-testid='stSelectbox']", has_text="Period").click()
    page.get_by_role("option", name="Last 7 days").click()
    _wait_idle(page)
    page.wait_for_url("**period=7d**", timeout=30000)
    narrow = int(_metric(page, "Requests").replace(",", ""))
    assert 0 < narrow < wide
    _shot(page, "03_usage_7_days")

    page.get_by_role("link", name="Costs").click()
    page.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=60000)
    _wait_idle(page)
    _shot(page, "04_costs")

    # Data: upload a file, see its preview, import it, see it in the history, download CSV
    page.get_by_role("link", name="Data").click()
    page.wait_for_selector("text=Import history", timeout=60000)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(
        fixture("helicone_export.csv")
    )
    page.wait_for_selector("text=Recognised as", timeout=60000)
    _wait_idle(page)
    _shot(page, "05_data_preview")
    page.get_by_role("button", name="Import 1 file").click()
    page.wait_for_selector("text=1 of 1 imported", timeout=60000)
    _wait_idle(page)
    _shot(page, "06_data_imported")
    csv_button = page.locator("[data-testid='stDownloadButton']", has_text="CSV").first
    csv_button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60000) as dl:
        csv_button.locator("button, a").first.click()
    saved = tmp_path / "imports.csv"
    dl.value.save_as(saved)
    text = saved.read_text(encoding="utf-8-sig")
    assert text.startswith("Import,Status,File") and "helicone_export.csv" in text

    page.get_by_role("button", name="Log out").click()
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    _shot(page, "07_logged_out")


def test_playground_streams_an_answer(server, browser, chat_api):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(f"{server}/Playground")
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    page.fill("input[aria-label='Username']", "ana")
    page.fill("input[aria-label='Password']", PASSWORDS["ana"])
    page.get_by_role("button", name="Log in").click()
    page.locator("h1", has_text="Playground").first.wait_for(timeout=60000)
    _wait_idle(page)
    page.get_by_placeholder("Message the model").fill("Say hello")
    page.get_by_placeholder("Message the model").press("Enter")
    page.locator("[data-testid='stChatMessage']", has_text="Hello world").first.wait_for(
        timeout=60000
    )
    _wait_idle(page)
    assert _metric(page, "Tokens out") == "3"
    assert chat_api.bodies[-1]["stream"] is True
    _shot(page, "08_playground")
    for n, tab in enumerate(("Compare", "Presets", "History"), start=9):
        page.get_by_role("tab", name=tab).click()
        page.wait_for_timeout(500)
        _shot(page, f"{n:02d}_playground_{tab.lower()}")
    assert (
        page.get_by_text("Import presets (JSON)").is_visible() is False
    )  # only the History tab shows now
