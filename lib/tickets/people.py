"""Who a ticket's notifications reach and who can be assigned one: users' e-mail addresses
and the admins, from the ``users`` table (migration 21). Disabled users receive nothing."""

from __future__ import annotations

from dataclasses import dataclass

from lib.store import Store

INACTIVE = ("disabled", "deleted", "invited")  # users.status values that receive nothing


@dataclass(frozen=True)
class Person:
    username: str
    email: str  # "" when none
    role: str


def people(store: Store) -> list[Person]:
    """Every active user with their address and role, by username."""
    rows = store.query(
        """SELECT username, coalesce(email, ''), coalesce(role, '') FROM users
           WHERE NOT list_contains(?, coalesce(status, 'active')) ORDER BY username""",
        [list(INACTIVE)],
    )
    return [Person(str(u), str(e), str(r)) for u, e, r in rows]


def email_of(store: Store, username: str) -> str | None:
    """The user's e-mail address, None when unknown, inactive or empty."""
    for p in people(store):
        if p.username == username:
            return p.email.strip() or None
    return None


def admins(store: Store) -> list[str]:
    """The usernames of the active admins (who triage tickets), by username."""
    return [p.username for p in people(store) if p.role == "admin"]
