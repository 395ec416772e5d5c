"""The Errors page in a real browser (Debian's chromium, Playwright) over the hand-made log of
``tests/test_errors_view.py``: the figures, a kind-of-error filter that goes into the URL and
comes back from a shared link, the tabs, in English and French, repeated; screenshots in
``test-artifacts/``."""

from __future__ import annotations

import urllib.parse

import pytest

from lib.i18n import translate
from lib.ui.words import STATUS_CLASS_LABELS
from tests.app_server import open_signed_in, shot, signed_in_app_over, wait_idle
from tests.test_errors_view import write_log

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PERIOD = "period=custom&from=2026-05-01&to=2026-05-03&tz=UTC"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e_errors")
    with signed_in_app_over(tmp, write_log(tmp)) as served:
        yield served


def _metric(page, label: str) -> str:
    box = page.locator("[data-testid='stMetric']", has_text=label).first
    return box.locator("[data-testid='stMetricValue']").inner_text().strip()


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_the_errors_page_filters_and_shares(served, lang):
    base, browser, saved = served

    def t(msgid: str) -> str:
        return translate(msgid, lang)

    suffix = "&lang=fr" if lang == "fr" else ""
    for i in range(2):
        context, page = open_signed_in(browser, saved, f"{base}/Errors?{PERIOD}{suffix}")
        try:
            page.get_by_role("heading", name=t("Errors")).first.wait_for(timeout=30000)
            assert _metric(page, t("Error rate")) in ("62.5%", "62,5\u00a0%")  # 10 of 16
            if i == 0:
                shot(page, f"errors_groups_{lang}")
            # the kind-of-error filter: "Provider overloaded (529)" → 2 errors
            page.locator("[data-testid='stMultiSelect']", has_text=t("Kind of error")).first.click()
            page.get_by_role("option", name=t(STATUS_CLASS_LABELS["overloaded"])).click()
            page.keyboard.press("Escape")
            page.wait_for_function("() => new URLSearchParams(location.search).get('class') === 'overloaded'",
                                   timeout=30000)  # fmt: skip
            wait_idle(page)
            page.wait_for_function(
                "() => [...document.querySelectorAll('[data-testid=stMetricValue]')].some(e => e.innerText.trim() === '2')",
                timeout=30000,
            )  # fmt: skip
            page.get_by_role("tab", name=t("Recent errors")).click()
            page.wait_for_function("() => new URLSearchParams(location.search).get('tab') === 'recent'",
                                   timeout=30000)  # fmt: skip
            wait_idle(page)
            if i == 0:
                shot(page, f"errors_recent_{lang}")
            link = page.url
        finally:
            context.close()
        context, again = open_signed_in(browser, saved, link)
        try:
            q = {
                k: v[-1]
                for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(again.url).query).items()
            }
            assert q.get("class") == "overloaded" and q.get("tab") == "recent", again.url
            assert _metric(again, t("Errors")) == "2"
            selected = again.get_by_role("tab", name=t("Recent errors"))
            assert selected.get_attribute("aria-selected") == "true"
        finally:
            context.close()
