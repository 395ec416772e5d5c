"""The ``model_retirement`` rule: models used in the rule's window (the last week) that the
providers retire within the threshold's days (or already retired), from the bundled table of
``lib.notices.retirements``: "gpt-4o-2024-05-13 retires on …; 3 keys used it 1,200 times last
week". The subject is the model name as the source gave it (the snapshot)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from lib.alerts.measure import link, rolling
from lib.alerts.model import Measure, Rule
from lib.notices.retirements import retirements_for
from lib.store import Cursor


def measure_model_retirement(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Per model used in the window: the days before it retires (negative once retired), the
    requests and the keys that used it; fires at or below the threshold in days."""
    out: list[Measure] = []
    if not rules:
        return out
    s, e = rolling(rules[0], now)  # every retirement rule looks at the last week
    used = cur.execute(
        """SELECT snapshot, any_value(model),
                  -- the request logs count requests; usage reports only where no log does
                  coalesce(sum(requests) FILTER (WHERE grain = 'request'),
                           sum(requests) FILTER (WHERE grain = 'usage')) AS n,
                  count(DISTINCT api_key) AS keys
           FROM agg_hourly WHERE hour >= ? AND hour < ? AND snapshot IS NOT NULL
           GROUP BY snapshot""",
        [s, e],
    ).fetchall()
    usage = {m: (fam, int(n or 0), int(k or 0)) for m, fam, n, k in used}
    # the farthest any rule looks ahead: its threshold at its lowest level
    widest = max(int(r.threshold * 100 / min(r.levels)) for r in rules)
    found = retirements_for(sorted(usage), now.astimezone(UTC).date(), within_days=widest)
    start, end = datetime.fromtimestamp(s, UTC), datetime.fromtimestamp(e, UTC)
    for rule in rules:
        for r in found:
            family, n, keys = usage[r.model]
            if rule.subject is not None and rule.subject not in (r.model, family):
                continue
            value = Decimal(r.days_left)
            level = rule.level_of(value)
            if level is None:
                continue
            row = r.retirement
            detail = {"retires_on": row.retires_on.isoformat(), "state": r.state,
                      "replacement": row.replacement, "source_url": row.source_url,
                      "requests": n, "keys": keys}  # fmt: skip
            out.append(Measure(rule.rule_id, r.model, value, level, detail,
                               link("Usage", "model", "", start, end, snapshot=r.model)))  # fmt: skip
    return out
