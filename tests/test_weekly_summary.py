"""The weekly summary: its figures from a hand-made request log (stated costs, so the spend is
their sum), the users' choice of channel, and sending what is due over a loopback webhook:
once per user and week, again at the next round when the channel was down."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from lib.alerts import evaluate, rules
from lib.alerts.weekly import MY_EMAIL, choice, due, last_complete_week, set_choice, weekly_figures
from lib.store import Store
from lib.worker import channels
from lib.worker.weekly import send_due
from tests.alert_servers import Receiver
from tests.test_alerts import load, req

WEEK = date(2026, 11, 23)  # a Monday; the week before starts Nov 16
TUESDAY = datetime(2026, 12, 1, 9, tzinfo=UTC)  # the last complete week is Nov 23-29


def _log(store: Store, tmp_path: Path) -> None:
    # week before: gpt-4o $4 + $6 (project alpha) = $10
    # this week: gpt-4o $12 (alpha), gpt-4o-mini $1 + $2 (beta) = $15: +50 %
    load(store, tmp_path, "weeks", [
        req(datetime(2026, 11, 17, 10, tzinfo=UTC), model="gpt-4o", cost_usd="4.00"),
        req(datetime(2026, 11, 20, 10, tzinfo=UTC), model="gpt-4o", cost_usd="6.00"),
        req(datetime(2026, 11, 24, 10, tzinfo=UTC), model="gpt-4o", cost_usd="12.00"),
        req(datetime(2026, 11, 25, 10, tzinfo=UTC), model="gpt-4o-mini", project="beta", cost_usd="1.00"),
        req(datetime(2026, 11, 29, 23, tzinfo=UTC), model="gpt-4o-mini", project="beta", cost_usd="2.00"),
        req(datetime(2026, 11, 30, 1, tzinfo=UTC), model="gpt-4o", cost_usd="100.00"),  # next week: left out
    ])  # fmt: skip


def test_the_last_complete_week():
    assert last_complete_week(TUESDAY) == WEEK
    assert last_complete_week(datetime(2026, 11, 30, 0, 0, tzinfo=UTC)) == WEEK  # Monday 00:00
    assert last_complete_week(datetime(2026, 11, 29, 23, 59, tzinfo=UTC)) == date(2026, 11, 16)


def test_the_figures_of_a_week(store: Store, tmp_path: Path):
    _log(store, tmp_path)
    f = weekly_figures(store, WEEK)
    assert (f.start, f.end, f.spend, f.previous) == (
        WEEK,
        date(2026, 11, 29),
        Decimal("15"),
        Decimal("10"),
    )
    moved = {m.name: (m.spend, m.previous) for m in f.movers}
    assert moved["model gpt-4o"] == (Decimal("12"), Decimal("10"))
    assert moved["model gpt-4o-mini"] == (Decimal("3"), Decimal("0"))
    assert moved["project beta"] == (Decimal("3"), Decimal("0"))
    assert moved["project alpha"] == (Decimal("12"), Decimal("10"))
    assert f.open_alerts_count == 0
    # a budget of $10 a week on the organisation, over at $15: one open alert listed
    rules.create(store, "admin", kind="budget", window="week", threshold=10, name="Weekly budget")
    evaluate(store, datetime(2026, 11, 29, 23, 30, tzinfo=UTC))
    f = weekly_figures(store, WEEK)
    assert f.open_alerts_count == 1 and f.open_alerts[0].title == "Weekly budget"


def test_due_summaries_are_sent_once_per_week(store: Store, tmp_path: Path):
    _log(store, tmp_path)
    with Receiver() as hook:
        channels.save(store, "admin", "team-slack", "slack", {"url": f"{hook.url}/hook"})
        assert choice(store, "ana") is None
        set_choice(store, "ana", "team-slack")
        set_choice(store, "vic", "gone")  # a channel deleted since: skipped, never fatal
        assert [(d.username, d.channel, d.week_start) for d in due(store, TUESDAY)] == [
            ("ana", "team-slack", WEEK), ("vic", "gone", WEEK)]  # fmt: skip
        sent = send_due(store, TUESDAY)
        assert [(u, d is not None and d.ok) for u, d in sent] == [("ana", True), ("vic", False)]
        (post,) = hook.wait_for(1)
        text = str(post[2])
        assert "$15.00" in text and "+50.0%" in text and "$10.00" in text
        # the next rounds of the same week send nothing more to ana; the week after, again
        assert [u for u, _d in send_due(store, TUESDAY + timedelta(hours=5))] == ["vic"]
        assert len(hook.posts) == 1
        assert [d.username for d in due(store, TUESDAY + timedelta(days=7))] == ["ana", "vic"]
        set_choice(store, "ana", None)
        assert [d.username for d in due(store, TUESDAY + timedelta(days=7))] == ["vic"]


def test_a_channel_that_is_down_is_tried_again(store: Store, tmp_path: Path):
    _log(store, tmp_path)
    channels.save(
        store, "admin", "down", "slack", {"url": "http://127.0.0.1:9/hook"}
    )  # discard port
    set_choice(store, "ana", "down")
    (first,) = send_due(store, TUESDAY, total_s=1.0)
    assert first[1] is not None and not first[1].ok
    assert [d.username for d in due(store, TUESDAY + timedelta(minutes=5))] == [
        "ana"
    ]  # not marked sent


def test_a_shared_channel_gets_one_summary_and_my_email_goes_to_me(store: Store, tmp_path: Path):
    from tests.test_notify_delivery import smtp_server

    _log(store, tmp_path)
    with Receiver() as hook, smtp_server(auth=False) as (port, box):
        channels.save(store, "admin", "team-slack", "slack", {"url": f"{hook.url}/hook"})
        for user in ("ana", "ada"):  # two users, one channel: one post
            set_choice(store, user, "team-slack")
        set_choice(store, "vic", MY_EMAIL)
        secrets = {"smtp": {"host": "127.0.0.1", "port": port, "from": "alerts@example.com",
                            "security": "none"}}  # fmt: skip
        sent = send_due(store, TUESDAY, emails={"vic": "vic@example.com"}, secrets=secrets)
        assert sorted((u, d is not None and d.ok) for u, d in sent) == [
            ("ada", True), ("ana", True), ("vic", True)]  # fmt: skip
        assert len(hook.wait_for(1)) == 1
        (mail,) = box.messages
        assert (
            mail["to"] == ["vic@example.com"]
            and "$15.00" in mail["message"].get_body().get_content()
        )
        assert due(store, TUESDAY + timedelta(hours=1)) == []
