"""The Settings page's Budgets and credits tab in AppTest over a real DuckDB file: an admin
sets the monthly budget (audited), adds a credit grant, a rate limit and a channel (shown
masked), with the same sections the Alerts page draws; an analyst reads them with no form, and
lib refuses a crafted call; French."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from lib.alerts.credits import add_grant, grants
from lib.alerts.limits import limits, set_limit
from lib.auth.roles import PermissionDeniedError
from lib.settings import monthly_budget
from lib.store import Store
from lib.store.audit import entries
from lib.worker import channels
from tests.conftest import PASSWORDS, app_test, shown

NOW = datetime(2026, 5, 4, 12, tzinfo=UTC)
SECRET_URL = "https://hooks.slack.com/services/T0AAA/B0BBB/VerySecretToken9z8Y"
FORMS = ("Save budget", "Add the grant", "Save the limit", "Save the channel", "Send a test")


def sign_in(at, user: str):
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORDS[user])
    at.button[0].click()
    return at.run()


def open_budgets(user: str, **params: str):
    at = app_test("pages/8_Settings.py")
    at.session_state["tb_now"] = NOW.isoformat()
    at.query_params.update({"tab": "budgets", **params})
    return sign_in(at, user)


def click(at, label: str):
    return next(b for b in at.button if b.label == label).click().run()


def test_admin_sets_budget_grant_limit_and_channel(app_env):
    at = open_budgets("ada")
    assert not at.exception, at.exception
    assert "**Monthly budget:** none set" in [m.value for m in at.markdown]
    at.text_input(key="budget_usd").input("1,500")
    at = click(at, "Save budget")
    assert not at.exception, at.exception
    assert at.success[0].value == "Monthly budget saved."
    assert "**Monthly budget:** $1,500.00" in [m.value for m in at.markdown]
    grant = [t for t in at.text_input if t.label in ("Provider", "Amount (USD)")][:2]
    grant[0].input("openai")
    grant[1].input("50")
    at = click(at, "Add the grant")
    assert "Grant of $50.00 for openai added." in shown(at.success[0].value)
    at.text_input(key="limit_provider").input("openai")
    at.text_input(key="limit_model").input("gpt-4o")
    at.number_input(key="limit_rpm").set_value(500)
    at = click(at, "Save the limit")
    assert "Limit of gpt-4o saved." in shown(at.success[0].value)
    at.text_input(key="channel_name").input("ops")
    next(t for t in at.text_input if t.label == "Webhook URL").input(SECRET_URL)
    at = click(at, "Save the channel")
    assert not at.exception, at.exception
    assert "Channel ops saved" in shown(at.success[0].value)
    assert "VerySecretToken9z8Y" not in str(at.dataframe[-1].value)
    with Store(app_env) as s:
        assert monthly_budget(s) == Decimal("1500")
        assert [(g.provider, g.amount_usd) for g in grants(s)] == [("openai", Decimal("50"))]
        assert [(x.model, x.rpm, x.tpm) for x in limits(s)] == [("gpt-4o", 500, None)]
        assert channels.names(s) == ["ops"]
        log = entries(s, actions=("settings_changed",))
        assert [(e.actor, e.subject, e.detail) for e in log][-1] == (
            "ada", "org_monthly_budget_usd", {"before": None, "after": "1500"})  # fmt: skip
        assert "VerySecretToken9z8Y" not in str([e.detail for e in log])


def test_an_analyst_reads_without_forms_and_lib_refuses(app_env):
    with Store(app_env) as s:
        add_grant(s, "admin", provider="openai", amount_usd="50", granted_on=date(2026, 5, 1))
        set_limit(s, "admin", "openai", "gpt-4o", 500, None)
        channels.save(s, "admin", "ops", "slack", {"url": SECRET_URL})
    at = open_budgets("ana")
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.label in FORMS]
    assert not [
        t for t in at.text_input if t.key in ("budget_usd", "limit_provider", "channel_name")
    ]
    assert len(at.dataframe) == 3  # grants, limits, channels
    assert any(
        "Admins change budgets, credits, limits and channels." in c.value for c in at.caption
    )
    with Store(app_env) as s:
        for call in (
            lambda: add_grant(
                s, "analyst", provider="openai", amount_usd="9", granted_on=date(2026, 5, 1)
            ),
            lambda: set_limit(s, "analyst", "openai", "gpt-4o", 1, None),
            lambda: channels.save(s, "analyst", "x", "slack", {"url": SECRET_URL}),
            lambda: channels.delete(s, "analyst", "ops"),
        ):
            with pytest.raises(PermissionDeniedError):
                call()
        assert len(grants(s)) == 1 and channels.names(s) == ["ops"]


def test_the_tab_in_french(app_env):
    at = open_budgets("ada", lang="fr")
    assert not at.exception, at.exception
    assert "Canaux de notification" in [h.value for h in at.subheader]
    assert "**Budget mensuel\u00a0:** aucun" in [m.value for m in at.markdown]
    at = open_budgets("ana", lang="fr")
    assert any("Les administrateurs modifient les budgets" in c.value for c in at.caption)
