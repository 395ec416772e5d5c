"""In a real browser over the served app, in English and in French: an admin edits a price on
the Settings page and the Costs page's estimate changes. One gpt-4o-mini request of 1,000,000
input and 1,000,000 output tokens on 2026-05-04: $0.75 at the seed price ($0.15 + $0.60 per
1M), $3.00 once the price is $1 input and $2 output per 1M. Screenshots in test-artifacts/."""

from __future__ import annotations

import json

import pytest

from lib.ingest import import_file
from lib.store import Store
from tests.app_server import chromium, serve_app, shot, wait_idle
from tests.conftest import PASSWORDS
from tests.e2e_steps import WORDS, edit_price, estimate

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1400, "height": 1200}


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_admin_edits_a_price_and_the_costs_estimate_changes(tmp_path, lang):
    w = WORDS[lang]
    db = str(tmp_path / "prices.duckdb")
    row = {"request_id": "r1", "timestamp": "2026-05-04T09:00:00Z", "provider": "openai",
           "model": "gpt-4o-mini", "status": "success", "prompt_tokens": 1_000_000,
           "completion_tokens": 1_000_000}  # fmt: skip
    log = tmp_path / "log.jsonl"
    log.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with Store(db) as s:
        import_file(s, str(log))
    with (
        serve_app(
            tmp_path, db, log=tmp_path / "server.log", TOKENBOARD_NOW="2026-05-04T12:00:00Z"
        ) as base,
        chromium() as browser,
    ):
        page = browser.new_context(viewport=VIEWPORT).new_page()
        page.goto(f"{base}/?lang={lang}")
        user = page.locator(f'input[aria-label="{w["username"]}"]')
        user.wait_for(timeout=60000)
        user.fill("ada")
        page.locator(f'input[aria-label="{w["password"]}"]').fill(PASSWORDS["ada"])
        page.get_by_role("button", name=w["log_in"]).click()
        page.wait_for_selector("[data-testid='stMetric'], [data-testid='stAlert']", timeout=60000)
        wait_idle(page)
        assert estimate(page, base, lang) == w["before"]  # 1M × $0.15 + 1M × $0.60
        shot(page, f"prices_{lang}_costs_before")

        edit_price(page, base, lang, shot_as=f"prices_{lang}_edit")
        shot(page, f"prices_{lang}_saved")

        assert estimate(page, base, lang) == w["after"]  # 1M × $1 + 1M × $2
        shot(page, f"prices_{lang}_costs_after")
