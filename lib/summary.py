"""Totals over the whole database, the way the CLI's ``summary`` reports them.

Tokens, requests and errors come from the counted stream of each provider and day (the
``token_streams`` table): a provider usage pull wins over other usage exports, which win over
gateway/request logs, so the same traffic is never added twice. Errors come from the
counted stream, or from the request logs of that day where the stream has no error count;
requests likewise (Anthropic's usage report has no request count). Stated cost is, per provider
and day, the billed cost report when there is one, else the cost the counted stream states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from lib.analytics.usage import counted_rows
from lib.filters import Filters
from lib.money import money_str
from lib.store import Store

# What the ledger says about the data (kept here for their callers; they live in
# lib.ingest.ledger): the cache key, and whether anything (or demo data) was imported.
__all__ = ["Totals", "totals"]

ALL_TIME = (datetime(1970, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))


@dataclass
class Totals:
    rows: int
    requests: int | None
    errors: int | None
    input_tokens: int | None
    cached_input_tokens: int | None
    output_tokens: int | None
    stated_cost_usd: Decimal | None
    estimated_cost_usd: Decimal | None
    unpriced_models: list[str] = field(default_factory=list)
    streams: list[tuple[str, str, int]] = field(default_factory=list)  # provider, stream, days
    # Billed money in other currencies than USD, per ISO code: never converted, never in the
    # USD figures above.
    billed_other_currencies: dict[str, Decimal] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        """The CLI's ``summary --json`` object: exactly the documented keys."""
        return {
            "rows": self.rows,
            "requests": self.requests,
            "errors": self.errors,
            "input_tokens": self.input_tokens,
            "cached_input_tokens": self.cached_input_tokens,
            "output_tokens": self.output_tokens,
            "stated_cost_usd": money_str(self.stated_cost_usd),
            "estimated_cost_usd": money_str(self.estimated_cost_usd),
            "billed_other_currencies": {
                code: money_str(v) for code, v in self.billed_other_currencies.items()
            },
        }


def totals(store: Store) -> Totals:
    with store.read() as cur:
        rows = cur.execute(
            """SELECT (SELECT count(*) FROM request_events)
                    + (SELECT count(*) FROM live_usage)
                    + (SELECT count(*) FROM live_costs)"""
        ).scalar()
        tok = cur.execute(
            """SELECT count(*), sum(requests), sum(errors), sum(input_tokens),
                      sum(cached_input_tokens), sum(output_tokens)
               FROM counted_hourly"""
        ).fetchall()[0]
        n, requests, errors, inp, cached, out = tok
        stated = cur.execute(
            """WITH billed AS (
                   SELECT provider, epoch_ms(bucket_start) // 86400000 AS day, sum(amount) AS usd
                   FROM live_costs WHERE currency = 'USD' GROUP BY ALL),
               stated AS (
                   SELECT provider, hour // 86400 AS day, sum(cost_usd) AS usd
                   FROM counted_hourly GROUP BY ALL)
               SELECT sum(coalesce(b.usd, s.usd))
               FROM billed b FULL OUTER JOIN stated s ON b.provider = s.provider AND b.day = s.day"""
        ).scalar()
        requests, errors = cur.execute(
            """WITH c AS (SELECT provider, hour // 86400 AS day, sum(requests) AS n, sum(errors) AS e
                          FROM counted_hourly GROUP BY ALL),
               r AS (SELECT provider, hour // 86400 AS day, sum(requests) AS n, sum(errors) AS e
                     FROM agg_hourly WHERE grain = 'request' GROUP BY ALL)
               SELECT sum(coalesce(c.n, r.n)), sum(coalesce(c.e, r.e))
               FROM c LEFT JOIN r USING (provider, day)"""
        ).fetchall()[0]
        # The same estimate the pages show: the counted stream × the price in force that day.
        base, params = counted_rows(cur, Filters(), None, ALL_TIME)
        est_cost, unpriced = cur.execute(
            f"""SELECT sum(est),
                       list(DISTINCT coalesce(model, '(no model)') ORDER BY coalesce(model, '(no model)'))
                         FILTER (WHERE est IS NULL AND counted AND c_input_tokens + c_output_tokens > 0)
                FROM {base}""",
            params,
        ).fetchall()[0]
        streams = cur.execute(
            "SELECT provider, stream, count(*) FROM token_streams GROUP BY ALL ORDER BY 1, 2"
        ).fetchall()
        other = cur.execute(
            """SELECT currency, sum(amount) FROM live_costs WHERE currency <> 'USD'
               GROUP BY currency ORDER BY currency"""
        ).fetchall()

    def none_if_empty(v: Any) -> int | None:
        return None if n == 0 else int(v or 0)

    return Totals(
        rows=int(rows),
        requests=None if requests is None else int(requests),
        errors=None if errors is None else int(errors),
        input_tokens=none_if_empty(inp),
        cached_input_tokens=none_if_empty(cached),
        output_tokens=none_if_empty(out),
        stated_cost_usd=None if stated is None else Decimal(stated),
        estimated_cost_usd=None
        if est_cost is None
        else Decimal(est_cost).quantize(Decimal("1e-10")),
        unpriced_models=list(unpriced or []),
        streams=[(p, s, int(d)) for p, s, d in streams],
        billed_other_currencies={code: Decimal(v) for code, v in other},
    )
