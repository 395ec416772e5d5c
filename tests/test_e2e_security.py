"""Sign-in and stored data in a real browser (Debian's chromium via Playwright): forged and
copied cookies open nothing, logout and "sign out everywhere" end sessions on the server, and
names imported from files render as text — no external image fetched, no link made."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler

import jwt
import pytest

from lib.auth import sessions
from lib.ingest import import_file
from lib.playground import presets
from lib.store import Store
from tests.app_server import VIEWPORT, chromium, serve_app, session_cookie, shot, sign_in, wait_idle
from tests.conftest import COOKIE_KEY, PASSWORDS, ROOT, write
from tests.local_server import LocalServer, QuietHandler

pytestmark = [pytest.mark.browser, pytest.mark.slow]


class Beacon(LocalServer):
    """Counts every request a page makes to it (an image, a link followed)."""

    def __init__(self) -> None:
        super().__init__()
        self.hits: list[str] = []

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        beacon = self

        class Handler(QuietHandler):
            def do_GET(self) -> None:
                beacon.hits.append(self.path)
                self.send_json(404, {})

        return Handler


@pytest.fixture(scope="module")
def beacon():
    with Beacon() as b:
        yield b


def payloads(url: str) -> dict[str, str]:
    return {
        "provider": f"![p]({url}/provider.png)",
        "model": f"![b]({url}/beacon.png)",
        "project": "[Login again](http://phish.example/login)",
        "api_key": "www.phish.example",
        "user": ":red[alarm] **bold**",
        "error": f"![e]({url}/error.png) [fix it](http://phish.example/fix)",
        "preset": f"![s]({url}/preset.png) [Login again](http://phish.example/p)",
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory, beacon):
    tmp = tmp_path_factory.mktemp("sec")
    db = str(tmp / "sec.duckdb")
    p = payloads(beacon.url)
    day = datetime.now(UTC) - timedelta(days=1)
    rows = [
        "timestamp,provider,model,project,api_key,user,status,error_message,input_tokens,output_tokens,cost"
    ]
    for h in range(6):
        ts = (day + timedelta(hours=h)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(f'{ts},"{p["provider"]}","{p["model"]}","{p["project"]}","{p["api_key"]}",'
                    f'"{p["user"]}",error,"{p["error"]}",100,20,0.01')  # fmt: skip
        rows.append(
            f'{ts},openai,gpt-4o,"{p["project"]}","{p["api_key"]}","{p["user"]}",ok,,100,20,0.01'
        )
    with Store(db) as s:
        import_file(s, write(tmp, "payload.csv", "\n".join(rows) + "\n"))
        presets.save(
            s, "ana", p["preset"], {"provider": "openai", "model": "gpt-4o-mini"}, shared=True
        )
    with serve_app(tmp, db) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _visible_text(locator) -> str:
    """What a reader sees (the invisible word joiners that keep addresses unlinked removed)."""
    return locator.inner_text().replace("\u2060", "").strip()


def _login_form_shown(page) -> bool:
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    wait_idle(page)
    return page.locator("[data-testid='stMetric']").count() == 0


def _open_with_cookie(browser, base: str, value: str):
    context = browser.new_context()
    context.add_cookies([{"name": "tokenboard_session", "value": value, "url": base}])
    page = context.new_page()
    page.goto(base)
    return context, page


def test_forged_cookies_open_nothing(server, browser):
    example = (ROOT / ".streamlit" / "secrets.toml.example").read_text()
    assert "replace-with-a-long-random-string" not in example  # the old placeholder is gone
    public = ["replace-with-a-long-random-string", "some_signature_key", "some_key", "abcdef"]
    forged = [
        jwt.encode({"username": "ada", "exp_date": time.time() + 86400}, k, "HS256") for k in public
    ]
    forged += [sessions.cookie_value("guessed-token", k) for k in public]
    # signed with the server's real key, but no such session on the server
    forged.append(sessions.cookie_value("guessed-token", COOKIE_KEY))
    for value in forged:
        context, page = _open_with_cookie(browser, server, value)
        assert _login_form_shown(page), value
        context.close()


def test_logout_ends_the_session_even_for_a_copied_cookie(server, browser):
    context = browser.new_context()
    page = context.new_page()
    sign_in(page, server, "ana", PASSWORDS["ana"])
    cookie = session_cookie(context)
    assert cookie is not None
    assert cookie["sameSite"] == "Strict" and cookie["path"] == "/"
    assert cookie["httpOnly"]  # page scripts cannot read it
    assert "tokenboard_session" not in page.evaluate("document.cookie")
    assert not cookie["secure"]  # plain http here; Secure over https (tests/test_auth_web.py)
    assert PASSWORDS["ana"] not in cookie["value"] and "ana" not in cookie["value"]
    # the copied cookie works while the session lives...
    thief, stolen = _open_with_cookie(browser, server, cookie["value"])
    stolen.wait_for_selector("[data-testid='stMetric']", timeout=60000)
    thief.close()
    page.get_by_role("button", name="Log out", exact=True).click()
    assert _login_form_shown(page)
    for _ in range(50):  # the server deletes the cookie
        if session_cookie(context, wait=False) is None:
            break
        time.sleep(0.2)
    assert session_cookie(context, wait=False) is None
    shot(page, "sec_01_logged_out")
    # ... and opens nothing once the user has logged out
    thief, stolen = _open_with_cookie(browser, server, cookie["value"])
    assert _login_form_shown(stolen)
    thief.close()
    context.close()


def test_sign_out_everywhere_ends_the_other_browsers_session(server, browser):
    laptop, phone = browser.new_context(), browser.new_context()
    a, b = laptop.new_page(), phone.new_page()
    sign_in(a, server, "ada", PASSWORDS["ada"])
    sign_in(b, server, "ada", PASSWORDS["ada"])
    assert session_cookie(laptop) is not None
    b.get_by_role("button", name="Sign out everywhere").click()
    assert _login_form_shown(b)
    assert b.get_by_text("You are logged out on every device.").is_visible()
    # the laptop's open tab is signed out at its next step, and so is a reload
    a.get_by_role("link", name="Usage").click()
    assert _login_form_shown(a)
    a.reload()
    assert _login_form_shown(a)
    laptop.close()
    phone.close()


def test_imported_names_render_as_text(server, browser, beacon):
    p = payloads(beacon.url)
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    fetched: list[str] = []
    page.on(
        "request",
        lambda r: (
            fetched.append(r.url) if r.url.startswith(beacon.url) or "phish" in r.url else None
        ),
    )
    sign_in(page, server, "ana", PASSWORDS["ana"])
    base = server
    views = [
        ("/", "Overview"),
        ("/Usage?period=7d&breakdown=project", "Usage"),
        ("/Usage?period=7d&breakdown=user_id", "Usage"),
        ("/Costs?period=7d", "Costs"),
        ("/Data", "Data"),
        ("/Playground", "Playground"),
    ]
    for path, name in views:
        page.goto(base + path)
        page.wait_for_selector(f"h1:has-text('{name}')", timeout=60000)
        wait_idle(page)
        links = page.locator(f"a[href*='phish'], a[href^='{beacon.url}']")
        assert links.count() == 0, (
            path,
            [
                links.nth(i).evaluate("e => e.parentElement.parentElement.outerHTML")
                for i in range(links.count())
            ],
        )
        assert page.locator(f"img[src^='{beacon.url}']").count() == 0, path
        assert page.locator("[data-testid='stException']").count() == 0, path
        shot(page, f"sec_02_{name.lower()}_{len(fetched)}")
    # a preset saved under a payload name is confirmed in words, not as an image or a link
    page.get_by_role("tab", name="Presets").click()
    wait_idle(page)
    page.locator("input[aria-label='Name']").fill(p["preset"] + " 2")
    page.get_by_role("button", name="Save preset").click()
    wait_idle(page)
    saved = page.locator("[data-testid='stAlert']", has_text="Saved")
    saved.wait_for(timeout=30000)
    assert _visible_text(saved) == f"Saved “{p['preset']} 2”."
    assert page.locator("a[href*='phish']").count() == 0
    # an upload whose name and content are payloads is refused in words
    page.goto(base + "/Data")
    page.wait_for_selector("text=Import history", timeout=60000)
    bad = {"name": "[Login again](phish.example).csv", "mimeType": "text/csv",
           "buffer": f"timestamp,model\nnot-a-date,{p['model']}\n".encode()}  # fmt: skip
    page.locator("[data-testid='stFileUploaderDropzoneInput']").set_input_files(bad)
    page.wait_for_selector("[data-testid='stAlert']", timeout=60000)
    wait_idle(page)
    refused = page.locator("[data-testid='stAlert']").first
    assert "[Login again](phish.example).csv" in _visible_text(refused)
    assert page.locator("a[href*='phish']").count() == 0
    shot(page, "sec_03_data_payload_upload")
    time.sleep(1)
    assert fetched == [] and beacon.hits == []
    context.close()


def test_a_server_configured_with_the_old_example_key_refuses_to_run(tmp_path, browser):
    """The key the secrets example once shipped: a cookie forged with it signed anyone in as
    admin. Now the app stops with a message before any page or login form."""
    placeholder = "replace-with-a-long-random-string"
    db = str(tmp_path / "old.duckdb")
    with Store(db) as s:
        import_file(
            s, write(tmp_path, "one.csv", "timestamp,model,input_tokens\n2026-11-01,gpt-4o,5\n")
        )
    with serve_app(tmp_path, db, TOKENBOARD_COOKIE_KEY=placeholder) as base:
        forged = jwt.encode(
            {"username": "ada", "exp_date": time.time() + 86400}, placeholder, "HS256"
        )
        context, page = _open_with_cookie(browser, base, forged)
        alert = page.locator("[data-testid='stAlert']").first
        alert.wait_for(timeout=60000)
        assert "The cookie key is public" in alert.inner_text()
        assert page.locator("[data-testid='stMetric']").count() == 0
        assert page.locator("input[aria-label='Username']").count() == 0
        context.close()


def test_a_stranger_at_the_same_address_cannot_lock_out_a_known_browser(server, browser):
    """Everyone here reaches the app from the same address (as behind a proxy that hides
    client addresses): the user's own browser, known by its device cookie, still gets in."""
    own = browser.new_context()
    mine = own.new_page()
    sign_in(mine, server, "vic", PASSWORDS["vic"])
    for _ in range(75):
        if any(c["name"] == "tokenboard_device" for c in own.cookies()):
            break
        time.sleep(0.2)
    device = next(c for c in own.cookies() if c["name"] == "tokenboard_device")
    assert device["httpOnly"] and device["sameSite"] == "Strict"
    mine.get_by_role("button", name="Log out", exact=True).click()
    assert _login_form_shown(mine)
    stranger = browser.new_context()
    theirs = stranger.new_page()
    theirs.goto(server)
    for _ in range(6):
        _login_form_shown(theirs)
        theirs.fill("input[aria-label='Username']", "vic")
        theirs.fill("input[aria-label='Password']", "guess-" + str(time.time()))
        theirs.get_by_role("button", name="Log in").click()
        theirs.wait_for_selector("[data-testid='stAlert']", timeout=60000)
        wait_idle(theirs)
    assert "Too many failed sign-ins" in theirs.locator("[data-testid='stAlert']").last.inner_text()
    sign_in(mine, server, "vic", PASSWORDS["vic"])
    assert mine.locator("[data-testid='stMetric']").count() > 0
    own.close()
    stranger.close()
