"""Filters that never drift, and links that reopen the same view, in a real browser.

On each of the Overview, Usage, Costs and Data pages, five times: a fresh browser opens the
page with a saved login (the session cookie of an earlier sign-in, or, every other time, the
login form filled as a password manager would: that sign-in reruns the page while its first
run is still drawing, which used to leave the sidebar on its first options, "Last 24 hours"
and "Hour", beside a page computed for the last 30 days). The sidebar, the URL and the page
must agree from the start; then a filter (or the page's own control: the Usage metric, the
Costs tab, the Data history's status) changes, they must agree again, and the URL copied into
another fresh browser must open the same view. Two tries of five open the page with
``?lang=fr`` (one with the login form, in French, one with the cookie): the page, its sidebar
and the copied link stay in French."""

from __future__ import annotations

import urllib.parse
from datetime import UTC, datetime

import pytest

from lib.demo import load_demo
from lib.i18n import translate
from lib.store import Store
from lib.ui.words import GRANULARITY_LABELS, PRESET_LABELS
from tests.app_server import VIEWPORT, shot, signed_in_app, wait_idle
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
TRIES = 5
# per try: the period and granularity chosen in the sidebar
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
CHANGES = [
    ("7d", "hour"),
    ("this_month", "day"),
    ("24h", "hour"),
    ("last_month", "month"),
    ("7d", "day"),
]
# the page's own control, per try: (URL parameter, value, what the page shows)
USAGE_METRICS = ["output_tokens", "estimated_cost", "error_rate", "input_tokens", "errors"]
METRIC_WORDS = {"output_tokens": "Output tokens", "estimated_cost": "Estimated cost (USD)",
                "error_rate": "Error rate (%)", "input_tokens": "Input tokens", "errors": "Errors"}  # fmt: skip
COSTS_TABS = {"models": "Per model", "units": "Unit costs", "savings": "Savings", "whatif": "What if",
              "items": "Per line item"}  # fmt: skip
DATA_SHOW = {"ok": "Imported", "undone": "Undone", "failed": "Failed", "all": "All"}
PAGES = {"": "Overview", "Usage": "Usage", "Costs": "Costs", "Data": "Data"}
FRENCH_TRIES = (1, 2)  # these tries open the page with ?lang=fr


def _lang(i: int) -> str:
    return "fr" if i in FRENCH_TRIES else "en"


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("roundtrip")
    db = str(tmp / "roundtrip.duckdb")
    with Store(db) as s:
        load_demo(s, days=45, scale=0.03, end=NOW)
    # the app's clock is set: "this month" must hold data whatever day the suite runs
    with signed_in_app(tmp, db, TOKENBOARD_NOW=NOW.isoformat()) as served:
        yield served  # (base URL, browser, the saved login: its cookies)


def _query(page) -> dict[str, str]:
    return {
        k: v[-1] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(page.url).query).items()
    }


def _sidebar(page, lang: str = "en") -> tuple[str, str]:
    """The period and granularity the sidebar shows."""
    label = translate("Period", lang)
    period = page.locator(f"[data-testid='stSidebar'] input[aria-label=\"{label}\"]").input_value()
    gran = page.evaluate(
        """() => [...document.querySelectorAll("[data-testid=stSidebar] [data-testid=stRadio] input")]
                 .filter(e => e.checked).map(e => e.closest('label').innerText.trim()).join('|')"""
    )
    return period, gran


def _agree(page, path: str, lang: str = "en") -> tuple[str, str]:
    """The sidebar, the URL and the page say the same period and granularity (in ``lang``);
    returns them."""
    q = _query(page)
    preset, gran = q.get("period", "30d"), q.get("gran", "day")
    words = (translate(PRESET_LABELS[preset], lang), translate(GRANULARITY_LABELS[gran], lang))
    assert _sidebar(page, lang) == words, (page.url, _sidebar(page, lang))
    if path in ("", "Usage"):  # these pages say their period in their first caption
        caption = page.locator("[data-testid='stMain'] [data-testid='stCaptionContainer']").first
        text = caption.inner_text()
        assert text.startswith(words[0]), (page.url, text)
    return preset, gran


def _open(browser, saved, url: str, form: bool, lang: str = "en"):
    """A fresh browser on ``url``: with the saved login's cookie, or signing in with the form
    (in ``lang``)."""
    context = browser.new_context(viewport=VIEWPORT, storage_state=None if form else saved)
    page = context.new_page()
    page.goto(url)
    if form:
        user, password = translate("Username", lang), translate("Password", lang)
        page.wait_for_selector(f'input[aria-label="{user}"]', timeout=60000)
        page.fill(f'input[aria-label="{user}"]', "ana")
        page.fill(f'input[aria-label="{password}"]', PASSWORDS["ana"])
        page.get_by_role("button", name=translate("Log in", lang)).click()
    page.wait_for_selector("h1", timeout=60000)
    wait_idle(page)
    page.wait_for_timeout(800)  # a rerun the sign-in started would show by now
    wait_idle(page)
    errors = page.locator("[data-testid='stException']")
    assert errors.count() == 0, errors.first.inner_text()[:2000]
    return context, page


def _choose(page, scope: str, label: str, option: str) -> None:
    page.locator(f"{scope} [data-testid='stSelectbox']", has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    wait_idle(page)


def _change(page, path: str, i: int) -> dict[str, str]:
    """Change a filter (and the page's own control); returns the URL parameters expected."""
    want: dict[str, str] = {}
    lang = _lang(i)

    def t(msgid: str) -> str:
        return translate(msgid, lang)

    if path != "Data":
        preset, gran = CHANGES[i]
        _choose(page, "[data-testid='stSidebar']", t("Period"), t(PRESET_LABELS[preset]))
        page.locator("[data-testid='stSidebar'] [data-testid='stRadio'] label",
                     has_text=t(GRANULARITY_LABELS[gran])).click()  # fmt: skip
        wait_idle(page)
        want |= {"period": preset, "gran": gran} if gran != "day" else {"period": preset}
    if path == "Usage":
        metric = USAGE_METRICS[i]
        name, _, unit = METRIC_WORDS[metric].partition(" (")
        shown = t("{name} ({unit})").format(name=t(name), unit=unit[:-1]) if unit else t(name)
        _choose(page, "[data-testid='stMain']", t("Metric"), shown)
        want["metric"] = metric
    elif path == "Costs":
        code = list(COSTS_TABS)[i]
        page.get_by_role("tab", name=t(COSTS_TABS[code]), exact=True).click()
        wait_idle(page)
        want["tab"] = code
    elif path == "Data":
        code = list(DATA_SHOW)[i % len(DATA_SHOW)]
        page.locator(
            f"[aria-label=\"{t('Show')}\"] [role='radio']", has_text=t(DATA_SHOW[code])
        ).first.click()
        wait_idle(page)
        if code != "all":
            want["show"] = code
    return want


def _view(page, path: str, lang: str = "en") -> str:
    """What the page's own control shows."""
    if path == "Usage":
        label = translate("Metric", lang)
        return page.locator(f"[data-testid='stMain'] input[aria-label=\"{label}\"]").input_value()
    if path == "Costs":
        return page.locator("[role='tab'][aria-selected='true']").inner_text().strip()
    if path == "Data":
        return (
            page.locator(
                f"[aria-label=\"{translate('Show', lang)}\"] [role='radio'][aria-checked='true']"
            )
            .inner_text()
            .strip()
        )
    return ""


@pytest.mark.parametrize("path", list(PAGES))
def test_filters_and_links_round_trip(served, path):
    base, browser, saved = served
    for i in range(TRIES):
        lang = _lang(i)
        url = f"{base}/{path}?lang=fr" if lang == "fr" else f"{base}/{path}"
        context, page = _open(browser, saved, url, form=i % 2 == 1, lang=lang)
        try:
            heading = translate(PAGES[path], lang)
            assert page.get_by_role("heading", name=heading).first.is_visible()
            if path != "Data":
                # a fresh page: the defaults, everywhere
                assert _agree(page, path, lang) == ("30d", "day")
            want = _change(page, path, i)
            for key, value in want.items():
                page.wait_for_function(
                    "([k, v]) => new URLSearchParams(location.search).get(k) === v", arg=[key, value],
                    timeout=30000,
                )  # fmt: skip
            page.wait_for_timeout(500)
            wait_idle(page)
            q = _query(page)
            assert {k: q.get(k) for k in want} == want, (page.url, want)
            shown = _agree(page, path, lang) if path != "Data" else None
            view = _view(page, path, lang)
            link = page.url
            if lang == "fr":  # the language stays in the link to share
                assert q.get("lang") == "fr", page.url
            if i in (0, 1):
                shot(page, f"roundtrip_{(path or 'overview').lower()}_{lang}")
        finally:
            context.close()
        # the copied link, in another fresh browser: the same view
        context, again = _open(browser, saved, link, form=False)
        try:
            q2 = _query(again)
            assert {k: q2.get(k) for k in want} == want, (again.url, want)
            assert again.get_by_role("heading", name=heading).first.is_visible()
            if path != "Data":
                assert _agree(again, path, lang) == shown
            assert _view(again, path, lang) == view, (link, view)
        finally:
            context.close()


def test_switching_the_language_keeps_the_filters_in_the_sidebar(served):
    """The same tab drawn in English, then French, then English again with the switch: the
    granularity chosen stays checked in the sidebar in each language (a radio keeps its
    value in the browser as the words shown, so a stale English value once left no French
    choice checked). Ends in English, so the account's saved language stays English."""
    base, browser, saved = served
    context, page = _open(browser, saved, f"{base}/", form=False)
    try:
        page.locator(
            "[data-testid='stSidebar'] [data-testid='stRadio'] label", has_text="Hour"
        ).click()
        page.wait_for_function("() => new URLSearchParams(location.search).get('gran') === 'hour'",
                               timeout=30000)  # fmt: skip
        wait_idle(page)
        for _round in range(2):
            for lang, name in (("fr", "Français"), ("en", "English")):
                page.locator("[data-testid='stSidebar'] button", has_text=name).first.click()
                page.wait_for_function(
                    "(l) => new URLSearchParams(location.search).get('lang') === l", arg=lang,
                    timeout=30000,
                )  # fmt: skip
                page.wait_for_timeout(500)
                wait_idle(page)
                page.wait_for_function(  # the run's last draw: one granularity radio left
                    "() => document.querySelectorAll('[data-testid=stSidebar] [data-testid=stRadio]').length === 1",
                    timeout=30000,
                )  # fmt: skip
                heading = translate("Overview", lang)
                page.get_by_role("heading", name=heading).first.wait_for(timeout=30000)
                assert _agree(page, "", lang) == ("30d", "hour"), page.url
    finally:
        context.close()
