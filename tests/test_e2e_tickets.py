"""Support tickets in a real browser over the served app, in English and in French: a user
files a ticket from a view with an attachment, an admin opens it, downloads nothing the user
did not attach, replies and resolves it, and the user sees the reply and the status, and
downloads the attachment back byte for byte. Screenshots in test-artifacts/."""

from __future__ import annotations

import re
from urllib.parse import quote

import pytest

from lib.store import Store
from tests.app_server import chromium, serve_app, shot, sign_in, wait_idle
from tests.conftest import PASSWORDS
from tests.e2e_steps import click_one, reply_and_resolve
from tests.test_tickets import png

pytestmark = [pytest.mark.browser, pytest.mark.slow]
VIEWPORT = {"width": 1400, "height": 1100}
WORDS = {
    "en": {"subject": "Subject", "description": "Description", "file": "File the ticket",
           "filed": r"Ticket #(\d+) filed", "reply": "Reply", "send": "Send", "sent": "Reply sent.",
           "status": "Status", "resolved": "Resolved", "change": "Change the status",
           "changed": "Status changed.", "from": "Filed from the page Usage"},
    "fr": {"subject": "Objet", "description": "Description", "file": "Envoyer le ticket",
           "filed": r"Ticket n° (\d+) ouvert", "reply": "Réponse", "send": "Envoyer",
           "sent": "Réponse envoyée.", "status": "État", "resolved": "Résolu",
           "change": "Changer l'état", "changed": "État changé.",
           "from": "Ouvert depuis la page Utilisation"},
}  # fmt: skip


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tickets")
    db = str(tmp / "tickets.duckdb")
    with Store(db):
        pass
    with serve_app(tmp, db, log=tmp / "server.log") as base:
        yield base, db


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_file_reply_resolve(server, browser, lang, tmp_path):
    base, _db = server
    w = WORDS[lang]
    shot_png = tmp_path / f"screen-{lang}.png"
    shot_png.write_bytes(png(4, 3))
    subject = f"Spend by model looks doubled ({lang})"

    # the user files the ticket from the Usage view
    user_ctx = browser.new_context(viewport=VIEWPORT, accept_downloads=True)
    user = user_ctx.new_page()
    sign_in(user, base, "ana", PASSWORDS["ana"])
    view = quote("/Usage?period=30d&by=model", safe="")
    user.goto(f"{base}/Help?tab=tickets&lang={lang}&from={view}")
    user.wait_for_selector(f"text={w['from']}", timeout=60000)
    wait_idle(user)
    main = user.locator("[data-testid='stMain']")
    main.get_by_label(w["subject"], exact=True).fill(subject)
    main.get_by_label(w["description"], exact=True).fill("Since **Monday**, see the screenshot.")
    main.locator("input[type='file']").first.set_input_files(str(shot_png))
    user.wait_for_selector(f"text={shot_png.name}", timeout=60000)
    shot(user, f"tickets_file_{lang}")
    main.get_by_role("button", name=w["file"]).click()
    user.wait_for_function(
        "() => new URLSearchParams(location.search).get('ticket') !== null", timeout=60000
    )
    user.wait_for_selector(f"text=/{w['filed']}/", timeout=60000)
    wait_idle(user)
    number = int(re.search(r"[?&]ticket=(\d+)", user.url).group(1))  # type: ignore[union-attr]
    assert re.search(w["filed"].replace(r"(\d+)", str(number)), main.inner_text())
    shot(user, f"tickets_filed_{lang}")

    # the admin opens it by its number, replies and resolves it
    admin_ctx = browser.new_context(viewport=VIEWPORT)
    admin = admin_ctx.new_page()
    sign_in(admin, base, "ada", PASSWORDS["ada"])
    admin.goto(f"{base}/Help?tab=tickets&lang={lang}&ticket={number}")
    admin.wait_for_selector(f"text={subject}", timeout=60000)
    wait_idle(admin)
    amain = admin.locator("[data-testid='stMain']")
    attachment = amain.get_by_role("button", name=re.compile(re.escape(shot_png.name)))
    attachment.first.wait_for(timeout=60000)  # the ticket's details draw after its subject
    assert attachment.count() == 1
    reply_and_resolve(admin, base, lang, number, subject)
    shot(admin, f"tickets_admin_resolved_{lang}")

    # the user sees the reply and the status, and gets the attachment back
    user.goto(f"{base}/Help?tab=tickets&lang={lang}&ticket={number}")
    user.wait_for_selector("text=a demo import was counted twice", timeout=60000)
    wait_idle(user)
    text = main.inner_text()
    assert w["resolved"] in text and "Fixed: a demo import was counted twice." in text
    with user.expect_download() as got:
        click_one(user, main.get_by_role("button", name=re.compile(re.escape(shot_png.name))))
    with open(got.value.path(), "rb") as f:
        assert f.read() == shot_png.read_bytes()
    shot(user, f"tickets_user_sees_reply_{lang}")
    assert "/Usage?period=30d&by=model" in text  # the view it was filed from
    user_ctx.close()
    admin_ctx.close()
