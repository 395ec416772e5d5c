"""The gateway's journal imported: every complete line of ``events-*.jsonl`` in the journal
folder (``lib.keys.paths.journal_dir``) becomes a request event through the import engine
(``import_records``, origin ``gateway``, source ``gateway``).

Nothing lost, nothing doubled, whichever process is killed when:
- A line is complete only with its trailing newline: the bytes after a file's last newline
  (a line being written, or half written by a killed gateway) are left for a later round.
- The byte offset imported so far is kept per file in the settings table
  (``gateway_journal:<file name>``), written in the same transaction as the file's rows: an
  import that fails or is killed moves neither.
- Each line's ``request_id`` is the gateway's event id, so a line imported twice (a file
  replaced under the same name, two importers at once) is found a duplicate, never counted
  twice. A file is known by its first line's hash beside the offset: a different file under
  the same name, or one shorter than the offset, is read again from its start.
- A complete line that is not a JSON object is skipped and counted (``bad_lines``), never
  retried forever.
- Two importers of one database at once (two app processes on one ``md:`` database, each
  with its worker; the journal folder shared): a file's position row exists before its first
  import, so both imports change that row and the later one fails as a write conflict, kept
  nowhere (``overtaken``). Run the worker in one place all the same: the other's work is wasted.

After each import: one ``requests_refused`` audit entry per key with the refusals it holds
(codes and counts, in the import's transaction), then the key snapshot is published again
(what each key spent changed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from lib.importers.canonical import REQUEST_COLUMNS
from lib.ingest import import_records
from lib.keys.paths import journal_dir, snapshot_path
from lib.keys.restrictions import REFUSAL_CODES
from lib.keys.store import audit, publish_snapshot
from lib.store import Cursor, Store
from lib.store.db import WriteConflictError

log = logging.getLogger("tokenboard")

SOURCE = "gateway"
FORMAT = "gateway"
SETTING_PREFIX = "gateway_journal:"
PATTERN = "events-*.jsonl"
MAX_BATCH_BYTES = 16 * 1024 * 1024  # read and imported per transaction, at most
SYSTEM_ROLE = "admin"  # the journal is the app's own data: imported as the local admin
_COST_STEP = Decimal("1e-10")  # request_events.cost_usd: 10 decimals
_INT = {name for name, kind in REQUEST_COLUMNS.items() if kind == "int"}
_TOKENS = ("input_tokens", "cached_input_tokens", "cache_write_tokens", "output_tokens",
           "reasoning_tokens")  # fmt: skip
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()


@dataclass
class JournalImport:
    """What one ``import_journal`` did: files read, complete lines read, rows new and
    duplicate, lines skipped (not a JSON object), the imports made (their ids), the files
    that failed (their names; the reason is logged), and those another importer of the same
    database was importing at the same moment (``overtaken``: this import kept nothing; the
    next round goes on from where that one got)."""

    files: int = 0
    lines: int = 0
    rows_new: int = 0
    rows_duplicate: int = 0
    bad_lines: int = 0
    imports: list[int] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    overtaken: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Position:
    offset: int
    head: str | None


def _lock_for(store: Store) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(store.key, threading.Lock())


def _setting_key(path: Path) -> str:
    return SETTING_PREFIX + path.name


def _read_position(cur: Cursor, key: str) -> _Position:
    raw = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    try:
        doc = json.loads(raw[0]) if raw and raw[0] else {}
        return _Position(int(doc.get("offset", 0)), doc.get("head"))
    except (ValueError, TypeError, AttributeError):
        return _Position(0, None)


def _save_position(cur: Cursor, key: str, pos: _Position) -> None:
    """Keep ``pos`` unless the stored one is further into the same file (an importer of an
    older read never moves the offset back)."""
    stored = _read_position(cur, key)
    if stored.head == pos.head and stored.offset >= pos.offset:
        return
    cur.execute("DELETE FROM settings WHERE key = ?", [key])
    cur.execute(
        "INSERT INTO settings VALUES (?, ?)",
        [key, json.dumps({"offset": pos.offset, "head": pos.head})],
    )


def positions(store: Store) -> dict[str, int]:
    """The byte offset imported of each journal file, by file name."""
    out = {}
    with store.read() as cur:
        rows = cur.execute(
            "SELECT key FROM settings WHERE starts_with(key, ?)", [SETTING_PREFIX]
        ).fetchall()
        for (key,) in rows:
            out[key[len(SETTING_PREFIX) :]] = _read_position(cur, key).offset
    return out


def _head(fh: Any) -> str | None:
    """The hash of a file's first line (None until it has a complete one)."""
    fh.seek(0)
    first = fh.readline(1 << 20)
    if not first.endswith(b"\n"):
        return None
    return hashlib.sha256(first).hexdigest()


# -- one line to one canonical row ---------------------------------------------------------------
def _ts(value: object) -> datetime:
    dt = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


def _int(value: object) -> int | None:
    if value is None or value == "" or isinstance(value, bool):
        return None
    return int(value) if isinstance(value, int) else int(Decimal(str(value)))


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value)
    return text if text else None


def to_row(doc: dict[str, Any]) -> dict[str, Any]:
    """One journal line as a canonical request row (``REQUEST_COLUMNS``, typed); keys that
    are not canonical columns left out. Raises ``ValueError`` / ``KeyError`` / ``ArithmeticError`` when
    the line is not a request row."""
    row: dict[str, Any] = {}
    for name, kind in REQUEST_COLUMNS.items():
        value = doc.get(name)
        if name == "ts":
            row[name] = _ts(value)
        elif name == "cost_usd":
            row[name] = (
                None if value is None or value == "" else
                Decimal(str(value)).quantize(_COST_STEP)
            )  # fmt: skip
        elif name == "batch":
            row[name] = bool(value)
        elif name in _TOKENS:
            row[name] = _int(value) or 0
        elif name in _INT:
            row[name] = _int(value)
        elif kind == "status":
            row[name] = "error" if value == "error" else "success"
        else:
            row[name] = _text(value)
    if not row["provider"]:
        raise ValueError("a journal line names no provider")
    return row


def _parse(lines: Sequence[bytes]) -> tuple[list[dict[str, Any]], int]:
    rows, bad = [], 0
    for line in lines:
        if not line.strip():
            continue
        try:
            doc = json.loads(line, parse_float=Decimal)
            if not isinstance(doc, dict):
                raise ValueError("not an object")
            rows.append(to_row(doc))
        except (ValueError, KeyError, TypeError, ArithmeticError, InvalidOperation):
            bad += 1
    return rows, bad


# -- the refusals, summarised in the audit log --------------------------------------------------
def _audit_refusals(cur: Cursor, import_id: int, display: str) -> None:
    found = cur.execute(
        """SELECT api_key, error_code, count(*), min(ts), max(ts) FROM request_events
           WHERE import_id = ? AND list_contains(?, error_code) GROUP BY ALL ORDER BY ALL""",
        [import_id, list(REFUSAL_CODES)],
    ).fetchall()
    per: dict[str | None, dict[str, Any]] = {}
    for key_id, code, n, first, last in found:
        d = per.setdefault(key_id, {"codes": {}, "from": first, "to": last, "journal": display})
        d["codes"][code] = int(n)
        d["from"], d["to"] = min(d["from"], first), max(d["to"], last)
    for key_id, detail in per.items():
        audit(cur, datetime.now(UTC), "gateway", "requests_refused", key_id, detail)


# -- the import ----------------------------------------------------------------------------
def _import_file(store: Store, path: Path, result: JournalImport) -> None:
    key = _setting_key(path)
    with path.open("rb") as fh:
        head = _head(fh)
        if head is None:
            return  # not even one complete line yet
        size = fh.seek(0, 2)
        with store.read() as cur:
            pos = _read_position(cur, key)
            known = cur.execute("SELECT count(*) FROM settings WHERE key = ?", [key]).scalar()
        if not known:
            _claim_row(store, key, head)
        offset = pos.offset if pos.head == head and pos.offset <= size else 0
        while offset < size:
            fh.seek(offset)
            chunk = fh.read(min(size - offset, MAX_BATCH_BYTES))
            end = chunk.rfind(b"\n")
            if end < 0:
                if len(chunk) >= MAX_BATCH_BYTES:  # one line longer than a batch: skipped
                    nl = _skip_line(fh, offset)
                    if nl is None:
                        return
                    result.bad_lines += 1
                    with store.write() as cur:
                        _save_position(cur, key, _Position(nl, head))
                    offset = nl
                    continue
                return  # a line still being written: for a later round
            lines = chunk[: end + 1].splitlines()
            new_offset = offset + end + 1
            rows, bad = _parse(lines)
            result.lines += len(lines)
            result.bad_lines += bad
            if bad:
                log.warning("%s: %d journal lines that are not request rows were skipped",
                            path.name, bad)  # fmt: skip
            position = _Position(new_offset, head)
            if rows:
                display = f"{path.name} (bytes {offset:,}-{new_offset:,})"

                def within(cur: Cursor, import_id: int, pos: _Position = position,
                           name: str = display) -> None:  # fmt: skip
                    _save_position(cur, key, pos)
                    _audit_refusals(cur, import_id, name)

                done = import_records(
                    store, rows, fmt=FORMAT, grain="request", source=SOURCE,
                    display=display, origin="gateway", role=SYSTEM_ROLE, within=within,
                )  # fmt: skip
                result.imports.append(done.import_id)
                result.rows_new += done.rows_new
                result.rows_duplicate += done.rows_duplicate
            else:
                with store.write() as cur:
                    _save_position(cur, key, position)
            offset = new_offset


def _claim_row(store: Store, key: str, head: str) -> None:
    """Store a file's position (offset 0) before its first import, so that two importers of
    one database at once (two app processes on one ``md:`` database, each with its worker) both
    change that one row: the later one's import then fails as a write conflict and is kept
    nowhere, where two inserts of a new row would both have committed (every line twice)."""
    with store.write() as cur:
        if not cur.execute("SELECT count(*) FROM settings WHERE key = ?", [key]).scalar():
            cur.execute(
                "INSERT INTO settings VALUES (?, ?)",
                [key, json.dumps({"offset": 0, "head": head})],
            )


def _skip_line(fh: Any, offset: int) -> int | None:
    """The offset after the newline that ends the line at ``offset`` (None: not ended yet)."""
    fh.seek(offset)
    pos = offset
    while True:
        block = fh.read(1 << 20)
        if not block:
            return None
        nl = block.find(b"\n")
        if nl >= 0:
            return pos + nl + 1
        pos += len(block)


def _has_keys(store: Store) -> bool:
    return bool(store.scalar("SELECT count(*) FROM tokenboard_keys"))


def import_journal(
    store: Store,
    directory: str | Path | None = None,
    *,
    snapshot: str | Path | None = None,
    republish: bool = False,
) -> JournalImport:
    """Import every complete line not yet imported of the journal files in ``directory``
    (default ``journal_dir`` of the store's database), then publish the key snapshot (to
    ``snapshot``, default beside the database) when rows were new, or always with
    ``republish`` (the worker's rounds: a snapshot a key change could not write is written
    again). One file failing never stops the others (named in ``failed``, logged); a
    snapshot that cannot be written is logged and named ``snapshot`` in ``failed``. Calls of
    one process for one database take turns."""
    folder = Path(directory) if directory is not None else journal_dir(store.path)
    result = JournalImport()
    with _lock_for(store):
        files = sorted(folder.glob(PATTERN)) if folder.is_dir() else []
        for path in files:
            result.files += 1
            try:
                _import_file(store, path, result)
            except WriteConflictError:  # another importer of this database took these lines
                log.warning("the gateway journal %s: another importer was importing the same "
                            "lines; nothing of this import was kept", path.name)  # fmt: skip
                result.overtaken.append(path.name)
            except Exception:  # logged; this file is tried again next round
                log.exception("the gateway journal %s could not be imported", path.name)
                result.failed.append(path.name)
        target = Path(snapshot) if snapshot is not None else snapshot_path(store.path)
        if result.rows_new or (republish and (target.exists() or _has_keys(store))):
            try:
                publish_snapshot(store, target)
            except OSError as err:
                log.error("the key snapshot could not be written: %s", err)
                result.failed.append("snapshot")
    return result


class JournalFollower:
    """A thread that imports the journal every ``interval_s`` seconds (the worker's rounds
    are minutes apart; this makes the gateway's requests visible within seconds). Never
    raises; ``stop()`` ends it. Shares ``import_journal``'s turn-taking with the worker's
    rounds, so two imports of one database never overlap."""

    def __init__(
        self,
        store: Store,
        interval_s: float = 5.0,
        directory: str | Path | None = None,
        snapshot: str | Path | None = None,
    ) -> None:
        self.store = store
        self.interval_s = interval_s
        self.directory = directory
        self.snapshot = snapshot
        self.runs = 0
        self.last: JournalImport | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.last = import_journal(self.store, self.directory, snapshot=self.snapshot)
            except Exception:  # logged; the next run comes as planned
                log.exception("the gateway journal could not be imported")
            self.runs += 1
            self._stop.wait(self.interval_s)

    def start(self) -> bool:
        """Start the thread (a first import at once); False when already running."""
        if self._thread is not None and self._thread.is_alive():
            return False
        self._stop.clear()
        self._thread = threading.Thread(target=self._loop, name="tokenboard-journal",
                                        daemon=True)  # fmt: skip
        self._thread.start()
        return True

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop the thread (waiting at most ``timeout`` s for an import under way)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        return self._thread is None or not self._thread.is_alive()
