"""The audit log of security and administration actions (table ``key_audit``): who did what,
when, to what and from where. Append-only: this module only ever inserts into it.

Keys, provider keys, users and sign-in, prices, settings and data operations all write here,
each in the transaction of the change it records, so an action and its entry land together
or not at all. ``detail`` is JSON and never holds a secret (no password, token or key).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from lib.store.db import Cursor, Store

AuditAction = Literal[
    # Tokenboard keys and the gateway
    "key_created", "key_revoked", "key_rotated", "restrictions_changed", "key_edited",
    "requests_refused",
    # the providers' keys, through their admin APIs
    "provider_key_deleted", "provider_service_account_created", "provider_key_status",
    "provider_key_renamed",
    # users and sign-in
    "user_created", "user_invited", "invitation_accepted", "invitation_revoked", "role_changed",
    "user_disabled", "user_enabled", "user_deleted", "user_edited", "password_reset",
    "password_changed", "account_unlocked", "sessions_revoked", "users_migrated",
    # settings and data
    "price_added", "price_edited", "price_deleted", "prices_imported", "settings_changed",
    "retention_applied", "backup_made", "backup_restored",
]  # fmt: skip
AUDIT_ACTIONS: tuple[AuditAction, ...] = AuditAction.__args__  # type: ignore[attr-defined]
# what the API keys page lists: Tokenboard's keys, the gateway's refusals, the providers' keys
KEY_ACTIONS: tuple[AuditAction, ...] = AUDIT_ACTIONS[: AUDIT_ACTIONS.index("user_created")]


@dataclass(frozen=True)
class AuditEntry:
    """One row of the audit log (``at`` in UTC); ``detail`` is the decoded JSON."""

    id: int
    at: datetime
    actor: str | None
    action: str
    subject: str | None
    detail: dict[str, Any]
    from_ip: str | None


def audit(
    cur: Cursor,
    at: datetime,
    actor: str | None,
    action: AuditAction,
    subject: str | None,
    detail: dict[str, Any] | None = None,
    from_ip: str | None = None,
) -> None:
    """Append one entry to the audit log, in the caller's transaction (never a secret in
    ``detail``)."""
    cur.execute(
        """INSERT INTO key_audit (id, ts, actor, action, subject, detail, from_ip)
           VALUES (nextval('key_audit_id_seq'), ?, ?, ?, ?, ?, ?)""",
        [at, actor, action, subject, json.dumps(detail or {}, sort_keys=True, default=str),
         from_ip],
    )  # fmt: skip


def entries(
    store: Store,
    *,
    subject: str | None = None,
    actions: tuple[str, ...] | None = None,
    since: datetime | None = None,
    limit: int | None = 10_000,
) -> list[AuditEntry]:
    """The audit log, newest first; ``subject``, ``actions`` and ``since`` narrow it;
    ``limit`` None: every entry. The caller checks the reader's role."""
    sql = "SELECT id, ts, actor, action, subject, detail, from_ip FROM key_audit WHERE 1 = 1"
    params: list[Any] = []
    if subject is not None:
        sql += " AND subject = ?"
        params.append(subject)
    if actions is not None:
        sql += " AND list_contains(?, action)"
        params.append(list(actions))
    if since is not None:
        sql += " AND ts >= ?"
        params.append(since)
    sql += " ORDER BY id DESC"
    if limit is not None:
        sql += " LIMIT ?"
        params.append(int(limit))
    rows = store.query(sql, params)
    return [
        AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], json.loads(r[5] or "{}"), r[6]) for r in rows
    ]
