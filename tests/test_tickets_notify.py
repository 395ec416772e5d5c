"""Ticket notifications over real loopback servers: e-mail (aiosmtpd) to the people concerned
and the team's webhook, sent in the background after the change is committed."""

from __future__ import annotations

from lib.notify import Outbox
from lib.store import Store
from lib.tickets import Draft, service
from lib.tickets.notify import TicketNotifier, set_team_channels, team_channels
from lib.worker import channels
from tests.alert_servers import Receiver
from tests.test_notify_delivery import smtp_server
from tests.test_tickets import add_user


def _mails(box, n: int) -> list[tuple[list[str], str, str]]:
    import time

    deadline = time.monotonic() + 20
    while len(box.messages) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    return [(m["to"], str(m["message"]["Subject"]), m["message"].get_body().get_content())
            for m in box.messages]  # fmt: skip


def test_who_hears_of_what(store: Store):
    add_user(store, "ada", "admin", "ada@example.com")
    add_user(store, "adam", "admin", "adam@example.com")
    add_user(store, "ana", "analyst", "ana@example.com")
    with Receiver() as hook, smtp_server(auth=False) as (port, box):
        channels.save(store, "admin", "support-hook", "webhook",
                      {"url": f"{hook.url}/tickets", "secret": "s3cret-signing"})  # fmt: skip
        set_team_channels(store, "admin", ["support-hook"])
        assert team_channels(store) == ["support-hook"]
        secrets = {"smtp": {"host": "127.0.0.1", "port": port, "from": "support@example.com",
                            "to": "unused@example.com", "security": "none"}}  # fmt: skip
        outbox = Outbox()
        notifier = TicketNotifier(outbox=outbox, secrets=secrets, base_url="https://tb.example")

        # 1. a new ticket: both admins by e-mail, and the team webhook
        n = service.submit(store, "ana", "analyst", Draft("Costs <b>doubled</b>", "body"),
                           notifier=notifier).number  # fmt: skip
        assert outbox.join(20)
        mails = _mails(box, 2)
        assert sorted(to[0] for to, _s, _b in mails) == ["ada@example.com", "adam@example.com"]
        assert all("Ticket #1: Costs <b>doubled</b>" in s for _t, s, _b in mails)
        assert "New support ticket from **ana** (question, normal)." in mails[0][2]
        assert "https://tb.example/Help?tab=tickets&ticket=1" in mails[0][2]
        (post,) = hook.wait_for(1)
        assert post[0] == "/tickets" and post[2]["title"] == "Ticket #1: Costs <b>doubled</b>"

        # 2. an admin's reply: the reporter only, by e-mail (not the team hook)
        box.messages.clear()
        service.comment(store, "ada", "admin", n, "Looking at it", notifier=notifier)
        assert outbox.join(20)
        (mail,) = _mails(box, 1)
        assert mail[0] == ["ana@example.com"] and "**ada** replied to ticket #1." in mail[2]
        assert "Looking at it" not in mail[2]  # the comment's text never leaves the app

        # 3. an internal note: nobody
        box.messages.clear()
        service.comment(store, "ada", "admin", n, "internal", internal=True, notifier=notifier)
        # 4. assigned to adam: adam
        service.assign(store, "ada", "admin", n, "adam", notifier=notifier)
        assert outbox.join(20)
        (mail,) = _mails(box, 1)
        assert mail[0] == ["adam@example.com"] and "assigned to you by ada" in mail[2]

        # 5. the reporter replies: the assignee (not every admin) and the team hook
        box.messages.clear()
        service.comment(store, "ana", "analyst", n, "Thanks", notifier=notifier)
        assert outbox.join(20)
        (mail,) = _mails(box, 1)
        assert mail[0] == ["adam@example.com"]
        assert len(hook.wait_for(2)) == 2

        # 6. resolved by adam: the reporter hears the new status
        box.messages.clear()
        service.set_status(store, "adam", "admin", n, "resolved", notifier=notifier)
        assert outbox.join(20)
        (mail,) = _mails(box, 1)
        assert mail[0] == ["ana@example.com"] and "Ticket #1 is now **resolved**" in mail[2]
        outbox.close(5)
    assert notifier.sent == [("email", "ada"), ("email", "adam"), ("webhook", "team"),
                             ("email", "ana"), ("email", "adam"), ("email", "adam"),
                             ("webhook", "team"), ("email", "ana")]  # fmt: skip


def test_no_smtp_no_channel_nothing_sent_and_nothing_fails(store: Store):
    add_user(store, "ada", "admin")
    notifier = TicketNotifier(outbox=Outbox(), secrets={})
    t = service.submit(store, "vic", "viewer", Draft("x", "y"), notifier=notifier)
    assert t.number == 1 and notifier.sent == []


def test_deleted_and_disabled_users_are_neither_notified_nor_assignable(tmp_path):
    # deleted users stay as emptied rows with status 'deleted' (their name is never reused):
    # the ticket side reads active users only
    from datetime import UTC, datetime

    from lib.auth import admin
    from lib.auth.admin import Actor
    from lib.auth.users import UserStore
    from lib.tickets import people
    from tests.conftest import write_users

    with Store(str(tmp_path / "p.duckdb")) as s:
        users = UserStore(write_users(tmp_path / "users.yaml"), secrets_={}, store=s, rounds=4)
        users.get("ada")  # moves the users file into the database
        with s.write() as cur:
            cur.execute("UPDATE users SET role = 'admin' WHERE username = 'ana'")
        assert people.admins(s) == ["ada", "ana"] and people.email_of(s, "vic") == "vic@example.com"
        admin.delete_user(users, Actor("ada", "admin", "10.0.0.7"), "ana", datetime.now(UTC))
        with s.write() as cur:
            cur.execute("UPDATE users SET status = 'disabled' WHERE username = 'vic'")
        assert people.admins(s) == ["ada"]
        assert people.email_of(s, "ana") is None and people.email_of(s, "vic") is None
        assert [p.username for p in people.people(s)] == ["ada"]
