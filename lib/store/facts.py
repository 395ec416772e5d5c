"""Facts about where and how the data is stored, for the Settings page's Data tab and the
command line: the location (a file path, ``:memory:`` or a ``md:`` database name, never a
token), the file sizes (bytes, the write-ahead log too), the rows of every table and of every
import, DuckDB's version and the schema version. Reads only, except ``checkpoint``.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import duckdb

from lib.config import is_memory, is_motherduck
from lib.errors import StoreError
from lib.store.db import Store

Kind = Literal["file", "memory", "motherduck"]


@dataclass(frozen=True)
class ImportRows:
    """The rows one import holds now, by table (``usage_rows``/``cost_rows``: live and replaced
    alike), and the request rows retention removed from it (``removed_rows``)."""

    import_id: int
    file_name: str
    status: str  # ok | failed | undone
    origin: str
    started_at: datetime
    request_rows: int
    usage_rows: int
    cost_rows: int
    removed_rows: int


@dataclass(frozen=True)
class StorageFacts:
    """Where the data lives and how much there is.

    ``location`` is the path or ``md:`` name without its query string (a MotherDuck token can
    ride there); ``file_bytes``/``wal_bytes`` are None for a database that is not a local file
    (``wal_bytes`` 0 when there is no log). ``tables``: (name, rows) of every table, by name.
    ``free_blocks``/``total_blocks``: DuckDB's blocks of the file (free ones are reused by later
    writes; the file shrinks only when its last blocks are free), None when unknown."""

    kind: Kind
    location: str
    file_bytes: int | None
    wal_bytes: int | None
    duckdb_version: str
    schema_version: int
    tables: list[tuple[str, int]]
    imports: list[ImportRows]
    total_blocks: int | None = None
    free_blocks: int | None = None

    @property
    def total_bytes(self) -> int | None:
        """The database file and its log together (None when not a local file)."""
        if self.file_bytes is None:
            return None
        return self.file_bytes + (self.wal_bytes or 0)


def kind_of(path: str) -> Kind:
    """What a DuckDB path names: ``memory`` (``:memory:``, ``:memory:name``), ``motherduck``
    (``md:…``, ``motherduck:…``) or a local ``file``."""
    if is_memory(path):
        return "memory"
    if is_motherduck(path):
        return "motherduck"
    return "file"


def file_sizes(store: Store) -> tuple[int | None, int | None]:
    """(database file bytes, write-ahead log bytes; 0 when none) of a local file; (None, None)
    for ``:memory:`` or MotherDuck (no file here to measure: the Data tab says "MotherDuck" and
    no size)."""
    if kind_of(store.path) != "file":
        return None, None
    try:
        size = os.path.getsize(store.path)
    except OSError:
        return None, None
    try:
        wal = os.path.getsize(store.path + ".wal")
    except OSError:
        wal = 0
    return size, wal


def base_tables(store: Store) -> list[str]:
    """The names of the database's own tables (schema ``main``, no views, no temporary
    tables), sorted."""
    rows = store.query(
        """SELECT table_name FROM duckdb_tables()
           WHERE schema_name = 'main' AND NOT temporary AND database_name = current_database()
           ORDER BY table_name"""
    )
    return [r[0] for r in rows]


def table_rows(store: Store) -> list[tuple[str, int]]:
    """(table, rows) of every table, by name: exact counts, in one snapshot."""
    names = base_tables(store)
    with store.read() as cur:
        return [
            (name, int(cur.execute(f'SELECT count(*) FROM "{name}"').scalar())) for name in names
        ]


def import_rows(store: Store) -> list[ImportRows]:
    """The rows each import holds now in each fact table, newest import first (failed imports
    hold none and are left out)."""
    rows = store.query(
        """WITH r AS (SELECT import_id, count(*) AS n FROM request_events GROUP BY 1),
                u AS (SELECT import_id, count(*) AS n FROM usage_buckets GROUP BY 1),
                c AS (SELECT import_id, count(*) AS n FROM cost_items GROUP BY 1),
                d AS (SELECT import_id, sum(rows) AS n FROM retention_drops
                      WHERE claimer_id IS NULL GROUP BY 1)
           SELECT i.import_id, i.file_name, i.status, i.origin, i.started_at,
                  coalesce(r.n, 0), coalesce(u.n, 0), coalesce(c.n, 0), coalesce(d.n, 0)
           FROM imports i LEFT JOIN r USING (import_id) LEFT JOIN u USING (import_id)
                LEFT JOIN c USING (import_id) LEFT JOIN d USING (import_id)
           WHERE i.status <> 'failed'
           ORDER BY i.import_id DESC"""
    )
    return [
        ImportRows(int(r[0]), r[1], r[2], r[3], r[4], int(r[5]), int(r[6]), int(r[7]), int(r[8]))
        for r in rows
    ]


def facts(store: Store, *, with_imports: bool = True) -> StorageFacts:
    """Every fact of the Data tab, read now (``with_imports=False``: ``imports`` left empty,
    for a caller that caches ``import_rows``, which reads every request row). Never holds a
    token or a secret."""
    size, wal = file_sizes(store)
    total = free = None
    with contextlib.suppress(StoreError), store.read() as cur:
        row = cur.execute(
            "SELECT total_blocks, free_blocks FROM pragma_database_size() "
            "WHERE database_name = current_database()"
        ).fetchone()
        if row is not None:
            total, free = int(row[0]), int(row[1])
    return StorageFacts(
        kind=kind_of(store.path),
        location=store.display_path,
        file_bytes=size,
        wal_bytes=wal,
        duckdb_version=duckdb.__version__,
        schema_version=store.schema_version(),
        tables=table_rows(store),
        imports=import_rows(store) if with_imports else [],
        total_blocks=total,
        free_blocks=free,
    )


def checkpoint(store: Store) -> None:
    """Write the log into the database file (``CHECKPOINT``) so blocks freed by deletes can
    be reused and, when they are the file's last ones, the file can shrink. Waits for any
    write under way; outside any transaction."""
    if store.read_only:
        return
    with store._write_lock:  # the store's own lock: no write of this process runs meanwhile
        cur = store._cursor()
        try:
            cur.execute("CHECKPOINT")
        finally:
            cur.close()
