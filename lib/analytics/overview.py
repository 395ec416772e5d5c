"""What the Overview shows: the period's headline figures against the period before, spend
this month against the budget, data freshness per source."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

import pandas as pd

from lib.analytics.costs import daily, spend_of
from lib.analytics.usage import totals_pair
from lib.filters import Filters
from lib.settings import monthly_budget
from lib.store import Store

Kind = Literal["count", "usd", "rate", "ms"]  # how a figure is written: lib.ui formats it


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

    @property
    def bases(self) -> tuple[str, ...]:
        """The kinds counted, as codes ("billed", "stated", "estimated")."""
        return tuple(b for b in self.basis.split(" + ") if b)


@dataclass(frozen=True)
class Figure:
    """One headline figure of the period and of the period before. ``change`` is the
    relative change (0.125 = +12.5 %), None when it cannot be told (nothing now, or nothing
    before); ``worse_up``: a rise is bad news (costs, errors, latency)."""

    key: str
    kind: Kind
    value: Decimal | int | float | None
    previous: Decimal | int | float | None
    worse_up: bool = False

    @property
    def change(self) -> float | None:
        if self.value is None or not self.previous or self.value != self.value:  # None or NaN
            return None
        return float(
            (Decimal(str(self.value)) - Decimal(str(self.previous))) / Decimal(str(self.previous))
        )


# key: (kind, worse when it rises)
FIGURES: dict[str, tuple[Kind, bool]] = {
    "spend": ("usd", True), "requests": ("count", False), "input_tokens": ("count", False),
    "output_tokens": ("count", False), "estimated_cost": ("usd", True),
    "error_rate": ("rate", True), "p95_latency": ("ms", True),
}  # fmt: skip


@dataclass(frozen=True)
class Headline:
    """The period's figures against the period before (same length, just before). ``spend``
    is per provider and day the bill, else the stated cost, else the estimate; ``bases``:
    the kinds used this period (codes)."""

    figures: dict[str, Figure]
    bases: tuple[str, ...]

    def __getitem__(self, key: str) -> Figure:
        return self.figures[key]

    @property
    def empty(self) -> bool:
        """No request and no token counted this period."""
        return not self["requests"].value and not self["input_tokens"].value


def headline(
    store: Store, f: Filters, now: datetime | None = None, exact: bool = False
) -> Headline:
    """The figures of ``FIGURES`` over the filters' period and the one before (``exact``:
    latency percentiles from the request rows, not the histograms)."""
    cur, prev = totals_pair(store, f, now, exact)
    (spend_now, basis), (spend_before, _) = spend_pair(store, f, now)
    cur, prev = {**cur, "spend": spend_now}, {**prev, "spend": spend_before}
    figures = {k: Figure(k, kind, _known(cur.get(k)), _known(prev.get(k)), worse)
               for k, (kind, worse) in FIGURES.items()}  # fmt: skip
    bases = tuple(b for b in basis.split(" + ") if b) if spend_now is not None else ()
    return Headline(figures, bases)


def _known(v: object) -> Decimal | int | float | None:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return None
    return v  # type: ignore[return-value]


@dataclass(frozen=True)
class BudgetStatus:
    """This month's spend (see ``MonthSpend``) against the organisation's monthly budget
    (None when none is set): ``share`` spent (0.5 = half), ``over``: the projection passes
    the budget."""

    month: MonthSpend
    budget: Decimal | None

    @property
    def share(self) -> float | None:
        if not self.budget:
            return None
        return float(self.month.usd / self.budget)

    @property
    def over(self) -> bool:
        return bool(self.budget) and self.month.projected > self.budget  # type: ignore[operator]


def parse_budget(value: object) -> Decimal | None:
    """A budget typed in a form (a number or its text) as dollars to the cent; None for
    nothing, zero or a value that is not a number."""
    try:
        amount = Decimal(str(value).strip() or "0")
    except ArithmeticError:
        return None
    if not amount.is_finite() or amount <= 0:
        return None
    return amount.quantize(Decimal("0.01"))


def budget_status(store: Store, tz: str = "UTC", now: datetime | None = None) -> BudgetStatus:
    """This month's spend in the reporting zone ``tz`` and the monthly budget."""
    return BudgetStatus(month_spend(store, tz, now), monthly_budget(store))


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
    """Per source and grain: the newest data it holds (``data_to``, UTC), when it was last
    imported (``imported``, UTC) and how many imports it has (``imports``), newest data
    first."""
    with store.read() as cur:
        return cur.df(
            """SELECT source, grain, max(period_end) AS data_to, max(finished_at) AS imported,
                      count(*) AS imports
               FROM imports WHERE status = 'ok' GROUP BY ALL ORDER BY data_to DESC NULLS LAST, source"""
        )
