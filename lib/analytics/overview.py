"""What the Overview shows: spend this month against the budget, data freshness per source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pandas as pd

from lib.analytics.costs import daily
from lib.filters import Filters
from lib.store import Store


@dataclass(frozen=True)
class MonthSpend:
    usd: Decimal
    basis: (
        str  # the kinds counted, in precedence order: "billed", "billed + stated + estimated", ...
    )
    days_elapsed: int
    days_in_month: int

    @property
    def projected(self) -> Decimal:
        """Straight-line month-end projection from the days elapsed."""
        if self.days_elapsed <= 0:
            return self.usd
        return self.usd * self.days_in_month / self.days_elapsed


def spend(
    store: Store, f: Filters, now: datetime | None = None, previous: bool = False
) -> tuple[Decimal | None, str]:
    """Spend over the filters' period (or the one before): per provider and day the bill where
    a cost export covers it, else the cost the counted usage states, else the estimate.
    Returns (USD or None when nothing is known, basis: the kinds used joined by " + ")."""
    if previous:
        s, e = f.previous_window(now)
        f = f.with_(preset="custom", start=None, end=None)
        d = daily(store, f, now, window=(s, e))
    else:
        d = daily(store, f, now)
    return spend_of(d)


def spend_pair(
    store: Store, f: Filters, now: datetime | None = None
) -> tuple[tuple[Decimal | None, str], tuple[Decimal | None, str]]:
    """``spend`` of the period and of the one before, from one query over both."""
    (p_start, _), (start, end) = f.previous_window(now), f.window(now)  # previous ends at start
    d = daily(store, f, now, window=(p_start, end), split_at=start)
    return spend_of(d[d["current"]]), spend_of(d[~d["current"]])


BASES = ("billed", "stated", "estimated")


def spend_of(d: pd.DataFrame) -> tuple[Decimal | None, str]:
    """Per provider and day the best figure known: billed (a cost report), else the cost the
    counted usage states where all its rows state one plus the estimate (tokens × catalog
    price) of the rows that do not. Returns (USD or None when nothing is known, basis: the
    kinds used, e.g. "billed + stated + estimated")."""
    total, kinds = Decimal(0), set()

    def known(v: object) -> bool:
        return v is not None and not pd.isna(v)

    for row in d.itertuples(index=False):
        if known(row.billed):
            total += Decimal(row.billed)
            kinds.add("billed")
            continue
        rest = getattr(row, "estimated_rest", row.estimated)
        if known(row.stated):
            total += Decimal(row.stated)
            kinds.add("stated")
        if known(rest):
            total += Decimal(rest)
            kinds.add("estimated")
    basis = " + ".join(k for k in BASES if k in kinds)
    return (total if kinds else None), (basis or "billed")


def month_spend(store: Store, tz: str = "UTC", now: datetime | None = None) -> MonthSpend:
    """Spend this month (see ``spend``) and the days elapsed, for the budget bar."""
    now = now or datetime.now(UTC)
    f = Filters(preset="this_month", tz=tz)
    total, basis = spend(store, f, now)
    start, end = f.window(now)
    total = total or Decimal(0)
    days_in = round((end - start).total_seconds() / 86400)
    elapsed = max(1, min(days_in, int((now - start).total_seconds() // 86400) + 1))
    return MonthSpend(total, basis, elapsed, days_in)


def freshness(store: Store) -> pd.DataFrame:
    """Per source: the newest data it holds and when it was last imported."""
    with store.read() as cur:
        return cur.df(
            """SELECT source AS "Source", grain AS "Kind", max(period_end) AS "Data up to (UTC)",
                      max(finished_at) AS "Last import (UTC)", count(*) AS "Imports"
               FROM imports WHERE status = 'ok' GROUP BY ALL ORDER BY 3 DESC"""
        )
