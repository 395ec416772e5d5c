"""Support tickets in the database: file, follow, comment, triage. Every function checks the
caller's role here (``require``) and what the caller may see: a user reaches only the tickets
they reported (another number is ``not_found``, exactly as a number that does not exist);
admins (``manage_tickets``) reach every ticket, triage and read internal notes.

Decisions:
- A ticket's number (``#n``) is its id, from a sequence.
- The reporter may close their own ticket (from any status) and reopen it once resolved or
  closed; every other status change, assignment and merge is the admins'. A reporter's reply
  to a ticket "waiting for you" moves it back to open.
- An internal note is seen by admins only, notifies nobody and is not a first response.
- A merged duplicate is closed, shows "merged into #n" and takes no more change; its
  comments and attachments stay readable on it.
- The first response is the first comment (not an internal note) by anyone but the reporter.

Times are UTC; ``now`` parameters exist for tests. Nothing here raises a traceback at a user:
refusals are ``TicketError`` (a code) or ``PermissionDeniedError``, and change nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lib.auth.roles import can, require
from lib.export import csv_bytes
from lib.ingest.ledger import data_version
from lib.store import Cursor, Store
from lib.tickets import context, files, people
from lib.tickets.model import (
    BODY_MAX,
    CATEGORIES,
    SEVERITIES,
    STATUSES,
    SUBJECT_MAX,
    Attachment,
    Comment,
    Draft,
    HistoryEntry,
    ResponseTimes,
    Thread,
    Ticket,
    TicketError,
    Upload,
)
from lib.tickets.notify import Event, TicketNotifier

_TICKET_COLUMNS = """t.ticket_id, t.subject, t.body, t.category, t.severity, t.status,
    t.reporter, t.assignee, t.created_at, t.updated_at, t.first_response_at, t.merged_into,
    t.page, t.view_link, t.app_version, t.data_version,
    (SELECT count(*) FROM ticket_comments c WHERE c.ticket_id = t.ticket_id
        AND (? OR NOT c.internal)),
    (SELECT count(*) FROM ticket_attachments a WHERE a.ticket_id = t.ticket_id
        AND (? OR a.comment_id IS NULL OR a.comment_id IN (SELECT comment_id FROM
             ticket_comments c2 WHERE c2.ticket_id = t.ticket_id AND NOT c2.internal)))"""


def _now(now: datetime | None) -> datetime:
    return (now or datetime.now(UTC)).astimezone(UTC)


def _ticket(row: Sequence[Any]) -> Ticket:
    return Ticket(
        number=int(row[0]), subject=row[1], body=row[2], category=row[3], severity=row[4],
        status=row[5], reporter=row[6], assignee=row[7], created_at=row[8], updated_at=row[9],
        first_response_at=row[10], merged_into=row[11], page=row[12], view_link=row[13],
        app_version=row[14], data_version=row[15], comments=int(row[16]),
        attachments=int(row[17]),
    )  # fmt: skip


def _is_admin(role: str | None) -> bool:
    return can(role, "manage_tickets")


def _fetch(cur: Cursor, number: int, admin: bool) -> Ticket | None:
    row = cur.execute(
        f"SELECT {_TICKET_COLUMNS} FROM tickets t WHERE t.ticket_id = ?", [admin, admin, number]
    ).fetchone()
    return _ticket(row) if row else None


def _visible(cur: Cursor, user: str, role: str | None, number: object) -> Ticket:
    """The ticket ``number`` if the caller may see it, else ``not_found`` (the same refusal
    whether it exists or not)."""
    require(role, "tickets")
    try:
        n = int(str(number))
    except ValueError:
        raise TicketError("not_found", "ticket") from None
    found = _fetch(cur, n, _is_admin(role))
    if found is None or not (_is_admin(role) or found.reporter == user):
        raise TicketError("not_found", "ticket")
    return found


def _text(value: str | None, field: str, limit: int) -> str:
    text = (value or "").strip()
    if not text or len(text) > limit:
        raise TicketError(field, field, limit=limit)  # type: ignore[arg-type]
    return text


def _history(cur: Cursor, number: int, at: datetime, actor: str, kind: str,
             old: str | None, new: str | None) -> int:  # fmt: skip
    hid = int(cur.execute("SELECT nextval('ticket_history_id_seq')").fetchone()[0])  # type: ignore[index]
    cur.execute(
        "INSERT INTO ticket_history VALUES (?, ?, ?, ?, ?, ?, ?)",
        [hid, number, at, actor, kind, old, new],
    )
    return hid


def _store_files(cur: Cursor, number: int, comment: int | None, user: str, at: datetime,
                 checked: list[files.CheckedFile]) -> None:  # fmt: skip
    for f in checked:
        cur.execute(
            """INSERT INTO ticket_attachments VALUES (nextval('ticket_attachment_id_seq'),
               ?, ?, ?, ?, ?, ?, ?, ?)""",
            [number, comment, f.filename, f.media_type, f.size, user, at, f.data],
        )


def _event(t: Ticket, kind: str, actor: str, ref: int, *, to_reporter: bool,
           into: int | None = None) -> Event:  # fmt: skip
    return Event(kind, t.number, t.subject, t.status, t.category, t.severity, t.reporter,
                 t.assignee, actor, ref, to_reporter, into)  # fmt: skip


def _send(store: Store, notifier: TicketNotifier | None, event: Event) -> None:
    (notifier or TicketNotifier())(store, event)


# -- filing and following ---------------------------------------------------------------------
def submit(
    store: Store,
    user: str,
    role: str | None,
    draft: Draft,
    uploads: Sequence[Upload] = (),
    *,
    now: datetime | None = None,
    notifier: TicketNotifier | None = None,
) -> Ticket:
    """File a ticket (any signed-in role). The view link is kept only when it is a relative
    link to a page of the app (else dropped: the page shows a note); the app's and the data's
    versions are captured. Raises ``TicketError`` (subject, body, category, severity, an
    attachment's refusal) with nothing stored."""
    require(role, "tickets")
    subject = " ".join(_text(draft.subject, "subject", SUBJECT_MAX).split())
    body = _text(draft.body, "body", BODY_MAX)
    if draft.category not in CATEGORIES:
        raise TicketError("category", "category")
    if draft.severity not in SEVERITIES:
        raise TicketError("severity", "severity")
    checked = files.check_all(list(uploads))
    where = context.view_link(draft.view_link)
    at = _now(now)
    version = data_version(store)
    with store.write() as cur:
        number = int(cur.execute("SELECT nextval('ticket_id_seq')").fetchone()[0])  # type: ignore[index]
        cur.execute(
            """INSERT INTO tickets (ticket_id, subject, body, category, severity, status,
                   reporter, assignee, created_at, updated_at, first_response_at, merged_into,
                   page, view_link, app_version, data_version)
               VALUES (?, ?, ?, ?, ?, 'open', ?, NULL, ?, ?, NULL, NULL, ?, ?, ?, ?)""",
            [number, subject, body, draft.category, draft.severity, user, at, at,
             where[0] if where else None, where[1] if where else None,
             context.app_version(), version],
        )  # fmt: skip
        _history(cur, number, at, user, "status", None, "open")
        _store_files(cur, number, None, user, at, checked)
        ticket = _fetch(cur, number, True)
    assert ticket is not None
    _send(store, notifier, _event(ticket, "new", user, number, to_reporter=False))
    return ticket


def my_tickets(store: Store, user: str, role: str | None) -> list[Ticket]:
    """The tickets ``user`` reported, newest first (never anyone else's, admins included:
    they see every ticket through ``search``)."""
    require(role, "tickets")
    with store.read() as cur:
        rows = cur.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets t WHERE t.reporter = ? "
            "ORDER BY t.ticket_id DESC",
            [False, False, user],
        ).fetchall()
    return [_ticket(r) for r in rows]


def get(store: Store, user: str, role: str | None, number: object) -> Thread:
    """One ticket with its comments, attachments (described), history and the duplicates
    merged into it; ``not_found`` unless the caller reported it or is an admin. A reporter
    never sees internal notes nor their attachments."""
    admin = _is_admin(role)
    with store.read() as cur:
        t = _visible(cur, user, role, number)
        comments = [
            Comment(int(r[0]), t.number, r[1], r[2], r[3], bool(r[4]))
            for r in cur.execute(
                """SELECT comment_id, author, created_at, body, internal FROM ticket_comments
                   WHERE ticket_id = ? AND (? OR NOT internal) ORDER BY created_at, comment_id""",
                [t.number, admin],
            ).fetchall()
        ]
        shown = {c.id for c in comments}
        attachments = [
            Attachment(int(r[0]), t.number, r[1], r[2], r[3], int(r[4]), r[5], r[6])
            for r in cur.execute(
                """SELECT attachment_id, comment_id, filename, media_type, size, uploaded_by, created_at
                   FROM ticket_attachments WHERE ticket_id = ? ORDER BY attachment_id""",
                [t.number],
            ).fetchall()
            if r[1] is None or r[1] in shown
        ]
        history = [
            HistoryEntry(r[0], r[1], r[2], r[3], r[4])
            for r in cur.execute(
                """SELECT created_at, actor, kind, old, new FROM ticket_history WHERE ticket_id = ?
                   ORDER BY created_at, id""",
                [t.number],
            ).fetchall()
        ]
        merged_from = [
            int(r[0])
            for r in cur.execute(
                "SELECT ticket_id FROM tickets WHERE merged_into = ? ORDER BY ticket_id",
                [t.number],
            ).fetchall()
        ]
    return Thread(t, comments, attachments, history, merged_from)


def attachment_bytes(
    store: Store, user: str, role: str | None, attachment_id: object
) -> tuple[Attachment, bytes]:
    """An attachment and its bytes, for its ticket's readers only (``not_found`` otherwise,
    and for an internal note's file asked by a non-admin)."""
    require(role, "tickets")
    try:
        aid = int(str(attachment_id))
    except ValueError:
        raise TicketError("not_found", "attachment") from None
    with store.read() as cur:
        row = cur.execute(
            """SELECT a.attachment_id, a.ticket_id, a.comment_id, a.filename, a.media_type,
                      a.size, a.uploaded_by, a.created_at, a.data, coalesce(c.internal, false)
               FROM ticket_attachments a
               LEFT JOIN ticket_comments c ON c.comment_id = a.comment_id
               WHERE a.attachment_id = ?""",
            [aid],
        ).fetchone()
        if row is None:
            raise TicketError("not_found", "attachment")
        _visible(cur, user, role, row[1])
        if row[9] and not _is_admin(role):
            raise TicketError("not_found", "attachment")
    return Attachment(int(row[0]), int(row[1]), row[2], row[3], row[4], int(row[5]), row[6],
                      row[7]), bytes(row[8])  # fmt: skip


def comment(
    store: Store,
    user: str,
    role: str | None,
    number: object,
    body: str,
    uploads: Sequence[Upload] = (),
    *,
    internal: bool = False,
    now: datetime | None = None,
    notifier: TicketNotifier | None = None,
) -> Comment:
    """Add a comment (Markdown) with files, by the reporter or an admin; ``internal`` notes
    are for admins only. A merged ticket takes none (``merged``)."""
    require(role, "tickets")
    text = _text(body, "body", BODY_MAX)
    at = _now(now)
    admin = _is_admin(role)
    if internal:
        require(role, "manage_tickets")
    with store.write() as cur:
        t = _visible(cur, user, role, number)
        if t.merged_into is not None:
            raise TicketError("merged", "ticket", into=t.merged_into)
        held = int(cur.execute(
            "SELECT coalesce(sum(size), 0) FROM ticket_attachments WHERE ticket_id = ?",
            [t.number]).fetchone()[0])  # type: ignore[index]  # fmt: skip
        checked = files.check_all(list(uploads), already=held)
        cid = int(cur.execute("SELECT nextval('ticket_comment_id_seq')").fetchone()[0])  # type: ignore[index]
        cur.execute(
            "INSERT INTO ticket_comments VALUES (?, ?, ?, ?, ?, ?)",
            [cid, t.number, user, at, text, internal],
        )
        _store_files(cur, t.number, cid, user, at, checked)
        by_reporter = user == t.reporter
        if not internal and not by_reporter and t.first_response_at is None:
            cur.execute(
                "UPDATE tickets SET first_response_at = ? WHERE ticket_id = ?", [at, t.number]
            )
        if by_reporter and t.status == "waiting" and not internal:
            cur.execute("UPDATE tickets SET status = 'open' WHERE ticket_id = ?", [t.number])
            _history(cur, t.number, at, user, "status", "waiting", "open")
        cur.execute("UPDATE tickets SET updated_at = ? WHERE ticket_id = ?", [at, t.number])
        after = _fetch(cur, t.number, admin)
    assert after is not None
    if not internal:
        _send(store, notifier, _event(after, "reply", user, cid, to_reporter=not by_reporter))
    return Comment(cid, t.number, user, at, text, internal)


# -- triage -------------------------------------------------------------------------------
def set_status(
    store: Store,
    user: str,
    role: str | None,
    number: object,
    status: str,
    *,
    now: datetime | None = None,
    notifier: TicketNotifier | None = None,
) -> Ticket:
    """Move a ticket to ``status``. Admins: any status. The reporter: close it, or reopen it
    (to open) once resolved or closed; anything else ``transition``. Merged: ``merged``."""
    require(role, "tickets")
    if status not in STATUSES:
        raise TicketError("status", "status")
    at = _now(now)
    admin = _is_admin(role)
    with store.write() as cur:
        t = _visible(cur, user, role, number)
        if t.merged_into is not None:
            raise TicketError("merged", "ticket", into=t.merged_into)
        if not admin:
            reopen = status == "open" and t.status in ("resolved", "closed")
            if not (status == "closed" or reopen):
                raise TicketError("transition", "status")
        if status == t.status:
            return t
        cur.execute(
            "UPDATE tickets SET status = ?, updated_at = ? WHERE ticket_id = ?",
            [status, at, t.number],
        )
        hid = _history(cur, t.number, at, user, "status", t.status, status)
        after = _fetch(cur, t.number, admin)
    assert after is not None
    _send(store, notifier, _event(after, "status", user, hid, to_reporter=user != t.reporter))
    return after


def assign(
    store: Store,
    user: str,
    role: str | None,
    number: object,
    assignee: str | None,
    *,
    now: datetime | None = None,
    notifier: TicketNotifier | None = None,
) -> Ticket:
    """Assign a ticket to an admin (admins only); None: nobody. ``assignee`` when the name is
    not an active admin's."""
    require(role, "manage_tickets")
    if assignee is not None and assignee not in people.admins(store):
        raise TicketError("assignee", "assignee")
    at = _now(now)
    with store.write() as cur:
        t = _visible(cur, user, role, number)
        if t.assignee == assignee:
            return t
        cur.execute(
            "UPDATE tickets SET assignee = ?, updated_at = ? WHERE ticket_id = ?",
            [assignee, at, t.number],
        )
        hid = _history(cur, t.number, at, user, "assign", t.assignee, assignee)
        after = _fetch(cur, t.number, True)
    assert after is not None
    if assignee:
        _send(store, notifier, _event(after, "assign", user, hid, to_reporter=False))
    return after


def merge(
    store: Store,
    user: str,
    role: str | None,
    number: object,
    into: object,
    *,
    now: datetime | None = None,
    notifier: TicketNotifier | None = None,
) -> Ticket:
    """Merge the duplicate ``number`` into ``into`` (admins only): the duplicate is closed and
    shows "merged into #into"; its comments and attachments stay on it, readable. Refused:
    the same ticket (``merge_self``), either already merged (``merged``), a missing one."""
    require(role, "manage_tickets")
    at = _now(now)
    with store.write() as cur:
        dup = _visible(cur, user, role, number)
        target = _visible(cur, user, role, into)
        if dup.number == target.number:
            raise TicketError("merge_self", "into")
        if dup.merged_into is not None or target.merged_into is not None:
            raise TicketError("merged", "into", into=dup.merged_into or target.merged_into)
        cur.execute(
            """UPDATE tickets SET merged_into = ?, status = 'closed', updated_at = ?
               WHERE ticket_id = ?""",
            [target.number, at, dup.number],
        )
        if dup.status != "closed":
            _history(cur, dup.number, at, user, "status", dup.status, "closed")
        hid = _history(cur, dup.number, at, user, "merge", None, str(target.number))
        _history(cur, target.number, at, user, "merged_from", None, str(dup.number))
        cur.execute("UPDATE tickets SET updated_at = ? WHERE ticket_id = ?", [at, target.number])
        after = _fetch(cur, dup.number, True)
    assert after is not None
    _send(store, notifier,
          _event(after, "merge", user, hid, to_reporter=True, into=target.number))  # fmt: skip
    return after


# -- admins' views ----------------------------------------------------------------------------
@dataclass(frozen=True)
class TicketQuery:
    """What the admins' list and its CSV export keep: every word of ``words`` (any case) in
    the subject, the description or a comment (internal notes included); a status and a
    category among those given (none: any); ``assignee`` ("": unassigned; None: anyone);
    ``reporter`` (None: anyone)."""

    words: str = ""
    statuses: Sequence[str] = ()
    categories: Sequence[str] = ()
    assignee: str | None = None
    reporter: str | None = None

    def where(self) -> tuple[str, list[Any]]:
        """The SQL condition over ``tickets t`` (from `` WHERE``) and its parameters."""
        sql = " WHERE 1 = 1"
        params: list[Any] = []
        for word in (self.words or "").lower().split():
            sql += """ AND strpos(lower(t.subject || ' ' || t.body || ' ' || coalesce((SELECT
                       string_agg(c.body, ' ') FROM ticket_comments c
                       WHERE c.ticket_id = t.ticket_id), '')), ?) > 0"""
            params.append(word)
        if self.statuses:
            sql += " AND list_contains(?, t.status)"
            params.append(list(self.statuses))
        if self.categories:
            sql += " AND list_contains(?, t.category)"
            params.append(list(self.categories))
        if self.assignee is not None:
            sql += (
                " AND t.assignee IS NOT DISTINCT FROM ?"
                if self.assignee
                else " AND t.assignee IS NULL"
            )
            if self.assignee:
                params.append(self.assignee)
        if self.reporter:
            sql += " AND t.reporter = ?"
            params.append(self.reporter)
        return sql, params


def search(store: Store, role: str | None, q: TicketQuery = TicketQuery()) -> list[Ticket]:
    """Every ticket ``q`` keeps, newest first. Admins only."""
    require(role, "manage_tickets")
    where, params = q.where()
    with store.read() as cur:
        rows = cur.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets t{where} ORDER BY t.ticket_id DESC",
            [True, True, *params],
        ).fetchall()
    return [_ticket(r) for r in rows]


EXPORT_COLUMNS = (
    "number", "subject", "category", "severity", "status", "reporter", "assignee",
    "created_at", "updated_at", "first_response_at", "first_response_s", "merged_into",
    "comments", "attachments", "page", "view_link", "app_version", "data_version",
)  # fmt: skip


def export_csv(store: Store, role: str | None, q: TicketQuery = TicketQuery()) -> bytes:
    """The tickets ``search`` finds, as UTF-8 CSV (with BOM) of ``EXPORT_COLUMNS`` (times in
    UTC, ISO 8601; ``first_response_s`` in seconds), queried with DuckDB; a text cell that a
    spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``…) starts with ``'``.
    Admins only."""
    require(role, "manage_tickets")
    where, params = q.where()
    iso = "'%Y-%m-%dT%H:%M:%SZ'"
    sql = f"""SELECT t.ticket_id AS number, t.subject, t.category, t.severity, t.status,
                t.reporter, t.assignee,
                strftime(timezone('UTC', t.created_at), {iso}) AS created_at,
                strftime(timezone('UTC', t.updated_at), {iso}) AS updated_at,
                strftime(timezone('UTC', t.first_response_at), {iso}) AS first_response_at,
                CAST(epoch(t.first_response_at) - epoch(t.created_at) AS BIGINT)
                    AS first_response_s,
                t.merged_into,
                (SELECT count(*) FROM ticket_comments c WHERE c.ticket_id = t.ticket_id)
                    AS comments,
                (SELECT count(*) FROM ticket_attachments a WHERE a.ticket_id = t.ticket_id)
                    AS attachments,
                t.page, t.view_link, t.app_version, t.data_version
              FROM tickets t{where} ORDER BY t.ticket_id"""
    with store.read() as cur:
        df = cur.df(sql, params)
    for col in ("merged_into", "first_response_s"):
        df[col] = df[col].astype("Int64")
    return csv_bytes(df)


def response_times(
    store: Store, role: str | None, start: datetime | None = None, end: datetime | None = None
) -> ResponseTimes:
    """Time to first response of the tickets filed in [``start``, ``end``) (None: unbounded):
    how many, how many answered, and the median in seconds of the answered (the mean of the
    two middle ones for an even count). Admins only."""
    require(role, "manage_tickets")
    row = store.query(
        """SELECT count(*), count(first_response_at),
                  median(epoch(first_response_at) - epoch(created_at))
           FROM tickets WHERE (?::TIMESTAMPTZ IS NULL OR created_at >= ?)
             AND (?::TIMESTAMPTZ IS NULL OR created_at < ?)""",
        [start, start, end, end],
    )[0]
    return ResponseTimes(int(row[0]), int(row[1]), float(row[2]) if row[2] is not None else None)


def admins(store: Store, role: str | None) -> list[str]:
    """The admins a ticket can be assigned to (admins only)."""
    require(role, "manage_tickets")
    return people.admins(store)
