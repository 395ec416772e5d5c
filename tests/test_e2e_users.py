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
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1400, "height": 1100}
WORDS = {
    "en": {"username": "Username", "password": "Password", "log_in": "Log in",
           "invite": "Invite a user", "make": "Make invitation link", "join": "Join Tokenboard",
           "name": "Full name", "repeat": "Repeat password", "create": "Create my account",
           "log_out": "Log out", "end_all": "End every session", "ended": "Sessions ended: 1."},
    "fr": {"username": "Nom d'utilisateur", "password": "Mot de passe", "log_in": "Se connecter",
           "invite": "Inviter un utilisateur", "make": "Créer le lien d'invitation",
           "join": "Rejoindre Tokenboard", "name": "Nom complet",
           "repeat": "Confirmer le mot de passe", "create": "Créer mon compte",
           "log_out": "Se déconnecter", "end_all": "Terminer toutes les sessions",
           "ended": "Sessions terminées\u00a0: 1."},
}  # fmt: skip


def _sign_in(page, base: str, lang: str, username: str, password: str) -> None:
    w = WORDS[lang]
    page.goto(f"{base}/Settings?tab=users&lang={lang}")
    page.wait_for_selector(f'input[aria-label="{w["username"]}"]', timeout=60000)
    page.fill(f'input[aria-label="{w["username"]}"]', username)
    page.fill(f'input[aria-label="{w["password"]}"]', password)
    page.get_by_role("button", name=w["log_in"]).click()
    page.get_by_text(w["invite"]).wait_for(timeout=60000)
    wait_idle(page)


def _one_pass(browser, base: str, lang: str, invited: str) -> None:
    w = WORDS[lang]
    admin_ctx = browser.new_context(viewport=VIEWPORT)
    page = admin_ctx.new_page()
    _sign_in(page, base, lang, "ada", PASSWORDS["ada"])
    main = page.locator("[data-testid='stMain']")
    main.get_by_text(w["invite"]).click()
    form = main.locator("[data-testid='stForm']").filter(
        has=page.get_by_role("button", name=w["make"])
    )
    form.get_by_role("textbox", name=w["username"]).fill(invited)
    form.get_by_role("button", name=w["make"]).click()
    code = main.locator("[data-testid='stCode']").first
    code.wait_for(timeout=60000)
    wait_idle(page)
    link = code.inner_text().strip()
    assert link.startswith(base + "/?invite="), link
    token = link.split("=", 1)[1]
    code.hover()
    assert code.locator("button").count() >= 1  # the copy button
    shot(page, f"users_invited_{lang}")

    # the invited user, in another browser (no cookie of the admin)
    user_ctx = browser.new_context(viewport=VIEWPORT)
    upage = user_ctx.new_page()
    upage.goto(f"{link}&lang={lang}")
    upage.get_by_text(w["join"]).wait_for(timeout=60000)
    wait_idle(upage)
    upage.wait_for_function("() => !location.search.includes('invite=')", timeout=30000)
    assert token not in upage.url
    upage.get_by_role("textbox", name=w["name"]).fill(f"{invited.capitalize()} Example")
    upage.get_by_role("textbox", name=w["password"], exact=True).fill(f"{invited} password 1")
    upage.get_by_role("textbox", name=w["repeat"]).fill(f"{invited} password 1")
    upage.get_by_role("button", name=w["create"]).click()
    upage.get_by_role("button", name=w["log_out"], exact=True).wait_for(timeout=60000)
    wait_idle(upage)
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
    assert done == [
        ("sessions_revoked", "aaron"), ("invitation_accepted", "aaron"), ("user_invited", "aaron"),
        ("sessions_revoked", "abby"), ("invitation_accepted", "abby"), ("user_invited", "abby"),
    ]  # fmt: skip
