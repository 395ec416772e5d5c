"""The Alerts page in a real browser over the served app: the app's worker evaluates the rules
at start and notifies the incident to a local webhook server; an admin opens the Alerts page,
sees the incident with its value against the threshold, acknowledges it, adds nothing else,
and the Channels tab's "Send a test" reaches the same local webhook server. Screenshots in
test-artifacts/."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from lib.alerts import rules
from lib.ingest import import_file
from lib.store import Store
from lib.worker import channels
from tests.alert_servers import Receiver, StatusPage
from tests.app_server import VIEWPORT, chromium, serve_app, shot, sign_in, wait_idle
from tests.conftest import PASSWORDS

pytestmark = [pytest.mark.browser, pytest.mark.slow]
HOOK_PATH = "/hooks/alerts/T00000/secret-path-7Q2w"


def test_acknowledge_an_incident_and_the_test_webhook_arrives(tmp_path):
    # 10 requests over the last two hours (relative to now: the worker's clock is the real one),
    # 4 of them errors: an error rate of 4 / 10 = 40 % against a threshold of 5 %
    now = datetime.now(UTC)
    rows = [{"request_id": f"e2e-{i}", "timestamp": (now - timedelta(minutes=120 - 10 * i)).isoformat(),
             "provider": "openai", "model": "gpt-4o", "project": "alpha", "api_key": "k1", "user": "u1",
             "status": "error" if i < 4 else "success", "http_status": 500 if i < 4 else 200,
             "latency_ms": 100, "prompt_tokens": 10, "completion_tokens": 1, "cost_usd": "0.01"}
            for i in range(10)]  # fmt: skip
    log = tmp_path / "requests.jsonl"
    log.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    db = str(tmp_path / "alerts.duckdb")
    with Receiver() as hook, StatusPage() as status:
        with Store(db) as s:
            import_file(s, str(log))
            channels.save(s, "admin", "ops", "slack", {"url": hook.url + HOOK_PATH})
            rules.create(s, "admin", kind="error_rate", window="day", threshold="5",
                         channels=["in_app", "ops"], name="Error rate")  # fmt: skip
        env = {"TOKENBOARD_STATUS_PAGES": ",".join(status.urls)}
        with (
            serve_app(tmp_path, db, log=tmp_path / "server.log", **env) as base,
            chromium() as browser,
        ):
            context = browser.new_context(viewport=VIEWPORT)
            page = context.new_page()
            sign_in(page, base, "ada", PASSWORDS["ada"])  # the first page run starts the worker
            # the worker's first round opened the incident and sent it to the rule's channel
            posts = hook.wait_for(1, timeout=60)
            assert [p[0] for p in posts] == [HOOK_PATH]
            notified = json.dumps(posts[0][2])
            assert "Error rate: whole organisation" in notified and "40.0 %" in notified
            # the Overview shows it at the top, and the status page's incidents
            page.reload()
            page.wait_for_selector("text=1 open alert", timeout=60000)
            wait_idle(page)
            assert (
                page.locator("text=Elevated error rates on Chat Completions and Responses").count()
                == 1
            )
            shot(page, "alerts_overview")

            page.goto(f"{base}/Alerts")
            page.wait_for_selector("text=against a threshold of", timeout=60000)
            wait_idle(page)
            main = page.locator("[data-testid='stMain']")
            text = main.inner_text()
            assert "40.0%" in text and "5.0%" in text and "level 100 % reached" in text
            errors = page.locator("[data-testid='stException']")
            assert errors.count() == 0, errors.first.inner_text()[:2000]
            shot(page, "alerts_incidents")
            # the link to the cause opens the Errors page filtered on the incident's window
            page.get_by_role("link", name="Show the cause").click()
            page.wait_for_selector("h1:has-text('Errors')", timeout=60000)
            page.wait_for_function("() => new URLSearchParams(location.search).get('period') === 'custom'",
                                   timeout=30000)  # fmt: skip
            wait_idle(page)
            assert "/Errors?" in page.url and "period=custom" in page.url, page.url
            page.goto(f"{base}/Alerts")
            page.wait_for_selector("text=against a threshold of", timeout=60000)
            wait_idle(page)

            page.get_by_role("button", name="Acknowledge").click()
            page.wait_for_selector(
                "text=acknowledged: no reminders until it escalates", timeout=60000
            )
            wait_idle(page)
            assert "No open alerts" in main.inner_text()
            page.goto(f"{base}/Alerts?show=acknowledged")
            page.wait_for_selector("text=acknowledged by ada", timeout=60000)
            wait_idle(page)
            shot(page, "alerts_acknowledged")

            page.goto(f"{base}/Alerts?tab=channels")
            page.wait_for_selector("text=Send a test", timeout=60000)
            wait_idle(page)
            assert "secret-path" not in main.inner_text()  # shown masked
            page.get_by_role("button", name="Send a test").click()
            page.wait_for_selector("text=Test sent to", timeout=60000)
            wait_idle(page)
            posts = hook.wait_for(2, timeout=30)
            assert len(posts) == 2 and posts[1][0] == HOOK_PATH
            assert "Test notification from Tokenboard" in json.dumps(posts[1][2])
            shot(page, "alerts_channels")

            page.goto(f"{base}/Alerts?tab=rules")
            page.wait_for_selector("text=Change, disable or delete a rule", timeout=60000)
            wait_idle(page)
            shot(page, "alerts_rules")

            page.goto(f"{base}/Alerts?tab=log")
            page.wait_for_selector("text=Delivery log", timeout=60000)
            wait_idle(page)
            page.wait_for_selector("[data-testid='stDataFrame']", timeout=60000)
            shot(page, "alerts_log")

            # the same in French: the acknowledged incident, resolved with the French button
            page.goto(f"{base}/Alerts?show=acknowledged&lang=fr")
            page.wait_for_selector("text=pris en compte par ada", timeout=60000)
            wait_idle(page)
            assert page.get_by_role("heading", name="Alertes").first.is_visible()
            shot(page, "alerts_acknowledged_fr")
            page.get_by_role("button", name="Résoudre").click()
            page.wait_for_selector("text=résolu. Si l'élément surveillé", timeout=60000)
            wait_idle(page)
            page.goto(f"{base}/Alerts?show=resolved&lang=fr")
            page.wait_for_selector("text=résolu par ada", timeout=60000)
            page.goto(f"{base}/Alerts?tab=rules&lang=fr")
            page.wait_for_selector("text=Limites de débit par modèle", timeout=60000)
            wait_idle(page)
            shot(page, "alerts_rules_fr")
            assert page.locator("[data-testid='stException']").count() == 0
            context.close()
