"""What a review of the alerts found, each case worked by hand: nothing is claimed as sent
when there is no notifier to send it; an incident that flaps around its threshold is not
notified again within the cool-down; the retirement rule counts a model's requests once when
a log and a usage report both hold them; an import command never waits on a channel that is
down; an outbox with a full queue closes in bounded time."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from lib.alerts import evaluate, incidents, rules
from lib.ingest import import_file
from lib.ingest.undo import undo_import
from lib.notify import Notification, Outbox, SlackChannel
from lib.store import Store
from lib.worker import channels
from tests.conftest import ROOT
from tests.test_alerts import MAY4, Recorder, load, req


def test_no_notifier_claims_nothing_the_next_evaluation_sends_it(store: Store, tmp_path: Path):
    rule = rules.create(store, "admin", kind="budget", window="day", threshold=10)
    load(store, tmp_path, "a", [req(MAY4 + timedelta(hours=10), cost_usd="12.00")])  # $12 > $10
    first = evaluate(store, MAY4 + timedelta(hours=10, minutes=30), None)  # the app, no sender
    assert (first.opened, first.notified) == (1, 0)
    (inc,) = incidents.list_incidents(store)
    assert (inc.rule_id, inc.notified_level, inc.notified_at) == (rule.rule_id, None, None)
    rec = Recorder()
    evaluate(store, MAY4 + timedelta(hours=10, minutes=35), rec)  # cron, with a sender
    assert rec.reasons() == [("", "opened", 100)]


def test_a_flapping_incident_is_not_notified_again_within_the_cool_down(
    store: Store, tmp_path: Path
):
    rec = Recorder()
    rules.create(store, "admin", kind="budget", window="day", threshold=10)  # cool-down 24 h
    path = tmp_path / "spend.jsonl"
    path.write_text(json.dumps(req(MAY4 + timedelta(hours=9), cost_usd="12.00")), encoding="utf-8")
    first = import_file(store, str(path))
    evaluate(store, MAY4 + timedelta(hours=9, minutes=30), rec)  # $12: opened, sent
    undo_import(store, first.import_id)
    evaluate(store, MAY4 + timedelta(hours=10), rec)  # $0: resolved
    import_file(store, str(path))
    evaluate(store, MAY4 + timedelta(hours=10, minutes=30), rec)  # $12 again: a new incident
    assert [i.state for i in incidents.list_incidents(store, ("open", "resolved"))] == [
        "open",
        "resolved",
    ]
    assert rec.reasons() == [("", "opened", 100)]  # once, not at every crossing
    (reopened, _first) = incidents.list_incidents(store, ("open", "resolved"))
    # it counts as sent at the first one's level and time: its reminder is due a cool-down
    # after that, and a higher level would still be news
    assert (reopened.notified_level, reopened.notified_at) == (
        100,
        MAY4 + timedelta(hours=9, minutes=30),
    )


def test_retirement_counts_a_models_requests_once(store: Store, tmp_path: Path):
    rules.create(
        store,
        "admin",
        kind="model_retirement",
        subject_kind="model",
        threshold=30,
        levels=[50, 100],
    )
    aug28 = datetime(2026, 8, 28, 10, tzinfo=UTC)
    # 10 logged requests of gpt-4o-2024-05-13, and a usage report of the same day stating them too
    load(store, tmp_path, "log", [req(aug28 + timedelta(minutes=i)) for i in range(10)])
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "date,model,requests,input_tokens,output_tokens\n2026-08-28,gpt-4o-2024-05-13,10,10000,1000\n"
    )
    import_file(store, str(usage))
    evaluate(store, datetime(2026, 8, 30, 9, tzinfo=UTC), Recorder())
    (inc,) = incidents.list_incidents(store)
    assert json.loads(inc.detail or "{}")["requests"] == 10  # not 20


def _silent_port() -> tuple[socket.socket, int]:
    """A port that accepts connections and never answers."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(50)
    return s, s.getsockname()[1]


def test_an_import_command_is_not_held_by_a_channel_that_is_down(tmp_path: Path):
    db = str(tmp_path / "cli.duckdb")
    silent, port = _silent_port()
    try:
        with Store(db) as s:
            channels.save(s, "admin", "down", "slack", {"url": f"http://127.0.0.1:{port}/hook"})
            for model in ("m1", "m2", "m3"):  # three incidents, each to the silent channel
                rules.create(s, "admin", kind="error_rate", subject_kind="model", subject=model,
                             window="day", threshold=5, min_volume=1, channels=["down"])  # fmt: skip
        now = datetime.now(UTC)
        rows = [
            req(now - timedelta(minutes=5), model=m, http_status=500) for m in ("m1", "m2", "m3")
        ]
        log = tmp_path / "errors.jsonl"
        log.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
        t0 = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "lib.cli", "import", "--db", db, str(log)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)  # fmt: skip
        took = time.monotonic() - t0
    finally:
        silent.close()
    assert done.returncode == 0, done.stderr
    # three deliveries of up to 20 s each went out side by side, not one after another (60 s)
    assert took < 40, took
    with Store(db) as s:
        assert s.scalar("SELECT count(*) FROM alert_incidents") == 3


def test_an_outbox_with_a_full_queue_closes_in_bounded_time():
    silent, port = _silent_port()
    try:
        box = Outbox(workers=1, max_queue=2)
        hook = SlackChannel(url=f"http://127.0.0.1:{port}/hook")
        for i in range(3):  # one being sent (never answered), two waiting: the queue is full
            box.submit(hook, Notification(title=f"n{i}", text="x", event_id=f"e{i}"))
        t0 = time.monotonic()
        closer = threading.Thread(target=box.close, args=(1.0,))
        closer.start()
        closer.join(10)
        assert not closer.is_alive() and time.monotonic() - t0 < 5
    finally:
        silent.close()


class Flaky:
    """A webhook receiver that answers 500 until ``healthy`` is set, then 200."""

    def __init__(self) -> None:
        from tests.local_server import LocalServer, QuietHandler

        outer = self
        self.healthy = False
        self.posts: list[dict] = []

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
                outer.posts.append({"ok": outer.healthy, "event": self.headers.get("X-Tokenboard-Event-Id"),
                                    "body": body})  # fmt: skip
                self.send_json(200 if outer.healthy else 500, {})

        class Server(LocalServer):
            def _handler(self):
                return Handler

        self.server = Server()


def test_a_failed_delivery_is_sent_again_with_backoff(store: Store, tmp_path: Path):
    from lib.alerts.engine import send_notices
    from lib.alerts.retry import due_retries
    from lib.worker import AlertNotifier

    flaky = Flaky()
    with flaky.server as server:
        channels.save(store, "admin", "flaky", "slack", {"url": f"{server.url}/hook"})
        rules.create(
            store, "admin", kind="budget", window="day", threshold=10, channels=["in_app", "flaky"]
        )
        load(store, tmp_path, "a", [req(MAY4 + timedelta(hours=10), cost_usd="12.00")])
        notifier = AlertNotifier(store, retries=0, total=2)
        t = MAY4 + timedelta(hours=10, minutes=30)
        evaluate(store, t, notifier)  # the channel answers 500: logged as failed
        assert store.query("SELECT channel, ok FROM alert_deliveries") == [("flaky", False)]
        assert due_retries(store, t + timedelta(minutes=4)) == []  # the first wait is 5 minutes
        (again,) = due_retries(store, t + timedelta(minutes=6))
        assert again.rule.channels == ("flaky",) and again.reason == "opened" and again.at == t
        flaky.healthy = True
        send_notices(store, [again], notifier)
        assert [p["ok"] for p in flaky.posts] == [False, True]
        assert flaky.posts[0]["event"] == flaky.posts[1]["event"]  # the same notice, recognisable
        assert store.query("SELECT ok FROM alert_deliveries ORDER BY delivery_id") == [
            (False,),
            (True,),
        ]
        assert due_retries(store, t + timedelta(hours=1)) == []  # delivered: nothing more


def test_a_notification_lost_before_it_went_out_is_sent_later(store: Store, tmp_path: Path):
    from lib.alerts.retry import due_retries

    with __import__("tests.alert_servers", fromlist=["Receiver"]).Receiver() as hook:
        channels.save(store, "admin", "ops", "slack", {"url": f"{hook.url}/hook"})
        rules.create(store, "admin", kind="budget", window="day", threshold=10, channels=["ops"])
        load(store, tmp_path, "a", [req(MAY4 + timedelta(hours=10), cost_usd="12.00")])
        t = MAY4 + timedelta(hours=10, minutes=30)
        evaluate(store, t, lambda notice: [])  # claimed, then the process died: nothing logged
        assert due_retries(store, t + timedelta(minutes=9)) == []
        assert [n.rule.channels for n in due_retries(store, t + timedelta(minutes=11))] == [
            ("ops",)
        ]


def test_no_new_data_counts_from_the_pull_not_from_the_end_of_todays_bucket(
    store: Store, tmp_path: Path
):
    # a daily usage report pulled on May 4 at 09:00 holds May 4 as one bucket ending at midnight;
    # its data is as new as the pull. At 15:00 that is 6 hours without new data (not -9)
    from lib.alerts.measure import measure_no_data
    from lib.alerts.model import Measure  # noqa: F401

    rule = rules.create(store, "admin", kind="no_data", threshold=4)
    usage = tmp_path / "usage.csv"
    usage.write_text(
        "date,model,requests,input_tokens,output_tokens\n2026-05-04,gpt-4o,10,1000,100\n"
    )
    import_file(store, str(usage))
    with store.write() as cur:  # the pull finished at 09:00 on May 4
        cur.execute("UPDATE imports SET finished_at = ?", [MAY4 + timedelta(hours=9)])
    with store.read() as cur:
        (m,) = measure_no_data(cur, [rules.get(store, rule.rule_id)], MAY4 + timedelta(hours=15))
    assert m.value == 6 and m.detail["data_until"] == (MAY4 + timedelta(hours=9)).isoformat()
