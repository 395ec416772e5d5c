"""The help in a real browser (Debian's chromium, Playwright), once in English and once in
French: the Costs page's "Help for this page" link lands on the Costs section of the help;
a word searched there lists results with the word in bold, and opening the first shows its
section; the "Report a problem" link carries the view. Screenshots in ``test-artifacts/``."""

from __future__ import annotations

import urllib.parse

import pytest

from tests.app_server import VIEWPORT, shot, signed_in_app, wait_idle

pytestmark = [pytest.mark.browser, pytest.mark.slow]
WORDS = {
    "en": {"help": "Help for this page", "report": "Report a problem", "section": "Costs",
           "search": "Search the help", "query": "counted stream", "result": "The counted stream",
           "costs": "Costs"},
    "fr": {"help": "Aide sur cette page", "report": "Signaler un problème", "section": "Coûts",
           "search": "Chercher dans l'aide", "query": "flux compte", "result": "Le flux compté",
           "costs": "Coûts"},
}  # fmt: skip


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e_help")
    db = str(tmp / "help.duckdb")
    with signed_in_app(tmp, db) as served:
        yield served


def _query(page) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_a_page_links_to_its_help_and_the_help_is_searched(served, lang):
    base, browser, saved = served
    w = WORDS[lang]
    context = browser.new_context(viewport=VIEWPORT, storage_state=saved)
    page = context.new_page()
    page.goto(f"{base}/Costs?period=7d&lang={lang}")
    page.wait_for_selector("h1", timeout=60000)
    wait_idle(page)
    above = page.locator("[data-testid='stMain']")  # the page's links stand above its title
    report = above.get_by_role("link", name=w["report"])
    report.wait_for(timeout=30000)
    target = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(report.get_attribute("href")).query))
    assert target["tab"] == "tickets" and target["lang"] == lang
    assert target["from"].startswith("/Costs?") and "period=7d" in target["from"]

    # the page's help link lands on its section of the help, in the same language
    above.get_by_role("link", name=w["help"]).click()
    page.wait_for_function("() => location.pathname.endsWith('/Help')", timeout=30000)
    page.locator("#page-costs").wait_for(timeout=30000)
    wait_idle(page)
    assert _query(page) == {"topic": "page-costs", "lang": lang}
    assert page.locator("h2#page-costs").inner_text().strip() == w["section"]
    shot(page, f"help_topic_{lang}")

    # a search: typed, kept in the URL, results with the words in bold
    box = page.get_by_label(w["search"])
    box.fill(w["query"])
    box.press("Enter")
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('q') !== null", timeout=30000
    )
    first = page.locator("[data-testid='stPageLink']", has_text=w["result"]).first
    first.wait_for(timeout=30000)
    wait_idle(page)
    assert _query(page)["q"] == w["query"]
    assert page.locator("[data-testid='stMarkdownContainer'] strong").count() >= 2
    shot(page, f"help_search_{lang}")

    # the first result opens its section
    first.click()
    page.wait_for_function("() => new URLSearchParams(location.search).get('topic') === 'counted-stream'",
                           timeout=30000)  # fmt: skip
    page.locator("h2#counted-stream").wait_for(timeout=30000)
    wait_idle(page)
    assert page.locator("h2#counted-stream").inner_text().strip() == w["result"]
    assert _query(page).get("lang") == lang and "q" not in _query(page)
    assert page.locator("[data-testid='stException']").count() == 0
    shot(page, f"help_result_{lang}")
    context.close()
