"""Usage buckets and cost lines: written for one import, replacing what older imports of the
same source said about the buckets it covers.

A pull covers its buckets, empty ones included (``Plan.coverage``; else the buckets it holds):
the rows of older imports of the source in those buckets are marked ``replaced_by`` the new
import, exact duplicates counted as such. A bucket only partly covered by the new import is
refused (neither could be kept whole). ``bucket_coverage`` keeps what each import covered, so
an undo can bring older rows back.
"""

from __future__ import annotations

import duckdb

from lib.errors import InputError
from lib.i18n import N_, Text
from lib.importers.base import Plan
from lib.importers.canonical import COLUMNS
from lib.ingest.failures import translate_error
from lib.store import Cursor, rollups

TABLE = {"usage": "usage_buckets", "cost": "cost_items"}
# The coverage kind of a stored row (alias ``t``): cost lines all have the kind ``cost``.
KIND = {"usage": "t.kind", "cost": "'cost'"}
# The writes, spelled out per table.
_REPLACE = {
    "usage": "UPDATE usage_buckets SET replaced_by = ? WHERE rowid IN (SELECT rid FROM hits)",
    "cost": "UPDATE cost_items SET replaced_by = ? WHERE rowid IN (SELECT rid FROM hits)",
}
_INSERT = {"usage": "INSERT INTO usage_buckets BY NAME", "cost": "INSERT INTO cost_items BY NAME"}


def actor_kind(alias: str) -> str:
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
    missing = cur.execute("SELECT count(*) FROM stage WHERE bucket_end IS NULL").scalar()
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
    ).scalar()
    step = {
        "month": "INTERVAL 1 MONTH",
        "day": "INTERVAL 1 DAY",
        "hour": "INTERVAL 1 HOUR",
        "minute": "INTERVAL 1 MINUTE",
    }[width]
    cur.execute(f"UPDATE stage SET bucket_end = bucket_start + {step} WHERE bucket_end IS NULL")


def write_buckets(cur: Cursor, plan: Plan, import_id: int) -> tuple[int, int, int, int]:
    """Insert usage or cost buckets; the buckets this pull covers replace what older pulls of
    the same source said about them. Returns (read, new, duplicate, replaced)."""
    grain = plan.grain
    table, kind_t = TABLE[grain], KIND[grain]
    cols = list(COLUMNS[grain])
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage AS SELECT * FROM ({plan.select_sql})", plan.params
    )
    _fill_bucket_end(cur)  # generic period exports (usage or cost) may give no end column
    bad = cur.execute("SELECT count(*) FROM stage WHERE bucket_end <= bucket_start").scalar()
    if bad:
        raise InputError(
            plan.display,
            N_("{n} bucket(s) end before they start", n=bad),
            expected=N_("end after start"),
        )
    read = cur.execute("SELECT count(*) FROM stage").scalar()
    cur.execute(
        f"CREATE OR REPLACE TEMP TABLE stage2 AS SELECT hash({', '.join(cols)}) AS row_key, * "
        "FROM (SELECT DISTINCT * FROM stage)"
    )
    unique = cur.execute("SELECT count(*) FROM stage2").scalar()
    kind_s = "kind" if grain == "usage" else "'cost'"
    cur.execute(
        "CREATE OR REPLACE TEMP TABLE cov (kind VARCHAR, bucket_start TIMESTAMPTZ, bucket_end TIMESTAMPTZ)"
    )
    if plan.actor_coverage is not None and grain == "usage":
        # per actor: older rows of other actors in the same buckets stay (other pages)
        kind_t = actor_kind("t.")
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
            f"INSERT INTO cov SELECT DISTINCT {actor_kind('')}, bucket_start, bucket_end FROM acov"
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
            N_(
                "its buckets cover only part of {n} bucket(s) imported earlier (import #{old}, "
                "for example {start} → {end} UTC), so neither could be kept whole",
                n=n,
                old=str(old),
                start=f"{s:%Y-%m-%d %H:%M}",
                end=f"{e:%Y-%m-%d %H:%M}",
            ),
            expected=N_("a pull with the same bucket width, or undo the earlier import first"),
        )
    dup_existing, replaced = cur.execute(
        """SELECT count(*) FILTER (WHERE row_key IN (SELECT row_key FROM stage2)),
                  count(*) FILTER (WHERE row_key NOT IN (SELECT row_key FROM stage2))
           FROM hits"""
    ).fetchall()[0]
    cur.execute(_REPLACE[grain], [import_id])
    cur.execute(
        "INSERT INTO bucket_coverage SELECT ?, ?, kind, bucket_start, bucket_end FROM cov",
        [import_id, plan.source],
    )
    cur.execute(
        f"""{_INSERT[grain]}
        SELECT ? AS import_id, ? AS source, row_key, {", ".join(cols)} FROM stage2""",
        [import_id, plan.source],
    )
    if grain == "usage":
        rollups.rebuild_usage_source(cur, plan.source)
    for tmp in ("stage", "stage2", "cov", "hits"):
        cur.execute(f"DROP TABLE IF EXISTS {tmp}")
    new = unique - min(dup_existing, unique)
    return read, new, read - new, replaced


def write_also(cur: Cursor, plan: Plan, import_id: int) -> tuple[int, int, int, int]:
    """The other bucket grains of a file that states two (``Plan.also``: a cloud bill's cost
    lines, then the tokens its meters count), each written like the first, in the same
    transaction and under the same import id. Returns the summed (read, new, dup, replaced)."""
    totals: tuple[int, ...] = (0, 0, 0, 0)
    for extra in plan.also:
        if extra.grain not in TABLE:
            raise ValueError(f"a plan's companions are bucket grains, not {extra.grain}")
        if extra.arrow is not None:
            cur.register("plan_src", extra.arrow)  # unregistered with the main plan's
        try:
            counts = write_buckets(cur, extra, import_id)
        except duckdb.Error as err:
            raise translate_error(err, extra) from None
        totals = tuple(a + b for a, b in zip(totals, counts, strict=True))
    read, new, dup, replaced = totals
    return read, new, dup, replaced


_GRAIN_ROWS = {"cost": N_("cost line(s)"), "usage": N_("usage bucket(s)")}


def grains_note(plan: Plan, first: tuple[int, int], more: tuple[int, int, int, int]) -> str:
    """What a file of two grains stored: ``10 cost line(s) (10 new) and 5 usage bucket(s)
    (5 new) kept from 11 data lines``, since its rows new, duplicate and replaced count both.
    ``first`` is (rows, new) of the plan itself, ``more`` the summed counts of ``also``."""
    parts = [(plan.grain, *first), ("+".join(p.grain for p in plan.also), more[0], more[1])]
    said = [
        N_(
            "{n} {rows} ({new} new)",
            n=n,
            rows=Text(_GRAIN_ROWS[g]) if g in _GRAIN_ROWS else N_("{grain} row(s)", grain=g),
            new=k,
        )
        for g, n, k in parts
    ]
    both = N_("{first} and {second}", first=said[0], second=said[1])
    if plan.rows_read is None:
        return N_("{stored}; new, duplicate and replaced count these", stored=both)
    return N_(
        "{stored} kept from {n} data line(s); new, duplicate and replaced count these",
        stored=both,
        n=plan.rows_read,
    )
