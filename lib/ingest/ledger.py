"""The import ledger (the ``imports`` table): the only module that writes it.

One row per import: what was read (file name, content hash, format, source, grains), where it
came from (``origin``, one of ``ORIGINS``), what it did (rows read, new, duplicate, replaced;
the period it covers) and how it ended (``ok``, ``failed`` with the message, ``undone``). The
engine records an import in the same transaction as its facts; a failure is recorded in a
transaction of its own after the import's was rolled back. Also the reads people and caches
need: the history, newest first, and the data version.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

import duckdb

from lib.errors import StoreError
from lib.ingest.result import ORIGINS, ImportResult
from lib.store import Cursor, Store

if TYPE_CHECKING:
    from lib.importers.base import Plan


def check_origin(origin: str) -> None:
    """Raise ``ValueError`` unless ``origin`` is one of ``ORIGINS`` (a programming error)."""
    if origin not in ORIGINS:
        raise ValueError(f"unknown import origin {origin!r}: expected one of {', '.join(ORIGINS)}")


# -- writes (inside the engine's transactions) -------------------------------------------
def new_import_id(cur: Cursor) -> int:
    """The next import id (ids are never reused, even by imports that fail)."""
    return int(cur.execute("SELECT nextval('import_id_seq')").scalar())


def record_ok(
    cur: Cursor,
    result: ImportResult,
    *,
    content_hash: str | None,
    started: datetime,
    finished: datetime,
) -> None:
    """Record a successful import, in the transaction that wrote its facts."""
    cur.execute(
        """INSERT INTO imports (import_id, file_name, content_hash, format, source, grain,
           rows_read, rows_new, rows_duplicate, rows_replaced, period_start, period_end,
           started_at, finished_at, status, is_demo, origin)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?, ?)""",
        [result.import_id, result.file_name, content_hash, result.format, result.source,
         result.grain, result.rows_read, result.rows_new, result.rows_duplicate,
         result.rows_replaced, result.period_start, result.period_end, started, finished,
         result.origin == "demo", result.origin],
    )  # fmt: skip


def record_failure(
    store: Store,
    display: str,
    origin: str,
    content_hash: str | None,
    plan: Plan | None,
    started: datetime,
    finished: datetime,
    error: str,
) -> None:
    """Record a failed import (its own transaction; the import's was rolled back). Nothing is
    recorded when the database cannot be written (a full disk, closed after a fatal error)."""
    try:
        with store.write() as cur:
            cur.execute(
                """INSERT INTO imports (import_id, file_name, content_hash, format, source, grain,
                   started_at, finished_at, status, error, is_demo, origin)
                   VALUES (nextval('import_id_seq'), ?, ?, ?, ?, ?, ?, ?, 'failed', ?, ?, ?)""",
                [display, content_hash, plan.format if plan else None,
                 plan.source if plan else None, plan.grains if plan else None, started, finished,
                 error, origin == "demo", origin],
            )  # fmt: skip
    except (StoreError, duckdb.Error):
        pass


def any_ok(cur: Cursor, source: str) -> bool:
    """True when an import of ``source`` is live (so a new one may repeat its rows)."""
    return bool(
        cur.execute(
            "SELECT count(*) FROM imports WHERE source = ? AND status = 'ok'", [source]
        ).scalar()
    )


def status_of(cur: Cursor, import_id: int) -> tuple[str, str | None, str | None] | None:
    """(status, grain, source) of one import; None when there is no such import."""
    row = cur.execute(
        "SELECT status, grain, source FROM imports WHERE import_id = ?", [import_id]
    ).fetchone()
    return None if row is None else (row[0], row[1], row[2])


def mark_undone(cur: Cursor, import_id: int, at: datetime) -> None:
    """Record that an import was undone, in the transaction that removed its rows."""
    cur.execute(
        "UPDATE imports SET status = 'undone', undone_at = ? WHERE import_id = ?", [at, import_id]
    )


# -- reads -------------------------------------------------------------------------------
@dataclass(frozen=True)
class LedgerRow:
    import_id: int
    status: str  # ok | failed | undone
    file_name: str
    format: str | None
    grain: str | None
    rows_read: int | None
    rows_new: int | None
    rows_duplicate: int | None
    rows_replaced: int | None
    period_start: datetime | None
    period_end: datetime | None
    started_at: datetime
    is_demo: bool
    error: str | None
    origin: str = "file"  # one of ORIGINS


def history(
    store: Store,
    limit: int = 500,
    origins: Sequence[str] | None = None,
    status: str | None = None,
) -> list[LedgerRow]:
    """The last ``limit`` imports, newest first; only those of ``origins`` when given (a list
    of files and pulls without one entry per playground run: every origin but ``playground``)
    and only those of ``status`` (ok | failed | undone) when given. Both filters apply before
    the limit, so an old failure is still found behind many newer imports."""
    conds: list[str] = []
    params: list[object] = []
    if origins is not None:
        conds.append("list_contains(?, origin)")
        params.append(list(origins))
    if status is not None:
        conds.append("status = ?")
        params.append(status)
    where = f"WHERE {' AND '.join(conds)}" if conds else ""
    rows = store.query(
        f"""SELECT import_id, status, file_name, format, grain, rows_read, rows_new, rows_duplicate,
                   rows_replaced, period_start, period_end, started_at, is_demo, error, origin
            FROM imports {where} ORDER BY import_id DESC LIMIT ?""",
        [*params, limit],
    )
    return [LedgerRow(*r) for r in rows]


def data_version(store: Store) -> str:
    """Changes whenever an import lands or is undone (a playground run is an import): the
    cache key for query results. Prices are not part of it."""
    row = store.query(
        """SELECT count(*), coalesce(max(import_id), 0), count(undone_at), coalesce(sum(rows_new), 0)
           FROM imports WHERE status <> 'failed'"""
    )[0]
    return "-".join(str(v) for v in row)


def has_data(store: Store) -> bool:
    """True once any import has landed (and not been undone)."""
    return bool(store.scalar("SELECT count(*) FROM imports WHERE status = 'ok'"))


def ever_imported(store: Store) -> bool:
    """True once anything was ever imported, even if failed or undone since."""
    return bool(store.scalar("SELECT count(*) FROM imports"))


def has_demo_data(store: Store) -> bool:
    """True while demo data is loaded (an import of origin ``demo`` not undone)."""
    return bool(store.scalar("SELECT count(*) FROM imports WHERE is_demo AND status = 'ok'"))
