"""What could cost less: savings from batch and caching, what-if repricing, unit costs.

All figures are estimates in USD from the counted token stream × the price catalog (the bill
is not itemised by tokens), over the filters' period. "Monthly" figures scale the period's
traffic to an average month (30.4375 days) over the days that hold data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from lib.analytics.usage import counted_rows
from lib.errors import NotFoundError
from lib.filters import Filters
from lib.pricing.catalog import price_in_force
from lib.pricing.estimate import COST_SQL
from lib.store import Store

DAYS_PER_MONTH = Decimal("30.4375")


def _no_users(f: Filters) -> Filters:
    return f.with_(dims={k: v for k, v in f.dims.items() if k != "user_id"})


def savings_by_model(store: Store, f: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Per catalog model: requests, estimated USD, USD already saved by the batch discount
    and by cache reads, and USD still possible at most (``could_batch``: all other traffic
    sent through the batch API; ``could_cache``: all uncached input read from cache, before
    cache-write charges). Unpriced models have NULL money; the row whose ``model`` is None
    holds the traffic that names no model."""
    with store.read() as cur:
        base, params = counted_rows(cur, f, None, f.window(now))
        return cur.df(
            f"""SELECT coalesce(price_model, model) AS model, sum(c_requests) AS requests,
                       sum(est) AS estimated, sum(est_list - est) AS saved_batch,
                       sum(saved_cache) AS saved_cache,
                       sum(CASE WHEN NOT batch THEN est * batch_discount END) AS could_batch,
                       sum(could_cache) AS could_cache
                FROM {base} WHERE counted GROUP BY 1
                ORDER BY estimated DESC NULLS LAST, model NULLS LAST""",
            params,
        )


@dataclass(frozen=True)
class WhatIf:
    """Monthly USD before and after moving ``share`` of ``source``'s traffic to ``target``."""

    source: str
    target: str
    share: Decimal  # 0..1
    days: int  # days of data the month is scaled from
    current_monthly: Decimal  # all traffic in the filters, as it is
    moved_before: Decimal  # the moved share, at the source's prices
    moved_after: Decimal  # the same tokens at the target's current prices
    target_price_from: str  # ISO date of the target price used

    @property
    def new_monthly(self) -> Decimal:
        return self.current_monthly - self.moved_before + self.moved_after

    @property
    def change(self) -> Decimal:
        return self.new_monthly - self.current_monthly


class NotPriced(NotFoundError):
    """A what-if that cannot be priced: ``code`` ``target_unpriced`` (the target model has no
    price) or ``source_unpriced`` (the source model has no priced traffic in the period)."""

    def __init__(self, code: str, model: str, message: str) -> None:
        self.code, self.model = code, model
        super().__init__(message)


def reprice(
    store: Store,
    f: Filters,
    source: str,
    target: str,
    share: float,
    now: datetime | None = None,
) -> WhatIf:
    """Move ``share`` (0..1) of the traffic of catalog model ``source`` to ``target``, keeping
    its token mix (uncached/cached input, cache writes, output, batch share), and price it
    with the target's price in force today. Raises NotFoundError when either model has no
    traffic or no price."""
    if not 0 <= share <= 1:
        raise ValueError("share must be between 0 and 1")
    today = (now or datetime.now(UTC)).date()
    with store.read() as cur:
        base, params = counted_rows(cur, _no_users(f), None, f.window(now))
        span = cur.execute(
            f"SELECT sum(est), count(DISTINCT t // 86400) FROM {base} WHERE counted", params
        ).fetchone()
        assert span is not None  # aggregates without GROUP BY: one row
        price = price_in_force(cur, target, today)
        if price is None:
            raise NotPriced(
                "target_unpriced",
                target,
                f"{target} has no price in the catalog, so it cannot be priced.",
            )
        moved = cur.execute(
            f"""WITH mix AS (
                    SELECT batch, sum(input_tokens) AS input_tokens,
                           sum(cached_input_tokens) AS cached_input_tokens,
                           sum(cache_write_tokens) AS cache_write_tokens,
                           sum(cache_write_1h_tokens) AS cache_write_1h_tokens,
                           sum(output_tokens) AS output_tokens, sum(est) AS est
                    FROM {base} WHERE counted AND price_model = lower(?) GROUP BY batch),
                p AS (SELECT * FROM prices WHERE lower(model) = lower(?) AND effective_from = ?)
                SELECT sum(mix.est), sum({COST_SQL}) FROM mix, p""",
            [*params, source, target, price["effective_from"]],
        ).fetchone()
    assert moved is not None
    total, days = span
    if not days or moved[0] is None:
        raise NotPriced(
            "source_unpriced", source,
            f"{source} has no priced traffic in this period: pick another model or widen the period.",
        )  # fmt: skip
    scale = DAYS_PER_MONTH / days
    k = Decimal(str(share))
    return WhatIf(
        source=source,
        target=target,
        share=k,
        days=int(days),
        current_monthly=Decimal(total) * scale,
        moved_before=Decimal(moved[0]) * k * scale,
        moved_after=Decimal(moved[1]) * k * scale,
        target_price_from=price["effective_from"].isoformat(),
    )


def unit_costs(store: Store, f: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Per catalog model and in total (the first row, ``total`` true, model None): estimated
    USD, requests, tokens (input + output), active users, and USD per 1K requests, per 1M
    tokens and per active user. A unit cost is NULL when its denominator is unknown or zero
    (e.g. no user ids); a model row whose ``model`` is None holds traffic naming no model.

    Each ratio is taken over one scope: per 1K requests divides only the estimate of the
    provider-days and models whose requests are counted (``requests_scope_usd``, the rest of
    ``estimated`` has no request count, e.g. Anthropic's usage report without request logs)."""
    window = f.window(now)
    with store.read() as cur:
        base, params = counted_rows(cur, _no_users(f), None, window)
        ubase, uparams = counted_rows(cur, f, "user_id", window)
        sql = f"""
            WITH d AS (SELECT coalesce(price_model, model) AS model, provider, t // 86400 AS day,
                              sum(est) AS est, sum(c_requests) AS requests,
                              sum(c_input_tokens + c_output_tokens) AS tokens
                       FROM {base} GROUP BY ALL),
                 m AS (SELECT model, grouping(model) = 1 AS total, sum(est) AS est, sum(requests) AS requests,
                              sum(tokens) AS tokens, sum(est) FILTER (WHERE requests IS NOT NULL) AS est_req
                       FROM d GROUP BY ROLLUP (model)),
                 u AS (SELECT coalesce(price_model, model) AS model, grouping(coalesce(price_model, model)) = 1 AS total,
                              count(DISTINCT user_id) AS users
                       FROM {ubase} WHERE counted AND user_id IS NOT NULL GROUP BY ROLLUP (1))
            SELECT m.total, m.model, m.est AS estimated, m.requests, m.tokens,
                   nullif(u.users, 0) AS users,
                   m.est_req * 1000 / nullif(m.requests, 0) AS per_1k_requests,
                   m.est * 1000000 / nullif(m.tokens, 0) AS per_1m_tokens,
                   m.est / nullif(u.users, 0) AS per_user,
                   m.est_req AS requests_scope_usd
            FROM m LEFT JOIN u ON m.model IS NOT DISTINCT FROM u.model AND m.total = u.total
            WHERE m.est IS NOT NULL OR m.requests IS NOT NULL OR m.tokens IS NOT NULL
            ORDER BY m.total DESC, m.est DESC NULLS LAST, m.model NULLS LAST"""
        return cur.df(sql, [*params, *uparams])


def priced_models(store: Store) -> list[str]:
    """Every model of the price catalog, for the what-if target list."""
    rows: list[Any] = store.query("SELECT DISTINCT lower(model) FROM prices ORDER BY 1")
    return [r[0] for r in rows]


@dataclass(frozen=True)
class SavingsTotals:
    """``savings_by_model`` summed over the models that have the figure (USD, exact)."""

    saved_batch: Decimal
    saved_cache: Decimal
    could_batch: Decimal
    could_cache: Decimal


def savings_totals(saved: pd.DataFrame) -> SavingsTotals:
    """The totals of a ``savings_by_model`` frame (unknown figures count as nothing)."""

    def total(col: str) -> Decimal:
        return sum((Decimal(v) for v in saved[col] if _known(v)), Decimal(0))

    return SavingsTotals(
        *(total(c) for c in ("saved_batch", "saved_cache", "could_batch", "could_cache"))
    )


@dataclass(frozen=True)
class UnitTotals:
    """The "all models" row of ``unit_costs``: USD per 1K requests (over ``requests_scope``,
    the spend whose requests are counted), per 1M tokens and per active user; None where
    the denominator is unknown. ``partial_scope``: the per-request figure covers only part
    of ``estimated`` (usage reports without a request count)."""

    estimated: Decimal | None
    requests_scope: Decimal | None
    per_1k_requests: Decimal | None
    per_1m_tokens: Decimal | None
    per_user: Decimal | None
    users: int | None

    @property
    def partial_scope(self) -> bool:
        return (
            self.requests_scope is not None
            and self.estimated is not None
            and self.requests_scope != self.estimated
        )


def unit_totals(units: pd.DataFrame) -> UnitTotals:
    """The totals row of a ``unit_costs`` frame (all None when it is empty)."""
    rows = units[units["total"]] if "total" in units and not units.empty else units.iloc[0:0]
    if rows.empty:
        return UnitTotals(None, None, None, None, None, None)
    r = rows.iloc[0]

    def dec(v: Any) -> Decimal | None:
        return Decimal(str(v)) if _known(v) else None

    users = int(r["users"]) if _known(r["users"]) else None
    return UnitTotals(dec(r["estimated"]), dec(r["requests_scope_usd"]), dec(r["per_1k_requests"]),
                      dec(r["per_1m_tokens"]), dec(r["per_user"]), users)  # fmt: skip


WhatIfProblem = Literal["target_unpriced", "source_unpriced", "nothing_to_move"]


@dataclass(frozen=True)
class WhatIfOutcome:
    """A what-if (``result``), or why there is none (``problem``, with the ``model`` it
    concerns)."""

    result: WhatIf | None
    problem: WhatIfProblem | None = None
    model: str | None = None


def _known(v: Any) -> bool:
    """A value from a frame's cell that is there (not None, NaN or NA)."""
    return v is not None and not bool(pd.isna(v))


def what_if_sources(saved: pd.DataFrame) -> list[str]:
    """The models whose traffic a what-if can move: those with priced traffic in
    ``savings_by_model``, costliest first."""
    return [m for m, e in zip(saved["model"], saved["estimated"], strict=True)
            if isinstance(m, str) and _known(e)]  # fmt: skip


def what_if_targets(
    priced: list[str], source: str | None, prefer: str = "gpt-4o-mini"
) -> list[str]:
    """The models traffic of ``source`` can move to (every priced model but itself), with
    ``prefer`` first when it is one of them."""
    targets = [m for m in priced if m != source]
    return [prefer, *(m for m in targets if m != prefer)] if prefer in targets else targets


def what_if(
    store: Store,
    f: Filters,
    source: str,
    target: str,
    share_pct: int,
    now: datetime | None = None,
) -> WhatIfOutcome:
    """``reprice`` of ``share_pct`` percent (0..100) of ``source``'s traffic, or the code of
    why it cannot be priced."""
    try:
        return WhatIfOutcome(reprice(store, f, source, target, share_pct / 100, now))
    except NotPriced as err:
        return WhatIfOutcome(None, err.code, err.model)  # type: ignore[arg-type]
