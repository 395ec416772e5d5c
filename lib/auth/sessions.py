"""Server-side sign-in sessions: a cookie opens the app only while its session is live here.

The browser keeps ``<token>.<signature>``: a random token (256 bits) and its HMAC-SHA256
under the cookie key. The database keeps only the token's SHA-256, the user, when the
session started and was last used, when it ends at the latest, and when and why it ended.
So a cookie copied before logout opens nothing afterwards, "sign out everywhere" ends every
session of a user, and the idle limit is measured on the server, across every tab.

Times are ``datetime`` in UTC; durations are seconds.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from lib.auth.signing import sign, verify
from lib.errors import StoreError
from lib.store import Store
from lib.store.db import Cursor, WriteBusyError

IDLE_S = 8 * 3600  # a session unused this long ends
MAX_AGE_S = 24 * 3600  # and every session ends this long after sign-in
TOUCH_EVERY_S = 60  # last use is written at most this often per session

EndReason = Literal["logout", "everywhere", "idle", "expired", "admin", "changed"]
Status = Literal["ok", "unknown", "ended", "idle", "expired", "changed"]
# username -> the fingerprint of that user's credentials now (None: no such user)
TagOf = Callable[[str], str | None]


@dataclass(frozen=True)
class SessionCheck:
    """``status`` is ``ok`` with the ``username``, or why the token opens nothing."""

    status: Status
    username: str | None = None
    last_seen: datetime | None = None


@dataclass(frozen=True)
class SessionInfo:
    """One live session, for a user's list of their sessions (no token: only a short id)."""

    short_id: str
    created_at: datetime
    last_seen: datetime
    client_ip: str | None
    user_agent: str | None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def cookie_value(token: str, key: str) -> str:
    """What the browser stores for ``token``."""
    return f"{token}.{sign(key, token)}"


def token_from_cookie(value: str | None, key: str) -> str | None:
    """The token in a cookie we signed with ``key``, else ``None`` (forged, altered, other
    key, other format)."""
    if not value or len(value) > 200 or value.count(".") != 1:
        return None
    token, sig = value.split(".")
    return token if verify(key, token, sig) else None


def _utc(now: datetime) -> datetime:
    """``now`` as an aware UTC time (a naive time is taken as UTC)."""
    return now.replace(tzinfo=UTC) if now.tzinfo is None else now.astimezone(UTC)


def start(
    store: Store,
    username: str,
    now: datetime,
    *,
    tag: str | None = None,
    client_ip: str | None = None,
    user_agent: str | None = None,
) -> str:
    """A new session for ``username`` whose credentials' fingerprint is ``tag``; returns its
    token (only the browser keeps it)."""
    now = _utc(now)
    token = secrets.token_urlsafe(32)
    with store.write() as cur:
        cur.execute(
            "INSERT INTO auth_sessions VALUES (?, ?, ?, ?, ?, NULL, NULL, ?, ?, ?)",
            [_digest(token), username, now, now, now + timedelta(seconds=MAX_AGE_S),
             (client_ip or "")[:64] or None, (user_agent or "")[:300] or None, tag],
        )  # fmt: skip
    return token


def check(store: Store, token: str, now: datetime, tag_of: TagOf | None = None) -> SessionCheck:
    """Whether ``token`` opens the app now. A session that is idle, expired, or whose user
    is gone or has a new password or role (``tag_of`` differs from the tag at sign-in) is
    ended here (when an import holds the database, at the next check)."""
    now = _utc(now)
    digest = _digest(token)
    row = store.query(
        """SELECT username, last_seen, expires_at, ended_at, credential_tag
           FROM auth_sessions WHERE token_hash = ?""",
        [digest],
    )
    if not row:
        return SessionCheck("unknown")
    username, last_seen, expires_at, ended_at, tag = row[0]
    if ended_at is not None:
        return SessionCheck("ended", username)
    for status, over in (
        ("changed", tag_of is not None and tag_of(username) != tag),
        ("expired", now >= expires_at),
        ("idle", (now - last_seen).total_seconds() > IDLE_S),
    ):
        if over:
            with contextlib.suppress(WriteBusyError):
                _end_where(store, "token_hash = ?", [digest], now, status, wait=False)
            return SessionCheck(status, username)  # type: ignore[arg-type]
    return SessionCheck("ok", username, last_seen)


def touch(store: Store, token: str, now: datetime, last_seen: datetime | None) -> None:
    """Record use of the session, at most every ``TOUCH_EVERY_S``; skipped (not waited for)
    while an import holds the database."""
    now = _utc(now)
    if last_seen is not None and (now - last_seen).total_seconds() < TOUCH_EVERY_S:
        return
    try:
        with store.write(wait=False) as cur:
            cur.execute(
                "UPDATE auth_sessions SET last_seen = ? WHERE token_hash = ? AND ended_at IS NULL",
                [now, _digest(token)],
            )
    except WriteBusyError:
        pass


def _end_where(
    store: Store, where: str, params: list, now: datetime, reason: str, *, wait: bool = True
) -> int:
    with store.write(wait=wait) as cur:
        return cur.execute(
            f"UPDATE auth_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND {where}",
            [now, reason, *params],
        ).scalar()  # DuckDB answers an UPDATE with the number of rows it changed


def end_in(
    cur: Cursor, username: str, now: datetime, reason: EndReason, short_id: str | None = None
) -> int:
    """End the live sessions of ``username`` (only the one whose ``SessionInfo.short_id`` is
    ``short_id``, when given) in the caller's transaction; returns how many."""
    sql = "UPDATE auth_sessions SET ended_at = ?, end_reason = ? WHERE ended_at IS NULL AND username = ?"
    params: list = [_utc(now), reason, username]
    if short_id is not None:
        sql += " AND left(token_hash, 8) = ?"
        params.append(short_id)
    return int(cur.execute(sql, params).scalar() or 0)


def end(store: Store, token: str, now: datetime, reason: EndReason = "logout") -> int:
    """End one session; returns 1 if it was live, else 0."""
    return _end_where(store, "token_hash = ?", [_digest(token)], _utc(now), reason)


def end_all(store: Store, username: str, now: datetime, reason: EndReason = "everywhere") -> int:
    """End every live session of ``username``; returns how many."""
    return _end_where(store, "username = ?", [username], _utc(now), reason)


def live(store: Store, username: str, now: datetime) -> list[SessionInfo]:
    """The user's sessions that still open the app, most recently used first."""
    now = _utc(now)
    try:
        rows = store.query(
            """SELECT left(token_hash, 8), created_at, last_seen, client_ip, user_agent
               FROM auth_sessions
               WHERE username = ? AND ended_at IS NULL AND expires_at > ? AND last_seen > ?
               ORDER BY last_seen DESC""",
            [username, now, now - timedelta(seconds=IDLE_S)],
        )
    except StoreError:
        return []
    return [SessionInfo(*r) for r in rows]


def utcnow() -> datetime:
    return datetime.now(UTC)
