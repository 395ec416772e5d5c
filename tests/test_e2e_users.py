"""Users in a real browser over the served app, once in English and once in French: an admin
invites a user from the Users tab, the link (shown once) opens in a second browser context,
the new user chooses a password and is signed in, with the token gone from the URL; the
admin then ends the user's sessions and the user's page asks to log in again. Screenshots
in test-artifacts/."""

from __future__ import annotations

import pytest

from lib.store import Store
from lib.store.audit import entries
from tests.app_server import chromium, serve_app, shot, wait_idle
from tests.e2e_steps import WORDS as STEP_WORDS
from tests.e2e_steps import accept, admin_signs_in, invite

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1400, "height": 1100}
OWN = {
    "en": {"end_all": "End every session", "ended": "Sessions ended: 1."},
    "fr": {"end_all": "Terminer toutes les sessions", "ended": "Sessions terminées\u00a0: 1."},
}
WORDS = {lang: {**STEP_WORDS[lang], **OWN[lang]} for lang in OWN}


def _one_pass(browser, base: str, lang: str, invited: str) -> None:
    w = WORDS[lang]
    admin_ctx = browser.new_context(viewport=VIEWPORT)
    page = admin_ctx.new_page()
    admin_signs_in(page, base, lang)
    main = page.locator("[data-testid='stMain']")
    link = invite(page, base, lang, invited)
    code = main.locator("[data-testid='stCode']").first
    token = link.split("=", 1)[1]
    code.hover()
    assert code.locator("button").count() >= 1  # the copy button
    shot(page, f"users_invited_{lang}")

    # the invited user, in another browser (no cookie of the admin)
    user_ctx = browser.new_context(viewport=VIEWPORT)
    upage = user_ctx.new_page()
    accept(upage, link, lang, invited, f"{invited} password 1")
    assert token not in upage.url and token not in upage.content()
    shot(upage, f"users_accepted_{lang}")

    # the admin sees the new user first in the list (picked by default) and ends their sessions
    page.reload()
    page.get_by_text(w["invite"]).wait_for(timeout=60000)
    wait_idle(page)
    main.get_by_role("button", name=w["end_all"]).click()
    page.get_by_text(w["ended"]).wait_for(timeout=60000)
    wait_idle(page)
    shot(page, f"users_sessions_ended_{lang}")

    # the user's page asks to log in again at its next run
    upage.reload()
    upage.wait_for_selector(f'input[aria-label="{w["username"]}"]', timeout=60000)
    wait_idle(upage)
    assert upage.get_by_role("button", name=w["log_out"], exact=True).count() == 0
    shot(upage, f"users_signed_out_{lang}")
    user_ctx.close()
    admin_ctx.close()


def test_invite_accept_and_revoke_in_both_languages(tmp_path):
    db = str(tmp_path / "users.duckdb")
    with Store(db):
        pass
    with serve_app(tmp_path, db, log=tmp_path / "server.log") as base, chromium() as browser:
        _one_pass(browser, base, "en", "abby")
        _one_pass(browser, base, "fr", "aaron")  # before abby: picked by default
    log = (tmp_path / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "?invite=" not in log
    with Store(db) as s:
        done = [(e.action, e.subject) for e in entries(s, actions=("user_invited",
                "invitation_accepted", "sessions_revoked"))]  # fmt: skip
    # the invite step may submit its form again when a run emptied it: one entry per step
    done = [d for i, d in enumerate(done) if i == 0 or d != done[i - 1]]
    assert done == [
        ("sessions_revoked", "aaron"), ("invitation_accepted", "aaron"), ("user_invited", "aaron"),
        ("sessions_revoked", "abby"), ("invitation_accepted", "abby"), ("user_invited", "abby"),
    ]  # fmt: skip
