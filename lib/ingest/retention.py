"""Retention: request rows older than N days are deleted while every rollup keeps its totals.

The cut is a UTC day: with N days on UTC day D, request events dated before D − N at 00:00 UTC
go (``before_day``); those of the N previous days and of today stay. What hangs off a removed
event goes with it: the claims other imports held on it (``event_claims``). The rollups
(``agg_hourly``, ``agg_user_daily``, ``agg_error_hourly``, the latency histograms), the counted
streams, usage buckets and cost lines are never touched, so the pages' totals stay the same;
what needs the rows themselves (the request drill-down, exact percentiles by key or user, error
messages) no longer covers the days removed.

Three things keep totals exact afterwards:
- the cut is remembered (``HORIZON``, the latest cut ever applied): an import skips its request
  rows dated before it, with a note, instead of counting again rows whose originals were removed
  (they could not be recognised as duplicates) — ``skip_before_horizon``, called by
  ``lib.ingest.requests``;
- undoing an import drops all its rollups, those of removed rows too (exact). But when another
  live import also contained removed rows (it skipped them as duplicates and would have been
  handed them), undoing the holder would take them out of that import's totals: it is refused
  until that import is undone first (``check_undo``, called by ``lib.ingest.undo``);
- ``apply`` compares every rollup before and after the delete, in its transaction, and rolls
  back if anything differs.

``apply`` is one transaction, audited (``retention_applied``), followed by a CHECKPOINT so freed
blocks can be reused (the file shrinks when they are its last ones). The setting (N days; none by
default) lives in the ``settings`` table; the worker applies it once a UTC day (``apply_due``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from lib.auth.roles import require
from lib.errors import TokenboardError
from lib.store import Cursor, Store
from lib.store.audit import audit
from lib.store.facts import checkpoint, file_sizes
from lib.text import N_

DAYS = "retention_days"  # the setting: whole days of request rows kept; absent: keep all
HORIZON = "retention_horizon"  # ISO UTC day: request rows dated before it were removed
LAST_RUN = "retention_last_run"  # ISO UTC day the worker last applied the setting
MAX_DAYS = 36_500  # a hundred years: anything longer is a typo
# Key budgets per month (lib.keys.store) and alert rules over a calendar month (in any time zone)
# read the request rows of the month so far: retention keeps at least that much.
MIN_DAYS = 32

ROLLUP_TABLES = ("agg_hourly", "agg_user_daily", "agg_error_hourly", "agg_latency_hourly",
                 "agg_latency_key_hourly", "agg_latency_user_daily", "agg_error_group_hourly",
                 "agg_latency_key_daily", "token_streams", "usage_buckets", "cost_items")  # fmt: skip


class RetentionError(TokenboardError):
    """A retention setting or action refused (the message says why); nothing changed."""


@dataclass(frozen=True)
class ImportCut:
    """What retention removes of one import: ``rows`` request rows dated from ``first_ts`` to
    ``last_ts`` (UTC), ``rows_left`` staying; ``claimed``: of those rows, how many other imports
    (``claimers``, still live) also contained: this import can no longer be undone before them."""

    import_id: int
    file_name: str
    source: str
    rows: int
    rows_left: int
    first_ts: datetime
    last_ts: datetime
    claimed: int = 0
    claimers: tuple[int, ...] = ()


@dataclass(frozen=True)
class Totals:
    """The pages' totals, from the counted rollups: requests, input and output tokens and the
    stated cost (USD, exact; None when no source states one)."""

    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: Any  # Decimal | None


@dataclass(frozen=True)
class RetentionPlan:
    """What ``apply`` would remove with ``days`` on ``today`` (UTC): request rows dated before
    ``before_day`` 00:00 UTC. ``tables``: rows removed per table; ``imports``: per import;
    ``first_ts``/``last_ts``: the oldest and newest removed row (None when nothing goes);
    ``totals``: the pages' totals, the same before and after."""

    days: int
    today: date
    before_day: date
    tables: dict[str, int]
    imports: list[ImportCut]
    first_ts: datetime | None
    last_ts: datetime | None
    totals: Totals

    @property
    def rows(self) -> int:
        """Request rows removed."""
        return self.tables.get("request_events", 0)


@dataclass(frozen=True)
class RetentionResult:
    """An applied plan, with the database file's bytes (file and log together) before the
    delete and after the checkpoint (None when not a local file)."""

    plan: RetentionPlan
    bytes_before: int | None
    bytes_after: int | None
    applied_at: datetime = field(default_factory=lambda: datetime.now(UTC))


# -- the setting -----------------------------------------------------------------------------
def check_days(days: object) -> int:
    """``days`` as a whole number of days from ``MIN_DAYS`` to ``MAX_DAYS``; ``RetentionError``
    naming the field and what is expected otherwise."""
    try:
        n = int(str(days).strip())
    except (TypeError, ValueError):
        n = None
    if n is None or str(n) != str(days).strip().lstrip("+") or not MIN_DAYS <= n <= MAX_DAYS:
        raise RetentionError(
            N_(
                "Retention (days): expected a whole number of days from {min} to {max} (key "
                "budgets and alert rules over a month read the month's request rows), got {got}.",
                min=MIN_DAYS,
                max=MAX_DAYS,
                got=str(days)[:40],
            )
        )
    return n


def _get(cur: Cursor, key: str) -> str | None:
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def _put(cur: Cursor, key: str, value: str | None) -> None:
    cur.execute("DELETE FROM settings WHERE key = ?", [key])
    if value is not None:
        cur.execute("INSERT INTO settings VALUES (?, ?)", [key, value])


def days_setting(store: Store) -> int | None:
    """The retention setting in days; None when request rows are kept forever (the default,
    or an unreadable value)."""
    with store.read() as cur:
        raw = _get(cur, DAYS)
    try:
        return check_days(raw) if raw is not None else None
    except RetentionError:
        return None


def horizon(store: Store) -> date | None:
    """The UTC day before which request rows were removed (the latest cut applied); None when
    retention never removed anything."""
    with store.read() as cur:
        return horizon_of(cur)


def horizon_of(cur: Cursor) -> date | None:
    """The retention horizon (see ``horizon``), read in the caller's transaction."""
    raw = _get(cur, HORIZON)
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def set_days(
    store: Store,
    days: int | str | None,
    *,
    role: str | None,
    actor: str | None,
    from_ip: str | None = None,
    now: datetime | None = None,
) -> int | None:
    """Set (``None``: clear, keep everything) the retention setting, audited as
    ``settings_changed``; admins only. Returns the days set."""
    require(role, "settings")
    n = None if days is None or str(days).strip() == "" else check_days(days)
    with store.write() as cur:
        before = _get(cur, DAYS)
        _put(cur, DAYS, None if n is None else str(n))
        audit(cur, now or datetime.now(UTC), actor, "settings_changed", DAYS,
              {"from": before, "to": None if n is None else str(n)}, from_ip)  # fmt: skip
    return n


# -- preview ---------------------------------------------------------------------------------
def before_day_of(days: int, today: date) -> date:
    """The first UTC day kept: rows dated before it 00:00 UTC go."""
    return today - timedelta(days=days)


def day_start(day: date) -> datetime:
    """00:00 UTC of ``day`` (request rows dated before the horizon's were removed)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _digest(cur: Cursor) -> list[tuple[Any, ...]]:
    """Every rollup (and the usage and cost facts), as row counts and sums of row hashes:
    equal before and after a retention delete, or it is rolled back."""
    out = []
    for table in ROLLUP_TABLES:
        out.append(cur.execute(f"SELECT count(*), sum(hash({table})) FROM {table}").fetchall()[0])
    return out


def _totals(cur: Cursor) -> Totals:
    row = cur.execute(
        """SELECT coalesce(sum(requests), 0), coalesce(sum(input_tokens), 0),
                  coalesce(sum(output_tokens), 0), sum(cost_usd)
           FROM counted_hourly"""
    ).fetchall()[0]
    return Totals(int(row[0]), int(row[1]), int(row[2]), row[3])


def _plan(cur: Cursor, days: int, today: date) -> RetentionPlan:
    """The plan, read with ``cur`` (a read or the apply's write transaction); leaves the temp
    table ``_gone`` (source, event_key, import_id of every row removed)."""
    cut = before_day_of(days, today)
    cur.execute(
        """CREATE OR REPLACE TEMP TABLE _gone AS
           SELECT import_id, source, event_key, ts FROM request_events WHERE ts < ?""",
        [day_start(cut)],
    )
    per_import = cur.execute(
        """SELECT g.import_id, coalesce(i.file_name, ''), g.source, count(*), min(g.ts), max(g.ts),
                  (SELECT count(*) FROM request_events r WHERE r.import_id = g.import_id) - count(*)
           FROM _gone g LEFT JOIN imports i USING (import_id)
           GROUP BY g.import_id, i.file_name, g.source ORDER BY g.import_id"""
    ).fetchall()
    claims = cur.execute(
        """SELECT g.import_id, c.import_id, count(*)
           FROM event_claims c JOIN _gone g ON c.source = g.source AND c.event_key = g.event_key
           JOIN imports i ON i.import_id = c.import_id AND i.status = 'ok'
           WHERE c.import_id <> g.import_id
           GROUP BY ALL ORDER BY 1, 2"""
    ).fetchall()
    n_claims = cur.execute(
        """SELECT count(*) FROM event_claims c
           WHERE EXISTS (SELECT 1 FROM _gone g
                         WHERE g.source = c.source AND g.event_key = c.event_key)"""
    ).scalar()
    by_holder: dict[int, list[tuple[int, int]]] = {}
    for holder, claimer, n in claims:
        by_holder.setdefault(int(holder), []).append((int(claimer), int(n)))
    imports = [
        ImportCut(
            int(r[0]),
            r[1],
            r[2],
            int(r[3]),
            int(r[6]),
            r[4],
            r[5],
            sum(n for _c, n in by_holder.get(int(r[0]), [])),
            tuple(c for c, _n in by_holder.get(int(r[0]), [])),
        )
        for r in per_import
    ]
    rows = sum(c.rows for c in imports)
    return RetentionPlan(
        days=days,
        today=today,
        before_day=cut,
        tables={"request_events": rows, "event_claims": int(n_claims or 0)},
        imports=imports,
        first_ts=min((c.first_ts for c in imports), default=None),
        last_ts=max((c.last_ts for c in imports), default=None),
        totals=_totals(cur),
    )


def preview(store: Store, days: int | str, *, now: datetime | None = None) -> RetentionPlan:
    """What ``apply`` would remove with ``days`` now (UTC); reads only (analysts may)."""
    n = check_days(days)
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    with store.read() as cur:
        plan = _plan(cur, n, today)
        cur.execute("DROP TABLE IF EXISTS _gone")
    return plan


# -- apply -----------------------------------------------------------------------------------
def apply(
    store: Store,
    days: int | str,
    *,
    role: str | None,
    actor: str | None,
    from_ip: str | None = None,
    now: datetime | None = None,
) -> RetentionResult:
    """Remove the request rows (and their claims) dated before ``days`` ago's UTC day, in one
    transaction, audited as ``retention_applied``; then CHECKPOINT (neither when nothing goes). Admins only. Raises
    ``RetentionError`` (nothing changed) should any rollup differ after the delete."""
    require(role, "settings")
    n = check_days(days)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    size, wal = file_sizes(store)
    bytes_before = None if size is None else size + (wal or 0)
    with store.write() as cur:
        plan = _plan(cur, n, at.date())
        if plan.rows:
            before = _digest(cur)
            cur.execute(
                """INSERT INTO retention_drops
                   SELECT import_id, NULL, any_value(source), count(*), ?, ? FROM _gone
                   GROUP BY import_id""",
                [plan.before_day, at],
            )
            for cut in plan.imports:
                for claimer in cut.claimers:
                    claimed = cur.execute(
                        """SELECT count(*) FROM event_claims c JOIN _gone g
                             ON c.source = g.source AND c.event_key = g.event_key
                           WHERE g.import_id = ? AND c.import_id = ?""",
                        [cut.import_id, claimer],
                    ).scalar()
                    cur.execute(
                        "INSERT INTO retention_drops VALUES (?, ?, ?, ?, ?, ?)",
                        [cut.import_id, claimer, cut.source, claimed, plan.before_day, at],
                    )
            cur.execute(
                """DELETE FROM event_claims c WHERE EXISTS (
                       SELECT 1 FROM _gone g WHERE g.source = c.source AND g.event_key = c.event_key)"""
            )
            cur.execute("DELETE FROM request_events WHERE ts < ?", [day_start(plan.before_day)])
            cur.execute("DELETE FROM error_events WHERE ts < ?", [day_start(plan.before_day)])
            if _digest(cur) != before:  # never expected: the delete touched no rollup
                raise RetentionError(
                    N_("Retention stopped: the totals would have changed; nothing was removed.")
                )
        old = horizon_of(cur)
        if plan.rows and (old is None or old < plan.before_day):
            _put(cur, HORIZON, plan.before_day.isoformat())
        cur.execute("DROP TABLE IF EXISTS _gone")
        if plan.rows:  # a run that removes nothing (the worker's, most days) leaves no entry
            audit(cur, at, actor, "retention_applied", f"{n} days",
                  {"days": n, "before_day": plan.before_day.isoformat(), "rows": plan.rows,
                   "claims": plan.tables["event_claims"], "imports": len(plan.imports)},
                  from_ip)  # fmt: skip
    if plan.rows:
        checkpoint(store)
    size, wal = file_sizes(store)
    return RetentionResult(plan, bytes_before, None if size is None else size + (wal or 0), at)


def apply_due(store: Store, now: datetime | None = None) -> RetentionResult | None:
    """The worker's daily call: apply the setting once a UTC day (None when no setting or
    already applied today). Acts as the system (actor ``worker``)."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    days = days_setting(store)
    if days is None:
        return None
    with store.read() as cur:
        last = _get(cur, LAST_RUN)
    if last == at.date().isoformat():
        return None
    result = apply(store, days, role="admin", actor="worker", now=at)
    with store.write() as cur:
        _put(cur, LAST_RUN, at.date().isoformat())
    return result


# -- what imports and undo ask -----------------------------------------------------------------
def skip_before_horizon(cur: Cursor, import_id: int) -> list[str]:
    """In an import's transaction: delete the request rows of ``import_id`` dated before the
    retention cut (their originals may have been removed, so they cannot be told from
    duplicates: counting them would add them twice to the rollups). Returns the note saying
    so, or nothing."""
    cut = horizon_of(cur)
    if cut is None:
        return []
    n = cur.execute(
        "DELETE FROM request_events WHERE import_id = ? AND ts < ?", [import_id, day_start(cut)]
    ).scalar()
    if not n:
        return []
    return [
        f"{n:,} request row(s) dated before {cut.isoformat()} (UTC) were left out: retention "
        "removed the request rows before that day (their totals are kept), so these could not "
        "be checked against rows already counted"
    ]


def check_undo(cur: Cursor, import_id: int) -> None:
    """Raise ``RetentionError`` when undoing ``import_id`` would lose totals: retention removed
    request rows of it that another live import also contained (undo would have handed them
    over). Undoing that other import first makes it possible."""
    row = cur.execute(
        """SELECT d.claimer_id, sum(d.rows), max(d.before_day)
           FROM retention_drops d JOIN imports i ON i.import_id = d.claimer_id AND i.status = 'ok'
           WHERE d.import_id = ? GROUP BY 1 ORDER BY 1 LIMIT 1""",
        [import_id],
    ).fetchone()
    if row is None:
        return
    raise RetentionError(
        N_(
            "Import #{id} cannot be undone: retention removed {n} of its request rows (dated "
            "before {day}) that import #{other} also contains. Undoing #{id} would take them out "
            "of the totals of #{other} too. Undo import #{other} first, then #{id}.",
            id=str(import_id),
            n=int(row[1]),
            day=row[2].isoformat(),
            other=str(row[0]),
        )
    )
