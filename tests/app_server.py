"""The app served for real (``streamlit run`` on a free loopback port) and Debian's chromium,
for the browser tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.conftest import COOKIE_KEY, PASSWORDS, ROOT, write_users

ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def serve_app(tmp: Path, db: str, log: Path | None = None, **env: str) -> Iterator[str]:
    """``streamlit run app.py`` over the database ``db`` with the test users; yields the base
    URL once the server answers, and stops it afterwards. ``log``: a file for the server's
    output (discarded otherwise)."""
    port = free_port()
    # the worker polls no status page on the internet (a test passes a local one)
    full_env = {**os.environ, "TOKENBOARD_DB": db, "TOKENBOARD_USERS": str(write_users(tmp / "users.yaml")),
                "TOKENBOARD_COOKIE_KEY": COOKIE_KEY, "TOKENBOARD_DEMO": "0",
                "TOKENBOARD_STATUS_PAGES": "none", **env}  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, env=full_env, stdout=log.open("wb") if log else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if log else subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not start")
        yield base
    finally:
        proc.terminate()
        proc.wait(timeout=20)


@contextmanager
def chromium() -> Iterator[object]:
    """A headless Debian chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    exe = shutil.which("chromium")
    if exe is None:
        pytest.fail("Debian's chromium is needed for the browser tests: apt-get install chromium")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def shot(page, name: str) -> None:
    """A full-page screenshot in test-artifacts/ once the charts have drawn."""
    ARTIFACTS.mkdir(exist_ok=True)
    time.sleep(1.5)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


# The app has finished its run and the browser has drawn it: its script state (the attribute
# Streamlit's own browser tests wait on) says the run ended, no status widget shows, and no
# skeleton is left. The status widget alone is not enough: it only appears once a run has
# lasted a moment. The script state alone is not enough either: in a fresh browser a widget's
# code is loaded on first use, and until it arrives a skeleton stands in its place, after the
# run has ended (measured: the sidebar's granularity radio 260-470 ms after "notRunning" here,
# longer on a busy machine). A skeleton that stays (``st.skeleton``, or a v1 custom component
# that never says it is ready) would make this wait time out: the app has neither.
IDLE_JS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return app !== null && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"]')
    && !document.querySelector('[data-testid="stSkeleton"]');
}"""


def wait_idle(page) -> None:
    """Wait until the app has finished its run (``IDLE_JS``)."""
    page.wait_for_timeout(300)
    page.wait_for_function(IDLE_JS, timeout=60000)


def sign_in(page, base: str, username: str, password: str) -> None:
    """Open the app, fill the login form and wait for the Overview's figures."""
    page.goto(base)
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    page.fill("input[aria-label='Username']", username)
    page.fill("input[aria-label='Password']", password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_selector("[data-testid='stMetric'], [data-testid='stAlert']", timeout=60000)
    wait_idle(page)


def session_cookie(context, *, wait: bool = True) -> dict | None:
    """The login cookie once the browser has stored it (the page posts for it first)."""
    for _ in range(75 if wait else 1):
        found = [c for c in context.cookies() if c["name"] == "tokenboard_session"]
        if found:
            return found[0]
        if wait:
            time.sleep(0.2)
    return None


VIEWPORT = {"width": 1400, "height": 1000}


@contextmanager
def signed_in_app(
    tmp: Path, db: str, user: str = "ana", **env: str
) -> Iterator[tuple[str, object, dict]]:
    """The app served over ``db`` and a chromium, ``user`` signed in once: (base URL, the
    browser, the saved login: the cookies to open new contexts with)."""
    with serve_app(tmp, db, **env) as base, chromium() as browser:
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        sign_in(page, base, user, PASSWORDS[user])
        assert session_cookie(context) is not None
        saved = context.storage_state()
        context.close()
        yield base, browser, saved


@contextmanager
def signed_in_app_over(
    tmp: Path, *paths: str, user: str = "ana", **env: str
) -> Iterator[tuple[str, object, dict]]:
    """``signed_in_app`` over a new database in ``tmp`` with the files ``paths`` imported."""
    from lib.ingest import import_file
    from lib.store import Store

    db = str(tmp / "app.duckdb")
    with Store(db) as s:
        for path in paths:
            import_file(s, path)
    with signed_in_app(tmp, db, user, **env) as served:
        yield served


def open_signed_in(browser, saved: dict, url: str):
    """A fresh browser context with the saved login, on ``url`` once the page has finished its
    run without an exception: (context, page); close the context when done."""
    context = browser.new_context(viewport=VIEWPORT, storage_state=saved)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("h1", timeout=60000)
    wait_idle(page)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()[:2000]
    return context, page
