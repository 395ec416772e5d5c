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
from tests.conftest import PASSWORDS
from tests.test_tickets import png

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1400, "height": 1100}
DAY = "period=custom&from=2026-05-04&to=2026-05-04"
WORDS = {
    "en": {"username": "Username", "password": "Password", "log_in": "Log in",
           "invite": "Invite a user", "make": "Make invitation link", "join": "Join Tokenboard",
           "name": "Full name", "repeat": "Repeat password", "create": "Create my account",
           "log_out": "Log out", "report": "Report a problem", "from": "Filed from the page Usage",
           "subject": "Subject", "description": "Description", "file": "File the ticket",
           "filed": r"Ticket #(\d+) filed", "reply": "Reply", "send": "Send", "sent": "Reply sent.",
           "status": "Status", "resolved": "Resolved", "change": "Change the status",
           "changed": "Status changed.", "estimated": "Estimated (USD)",
           "search": "Model contains", "edit": "Change or delete a price", "input": "Input",
           "output": "Output", "save": "Save the price", "saved": "saved.",
           "before": "$0.75", "after": "$3.00"},
    "fr": {"username": "Nom d'utilisateur", "password": "Mot de passe", "log_in": "Se connecter",
           "invite": "Inviter un utilisateur", "make": "Créer le lien d'invitation",
           "join": "Rejoindre Tokenboard", "name": "Nom complet",
           "repeat": "Confirmer le mot de passe", "create": "Créer mon compte",
           "log_out": "Se déconnecter", "report": "Signaler un problème",
           "from": "Ouvert depuis la page Utilisation", "subject": "Objet",
           "description": "Description", "file": "Envoyer le ticket",
           "filed": r"Ticket n° (\d+) ouvert", "reply": "Réponse", "send": "Envoyer",
           "sent": "Réponse envoyée.", "status": "État", "resolved": "Résolu",
           "change": "Changer l'état", "changed": "État changé.", "estimated": "Estimé (USD)",
           "search": "Modèle contient", "edit": "Modifier ou supprimer un prix", "input": "Entrée",
           "output": "Sortie", "save": "Enregistrer le prix", "saved": "enregistré.",
           "before": "0,75\u00a0$US", "after": "3,00\u00a0$US"},
}  # fmt: skip


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def _click_one(page, locator) -> None:
    """Click ``locator`` once the rerun has left a single such element (Streamlit keeps the
    previous run's elements until the new run replaces them)."""
    for _ in range(200):
        if locator.count() == 1:
            break
        page.wait_for_timeout(100)
    locator.click()


def _admin_signs_in(page, base: str, lang: str) -> None:
    w = WORDS[lang]
    page.goto(f"{base}/Settings?tab=users&lang={lang}")
    page.wait_for_selector(f'input[aria-label="{w["username"]}"]', timeout=60000)
    page.fill(f'input[aria-label="{w["username"]}"]', "ada")
    page.fill(f'input[aria-label="{w["password"]}"]', PASSWORDS["ada"])
    page.get_by_role("button", name=w["log_in"]).click()
    page.get_by_text(w["invite"]).wait_for(timeout=60000)
    # the browser reports the stored cookie with one more run: a form filled before that run
    # ends could be drawn again empty
    assert session_cookie(page.context) is not None
    wait_idle(page)


def _invite(page, base: str, lang: str, username: str) -> str:
    """The invitation link the Users tab shows once."""
    w = WORDS[lang]
    main = page.locator("[data-testid='stMain']")
    main.get_by_text(w["invite"]).click()
    form = main.locator("[data-testid='stForm']").filter(
        has=page.get_by_role("button", name=w["make"])
    )
    form.get_by_role("textbox", name=w["username"]).fill(username)
    form.get_by_role("button", name=w["make"]).click()
    code = main.locator("[data-testid='stCode']").first
    code.wait_for(timeout=60000)
    wait_idle(page)
    link = code.inner_text().strip()
    assert link.startswith(base + "/?invite="), link
    return link


def _accept(page, link: str, lang: str, username: str, password: str) -> None:
    w = WORDS[lang]
    page.goto(f"{link}&lang={lang}")
    page.get_by_text(w["join"]).wait_for(timeout=60000)
    page.wait_for_function("() => !location.search.includes('invite=')", timeout=30000)
    wait_idle(page)
    page.get_by_role("textbox", name=w["name"]).fill(f"{username.capitalize()} Example")
    page.get_by_role("textbox", name=w["password"], exact=True).fill(password)
    page.get_by_role("textbox", name=w["repeat"]).fill(password)
    page.get_by_role("button", name=w["create"]).click()
    page.get_by_role("button", name=w["log_out"], exact=True).wait_for(timeout=60000)
    assert session_cookie(page.context) is not None
    wait_idle(page)


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


def _reply_and_resolve(page, base: str, lang: str, number: int, subject: str) -> None:
    w = WORDS[lang]
    page.goto(f"{base}/Help?tab=tickets&lang={lang}&ticket={number}")
    page.wait_for_selector(f"text={subject}", timeout=60000)
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_label(w["reply"], exact=True).fill("Fixed: a **demo** import was counted twice.")
    _click_one(page, main.get_by_role("button", name=w["send"], exact=True))
    page.wait_for_selector(f"text={w['sent']}", timeout=60000)
    wait_idle(page)
    status = main.get_by_role("combobox", name=re.compile("^" + w["status"]))
    status.click()
    status.press_sequentially(w["resolved"])
    page.get_by_role("option", name=w["resolved"], exact=True).click()
    wait_idle(page)
    _click_one(page, main.get_by_role("button", name=w["change"]))
    page.wait_for_selector(f"text={w['changed']}", timeout=60000)
    wait_idle(page)


def _estimate(page, base: str, lang: str) -> str:
    """The Costs page's estimated spend of May 4, once drawn."""
    page.goto(f"{base}/Costs?{DAY}&lang={lang}")
    card = page.locator("[data-testid='stMetric']", has_text=WORDS[lang]["estimated"]).first
    card.wait_for(timeout=60000)
    wait_idle(page)
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def _edit_price(page, base: str, lang: str) -> None:
    """gpt-4o-mini at $1 input and $2 output per 1M tokens, from the Prices tab."""
    w = WORDS[lang]
    page.goto(f"{base}/Settings?tab=prices&lang={lang}")
    main = page.locator("[data-testid='stMain']")
    search = main.get_by_label(w["search"])
    search.wait_for(timeout=60000)
    wait_idle(page)
    search.fill("gpt-4o-mini")
    search.press("Enter")
    wait_idle(page)
    box = main.locator("[data-testid='stExpander']", has_text=w["edit"])
    box.get_by_text(w["edit"]).click()
    for label, value in ((w["input"], "1"), (w["output"], "2")):
        field = box.get_by_label(label, exact=True)
        for _ in range(300):  # the run before the search may still show another model's form
            if field.count() == 1 and field.input_value() == ("0.15" if value == "1" else "0.6"):
                break
            page.wait_for_timeout(100)
        field.fill(value)
        field.press("Tab")
    wait_idle(page)
    box.get_by_role("button", name=w["save"]).click()
    page.get_by_text(w["saved"]).first.wait_for(timeout=60000)
    wait_idle(page)


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
            _admin_signs_in(admin, base, lang)
            link = _invite(admin, base, lang, newcomer)
            _accept(user, link, lang, newcomer, password)
            shot(user, f"story_{lang}_1_signed_in")
            # 2. the newcomer reports a problem from the Usage view, a screenshot attached
            number = _file_ticket(user, base, lang, subject, attachment)
            shot(user, f"story_{lang}_2_filed")
            # 3. the admin replies and resolves it; the newcomer sees both
            _reply_and_resolve(admin, base, lang, number, subject)
            user.goto(f"{base}/Help?tab=tickets&lang={lang}&ticket={number}")
            user.wait_for_selector("text=a demo import was counted twice", timeout=60000)
            wait_idle(user)
            text = user.locator("[data-testid='stMain']").inner_text()
            assert w["resolved"] in text and "Fixed: a demo import was counted twice." in text
            shot(user, f"story_{lang}_3_reply_seen")
            # 4. the admin edits a price: the Costs page's estimate follows
            assert _estimate(admin, base, lang) == w["before"]  # 1M × $0.15 + 1M × $0.60
            _edit_price(admin, base, lang)
            assert _estimate(admin, base, lang) == w["after"]  # 1M × $1 + 1M × $2
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
