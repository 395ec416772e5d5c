"""The story of issue 12 in a real browser, once in English and once in French: an admin
invites a user; the user opens the link, chooses a password and is signed in; from the Usage
page the user reports a problem (the view's link carried along) with a screenshot attached;
the admin replies and resolves the ticket; the user sees the reply and the status; the admin
edits a price and the Costs page's estimate changes; the user logs out and a copy of the
user's old cookie opens nothing.

Figures: one gpt-4o-mini request of 1,000,000 input and 1,000,000 output tokens on
2026-05-04: $0.75 at the seed price ($0.15 + $0.60 per 1M), $3.00 at $1 input and $2 output
per 1M. Screenshots in test-artifacts/."""

from __future__ import annotations

import json
import re

import pytest

from lib.ingest import import_file
from lib.store import Store
from lib.store.audit import entries
from tests.app_server import chromium, serve_app, session_cookie, shot, wait_idle
from tests.e2e_steps import (
    DAY,
    accept,
    admin_signs_in,
    edit_price,
    estimate,
    invite,
    reply_and_resolve,
)
from tests.e2e_steps import WORDS as STEP_WORDS
from tests.test_tickets import png

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1400, "height": 1100}
OWN = {
    "en": {"report": "Report a problem", "from": "Filed from the page Usage", "subject": "Subject",
           "description": "Description", "file": "File the ticket",
           "filed": r"Ticket #(\d+) filed"},
    "fr": {"report": "Signaler un problème", "from": "Ouvert depuis la page Utilisation",
           "subject": "Objet", "description": "Description", "file": "Envoyer le ticket",
           "filed": r"Ticket n° (\d+) ouvert"},
}  # fmt: skip
WORDS = {lang: {**STEP_WORDS[lang], **OWN[lang]} for lang in OWN}


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _file_ticket(page, base: str, lang: str, subject: str, attachment) -> int:
    """From the Usage page of May 4, by model, the sidebar's report link; returns the number."""
    w = WORDS[lang]
    page.goto(f"{base}/Usage?{DAY}&by=model&lang={lang}")
    report = page.get_by_role("link", name=w["report"])
    report.wait_for(timeout=60000)
    wait_idle(page)
    report.click()
    page.wait_for_selector(f"text={w['from']}", timeout=60000)
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    assert "/Usage?" in main.inner_text() and "by=model" in main.inner_text()
    main.get_by_label(w["subject"], exact=True).fill(subject)
    main.get_by_label(w["description"], exact=True).fill("The **model** split looks wrong.")
    main.locator("input[type='file']").first.set_input_files(str(attachment))
    page.wait_for_selector(f"text={attachment.name}", timeout=60000)
    main.get_by_role("button", name=w["file"]).click()
    page.wait_for_function(
        "() => new URLSearchParams(location.search).get('ticket') !== null", timeout=60000
    )
    page.wait_for_selector(f"text=/{w['filed']}/", timeout=60000)
    wait_idle(page)
    return int(re.search(r"[?&]ticket=(\d+)", page.url).group(1))  # type: ignore[union-attr]


def _login_form_shown(page, lang: str) -> bool:
    page.wait_for_selector(f'input[aria-label="{WORDS[lang]["username"]}"]', timeout=60000)
    wait_idle(page)
    return page.locator("[data-testid='stMetric']").count() == 0


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_invite_ticket_reply_price_and_logout(tmp_path, browser, lang):
    w = WORDS[lang]
    newcomer, password = f"nina-{lang}", f"nina {lang} password 1"
    subject = f"Spend by model looks wrong ({lang})"
    attachment = tmp_path / f"usage-{lang}.png"
    attachment.write_bytes(png(5, 4))
    db = str(tmp_path / "story.duckdb")
    log = tmp_path / "log.jsonl"
    row = {"request_id": "r1", "timestamp": "2026-05-04T09:00:00Z", "provider": "openai",
           "model": "gpt-4o-mini", "status": "success", "prompt_tokens": 1_000_000,
           "completion_tokens": 1_000_000}  # fmt: skip
    log.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with Store(db) as s:
        import_file(s, str(log))
    with serve_app(tmp_path, db, TOKENBOARD_NOW="2026-05-04T12:00:00Z") as base:
        admin_ctx = browser.new_context(viewport=VIEWPORT)
        user_ctx = browser.new_context(viewport=VIEWPORT)
        try:
            admin, user = admin_ctx.new_page(), user_ctx.new_page()
            # 1. the admin invites; the newcomer accepts in another browser and is signed in
            admin_signs_in(admin, base, lang)
            link = invite(admin, base, lang, newcomer)
            accept(user, link, lang, newcomer, password)
            shot(user, f"story_{lang}_1_signed_in")
            # 2. the newcomer reports a problem from the Usage view, a screenshot attached
            number = _file_ticket(user, base, lang, subject, attachment)
            shot(user, f"story_{lang}_2_filed")
            # 3. the admin replies and resolves it; the newcomer sees both
            reply_and_resolve(admin, base, lang, number, subject)
            user.goto(f"{base}/Help?tab=tickets&lang={lang}&ticket={number}")
            user.wait_for_selector("text=a demo import was counted twice", timeout=60000)
            wait_idle(user)
            text = user.locator("[data-testid='stMain']").inner_text()
            assert w["resolved"] in text and "Fixed: a demo import was counted twice." in text
            shot(user, f"story_{lang}_3_reply_seen")
            # 4. the admin edits a price: the Costs page's estimate follows
            assert estimate(admin, base, lang) == w["before"]  # 1M × $0.15 + 1M × $0.60
            edit_price(admin, base, lang)
            assert estimate(admin, base, lang) == w["after"]  # 1M × $1 + 1M × $2
            shot(admin, f"story_{lang}_4_estimate_after")
            # 5. the newcomer logs out; a copy of the old cookie opens nothing
            cookie = session_cookie(user_ctx)
            assert cookie is not None
            user.get_by_role("button", name=w["log_out"], exact=True).click()
            assert _login_form_shown(user, lang)
            thief = browser.new_context(viewport=VIEWPORT)
            try:
                thief.add_cookies(
                    [{"name": "tokenboard_session", "value": cookie["value"], "url": base}]
                )
                stolen = thief.new_page()
                stolen.goto(f"{base}/Help?tab=tickets&ticket={number}&lang={lang}")
                assert _login_form_shown(stolen, lang)
                assert subject not in stolen.content()
            finally:
                thief.close()
        finally:
            user_ctx.close()
            admin_ctx.close()
    with Store(db) as s:
        done = {(e.action, e.subject) for e in entries(s)}
    assert {("user_invited", newcomer), ("invitation_accepted", newcomer)} <= done
    assert any(a == "price_edited" for a, _ in done)
