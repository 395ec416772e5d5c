"""The weekly summary's figures and who gets it.

``weekly_figures(store, week_start)`` gives the spend of the week (seven days from the
reporting defaults' week start, Monday or Sunday; UTC) and of the week before, by the
alerts' rule for spend (the bill where a cost report covers a day, else the stated cost plus
the estimate of what states none), the models and projects whose
spend moved most, and the open alerts. Each user chooses a channel for it (or none) with
``set_choice``; ``due(store, now)`` lists the users whose summary of the last complete week
has not been sent yet, and ``mark_sent`` records it, so a week is sent once per user however
often the worker looks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from lib.alerts.measure import spend_ctes
from lib.notify.model import Severity
from lib.notify.summary import Mover, OpenAlert, WeeklyFigures
from lib.settings import reporting_defaults
from lib.store import Cursor, Store

CHOICE = "weekly_summary:"  # settings key prefix: + username -> a channel name
MY_EMAIL = "@me"  # the channel choice that sends to the user's own e-mail address
SENT = "weekly_summary_sent:"  # + username -> the Monday (ISO date) of the last week sent
MOVERS_PER_KIND = 5
ALERTS_LISTED = 5


def last_complete_week(now: datetime, first_weekday: int = 0) -> date:
    """The first day of the last week (00:00 to 00:00 UTC, seven days from
    ``first_weekday``: 0 Monday, 6 Sunday, the reporting defaults' week start) that ended
    before ``now``."""
    today = now.astimezone(UTC).date()
    this_week = today - timedelta(days=(today.weekday() - first_weekday) % 7)
    return this_week - timedelta(days=7)


def _epoch(d: date) -> int:
    return int(datetime(d.year, d.month, d.day, tzinfo=UTC).timestamp())


def _by_subject(cur: Cursor, kind: str, start: int, end: int) -> dict[str, Decimal]:
    ctes, params = spend_ctes(cur, kind, start, end)
    rows = cur.execute(
        f"WITH {ctes} SELECT coalesce(subject, ''), sum(usd) FROM spend GROUP BY 1", params
    ).fetchall()
    return {str(s): Decimal(str(v or 0)) for s, v in rows}


def weekly_figures(store: Store, week_start: date, link: str | None = None) -> WeeklyFigures:
    """The figures of the week starting ``week_start`` (the week's first day, UTC) against the week
    before: spend (USD, exact), the movers (models and projects, ``MOVERS_PER_KIND`` each by
    the size of their change) and the open alerts (the highest levels first)."""
    start, end = _epoch(week_start), _epoch(week_start + timedelta(days=7))
    before = start - 7 * 86400
    with store.read() as cur:
        this = _by_subject(cur, "organisation", start, end)
        last = _by_subject(cur, "organisation", before, start)
        movers: list[Mover] = []
        for kind, label in (("model", "model"), ("project", "project")):
            now_, then = _by_subject(cur, kind, start, end), _by_subject(cur, kind, before, start)
            changes = sorted(
                ((name, now_.get(name, Decimal(0)), then.get(name, Decimal(0))) for name in now_.keys() | then.keys()),
                key=lambda r: (-abs(r[1] - r[2]), r[0]),
            )[:MOVERS_PER_KIND]  # fmt: skip
            movers += [Mover(f"{label} {name or '—'}", s, p) for name, s, p in changes]
        alerts = cur.execute(
            """SELECT r.name, i.subject, i.level FROM alert_incidents i
               JOIN alert_rules r USING (rule_id)
               WHERE i.state <> 'resolved' ORDER BY i.level DESC, i.opened_at LIMIT ?""",
            [ALERTS_LISTED],
        ).fetchall()
        count = cur.execute(
            "SELECT count(*) FROM alert_incidents WHERE state <> 'resolved'"
        ).scalar()
    listed = [
        OpenAlert(f"{name} · {subject}" if subject else name,
                  Severity.CRITICAL if level >= 100 else Severity.WARNING)
        for name, subject, level in alerts
    ]  # fmt: skip
    return WeeklyFigures(
        start=week_start, end=week_start + timedelta(days=6), spend=sum(this.values(), Decimal(0)),
        previous=sum(last.values(), Decimal(0)), movers=movers, open_alerts=listed,
        open_alerts_count=int(count or 0), link=link,
    )  # fmt: skip


# -- who gets it ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Due:
    username: str
    channel: str
    week_start: date


def choice(store: Store, username: str) -> str | None:
    """The channel ``username`` chose for the weekly summary (None: no summary)."""
    return store.scalar("SELECT value FROM settings WHERE key = ?", [CHOICE + username])


def set_choice(store: Store, username: str, channel: str | None) -> None:
    """Choose (or with None stop) the weekly summary for ``username``: every signed-in user
    chooses for themselves, so no role is asked."""
    with store.write() as cur:
        cur.execute("DELETE FROM settings WHERE key = ?", [CHOICE + username])
        if channel:
            cur.execute("INSERT INTO settings VALUES (?, ?)", [CHOICE + username, channel])


def due(store: Store, now: datetime) -> list[Due]:
    """The users whose summary of the last complete week before ``now`` is not sent yet."""
    week = last_complete_week(now, reporting_defaults(store).first_weekday)
    rows = store.query(
        """SELECT substr(c.key, ?), c.value, s.value FROM settings c
           LEFT JOIN settings s ON s.key = ? || substr(c.key, ?)
           WHERE starts_with(c.key, ?) ORDER BY 1""",
        [len(CHOICE) + 1, SENT, len(CHOICE) + 1, CHOICE],
    )
    return [Due(user, channel, week) for user, channel, sent in rows if sent != week.isoformat()]


def mark_sent(store: Store, username: str, week_start: date) -> None:
    """Record that ``username``'s summary of the week of ``week_start`` went out."""
    with store.write() as cur:
        cur.execute("DELETE FROM settings WHERE key = ?", [SENT + username])
        cur.execute("INSERT INTO settings VALUES (?, ?)", [SENT + username, week_start.isoformat()])
