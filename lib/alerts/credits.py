"""Prepaid credit: grants per provider (entered in settings), what is left of them and the
runway at the current burn rate (the Overview shows it; the ``credit_low`` rule watches it).

What is left = the grants not expired today − the spend of that provider since the earliest
of their grant days (spend as the Overview counts it: the bill, else the stated cost, else
the estimate). The burn rate is the mean daily spend of the last ``BURN_DAYS`` days (the whole
UTC hours of the last 7 × 24 hours, the hour under way included). Amounts are exact decimals in USD.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from lib.alerts.measure import CENT, DAY, link, spend_ctes
from lib.alerts.model import AlertError, Measure, Rule
from lib.auth.roles import require
from lib.store import Cursor, Store

BURN_DAYS = 7


@dataclass(frozen=True)
class Grant:
    grant_id: int
    provider: str
    amount_usd: Decimal
    granted_on: date
    expires_on: date | None
    note: str | None


@dataclass(frozen=True)
class CreditStatus:
    """One provider's prepaid credit on ``today`` (UTC). ``runway_days`` is ``remaining`` /
    ``burn_per_day`` to 0.1 day: None when nothing is being spent, 0 when nothing is left.
    ``expires_on``: the soonest expiry among the grants counted (None: none expires)."""

    provider: str
    granted: Decimal
    spent: Decimal
    remaining: Decimal
    burn_per_day: Decimal
    runway_days: Decimal | None
    since: date
    expires_on: date | None


def add_grant(
    store: Store,
    role: str | None,
    *,
    provider: str,
    amount_usd: Decimal | str | int,
    granted_on: date,
    expires_on: date | None = None,
    note: str | None = None,
    user: str | None = None,
    now: datetime | None = None,
) -> Grant:
    """Record a grant (admins only: ``settings``). Raises ``AlertError`` (code ``amount``,
    ``provider`` or ``expiry``)."""
    require(role, "settings")
    try:
        amount = Decimal(str(amount_usd).strip())
    except InvalidOperation:
        raise AlertError("amount", "A credit grant is an amount in USD.") from None
    if not amount.is_finite() or amount <= 0 or amount >= Decimal("1e15"):
        raise AlertError("amount", "A credit grant is a positive amount in USD.")
    provider = (provider or "").strip().lower()
    if not provider or len(provider) > 100:
        raise AlertError("provider", "A credit grant names its provider.")
    if expires_on is not None and expires_on < granted_on:
        raise AlertError("expiry", "A grant cannot expire before it is granted.")
    at = now or datetime.now(UTC)
    with store.write() as cur:
        grant_id = int(cur.execute("SELECT nextval('credit_grant_id_seq')").scalar())
        cur.execute(
            "INSERT INTO credit_grants VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [grant_id, provider, amount, granted_on, expires_on, note, user, at],
        )
    return Grant(grant_id, provider, amount, granted_on, expires_on, note)


def delete_grant(store: Store, role: str | None, grant_id: int) -> bool:
    """Remove a grant; False when there was none."""
    require(role, "settings")
    with store.write() as cur:
        n = cur.execute(
            "SELECT count(*) FROM credit_grants WHERE grant_id = ?", [grant_id]
        ).scalar()
        cur.execute("DELETE FROM credit_grants WHERE grant_id = ?", [grant_id])
    return bool(n)


def grants(store: Store) -> list[Grant]:
    """Every grant, by provider and grant day."""
    rows = store.query(
        """SELECT grant_id, provider, amount_usd, granted_on, expires_on, note FROM credit_grants
           ORDER BY provider, granted_on, grant_id"""
    )
    return [Grant(int(a), b, Decimal(c), d, e, f) for a, b, c, d, e, f in rows]


def _status(cur: Cursor, now: datetime) -> list[CreditStatus]:
    today = now.astimezone(UTC).date()
    active: dict[str, list[tuple[Decimal, date, date | None]]] = defaultdict(list)
    for provider, amount, granted_on, expires_on in cur.execute(
        """SELECT provider, amount_usd, granted_on, expires_on FROM credit_grants
           WHERE granted_on <= ? AND (expires_on IS NULL OR expires_on >= ?)""",
        [today, today],
    ).fetchall():
        active[provider].append((Decimal(amount), granted_on, expires_on))
    if not active:
        return []
    hi = int(now.timestamp()) // 3600 * 3600 + 3600
    burn_start = hi - BURN_DAYS * DAY
    first = min(g for rows in active.values() for _, g, _ in rows)
    first_s = int(datetime(first.year, first.month, first.day, tzinfo=UTC).timestamp())
    lo = min(first_s, burn_start)
    sp_sql, sp_params = spend_ctes(cur, "provider", lo, hi)
    rows = cur.execute(
        f"""WITH {sp_sql}
            SELECT subject, hour, sum(usd) FROM spend
            WHERE list_contains(?, subject) GROUP BY ALL""",
        [*sp_params, list(active)],
    ).fetchall()
    per_hour: dict[str, list[tuple[int, Decimal]]] = defaultdict(list)
    for provider, hour, usd in rows:
        per_hour[provider].append((int(hour), Decimal(usd)))
    out = []
    for provider, gs in sorted(active.items()):
        since = min(g for _, g, _ in gs)
        since_s = int(datetime(since.year, since.month, since.day, tzinfo=UTC).timestamp())
        granted = sum((a for a, _, _ in gs), Decimal(0))
        hours = per_hour.get(provider, [])
        spent = sum((u for h, u in hours if h >= since_s), Decimal(0))
        burned = sum((u for h, u in hours if h >= burn_start), Decimal(0))
        burn = burned / BURN_DAYS
        remaining = granted - spent
        if remaining <= 0:
            runway: Decimal | None = Decimal(0)
        elif burn > 0:
            runway = (remaining / burn).quantize(Decimal("0.1"))
        else:
            runway = None
        expiries = [e for _, _, e in gs if e is not None]
        out.append(CreditStatus(provider, granted, spent, remaining, burn, runway, since,
                                min(expiries) if expiries else None))  # fmt: skip
    return out


def credit_status(store: Store, now: datetime | None = None) -> list[CreditStatus]:
    """Per provider with a grant in force today: granted, spent, remaining, burn per day and
    runway (see ``CreditStatus``), by provider; [] without grants."""
    with store.read() as cur:
        return _status(cur, now or datetime.now(UTC))


def measure_credit_low(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Runway in days at or below the threshold (nothing left is a runway of 0)."""
    out = []
    for st in _status(cur, now):
        if st.runway_days is None:
            continue
        for rule in rules:
            if rule.subject is not None and rule.subject != st.provider:
                continue
            level = rule.level_of(st.runway_days)
            if level is None:
                continue
            detail = {"remaining_usd": str(st.remaining.quantize(CENT)),
                      "granted_usd": str(st.granted), "spent_usd": str(st.spent.quantize(CENT)),
                      "burn_per_day_usd": str(st.burn_per_day.quantize(CENT)),
                      "since": st.since.isoformat()}  # fmt: skip
            start = datetime(st.since.year, st.since.month, st.since.day, tzinfo=UTC)
            out.append(Measure(rule.rule_id, st.provider, st.runway_days, level, detail,
                               link("Costs", "provider", st.provider, start,
                                    now + timedelta(seconds=1))))  # fmt: skip
    return out
