"""The Alerts page and the Overview's alerts section, in AppTest over a real DuckDB file with
a hand-made request log: incidents with their value against the threshold, acknowledge and
snooze change the state, a viewer changes nothing, the rules editor adds and changes a rule,
a channel saved is shown masked, and the Overview shows open alerts, the prepaid credit with
its runway and the service notices the worker read from a local status page."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.alerts import evaluate, incidents, rules
from lib.alerts.credits import add_grant
from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_file
from lib.store import Store
from lib.worker import channels, start_worker, stop_all, worker_for
from tests.alert_servers import StatusPage
from tests.conftest import app_test, login, shown

PAGE = "pages/4_Alerts.py"
MAY4 = datetime(2026, 5, 4, tzinfo=UTC)
NOON = MAY4 + timedelta(hours=12)
SECRET_URL = "https://hooks.slack.com/services/T0AAA/B0BBB/VerySecretToken9z8Y"


def setup_data(db: str, tmp_path: Path) -> int:
    """Six requests of $1.00 on May 4 (openai gpt-4o, project alpha) and a daily budget of
    $10 evaluated at noon: $6.00 = 60 % → one open incident at level 50. Returns its id."""
    rows = [{"request_id": f"r{i}", "timestamp": (MAY4 + timedelta(hours=9, minutes=i)).isoformat(),
             "provider": "openai", "model": "gpt-4o", "project": "alpha", "api_key": "k1",
             "user": "u1", "status": "success", "http_status": 200, "latency_ms": 100,
             "prompt_tokens": 10, "completion_tokens": 1, "cost_usd": "1.00"} for i in range(6)]  # fmt: skip
    path = tmp_path / "log.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    with Store(db) as s:
        import_file(s, str(path))
        rules.create(s, "admin", kind="budget", window="day", threshold="10", name="Daily budget")
        assert evaluate(s, NOON).opened == 1
        return incidents.list_incidents(s)[0].incident_id


def open_page(user: str, **params: str):
    at = app_test(PAGE)
    at.session_state["tb_now"] = NOON.isoformat()
    at.query_params.update(params)
    return login(at, user)


def texts(at) -> str:
    return " ".join(str(m.value) for kind in (at.markdown, at.caption, at.success, at.info, at.error)
                    for m in kind)  # fmt: skip


def click(at, label: str):
    next(b for b in at.button if b.label == label).click()
    return at.run()


def test_incidents_with_values_and_acknowledge_changes_the_state(app_env, tmp_path):
    incident_id = setup_data(app_env, tmp_path)
    at = open_page("ana")
    assert not at.exception, at.exception
    said = texts(at)
    # $6.00 spent of the $10.00 daily budget: level 50 reached, since noon
    assert "Daily budget" in said and "**$6.00** against a threshold of $10.00" in said
    assert "level 50 % reached" in said and "Since" in said
    link = next(p for p in at.get("page_link") if p.proto.label == "Show the cause")
    assert link.proto.page.endswith("Costs") or "Costs" in str(link.proto)
    at = click(at, "Acknowledge")
    assert not at.exception, at.exception
    assert f"Incident #{incident_id} acknowledged" in at.success[0].value
    with Store(app_env) as s:
        inc = incidents.get(s, incident_id)
    assert inc is not None and (inc.state, inc.acknowledged_by) == ("acknowledged", "ana")
    assert "No open alerts" in texts(at)  # the open view is empty now
    # the acknowledged view shows it, with who acknowledged it; snooze it for a day
    at = open_page("ana", show="acknowledged")
    assert "acknowledged by ana" in texts(at)
    at = click(at, "1 day")
    with Store(app_env) as s:
        inc = incidents.get(s, incident_id)
    assert inc is not None and inc.state == "snoozed"
    assert inc.snoozed_until == NOON + timedelta(days=1)
    at = open_page("ana", show="acknowledged")
    at = click(at, "Resolve")
    with Store(app_env) as s:
        assert incidents.get(s, incident_id).state == "resolved"  # type: ignore[union-attr]
    at = open_page("ana", show="resolved")
    assert "resolved by ana" in texts(at)


def test_a_viewer_sees_incidents_and_changes_nothing(app_env, tmp_path):
    incident_id = setup_data(app_env, tmp_path)
    at = open_page("vic")
    assert not at.exception and "$6.00" in texts(at)
    labels = {b.label for b in at.button}
    assert not labels & {"Acknowledge", "Resolve", "1 hour", "1 day", "1 week"}
    assert "Admins and analysts can acknowledge" in texts(at)
    at = open_page("vic", tab="rules")
    assert "Daily budget" in at.dataframe[0].value["Name"].tolist()
    assert not any(b.label in ("Add the rule", "Save changes") for b in at.button)
    at = open_page("vic", tab="channels")
    assert not any(b.label in ("Save the channel", "Send a test") for b in at.button)
    # and lib refuses what a crafted request would ask
    with Store(app_env) as s:
        with pytest.raises(PermissionDeniedError):
            incidents.acknowledge(s, "viewer", incident_id, "vic")
        with pytest.raises(PermissionDeniedError):
            rules.create(s, "viewer", kind="error_rate")
        with pytest.raises(PermissionDeniedError):
            channels.save(s, "viewer", "x", "slack", {"url": SECRET_URL})


def test_the_rules_editor_adds_and_changes_a_rule(app_env, tmp_path):
    setup_data(app_env, tmp_path)
    at = open_page("ada", tab="rules")
    assert not at.exception, at.exception
    at.selectbox(key="rule_new_kind").select("error_rate").run()
    at.selectbox(key="rule_new_subject_kind").select("model").run()
    at.text_input(key="rule_new_subject").input("gpt-4o")
    at.selectbox(key="rule_new_window").select("hour")
    at.text_input(key="rule_new_threshold").input("7.5")
    at.number_input(key="rule_new_min").set_value(20)
    at.text_input(key="rule_new_name").input("Errors on gpt-4o")
    at = click(at, "Add the rule")
    assert not at.exception, at.exception
    assert "Rule “Errors on gpt-4o” added." in shown(at.success[0].value)
    with Store(app_env) as s:
        made = rules.list_rules(s)[-1]
    assert (made.kind, made.subject_kind, made.subject, made.window) == (
        "error_rate",
        "model",
        "gpt-4o",
        "hour",
    )
    assert (made.threshold, made.levels, made.min_volume, made.cooldown_s) == (
        Decimal("7.5"),
        (100,),
        20,
        86400,
    )
    table = at.dataframe[0].value
    assert table["Threshold"].tolist() == ["$10.00", "7.5%"]
    assert table["Watches"].tolist() == ["Organisation", "Model gpt-4o"]  # plain text, no escapes
    assert table["Levels"].tolist() == ["50%, 80%, 100%", "100%"]
    # change it: disabled, threshold 10 %
    at.selectbox(key="rule_pick").select(made.rule_id).run()
    k = f"rule_{made.rule_id}"
    at.text_input(key=f"{k}_threshold").input("10")
    at.checkbox(key=f"{k}_enabled").uncheck()
    at = click(at, "Save changes")
    assert not at.exception, at.exception
    with Store(app_env) as s:
        changed = rules.get(s, made.rule_id)
    assert changed is not None and (changed.threshold, changed.enabled) == (Decimal(10), False)
    # a budget without an amount is refused with words, not a traceback
    at = open_page("ada", tab="rules")
    at = click(at, "Add the rule")
    assert "a budget needs an amount in USD" in at.error[0].value


def test_a_channel_saved_is_shown_masked(app_env, tmp_path):
    setup_data(app_env, tmp_path)
    at = open_page("ada", tab="channels")
    assert "No channels yet" in texts(at)
    at.text_input(key="channel_name").input("ops")
    next(t for t in at.text_input if t.label == "Webhook URL").input(SECRET_URL)
    at = next(b for b in at.button if b.label == "Save the channel").click().run()
    assert not at.exception, at.exception
    assert "Channel ops saved" in shown(at.success[0].value)
    assert at.dataframe[0].value["Sends to"].tolist() == ["https://hooks.slack.com/…9z8Y"]
    assert "VerySecretToken" not in str(at)  # nowhere on the page, not in a widget either
    with Store(app_env) as s:
        assert channels.names(s) == ["ops"]
    # the analyst sees it masked and cannot add one
    at = open_page("ana", tab="channels")
    assert "VerySecretToken" not in str(at)
    assert not any(b.label == "Save the channel" for b in at.button)


def test_the_delivery_log_and_its_empty_state(app_env, tmp_path):
    setup_data(app_env, tmp_path)
    at = open_page("ana", tab="log")
    assert "Nothing sent yet" in texts(at)


def test_the_overview_shows_open_alerts_credit_and_service_notices(app_env, tmp_path, monkeypatch):
    setup_data(app_env, tmp_path)
    with Store(app_env) as s:
        # $50 granted on May 1: $6.00 spent since → $44.00 left; burn $6.00 / 7 days a day
        add_grant(s, "admin", provider="openai", amount_usd="50", granted_on=date(2026, 5, 1))
    with StatusPage() as status:
        monkeypatch.setenv("TOKENBOARD_WORKER", "1")
        monkeypatch.setenv("TOKENBOARD_STATUS_PAGES", ",".join(status.urls))
        monkeypatch.setenv("TOKENBOARD_WORKER_MINUTES", "60")
        held = Store(app_env)  # the worker's store: the page finds this worker running
        try:
            # the worker on the page's clock (its first round would resolve May 4's incident)
            start_worker(held, clock=lambda: NOON, pull=None)
            at = app_test("app.py")
            at.session_state["tb_now"] = NOON.isoformat()
            at = login(at, "ana")
            w = worker_for(app_env)
            assert w is not None
            deadline = time.monotonic() + 20
            while w.notices is None and time.monotonic() < deadline:
                time.sleep(0.1)
            at.run()
        finally:
            stop_all()
            held.close()
    assert not at.exception, at.exception
    said = texts(at)
    assert "**1 open alert**" in said and "$6.00 against $10.00 (50 %)" in said
    credit = next(m for m in at.metric if m.label == "OpenAI credit left")
    assert credit.value == "$44.00"
    # runway: 44.00 / (6.00 / 7) = 51.33… → "about 51 days"
    assert credit.delta == "about 51 days left at the current burn rate"
    notices = " ".join(w.value for w in at.warning)
    assert "Elevated error rates on Chat Completions and Responses" in notices
    assert "Chat Completions, Responses" in notices


@pytest.mark.parametrize(
    "hostile", ["<script>alert(1)</script>", "**bold** [x](http://phish)", "-5"]
)
def test_hostile_tab_and_show_values_fall_back_to_the_defaults(app_env, tmp_path, hostile):
    setup_data(app_env, tmp_path)
    at = open_page("vic", tab=hostile, show=hostile)
    assert not at.exception, at.exception
    assert "$6.00" in texts(at)  # the open incidents: the default tab and view
    assert hostile not in texts(at)
    assert at.query_params.get("tab") in (None, []) and at.query_params.get("show") in (None, [])


def test_prepaid_credit_grants_are_added_by_admins(app_env, tmp_path):
    setup_data(app_env, tmp_path)
    at = open_page("ada", tab="rules")
    form = [t for t in at.text_input if t.label in ("Provider", "Amount (USD)")][
        :2
    ]  # the grant form, first
    assert [t.label for t in form] == ["Provider", "Amount (USD)"]
    form[0].input("OpenAI")
    form[1].input("abc")
    at = click(at, "Add the grant")
    assert "positive amount in USD" in at.error[0].value  # refused in words
    form = [t for t in at.text_input if t.label in ("Provider", "Amount (USD)")][
        :2
    ]  # the grant form, first
    form[0].input("OpenAI")
    form[1].input("50")
    at = click(at, "Add the grant")
    assert not at.exception, at.exception
    assert "Grant of $50.00 for openai added." in shown(at.success[0].value)
    assert at.dataframe[1].value["Provider"].tolist() == ["openai"]
    # an analyst sees the grants, adds none
    at = open_page("ana", tab="rules")
    assert not any(b.label == "Add the grant" for b in at.button)


def test_evaluate_now_and_the_worker_being_off(app_env, tmp_path):
    incident_id = setup_data(app_env, tmp_path)
    with Store(app_env) as s:
        incidents.resolve(s, "admin", incident_id, "ada")
    at = open_page("ana")
    assert "background worker is off" in texts(at)
    at = click(at, "Evaluate now")  # at the page clock, noon: $6.00 of $10 opens a new incident
    assert not at.exception, at.exception
    assert "1 opened, 0 resolved, 1 open" in at.success[0].value
    assert "$6.00" in texts(at)


def test_rate_limits_are_entered_by_admins_and_listed(app_env, tmp_path):
    setup_data(app_env, tmp_path)
    at = open_page("ada", tab="rules")
    typed = {t.label: t for t in at.text_input if t.key in ("limit_provider", "limit_model")}
    typed["Provider"].input("openai")
    typed["Model"].input("gpt-4o")
    at.number_input(key="limit_rpm").set_value(500)
    at = click(at, "Save the limit")
    assert not at.exception, at.exception
    assert "Limit of gpt-4o saved." in shown(at.success[0].value)
    with Store(app_env) as s:
        assert s.query("SELECT provider, model, rpm, tpm, source FROM rate_limits") == [
            ("openai", "gpt-4o", 500, None, "entered")
        ]
    # an analyst sees the limits, enters none
    at = open_page("ana", tab="rules")
    assert not any(b.label == "Save the limit" for b in at.button)
