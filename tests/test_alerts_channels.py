"""Alert channels and notifications over real loopback HTTP: channels stored and shown masked,
incidents sent to a local Slack-style hook and a signed webhook, each delivery logged, a
channel that never answers never holding up the evaluation."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from lib.alerts import evaluate, incidents, rules
from lib.alerts.channels import delete_channel, list_channels, save_channel
from lib.alerts.model import AlertError
from lib.alerts.notifying import notification, notifier
from lib.auth.roles import PermissionDeniedError
from lib.ingest import import_file
from lib.notify import Outbox, verify_request
from lib.store import Store
from tests.local_server import LocalServer, QuietHandler

MAY4 = datetime(2026, 5, 4, tzinfo=UTC)
SECRET = "s3cret-signing-key-0123456789"


class Hook(LocalServer):
    """Records every POST as (path, headers, body) and answers 200."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.lock = threading.Lock()
        super().__init__()

    def _handler(self):
        hook = self

        class Handler(QuietHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with hook.lock:
                    hook.requests.append((self.path, dict(self.headers.items()), body))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler


@contextmanager
def silent_server() -> Iterator[str]:
    """A port that accepts connections and never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(8)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"
    finally:
        sock.close()


def spend(store: Store, tmp_path: Path, name: str, usd: str, hour: int = 9) -> None:
    """One request of ``usd`` dollars on May 4 at ``hour``."""
    row = {"request_id": name, "timestamp": (MAY4 + timedelta(hours=hour)).isoformat(),
           "provider": "openai", "model": "gpt-4o", "prompt_tokens": 10,
           "completion_tokens": 1, "status": "success", "cost_usd": usd}  # fmt: skip
    path = tmp_path / f"{name}.jsonl"
    path.write_text(json.dumps(row), encoding="utf-8")
    import_file(store, str(path))


def test_channels_saved_for_admins_and_shown_masked(store: Store) -> None:
    with pytest.raises(PermissionDeniedError):
        save_channel(store, "analyst", "ops", {"kind": "slack", "url": "https://hooks.example/x"})
    with pytest.raises(AlertError) as err:
        save_channel(store, "admin", "ops", {"kind": "slack", "url": "ftp://nope"})
    assert (err.value.code, err.value.values["reason"]) == ("channel", "bad_url")
    url = "https://hooks.slack.example/services/T000/B000/XXXXsecretpath"
    save_channel(store, "admin", "ops", {"kind": "slack", "url": url})
    save_channel(store, "admin", "signed", {"kind": "webhook", "url": "https://x.example/h",
                                            "secret": SECRET})  # fmt: skip
    shown = list_channels(store)
    assert [(c.name, c.kind) for c in shown] == [("ops", "slack"), ("signed", "webhook")]
    assert all("secretpath" not in c.target and SECRET not in c.target for c in shown)
    assert delete_channel(store, "admin", "ops") and not delete_channel(store, "admin", "ops")


def test_incident_sent_to_a_slack_hook_and_a_signed_webhook(store: Store, tmp_path: Path) -> None:
    with Hook() as hook:
        save_channel(store, "admin", "ops", {"kind": "slack", "url": f"{hook.url}/slack"})
        save_channel(store, "admin", "signed", {"kind": "webhook", "url": f"{hook.url}/json",
                                                "secret": SECRET})  # fmt: skip
        rule = rules.create(store, "admin", kind="budget", window="day", threshold=10,
                            name="Daily budget", channels=["ops", "signed", "gone"])  # fmt: skip
        send = notifier(store, background=False, base_url="https://tb.example", retries=0)
        spend(store, tmp_path, "a", "8.00")  # $8 of $10 = 80 % → level 80
        now = MAY4 + timedelta(hours=12)
        s = evaluate(store, now, send)
        assert (s.opened, s.notified, s.deliveries_failed) == (1, 1, 1)  # "gone" is no channel
        evaluate(store, now + timedelta(minutes=5), send)  # nothing new: nothing sent
        assert sorted(p for p, _, _ in hook.requests) == ["/json", "/slack"]
        signed = next((h, b) for p, h, b in hook.requests if p == "/json")
        assert verify_request(SECRET, signed[0], signed[1])
        doc = json.loads(signed[1])
        assert doc["title"] == "Daily budget: $8.00 (80 % of $10.00)"
        assert doc["link"] == "https://tb.example/Costs?period=custom&from=2026-05-04&to=2026-05-04"
        assert doc["severity"] == "warning" and doc["event_id"] == "incident-1-80"
        slack = json.loads(next(b for p, _, b in hook.requests if p == "/slack"))
        assert "Daily budget" in slack["text"]
        # $3 more: 110 % → escalated, sent again with the new level's event id
        spend(store, tmp_path, "b", "3.00", hour=10)
        evaluate(store, now + timedelta(minutes=10), send)
        assert len(hook.requests) == 4
        last = json.loads(next(b for p, _, b in reversed(hook.requests) if p == "/json"))
        assert (last["event_id"], last["severity"]) == ("incident-1-100", "critical")
    log = [
        (d.channel, d.reason, d.level, d.ok, d.detail)
        for d in reversed(incidents.deliveries(store))
    ]
    assert log == [
        ("ops", "opened", 80, True, "sent 200"), ("signed", "opened", 80, True, "sent 200"),
        ("gone", "opened", 80, False, "unknown_channel"),
        ("ops", "escalated", 100, True, "sent 200"),
        ("signed", "escalated", 100, True, "sent 200"),
        ("gone", "escalated", 100, False, "unknown_channel"),
    ]  # fmt: skip
    assert rule.rule_id == 1


def test_a_channel_that_never_answers_does_not_hold_up_the_evaluation(
    store: Store, tmp_path: Path
) -> None:
    outbox = Outbox(workers=1, retries=0, timeout=0.5, total=1.0)
    with silent_server() as url:
        save_channel(store, "admin", "down", {"kind": "slack", "url": url})
        rules.create(store, "admin", kind="budget", window="day", threshold=10, channels=["down"])
        spend(store, tmp_path, "a", "12.00")
        t0 = time.perf_counter()
        s = evaluate(store, MAY4 + timedelta(hours=12), notifier(store, outbox=outbox))
        took = time.perf_counter() - t0
        assert s.opened == 1 and took < 0.5  # queued, not waited for
        assert outbox.join(10)
    (d,) = incidents.deliveries(store)
    assert (d.channel, d.ok, d.reason) == ("down", False, "opened")
    assert d.detail in ("timeout", "deadline", "connection")
    outbox.close(5)


def test_notification_words() -> None:
    from lib.alerts.model import AlertNotice, Incident, Rule

    rule = Rule(3, "Errors of keys", "error_rate", "key", None, "hour", "actual", Decimal(5),
                (100,), 10, 3600, "UTC", True, ())  # fmt: skip
    at = datetime(2026, 5, 4, 10, 30, tzinfo=UTC)
    inc = Incident(7, 3, "error_rate", "key", "k1", "open", 100, Decimal("13.64"), Decimal(5),
                   None, "Errors?api_key=k1", at, at, None, None, None, None, None, 100, at)  # fmt: skip
    n = notification(AlertNotice(inc, rule, "reminder", at))
    assert n.title == "Errors of keys: k1: 13.64 % (100 % of 5 %)"
    assert n.text == "Alert **Errors of keys** on key **k1** is still open."
    assert n.link is None and n.event_id == "incident-7-100-20260504T103000"
