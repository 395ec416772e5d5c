"""Steps the browser stories share (users, tickets, prices and the team story), with the
words each step reads on the page in both languages. Every step waits for what it reads and
for the page to be idle before it returns."""

from __future__ import annotations

import re

from tests.app_server import session_cookie, shot, wait_idle
from tests.conftest import PASSWORDS

DAY = "period=custom&from=2026-05-04&to=2026-05-04"
WORDS = {
    "en": {"username": "Username", "password": "Password", "log_in": "Log in",
           "invite": "Invite a user", "make": "Make invitation link", "join": "Join Tokenboard",
           "name": "Full name", "repeat": "Repeat password", "create": "Create my account",
           "log_out": "Log out", "reply": "Reply", "send": "Send", "sent": "Reply sent.",
           "status": "Status", "resolved": "Resolved", "change": "Change the status",
           "changed": "Status changed.", "estimated": "Estimated (USD)",
           "search": "Model contains", "edit": "Change or delete a price", "input": "Input",
           "output": "Output", "save": "Save the price", "saved": "saved.",
           "before": "$0.75", "after": "$3.00"},
    "fr": {"username": "Nom d'utilisateur", "password": "Mot de passe", "log_in": "Se connecter",
           "invite": "Inviter un utilisateur", "make": "Créer le lien d'invitation",
           "join": "Rejoindre Tokenboard", "name": "Nom complet",
           "repeat": "Confirmer le mot de passe", "create": "Créer mon compte",
           "log_out": "Se déconnecter", "reply": "Réponse", "send": "Envoyer",
           "sent": "Réponse envoyée.", "status": "État", "resolved": "Résolu",
           "change": "Changer l'état", "changed": "État changé.", "estimated": "Estimé (USD)",
           "search": "Modèle contient", "edit": "Modifier ou supprimer un prix", "input": "Entrée",
           "output": "Sortie", "save": "Enregistrer le prix", "saved": "enregistré.",
           "before": "0,75\u00a0$US", "after": "3,00\u00a0$US"},
}  # fmt: skip


def click_one(page, locator) -> None:
    """Click ``locator`` once the run that redraws it has left one such element (Streamlit
    keeps the previous run's elements until the new run replaces them)."""
    for _ in range(200):
        if locator.count() == 1:
            break
        page.wait_for_timeout(100)
    locator.click()


def admin_signs_in(page, base: str, lang: str, username: str = "ada") -> None:
    """Sign in from the Settings page's Users tab (an admin sees its invitation form)."""
    w = WORDS[lang]
    page.goto(f"{base}/Settings?tab=users&lang={lang}")
    page.wait_for_selector(f'input[aria-label="{w["username"]}"]', timeout=60000)
    page.fill(f'input[aria-label="{w["username"]}"]', username)
    page.fill(f'input[aria-label="{w["password"]}"]', PASSWORDS[username])
    page.get_by_role("button", name=w["log_in"]).click()
    page.get_by_text(w["invite"]).wait_for(timeout=60000)
    # the browser reports the stored cookie with one more run: a form filled before that run
    # ends could be drawn again empty
    assert session_cookie(page.context) is not None
    wait_idle(page)


def invite(page, base: str, lang: str, username: str) -> str:
    """The invitation link the Users tab shows once (the admin signed in on that tab)."""
    w = WORDS[lang]
    main = page.locator("[data-testid='stMain']")
    main.get_by_text(w["invite"]).click()
    form = main.locator("[data-testid='stForm']").filter(
        has=page.get_by_role("button", name=w["make"])
    )
    box = form.get_by_role("textbox", name=w["username"])
    code = main.locator("[data-testid='stCode']").first
    wait_idle(page)  # the tab's run has ended: the form stays as it is drawn
    box.fill(username)
    form.get_by_role("button", name=w["make"]).click()
    code.wait_for(timeout=60000)
    wait_idle(page)
    link = code.inner_text().strip()
    assert link.startswith(base + "/?invite="), link
    return link


def accept(page, link: str, lang: str, username: str, password: str) -> None:
    """Open the invitation ``link`` in ``lang``, choose a name and ``password``: signed in."""
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


def reply_and_resolve(page, base: str, lang: str, number: int, subject: str) -> None:
    """The admin opens ticket ``number`` (titled ``subject``), replies and resolves it."""
    w = WORDS[lang]
    page.goto(f"{base}/Help?tab=tickets&lang={lang}&ticket={number}")
    page.wait_for_selector(f"text={subject}", timeout=60000)
    wait_idle(page)
    main = page.locator("[data-testid='stMain']")
    main.get_by_label(w["reply"], exact=True).fill("Fixed: a **demo** import was counted twice.")
    click_one(page, main.get_by_role("button", name=w["send"], exact=True))
    page.wait_for_selector(f"text={w['sent']}", timeout=60000)
    wait_idle(page)
    status = main.get_by_role("combobox", name=re.compile("^" + w["status"]))
    status.click()
    status.press_sequentially(w["resolved"])
    page.get_by_role("option", name=w["resolved"], exact=True).click()
    wait_idle(page)
    click_one(page, main.get_by_role("button", name=w["change"]))
    page.wait_for_selector(f"text={w['changed']}", timeout=60000)
    wait_idle(page)


def estimate(page, base: str, lang: str) -> str:
    """The Costs page's estimated spend of May 4, once drawn."""
    page.goto(f"{base}/Costs?{DAY}&lang={lang}")
    card = page.locator("[data-testid='stMetric']", has_text=WORDS[lang]["estimated"]).first
    card.wait_for(timeout=60000)
    wait_idle(page)
    return card.locator("[data-testid='stMetricValue']").inner_text().strip()


def edit_price(page, base: str, lang: str, shot_as: str | None = None) -> None:
    """gpt-4o-mini at $1 input and $2 output per 1M tokens (from $0.15 and $0.60), from the
    Settings page's Prices tab; ``shot_as`` names a screenshot of the filled form."""
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
    if shot_as:
        shot(page, shot_as)
    box.get_by_role("button", name=w["save"]).click()
    page.get_by_text(w["saved"]).first.wait_for(timeout=60000)
    wait_idle(page)
