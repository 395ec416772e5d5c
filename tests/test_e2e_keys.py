"""The Keys page in a real browser over the served app: an admin creates a key, sees its secret
once with a copy button, no longer sees it after reloading, checks an IP against it, and
revokes it after confirming. Screenshots in test-artifacts/."""

from __future__ import annotations

import re

import pytest

from lib.keys.snapshot import read_snapshot
from lib.store import Store
from tests.app_server import VIEWPORT, chromium, serve_app, shot, sign_in, wait_idle
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_create_see_the_secret_once_and_revoke(tmp_path):
    db = str(tmp_path / "keys.duckdb")
    with Store(db):
        pass
    with (
        serve_app(tmp_path, db, log=tmp_path / "server.log") as base,
        chromium() as browser,
    ):
        context = browser.new_context(viewport=VIEWPORT)
        page = context.new_page()
        sign_in(page, base, "ada", PASSWORDS["ada"])
        page.goto(f"{base}/API_keys")
        page.wait_for_selector("text=No Tokenboard key yet", timeout=60000)
        wait_idle(page)
        shot(page, "keys_empty")
        main = page.locator("[data-testid='stMain']")
        main.get_by_label("Name", exact=True).fill("Website chatbot")
        main.get_by_label("Owner").fill("ana@example.com")
        main.get_by_label("Allowed IP addresses and networks (one per line; CIDR allowed)").fill(
            "203.0.113.0/24"
        )
        main.get_by_label("Allowed web origins (hosts; *.example.com for subdomains)").fill(
            "*.example.com"
        )
        main.get_by_role("button", name="Create the key").click()
        page.wait_for_selector("text=copy the secret now", timeout=60000)
        wait_idle(page)
        code = main.locator("[data-testid='stCode']").first
        secret = code.inner_text().strip()
        assert re.fullmatch(r"tb-[A-Za-z0-9_\-]{43}", secret), secret
        # a copy button next to it
        code.hover()
        assert code.locator("button").count() >= 1
        shot(page, "keys_created_secret")
        # the app published it to the gateway's snapshot (the database is the app's now)
        snapshot = tmp_path / "tokenboard-keys.json"
        found = read_snapshot(snapshot).find(secret)
        assert found is not None and found.name == "Website chatbot" and found.status == "active"
        assert secret not in snapshot.read_text(encoding="utf-8")
        # reloaded: the key is listed, its secret is nowhere on the page or in its source
        page.reload()
        page.wait_for_selector("text=Revoke, rotate or restrict a key", timeout=60000)
        wait_idle(page)
        assert secret not in page.content() and secret not in main.inner_text()
        assert main.locator("[data-testid='stCode']").count() == 0
        shot(page, "keys_listed")
        main.locator("[data-testid='stSelectbox']").first.click()
        page.get_by_role("option", name=re.compile("Website chatbot")).click()
        wait_idle(page)
        # rotate it: a confirmation, then the new secret once, the confirmation gone
        main.get_by_role("button", name="Rotate…").click()
        page.wait_for_selector("text=The old one keeps working for 24 h", timeout=60000)
        wait_idle(page)
        main.get_by_role("button", name="Yes, rotate").click()
        page.wait_for_selector("text=copy the secret now", timeout=60000)
        wait_idle(page)
        rotated = main.locator("[data-testid='stCode']").first.inner_text().strip()
        assert rotated != secret and rotated.startswith("tb-")
        assert main.get_by_text("The old one keeps working").count() == 0
        shot(page, "keys_rotated_secret")
        found_rotated = read_snapshot(snapshot).find(rotated)
        assert found_rotated is not None and found_rotated.key_id == found.key_id
        # revoke it: a confirmation first
        main.get_by_role("button", name="Revoke…").click()
        page.wait_for_selector("text=This cannot be undone", timeout=60000)
        wait_idle(page)
        shot(page, "keys_revoke_confirm")
        assert read_snapshot(snapshot).get(found.key_id).status == "active"  # type: ignore[union-attr]
        main.get_by_role("button", name="Yes, revoke").click()
        page.wait_for_selector("text=revoked.", timeout=60000)
        wait_idle(page)
        shot(page, "keys_revoked")
        assert read_snapshot(snapshot).get(found.key_id).status == "revoked"  # type: ignore[union-attr]
        # the audit log has both actions
        page.goto(f"{base}/API_keys?tab=audit")
        page.wait_for_selector("[data-testid='stDataFrame']", timeout=60000)
        wait_idle(page)
        shot(page, "keys_audit")
        assert secret not in page.content()
        assert page.locator("[data-testid='stException']").count() == 0
        # the same in French: a key for a server-side app (any address, any origin)
        page.goto(f"{base}/API_keys?lang=fr")
        page.get_by_role("heading", name="Clés d'API").first.wait_for(timeout=60000)
        wait_idle(page)
        main.get_by_text("Créer une clé", exact=True).click()  # the form folds once keys exist
        main.get_by_label("Nom", exact=True).fill("Serveur interne")
        main.get_by_text("Autoriser toutes les adresses IP").click()
        main.get_by_text("Autoriser toutes les origines (applications côté serveur)").click()
        main.get_by_role("button", name="Créer la clé").click()
        page.wait_for_selector("text=copiez le secret maintenant", timeout=60000)
        wait_idle(page)
        french = main.locator("[data-testid='stCode']").first.inner_text().strip()
        assert french.startswith("tb-") and french != secret
        assert read_snapshot(snapshot).find(french) is not None
        shot(page, "keys_created_fr")
        assert page.locator("[data-testid='stException']").count() == 0
        context.close()
