"""Who a ticket's notifications reach: a user's e-mail address and the admins, read from the
``users`` table when the database has one (users moved into the database), else from the
users file or the app's secrets (``lib.auth.users.UserStore``)."""

from __future__ import annotations

from dataclasses import dataclass

from lib.auth.users import UserStore
from lib.errors import TokenboardError
from lib.store import Store

INACTIVE = ("disabled", "deleted", "invited")  # users.status values that receive nothing


@dataclass(frozen=True)
class Person:
    username: str
    email: str
    role: str


def _has_users_table(store: Store) -> bool:
    return bool(
        store.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'users'")
    )


def people(store: Store) -> list[Person]:
    """Every active user with their address ("" when none) and role, by username."""
    if _has_users_table(store):
        rows = store.query(
            """SELECT username, coalesce(email, ''), coalesce(role, '') FROM users
               WHERE coalesce(status, 'active') NOT IN (SELECT unnest(?::VARCHAR[]))
               ORDER BY username""",
            [list(INACTIVE)],
        )
        if rows:
            return [Person(str(u), str(e), str(r)) for u, e, r in rows]
    try:
        return [Person(u.username, u.email or "", u.role) for u in UserStore().users()]
    except (TokenboardError, OSError):
        return []


def email_of(store: Store, username: str) -> str | None:
    """The user's e-mail address, None when unknown or empty."""
    for p in people(store):
        if p.username == username:
            return p.email.strip() or None
    return None


def admins(store: Store) -> list[str]:
    """The usernames of the active admins (who triage tickets), by username."""
    return [p.username for p in people(store) if p.role == "admin"]
