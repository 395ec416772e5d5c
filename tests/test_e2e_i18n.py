"""French and English in a real browser (Debian's chromium, Playwright) against
``streamlit run``: the login form, the first-admin setup and the Playground, with a
screenshot of each in ``test-artifacts/``."""

from __future__ import annotations

import re
import time

import pytest

from lib.store import Store
from tests.app_server import VIEWPORT, chromium, serve_app, shot, wait_idle
from tests.chat_api_server import OPENAI_KEY, ChatApi
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
NB = "\u00a0"


@pytest.fixture(scope="module")
def chat_api():
    with ChatApi() as api:
        yield api


@pytest.fixture(scope="module")
def server(tmp_path_factory, chat_api):
    tmp = tmp_path_factory.mktemp("e2e_i18n")
    db = str(tmp / "e2e.duckdb")
    Store(db).close()
    with serve_app(
        tmp, db, OPENAI_BASE_URL=f"{chat_api.url}/v1", OPENAI_API_KEY=OPENAI_KEY
    ) as base:
        yield base


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _form_width(page) -> float:
    box = page.locator("[data-testid='stForm']").first.bounding_box()
    assert box is not None
    return box["width"]


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_login_form(server, browser, lang):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/?lang={lang}")
    user = "Username" if lang == "en" else "Nom d'utilisateur"
    page.wait_for_selector(f'input[aria-label="{user}"]', timeout=60000)
    wait_idle(page)
    shot(page, f"20_login_{lang}")
    assert _form_width(page) <= 460  # a narrow column, not the width of the window
    assert page.get_by_role(
        "button", name="Log in" if lang == "en" else "Se connecter"
    ).is_visible()
    page.close()


def test_the_playground_in_french(server, browser, chat_api):
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(f"{server}/Playground?lang=fr")
    page.wait_for_selector('input[aria-label="Nom d\'utilisateur"]', timeout=60000)
    page.fill('input[aria-label="Nom d\'utilisateur"]', "ana")
    page.fill("input[aria-label='Mot de passe']", PASSWORDS["ana"])
    page.get_by_role("button", name="Se connecter").click()
    page.locator("h1", has_text="Bac à sable").first.wait_for(timeout=60000)
    wait_idle(page)
    box = page.get_by_placeholder("Écrire au modèle")
    # the message box sits at the bottom of the window
    bottom = box.bounding_box()
    assert bottom is not None and bottom["y"] > 1000 - 150
    box.fill("Say hello")
    box.press("Enter")
    page.locator("[data-testid='stChatMessage']", has_text="Hello world").first.wait_for(
        timeout=60000
    )
    wait_idle(page)
    # sent as soon as the box showed: with the settings shown, not the inputs' lowest values
    sent = chat_api.bodies[-1]
    assert sent["model"] == "gpt-4o-mini" and not {"max_tokens", "temperature", "top_p"} & set(sent)
    card = page.locator("[data-testid='stMetric']", has_text="Coût (USD)").first
    assert (
        card.locator("[data-testid='stMetricValue']").inner_text().replace(NB, " ")
        == "0,000003 $US"
    )
    assert "lang=fr" in page.url
    shot(page, "21_playground_fr")
    for n, tab in enumerate(("Comparer", "Préréglages", "Historique"), start=22):
        page.get_by_role("tab", name=tab).click()
        wait_idle(page)
        shot(page, f"{n}_playground_fr_{tab.lower()}")
    # another page keeps the language
    page.get_by_role("link", name="Vue d'ensemble").click()
    page.locator("h1").first.wait_for(timeout=60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'fr'",
                           timeout=30000)  # fmt: skip
    wait_idle(page)
    assert "lang=fr" in page.url
    page.close()


def test_the_playground_in_english_says_which_key_to_set(tmp_path, browser):
    db = str(tmp_path / "nokey.duckdb")
    Store(db).close()
    with serve_app(
        tmp_path, db, OPENAI_API_KEY="", OPENAI_BASE_URL="http://127.0.0.1:9/v1"
    ) as base:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/Playground")
        page.wait_for_selector("input[aria-label='Username']", timeout=60000)
        page.fill("input[aria-label='Username']", "ana")
        page.fill("input[aria-label='Password']", PASSWORDS["ana"])
        page.get_by_role("button", name="Log in").click()
        page.locator("h1", has_text="Playground").first.wait_for(timeout=60000)
        wait_idle(page)
        page.get_by_text("No API key for OpenAI").first.wait_for(timeout=30000)
        assert page.get_by_placeholder("Set an API key to send a message").is_disabled()
        shot(page, "25_playground_en_no_key")
        page.close()


def test_setup_prints_the_token_once_and_signs_the_admin_in(tmp_path, browser):
    db = str(tmp_path / "setup.duckdb")
    Store(db).close()
    log = tmp_path / "server.log"
    with serve_app(tmp_path, db, log=log, TOKENBOARD_USERS=str(tmp_path / "none.yaml")) as base:
        for _ in range(50):
            tokens = re.findall(r"setup token: (\S+)", log.read_text(encoding="utf-8"))
            if tokens:
                break
            time.sleep(0.2)
        assert len(tokens) == 1  # printed when the server started
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/?lang=fr")
        page.locator("h1", has_text="Installer Tokenboard").first.wait_for(timeout=60000)
        wait_idle(page)
        assert _form_width(page) <= 460
        shot(page, "26_setup_fr")
        page.fill('input[aria-label="Jeton d\'installation"]', tokens[0])
        page.fill('input[aria-label="Nom d\'utilisateur"]', "boss")
        page.fill("input[aria-label='Mot de passe']", "a long password")
        page.fill("input[aria-label='Confirmer le mot de passe']", "a long password")
        page.get_by_role("button", name="Créer l'administrateur").click()
        page.get_by_role("button", name="Se déconnecter", exact=True).wait_for(timeout=60000)
        page.get_by_text("Compte administrateur boss créé").first.wait_for(timeout=10000)
        wait_idle(page)
        shot(page, "27_setup_done_fr")
        page.close()
        assert len(re.findall(r"setup token", log.read_text(encoding="utf-8"))) == 1  # once


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_viewer_refused_the_playground_sees_the_navigation_and_a_sentence(server, browser, lang):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{server}/Playground?lang={lang}")
    user, password, button = (
        ("Username", "Password", "Log in") if lang == "en" else ("Nom d'utilisateur", "Mot de passe", "Se connecter")
    )  # fmt: skip
    page.wait_for_selector(f'input[aria-label="{user}"]', timeout=60000)
    page.fill(f'input[aria-label="{user}"]', "vic")
    page.fill(f'input[aria-label="{password}"]', PASSWORDS["vic"])
    page.get_by_role("button", name=button).click()
    sentence = (
        "is not open to the viewer role" if lang == "en" else "n'est pas ouverte au rôle lecteur"
    )
    page.get_by_text(sentence).first.wait_for(timeout=60000)
    wait_idle(page)
    assert page.get_by_role(
        "link", name="Overview" if lang == "en" else "Vue d'ensemble"
    ).is_visible()
    assert page.locator("[data-testid='stAlertContentError']").count() == 0
    shot(page, f"28_viewer_refused_{lang}")
    page.close()


def test_a_french_browser_gets_the_login_form_in_french(server, browser):
    """No ?lang and no account yet: the browser's Accept-Language decides."""
    context = browser.new_context(locale="fr-FR", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(server)
    page.wait_for_selector('input[aria-label="Nom d\'utilisateur"]', timeout=60000)
    assert page.get_by_role("button", name="Se connecter").is_visible()
    # the switch on the form changes it, and says so in the URL
    page.get_by_text("English", exact=True).click()
    page.wait_for_selector("input[aria-label='Username']", timeout=60000)
    page.wait_for_function("() => new URLSearchParams(location.search).get('lang') === 'en'",
                           timeout=30000)  # fmt: skip
    assert "lang=en" in page.url
    context.close()
