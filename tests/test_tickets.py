"""Support tickets in lib: filing with its context, who may read and change what (crafted
calls with another user's numbers), attachments checked by content and name, safe Markdown,
merge, search, the CSV export and the time to first response computed by hand."""

from __future__ import annotations

import csv
import io
import re
import struct
import time
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from lib.auth.roles import PermissionDeniedError
from lib.ingest.ledger import data_version
from lib.store import Store
from lib.tickets import Draft, TicketError, Upload, context, files, service
from lib.tickets.notify import TicketNotifier
from lib.tickets.service import TicketQuery as Q
from lib.tickets.text import safe_markdown

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
QUIET = TicketNotifier(secrets={})  # no SMTP, no team channel: nothing is sent


def add_user(store: Store, username: str, role: str, email: str | None = None) -> None:
    """A row of the users table (with whatever other columns it requires)."""
    with store.write() as cur:
        cols = {r[0] for r in cur.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'users'"
        ).fetchall()}  # fmt: skip
        values = {"username": username, "name": username.capitalize(),
                  "email": email or f"{username}@example.com", "role": role, "status": "active",
                  "password_hash": "x", "created_at": T0, "updated_at": T0}  # fmt: skip
        keep = [k for k in values if k in cols]
        cur.execute(
            f"INSERT INTO users ({', '.join(keep)}) VALUES ({', '.join('?' for _ in keep)})",
            [values[k] for k in keep],
        )


@pytest.fixture
def team(store: Store) -> Store:
    add_user(store, "ada", "admin")
    add_user(store, "ana", "analyst")
    add_user(store, "vic", "viewer")
    return store


def png(width: int = 1, height: int = 1) -> bytes:
    """A real PNG (8-bit grey)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))  # fmt: skip


def file_ticket(store: Store, user: str = "ana", role: str = "analyst", **kw) -> int:
    draft = Draft(kw.pop("subject", "Costs look doubled"), kw.pop("body", "Since **Monday**."),
                  kw.pop("category", "data"), kw.pop("severity", "high"), kw.pop("link", None))  # fmt: skip
    return service.submit(store, user, role, draft, kw.pop("uploads", ()),
                          now=kw.pop("now", T0), notifier=QUIET).number  # fmt: skip


# -- filing ---------------------------------------------------------------------------------
def test_a_ticket_captures_its_context_and_the_reporter_follows_it(team: Store):
    n = file_ticket(team, link="/Usage?period=30d&by=model",
                    uploads=[Upload("shot.png", png())])  # fmt: skip
    thread = service.get(team, "ana", "analyst", n)
    t = thread.ticket
    assert (t.number, t.status, t.reporter, t.category, t.severity) == (
        1,
        "open",
        "ana",
        "data",
        "high",
    )
    assert (t.page, t.view_link) == ("Usage", "/Usage?period=30d&by=model")
    assert t.app_version == context.app_version() != "unknown"
    assert t.data_version == data_version(team)
    assert [(a.filename, a.media_type, a.size) for a in thread.attachments] == [
        ("shot.png", "image/png", len(png()))]  # fmt: skip
    assert [h.new for h in thread.history] == ["open"]
    assert [x.number for x in service.my_tickets(team, "ana", "analyst")] == [1]
    assert service.my_tickets(team, "vic", "viewer") == []
    assert service.my_tickets(team, "ada", "admin") == []  # admins see theirs here, all in search


def test_a_bad_view_link_is_dropped_and_the_ticket_kept(team: Store):
    n = file_ticket(team, link="javascript:alert(1)")
    t = service.get(team, "ana", "analyst", n).ticket
    assert (t.page, t.view_link) == (None, None)


@pytest.mark.parametrize(
    "link, expected",
    [
        ("/Usage?period=30d&by=model", ("Usage", "/Usage?period=30d&by=model")),
        ("Costs?tab=whatif", ("Costs", "/Costs?tab=whatif")),
        ("/", ("Overview", "/")),
        ("/?period=7d", ("Overview", "/?period=7d")),
        ("/API_keys#top", ("API keys", "/API_keys")),
        ("https://evil.example/Usage", None),
        ("//evil.example/Usage", None),
        ("/\\evil.example", None),
        ("javascript:alert(1)", None),
        ("JaVaScRiPt:alert(1)", None),
        ("data:text/html,<b>", None),
        ("/Nowhere?x=1", None),
        ("/Usage?x=<script>", None),
        ("/Usage?x=1 2", None),
        ("/Usage\n", ("Usage", "/Usage")),
        ("/Usage?" + "a" * 2000, None),
        ("", None),
    ],
)
def test_view_links(link: str, expected: tuple[str, str] | None):
    assert context.view_link(link) == expected


def test_bad_input_is_refused_with_the_field_and_nothing_stored(team: Store):
    for kw, code in [({"subject": "  "}, "subject"), ({"subject": "x" * 201}, "subject"),
                     ({"body": ""}, "body"), ({"category": "sales"}, "category"),
                     ({"severity": "blocker"}, "severity")]:  # fmt: skip
        with pytest.raises(TicketError) as err:
            file_ticket(team, **kw)
        assert err.value.code == code and err.value.field == code
    assert team.scalar("SELECT count(*) FROM tickets") == 0


# -- who may do what --------------------------------------------------------------------------
def test_a_user_cannot_reach_another_users_ticket_by_any_crafted_call(team: Store):
    n = file_ticket(team, uploads=[Upload("log.txt", b"line 1\n")])
    aid = service.get(team, "ana", "analyst", n).attachments[0].id
    before = team.query("SELECT * FROM tickets"), team.query("SELECT count(*) FROM ticket_comments")
    calls = [
        lambda: service.get(team, "vic", "viewer", n),
        lambda: service.get(team, "vic", "viewer", str(n)),
        lambda: service.comment(team, "vic", "viewer", n, "mine now", notifier=QUIET),
        lambda: service.attachment_bytes(team, "vic", "viewer", aid),
        lambda: service.set_status(team, "vic", "viewer", n, "closed", notifier=QUIET),
        lambda: service.set_status(team, "vic", "viewer", n, "open", notifier=QUIET),
    ]
    for call in calls:
        with pytest.raises(TicketError) as err:
            call()
        assert err.value.code == "not_found"
    # a number that does not exist gets exactly the same answer
    with pytest.raises(TicketError) as missing:
        service.get(team, "vic", "viewer", 999)
    assert missing.value.code == "not_found" and missing.value.field == "ticket"
    with pytest.raises(TicketError):
        service.get(team, "vic", "viewer", "1 OR 1=1")
    for call in [
        lambda: service.assign(team, "vic", "viewer", n, "vic", notifier=QUIET),
        lambda: service.merge(team, "ana", "analyst", n, n, notifier=QUIET),
        lambda: service.search(team, "analyst"),
        lambda: service.export_csv(team, "viewer"),
        lambda: service.response_times(team, "analyst"),
        lambda: service.comment(team, "ana", "analyst", n, "note", internal=True, notifier=QUIET),
        lambda: service.get(team, "ana", None, n),
    ]:
        with pytest.raises(PermissionDeniedError):
            call()
    after = team.query("SELECT * FROM tickets"), team.query("SELECT count(*) FROM ticket_comments")
    assert after == before
    # the reporter and an admin do reach it
    assert service.attachment_bytes(team, "ana", "analyst", aid)[1] == b"line 1\n"
    assert service.attachment_bytes(team, "ada", "admin", aid)[1] == b"line 1\n"


def test_internal_notes_and_their_files_stay_with_the_admins(team: Store):
    n = file_ticket(team)
    note = service.comment(team, "ada", "admin", n, "Looks like the demo import",
                           [Upload("query.txt", b"select 1")], internal=True, notifier=QUIET)  # fmt: skip
    admin_view = service.get(team, "ada", "admin", n)
    user_view = service.get(team, "ana", "analyst", n)
    assert [c.id for c in admin_view.comments] == [note.id] and user_view.comments == []
    assert len(admin_view.attachments) == 1 and user_view.attachments == []
    with pytest.raises(TicketError):
        service.attachment_bytes(team, "ana", "analyst", admin_view.attachments[0].id)
    assert user_view.ticket.comments == 0 and user_view.ticket.attachments == 0
    assert admin_view.ticket.first_response_at is None  # a note is no response


def test_status_changes_by_role(team: Store):
    n = file_ticket(team)
    with pytest.raises(TicketError) as err:
        service.set_status(team, "ana", "analyst", n, "in_progress", notifier=QUIET)
    assert err.value.code == "transition"
    with pytest.raises(TicketError) as err:
        service.set_status(team, "ada", "admin", n, "done", notifier=QUIET)
    assert err.value.code == "status"
    assert (
        service.set_status(team, "ada", "admin", n, "waiting", notifier=QUIET).status == "waiting"
    )
    # the reporter's reply to "waiting for you" moves it back to open
    service.comment(team, "ana", "analyst", n, "Here is the file", notifier=QUIET)
    assert service.get(team, "ana", "analyst", n).ticket.status == "open"
    with pytest.raises(TicketError):  # reopen only once resolved or closed
        service.set_status(team, "ana", "analyst", n, "open", notifier=QUIET)
    service.set_status(team, "ada", "admin", n, "resolved", notifier=QUIET)
    assert service.set_status(team, "ana", "analyst", n, "open", notifier=QUIET).status == "open"
    assert (
        service.set_status(team, "ana", "analyst", n, "closed", notifier=QUIET).status == "closed"
    )
    history = [(h.actor, h.old, h.new) for h in service.get(team, "ana", "analyst", n).history]
    assert history == [("ana", None, "open"), ("ada", "open", "waiting"), ("ana", "waiting", "open"),
                       ("ada", "open", "resolved"), ("ana", "resolved", "open"),
                       ("ana", "open", "closed")]  # fmt: skip


def test_assign_to_admins_only(team: Store):
    n = file_ticket(team)
    with pytest.raises(TicketError) as err:
        service.assign(team, "ada", "admin", n, "ana", notifier=QUIET)
    assert err.value.code == "assignee"
    assert service.assign(team, "ada", "admin", n, "ada", notifier=QUIET).assignee == "ada"
    assert service.assign(team, "ada", "admin", n, None, notifier=QUIET).assignee is None
    assert service.admins(team, "admin") == ["ada"]


def test_merge_a_duplicate(team: Store):
    first = file_ticket(team, subject="Costs doubled")
    dup = file_ticket(team, user="vic", role="viewer", subject="Same: costs x2",
                      uploads=[Upload("costs.csv", b"day,usd\n2026-11-01,3\n")])  # fmt: skip
    service.comment(team, "vic", "viewer", dup, "Also on the Costs page", notifier=QUIET)
    merged = service.merge(team, "ada", "admin", dup, first, notifier=QUIET)
    assert (merged.status, merged.merged_into) == ("closed", first)
    # the duplicate's reporter still reads it, with its comments and attachment
    thread = service.get(team, "vic", "viewer", dup)
    assert thread.ticket.merged_into == first and len(thread.comments) == 1
    aid = thread.attachments[0].id
    assert service.attachment_bytes(team, "vic", "viewer", aid)[1].startswith(b"day,usd")
    assert service.get(team, "ada", "admin", first).merged_from == [dup]
    # ...but cannot open the other user's ticket through the merge
    with pytest.raises(TicketError):
        service.get(team, "vic", "viewer", first)
    for call, code in [
        (lambda: service.comment(team, "vic", "viewer", dup, "more", notifier=QUIET), "merged"),
        (lambda: service.set_status(team, "ada", "admin", dup, "open", notifier=QUIET), "merged"),
        (lambda: service.merge(team, "ada", "admin", first, first, notifier=QUIET), "merge_self"),
        (lambda: service.merge(team, "ada", "admin", first, dup, notifier=QUIET), "merged"),
        (lambda: service.merge(team, "ada", "admin", first, 77, notifier=QUIET), "not_found"),
    ]:
        with pytest.raises(TicketError) as err:
            call()
        assert err.value.code == code


# -- attachments ------------------------------------------------------------------------------
def test_attachments_are_checked_by_content_and_extension(team: Store):
    jpeg = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
    gif = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"
    webp = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 14
    pdf = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\ntrailer\n<<>>\n%%EOF\n"
    ok = [("a.png", png(), "image/png"), ("b.JPG", jpeg, "image/jpeg"), ("c.gif", gif, "image/gif"),
          ("d.webp", webp, "image/webp"), ("e.pdf", pdf, "application/pdf"),
          ("f.txt", "héllo\n".encode(), "text/plain"), ("g.csv", b"a,b\n1,2\n", "text/csv"),
          ("h.json", b'{"a": 1}', "application/json"), ("i.log", b"ERROR x\r\n\tat y\n", "text/plain")]  # fmt: skip
    for name, data, media in ok:
        assert files.check(Upload(name, data)).media_type == media, name
    exe = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 48
    refused = [("shot.txt", png()), ("setup.png", exe), ("setup.exe", exe), ("page.html", b"<html>"),
               ("logo.svg", b"<svg/>"), ("a.zip", b"PK\x03\x04" + b"\x00" * 20),
               ("noext", b"plain"), ("b.pdf", b"not a pdf"), ("c.txt", b"\xff\xfe bad utf8")]  # fmt: skip
    for name, data in refused:
        with pytest.raises(TicketError) as err:
            files.check(Upload(name, data))
        assert err.value.code == "attachment_type", name
        assert err.value.values == {"filename": name, "allowed": files.ALLOWED}
    with pytest.raises(TicketError) as big:
        files.check(Upload("big.txt", b"a" * (5 * 1024 * 1024 + 1)))
    assert big.value.code == "attachment_size" and big.value.values["limit"] == 5 * 1024 * 1024
    assert files.check(Upload("edge.txt", b"a" * (5 * 1024 * 1024))).size == 5 * 1024 * 1024
    with pytest.raises(TicketError) as empty:
        files.check(Upload("empty.txt", b""))
    assert empty.value.code == "attachment_empty"
    # a ticket holds at most 20 MiB: 4 × 5 MiB fits, one byte more does not
    chunk = b"a" * (5 * 1024 * 1024)
    n = file_ticket(team, uploads=[Upload(f"{i}.txt", chunk) for i in range(4)])
    with pytest.raises(TicketError) as full:
        service.comment(
            team, "ana", "analyst", n, "one more", [Upload("x.txt", b"b")], notifier=QUIET
        )
    assert full.value.code == "ticket_size"
    assert team.scalar("SELECT count(*) FROM ticket_comments") == 0  # refused whole
    with pytest.raises(TicketError):  # a refused file: no ticket at all
        file_ticket(team, uploads=[Upload("ok.txt", b"fine"), Upload("shot.txt", png())])
    assert team.scalar("SELECT count(*) FROM tickets") == 1


def test_file_names_are_made_safe():
    assert files.safe_name("../../etc/passwd.txt") == "passwd.txt"
    assert files.safe_name("C:\\Users\\me\\report.csv") == "report.csv"
    assert files.safe_name("<script>alert(1)</script>.txt") == "script_.txt"
    assert files.safe_name('a"b;c\r\n.log') == "a_b_c.log"
    assert files.safe_name(".htaccess") == "htaccess"
    assert files.safe_name("") == "attachment"
    assert files.safe_name("résumé été.pdf") == "résumé été.pdf"
    long = files.safe_name("x" * 300 + ".json")
    assert len(long) == 100 and long.endswith(".json")


# -- Markdown ---------------------------------------------------------------------------------
HOSTILE = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](<javascript:alert(1)>)",
    "[x](jav&#x61;script:alert(1))",
    "[x][r]\n\n[r]: javascript:alert(1)",
    "![p](https://tracker.example/p.png)",
    "<javascript:alert(1)>",
    "\\`<img src=x onerror=alert(1)>\\`",
    "```a`b\n<script>alert(1)</script>",
    "<a href='javascript:alert(1)'>x</a>",
    "[x](data:text/html;base64,PHNjcmlwdD4=)",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_hostile_markdown_never_renders_html_or_a_script_link(text: str):
    # rendered by a CommonMark renderer that DOES pass raw HTML through (the worst case)
    html = MarkdownIt("commonmark", {"html": True}).render(safe_markdown(text))
    assert "<script" not in html and "<img" not in html and '<a href="javascript' not in html
    assert 'href="data:' not in html and 'href="jav' not in html.lower()
    assert "<a href='" not in html


def test_safe_markdown_keeps_formatting_and_web_links():
    text = "**bold** and `x<y` and [docs](https://example.com/a?b=1)\n\n```\n<b>kept</b>\n```"
    html = MarkdownIt("commonmark", {"html": True}).render(safe_markdown(text))
    assert "<strong>bold</strong>" in html
    assert '<a href="https://example.com/a?b=1">docs</a>' in html
    assert "&lt;b&gt;kept&lt;/b&gt;" in html  # fenced code shows the text


# -- search, export, first response -----------------------------------------------------------
def _triaged(team: Store) -> tuple[int, int, int]:
    a = file_ticket(team, subject="=HYPERLINK(\"http://x\")", body="Bill is wrong", category="billing",
                    now=T0)  # fmt: skip
    b = file_ticket(team, user="vic", role="viewer", subject="Cannot sign in", body="Locked out",
                    category="access", severity="urgent", now=T0 + timedelta(hours=1))  # fmt: skip
    c = file_ticket(team, subject="Question", body="-how to export", category="question",
                    now=T0 + timedelta(hours=2), link="/Costs?by=model")  # fmt: skip
    # a: answered after 60 s; b: the reporter's own reply is no response, answered after 180 s;
    # c: an internal note only, never answered
    service.comment(
        team, "ada", "admin", a, "Which invoice?", now=T0 + timedelta(seconds=60), notifier=QUIET
    )
    service.comment(
        team,
        "vic",
        "viewer",
        b,
        "Still locked",
        now=T0 + timedelta(hours=1, seconds=30),
        notifier=QUIET,
    )
    service.comment(
        team,
        "ada",
        "admin",
        b,
        "Unlocked the account",
        now=T0 + timedelta(hours=1, seconds=180),
        notifier=QUIET,
    )
    service.comment(
        team,
        "ada",
        "admin",
        c,
        "see the docs page",
        internal=True,
        now=T0 + timedelta(hours=3),
        notifier=QUIET,
    )
    service.assign(team, "ada", "admin", b, "ada", now=T0 + timedelta(hours=4), notifier=QUIET)
    service.set_status(team, "ada", "admin", b, "resolved", now=T0 + timedelta(hours=4), notifier=QUIET)  # fmt: skip
    return a, b, c


def test_admin_search(team: Store):
    a, b, c = _triaged(team)
    nums = lambda ts: [t.number for t in ts]  # noqa: E731
    assert nums(service.search(team, "admin")) == [c, b, a]
    assert nums(service.search(team, "admin", Q("unlocked"))) == [b]  # a comment's word
    assert nums(service.search(team, "admin", Q("DOCS"))) == [c]  # an internal note, any case
    assert nums(service.search(team, "admin", Q("bill wrong"))) == [a]  # every word
    assert nums(service.search(team, "admin", Q("bill locked"))) == []
    assert nums(service.search(team, "admin", Q(statuses=["resolved"]))) == [b]
    assert nums(service.search(team, "admin", Q(categories=["billing", "question"]))) == [c, a]
    assert nums(service.search(team, "admin", Q(assignee="ada"))) == [b]
    assert nums(service.search(team, "admin", Q(assignee=""))) == [c, a]
    assert nums(service.search(team, "admin", Q(reporter="vic"))) == [b]
    assert nums(service.search(team, "admin", Q("%"))) == []  # no LIKE wildcard


def test_time_to_first_response(team: Store):
    a, b, c = _triaged(team)
    threads = {n: service.get(team, "ada", "admin", n).ticket for n in (a, b, c)}
    assert [threads[n].first_response_s for n in (a, b, c)] == [60, 180, None]
    # 3 filed, 2 answered: median of 60 and 180 = 120 s
    assert service.response_times(team, "admin") == service.ResponseTimes(3, 2, 120.0)
    # from 09:30: b (180 s) and c (none)
    later = service.response_times(team, "admin", T0 + timedelta(minutes=30))
    assert (later.tickets, later.answered, later.median_s) == (2, 1, 180.0)
    empty = service.response_times(team, "admin", T0 + timedelta(days=1), T0 + timedelta(days=2))
    assert (empty.tickets, empty.answered, empty.median_s) == (0, 0, None)


def test_csv_export_by_hand(team: Store):
    a, b, c = _triaged(team)
    raw = service.export_csv(team, "admin")
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert list(rows[0]) == list(service.EXPORT_COLUMNS)
    assert [r["number"] for r in rows] == [str(a), str(b), str(c)]
    ra, rb, rc = rows
    assert ra["subject"] == '\'=HYPERLINK("http://x")'  # formula neutralised
    assert (ra["category"], ra["status"], ra["reporter"], ra["assignee"]) == (
        "billing",
        "open",
        "ana",
        "",
    )
    assert (ra["created_at"], ra["first_response_at"], ra["first_response_s"]) == (
        "2026-11-02T09:00:00Z", "2026-11-02T09:01:00Z", "60")  # fmt: skip
    assert (rb["status"], rb["assignee"], rb["severity"], rb["first_response_s"]) == (
        "resolved", "ada", "urgent", "180")  # fmt: skip
    assert rb["updated_at"] == "2026-11-02T13:00:00Z" and rb["comments"] == "2"  # 09:00 + 4 h
    assert (rc["first_response_s"], rc["comments"], rc["page"], rc["view_link"]) == (
        "", "1", "Costs", "/Costs?by=model")  # fmt: skip
    only = list(csv.DictReader(io.StringIO(
        service.export_csv(team, "admin", Q("locked")).decode("utf-8-sig"))))  # fmt: skip
    assert [r["number"] for r in only] == [str(b)]


def test_a_slow_channel_never_holds_the_users_action(team: Store):
    """A team webhook that accepts the connection and never answers: filing returns at once."""
    import socket

    from lib.notify import Outbox
    from lib.tickets.notify import set_team_channels
    from lib.worker import channels

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    try:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        channels.save(team, "admin", "team-hook", "slack", {"url": url})
        set_team_channels(team, "admin", ["team-hook"])
        outbox = Outbox(timeout=3, retries=0, total=3)
        started = time.monotonic()
        service.submit(team, "ana", "analyst", Draft("Slow", "body"),
                       notifier=TicketNotifier(outbox=outbox, secrets={}))  # fmt: skip
        took = time.monotonic() - started
        assert took < 1.0, took
        assert outbox.pending() == 1
        outbox.close(5)
    finally:
        silent.close()


# Each of these drew <img src="https://evil.example/p.png"> through the earlier regex filter
# (a tracking image loading in the admin's browser); the filter now parses the Markdown.
EVIL = "https://evil.example/p.png"
BYPASSES = [
    f"![x]( {EVIL})",  # a space after the parenthesis
    f"![x](\n{EVIL})",  # a line break before the address
    f"![a [b] c]({EVIL})",  # brackets inside the label
    f"![a\nb]({EVIL})",  # a line break inside the label
    f"![x]({EVIL} 'a')",  # a title in single quotes
    f"![x][r]\n\n> [r]: {EVIL}",  # the definition inside a quote
    f"![x][r]\n\n- [r]: {EVIL}",  # the definition inside a list
    f"![x]({EVIL} (a))",  # a title in parentheses
    f"![x](<{EVIL}>)",  # the address in angle brackets
    f"[![x]({EVIL})](https://ok.example)",  # an image inside a web link
    f"![x][]\n\n[x]: {EVIL}",  # a collapsed reference
    f"![x]\n\n[x]:\n{EVIL}",  # a shortcut reference, its address on the next line
    f"Look\\![x]({EVIL.replace('evil', 'ok')})",  # an escaped "!" before a kept link
]
TAGS = re.compile(r"<(/?)([a-zA-Z][a-zA-Z0-9]*)")
ALLOWED_TAGS = {"p", "em", "strong", "s", "del", "code", "pre", "a", "ul", "ol", "li", "br",
                "hr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "table", "thead",
                "tbody", "tr", "th", "td"}  # fmt: skip


def _render_all(text: str) -> list[str]:
    """``safe_markdown(text)`` as HTML by CommonMark with raw HTML let through (the worst
    case) and by GFM with addresses turned into links (as Streamlit's renderer does)."""
    out = safe_markdown(text)
    return [
        MarkdownIt("commonmark", {"html": True}).render(out),
        MarkdownIt("gfm-like", {"linkify": True, "html": True}).render(out),
    ]


def _assert_inert(html: str) -> None:
    assert "<img" not in html
    assert {t for _, t in TAGS.findall(html)} <= ALLOWED_TAGS, html
    for href in re.findall(r'href="([^"]*)"', html):
        assert re.match(r"https?://", href), html


@pytest.mark.parametrize("text", BYPASSES)
def test_no_image_gets_through_the_markdown_filter(text: str):
    for html in _render_all(text):
        _assert_inert(html)


def test_an_image_inside_a_link_keeps_the_link_and_the_alt_text():
    html = MarkdownIt("commonmark").render(safe_markdown(f"[![logo]({EVIL})](https://ok.example)"))
    assert html.startswith('<p><a href="https://ok.example">logo')
    assert "<img" not in html


MARKS = ["![", "[", "]", "(", ")", "<", ">", "'", '"', "`", "```", "~~~", "\\", "*", "_", "|",
         "\n", " ", "    ", "> ", "- ", "1. ", "[r]: ", ": ", "a", "b c", EVIL, "https://ok.example",
         "javascript:alert(1)", "data:image/png;base64,AA", "jav&#x61;script:", "&#33;", "www.x.com",
         "ops@x.com", "mailto:", "//h.com", "ftp://f.example", "<img src=x>", "\t", "---", "==="]  # fmt: skip


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(MARKS), max_size=30).map("".join))
def test_whatever_is_typed_renders_no_image_and_only_web_links(text: str):
    for html in _render_all(text):
        _assert_inert(html)
