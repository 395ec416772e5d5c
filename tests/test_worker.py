"""The background worker (lib.worker) with plain pytest: stored channels shown masked and a
test message received over loopback, the notifier sending an incident to its rule's channel
and logging the delivery, rounds that evaluate, poll the status pages and pull, never
overlap, never die of a failing part, and a thread that starts once and stops. The clock and
intervals are parameters; every server is on loopback."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.alerts import incidents, rules
from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_file
from lib.notices import PollResult
from lib.notify import Outbox
from lib.store import Store
from lib.worker import AlertNotifier, ChannelError, Worker, channels, start_worker, stop_all
from lib.worker.loop import PullOutcome
from tests.admin_api_server import OPENAI_KEY, AdminApi
from tests.alert_servers import Receiver, StatusPage

MAY4 = datetime(2026, 5, 4, tzinfo=UTC)
NOON = MAY4 + timedelta(hours=12)
HOOK_PATH = "/services/T0000/B0000/XXXXsecretpath0042"


def spend(store: Store, tmp_path: Path, dollars: list[str], name: str = "a") -> None:
    """One request of each stated cost on May 4 from 09:00, a minute apart (openai gpt-4o)."""
    rows = [{"request_id": f"{name}-{i}", "timestamp": (MAY4 + timedelta(hours=9, minutes=i)).isoformat(),
             "provider": "openai", "model": "gpt-4o", "project": "alpha", "api_key": "k1", "user": "u1",
             "status": "success", "http_status": 200, "latency_ms": 100, "prompt_tokens": 10,
             "completion_tokens": 1, "cost_usd": usd} for i, usd in enumerate(dollars)]  # fmt: skip
    path = tmp_path / f"{name}.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    import_file(store, str(path))


@pytest.fixture
def hook():
    with Receiver() as r:
        yield r


def no_status() -> PollResult:
    return PollResult((), (), (), NOON)


# -- channels -------------------------------------------------------------------------------
def test_a_channel_is_stored_for_admins_and_shown_masked(store: Store, hook: Receiver) -> None:
    url = hook.url + HOOK_PATH
    view = channels.save(store, "admin", "ops", "slack", {"url": url})
    assert view.target == f"{hook.url}/…0042"  # scheme, host and port, the last 4 characters
    assert channels.list_channels(store) == [view]
    assert "secretpath" not in repr(channels.list_channels(store))
    signed = channels.save(store, "admin", "siem", "webhook",
                           {"url": url, "secret": "whsec_abcdefghijkl7777"})  # fmt: skip
    assert signed.target.endswith("(secret ****7777)")
    assert channels.names(store) == ["ops", "siem"]
    for role in ("analyst", "viewer"):
        with pytest.raises(PermissionDeniedError):
            channels.save(store, role, "x", "slack", {"url": url})
    with pytest.raises(ChannelError) as err:
        channels.save(store, "admin", "ops", "slack", {"url": url})
    assert err.value.code == "exists"
    with pytest.raises(ChannelError) as err:
        channels.save(store, "admin", "bad", "teams", {"url": "ftp://host/x"})
    assert err.value.code == "bad_url"
    with pytest.raises(ChannelError) as err:
        channels.save(store, "admin", "in_app", "slack", {"url": url})
    assert err.value.code == "name"
    # e-mail keeps its recipients only; without [smtp] secrets it cannot be sent
    mail = channels.save(store, "admin", "finops", "email", {"to": "a@example.com; b@example.com"})
    assert mail.target == "a@example.com, b@example.com"
    with pytest.raises(ChannelError) as err:
        channels.load(store, "finops", secrets={})
    assert err.value.code == "smtp"
    assert channels.delete(store, "admin", "siem") and not channels.delete(store, "admin", "siem")


def test_send_test_reaches_the_webhook(store: Store, hook: Receiver) -> None:
    channels.save(store, "admin", "ops", "slack", {"url": hook.url + HOOK_PATH})
    d = channels.send_test(store, "admin", "ops", now=NOON)
    assert (d.ok, d.code, d.attempts) == (True, "sent", 1)
    path, _, body = hook.wait_for(1)[0]
    assert path == HOOK_PATH
    assert "Test notification from Tokenboard" in json.dumps(body)
    with pytest.raises(PermissionDeniedError):
        channels.send_test(store, "viewer", "ops")
    with pytest.raises(ChannelError):
        channels.send_test(store, "admin", "nobody")


# -- the notifier -----------------------------------------------------------------------------
def test_an_incident_reaches_its_rules_channel_and_the_delivery_is_logged(
    store: Store, tmp_path: Path, hook: Receiver
) -> None:
    channels.save(store, "admin", "ops", "slack", {"url": hook.url + HOOK_PATH})
    rule = rules.create(store, "admin", kind="budget", window="day", threshold="10",
                        channels=["in_app", "ops", "gone"], name="Daily budget")  # fmt: skip
    spend(store, tmp_path, ["1.00"] * 6)  # $6.00 of $10 = 60 % → level 50
    outbox = Outbox()
    notifier = AlertNotifier(store, outbox=outbox, base_url="https://tb.example")
    from lib.alerts import evaluate

    s = evaluate(store, NOON, notifier)
    assert (s.opened, s.notified, s.deliveries_failed) == (1, 1, 1)  # "gone" is no channel
    assert outbox.join(20)
    ((_path, _, body),) = hook.wait_for(1)
    text = json.dumps(body)
    assert "Daily budget: whole organisation" in text
    assert "$6.00" in text and "$10.00" in text and "level 50 %" in text
    assert "https://tb.example/Costs?period=custom&from=2026-05-04&to=2026-05-04" in text
    outbox.close(5)
    log = incidents.deliveries(store)
    assert sorted((d.channel, d.ok, d.detail) for d in log) == [
        ("gone", False, "not_found"), ("ops", True, "sent 200")]  # fmt: skip
    assert {d.level for d in log} == {50} and rule.rule_id


# -- rounds -----------------------------------------------------------------------------------
def test_a_round_evaluates_and_keeps_the_status_pages_answer(store: Store, tmp_path: Path) -> None:
    rules.create(store, "admin", kind="budget", window="day", threshold="10")
    spend(store, tmp_path, ["2.00"] * 5)  # $10.00 = 100 % → level 100
    with StatusPage() as page:
        w = Worker(store, status_urls=page.urls, clock=lambda: NOON, notifier=lambda n: [],
                   pull=None, after_imports=False)  # fmt: skip
        r = w.run_once()
    assert r is not None and r.errors == [] and r.at == NOON
    assert r.evaluation is not None and (r.evaluation.rules, r.evaluation.opened) == (1, 1)
    assert incidents.list_incidents(store)[0].value == Decimal("10.00")
    # OpenAI: one open incident and one maintenance; Claude: one incident (resolved ones left out)
    assert w.notices is r.status and len(w.notices.incidents) == 3
    assert w.notices.incidents[0].name == "Elevated error rates on Chat Completions and Responses"
    assert (w.rounds, page.hits) == (1, 2)


def test_rounds_never_overlap_and_a_failing_part_never_stops_the_others(store: Store) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow_poll() -> PollResult:
        entered.set()
        release.wait(10)
        raise RuntimeError("status page exploded")

    w = Worker(store, clock=lambda: NOON, notifier=lambda n: [], poll_status=slow_poll, pull=None,
               after_imports=False)  # fmt: skip
    results: list[object] = []
    t = threading.Thread(target=lambda: results.append(w.run_once()))
    t.start()
    assert entered.wait(10)
    assert w.run_once() is None  # a round is under way: this one is not run
    release.set()
    t.join(10)
    (r,) = results
    assert r is not None and r.errors == ["status"] and r.evaluation is not None  # type: ignore[union-attr]
    assert w.notices is None and w.rounds == 1


def test_scheduled_pulls_when_an_admin_key_is_set(store: Store, monkeypatch) -> None:
    with AdminApi() as api:
        monkeypatch.setenv("OPENAI_ADMIN_KEY", OPENAI_KEY)
        monkeypatch.setenv("OPENAI_ADMIN_BASE_URL", api.url)
        monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
        day = int(datetime(2026, 5, 3, tzinfo=UTC).timestamp())
        api.data["/v1/organization/usage/completions"] = {day: [
            {"object": "organization.usage.completions.result", "input_tokens": 100,
             "output_tokens": 10, "num_model_requests": 4, "input_cached_tokens": 0,
             "project_id": "p", "user_id": None, "api_key_id": "k", "model": "gpt-4o",
             "batch": False}]}  # fmt: skip
        w = Worker(store, clock=lambda: NOON, notifier=lambda n: [], poll_status=no_status,
                   pull_every_s=3600, after_imports=False)  # fmt: skip
        first = w.run_once()
        assert first is not None and first.errors == []
        # never pulled: the last 7 days, April 28 to May 4
        assert [(p.provider, p.start, p.end, p.error) for p in first.pulls] == [
            ("openai", date(2026, 4, 28), date(2026, 5, 4), None)]  # fmt: skip
        assert store.scalar("SELECT sum(requests) FROM counted_hourly") == 4
        # 30 minutes later: not due; an hour after the first: from the day before the last pulled
        assert w.run_once(NOON + timedelta(minutes=30)).pulls == []  # type: ignore[union-attr]
        again = w.run_once(NOON + timedelta(hours=1))
        assert again is not None
        assert [(p.start, p.end) for p in again.pulls] == [(date(2026, 5, 4), date(2026, 5, 4))]
        assert store.scalar("SELECT sum(requests) FROM counted_hourly") == 4  # nothing twice


def test_a_failing_pull_is_a_value_not_an_exception(store: Store) -> None:
    def broken(_store: Store, _today: date) -> list[PullOutcome]:
        raise OSError("disk")

    w = Worker(store, clock=lambda: NOON, notifier=lambda n: [], poll_status=no_status,
               pull=broken, after_imports=False)  # fmt: skip
    r = w.run_once()
    assert r is not None and r.errors == ["pull"] and r.evaluation is not None


# -- the thread -------------------------------------------------------------------------------
def test_the_thread_runs_rounds_evaluates_after_imports_and_stops(
    store: Store, tmp_path: Path
) -> None:
    rules.create(store, "admin", kind="budget", window="day", threshold="10")
    w = Worker(store, interval_s=0.05, clock=lambda: NOON, notifier=lambda n: [],
               poll_status=no_status, pull=None)  # fmt: skip
    assert w.start() and not w.start()  # started once
    deadline = time.monotonic() + 10
    while w.rounds < 3 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert w.rounds >= 3
    assert w.stop(10) and not w.running
    # after the stop nothing runs: not the rounds, not the after-import evaluation
    rounds = w.rounds
    spend(store, tmp_path, ["2.00"] * 5)
    time.sleep(0.3)
    assert w.rounds == rounds and incidents.open_count(store) == 0

    slow = Worker(store, interval_s=3600, clock=lambda: NOON, notifier=lambda n: [],
                  poll_status=no_status, pull=None)  # fmt: skip
    slow.start()
    try:
        spend(store, tmp_path, ["1.00"], name="b")  # the import is evaluated at once: $11.00
        # the first round (at start) may open it at $10.00 before the import lands
        deadline = time.monotonic() + 10
        values: list[object] = []
        while values != [Decimal("11.00")] and time.monotonic() < deadline:
            time.sleep(0.05)
            values = [i.value for i in incidents.list_incidents(store)]
        assert values == [Decimal("11.00")]
    finally:
        assert slow.stop(10)


def test_one_worker_per_database_and_the_setting_turns_it_off(store: Store, monkeypatch) -> None:
    monkeypatch.setenv("TOKENBOARD_STATUS_PAGES", "none")
    monkeypatch.delenv("OPENAI_ADMIN_KEY", raising=False)
    monkeypatch.delenv("ANTHROPIC_ADMIN_KEY", raising=False)
    try:
        monkeypatch.setenv("TOKENBOARD_WORKER", "0")
        assert start_worker(store) is None
        monkeypatch.setenv("TOKENBOARD_WORKER", "1")
        monkeypatch.setenv("TOKENBOARD_WORKER_MINUTES", "2")
        first = start_worker(store)
        assert first is not None and first.running and first.interval_s == 120
        assert start_worker(store) is first
        first.stop()
        second = start_worker(store)  # a stopped worker is replaced, not restarted
        assert second is not None and second is not first and second.running
    finally:
        stop_all()
    assert not first.running and not second.running
