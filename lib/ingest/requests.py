"""Request events: written, de-duplicated and rolled up for one import.

``event_key`` (UBIGINT) identifies an event within its source: DuckDB's ``hash(request_id)``
when the row has a request id, else the hash of these 16 columns of the row, in this order:
ts, model, project, api_key, user_id, status, http_status, error_code, error_message,
latency_ms, input_tokens, cached_input_tokens, output_tokens, cost_usd, client_ip, origin
(``EVENT_KEY_COLS``; not the source, which scopes the look-up instead, nor provider,
error_type, cache_write_tokens, reasoning_tokens or batch). Two rows of one source with the
same key are the same event: the first stored is kept, the others are duplicates. An import
is checked against the stored rows of its own time range (its first to its last ``ts``): an
event has one time in every export, and the check then reads only those days, so importing a
day costs the same into a database of 100M rows as into an empty one. A request id stored
with a time outside that range is not a duplicate.

``error_fingerprint`` (UBIGINT, NULL for successes) groups similar errors: made here, in the
insert, by migration 14's ``error_fingerprint_of`` macro (``FINGERPRINT_SQL``).
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

import duckdb

from lib.importers.base import Plan
from lib.importers.canonical import COLUMNS
from lib.ingest import ledger, retention
from lib.ingest.progress import Progress, ProgressLine
from lib.store import Cursor, rollups

EVENT_KEY_COLS = (
    "ts",
    "model",
    "project",
    "api_key",
    "user_id",
    "status",
    "http_status",
    "error_code",
    "error_message",
    "latency_ms",
    "input_tokens",
    "cached_input_tokens",
    "output_tokens",
    "cost_usd",
    "client_ip",
    "origin",
)
# The fingerprint of an error row (NULL for a success): the macro of migration 14, over the
# columns being inserted (lib.store.migrations.ERROR_FINGERPRINT_MACROS says what it keeps).
FINGERPRINT_SQL = "error_fingerprint_of(status, provider, http_status, error_code, error_message)"
EVENT_KEY_SQL = (
    "CASE WHEN request_id IS NOT NULL THEN hash(request_id) "
    f"ELSE hash({', '.join(EVENT_KEY_COLS)}) END"
)


class Ticker(threading.Thread):
    """Reports DuckDB's progress on the running statement every ``every`` seconds."""

    def __init__(self, cur: Cursor, say: Progress, display: str, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.cur, self.say, self.display, self.every = cur, say, display, every
        self.stop = threading.Event()
        cur.execute("SET enable_progress_bar = true")
        cur.execute("SET enable_progress_bar_print = false")
        cur.execute("SET progress_bar_time = 0")

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.stop.wait(self.every):
            try:
                pct = self.cur.raw.query_progress()
            except duckdb.Error:
                return
            if pct >= 0:
                self.say(ProgressLine("reading_rows", display=self.display, percent=pct,
                                      seconds=time.perf_counter() - t0))  # fmt: skip

    def __enter__(self) -> Ticker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()


def write_requests(
    cur: Cursor, plan: Plan, import_id: int, say: Progress
) -> tuple[int, int, int, list[str]]:
    """Insert request events; drop those already stored for this source (recording this
    import's claim on them, see ``lib.ingest.undo``) or repeated in the file. Returns (rows
    read, rows new, rows duplicate, notes: request ids repeated with other values)."""
    cols = list(COLUMNS["request"])
    with Ticker(cur, say, plan.display):
        read = cur.execute(
            f"""INSERT INTO request_events BY NAME
            SELECT ? AS import_id, ? AS source, {EVENT_KEY_SQL} AS event_key,
                   {FINGERPRINT_SQL} AS error_fingerprint, {", ".join(cols)}
            FROM ({plan.select_sql})""",
            [import_id, plan.source, *plan.params],
        ).scalar()
    say(ProgressLine("rows_read", display=plan.display, rows=read))
    cut_notes = retention.skip_before_horizon(cur, import_id)  # rows retention removed before
    total, distinct = cur.execute(
        "SELECT count(*), count(DISTINCT event_key) FROM request_events WHERE import_id = ?",
        [import_id],
    ).fetchall()[0]
    notes: list[str] = []
    if total != distinct or ledger.any_ok(cur, plan.source):
        # the stored rows it is checked against: those of the import's own time range only
        # (read through the zone maps of ``ts``), so the check costs the same in a big
        # database as in an empty one
        lo, hi = cur.execute(
            "SELECT min(ts), max(ts) FROM request_events WHERE import_id = ?", [import_id]
        ).fetchall()[0]
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE claimed AS
            SELECT DISTINCT event_key FROM request_events
            WHERE import_id = ? AND event_key IN (
                SELECT event_key FROM request_events
                WHERE ts >= ? AND ts <= ? AND source = ? AND import_id <> ?)""",
            [import_id, lo, hi, plan.source, import_id],
        )
        cur.execute(
            "INSERT INTO event_claims SELECT ?, ?, event_key FROM claimed",
            [import_id, plan.source],
        )
        notes = _conflicting_ids(cur, import_id, plan.source, (lo, hi))
        cur.execute(
            """DELETE FROM request_events WHERE rowid IN (
                SELECT rid FROM (
                    SELECT rowid AS rid, event_key,
                           row_number() OVER (PARTITION BY event_key ORDER BY rowid) AS rn
                    FROM request_events WHERE import_id = ?) n
                WHERE rn > 1 OR event_key IN (SELECT event_key FROM claimed))""",
            [import_id],
        )
        cur.execute("DROP TABLE IF EXISTS claimed")
    new = cur.execute(
        "SELECT count(*) FROM request_events WHERE import_id = ?", [import_id]
    ).scalar()
    rollups.add_request_import(cur, import_id, plan.source)
    return read, new, read - new, [*cut_notes, *notes]


def _conflicting_ids(
    cur: Cursor, import_id: int, source: str, period: tuple[datetime, datetime]
) -> list[str]:
    """A note when rows about to be dropped as duplicates repeat a request id (stored earlier
    within ``period``, the import's first and last time, or earlier in the file) with other
    values: the first one stored is kept."""
    values = f"hash({', '.join(EVENT_KEY_COLS)})"
    n, example = cur.execute(
        f"""WITH stored AS (
                SELECT event_key, any_value({values}) AS v FROM request_events
                WHERE ts >= ? AND ts <= ? AND source = ? AND import_id <> ?
                  AND request_id IS NOT NULL
                  AND event_key IN (SELECT event_key FROM claimed)
                GROUP BY event_key),
            mine AS (
                SELECT event_key, request_id, {values} AS v,
                       first({values}) OVER (PARTITION BY event_key ORDER BY rowid) AS v_first
                FROM request_events WHERE import_id = ? AND request_id IS NOT NULL)
            SELECT count(*), min(m.request_id) FROM mine m LEFT JOIN stored s USING (event_key)
            WHERE CASE WHEN s.event_key IS NOT NULL THEN m.v <> s.v ELSE m.v <> m.v_first END""",
        [*period, source, import_id, import_id],
    ).fetchall()[0]
    if not n:
        return []
    shown = example if len(example) <= 80 else example[:77] + "…"
    return [
        f"{n:,} row(s) repeat a request id already stored or earlier in the file but with "
        f"other values; the first one stored was kept (for example request id {shown!r})"
    ]
