"""The import engine: one file, one transaction, all or nothing.

Flow: plan (detect the format, map columns) → write the rows of the plan's grain in one
transaction → drop exact duplicates → replace covered buckets → maintain rollups → record
the import in the ledger. Any failure rolls everything back and is recorded as a failed
import with a message naming the file, line or field, what was found and what was expected.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb

from lib.auth.roles import require
from lib.errors import (
    InputError,
    NotFoundError,
    StoreError,
    TokenboardError,
    disk_full_error,
    is_disk_full,
    unexpected_error,
)
from lib.importers import values
from lib.importers.base import Plan
from lib.importers.canonical import COLUMNS
from lib.importers.detect import plan_file
from lib.importers.tabular import TypedReadMismatch
from lib.store import Cursor, Store, rollups

Progress = Callable[[str], None]
log = logging.getLogger("tokenboard")
_EVENT_KEY_COLS = (
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


@dataclass
class ImportResult:
    """What one import did. Counts are rows; the period is [start, end) in UTC."""

    import_id: int
    file_name: str
    format: str
    source: str
    grain: str
    rows_read: int
    rows_new: int
    rows_duplicate: int
    rows_replaced: int
    period_start: datetime | None
    period_end: datetime | None
    seconds: float
    notes: list[str] = field(default_factory=list)

    def summary_line(self) -> str:
        period = ""
        if self.period_start and self.period_end:
            period = f", {self.period_start:%Y-%m-%d %H:%M} → {self.period_end:%Y-%m-%d %H:%M} UTC"
        text = (
            f"{self.file_name}: {self.format} ({self.grain}) as import #{self.import_id}: "
            f"{self.rows_read:,} rows read, {self.rows_new:,} new, {self.rows_duplicate:,} duplicate, "
            f"{self.rows_replaced:,} replaced{period} in {self.seconds:.1f} s"
        )
        for note in self.notes:
            text += f" (note: {note})"
        return text


FULL_HASH_LIMIT = 256 * 1024 * 1024  # bytes; larger files get a sampled fingerprint
_SAMPLES = 64
_SAMPLE_BYTES = 256 * 1024


def content_hash(path: str) -> str | None:
    """sha256 of the file's bytes; for files over ``FULL_HASH_LIMIT`` a sampled fingerprint
    (size, first and last MiB, and 64 evenly spaced 256 KiB slices), marked ``sampled:``,
    which tells a re-import of the same export apart without hashing gigabytes on the CPU the
    import needs. ``None`` when the file cannot be read."""
    h = hashlib.sha256()
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            if size <= FULL_HASH_LIMIT:
                for chunk in iter(lambda: fh.read(4 * 1024 * 1024), b""):
                    h.update(chunk)
                return h.hexdigest()
            h.update(str(size).encode())
            offsets = [0, size - 1024 * 1024] + [size * i // _SAMPLES for i in range(_SAMPLES)]
            for off in offsets:
                fh.seek(off)
                h.update(fh.read(1024 * 1024 if off in offsets[:2] else _SAMPLE_BYTES))
            return "sampled:" + h.hexdigest()
    except OSError:
        return None


class _Hasher(threading.Thread):
    """``content_hash`` computed beside the import (hashlib releases the GIL)."""

    def __init__(self, path: str) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.digest: str | None = None

    def run(self) -> None:
        self.digest = content_hash(self.path)


class _Ticker(threading.Thread):
    """Reports DuckDB's progress on the running statement every ``every`` seconds."""

    def __init__(self, cur: Cursor, say: Progress, label: str, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.cur, self.say, self.label, self.every = cur, say, label, every
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
                self.say(f"{self.label} {pct:.0f}% ({time.perf_counter() - t0:.0f} s)")

    def __enter__(self) -> _Ticker:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.join()


def _now() -> datetime:
    return datetime.now(UTC)


def _locate(plan: Plan, field_name: str, missing: bool) -> InputError:
    """Find the first row whose ``field_name`` is unreadable (or missing) and describe it."""
    src, kind = plan.fields[field_name]
    tab = plan.tabular
    assert tab is not None
    parsed = values.parse(kind, src.raw_sql, src.raw_type, plan.style)
    bad = f"({parsed}) IS NULL" if missing else values.invalid(src.raw_sql, src.raw_type, parsed)
    sql = (
        f"SELECT rn, raw FROM (SELECT row_number() OVER () AS rn, "
        f"CAST(({src.raw_sql}) AS VARCHAR) AS raw, ({bad}) AS bad, ({plan.keep_sql}) AS keep "
        f"FROM {tab.read_sql}) WHERE keep AND bad ORDER BY rn LIMIT 1"
    )
    human = {"ts": "timestamp", "bucket_start": "period start"}.get(
        field_name, field_name.replace("_", " ")
    )
    problem = f"the {human} is missing" if missing else "a value cannot be read"
    con = duckdb.connect(config={"threads": 1})
    try:
        con.execute("SET TimeZone = 'UTC'")
        row = con.execute(sql, tab.read_params).fetchone()
    except duckdb.Error:
        row = None
    finally:
        con.close()
    if row is None:
        return InputError(plan.display, problem, field=src.label, expected=values.EXPECTED[kind])
    rn, raw = row
    return InputError(
        plan.display,
        problem,
        line=tab.physical_line(rn),
        field=src.label,
        found=None if missing else raw,
        expected=values.EXPECTED[kind],
    )


def translate_error(err: duckdb.Error, plan: Plan) -> TokenboardError:
    """A DuckDB error met while reading a plan, as a message (a full disk is not bad input)."""
    if is_disk_full(err):
        return disk_full_error(plan.display, err)
    text = str(err)
    for tag, missing in (("tokenboard-invalid:", False), ("tokenboard-missing:", True)):
        if tag in text:
            name = text.split(tag, 1)[1].split()[0].strip("'\".,")
            if name in plan.fields:
                return _locate(plan, name, missing)
    if plan.tabular is not None:
        return plan.tabular.wrap_error(err)
    return InputError(plan.display, f"could not be imported: {text.splitlines()[0]}")


# -- grains ------------------------------------------------------------------------------
def _write_requests(
    cur: Cursor, plan: Plan, import_id: int, say: Progress
) -> tuple[int, int, int, list[str]]:
    """Insert request events; drop those already stored for this source (recording this
    import's claim on them, see ``undo_import``) or repeated in the file. Returns (rows read,
    rows new, rows duplicate, notes: request ids repeated with other values)."""
    cols = list(COLUMNS["request"])
    key = (
        "CASE WHEN request_id IS NOT NULL THEN hash(request_id) "
        f"ELSE hash({', '.join(_EVENT_KEY_COLS)}) END"
    )
    with _Ticker(cur, say, f"{plan.display}: reading rows"):
        read = cur.execute(
            f"""INSERT INTO request_events BY NAME
            SELECT ? AS import_id, ? AS source, {key} AS event_key, {", ".join(cols)}
            FROM ({plan.select_sql})""",
            [import_id, plan.source, *plan.params],
        ).fetchone()[0]
    say(f"{plan.display}: {read:,} rows read; checking duplicates")
    total, distinct = cur.execute(
        "SELECT count(*), count(DISTINCT event_key) FROM request_events WHERE import_id = ?",
        [import_id],
    ).fetchone()
    earlier = cur.execute(
        "SELECT count(*) FROM imports WHERE source = ? AND status = 'ok'", [plan.source]
    ).fetchone()[0]
    notes: list[str] = []
    if total != distinct or earlier:
        cur.execute(
            """CREATE OR REPLACE TEMP TABLE claimed AS
            SELECT DISTINCT event_key FROM request_events
            WHERE import_id = ? AND event_key IN (
                SELECT event_key FROM request_events WHERE source = ? AND import_id <> ?)""",
            [import_id, plan.source, import_id],
        )
        cur.execute(
            "INSERT INTO event_claims SELECT ?, ?, event_key FROM claimed",
            [import_id, plan.source],
        )
        notes = _conflicting_ids(cur, import_id, plan.source)
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
    ).fetchone()[0]
    rollups.add_request_import(cur, import_id, plan.source)
    return read, new, read - new, notes


def _conflicting_ids(cur: Cursor, import_id: int, source: str) -> list[str]:
    """A note when rows about to be dropped as duplicates repeat a request id (stored earlier,
    or earlier in the file) with other values: the first one stored is kept."""
    values = f"hash({', '.join(_EVENT_KEY_COLS)})"
    n, example = cur.execute(
        f"""WITH stored AS (
                SELECT event_key, any_value({values}) AS v FROM request_events
                WHERE source = ? AND import_id <> ? AND request_id IS NOT NULL
                  AND event_key IN (SELECT event_key FROM claimed)
                GROUP BY event_key),
            mine AS (
                SELECT event_key, request_id, {values} AS v,
                       first({values}) OVER (PARTITION BY event_key ORDER BY rowid) AS v_first
                FROM request_events WHERE import_id = ? AND request_id IS NOT NULL)
            SELECT count(*), min(m.request_id) FROM mine m LEFT JOIN stored s USING (event_key)
            WHERE CASE WHEN s.event_key IS NOT NULL THEN m.v <> s.v ELSE m.v <> m.v_first END""",
        [source, import_id, import_id],
    ).fetchone()
    if not n:
        return []
    shown = example if len(example) <= 80 else example[:77] + "…"
    return [
        f"{n:,} row(s) repeat a request id already stored or earlier in the file but with "
        f"other values; the first one stored was kept (for example request id {shown!r})"
    ]


_TABLE = {"usage": "usage_buckets", "cost": "cost_items"}
_KIND = {"usage": "t.kind", "cost": "'cost'"}


def _actor_kind(alias: str) -> str:
    """SQL for the coverage kind of one actor's usage rows (``Plan.actor_coverage``): the kind,
    user and API key in one text, each value prefixed with its length so that no two actors
    share one (``-`` for NULL). ``alias`` is ``t.`` or empty."""
    parts = [f"{alias}kind"] + [
        f"coalesce(CAST(length({alias}{c}) AS VARCHAR) || ':' || {alias}{c}, '-')"
        for c in ("user_id", "api_key")
    ]
    return " || chr(31) || ".join(parts)


def _fill_bucket_end(cur: Cursor) -> None:
    """Generic period exports without an end column: the width is read from the starts
    (all at midnight: a day, or a month when they fall on the 1st and are ≥28 days apart;
    all on the hour: an hour; else a minute)."""
    missing = cur.execute("SELECT count(*) FROM stage WHERE bucket_end IS NULL").fetchone()[0]
    if not missing:
        return
    width = cur.execute(
        """WITH s AS (SELECT DISTINCT bucket_start AS b FROM stage),
        g AS (SELECT min(b2 - b1) AS gap FROM (
                SELECT b AS b1, lead(b) OVER (ORDER BY b) AS b2 FROM s) WHERE b2 IS NOT NULL)
        SELECT CASE
            WHEN bool_and(epoch_ms(b) % 86400000 = 0) AND bool_and(day(b) = 1)
                 AND coalesce((SELECT gap FROM g) >= INTERVAL 28 DAY, false) THEN 'month'
            WHEN bool_and(epoch_ms(b) % 86400000 = 0) THEN 'day'
            WHEN bool_and(epoch_ms(b) % 3600000 = 0) THEN 'hour'
            ELSE 'minute' END FROM s"""
    ).fetchone()[0]
    step = {
        "month": "INTERVAL 1 MONTH",
        "day": "INTERVAL 1 DAY",
        "hour": "INTERVAL 1 HOUR",
        "minute": "INTERVAL 1 MINUTE",
    }[width]
    cur.execute(f"UPDATE stage SET bucket_end = bucket_start + {step} WHERE bucket_end IS NULL")


def _write_buckets(cur: Cursor, plan: Plan, import_id: int) -> tuple[int, int, int, int]:
    """Insert usage or cost buckets; the buckets this pull covers replace what older pulls of
    the same source said about them. Returns (read, new, duplicate, replaced)."""
    grain = plan.grain
    table, kind_t = _TABLE[grain], _KIND[grain]
    cols = list(COLUMNS[grain])
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage AS SELECT * FROM ({plan.select_sql})", plan.params
    )
    _fill_bucket_end(cur)  # generic period exports (usage or cost) may give no end column
    bad = cur.execute("SELECT count(*) FROM stage WHERE bucket_end <= bucket_start").fetchone()[0]
    if bad:
        raise InputError(
            plan.display, f"{bad} bucket(s) end before they start", expected="end after start"
        )
    read = cur.execute("SELECT count(*) FROM stage").fetchone()[0]
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage2 AS SELECT hash({', '.join(cols)}) AS row_key, * "
        "FROM (SELECT DISTINCT * FROM stage)"
    )
    unique = cur.execute("SELECT count(*) FROM stage2").fetchone()[0]
    kind_s = "kind" if grain == "usage" else "'cost'"
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE cov (kind VARCHAR, bucket_start TIMESTAMPTZ, bucket_end TIMESTAMPTZ)"
    )
    if plan.actor_coverage is not None and grain == "usage":
        # per actor: older rows of other actors in the same buckets stay (other pages)
        kind_t = _actor_kind("t.")
        cur.execute(
            "CREATE OR REPLACE TEMP TABLE acov (kind VARCHAR, user_id VARCHAR, api_key VARCHAR, "
            "bucket_start TIMESTAMPTZ, bucket_end TIMESTAMPTZ)"
        )
        if plan.actor_coverage:
            cur.executemany(
                "INSERT INTO acov VALUES (?, ?, ?, ?, ?)",
                [[k, u, a, s, e] for s, e, k, u, a in plan.actor_coverage],
            )
        cur.execute(
            f"INSERT INTO cov SELECT DISTINCT {_actor_kind('')}, bucket_start, bucket_end FROM acov"
        )
        cur.execute("DROP TABLE acov")
    elif plan.coverage is not None:
        cur.executemany(
            "INSERT INTO cov VALUES (?, ?, ?)", [[k, s, e] for s, e, k in plan.coverage]
        )
        cur.execute("CREATE OR REPLACE TEMP TABLE cov AS SELECT DISTINCT * FROM cov")
    else:
        cur.execute(
            f"INSERT INTO cov SELECT DISTINCT {kind_s}, bucket_start, bucket_end FROM stage2"
        )
    hits = f"""SELECT t.rowid AS rid, t.import_id AS old_import, t.row_key, t.bucket_start, t.bucket_end,
               sum(epoch_ms(least(c.bucket_end, t.bucket_end)) - epoch_ms(greatest(c.bucket_start, t.bucket_start))) AS covered,
               epoch_ms(t.bucket_end) - epoch_ms(t.bucket_start) AS len
        FROM {table} t JOIN cov c ON {kind_t} = c.kind
             AND c.bucket_start < t.bucket_end AND c.bucket_end > t.bucket_start
        WHERE t.source = ? AND t.replaced_by IS NULL
        GROUP BY ALL"""
    cur.execute(f"CREATE OR REPLACE TEMP TABLE hits AS {hits}", [plan.source])
    partial = cur.execute(
        "SELECT old_import, bucket_start, bucket_end, count(*) OVER () FROM hits WHERE covered < len "
        "ORDER BY bucket_start LIMIT 1"
    ).fetchone()
    if partial:
        old, s, e, n = partial
        raise InputError(
            plan.display,
            f"its buckets cover only part of {n} bucket(s) imported earlier (import #{old}, "
            f"for example {s:%Y-%m-%d %H:%M} → {e:%Y-%m-%d %H:%M} UTC), so neither could be kept whole",
            expected="a pull with the same bucket width, or undo the earlier import first",
        )
    dup_existing, replaced = cur.execute(
        """SELECT count(*) FILTER (WHERE row_key IN (SELECT row_key FROM stage2)),
                  count(*) FILTER (WHERE row_key NOT IN (SELECT row_key FROM stage2))
           FROM hits"""
    ).fetchone()
    cur.execute(
        f"UPDATE {table} SET replaced_by = ? WHERE rowid IN (SELECT rid FROM hits)", [import_id]
    )
    cur.execute(
        "INSERT INTO bucket_coverage SELECT ?, ?, kind, bucket_start, bucket_end FROM cov",
        [import_id, plan.source],
    )
    cur.execute(
        f"""INSERT INTO {table} BY NAME
        SELECT ? AS import_id, ? AS source, row_key, {", ".join(cols)} FROM stage2""",
        [import_id, plan.source],
    )
    if grain == "usage":
        rollups.rebuild_usage_source(cur, plan.source)
    for tmp in ("stage", "stage2", "cov", "hits"):
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
    new = unique - min(dup_existing, unique)
    return read, new, read - new, replaced


def _write_also(cur: Cursor, plan: Plan, import_id: int) -> tuple[int, int, int, int]:
    """The other bucket grains of a file that states two (``Plan.also``: a cloud bill's cost
    lines, then the tokens its meters count), each written like the first, in the same
    transaction and under the same import id. Returns the summed (read, new, dup, replaced)."""
    totals = (0, 0, 0, 0)
    for extra in plan.also:
        if extra.grain not in _TABLE:
            raise ValueError(f"a plan's companions are bucket grains, not {extra.grain}")
        if extra.arrow is not None:
            cur.register("plan_src", extra.arrow)  # unregistered with the main plan's
        try:
            counts = _write_buckets(cur, extra, import_id)
        except duckdb.Error as err:
            raise translate_error(err, extra) from None
        totals = tuple(a + b for a, b in zip(totals, counts, strict=True))
    return totals  # type: ignore[return-value]


_GRAIN_ROWS = {"cost": "cost line(s)", "usage": "usage bucket(s)"}


def _grains_note(plan: Plan, first: tuple[int, int], more: tuple[int, int, int, int]) -> str:
    """What a file of two grains stored: ``10 cost line(s) (10 new) and 5 usage bucket(s)
    (5 new) kept from 11 data lines``, since its rows new, duplicate and replaced count both.
    ``first`` is (rows, new) of the plan itself, ``more`` the summed counts of ``also``."""
    parts = [(plan.grain, *first), ("+".join(p.grain for p in plan.also), more[0], more[1])]
    text = " and ".join(
        f"{n:,} {_GRAIN_ROWS.get(g, g + ' row(s)')} ({k:,} new)" for g, n, k in parts
    )
    lines = f" kept from {plan.rows_read:,} data line(s)" if plan.rows_read is not None else ""
    return text + lines + "; new, duplicate and replaced count these"


def _period(cur: Cursor, plan: Plan, import_id: int) -> tuple[datetime | None, datetime | None]:
    if plan.grain == "request":
        return cur.execute(
            "SELECT min(ts), max(ts) FROM request_events WHERE import_id = ?", [import_id]
        ).fetchone()
    return cur.execute(
        "SELECT min(bucket_start), max(bucket_end) FROM bucket_coverage WHERE import_id = ?",
        [import_id],
    ).fetchone()


def _record_failure(
    store: Store, display: str, digest: str | None, plan: Plan | None, started: datetime, error: str
) -> None:
    try:
        with store.write() as cur:
            cur.execute(
                """INSERT INTO imports (import_id, file_name, content_hash, format, source, grain,
                   started_at, finished_at, status, error)
                   VALUES (nextval('import_id_seq'), ?, ?, ?, ?, ?, ?, ?, 'failed', ?)""",
                [
                    display,
                    digest,
                    plan.format if plan else None,
                    plan.source if plan else None,
                    plan.grains if plan else None,
                    started,
                    _now(),
                    error,
                ],
            )
    except (StoreError, duckdb.Error):
        pass  # the database cannot be written (full disk, closed after a fatal error)


def _closed_by_duckdb(err: BaseException | None) -> bool:
    """True when ``err`` (or what it wraps) is DuckDB's fatal error: the database was closed
    (for example when a commit could not write its checkpoint) and must be reopened."""
    while err is not None:
        if isinstance(err, duckdb.FatalException):
            return True
        err = err.__context__
    return False


def import_file(
    store: Store,
    path: str,
    *,
    fmt: str | None = None,
    mapping: dict[str, str] | None = None,
    source: str | None = None,
    display: str | None = None,
    is_demo: bool = False,
    progress: Progress | None = None,
    role: str | None = "admin",
) -> ImportResult:
    """Import one file into the store, all or nothing, on behalf of a user with ``role``
    (the command line acts as a local admin).

    Raises ``PermissionDeniedError`` (the role may not import), ``InputError`` (bad content;
    nothing written) or ``StoreError``.
    """
    require(role, "import")
    display = display or os.path.basename(path)
    say = progress or (lambda _msg: None)
    started = _now()
    t0 = time.perf_counter()
    hasher = _Hasher(path)
    hasher.start()
    planned: list[Plan] = []  # the plan, once made, for the failure record

    def attempt(text_only: bool) -> ImportResult:
        with store.read() as cur:
            plan = plan_file(
                path,
                cur,
                display=display,
                fmt=fmt,
                mapping=mapping,
                source=source,
                text_only=text_only,
            )
        planned.append(plan)
        return _run_plan(store, plan, path, is_demo, say, started, t0, hasher)

    try:
        try:
            return attempt(text_only=False)
        except TypedReadMismatch:
            say(f"{display}: some values need the text reader; reading again")
            return attempt(text_only=True)
    except Exception as err:  # anything else is wrapped: a message, never a traceback
        failure = err
        if not isinstance(err, TokenboardError) or is_disk_full(err):
            failure = unexpected_error(display, err)
            if not is_disk_full(err):
                log.exception("unexpected error while importing %s", display)
            elif _closed_by_duckdb(err):
                failure = disk_full_error(display, err, reopen=True)
        hasher.join()
        _record_failure(
            store, display, hasher.digest, planned[-1] if planned else None, started, str(failure)
        )
        if failure is err:
            raise
        raise failure from None


def _run_plan(
    store: Store,
    plan: Plan,
    path: str,
    is_demo: bool,
    say: Progress,
    started: datetime,
    t0: float,
    hasher: _Hasher,
) -> ImportResult:
    """Write one plan in one transaction and record it in the ledger."""
    display = plan.display
    size = os.path.getsize(path)
    say(f"{display}: {plan.format} recognised; importing {size / 1e6:,.1f} MB")
    with store.write() as cur:
        import_id = cur.execute("SELECT nextval('import_id_seq')").fetchone()[0]
        try:
            if plan.arrow is not None:
                cur.register("plan_src", plan.arrow)
            grain_notes: list[str] = []  # first in the notes: what each grain stored
            if plan.grain == "request":
                read, new, dup, dup_notes = _write_requests(cur, plan, import_id, say)
                replaced = 0
            else:
                read, new, dup, replaced = _write_buckets(cur, plan, import_id)
                dup_notes = []
                if plan.also:
                    more = _write_also(cur, plan, import_id)
                    grain_notes = [_grains_note(plan, (read, new), more)]
                    read, new, dup, replaced = (
                        a + b for a, b in zip((read, new, dup, replaced), more, strict=True)
                    )
            if plan.rows_read is not None:
                read = plan.rows_read  # the file's lines; new/duplicate/replaced count rows kept
            say(f"{display}: committing")
            start, end = _period(cur, plan, import_id)
        except duckdb.Error as err:
            raise translate_error(err, plan) from None
        finally:
            if plan.arrow is not None or any(p.arrow is not None for p in plan.also):
                cur.unregister("plan_src")
        hasher.join()
        result = ImportResult(
            import_id, display, plan.format, plan.source, plan.grains, read, new, dup, replaced,
            start, end, time.perf_counter() - t0, [*grain_notes, *plan.notes, *dup_notes],
        )  # fmt: skip
        cur.execute(
            """INSERT INTO imports (import_id, file_name, content_hash, format, source, grain,
               rows_read, rows_new, rows_duplicate, rows_replaced, period_start, period_end,
               started_at, finished_at, status, is_demo)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'ok', ?)""",
            [result.import_id, result.file_name, hasher.digest, result.format, result.source,
             result.grain, result.rows_read, result.rows_new, result.rows_duplicate,
             result.rows_replaced, result.period_start, result.period_end, started, _now(),
             is_demo],
        )  # fmt: skip
    return result


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
        n = cur.execute("SELECT count(*) FROM moved").fetchone()[0]
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
        row = cur.execute(
            "SELECT status, grain, source FROM imports WHERE import_id = ?", [import_id]
        ).fetchone()
        if row is None:
            raise NotFoundError(f"There is no import #{import_id}.")
        status, grain, source = row
        if status != "ok":
            raise TokenboardError(
                f"Import #{import_id} is {status}; only a successful import can be undone."
            )
        kept = _hand_over_claimed(cur, import_id, source) if grain == "request" else 0
        cur.execute("DELETE FROM event_claims WHERE import_id = ?", [import_id])
        removed = 0
        for table in ("request_events", "usage_buckets", "cost_items"):
            removed += cur.execute(
                f"DELETE FROM {table} WHERE import_id = ?", [import_id]
            ).fetchone()[0]
        cur.execute("DELETE FROM bucket_coverage WHERE import_id = ?", [import_id])
        restored = 0
        for table in ("usage_buckets", "cost_items"):
            restored += cur.execute(
                f"UPDATE {table} SET replaced_by = NULL WHERE replaced_by = ?", [import_id]
            ).fetchone()[0]
            kind_t = _KIND["usage" if table == "usage_buckets" else "cost"]
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
                union += " UNION ALL " + pairs.format(kind=_actor_kind("t.")) + " AND t.source = ?"
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
        cur.execute(
            "UPDATE imports SET status = 'undone', undone_at = ? WHERE import_id = ?",
            [_now(), import_id],
        )
    return UndoResult(import_id, removed, restored, kept)
