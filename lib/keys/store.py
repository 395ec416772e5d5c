"""Tokenboard keys in the database: create, revoke, rotate, edit, list; the audit log; the
snapshot the gateway reads.

- A secret is ``tb-`` + ``secrets.token_urlsafe(32)`` (256 random bits), returned once by
  ``create_key`` and ``rotate_key`` and never stored: the table keeps its SHA-256 and a hint.
- Every change is checked against the user's role (``manage_keys``: admins only), validated
  (``lib.keys.validate``), written with its audit entry in one transaction, then published
  to the gateway: ``publish_snapshot`` writes every key (hashes, restrictions, what each has
  spent today and this month) to ``lib.keys.paths.snapshot_path`` atomically.
- Every change is written to the audit log (``lib.store.audit``, append-only).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from lib.auth.roles import require
from lib.errors import NotFoundError, TokenboardError
from lib.keys.paths import snapshot_path
from lib.keys.restrictions import Restrictions
from lib.keys.snapshot import SECRET_PREFIX, KeyRecord, hash_secret, hint_of, write_snapshot
from lib.keys.validate import KeyInputError, check_expiry, check_name, validated
from lib.pricing.catalog import canonical_model, known_models, price_in_force
from lib.store import Cursor, Store
from lib.store.audit import KEY_ACTIONS, AuditEntry, audit, entries
from lib.text import N_

DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)
KEY_ID_PREFIX = "tbk_"

_COLUMNS = (
    "key_id, name, owner, project, created_at, created_by, expires_at, status, revoked_at, "
    "revoked_by, hash, hint, old_hash, old_hash_until, rotated_at, restrictions, updated_at"
)


class KeyPublishError(TokenboardError):
    """The change was saved but the snapshot the gateway reads could not be written."""


@dataclass(frozen=True)
class KeyInfo:
    """One key as the Keys page lists it: the gateway's ``record`` and its history (UTC)."""

    record: KeyRecord
    created_at: datetime
    created_by: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    rotated_at: datetime | None
    updated_at: datetime

    @property
    def key_id(self) -> str:
        return self.record.key_id


def _now() -> datetime:
    return datetime.now(UTC)


def new_secret() -> str:
    """A new secret: ``tb-`` + 43 URL-safe characters (32 random bytes)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _new_key_id() -> str:
    return KEY_ID_PREFIX + secrets.token_hex(8)


# -- the audit log (lib.store.audit) --------------------------------------------------------
def audit_log(
    store: Store,
    role: str | None,
    *,
    key_id: str | None = None,
    since: datetime | None = None,
    limit: int | None = 10_000,
) -> list[AuditEntry]:
    """The audit log of keys (``KEY_ACTIONS``), newest first (admins only: ``manage_keys``);
    ``key_id`` and ``since`` narrow it; ``limit`` None: every entry."""
    require(role, "manage_keys")
    return entries(store, subject=key_id, actions=KEY_ACTIONS, since=since, limit=limit)


# -- reading keys ---------------------------------------------------------------------------
def _info(row: Sequence[Any]) -> KeyInfo:
    (key_id, name, owner, project, created_at, created_by, expires_at, status, revoked_at,
     revoked_by, hash_, hint, old_hash, old_until, rotated_at, restrictions, updated_at) = row  # fmt: skip
    record = KeyRecord(
        key_id=key_id,
        name=name,
        project=project,
        owner=owner,
        hash=hash_,
        hint=hint,
        status="active" if status == "active" else "revoked",
        expires_at=expires_at,
        old_hash=old_hash,
        old_hash_until=old_until,
        restrictions=Restrictions.from_dict(json.loads(restrictions)),
    )
    return KeyInfo(record, created_at, created_by, revoked_at, revoked_by, rotated_at, updated_at)


def list_keys(store: Store, role: str | None) -> list[KeyInfo]:
    """Every Tokenboard key, newest first (any signed-in role may see them: hints and
    hashes only)."""
    require(role, "view")
    with store.read() as cur:
        return _all(cur)


def _all(cur: Cursor) -> list[KeyInfo]:
    rows = cur.execute(
        f"SELECT {_COLUMNS} FROM tokenboard_keys ORDER BY created_at DESC, key_id"
    ).fetchall()
    return [_info(r) for r in rows]


def get_key(store: Store, role: str | None, key_id: str) -> KeyInfo:
    """One key; raises ``NotFoundError`` when there is none with that id."""
    require(role, "view")
    with store.read() as cur:
        return _one(cur, key_id)


def _one(cur: Cursor, key_id: str) -> KeyInfo:
    row = cur.execute(
        f"SELECT {_COLUMNS} FROM tokenboard_keys WHERE key_id = ?", [key_id]
    ).fetchone()
    if row is None:
        raise NotFoundError(N_("There is no Tokenboard key {key_id}.", key_id=key_id))
    return _info(row)


# -- changes ------------------------------------------------------------------------------
def create_key(
    store: Store,
    role: str | None,
    actor: str | None,
    name: str,
    owner: str | None,
    project: str | None,
    expires_at: datetime | None,
    restrictions: Restrictions,
    *,
    from_ip: str | None = None,
    now: datetime | None = None,
    snapshot: str | os.PathLike[str] | None = None,
) -> tuple[KeyRecord, str]:
    """Create a key and return it with its secret, the only time the secret is given: only
    its SHA-256 and hint are stored. Admins only. Raises ``KeyInputError`` (nothing written)
    or ``KeyPublishError`` (the key exists; the gateway learns it at the next publish)."""
    require(role, "manage_keys")
    at = now or _now()
    name = check_name(name)
    expires_at = check_expiry(expires_at, at)
    restrictions = validated(restrictions)
    secret = new_secret()
    record = KeyRecord(
        key_id=_new_key_id(),
        name=name,
        project=(project or "").strip() or None,
        owner=(owner or "").strip() or None,
        hash=hash_secret(secret),
        hint=hint_of(secret),
        expires_at=expires_at,
        restrictions=restrictions,
    )
    with store.write() as cur:
        cur.execute(
            f"""INSERT INTO tokenboard_keys ({_COLUMNS})
                VALUES (?, ?, ?, ?, ?, ?, ?, 'active', NULL, NULL, ?, ?, NULL, NULL, NULL, ?, ?)""",
            [record.key_id, record.name, record.owner, record.project, at, actor, expires_at,
             record.hash, record.hint, json.dumps(restrictions.to_dict()), at],
        )  # fmt: skip
        audit(cur, at, actor, "key_created", record.key_id,
              {"name": record.name, "owner": record.owner, "project": record.project,
               "expires_at": expires_at, "hint": record.hint,
               "restrictions": restrictions.to_dict()}, from_ip)  # fmt: skip
    _publish_after_change(store, snapshot, at)
    return record, secret


def _change(
    store: Store,
    role: str | None,
    key_id: str,
    now: datetime | None,
    snapshot: str | os.PathLike[str] | None,
    write: Callable[[Cursor, KeyRecord, datetime], None],
) -> KeyRecord:
    """What every change to an existing key does around its own ``write(cur, key as it was,
    time of the change)``: check the role (``manage_keys``), read the key in the write
    transaction (``NotFoundError`` without one), read it again once written, commit, then
    publish the snapshot (``KeyPublishError``). An exception in ``write`` writes nothing."""
    require(role, "manage_keys")
    at = now or _now()
    with store.write() as cur:
        write(cur, _one(cur, key_id).record, at)
        record = _one(cur, key_id).record
    _publish_after_change(store, snapshot, at)
    return record


def revoke_key(
    store: Store,
    role: str | None,
    actor: str | None,
    key_id: str,
    *,
    from_ip: str | None = None,
    now: datetime | None = None,
    snapshot: str | os.PathLike[str] | None = None,
) -> KeyRecord:
    """Revoke a key at once (its rotation's old secret too); the gateway refuses it within
    2 s of the snapshot written here. Revoking a revoked key changes nothing (not audited
    again). Admins only."""

    def write(cur: Cursor, rec: KeyRecord, at: datetime) -> None:
        if rec.status == "active":
            cur.execute(
                """UPDATE tokenboard_keys SET status = 'revoked', revoked_at = ?, revoked_by = ?,
                   old_hash_until = NULL, old_hash = NULL, updated_at = ? WHERE key_id = ?""",
                [at, actor, at, key_id],
            )
            audit(cur, at, actor, "key_revoked", key_id, {"name": rec.name, "hint": rec.hint},
                  from_ip)  # fmt: skip

    return _change(store, role, key_id, now, snapshot, write)


def rotate_key(
    store: Store,
    role: str | None,
    actor: str | None,
    key_id: str,
    grace: timedelta = DEFAULT_GRACE,
    *,
    from_ip: str | None = None,
    now: datetime | None = None,
    snapshot: str | os.PathLike[str] | None = None,
) -> tuple[KeyRecord, str]:
    """Give an active key a new secret (returned once); the previous one is still accepted
    for ``grace`` (0 to 30 days; 0: refused at once). A secret older than the previous one
    is refused from now on. Admins only; a revoked key cannot be rotated."""
    require(role, "manage_keys")
    if grace < timedelta(0) or grace > MAX_GRACE:
        raise KeyInputError(
            "bad_expiry",
            N_("A rotation's grace period is from 0 to {days} days.", days=MAX_GRACE.days),
        )
    secret = new_secret()
    new_hash, hint = hash_secret(secret), hint_of(secret)

    def write(cur: Cursor, rec: KeyRecord, at: datetime) -> None:
        if rec.status != "active":
            raise KeyInputError(
                "key_revoked",
                N_("The key {name} is revoked: create a new key instead.", name=rec.name),
            )
        until = at + grace if grace > timedelta(0) else None
        cur.execute(
            """UPDATE tokenboard_keys SET hash = ?, hint = ?, old_hash = ?, old_hash_until = ?,
               rotated_at = ?, updated_at = ? WHERE key_id = ?""",
            [new_hash, hint, rec.hash if until else None, until, at, at, key_id],
        )
        audit(cur, at, actor, "key_rotated", key_id,
              {"name": rec.name, "old_hint": rec.hint, "hint": hint,
               "grace_s": int(grace.total_seconds()), "old_until": until}, from_ip)  # fmt: skip

    return _change(store, role, key_id, now, snapshot, write), secret


def edit_restrictions(
    store: Store,
    role: str | None,
    actor: str | None,
    key_id: str,
    restrictions: Restrictions,
    *,
    from_ip: str | None = None,
    now: datetime | None = None,
    snapshot: str | os.PathLike[str] | None = None,
) -> KeyRecord:
    """Replace a key's restrictions (budgets and limits included), validated first; the
    audit entry keeps the before and after. Admins only."""
    require(role, "manage_keys")
    after = validated(restrictions)

    def write(cur: Cursor, rec: KeyRecord, at: datetime) -> None:
        if rec.restrictions != after:
            cur.execute(
                "UPDATE tokenboard_keys SET restrictions = ?, updated_at = ? WHERE key_id = ?",
                [json.dumps(after.to_dict()), at, key_id],
            )
            audit(cur, at, actor, "restrictions_changed", key_id,
                  {"name": rec.name, "before": rec.restrictions.to_dict(),
                   "after": after.to_dict()}, from_ip)  # fmt: skip

    return _change(store, role, key_id, now, snapshot, write)


_KEEP: Any = object()  # "leave as it is" for edit_key's optional fields


def edit_key(
    store: Store,
    role: str | None,
    actor: str | None,
    key_id: str,
    *,
    name: str | None = None,
    owner: Any = _KEEP,
    project: Any = _KEEP,
    expires_at: Any = _KEEP,
    from_ip: str | None = None,
    now: datetime | None = None,
    snapshot: str | os.PathLike[str] | None = None,
) -> KeyRecord:
    """Change a key's name, owner, project or expiry (``None`` clears owner, project and
    expiry; left out: unchanged). Admins only."""

    def write(cur: Cursor, rec: KeyRecord, at: datetime) -> None:
        new = replace(
            rec,
            name=check_name(name) if name is not None else rec.name,
            owner=rec.owner if owner is _KEEP else ((owner or "").strip() or None),
            project=rec.project if project is _KEEP else ((project or "").strip() or None),
            expires_at=rec.expires_at if expires_at is _KEEP else check_expiry(expires_at, at),
        )
        changed = {
            f: {"before": getattr(rec, f), "after": getattr(new, f)}
            for f in ("name", "owner", "project", "expires_at")
            if getattr(rec, f) != getattr(new, f)
        }
        if changed:
            cur.execute(
                """UPDATE tokenboard_keys SET name = ?, owner = ?, project = ?, expires_at = ?,
                   updated_at = ? WHERE key_id = ?""",
                [new.name, new.owner, new.project, new.expires_at, at, key_id],
            )
            audit(cur, at, actor, "key_edited", key_id, changed, from_ip)

    return _change(store, role, key_id, now, snapshot, write)


# -- what each key spent (for the gateway's budgets) ---------------------------------------------
_EPOCH = date(1970, 1, 1)


def _estimate(cur: Cursor, model: str | None, day: date, sums: Sequence[Any], batch: bool,
              known: set[str]) -> Decimal:  # fmt: skip
    """Tokens × the catalog price in force on ``day`` (as ``lib.pricing.estimate``); zero
    for a model without a price."""
    catalog = canonical_model(model, known)
    price = price_in_force(cur, catalog, day) if catalog else None
    if price is None:
        return Decimal(0)
    inp, cached, write, out = (int(x or 0) for x in sums)
    p_in = Decimal(price["input_per_mtok"])
    p_cached = Decimal(price["cached_input_per_mtok"] or p_in)
    p_write = Decimal(price["cache_write_5m_per_mtok"] or p_in)
    usd = (
        max(inp - cached - write, 0) * p_in
        + cached * p_cached
        + write * p_write
        + out * Decimal(price["output_per_mtok"])
    ) / Decimal(1_000_000)
    if batch:
        usd *= 1 - Decimal(price["batch_discount"] or 0)
    return usd


def spent_by_key(
    cur: Cursor, key_ids: Iterable[str], now: datetime
) -> dict[str, tuple[Decimal, Decimal, datetime | None]]:
    """Per key id: USD spent in ``now``'s UTC day and month (the cost a request event states,
    else tokens × the catalog price of its day) and the newest event counted. Keys without
    events are left out."""
    ids = list(key_ids)
    if not ids:
        return {}
    utc = now.astimezone(UTC)
    month_start = datetime(utc.year, utc.month, 1, tzinfo=UTC)
    today = utc.date()
    rows = cur.execute(
        """SELECT api_key, model, epoch_ms(ts) // 86400000 AS day, batch,
                  sum(cost_usd), sum(input_tokens) FILTER (WHERE cost_usd IS NULL),
                  sum(cached_input_tokens) FILTER (WHERE cost_usd IS NULL),
                  sum(cache_write_tokens) FILTER (WHERE cost_usd IS NULL),
                  sum(output_tokens) FILTER (WHERE cost_usd IS NULL), max(ts)
           FROM request_events
           WHERE list_contains(?, api_key) AND ts >= ? AND ts <= ?
           GROUP BY ALL""",
        [ids, month_start, utc],
    ).fetchall()
    known = known_models(cur) if rows else set()
    out: dict[str, tuple[Decimal, Decimal, datetime | None]] = {}
    for key_id, model, day_n, batch, stated, inp, cached, write, outp, newest in rows:
        day = _EPOCH + timedelta(days=int(day_n))
        usd = Decimal(stated or 0)
        if inp is not None:
            usd += _estimate(cur, model, day, (inp, cached, write, outp), bool(batch), known)
        d, m, through = out.get(key_id, (Decimal(0), Decimal(0), None))
        through = newest if through is None or (newest and newest > through) else through
        out[key_id] = (d + usd if day == today else d, m + usd, through)
    return out


# -- the snapshot ---------------------------------------------------------------------------
_publish_lock = threading.Lock()


def snapshot_records(cur: Cursor, now: datetime) -> list[KeyRecord]:
    """Every key as the gateway needs it, with what it spent in ``now``'s UTC day and month."""
    infos = _all(cur)
    spent = spent_by_key(cur, [i.key_id for i in infos], now)
    utc = now.astimezone(UTC)
    day, month = utc.strftime("%Y-%m-%d"), utc.strftime("%Y-%m")
    out = []
    for info in infos:
        d, m, through = spent.get(info.key_id, (Decimal(0), Decimal(0), None))
        out.append(replace(info.record, spent_day=day, spent_day_usd=d, spent_month=month,
                           spent_month_usd=m, spent_through=through))  # fmt: skip
    return out


def prices_in_force(cur: Cursor, now: datetime) -> dict[str, tuple[Decimal, Decimal]]:
    """Per catalog model (lower case) its (input, output) USD per million tokens in force on
    ``now``'s UTC day: the gateway prices what it serves between two snapshots with them."""
    rows = cur.execute(
        """SELECT lower(model), arg_max(input_per_mtok, effective_from),
                  arg_max(output_per_mtok, effective_from)
           FROM prices WHERE effective_from <= ? GROUP BY 1""",
        [now.astimezone(UTC).date()],
    ).fetchall()
    return {m: (Decimal(str(i)), Decimal(str(o))) for m, i, o in rows}


def publish_snapshot(
    store: Store, path: str | os.PathLike[str] | None = None, now: datetime | None = None
) -> Path:
    """Write the snapshot of every key to ``path`` (default ``snapshot_path`` of the
    store's database) atomically; returns the path. Publishes are serialised, each reading
    the database after the others' changes, so the file on disk is never older than the last
    change committed before the call. Raises ``OSError`` when the file cannot be written."""
    target = Path(path) if path is not None else snapshot_path(store.path)
    at = now or _now()
    with _publish_lock:
        with store.read() as cur:
            records = snapshot_records(cur, at)
            prices = prices_in_force(cur, at)
        write_snapshot(target, records, now=at, prices=prices)
    return target


def _publish_after_change(store: Store, path: str | os.PathLike[str] | None, now: datetime) -> None:
    try:
        publish_snapshot(store, path, now)
    except OSError as err:
        raise KeyPublishError(
            N_("The change was saved, but the gateway could not be told: the key snapshot "
               "could not be written ({why}). The app tries again at its next round.",
               why=err.strerror or type(err).__name__),
        ) from None  # fmt: skip
