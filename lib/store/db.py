"""One DuckDB database shared by the whole process.

A ``Store`` owns one DuckDB connection; every query runs on a fresh cursor (a cursor per
query and per thread), writes are serialised by a lock, and each write is one transaction.
DuckDB's MVCC gives readers a consistent snapshot: during an import they see the totals
from before it, then from after it, never in between.

What only means something for a local file (``lib.config.is_local_file``) is done only for
one: the folder made, the file created private and ``chmod 600`` on it and its ``.wal``.
DuckDB spills beside a local file (``<file>.tmp``); for a ``md:`` or in-memory database,
into ``duckdb-<pid>.tmp`` of the state folder (``lib.config.state_dir``), not the working
folder. DuckDB's lock on a local file is held by one program at a time
(``DatabaseBusyError`` names the holder); a ``md:`` (MotherDuck) database takes writes from
several processes, so two of them writing the same rows at once can conflict: the later
write fails as ``WriteConflictError`` (nothing of it written; doing it again is safe). The write lock here serialises the writes of this process
only. A MotherDuck token (in the location's query string or the environment) never appears in
a message.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import duckdb

from lib.config import is_local_file, is_memory, is_motherduck, resolve_db_path, state_dir
from lib.errors import DatabaseBusyError, StoreError
from lib.store.migrations import MIGRATIONS
from lib.store.seed import seed_rows
from lib.text import N_, Text

DEFAULT_MEMORY_LIMIT = "600MB"

_LOCK_RE = re.compile(r"Could not set lock on file|Conflicting lock is held", re.I)
_PID_RE = re.compile(r"PID (\d+)")
_CONFLICT_RE = re.compile(r"conflict", re.I)
_TOKEN_RE = re.compile(r"((?:motherduck_)?token\s*[=:]\s*)[^&\s'\"]+", re.I)
TOKEN_ENV = ("motherduck_token", "MOTHERDUCK_TOKEN")
# tests only: a local database file that a ``md:`` location opens instead of MotherDuck, so
# everything that depends on the location being remote runs without the internet
STANDIN_ENV = "TOKENBOARD_TEST_MOTHERDUCK_STANDIN"


def scrub(text: str) -> str:
    """``text`` without any MotherDuck token: ``token=…`` values masked, and the value of
    ``motherduck_token``/``MOTHERDUCK_TOKEN`` from the environment wherever it appears."""
    out = _TOKEN_RE.sub(r"\1***", text)
    for name in TOKEN_ENV:
        value = os.environ.get(name)
        if value and len(value) >= 8:
            out = out.replace(value, "***")
    return out


def _could_not_open(path: str, err: Exception) -> str:
    return N_("Could not open the database {path}: {why}", path=path, why=scrub(str(err)))


def _describe_busy(path: str, err: Exception) -> DatabaseBusyError:
    """Turn DuckDB's lock error into a plain sentence naming the holder and what to do."""
    pid = _PID_RE.search(str(err))
    holder = N_("process {pid}", pid=pid.group(1)) if pid else Text("another process")
    return DatabaseBusyError(
        N_(
            "The database {path} is open in {holder} (most likely the running Tokenboard app "
            "or another import). Only one program can write to a DuckDB file at a time: stop "
            "that program first, import through the app's Data page instead, or pass --db to "
            "use another database file.",
            path=path,
            holder=holder,
        )
    )


def _seed_prices(cur: Cursor) -> int:
    """Insert the seed price catalog (``lib.store.seed``) when the prices table is empty;
    return the rows inserted."""
    if cur.execute("SELECT count(*) FROM prices").scalar():
        return 0
    rows = seed_rows()
    cur.executemany("INSERT INTO prices VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return len(rows)


class WriteBusyError(StoreError):
    """A write that was asked not to wait found another write under way."""


class WriteConflictError(StoreError):
    """Another connection (another process on a shared ``md:`` database, or another ``Store``
    of the same file in this process) committed a change to the same rows first; nothing of
    this write was kept, and doing it again is safe."""


def _make_private(path: str) -> None:
    """chmod 600 when the file exists, is ours and is open to others (errors ignored)."""
    try:
        st = os.stat(path)
        if st.st_mode & 0o077 and st.st_uid == os.getuid():
            os.chmod(path, 0o600)
    except (OSError, AttributeError):
        pass


def _create_private(path: str) -> None:
    """Create an empty DuckDB database at ``path`` that was never readable by others: made in
    a private (0700) folder beside it, restricted to its owner, then linked into place (an
    existing file of that name, made meanwhile by another process, is left as it is)."""
    folder = tempfile.mkdtemp(prefix=".tokenboard-new-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        tmp = os.path.join(folder, "new.duckdb")
        duckdb.connect(tmp).close()
        os.chmod(tmp, 0o600)
        with contextlib.suppress(FileExistsError):
            os.link(tmp, path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Result:
    """The rows of one statement, fetched in full (DuckDB needs each result consumed)."""

    def __init__(self, rows: list[tuple[Any, ...]], columns: list[str]) -> None:
        self.rows = rows
        self.columns = columns

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self.rows

    def fetchone(self) -> tuple[Any, ...] | None:
        return self.rows[0] if self.rows else None

    def scalar(self) -> Any:
        """The first value of the first row; None when there is no row (``count(*)``, ``max``
        and the like always give one)."""
        return self.rows[0][0] if self.rows else None


class Cursor:
    """A DuckDB cursor whose statements are always fully fetched.

    ``execute`` returns a ``Result``; ``df``/``arrow`` return a query's rows as a pandas
    DataFrame or an Arrow table (for aggregated results only). ``raw`` is the DuckDB cursor.
    """

    def __init__(self, raw: duckdb.DuckDBPyConnection) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Result:
        rel = self.raw.execute(sql, params or [])
        desc = rel.description or []
        rows = rel.fetchall() if desc else []
        return Result(rows, [d[0] for d in desc])

    def executemany(self, sql: str, seq: Sequence[Sequence[Any]]) -> None:
        if seq:
            self.raw.executemany(sql, seq)

    def df(self, sql: str, params: Sequence[Any] | None = None):  # -> pandas.DataFrame
        """The result as a DataFrame, through Arrow so money stays exact (Decimal objects)."""
        return self.raw.sql(sql, params=list(params or [])).to_arrow_table().to_pandas()

    def arrow(self, sql: str, params: Sequence[Any] | None = None):  # -> pyarrow.Table
        return self.raw.sql(sql, params=list(params or [])).to_arrow_table()

    def register(self, name: str, table: object) -> None:
        self.raw.register(name, table)

    def unregister(self, name: str) -> None:
        self.raw.unregister(name)

    def close(self) -> None:
        self.raw.close()


class Store:
    """The Tokenboard database: open, migrate, read and write.

    ``path`` is any DuckDB path (a file, ``:memory:`` or ``md:…``); ``None`` resolves it
    from ``--db``/``TOKENBOARD_DB``/secrets/the default (see ``lib.config``).
    """

    def __init__(
        self,
        path: str | None = None,
        *,
        read_only: bool = False,
        memory_limit: str | None = None,
    ) -> None:
        self.path = resolve_db_path(path)
        self.read_only = read_only
        self._write_lock = threading.RLock()
        self._local = is_local_file(self.path)
        if self._local:
            parent = os.path.dirname(os.path.abspath(self.path))
            os.makedirs(parent, mode=0o700, exist_ok=True)
        config: dict[str, str | bool | int | float | list[str]] = {
            "memory_limit": memory_limit
            or os.environ.get("TOKENBOARD_MEMORY_LIMIT", DEFAULT_MEMORY_LIMIT),
            "preserve_insertion_order": False,
        }
        if not self._local:  # DuckDB would spill into ".tmp" of whatever folder we run in
            config["temp_directory"] = str(state_dir(self.path) / f"duckdb-{os.getpid()}.tmp")
        try:
            if self._local and not read_only and not os.path.exists(self.path):
                _create_private(self.path)
            self._config = config
            self._con = duckdb.connect(self._target(), read_only=read_only, config=config)
            if self._local:
                self._private_files()
        except duckdb.IOException as err:
            if _LOCK_RE.search(str(err)):
                raise _describe_busy(self.display_path, err) from None
            raise StoreError(_could_not_open(self.display_path, err)) from None
        except duckdb.Error as err:
            raise StoreError(_could_not_open(self.display_path, err)) from None
        if not read_only:
            self.migrate()

    def _target(self) -> str:
        """What DuckDB opens: the location, except a ``md:`` one while the tests' stand-in
        (``TOKENBOARD_TEST_MOTHERDUCK_STANDIN``, a local file) is set."""
        standin = os.environ.get(STANDIN_ENV)
        return standin if standin and is_motherduck(self.path) else self.path

    @property
    def local(self) -> bool:
        """True when the database is a file on this machine (not ``md:``, not in memory)."""
        return self._local

    @property
    def key(self) -> str:
        """What names this database among the process's stores (workers, journal turns): the
        location, and for an in-memory database (its own for each ``Store``) this object's
        identity too."""
        return f"{self.path}#{id(self)}" if is_memory(self.path) else self.path

    def _private_files(self) -> None:
        """The database file and its write-ahead log readable by their owner only."""
        for name in (self.path, self.path + ".wal"):
            _make_private(name)

    def usable(self) -> bool:
        """False once DuckDB has closed the database after a fatal error (a commit whose
        checkpoint could not be written, on a full disk)."""
        try:
            cur = self._con.cursor()
            try:
                cur.execute("SELECT 1").fetchall()
            finally:
                cur.close()
        except duckdb.Error:
            return False
        return True

    def reopen_if_closed(self) -> bool:
        """Open the database again when DuckDB closed it after a fatal error; True when it
        did. What was committed before the error is all there (nothing of the failed write).
        Raises ``StoreError`` when it cannot be opened (the disk is still full)."""
        if self.usable():
            return False
        with self._write_lock:
            if self.usable():
                return False
            with contextlib.suppress(duckdb.Error):
                self._con.close()
            try:
                self._con = duckdb.connect(
                    self._target(), read_only=self.read_only, config=self._config
                )
            except duckdb.Error as err:
                raise StoreError(
                    N_(
                        "Could not open the database {path} again: {why}",
                        path=self.display_path,
                        why=scrub(str(err)),
                    )
                ) from None
        return True

    @property
    def display_path(self) -> str:
        """The location without any query string (a MotherDuck token may ride there) and
        without any token."""
        return scrub(self.path.split("?", 1)[0])

    # -- connections -------------------------------------------------------------------
    def _cursor(self) -> Cursor:
        cur = Cursor(self._con.cursor())
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    @contextmanager
    def read(self) -> Iterator[Cursor]:
        """A cursor of its own, in one transaction, so every query of the block sees the same
        snapshot (never half of a concurrent import). DuckDB errors become ``StoreError``."""
        cur = self._cursor()
        cur.execute("BEGIN TRANSACTION")
        try:
            yield cur
        except duckdb.Error as err:
            raise StoreError(
                N_("A query on {path} failed: {why}", path=self.display_path, why=scrub(str(err)))
            ) from None
        finally:
            with contextlib.suppress(duckdb.Error):
                cur.execute("ROLLBACK")
            cur.close()

    @contextmanager
    def write(self, *, wait: bool = True) -> Iterator[Cursor]:
        """One transaction on a cursor of its own, serialised with every other write.

        Commits when the block ends, rolls back on any exception (re-raised; DuckDB
        errors wrapped in ``StoreError``). With ``wait=False`` raises ``WriteBusyError``
        at once when another write (an import) is under way, instead of waiting for it.
        """
        if self.read_only:
            raise StoreError(N_("The database {path} is open read-only.", path=self.display_path))
        if not self._write_lock.acquire(blocking=wait):
            raise WriteBusyError(
                N_("The database {path} is busy with another write.", path=self.display_path)
            )
        try:
            cur = self._cursor()
            cur.execute("BEGIN TRANSACTION")
            try:
                yield cur
                cur.execute("COMMIT")
                if self._local:  # DuckDB makes a new log after each checkpoint
                    _make_private(self.path + ".wal")
            except BaseException as err:
                with contextlib.suppress(duckdb.Error):
                    cur.execute("ROLLBACK")
                if isinstance(err, duckdb.TransactionException) and _CONFLICT_RE.search(str(err)):
                    raise WriteConflictError(
                        N_(
                            "Another program changed the same data of {path} at the same time; "
                            "nothing of this change was kept: try it again.",
                            path=self.display_path,
                        )
                    ) from None
                if isinstance(err, duckdb.Error):
                    why = scrub(str(err))
                    raise StoreError(
                        N_("A write to {path} failed: {why}", path=self.display_path, why=why)
                    ) from None
                raise
            finally:
                cur.close()
        finally:
            self._write_lock.release()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run one parameterised read and return all rows."""
        with self.read() as cur:
            return cur.execute(sql, params or []).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        """Run one parameterised read that returns a single value."""
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- schema ------------------------------------------------------------------------
    def schema_version(self) -> int:
        with self.read() as cur:
            exists = cur.execute(
                "SELECT count(*) FROM information_schema.tables WHERE table_name = 'schema_version'"
            ).scalar()
            if not exists:
                return 0
            return int(cur.execute("SELECT coalesce(max(version), 0) FROM schema_version").scalar())

    def migrate(self) -> int:
        """Apply every pending migration, each in its own transaction; return the version."""
        with self.write() as cur:
            cur.execute(
                "CREATE TABLE IF NOT EXISTS schema_version ("
                " version INTEGER NOT NULL, description VARCHAR, applied_at TIMESTAMPTZ NOT NULL)"
            )
        with self.read() as cur:
            applied = {r[0] for r in cur.execute("SELECT version FROM schema_version").fetchall()}
        current = max(applied, default=0)
        # every version not applied yet, even below the newest applied (versions written on
        # two branches at once land in either order)
        for version, description, sql in MIGRATIONS:
            if version in applied:
                continue
            with self.write() as cur:
                cur.execute(sql)
                if version == 1:
                    _seed_prices(cur)
                cur.execute(
                    "INSERT INTO schema_version VALUES (?, ?, ?)",
                    [version, description, datetime.now(UTC)],
                )
            current = max(current, version)
        return current
