"""The key snapshot: what the gateway knows of Tokenboard keys, without the database.

The app writes every key (hashes, hints, status, expiry, restrictions, and what each key has
already spent today and this month) to one JSON file, atomically (``write_snapshot``:
temporary file, fsync, ``os.replace``), after every change. The gateway reads it
(``read_snapshot``) and keeps it fresh with ``SnapshotCache(path).current()``, which looks at
the file's identity (inode, size, mtime) at most every ``SnapshotCache.check_every_s`` and
reloads a changed file: a revocation reaches the gateway within 2 s.

Secrets are never in the snapshot: only ``hash_secret(secret)``, the hex SHA-256 of the
secret (a secret is ``tb-`` + 43 URL-safe characters: 256 random bits, so a plain hash cannot
be reversed or guessed) and a hint (``tb-…7Q2w``).

Imports nothing of Tokenboard but ``lib.keys.restrictions`` (and ``lib.text`` through it).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import re
import tempfile
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from lib.keys.restrictions import Restrictions

log = logging.getLogger("tokenboard")

SECRET_PREFIX = "tb-"
SECRET_MAX_LEN = 200  # anything longer is not one of ours (and is not hashed)
SNAPSHOT_VERSION = 1
Status = Literal["active", "revoked"]


def hash_secret(secret: str) -> str:
    """The hex SHA-256 of ``secret`` (UTF-8): what is stored and compared, never the secret."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def hint_of(secret: str) -> str:
    """The short hint shown beside a key: ``tb-…`` and the secret's last 4 characters."""
    return f"{SECRET_PREFIX}…{secret[-4:]}"


def _ts(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat()


def _parse_ts(value: object) -> datetime | None:
    if not value:
        return None
    dt = datetime.fromisoformat(str(value))
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=UTC)


@dataclass(frozen=True)
class KeyRecord:
    """One Tokenboard key as the gateway sees it. ``hash``: hex SHA-256 of the secret;
    ``old_hash`` / ``old_hash_until``: the previous secret of a rotation, accepted until then
    (UTC). ``expires_at`` None: never expires. ``spent_day_usd`` / ``spent_month_usd``: what
    the key's request events already cost in the UTC day ``spent_day`` (``YYYY-MM-DD``) and
    month ``spent_month`` (``YYYY-MM``) when the snapshot was written, counting the events up
    to ``spent_through`` (the newest event counted; the gateway adds what it served since)."""

    key_id: str
    name: str
    project: str | None
    owner: str | None
    hash: str
    hint: str
    status: Status = "active"
    expires_at: datetime | None = None
    old_hash: str | None = None
    old_hash_until: datetime | None = None
    restrictions: Restrictions = field(default_factory=Restrictions)
    spent_day: str | None = None
    spent_day_usd: Decimal = Decimal(0)
    spent_month: str | None = None
    spent_month_usd: Decimal = Decimal(0)
    spent_through: datetime | None = None

    def spent(self, now: datetime) -> tuple[Decimal, Decimal]:
        """What the snapshot says the key spent in ``now``'s UTC day and month (zero when the
        snapshot counted another day or month)."""
        utc = now.astimezone(UTC)
        day = self.spent_day_usd if self.spent_day == utc.strftime("%Y-%m-%d") else Decimal(0)
        month = self.spent_month_usd if self.spent_month == utc.strftime("%Y-%m") else Decimal(0)
        return day, month

    def to_dict(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "name": self.name,
            "project": self.project,
            "owner": self.owner,
            "hash": self.hash,
            "hint": self.hint,
            "status": self.status,
            "expires_at": _ts(self.expires_at),
            "old_hash": self.old_hash,
            "old_hash_until": _ts(self.old_hash_until),
            "restrictions": self.restrictions.to_dict(),
            "spent_day": self.spent_day,
            "spent_day_usd": str(self.spent_day_usd),
            "spent_month": self.spent_month,
            "spent_month_usd": str(self.spent_month_usd),
            "spent_through": _ts(self.spent_through),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> KeyRecord:
        status: Status = "active" if d.get("status") == "active" else "revoked"
        return cls(
            key_id=str(d["key_id"]),
            name=str(d.get("name") or ""),
            project=d.get("project"),
            owner=d.get("owner"),
            hash=str(d["hash"]),
            hint=str(d.get("hint") or ""),
            status=status,
            expires_at=_parse_ts(d.get("expires_at")),
            old_hash=d.get("old_hash") or None,
            old_hash_until=_parse_ts(d.get("old_hash_until")),
            restrictions=Restrictions.from_dict(d.get("restrictions") or {}),
            spent_day=d.get("spent_day"),
            spent_day_usd=Decimal(str(d.get("spent_day_usd") or "0")),
            spent_month=d.get("spent_month"),
            spent_month_usd=Decimal(str(d.get("spent_month_usd") or "0")),
            spent_through=_parse_ts(d.get("spent_through")),
        )


def plausible_secret(secret: str | None) -> bool:
    """True when ``secret`` could be a Tokenboard secret (prefix, length, printable ASCII):
    anything else is refused before hashing."""
    return (
        isinstance(secret, str)
        and secret.startswith(SECRET_PREFIX)
        and 16 <= len(secret) <= SECRET_MAX_LEN
        and secret.isascii()
        and secret.isprintable()
    )


_DATE_SUFFIX = re.compile(r"-\d{4}-?\d{2}-?\d{2}$")  # gpt-4o-2024-08-06, claude-…-20250929


class Snapshot:
    """The keys of one snapshot file, found by the hash of a presented secret."""

    def __init__(
        self,
        records: Iterable[KeyRecord] = (),
        written_at: datetime | None = None,
        prices: Mapping[str, tuple[Decimal, Decimal]] | None = None,
    ):
        self.records: tuple[KeyRecord, ...] = tuple(records)
        self.written_at = written_at
        # model (lower case) -> (input, output) USD per million tokens, in force when written
        self.prices: dict[str, tuple[Decimal, Decimal]] = dict(prices or {})
        self._by_hash: dict[str, KeyRecord] = {}
        self._by_old: dict[str, KeyRecord] = {}
        for rec in self.records:
            self._by_hash[rec.hash] = rec
            if rec.old_hash:
                self._by_old[rec.old_hash] = rec
        self._by_id = {rec.key_id: rec for rec in self.records}

    def __len__(self) -> int:
        return len(self.records)

    def get(self, key_id: str) -> KeyRecord | None:
        return self._by_id.get(key_id)

    def price_of(self, model: str | None) -> tuple[Decimal, Decimal] | None:
        """(input, output) USD per million tokens of ``model``: its own name, else without a
        date suffix (``gpt-4o-mini-2024-07-18``), else the longest priced name it starts with;
        None when unpriced."""
        if not model:
            return None
        name = model.strip().lower().removeprefix("compatible/")
        found = self.prices.get(name) or self.prices.get(_DATE_SUFFIX.sub("", name))
        if found is not None:
            return found
        starts = [m for m in self.prices if name.startswith(m)]
        return self.prices[max(starts, key=len)] if starts else None

    def find(self, secret: str | None, now: datetime | None = None) -> KeyRecord | None:
        """The key whose secret is ``secret`` (revoked and expired keys too: ``check`` says
        why they are refused), or whose previous secret it is while the rotation's grace
        period lasts (before ``old_hash_until``, at ``now``, default the current time).
        None for anything else.

        The lookup goes by the SHA-256 of the secret, then confirms with
        ``hmac.compare_digest``: the time it takes depends on the hash, which tells nothing
        of any stored secret."""
        if secret is None or not plausible_secret(secret):
            return None
        digest = hash_secret(secret)
        rec = self._by_hash.get(digest)
        if rec is not None and hmac.compare_digest(rec.hash, digest):
            return rec
        rec = self._by_old.get(digest)
        if rec is not None and rec.old_hash and hmac.compare_digest(rec.old_hash, digest):
            at = now or datetime.now(UTC)
            if rec.old_hash_until is not None and at < rec.old_hash_until:
                return rec
        return None


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform opens a directory
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_snapshot(
    path: str | os.PathLike[str],
    records: Iterable[KeyRecord],
    now: datetime | None = None,
    prices: Mapping[str, tuple[Decimal, Decimal]] | None = None,
) -> None:
    """Write ``records`` to ``path`` atomically: a temporary file in the same folder,
    flushed and fsynced, then ``os.replace`` (a reader sees the old file or the new one,
    never half of one). The folder is made when missing. Readable by the owner only."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "version": SNAPSHOT_VERSION,
        "written_at": _ts(now or datetime.now(UTC)),
        "keys": [r.to_dict() for r in records],
        "prices": {m: [str(i), str(o)] for m, (i, o) in sorted((prices or {}).items())},
    }
    data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)


def read_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """The snapshot at ``path``. A missing file is an empty snapshot (every key refused).
    Raises ``ValueError`` when the file is not a snapshot (``SnapshotCache`` then keeps the
    last good one)."""
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        return Snapshot()
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or not isinstance(doc.get("keys"), list):
            raise ValueError("not a key snapshot")
        records = [KeyRecord.from_dict(d) for d in doc["keys"]]
        raw_prices = doc.get("prices") or {}
        prices = {str(m): (Decimal(str(p[0])), Decimal(str(p[1]))) for m, p in raw_prices.items()}
        return Snapshot(records, _parse_ts(doc.get("written_at")), prices)
    except (KeyError, TypeError, ArithmeticError, json.JSONDecodeError) as err:
        raise ValueError(f"not a key snapshot: {type(err).__name__}") from None


class SnapshotCache:
    """The snapshot at ``path``, reloaded when the file changes: ``current()`` looks at the
    file (inode, size, mtime) at most every ``check_every_s`` seconds (default 0.5: a change
    is seen within that, well under 2 s). A file that cannot be read keeps the last good
    snapshot (logged once per change); a file removed gives an empty one. Thread-safe."""

    def __init__(self, path: str | os.PathLike[str], check_every_s: float = 0.5) -> None:
        self.path = Path(path)
        self.check_every_s = check_every_s
        self._lock = threading.Lock()
        self._snapshot = Snapshot()
        self._ident: tuple[int, int, int] | None = None
        self._checked = float("-inf")

    def _stat(self) -> tuple[int, int, int] | None:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_size, st.st_mtime_ns)

    def current(self) -> Snapshot:
        """The snapshot in force (reloaded first when the file changed)."""
        now = time.monotonic()
        if now - self._checked < self.check_every_s:
            return self._snapshot
        with self._lock:
            if now - self._checked < self.check_every_s:
                return self._snapshot
            self._checked = now
            try:
                ident = self._stat()
            except OSError:
                return self._snapshot
            if ident == self._ident:
                return self._snapshot
            if ident is None:
                self._snapshot, self._ident = Snapshot(), None
                return self._snapshot
            try:
                self._snapshot = read_snapshot(self.path)
            except (OSError, ValueError) as err:
                log.warning("the key snapshot could not be read (%s); the last one is kept", err)
            self._ident = ident
            return self._snapshot
