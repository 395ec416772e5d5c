"""Full backups to Parquet files, and restores from them into an empty database.

A backup is a folder: one ``<table>.parquet`` per table of the database (``schema_version``
included), written by DuckDB's own ``COPY … TO … (FORMAT parquet)`` from one snapshot, and
``manifest.json`` (written last: a folder without it is not a backup) that lists the tables with
their row counts and SHA-256, the schema versions applied, the sequences' last values, when and
by which Tokenboard version it was made. Password hashes, key hashes and session hashes are in
the database, so a backup holds them: the folder is made owner-only (0700) and its files too
(0600).

A restore reads a folder back into an EMPTY database (nothing in it but what a new database
holds) with the same schema versions, all or nothing (one transaction): a newer or unknown
schema, a missing or unknown table, a file whose checksum, columns or row count differ from the
manifest are refused with a message naming the file and what was expected, before anything is
written. Sequences are moved past the restored ids.

An uploaded backup arrives as a .zip (``unzip_to``): only the manifest and ``<table>.parquet``
files, each once, within caps on files, unpacked bytes (in all, and per packed byte, counted
as they are written) and, for the restore, rows per byte of the .zip; whatever a damaged or
hostile .zip or manifest raises becomes a ``BackupError`` naming it, nothing left unpacked.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import lzma
import os
import re
import shutil
import stat
import struct
import tempfile
import tomllib
import zipfile
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from lib.errors import StoreError, TokenboardError
from lib.store.audit import audit
from lib.store.db import Cursor, Store
from lib.store.facts import base_tables
from lib.store.migrations import MIGRATIONS
from lib.text import N_

MANIFEST = "manifest.json"
FORMAT = "tokenboard-backup"
FORMAT_VERSION = 1
_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")  # a table name as our migrations write them
# The largest backup .zip the page takes, in MB (MiB, as Streamlit counts them): Streamlit's
# own default (server.maxUploadSize; .streamlit/config.toml leaves it), passed to the uploader.
UPLOAD_MAX_MB = 200
# What an uploaded .zip may unpack to, all files together: 4 times the largest upload (800 MiB).
ZIP_MAX_BYTES = 4 * UPLOAD_MAX_MB * 1024**2
ZIP_MAX_FILES = 500
# Rows a restore from an uploaded .zip may hold per byte of the .zip. Parquet packs repeated
# values tightly: 20,000,000 copies of one request row fit in a 989,530-byte .zip (20 rows a
# byte) and took 6.6 s and 32.8 MB of database to restore. The demo data's backups hold 0.02 to
# 0.05 rows a byte in all (20 times under this cap): a 200 MB upload may then restore at most
# 200 million rows.
ZIP_MAX_ROWS_PER_BYTE = 1
MANIFEST_MAX_BYTES = 1024**2  # a manifest is about 6 KB (33 tables); a larger one is refused
# A sequence's last value a manifest may hold: the restore steps each sequence there one value
# at a time (DuckDB cannot set one), some 27 million a second; a Tokenboard database's ids
# (imports, audit entries, alert rules…) stay far below this.
SEQUENCE_MAX = 100_000_000
# Unpacked bytes per packed byte, for each file and for the whole .zip: more is refused (a zip
# bomb). A backup's files barely compress (Parquet is compressed already): the page's .zip is
# stored (1.00:1); the demo data's backups deflated anew (zip -9, bzip2, lzma) gave at most
# 3.1:1 for one file (manifest.json) and 1.6:1 in all.
ZIP_MAX_RATIO = 100
# What reading a damaged or hostile .zip raises (zipfile, its decompressors, the disk):
# RuntimeError for an encrypted file, NotImplementedError for an unknown compression method,
# EOFError for a file cut short, zlib.error, OSError (bzip2, or a full disk) and LZMAError for
# damaged compressed data.
_UNZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, RuntimeError, NotImplementedError,
                 EOFError, OSError, ValueError, zlib.error, lzma.LZMAError, struct.error)  # fmt: skip


class BackupError(TokenboardError):
    """A backup or restore refused; the message names the file and what was expected.
    Nothing was written to the database."""


@dataclass(frozen=True)
class TableFile:
    """One table of a backup: its file (in the folder), rows and the file's SHA-256 (hex)."""

    table: str
    file: str
    rows: int
    sha256: str


@dataclass(frozen=True)
class BackupInfo:
    """A backup's manifest: where, the tables, the schema versions, when (UTC), by which
    Tokenboard version; ``bytes``: the files' total size."""

    folder: str
    tables: list[TableFile]
    schema_versions: list[int]
    created_at: datetime
    tool_version: str
    bytes: int

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def schema_version(self) -> int:
        return max(self.schema_versions, default=0)


def tool_version() -> str:
    """Tokenboard's version (``pyproject.toml``), "unknown" when it cannot be read."""
    try:
        with open(Path(__file__).resolve().parents[2] / "pyproject.toml", "rb") as f:
            return str(tomllib.load(f)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "unknown"


def _sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _sequences(cur: Cursor) -> dict[str, int | None]:
    """name -> last value given (None: never used) of the database's sequences."""
    rows = cur.execute(
        """SELECT sequence_name, last_value FROM duckdb_sequences()
           WHERE schema_name = 'main' AND NOT temporary AND database_name = current_database()
           ORDER BY 1"""
    ).fetchall()
    return {r[0]: None if r[1] is None else int(r[1]) for r in rows}


def _columns(cur: Cursor, table: str) -> list[str]:
    rows = cur.execute(
        """SELECT column_name FROM duckdb_columns()
           WHERE schema_name = 'main' AND table_name = ? AND database_name = current_database()
           ORDER BY column_index""",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def _private_folder(folder: str) -> None:
    """Make ``folder`` (it must not exist, or be empty) owner-only (0700)."""
    if os.path.lexists(folder):
        if not os.path.isdir(folder) or os.path.islink(folder):
            raise BackupError(
                N_(
                    "Backup folder {folder}: expected a new or empty folder, found a file.",
                    folder=folder,
                )
            )
        if os.listdir(folder):
            raise BackupError(
                N_(
                    "Backup folder {folder}: expected a new or empty folder; it holds files "
                    "already (a backup is never written over another).",
                    folder=folder,
                )
            )
    else:
        try:
            os.makedirs(folder, mode=0o700)
        except OSError as err:
            raise BackupError(
                N_(
                    "Backup folder {folder} could not be made: {why}",
                    folder=folder,
                    why=err.strerror or str(err),
                )
            ) from None
    os.chmod(folder, 0o700)


def write_backup(
    store: Store,
    folder: str,
    *,
    actor: str | None,
    from_ip: str | None = None,
    now: datetime | None = None,
) -> BackupInfo:
    """Write every table of ``store`` to ``folder`` (new or empty; made 0700) from one
    snapshot, then the manifest; audited as ``backup_made``. The caller checks the role
    (``lib.ingest.backups.backup``: admins only)."""
    folder = os.path.abspath(folder)
    _private_folder(folder)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    files: list[TableFile] = []
    old_umask = os.umask(0o077)  # files DuckDB makes are owner-only from the start
    try:
        with store.read() as cur:
            versions = sorted(
                int(r[0]) for r in cur.execute("SELECT version FROM schema_version").fetchall()
            )
            sequences = _sequences(cur)
            names = [
                r[0]
                for r in cur.execute(
                    """SELECT table_name FROM duckdb_tables()
                       WHERE schema_name = 'main' AND NOT temporary
                         AND database_name = current_database() ORDER BY 1"""
                ).fetchall()
            ]
            for name in names:
                path = os.path.join(folder, f"{name}.parquet")
                cur.execute(f'COPY (SELECT * FROM "{name}") TO ? (FORMAT parquet)', [path])
                rows = int(cur.execute(f'SELECT count(*) FROM "{name}"').scalar())
                os.chmod(path, 0o600)
                files.append(TableFile(name, f"{name}.parquet", rows, _sha256(path)))
    finally:
        os.umask(old_umask)
    manifest = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "created_at": at.isoformat(),
        "tool_version": tool_version(),
        "schema_version": max(versions, default=0),
        "schema_versions": versions,
        "tables": {t.table: {"file": t.file, "rows": t.rows, "sha256": t.sha256} for t in files},
        "sequences": sequences,
        "note": "Holds password, key and session hashes: keep it private.",
    }
    fd = os.open(os.path.join(folder, MANIFEST), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=2, sort_keys=True)
    with store.write() as cur:
        audit(
            cur,
            at,
            actor,
            "backup_made",
            None,
            {
                "tables": len(files),
                "rows": sum(t.rows for t in files),
                "schema_version": manifest["schema_version"],
            },
            from_ip,
        )
    size = sum(os.path.getsize(os.path.join(folder, t.file)) for t in files)
    size += os.path.getsize(os.path.join(folder, MANIFEST))
    return BackupInfo(folder, files, versions, at, str(manifest["tool_version"]), size)


# -- restore ---------------------------------------------------------------------------------
def _refuse(text: str) -> BackupError:
    return BackupError(text)


def read_manifest(folder: str) -> tuple[BackupInfo, dict[str, int | None]]:
    """The manifest of the backup in ``folder`` and its sequences; ``BackupError`` naming the
    file when it is missing or not a Tokenboard backup's."""
    folder = os.path.abspath(folder)
    path = os.path.join(folder, MANIFEST)
    if not os.path.isdir(folder):
        raise _refuse(N_("Backup folder {folder}: no such folder.", folder=folder))
    try:
        if os.path.getsize(path) > MANIFEST_MAX_BYTES:
            raise _refuse(
                N_(
                    "{file}: {size} bytes; expected at most {limit} (a Tokenboard backup's "
                    "manifest is a few kilobytes).",
                    file=path,
                    size=os.path.getsize(path),
                    limit=MANIFEST_MAX_BYTES,
                )
            )
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
    except FileNotFoundError:
        raise _refuse(
            N_(
                "{file}: missing; expected the manifest a Tokenboard backup writes last (an "
                "interrupted backup has none).",
                file=path,
            )
        ) from None
    except (OSError, ValueError, RecursionError) as err:  # RecursionError: nested too deep
        raise _refuse(
            N_(
                "{file}: could not be read as JSON ({why}); expected a Tokenboard backup's "
                "manifest.",
                file=path,
                why=_why(err),
            )
        ) from None
    try:
        if raw.get("format") != FORMAT:
            raise ValueError("format")
        if int(raw.get("format_version", 0)) > FORMAT_VERSION:
            raise _refuse(
                N_(
                    "{file}: written by a newer Tokenboard (backup format {found}); this one "
                    "reads format {expected}.",
                    file=path,
                    found=str(raw.get("format_version")),
                    expected=str(FORMAT_VERSION),
                )
            )
        tables = []
        for name, t in sorted(raw["tables"].items()):
            if not _NAME.match(name) or t["file"] != f"{name}.parquet":
                raise ValueError(f"table {name!r}")
            rows = t["rows"]
            if not isinstance(rows, int) or rows < 0:
                raise ValueError(f"rows of {name!r}")
            tables.append(TableFile(name, t["file"], rows, str(t["sha256"])))
        versions = sorted(int(v) for v in raw["schema_versions"])
        sequences = {str(k): None if v is None else int(v) for k, v in raw["sequences"].items()}
        for seq, last in sequences.items():
            if last is not None and not 0 <= last <= SEQUENCE_MAX:
                raise _refuse(
                    N_(
                        "{file}: the sequence {name} is at {found}; expected at most {limit} "
                        "(a Tokenboard database's ids).",
                        file=path,
                        name=seq[:80],
                        found=last,
                        limit=SEQUENCE_MAX,
                    )
                )
        created = datetime.fromisoformat(raw["created_at"])
        version = str(raw.get("tool_version", "unknown"))
    except BackupError:
        raise
    except (AttributeError, KeyError, TypeError, ValueError, OverflowError) as err:
        raise _refuse(
            N_(
                "{file}: not a Tokenboard backup manifest ({why} is missing or wrong); expected "
                "tables, row counts, schema versions and sequences.",
                file=path,
                why=str(err)[:80],
            )
        ) from None
    size = 0
    for t in tables:
        with contextlib.suppress(OSError):
            size += os.path.getsize(os.path.join(folder, t.file))
    return BackupInfo(folder, tables, versions, created, version, size), sequences


def _fresh_counts() -> dict[str, int]:
    """Rows per table of a new database (migrated, seeded): what an empty database holds."""
    with Store(":memory:") as fresh:
        return dict(_counts(fresh))


def _counts(store: Store) -> list[tuple[str, int]]:
    names = base_tables(store)
    with store.read() as cur:
        return [(n, int(cur.execute(f'SELECT count(*) FROM "{n}"').scalar())) for n in names]


# Who may sign in and what they did: a database the app opened holds them before any data (the
# admin who restores from the page is signed in). A restore with ``but_sign_in`` replaces them
# with the backup's too: the users and sessions become the backup's.
SIGN_IN_TABLES = frozenset({"users", "user_sources", "invitations", "auth_sessions", "key_audit"})


def is_empty(store: Store, *, but_sign_in: bool = False) -> bool:
    """True when ``store`` holds nothing but what a new database holds (its schema and the
    seed prices): a restore may go there. ``but_sign_in``: users, invitations, sessions and
    the audit log may hold rows too (a database the app opened and someone signed in to)."""
    mine, fresh = dict(_counts(store)), _fresh_counts()
    if but_sign_in:
        for name in SIGN_IN_TABLES:
            mine.pop(name, None)
            fresh.pop(name, None)
    return mine == fresh


def check(store: Store, folder: str, *, max_rows: int | None = None) -> BackupInfo:
    """Check the backup in ``folder`` against ``store`` without writing: the manifest, the
    schema versions, every table's file (present, checksum, columns, rows), at most
    ``max_rows`` rows in all (None: any number). Returns the manifest; raises ``BackupError``
    naming the first file that is not as expected."""
    info, _seqs = read_manifest(folder)
    if max_rows is not None and info.rows > max_rows:  # each file's count is checked below
        raise _refuse(
            N_(
                "{file}: lists {found} rows; expected at most {limit} from this .zip ({per} a "
                "byte). Nothing was restored.",
                file=os.path.join(info.folder, MANIFEST),
                found=info.rows,
                limit=max_rows,
                per=ZIP_MAX_ROWS_PER_BYTE,
            )
        )
    known = {v for v, _d, _s in MIGRATIONS}
    newer = sorted(set(info.schema_versions) - known)
    manifest = os.path.join(info.folder, MANIFEST)
    if newer:
        raise _refuse(
            N_(
                "{file}: made by a newer Tokenboard (schema versions {found} are unknown here); "
                "expected schema versions up to {expected}. Restore it with that version or "
                "later.",
                file=manifest,
                found=", ".join(map(str, newer)),
                expected=str(max(known)),
            )
        )
    with store.read() as cur:
        mine = sorted(
            int(r[0]) for r in cur.execute("SELECT version FROM schema_version").fetchall()
        )
        if info.schema_versions != mine:
            missing = sorted(set(mine) - set(info.schema_versions))
            raise _refuse(
                N_(
                    "{file}: made at schema version {found}; this database is at {expected} "
                    "(versions {missing} are not in the backup). Restore it with the Tokenboard "
                    "version that made it ({tool}).",
                    file=manifest,
                    found=str(info.schema_version),
                    expected=str(max(mine, default=0)),
                    missing=", ".join(map(str, missing)),
                    tool=info.tool_version,
                )
            )
        tables = base_tables(store)
        in_backup = {t.table for t in info.tables}
        for name in tables:
            if name not in in_backup:
                raise _refuse(
                    N_(
                        "{file}: the table {table} is missing; expected {table}.parquet with its "
                        "rows (every table of schema version {version}).",
                        file=manifest,
                        table=name,
                        version=str(info.schema_version),
                    )
                )
        for t in info.tables:
            path = os.path.join(info.folder, t.file)
            if t.table not in tables:
                raise _refuse(
                    N_(
                        "{file}: the table {table} is unknown at schema version {version}; "
                        "expected only this database's tables.",
                        file=manifest,
                        table=t.table,
                        version=str(info.schema_version),
                    )
                )
            if not os.path.isfile(path):
                raise _refuse(
                    N_(
                        "{file}: missing; expected the {rows} rows of the table {table}.",
                        file=path,
                        rows=t.rows,
                        table=t.table,
                    )
                )
            if _sha256(path) != t.sha256:
                raise _refuse(
                    N_(
                        "{file}: its content differs from the manifest's checksum (changed or "
                        "damaged since the backup); expected SHA-256 {expected}.",
                        file=path,
                        expected=t.sha256,
                    )
                )
            try:
                rows = int(cur.execute("SELECT count(*) FROM read_parquet(?)", [path]).scalar())
                cols = [
                    r[0]
                    for r in cur.execute(
                        "DESCRIBE SELECT * FROM read_parquet(?)", [path]
                    ).fetchall()
                ]
            except Exception as err:  # a damaged Parquet file
                raise _refuse(
                    N_(
                        "{file}: could not be read as Parquet ({why}); expected the rows of the "
                        "table {table}.",
                        file=path,
                        why=str(err).splitlines()[0][:120],
                        table=t.table,
                    )
                ) from None
            expected_cols = _columns(cur, t.table)
            if sorted(cols) != sorted(expected_cols):
                raise _refuse(
                    N_(
                        "{file}: holds the columns {found}; expected those of the table {table}: "
                        "{expected}.",
                        file=path,
                        found=", ".join(cols)[:300],
                        table=t.table,
                        expected=", ".join(expected_cols)[:300],
                    )
                )
            if rows != t.rows:
                raise _refuse(
                    N_(
                        "{file}: holds {found} rows; the manifest says {expected}.",
                        file=path,
                        found=rows,
                        expected=t.rows,
                    )
                )
    return info


def restore_into(
    store: Store,
    folder: str,
    *,
    actor: str | None,
    from_ip: str | None = None,
    now: datetime | None = None,
    but_sign_in: bool = False,
    max_rows: int | None = None,
) -> BackupInfo:
    """Read the backup in ``folder`` into ``store``, which must be empty (``is_empty``), all
    or nothing; then move every sequence past the restored ids. Audited as
    ``backup_restored`` (the one row the restored database holds beyond the backup's). The
    caller checks the role (``lib.ingest.backups.restore``: admins only). Raises
    ``BackupError`` (nothing written). ``but_sign_in``: see ``is_empty``; the users, sessions
    and audit log are then replaced by the backup's. ``max_rows``: see ``check`` (an upload:
    ``ZIP_MAX_ROWS_PER_BYTE`` times its size)."""
    info = check(store, folder, max_rows=max_rows)
    _info, sequences = read_manifest(folder)
    if not is_empty(store, but_sign_in=but_sign_in):
        raise _refuse(
            N_(
                "The database {path} is not empty; a backup is restored only into an empty "
                "database (a new file: --db with a path that does not exist yet).",
                path=store.display_path,
            )
        )
    at = (now or datetime.now(UTC)).astimezone(UTC)
    try:
        with store.write() as cur:
            for t in info.tables:
                path = os.path.join(info.folder, t.file)
                cur.execute(f'DELETE FROM "{t.table}"')
                cur.execute(
                    f'INSERT INTO "{t.table}" BY NAME SELECT * FROM read_parquet(?)', [path]
                )
                got = int(cur.execute(f'SELECT count(*) FROM "{t.table}"').scalar())
                if got != t.rows:
                    raise _refuse(
                        N_(
                            "{file}: gave {found} rows; the manifest says {expected}. Nothing was "
                            "restored.",
                            file=path,
                            found=got,
                            expected=t.rows,
                        )
                    )
            current = _sequences(cur)
            start = {
                r[0]: int(r[1])
                for r in cur.execute(
                    "SELECT sequence_name, start_value FROM duckdb_sequences() "
                    "WHERE schema_name = 'main' AND NOT temporary"
                ).fetchall()
            }
            for name, last in sequences.items():
                if name not in current or last is None:
                    continue
                now_last = current[name]
                steps = last - (start[name] - 1 if now_last is None else now_last)
                if steps > 0:
                    cur.execute("SELECT max(nextval(?)) FROM range(?)", [name, steps])
            if but_sign_in and "users" in {t.table for t in info.tables}:
                admins = cur.execute(
                    "SELECT count(*) FROM users WHERE role = 'admin' AND status = 'active'"
                ).scalar()
                if not admins:  # nobody could sign in to the page again
                    raise _refuse(
                        N_(
                            "{file}: holds no active admin; restored here, it would leave nobody "
                            "able to sign in. Restore it with the command line into a new file.",
                            file=os.path.join(info.folder, "users.parquet"),
                        )
                    )
            audit(
                cur,
                at,
                actor,
                "backup_restored",
                None,
                {
                    "tables": len(info.tables),
                    "rows": info.rows,
                    "schema_version": info.schema_version,
                    "created_at": info.created_at.isoformat(),
                },
                from_ip,
            )
    except StoreError as err:
        raise _refuse(
            N_(
                "The backup in {folder} could not be restored ({why}); nothing was restored.",
                folder=info.folder,
                why=str(err)[:300],
            )
        ) from None
    return info


# -- .zip for downloads and uploads ------------------------------------------------------------
def zip_bytes(folder: str) -> bytes:
    """The backup in ``folder`` (manifest and Parquet files) as one .zip (Parquet is already
    compressed: stored, not deflated)."""
    info, _seqs = read_manifest(folder)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as z:
        for t in info.tables:
            z.write(os.path.join(info.folder, t.file), t.file)
        z.write(os.path.join(info.folder, MANIFEST), MANIFEST)
    return buf.getvalue()


def unzip_to(
    data: bytes, folder: str, *, name: str = "backup.zip", max_bytes: int = ZIP_MAX_BYTES
) -> None:
    """Unpack an uploaded backup .zip into ``folder`` (new or empty; made 0700), refusing
    anything but ``manifest.json`` and ``<table>.parquet`` at the top (no paths, no links, no
    name twice), more than ``ZIP_MAX_FILES`` files or ``max_bytes`` unpacked in all, a file
    unpacking to more than ``ZIP_MAX_RATIO`` times its packed size or the whole to more than
    ``ZIP_MAX_RATIO`` times ``len(data)``. The sizes the .zip declares are checked first, then
    the bytes actually unpacked are counted as they are written (headers may lie). Refused:
    ``BackupError`` naming ``name`` (and the entry), and nothing is left in ``folder``."""
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        entries = z.infolist()
    except _UNZIP_ERRORS as err:
        raise _refuse(N_("{file}: not a .zip file ({why}).", file=name, why=_why(err))) from None
    too_large = _refuse(
        N_(
            "{file}: too large; expected at most {files} files and {mb} MB unpacked. Nothing "
            "was unpacked.",
            file=name,
            files=ZIP_MAX_FILES,
            mb=max_bytes // 1024**2,
        )
    )
    if len(entries) > ZIP_MAX_FILES or sum(e.file_size for e in entries) > max_bytes:
        raise too_large
    seen: set[str] = set()
    for e in entries:
        if e.filename in seen:  # which of the two would be restored?
            raise _refuse(
                N_(
                    "{file}: holds {entry} twice; expected each table's file once.",
                    file=name,
                    entry=e.filename[:80],
                )
            )
        seen.add(e.filename)
        base = e.filename[: -len(".parquet")] if e.filename.endswith(".parquet") else None
        kind = stat.S_IFMT(e.external_attr >> 16)
        if (e.filename != MANIFEST and (base is None or not _NAME.match(base))) or (
            kind not in (0, stat.S_IFREG)
        ):
            raise _refuse(
                N_(
                    "{file}: holds {entry}; expected only manifest.json and <table>.parquet "
                    "files, without folders.",
                    file=name,
                    entry=e.filename[:80],
                )
            )
        if e.file_size > ZIP_MAX_RATIO * e.compress_size:
            raise _bomb(name, e)
    if sum(e.file_size for e in entries) > ZIP_MAX_RATIO * len(data):
        raise _bomb(name, None, len(data))
    made = not os.path.lexists(folder)
    _private_folder(folder)
    old_umask = os.umask(0o077)
    total = 0
    entry = ""
    try:
        for e in entries:
            entry = e.filename
            target = os.path.join(folder, e.filename)
            with z.open(e) as src, open(target, "xb") as dst:
                left = e.file_size + 1
                got = 0
                while chunk := src.read(1 << 20):
                    left -= len(chunk)
                    got += len(chunk)
                    total += len(chunk)
                    if left <= 0:  # more than the entry declared
                        raise _refuse(
                            N_(
                                "{file}: {entry} is larger than the .zip says.",
                                file=name,
                                entry=e.filename,
                            )
                        )
                    if got > ZIP_MAX_RATIO * e.compress_size:
                        raise _bomb(name, e)
                    if total > ZIP_MAX_RATIO * len(data):
                        raise _bomb(name, None, len(data))
                    if total > max_bytes:
                        raise too_large
                    dst.write(chunk)
    except _UNZIP_ERRORS as err:
        _unmake(folder, made, [e.filename for e in entries])
        raise _refuse(
            N_(
                "{file}: {entry} could not be unpacked ({why}); expected a backup .zip as "
                "Tokenboard writes it. Nothing was unpacked.",
                file=name,
                entry=entry,
                why=_why(err),
            )
        ) from None
    except BaseException:  # a refusal above (BackupError), or the process stopping
        _unmake(folder, made, [e.filename for e in entries])
        raise
    finally:
        os.umask(old_umask)


def _why(err: BaseException) -> str:
    """An exception in a few words for a refusal: its message (first line, at most 120
    characters), or its type's name when it has none (EOFError)."""
    text = str(err).strip().splitlines()[0][:120] if str(err).strip() else ""
    return text or type(err).__name__


def _bomb(name: str, entry: zipfile.ZipInfo | None, size: int = 0) -> BackupError:
    """The refusal of a .zip (``entry`` None) or of one of its files unpacking to more than
    ``ZIP_MAX_RATIO`` times its packed size (``size``: the .zip's, in bytes)."""
    if entry is None:
        return _refuse(
            N_(
                "{file}: unpacks to more than {ratio} times its own size ({size} bytes); a "
                "backup's files barely compress. Nothing was unpacked.",
                file=name,
                ratio=ZIP_MAX_RATIO,
                size=size,
            )
        )
    return _refuse(
        N_(
            "{file}: {entry} unpacks to more than {ratio} times its packed size ({size} bytes); "
            "a backup's files barely compress. Nothing was unpacked.",
            file=name,
            entry=entry.filename[:80],
            ratio=ZIP_MAX_RATIO,
            size=entry.compress_size,
        )
    )


def _unmake(folder: str, made: bool, names: list[str]) -> None:
    """Take back what an unpacking that failed wrote: the files ``names`` in ``folder``, and
    ``folder`` itself when ``made`` here."""
    if made:
        shutil.rmtree(folder, ignore_errors=True)
        return
    for n in names:
        with contextlib.suppress(OSError):
            os.remove(os.path.join(folder, n))


def summary(info: BackupInfo) -> dict[str, Any]:
    """The manifest's facts as plain values (the command line prints them as JSON)."""
    return {
        "folder": info.folder,
        "tables": len(info.tables),
        "rows": info.rows,
        "schema_version": info.schema_version,
        "created_at": info.created_at.isoformat(),
        "tool_version": info.tool_version,
        "bytes": info.bytes,
    }


# -- compaction ------------------------------------------------------------------------------
def compact(path: str, *, actor: str | None = None) -> tuple[int, int]:
    """Rewrite the local database file at ``path`` without the space deleted rows left (DuckDB
    reuses freed blocks but rarely gives them back to the disk): a backup into a private
    temporary folder beside it, restored into a new file, which then takes the old one's place.
    Returns the bytes (file and log) before and after. The database must not be open in
    another program (the app): the file lock refuses it then, with a message. The caller
    checks the role (the command line acts as a local admin)."""
    from lib.store.facts import checkpoint, kind_of

    if kind_of(path) != "file":
        raise _refuse(
            N_(
                "Compacting works on a local database file; {path} is not one.",
                path=path.split("?", 1)[0],
            )
        )
    if not os.path.isfile(path):
        raise _refuse(N_("There is no database file {path}.", path=path))

    def total() -> int:
        wal = path + ".wal"
        return os.path.getsize(path) + (os.path.getsize(wal) if os.path.exists(wal) else 0)

    before = total()
    work = tempfile.mkdtemp(
        prefix=".tokenboard-compact-", dir=os.path.dirname(os.path.abspath(path))
    )
    try:
        folder, new = os.path.join(work, "backup"), os.path.join(work, "new.duckdb")
        with Store(path) as src:
            write_backup(src, folder, actor=actor)
            with Store(new) as dst:
                restore_into(dst, folder, actor=actor)
                checkpoint(dst)
        # the old file is closed (checkpointed, no log left); the new one takes its place
        os.replace(new, path)
        if os.path.exists(new + ".wal"):
            os.replace(new + ".wal", path + ".wal")
        elif os.path.exists(path + ".wal"):
            os.remove(path + ".wal")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return before, total()
