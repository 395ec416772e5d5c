"""Latency percentiles on the Usage page in a real browser, in both languages, twice: with p95
as the metric the page offers "Percentiles: Estimated | Exact", Estimated checked; Exact goes
into the link (``pct=exact``), and the link opened in another browser keeps it checked. The
figures themselves are checked by ``tests/test_latency.py`` (AppTest). Screenshots go to
``test-artifacts/``."""

from __future__ import annotations

import urllib.parse

import pytest

from lib.i18n import translate
from tests.app_server import open_signed_in, shot, signed_in_app_over, wait_idle
from tests.conftest import write
from tests.test_latency import _log

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEW = "Usage?period=custom&from=2026-03-01&to=2026-03-02&metric=p95_latency&by=model"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("e2e_latency")
    with signed_in_app_over(tmp, write(tmp, "log.csv", _log())) as served:
        yield served


def _checked(page, group: str) -> str:
    """The words of the checked option of the radio group labelled ``group``."""
    radio = page.locator("[data-testid='stRadio']", has_text=group).first
    return (
        radio.locator("[role='radio'][aria-checked='true'], label:has(input:checked)")
        .first.inner_text()
        .strip()
    )


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_exact_percentiles_are_chosen_and_kept_in_the_link(served, lang):
    base, browser, saved = served

    def t(msgid: str) -> str:
        return translate(msgid, lang)

    suffix = "&lang=fr" if lang == "fr" else ""
    for i in range(2):
        context, page = open_signed_in(browser, saved, f"{base}/{VIEW}{suffix}")
        try:
            assert _checked(page, t("Percentiles")) == t("Estimated")
            page.locator("[data-testid='stRadio']", has_text=t("Percentiles")).first.locator(
                "label", has_text=t("Exact")
            ).click()
            page.wait_for_function(
                "() => new URLSearchParams(location.search).get('pct') === 'exact'", timeout=30000
            )
            wait_idle(page)
            assert page.locator("[data-testid='stException']").count() == 0
            assert _checked(page, t("Percentiles")) == t("Exact")
            page.wait_for_selector("[data-testid='stVegaLiteChart']", timeout=60000)
            if i == 0:
                shot(page, f"usage_exact_percentiles_{lang}")
            link = page.url
        finally:
            context.close()
        context, again = open_signed_in(browser, saved, link)
        try:
            q = urllib.parse.parse_qs(urllib.parse.urlsplit(again.url).query)
            assert q.get("pct") == ["exact"] and q.get("metric") == ["p95_latency"], again.url
            assert _checked(again, t("Percentiles")) == t("Exact")
        finally:
            context.close()
