"""Small key/value settings kept in the database (e.g. the organisation's monthly budget)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from lib.auth.roles import require
from lib.errors import TokenboardError
from lib.store import Cursor, Store
from lib.text import N_

MONTHLY_BUDGET = "org_monthly_budget_usd"


def get(store: Store, key: str) -> str | None:
    return store.scalar("SELECT value FROM settings WHERE key = ?", [key])


def put(store: Store, key: str, value: str | None, role: str | None) -> None:
    """Set (or with ``None`` clear) a setting; only admins may."""
    require(role, "settings")
    with store.write() as cur:
        cur.execute("DELETE FROM settings WHERE key = ?", [key])
        if value is not None:
            cur.execute("INSERT INTO settings VALUES (?, ?)", [key, value])


def settings_version(cur: Cursor) -> str:
    """A text that changes whenever a setting is set, changed or cleared: the row count and
    the sum of the rows' hashes. Results that read a setting (the budget) key on it."""
    row = cur.execute("SELECT count(*), coalesce(sum(hash(s)), 0) FROM settings s").fetchone()
    n, total = row if row is not None else (0, 0)  # an aggregate always gives one row
    return f"{n}-{total}"


def monthly_budget(store: Store) -> Decimal | None:
    raw = get(store, MONTHLY_BUDGET)
    try:
        return Decimal(raw) if raw else None
    except InvalidOperation:
        return None


def set_monthly_budget(store: Store, usd: Decimal | None, role: str | None) -> None:
    if usd is not None and usd <= 0:
        raise TokenboardError(N_("A budget is a positive amount in USD."))
    put(store, MONTHLY_BUDGET, None if usd is None else str(usd), role)
