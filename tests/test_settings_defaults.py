"""Reporting defaults (lib.settings) on a real DuckDB file and in AppTest: each refusal, the
audit of every change (never a channel's secret), and the defaults acting: the filters' zone
when the link names none, the login form's language and that of users who chose none, the
first day of the weeks of the budget alerts and of the weekly summary. The tab as admin and
as analyst (read-only: no form, and lib refuses a crafted call), in English and French."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from lib.alerts import evaluate, incidents, rules
from lib.alerts.measure import calendar
from lib.alerts.weekly import due, last_complete_week, set_choice
from lib.auth.roles import PermissionDeniedError
from lib.filters import Filters
from lib.settings import (
    ReportingDefaults,
    SettingsError,
    reporting_defaults,
    set_monthly_budget,
    set_reporting_defaults,
    settings_version,
)
from lib.store import Store
from lib.store.audit import entries
from lib.worker import channels
from tests.conftest import PASSWORDS, app_test, shown
from tests.test_alerts import load, req

NOW = datetime(2026, 5, 5, 9, tzinfo=UTC)  # a Tuesday


def version(store: Store) -> str:
    with store.read() as cur:
        return settings_version(cur)


def paris(store: Store, **kw: str | None) -> ReportingDefaults:
    args = {"time_zone": "Europe/Paris", "language": "fr", "week_start": "sunday", **kw}
    return set_reporting_defaults(store, "admin", actor="ada", from_ip="10.0.0.9", now=NOW, **args)  # type: ignore[arg-type]


# -- lib ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": "localtime"}, "time_zone"),  # Python knows it, DuckDB does not
        ({"time_zone": ""}, "time_zone"),
        ({"language": "de"}, "language"),
        ({"week_start": "friday"}, "week_start"),
        ({"week_start": ""}, "week_start"),
    ],
)
def test_each_refusal_names_its_field_and_writes_nothing(store, changes, field):
    before = version(store)
    with pytest.raises(SettingsError) as err:
        paris(store, **changes)
    assert err.value.field == field
    assert version(store) == before and entries(store) == []


def test_defaults_are_saved_audited_and_move_the_settings_version(store):
    assert reporting_defaults(store) == ReportingDefaults("UTC", None, "monday")
    v0 = version(store)
    saved = paris(store)
    assert saved == ReportingDefaults("Europe/Paris", "fr", "sunday") == reporting_defaults(store)
    assert saved.first_weekday == 6 and version(store) != v0
    log = entries(store, actions=("settings_changed",))
    assert {(e.subject, e.detail["before"], e.detail["after"]) for e in log} == {
        ("report_time_zone", None, "Europe/Paris"), ("report_language", None, "fr"),
        ("report_week_start", None, "sunday")}  # fmt: skip
    assert {(e.actor, e.from_ip) for e in log} == {("ada", "10.0.0.9")}
    paris(store)  # the same values again: nothing written, nothing audited
    assert len(entries(store, actions=("settings_changed",))) == 3
    set_reporting_defaults(
        store, "admin", time_zone="UTC", language=None, week_start="monday", actor="ada"
    )
    assert reporting_defaults(store) == ReportingDefaults() and version(store) == v0
    assert len(entries(store, actions=("settings_changed",))) == 6


def test_analysts_and_viewers_change_nothing_even_by_a_crafted_call(store):
    for role in ("analyst", "viewer", None):
        with pytest.raises(PermissionDeniedError):
            set_reporting_defaults(
                store, role, time_zone="Europe/Paris", language="fr", week_start="sunday"
            )
        with pytest.raises(PermissionDeniedError):
            set_monthly_budget(store, Decimal("100"), role)
    assert reporting_defaults(store) == ReportingDefaults() and entries(store) == []


def test_the_budget_and_a_channel_are_audited_without_the_channels_secret(store):
    set_monthly_budget(store, Decimal("500"), "admin", actor="ada", from_ip="10.0.0.9")
    url = "https://hooks.slack.com/services/T0/B0/SecretTokenXYZ"
    channels.save(store, "admin", "ops", "slack", {"url": url})
    log = entries(store, actions=("settings_changed",))
    assert [(e.subject, e.detail) for e in log] == [
        (channels.PREFIX + "ops", {"set": True}),  # set, never the URL
        ("org_monthly_budget_usd", {"before": None, "after": "500"}),
    ]
    assert "SecretTokenXYZ" not in str([e.detail for e in log])


# -- the defaults act ---------------------------------------------------------------------------
def test_the_filters_zone_when_the_link_names_none():
    f = Filters.from_query(
        {"period": "custom", "from": "2026-05-04", "to": "2026-05-04"}, "Europe/Paris"
    )
    assert f.tz == "Europe/Paris"
    # May 4 in Paris (UTC+2 in summer): 2026-05-03 22:00 → 2026-05-04 22:00 UTC
    assert f.window(NOW) == (
        datetime(2026, 5, 3, 22, tzinfo=UTC),
        datetime(2026, 5, 4, 22, tzinfo=UTC),
    )
    assert "tz" not in f.to_query()  # the default is not written into links
    utc = f.with_(tz="UTC")
    assert utc.to_query()["tz"] == "UTC"  # a user's explicit UTC survives the default
    assert Filters.from_query(utc.to_query(), "Europe/Paris").tz == "UTC"
    assert Filters.from_query({"tz": "Mars/Olympus"}, "Europe/Paris").tz == "Europe/Paris"
    assert Filters.from_query({}).tz == "UTC"  # no default set: UTC as before


def test_the_week_starts_on_the_chosen_day():
    tuesday = datetime(2026, 5, 5, 9, tzinfo=UTC)
    # Monday: the week under way began Monday May 4; Sunday: it began Sunday May 3
    assert calendar("week", "UTC", tuesday)[0].date() == date(2026, 5, 4)
    assert calendar("week", "UTC", tuesday, 6)[0].date() == date(2026, 5, 3)
    assert calendar("week", "UTC", datetime(2026, 5, 3, 9, tzinfo=UTC), 6)[0].date() == date(
        2026, 5, 3
    )
    assert last_complete_week(tuesday) == date(2026, 4, 27)  # Monday Apr 27 – Sunday May 3
    assert last_complete_week(tuesday, 6) == date(2026, 4, 26)  # Sunday Apr 26 – Saturday May 2


def test_weekly_budget_and_summary_follow_the_week_start(store, tmp_path: Path):
    # $1.00 on Sunday May 3 and $2.00 on Monday May 4 (stated costs)
    load(store, tmp_path, "week", [req(datetime(2026, 5, 3, 10, tzinfo=UTC), cost_usd="1.00"),
                                   req(datetime(2026, 5, 4, 10, tzinfo=UTC), cost_usd="2.00")])  # fmt: skip
    rules.create(store, "admin", kind="budget", window="week", threshold="2.5", name="Weekly")
    evaluate(store, NOW)
    [inc] = incidents.list_incidents(store)
    assert (inc.value, inc.level) == (Decimal("2"), 80)  # from Monday: $2.00 of $2.50 = 80 %
    paris(store, time_zone="UTC")  # weeks from Sunday
    evaluate(store, NOW)
    [inc] = incidents.list_incidents(store)
    # from Sunday: $1.00 + $2.00 = $3.00 of $2.50 = 120 %: level 100
    assert (inc.value, inc.level) == (Decimal("3"), 100)
    set_choice(store, "ada", "ops")
    assert [d.week_start for d in due(store, NOW)] == [date(2026, 4, 26)]  # a Sunday


# -- AppTests -----------------------------------------------------------------------------------
def sign_in(at, user: str):
    at.run()
    at.text_input[0].input(user)
    at.text_input[1].input(PASSWORDS[user])
    at.button[0].click()
    return at.run()


def open_defaults(user: str, **params: str):
    at = app_test("pages/8_Settings.py")
    at.session_state["tb_now"] = NOW.isoformat()
    at.query_params.update({"tab": "defaults", **params})
    return sign_in(at, user)


def test_admin_saves_the_defaults_and_they_act(app_env):
    at = open_defaults("ada")
    assert not at.exception, at.exception
    at.selectbox(key="defaults_tz").set_value("Europe/Paris")
    at.selectbox(key="defaults_lang").set_value("fr")
    at.radio(key="defaults_week").set_value("sunday")
    at = next(b for b in at.button if b.label == "Save the defaults").click().run()
    assert not at.exception, at.exception
    with Store(app_env) as s:
        assert reporting_defaults(s) == ReportingDefaults("Europe/Paris", "fr", "sunday")
        assert len(entries(s, actions=("settings_changed",))) == 3
    # the login form is now French for a visitor with no language of their own
    login_form = app_test()
    login_form.run()
    assert [t.label for t in login_form.text_input] == ["Nom d'utilisateur", "Mot de passe"]
    # a user who chose none reads the pages in French; the filters cut days in Paris
    usage = app_test("pages/1_Usage.py")
    usage = sign_in(usage, "vic")
    assert not usage.exception, usage.exception
    assert usage.selectbox(key="f_tz").value == "Europe/Paris"
    assert usage.title[0].value == "Utilisation"  # vic chose no language: the default, French
    assert "tz" not in usage.query_params
    # ?lang=en still wins
    english = app_test("pages/1_Usage.py")
    english.query_params["lang"] = "en"
    english = sign_in(english, "vic")
    assert any(t.label == "Reporting time zone" for t in english.selectbox)


def test_an_analyst_reads_the_defaults_without_a_form(app_env):
    with Store(app_env) as s:
        paris(s)
    at = open_defaults("ana", lang="en")
    assert not at.exception, at.exception
    assert not [w for w in at.selectbox if (w.key or "").startswith("defaults")]
    assert not [b for b in at.button if b.label == "Save the defaults"]
    text = shown(" ".join(m.value for m in at.markdown))
    assert "**Time zone:** Europe/Paris" in text and "Français" in text and "Sunday" in text


def test_the_tab_in_french(app_env):
    at = open_defaults("ada", lang="fr")
    assert not at.exception, at.exception
    assert "Premier jour de la semaine" in {r.label for r in at.radio}
    assert "Enregistrer les réglages par défaut" in {b.label for b in at.button}
    at = open_defaults("ana", lang="fr")
    assert any("Les administrateurs modifient les réglages par défaut des rapports." in c.value
               for c in at.caption)  # fmt: skip


def test_an_incidents_link_keeps_its_utc_days_under_another_default_zone(app_env, tmp_path):
    from tests.test_alerts_page import NOON, setup_data

    setup_data(app_env, tmp_path)  # a daily budget incident of May 4 (UTC)
    with Store(app_env) as s:
        paris(s, language=None)
    at = app_test("pages/4_Alerts.py")
    at.session_state["tb_now"] = NOON.isoformat()
    at = sign_in(at, "ana")
    link = next(p for p in at.get("page_link") if p.proto.label == "Show the cause")
    assert "tz=UTC" in str(link.proto)


def test_a_notifications_link_names_its_utc_zone(app_env, tmp_path):
    from lib.alerts.model import AlertNotice
    from lib.worker.notifier import notification
    from tests.test_alerts_page import NOON, setup_data

    setup_data(app_env, tmp_path)
    with Store(app_env) as s:
        [inc] = incidents.list_incidents(s)
        [rule] = rules.list_rules(s)
    n = notification(AlertNotice(inc, rule, "opened", NOON), "https://tb.example")
    assert n.link == "https://tb.example/Costs?period=custom&from=2026-05-04&to=2026-05-04&tz=UTC"
