"""Small key/value settings kept in the database: the organisation's monthly budget, the
reporting defaults (time zone, language, first day of the week), the alert channels.

Only admins change them (``settings``); every change is written with a ``settings_changed``
audit entry in the same transaction (the values before and after for the settings listed in
``SHOWN_IN_AUDIT``; for the others, such as a channel holding a webhook URL, only that it was
set or cleared, never the value). Every change moves ``settings_version``, which cached
results key on.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Literal
from zoneinfo import available_timezones

from lib.auth.roles import require
from lib.errors import TokenboardError
from lib.i18n.catalog import LANGUAGES
from lib.store import Cursor, Store
from lib.store.audit import audit
from lib.text import N_

MONTHLY_BUDGET = "org_monthly_budget_usd"
TIME_ZONE = "report_time_zone"  # an IANA name; absent: UTC
LANGUAGE = "report_language"  # en / fr; absent: the browser's language, else English
WEEK_START = "report_week_start"  # monday / sunday; absent: monday
WEEK_STARTS: tuple[str, ...] = ("monday", "sunday")
WEEKDAY = {"monday": 0, "sunday": 6}  # datetime.weekday() of the first day of a week
# Settings whose values are plain facts, written into the audit log before and after.
SHOWN_IN_AUDIT = frozenset({MONTHLY_BUDGET, TIME_ZONE, LANGUAGE, WEEK_START})

DefaultsField = Literal["time_zone", "language", "week_start"]


class SettingsError(TokenboardError):
    """A reporting default refused: ``field`` is the one that is wrong (time_zone: not a
    time zone both Python and DuckDB know; language: not en or fr; week_start: not monday or
    sunday). Nothing was written."""

    def __init__(self, field: DefaultsField) -> None:
        self.field = field
        super().__init__(f"{field}: not an allowed value")


def get(store: Store, key: str) -> str | None:
    return store.scalar("SELECT value FROM settings WHERE key = ?", [key])


def _get(cur: Cursor, key: str) -> str | None:
    row = cur.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return None if row is None else row[0]


def _put(
    cur: Cursor, key: str, value: str | None, actor: str | None, from_ip: str | None,
    now: datetime | None,
) -> None:  # fmt: skip
    before = _get(cur, key)
    if before == value:
        return
    cur.execute("DELETE FROM settings WHERE key = ?", [key])
    if value is not None:
        cur.execute("INSERT INTO settings VALUES (?, ?)", [key, value])
    detail: dict[str, object] = (
        {"before": before, "after": value} if key in SHOWN_IN_AUDIT else {"set": value is not None}
    )
    audit(cur, (now or datetime.now(UTC)).astimezone(UTC), actor, "settings_changed", key, detail,
          from_ip)  # fmt: skip


def put(
    store: Store, key: str, value: str | None, role: str | None, *, actor: str | None = None,
    from_ip: str | None = None, now: datetime | None = None,
) -> None:  # fmt: skip
    """Set (or with ``None`` clear) a setting; only admins may. Audited (``settings_changed``)
    when it changes anything; setting the value it has already writes nothing."""
    require(role, "settings")
    with store.write() as cur:
        _put(cur, key, value, actor, from_ip, now)


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


def set_monthly_budget(
    store: Store, usd: Decimal | None, role: str | None, *, actor: str | None = None,
    from_ip: str | None = None, now: datetime | None = None,
) -> None:  # fmt: skip
    """Set (None: clear) the organisation's monthly budget in USD; admins only."""
    if usd is not None and (not usd.is_finite() or usd <= 0 or usd >= Decimal("1e15")):
        raise TokenboardError(N_("A budget is a positive amount in USD."))
    put(store, MONTHLY_BUDGET, None if usd is None else str(usd), role, actor=actor,
        from_ip=from_ip, now=now)  # fmt: skip


# -- reporting defaults ---------------------------------------------------------------------------
@dataclass(frozen=True)
class ReportingDefaults:
    """The organisation's reporting defaults: ``time_zone`` (IANA name) cuts days and months
    when neither the link nor the user chose a zone; ``language`` (None: not set, the
    browser's language decides) is the login form's and that of users who chose none;
    ``week_start`` (monday/sunday) begins the calendar weeks of the budget alerts and the
    weekly summary."""

    time_zone: str = "UTC"
    language: str | None = None
    week_start: str = "monday"

    @property
    def first_weekday(self) -> int:
        """``datetime.weekday()`` of the week's first day: 0 Monday, 6 Sunday."""
        return WEEKDAY[self.week_start]


@lru_cache(maxsize=1)
def _python_zones() -> frozenset[str]:
    return frozenset(available_timezones())


@lru_cache(maxsize=4)
def _zones(duckdb_names: frozenset[str]) -> frozenset[str]:
    return frozenset(duckdb_names & _python_zones())


def time_zones(cur: Cursor) -> frozenset[str]:
    """Zone names both DuckDB (which cuts the buckets) and Python's zoneinfo know."""
    names = frozenset(r[0] for r in cur.execute("SELECT name FROM pg_timezone_names()").fetchall())
    return _zones(names)


def _defaults(cur: Cursor) -> ReportingDefaults:
    rows = dict(
        cur.execute(
            "SELECT key, value FROM settings WHERE list_contains(?, key)",
            [[TIME_ZONE, LANGUAGE, WEEK_START]],
        ).fetchall()
    )
    tz = rows.get(TIME_ZONE) or "UTC"
    lang = rows.get(LANGUAGE)
    week = rows.get(WEEK_START) or "monday"
    return ReportingDefaults(
        tz if tz == "UTC" or tz in _python_zones() else "UTC",
        lang if lang in LANGUAGES else None,
        week if week in WEEK_STARTS else "monday",
    )


def reporting_defaults(store: Store) -> ReportingDefaults:
    """The reporting defaults (a value stored but no longer valid reads as the default)."""
    with store.read() as cur:
        return _defaults(cur)


def first_weekday(cur: Cursor) -> int:
    """The week's first day as ``datetime.weekday()`` counts it (0 Monday, 6 Sunday), in the
    caller's transaction."""
    return _defaults(cur).first_weekday


def set_reporting_defaults(
    store: Store, role: str | None, *, time_zone: str, language: str | None, week_start: str,
    actor: str | None = None, from_ip: str | None = None, now: datetime | None = None,
) -> ReportingDefaults:  # fmt: skip
    """Check and save the three defaults (admins only), each change audited; ``language``
    None clears it. Raises ``SettingsError`` naming the first field refused."""
    require(role, "settings")
    tz = (time_zone or "").strip()
    lang = (language or "").strip().lower() or None
    week = (week_start or "").strip().lower()
    with store.write() as cur:
        if tz != "UTC" and tz not in time_zones(cur):
            raise SettingsError("time_zone")
        if lang is not None and lang not in LANGUAGES:
            raise SettingsError("language")
        if week not in WEEK_STARTS:
            raise SettingsError("week_start")
        _put(cur, TIME_ZONE, None if tz == "UTC" else tz, actor, from_ip, now)
        _put(cur, LANGUAGE, lang, actor, from_ip, now)
        _put(cur, WEEK_START, None if week == "monday" else week, actor, from_ip, now)
        return _defaults(cur)


def zone_names(store: Store) -> list[str]:
    """Every time zone a default may be (``time_zones``), sorted, UTC first."""
    with store.read() as cur:
        return ["UTC", *sorted(time_zones(cur) - {"UTC"})]
