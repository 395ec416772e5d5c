"""Undo one import: remove its rows and rollups, bring back the buckets it had replaced (unless
a newer import still covers them), and hand the request rows that a later import still active
also contained (and skipped as duplicates, recording a claim on them) to that import.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lib.auth.roles import require
from lib.errors import NotFoundError, TokenboardError
from lib.i18n import N_, Text
from lib.ingest import ledger, retention
from lib.ingest.buckets import KIND, actor_kind
from lib.store import Cursor, Store, rollups

_STATUSES = (N_("failed"), N_("undone"))  # an import that cannot be undone is one of these


@dataclass
class UndoResult:
    """What an undo did: rows removed, earlier buckets live again, and request rows kept
    because a later import still active also contained them (they now belong to it)."""

    import_id: int
    rows_removed: int
    rows_restored: int
    rows_kept: int = 0

    def summary_line(self) -> str:
        text = (
            f"Import #{self.import_id} undone: {self.rows_removed:,} rows removed, "
            f"{self.rows_restored:,} earlier rows live again"
        )
        if self.rows_kept:
            text += (
                f", {self.rows_kept:,} rows kept because a later import also contains them "
                "(they now belong to it)"
            )
        return text + "."


def _hand_over_claimed(cur: Cursor, import_id: int, source: str) -> int:
    """Give the request rows of ``import_id`` that later imports (still active) also contained
    to the earliest of them, with their rollups; returns how many rows were handed over."""
    claimers = [
        r[0]
        for r in cur.execute(
            """SELECT DISTINCT c.import_id FROM event_claims c JOIN imports i USING (import_id)
               WHERE c.source = ? AND c.import_id <> ? AND i.status = 'ok' ORDER BY 1""",
            [source, import_id],
        ).fetchall()
    ]
    kept = 0
    for claimer in claimers:
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE moved AS
            SELECT event_key FROM request_events WHERE import_id = ? AND source = ?
            AND event_key IN (SELECT event_key FROM event_claims WHERE import_id = ? AND source = ?)""",
            [import_id, source, claimer, source],
        )
        n = cur.execute("SELECT count(*) FROM moved").scalar()
        if not n:
            continue
        cur.execute(
            """UPDATE request_events SET import_id = ?
            WHERE import_id = ? AND source = ? AND event_key IN (SELECT event_key FROM moved)""",
            [claimer, import_id, source],
        )
        # the claimer owns these rows now: its claim on them is settled
        cur.execute(
            """DELETE FROM event_claims
            WHERE import_id = ? AND source = ? AND event_key IN (SELECT event_key FROM moved)""",
            [claimer, source],
        )
        rollups.add_request_events(
            cur, claimer, source,
            "import_id = ? AND source = ? AND event_key IN (SELECT event_key FROM moved)",
            [claimer, source],
        )  # fmt: skip
        kept += n
    cur.execute("DROP TABLE IF EXISTS moved")
    return kept


def undo_import(store: Store, import_id: int, role: str | None = "admin") -> UndoResult:
    """Remove one import's rows (and rollups); buckets it had replaced become live again
    unless a newer pull still covers them, and request rows a later import still active also
    contained are handed to it instead of removed. ``role`` must allow ``undo_import``."""
    require(role, "undo_import")
    with store.write() as cur:
        row = ledger.status_of(cur, import_id)
        if row is None:
            raise NotFoundError(N_("There is no import #{id}.", id=str(import_id)))
        status, grain, source = row
        if status != "ok":
            raise TokenboardError(
                N_(
                    "Import #{id} is {status}; only a successful import can be undone.",
                    id=str(import_id),
                    status=Text(status),
                )
            )
        retention.check_undo(cur, import_id)  # refused when it would lose another's totals
        kept = _hand_over_claimed(cur, import_id, source) if grain == "request" and source else 0
        cur.execute("DELETE FROM event_claims WHERE import_id = ?", [import_id])
        removed = 0
        for table in ("request_events", "usage_buckets", "cost_items"):
            removed += cur.execute(f"DELETE FROM {table} WHERE import_id = ?", [import_id]).scalar()
        cur.execute("DELETE FROM bucket_coverage WHERE import_id = ?", [import_id])
        restored = 0
        for table in ("usage_buckets", "cost_items"):
            restored += cur.execute(
                f"UPDATE {table} SET replaced_by = NULL WHERE replaced_by = ?", [import_id]
            ).scalar()
            kind_t = KIND["usage" if table == "usage_buckets" else "cost"]
            pairs = f"""SELECT t.rowid AS rid, c.import_id AS by_import,
                       epoch_ms(least(c.bucket_end, t.bucket_end))
                           - epoch_ms(greatest(c.bucket_start, t.bucket_start)) AS part,
                       epoch_ms(t.bucket_end) - epoch_ms(t.bucket_start) AS len
                FROM {table} t JOIN bucket_coverage c
                  ON c.source = t.source AND c.kind = {{kind}} AND c.import_id > t.import_id
                 AND c.bucket_start < t.bucket_end AND c.bucket_end > t.bucket_start
                WHERE t.replaced_by IS NULL"""
            union, params = pairs.format(kind=kind_t), []
            if table == "usage_buckets":  # later pulls that covered only some actors
                union += " UNION ALL " + pairs.format(kind=actor_kind("t.")) + " AND t.source = ?"
                params = [source]
            cur.execute(
                f"""UPDATE {table} SET replaced_by = r.by_import FROM (
                    SELECT rid, max(by_import) AS by_import FROM (
                        SELECT rid, by_import, sum(part) AS covered, len
                        FROM ({union}) GROUP BY rid, by_import, len)
                    WHERE covered >= len GROUP BY rid) r
                WHERE {table}.rowid = r.rid""",
                params,
            )
        rollups.drop_import(cur, import_id)
        if "usage" in (grain or "").split("+") and source:  # usage, or cost+usage (a cloud bill)
            rollups.rebuild_usage_source(cur, source)
        ledger.mark_undone(cur, import_id, datetime.now(UTC))
    return UndoResult(import_id, removed, restored, kept)
