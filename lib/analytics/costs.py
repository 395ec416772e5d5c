"""Costs: what the bill says (cost reports) against what the tokens should cost (estimate).

Billed amounts come from live cost report rows (``live_costs``, USD), which are daily buckets
in UTC; the estimate is tokens of the counted stream × the catalog price that day. Gaps are
explained per provider and day by a code (``NOTES``): no cost export, no usage data, models
the catalog does not price, a bill in another currency. The page words the codes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

import pandas as pd

from lib.analytics.usage import counted_rows
from lib.filters import Filters
from lib.pricing.catalog import canonical_model, known_models
from lib.store import Store

COST_DIMS = ("provider", "project", "api_key", "model", "snapshot")
# Why billed and estimated differ on a provider-day (``daily``'s ``note``):
# ``other_currency`` billed only in another currency (never converted to USD);
# ``no_cost_report`` no cost export covers the day; ``no_usage`` no usage counted that day;
# ``unpriced`` some models have no price in the catalog; ``matches`` equal to the cent;
# ``differs`` prices or usage differ.
Note = Literal["other_currency", "no_cost_report", "no_usage", "unpriced", "matches", "differs"]
NOTES: tuple[str, ...] = ("other_currency", "no_cost_report", "no_usage", "unpriced", "matches",
                          "differs")  # fmt: skip


BASES = ("billed", "stated", "estimated")


def _dec(v: Any) -> Decimal:
    """A cell's amount as an exact decimal (DuckDB hands DECIMAL over as Decimal already)."""
    return v if isinstance(v, Decimal) else Decimal(str(v))


def spend_of(d: pd.DataFrame) -> tuple[Decimal | None, str]:
    """Per provider and day the best figure known: billed (a cost report), else the cost the
    counted usage states where all its rows state one plus the estimate (tokens × catalog
    price) of the rows that do not. Returns (USD or None when nothing is known, basis: the
    kinds used, e.g. "billed + stated + estimated")."""
    total, kinds = Decimal(0), set()

    def known(v: Any) -> bool:
        return v is not None and not bool(pd.isna(v))

    rests = d["estimated_rest"] if "estimated_rest" in d else d["estimated"]
    for billed, stated, rest in zip(d["billed"], d["stated"], rests, strict=True):
        if known(billed):
            total += _dec(billed)
            kinds.add("billed")
            continue
        if known(stated):
            total += _dec(stated)
            kinds.add("stated")
        if known(rest):
            total += _dec(rest)
            kinds.add("estimated")
    basis = " + ".join(k for k in BASES if k in kinds)
    return (total if kinds else None), (basis or "billed")


def _billed_where(
    f: Filters, window: tuple[datetime, datetime], dollars: bool = True
) -> tuple[str, list[Any]]:
    """Conditions (and parameters) on ``costs_named`` rows of ``window`` and the filters'
    dimensions, in US dollars (or, without ``dollars``, in every other currency)."""
    start, end = window
    dim_where, dim_params = f.dims_sql(COST_DIMS)
    currency = "currency = 'USD'" if dollars else "currency <> 'USD'"
    where = ["bucket_start >= ?", "bucket_start < ?", currency, *dim_where]
    return " AND ".join(where), [start, end, *dim_params]


def daily(
    store: Store,
    f: Filters,
    now: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
    split_at: datetime | None = None,
) -> pd.DataFrame:
    """Per UTC day and provider: billed USD, stated USD (the cost the counted usage stream
    states, e.g. a gateway log's or an export's cost column, over the rollup rows whose every
    fact states one), estimated USD (all counted usage), ``estimated_rest`` (the estimate of
    the rows that do not all state a cost), and why billed and estimated differ, over the
    filters' period (or ``window``). Columns: day, provider, billed, stated, estimated,
    estimated_rest, note (a code of ``NOTES``), current
    (with ``split_at``: whether the rows start at or after it, so one call serves two adjacent
    periods; else always true)."""
    window = window or f.window(now)
    split = split_at or window[0]
    g = f.with_(dims={k: v for k, v in f.dims.items() if k != "user_id"})
    with store.read() as cur:
        base, params = counted_rows(cur, g, None, window)
        bw, bparams = _billed_where(g, window)
        ow, oparams = _billed_where(g, window, dollars=False)
        rows = cur.df(
            f"""WITH e AS (SELECT CAST(to_timestamp(t // 86400 * 86400) AS DATE) AS day, provider, t >= ? AS current,
                              sum(est) AS estimated, sum(c_cost_whole) AS stated,
                              sum(est_unstated) AS estimated_rest,
                              bool_or(price_model IS NULL AND c_input_tokens > 0) AS unpriced,
                              sum(c_input_tokens) AS tokens
                       FROM {base} WHERE counted GROUP BY ALL),
                b AS (SELECT CAST(bucket_start AS DATE) AS day, provider, bucket_start >= ? AS current,
                             sum(amount) AS billed
                      FROM costs_named WHERE {bw} GROUP BY ALL),
                o AS (SELECT DISTINCT CAST(bucket_start AS DATE) AS day, provider FROM costs_named
                      WHERE {ow})
            SELECT coalesce(b.day, e.day) AS day, coalesce(b.provider, e.provider) AS provider,
                   b.billed, e.stated, e.estimated, e.estimated_rest, coalesce(b.current, e.current) AS current,
                   CASE WHEN b.billed IS NULL AND o.day IS NOT NULL THEN 'other_currency'
                        WHEN b.billed IS NULL THEN 'no_cost_report'
                        WHEN e.day IS NULL OR coalesce(e.tokens, 0) = 0 THEN 'no_usage'
                        WHEN e.unpriced THEN 'unpriced'
                        WHEN abs(b.billed - coalesce(e.estimated, 0)) < 0.01 THEN 'matches'
                        ELSE 'differs' END AS note
            FROM b FULL OUTER JOIN e ON b.day = e.day AND b.provider = e.provider AND b.current = e.current
            LEFT JOIN o ON o.day = coalesce(b.day, e.day) AND o.provider = coalesce(b.provider, e.provider)
            ORDER BY 1, 2""",
            [int(split.timestamp()), *params, split, *bparams, *oparams],
        )
    return rows


def by_model(store: Store, f: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Billed against estimated per catalog model over the period (largest bill first).

    Billed lines name their model (Anthropic) or carry it in the line item (OpenAI); both are
    mapped to the catalog's model names like the usage is. The row whose ``model`` is None
    holds usage that names no model and bill lines not itemised by model."""
    window = f.window(now)
    g = f.with_(dims={k: v for k, v in f.dims.items() if k != "user_id"})
    with store.read() as cur:
        base, params = counted_rows(cur, g, None, window)
        est = cur.execute(
            f"SELECT snapshot, sum(est), sum(c_input_tokens + c_output_tokens) FROM {base} WHERE counted GROUP BY 1",
            params,
        ).fetchall()
        bw, bparams = _billed_where(g, window)
        billed = cur.execute(
            f"SELECT snapshot, sum(amount) FROM costs_named WHERE {bw} GROUP BY 1", bparams
        ).fetchall()
        known = known_models(cur)
    table: dict[str, dict[str, Any]] = {}
    for model, usd, tokens in est:
        key = canonical_model(model, known) or model
        row = table.setdefault(key, {"model": key, "billed": None, "estimated": None, "tokens": 0})
        row["tokens"] += int(tokens or 0)
        if usd is not None:
            row["estimated"] = (row["estimated"] or 0) + usd
    for model, usd in billed:
        key = canonical_model(model, known) or model
        row = table.setdefault(key, {"model": key, "billed": None, "estimated": None, "tokens": 0})
        row["billed"] = (row["billed"] or 0) + usd
    df = pd.DataFrame(list(table.values()), columns=["model", "billed", "estimated", "tokens"])
    df = df.sort_values(["billed", "estimated"], ascending=False, na_position="last")
    return df.reset_index(drop=True)


def by_line_item(store: Store, f: Filters, now: datetime | None = None) -> pd.DataFrame:
    """Billed USD per provider and line item (None for lines that name none) over the
    period, largest first."""
    g = f.with_(dims={k: v for k, v in f.dims.items() if k != "user_id"})
    bw, params = _billed_where(g, f.window(now))
    with store.read() as cur:
        return cur.df(
            f"""SELECT provider, line_item, sum(amount) AS billed
                FROM costs_named WHERE {bw} GROUP BY ALL ORDER BY billed DESC""",
            params,
        )


NOT_COUNTED_REASONS = ("other_stream", "billed")  # codes; the page words them


def not_counted(store: Store, f: Filters, now: datetime | None = None) -> pd.DataFrame:
    """What imports hold in the period that the totals do not count, and why, per import,
    provider and reason (largest first). Reasons (codes):

    - ``other_stream``: the rows' tokens (and requests, unless ``requests_counted``: request
      logs still give the requests of a stream that states none), because another stream
      covers that provider and day (``counted_by`` names it: a usage report, or ``*request``
      for logs);
    - ``billed``: the cost the rows state, because a cost report bills that provider and day.

    Columns: import_id, file_name, source, provider, reason, counted_by, requests_counted,
    days, rows, tokens (input + output), stated_usd."""
    start, end = f.window(now)
    g = f.with_(dims={k: v for k, v in f.dims.items() if k != "user_id"})
    dim_where, dim_params = g.dims_sql(prefix="a.")
    where = " AND ".join(["a.hour >= ?", "a.hour < ?", *dim_where])
    with store.read() as cur:
        return cur.df(
            f"""WITH a AS (
                    SELECT a.*, s.stream, a.grain = 'request' AND NOT s.stated_requests AS req_here,
                           CASE WHEN a.grain = 'request' THEN '*request' ELSE a.source END AS own
                    FROM agg_hourly a
                    JOIN token_streams s ON s.provider = a.provider AND s.day = a.hour // 86400
                    WHERE {where}),
                b AS (SELECT DISTINCT provider, epoch_ms(bucket_start) // 86400000 AS day
                      FROM live_costs WHERE currency = 'USD'),
                x AS (
                    SELECT a.*, 'other_stream' AS reason, a.stream AS counted_by FROM a
                    WHERE a.stream <> a.own
                    UNION ALL BY NAME
                    SELECT a.*, 'billed' AS reason, 'cost report' AS counted_by FROM a
                    JOIN b ON b.provider = a.provider AND b.day = a.hour // 86400
                    WHERE a.stream = a.own AND a.cost_usd IS NOT NULL)
                SELECT x.import_id, i.file_name, x.source, x.provider, x.reason, x.counted_by,
                       bool_and(x.req_here) AS requests_counted,
                       count(DISTINCT x.hour // 86400) AS days, sum(x.rows) AS rows,
                       sum(x.input_tokens + x.output_tokens) AS tokens, sum(x.cost_usd) AS stated_usd
                FROM x JOIN imports i ON i.import_id = x.import_id
                GROUP BY ALL ORDER BY tokens DESC, x.import_id, x.reason""",
            [int(start.timestamp()), int(end.timestamp()), *dim_params],
        )


@dataclass(frozen=True)
class CurrencyTotal:
    """Billed money in one currency other than US dollars: ``billed`` in that currency's
    units (exact decimal), over ``lines`` live cost lines."""

    currency: str  # ISO 4217
    billed: Decimal
    lines: int


def billed_other_currencies(
    store: Store,
    f: Filters,
    now: datetime | None = None,
    window: tuple[datetime, datetime] | None = None,
) -> list[CurrencyTotal]:
    """Billed totals of the cost lines stated in a currency other than USD, one per currency
    (sorted by code), over the filters' period (or ``window``) and dimensions. Never converted
    and never part of the USD figures of this module; [] when every bill is in dollars."""
    where, params = _billed_where(f, window or f.window(now), dollars=False)
    rows = store.query(
        f"""SELECT currency, sum(amount), count(*) FROM costs_named WHERE {where}
            GROUP BY currency ORDER BY currency""",
        params,
    )
    return [CurrencyTotal(c, Decimal(v), int(n)) for c, v, n in rows]


@dataclass(frozen=True)
class CostTotals:
    """The period's money at a glance, in USD (exact decimals): ``spend`` per provider and
    day the bill, else the stated cost, else the estimate (``bases``: the kinds used, of
    billed, stated, estimated); ``billed`` and ``estimated`` summed over the days that have
    one (None when none has); ``gap`` = billed − estimated when both are known."""

    spend: Decimal | None
    bases: tuple[str, ...]
    billed: Decimal | None
    estimated: Decimal | None

    @property
    def gap(self) -> Decimal | None:
        if self.billed is None or self.estimated is None:
            return None
        return self.billed - self.estimated


@dataclass(frozen=True)
class DayReason:
    """Days of one provider whose bill and estimate differ for one reason (``note``)."""

    provider: str
    note: str  # a code of NOTES
    days: int


@dataclass(frozen=True)
class CostsView:
    """What the Costs page shows of one period: ``daily`` (see ``daily``, without its
    working columns), ``per_day`` (day, billed, estimated: summed over providers, None on a
    day without any), the totals and the reasons for the days that do not match."""

    daily: pd.DataFrame
    per_day: pd.DataFrame
    totals: CostTotals
    reasons: list[DayReason] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.daily.empty


def _sum(values: pd.Series) -> Decimal | None:
    known = [_dec(v) for v in values if v is not None and not bool(pd.isna(v))]
    return sum(known, start=Decimal(0)) if known else None


def cost_totals(d: pd.DataFrame) -> CostTotals:
    """The totals of a ``daily`` frame."""
    spend, basis = spend_of(d)
    return CostTotals(spend, tuple(b for b in basis.split(" + ") if b) if spend is not None else (),
                      _sum(d["billed"]), _sum(d["estimated"]))  # fmt: skip


def costs_view(store: Store, f: Filters, now: datetime | None = None) -> CostsView:
    """``daily`` over the filters' period, with its totals, per-day sums and reasons."""
    d = daily(store, f, now)
    totals = cost_totals(d)
    if d.empty:
        per_day = pd.DataFrame(columns=["day", "billed", "estimated"])
    else:
        per_day = (
            d.groupby("day", as_index=False)[["billed", "estimated"]].agg(_sum).sort_values("day")
        )
    odd = d[d["note"] != "matches"]
    counts = odd.groupby(["provider", "note"]).size().reset_index(name="days")
    reasons = [DayReason(str(p), str(note), int(days)) for p, note, days in
               zip(counts["provider"], counts["note"], counts["days"], strict=True)]  # fmt: skip
    shown = d.drop(columns=["estimated_rest", "current"])
    return CostsView(shown.reset_index(drop=True), per_day.reset_index(drop=True), totals, reasons)
