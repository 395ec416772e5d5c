"""What each kind of rule measures: one query per kind and subject kind, over every subject
and every rule of that kind at once (the rules' windows are passed as lists and joined), over
the rollups wherever they keep the subject's dimension.

Each ``measure_<kind>(cur, rules, now)`` returns the ``Measure`` of every (rule, subject) that
reaches a level; a subject absent from the answer is under every level (its incident resolves).

Windows (UTC hours; ``now`` is the clock, never read here):
- calendar windows (budgets): the day, week (from Monday) or month under way in the rule's
  time zone;
- rolling windows (rates, latency, key events): the hour under way and the whole hours of the
  last hour, day or week before it;
- spikes: the last complete hour or UTC day, against the same weekday (and hour) of up to
  ``SPIKE_WEEKS`` weeks before, with ``lib.analytics.trends``' robust z-score.

Spend is what the Overview counts (``lib.analytics.costs.spend_of``): per subject, provider and
UTC day the bill where a cost report covers it, else the cost the counted usage states, else
the estimate (tokens × catalog price). Hourly spikes leave bills out (they are daily).
"""

from __future__ import annotations

import weakref
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from lib.alerts.model import (
    REFUSED_CODES,
    REVOKED_CODES,
    SUBJECT_COLUMNS,
    SUBJECT_DIMS,
    WINDOW_SECONDS,
    Measure,
    Rule,
)
from lib.analytics.trends import MIN_HISTORY
from lib.analytics.usage import counted_rows
from lib.filters import Filters, next_month
from lib.settings import first_weekday
from lib.store import Cursor
from lib.store.migrations import LATENCY_RATIO

SPIKE_WEEKS = 8  # same-slot history looked at by spike rules (add_trends needs MIN_HISTORY)
FORECAST_DAYS = 14  # the month-end forecast extends the mean of the last 14 days (as trends)
HOUR = 3600
DAY = 86400
WEEK = 7 * DAY
CENT = Decimal("0.01")

MeasureFn = Callable[[Cursor, list[Rule], datetime], list[Measure]]


# -- shared pieces ---------------------------------------------------------------------------
def _epoch(t: datetime) -> int:
    return int(t.timestamp())


def _utc(s: int) -> datetime:
    return datetime.fromtimestamp(s, UTC)


def hour_floor(now: datetime) -> int:
    return _epoch(now) // HOUR * HOUR


def rolling(rule: Rule, now: datetime) -> tuple[int, int]:
    """[start, end) in epoch seconds: the hour under way and the whole hours of the rule's
    window before it, so the window always holds at least its length of time (a one-hour
    window at 12:05 is 11:00-13:00) and does not empty itself at each hour's start."""
    hour = hour_floor(now)
    return hour - WINDOW_SECONDS[rule.window], hour + HOUR


def calendar(
    window: str, tz: str, now: datetime, first_weekday: int = 0
) -> tuple[datetime, datetime, datetime]:
    """(start, end, end of today) of the day, week (from ``first_weekday``: 0 Monday, 6
    Sunday, the reporting defaults' week start) or month under way in ``tz``, as aware
    datetimes in that zone."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).replace(hour=0, minute=0, second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    if window == "day":
        return today, tomorrow, tomorrow
    if window == "week":
        start = today - timedelta(days=(today.weekday() - first_weekday) % 7)
        return start, start + timedelta(days=7), tomorrow
    start = today.replace(day=1)
    return start, next_month(start), tomorrow


def subject_sql(subject_kind: str, prefix: str = "") -> str:
    """The subject's value in SQL: '' for the organisation, else its column as text."""
    col = SUBJECT_COLUMNS[subject_kind]
    return "''" if col is None else f"CAST({prefix}{col} AS VARCHAR)"


def link(
    page: str,
    subject_kind: str,
    subject: str,
    start: datetime,
    end: datetime,
    tz: str = "UTC",
    **more: str,
) -> str:
    """``page?query`` of the filtered view of [start, end) (whole days in ``tz``) for the
    subject, in the global filters' own parameters (``more`` adds the page's own)."""
    zone = ZoneInfo(tz)
    first = start.astimezone(zone).date()
    last = (end - timedelta(microseconds=1)).astimezone(zone).date()
    dim = SUBJECT_DIMS[subject_kind]
    dims: dict[str, tuple[str, ...]] = {dim: (subject,)} if dim and subject else {}
    query = Filters(preset="custom", start=first, end=max(first, last), tz=tz, dims=dims).to_query()
    query.update(more)
    return f"{page}?{urlencode(query)}"


def _by_subject_kind(rules: Iterable[Rule]) -> dict[str, list[Rule]]:
    groups: dict[str, list[Rule]] = defaultdict(list)
    for r in rules:
        groups[r.subject_kind].append(r)
    return groups


def _windows_cte(rows: Sequence[tuple[int, str | None, int, int, int]]) -> tuple[str, list[Any]]:
    """CTE ``w`` (rule_id, want, s, e, rs) of the rules' windows, and its parameters."""
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    sql = """w AS (SELECT unnest(?::BIGINT[]) AS rule_id, unnest(?::VARCHAR[]) AS want,
                         unnest(?::BIGINT[]) AS s, unnest(?::BIGINT[]) AS e,
                         unnest(?::BIGINT[]) AS rs)"""
    return sql, [list(c) for c in cols]


# Spend of every subject kind in one temporary table per evaluation (``prepare_spend``): the
# counted rollup rows are read twice (hourly, per user) instead of once per kind and subject.
_SUBJECT_UNION = " UNION ALL ".join(
    f"SELECT '{kind}' AS subject_kind, {subject_sql(kind)} AS subject, provider, hour, day, "
    "sum(usd) AS usd FROM {src} GROUP BY ALL"
    for kind in ("organisation", "provider", "project", "key", "model")
)
_PREPARED: weakref.WeakKeyDictionary[Cursor, tuple[int, int]] = weakref.WeakKeyDictionary()


def prepare_spend(cur: Cursor, start_s: int, end_s: int) -> None:
    """Make the temporary table ``alert_spend`` (subject_kind, subject, provider, hour, src,
    covered, usd) of [start_s, end_s) on this cursor: ``src`` 'e' rows hold the stated cost
    plus the estimate of the counted usage per subject and hour, ``covered`` when a cost report
    bills that subject, provider and UTC day; 'b' rows hold the bill. ``spend_ctes`` on this
    cursor then reads it for any window inside [start_s, end_s). It lives as long as the
    cursor's transaction."""
    window = (_utc(start_s), _utc(end_s))
    base, params = counted_rows(cur, Filters(), None, window)
    ubase, uparams = counted_rows(cur, Filters(), "user_id", window)
    e_union = _SUBJECT_UNION.replace("{src}", "e0")
    b_union = _SUBJECT_UNION.replace("{src}", "b0")
    cur.execute(
        f"""CREATE OR REPLACE TEMP TABLE alert_spend AS
            WITH e0 AS (SELECT provider, model, project, api_key, t AS hour, t // 86400 AS day,
                               coalesce(sum(c_cost_whole), 0) + coalesce(sum(est_unstated), 0) AS usd
                        FROM {base} WHERE counted GROUP BY ALL),
            e AS ({e_union}
                  UNION ALL
                  SELECT 'user', CAST(user_id AS VARCHAR), provider, t, t // 86400,
                         coalesce(sum(c_cost_whole), 0) + coalesce(sum(est_unstated), 0)
                  FROM {ubase} WHERE counted GROUP BY ALL),
            b0 AS (SELECT provider, model, project, api_key,
                          epoch_ms(bucket_start) // 1000 AS hour,
                          epoch_ms(bucket_start) // 86400000 AS day, sum(amount) AS usd
                   FROM costs_named WHERE currency = 'USD' AND bucket_start >= ? AND bucket_start < ?
                   GROUP BY ALL),
            b AS ({b_union}),
            bd AS (SELECT DISTINCT subject_kind, subject, provider, day FROM b)
            SELECT e.subject_kind, e.subject, e.provider, e.hour, 'e' AS src,
                   bd.day IS NOT NULL AS covered, e.usd
            FROM e LEFT JOIN bd ON bd.subject_kind = e.subject_kind AND bd.provider = e.provider
             AND bd.day = e.day AND bd.subject IS NOT DISTINCT FROM e.subject
            UNION ALL
            SELECT subject_kind, subject, provider, hour, 'b', false, usd FROM b""",
        [*params, *uparams, window[0], window[1]],
    )
    _PREPARED[cur] = (start_s, end_s)


SPEND_KINDS = frozenset({"budget", "spend_spike", "credit_low"})


def spend_window(cur: Cursor, now: datetime) -> tuple[int, int]:
    """[start, end) epoch seconds that every spend kind may read at ``now``: spikes' weeks
    of history, this month and this week in any time zone, the credit grants in force and the
    burn-rate week."""
    hour = hour_floor(now)
    month = datetime(now.year, now.month, 1, tzinfo=UTC)
    start = min(hour - SPIKE_WEEKS * WEEK - 2 * DAY, _epoch(month) - 2 * DAY)
    first_grant = cur.execute(
        "SELECT min(granted_on) FROM credit_grants WHERE expires_on IS NULL OR expires_on >= ?",
        [now.astimezone(UTC).date()],
    ).scalar()
    if first_grant is not None:
        start = min(start, _epoch(datetime(first_grant.year, first_grant.month, first_grant.day,
                                           tzinfo=UTC)))  # fmt: skip
    # a week under way may end up to 7 days into next month (and a zone 14 h ahead)
    return start, max(_epoch(next_month(month)) + 8 * DAY, hour + HOUR)


def spend_ctes(
    cur: Cursor, subject_kind: str, start_s: int, end_s: int, billed: bool = True
) -> tuple[str, list[Any]]:
    """CTEs ending in ``spend`` (subject, provider, hour, usd) over [start_s, end_s): per
    subject, provider and UTC day the bill (counted in the hour it starts) where a cost report
    covers it (with ``billed``), else the stated cost plus the estimate of what states none.
    Users come from the per-user rollup (per day; no bill names a user). Reads
    ``alert_spend`` when ``prepare_spend`` made it for a window holding this one."""
    ready = _PREPARED.get(cur)
    if ready is not None and ready[0] <= start_s and end_s <= ready[1]:
        which = "(src = 'b' OR NOT covered)" if billed else "src = 'e'"
        return (
            f"""spend AS (SELECT subject, provider, hour, usd FROM alert_spend
                          WHERE subject_kind = ? AND hour >= ? AND hour < ? AND {which})""",
            [subject_kind, start_s, end_s],
        )
    window = (_utc(start_s), _utc(end_s))
    users = subject_kind == "user"
    base, params = counted_rows(cur, Filters(), "user_id" if users else None, window)
    subj = subject_sql(subject_kind)
    sql = f"""e AS (SELECT {subj} AS subject, provider, t // 86400 AS day, t AS hour,
                          coalesce(sum(c_cost_whole), 0) + coalesce(sum(est_unstated), 0) AS usd
                   FROM {base} WHERE counted GROUP BY ALL)"""
    if users or not billed:
        return sql + ", spend AS (SELECT subject, provider, hour, usd FROM e)", params
    sql += f""",
        b AS (SELECT {subj} AS subject, provider, epoch_ms(bucket_start) // 86400000 AS day,
                     epoch_ms(bucket_start) // 1000 AS hour, sum(amount) AS usd
              FROM costs_named WHERE currency = 'USD' AND bucket_start >= ? AND bucket_start < ?
              GROUP BY ALL),
        bd AS (SELECT DISTINCT subject, provider, day FROM b),
        spend AS (SELECT subject, provider, hour, usd FROM b
                  UNION ALL
                  SELECT e.subject, e.provider, e.hour, e.usd FROM e
                  ANTI JOIN bd ON bd.subject IS NOT DISTINCT FROM e.subject
                              AND bd.provider = e.provider AND bd.day = e.day)"""
    return sql, [*params, window[0], window[1]]


def _dec(v: Any) -> Decimal:
    return v if isinstance(v, Decimal) else Decimal(str(v))


# -- budget ----------------------------------------------------------------------------------
def measure_budget(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Spend in the rule's calendar window (``basis`` actual) or its forecast for the window's
    end (``forecast``: spend so far + the mean daily spend of the last ``FORECAST_DAYS`` days
    of the window, today included, × the days left), against the budget in USD."""
    out: list[Measure] = []
    for subject_kind, group in _by_subject_kind(rules).items():
        wins: dict[int, tuple[datetime, datetime, int, int]] = {}
        rows = []
        first = first_weekday(cur)
        for r in group:
            start, end, today_end = calendar(r.window, r.tz, now, first)
            elapsed = max(1, round((today_end - start).total_seconds() / DAY))
            recent_days = min(FORECAST_DAYS, elapsed)
            left = max(0, round((end - today_end).total_seconds() / DAY))
            recent_start = today_end - timedelta(days=recent_days)
            wins[r.rule_id] = (start, end, recent_days, left)
            rows.append((r.rule_id, r.subject, _epoch(start), _epoch(end), _epoch(recent_start)))
        lo = min(s for _, _, s, _, _ in rows)
        hi = max(e for _, _, _, e, _ in rows)
        sp_sql, sp_params = spend_ctes(cur, subject_kind, lo, hi)
        w_sql, w_params = _windows_cte(rows)
        found = cur.execute(
            f"""WITH {sp_sql}, {w_sql}
                SELECT w.rule_id, sp.subject, sum(sp.usd) AS actual,
                       coalesce(sum(sp.usd) FILTER (WHERE sp.hour >= w.rs), 0) AS recent
                FROM w JOIN spend sp ON sp.hour >= w.s AND sp.hour < w.e
                 AND (w.want IS NULL OR sp.subject = w.want)
                WHERE sp.subject IS NOT NULL
                GROUP BY ALL""",
            [*sp_params, *w_params],
        ).fetchall()
        by_id = {r.rule_id: r for r in group}
        for rule_id, subject, actual, recent in found:
            rule = by_id[int(rule_id)]
            start, end, recent_days, left = wins[rule.rule_id]
            actual = _dec(actual)
            forecast = actual + _dec(recent) / recent_days * left
            value = (forecast if rule.basis == "forecast" else actual).quantize(CENT)
            level = rule.level_of(value)
            if level is None:
                continue
            detail = {"spent_usd": str(actual.quantize(CENT)),
                      "forecast_usd": str(forecast.quantize(CENT)),
                      "budget_usd": str(rule.threshold), "start": start.isoformat(),
                      "end": end.isoformat()}  # fmt: skip
            out.append(Measure(rule.rule_id, subject, value, level, detail,
                               link("Costs", subject_kind, subject, start, end, rule.tz)))  # fmt: skip
    return out


# -- spend spike -----------------------------------------------------------------------------
def robust_z(value: float, median: float, mad: float) -> float:
    """``lib.analytics.trends.add_trends``' score: 0.6745 × (value − median) / MAD, the MAD
    replaced by 5 % of the median (at least 1e-9) when it is 0."""
    scale = mad if mad > 0 else max(abs(median) * 0.05, 1e-9)
    return 0.6745 * (value - median) / scale


SPIKE_LOOKBACK = {"hour": 48, "day": 3}  # complete buckets scored: data often comes in late


def measure_spend_spike(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """The spend of the newest complete hour (or UTC day) that holds any spend of the subject
    kind, among the last ``SPIKE_LOOKBACK`` (48 hours, 3 days: a file imported a day late is
    still scored, and a bucket nothing was imported for yet is not taken for a quiet one),
    against the same weekday (and hour) of the weeks before, back to the subject's first spend
    within ``SPIKE_WEEKS`` weeks (buckets without spend count as 0, as in trends); a robust
    z-score above the threshold is a spike. Needs ``MIN_HISTORY`` earlier buckets of that
    slot."""
    out: list[Measure] = []
    groups: dict[tuple[str, str], list[Rule]] = defaultdict(list)
    for r in rules:
        groups[(r.subject_kind, r.window)].append(r)
    for (subject_kind, window), group in groups.items():
        step = HOUR if window == "hour" else DAY
        last = _epoch(now) // step * step - step  # the last complete bucket
        first = last - (SPIKE_LOOKBACK.get(window, 1) - 1) * step
        start = first - SPIKE_WEEKS * WEEK
        sp_sql, sp_params = spend_ctes(cur, subject_kind, start, last + step,
                                       billed=window == "day")  # fmt: skip
        wants = sorted({r.subject for r in group if r.subject is not None})
        every = any(r.subject is None for r in group)
        found = cur.execute(
            f"""WITH {sp_sql},
                s AS (SELECT subject, hour // ? * ? AS b, sum(usd) AS usd,
                             CAST(sum(usd) AS DOUBLE) AS v FROM spend
                      WHERE subject IS NOT NULL AND (? OR list_contains(?, subject)) GROUP BY ALL),
                f AS (SELECT subject, min(b) AS b0 FROM s GROUP BY ALL),
                bs AS (SELECT max(b) AS cb FROM s WHERE b >= ? AND b <= ?),
                c AS (SELECT f.subject, bs.cb, coalesce(s.v, 0) AS v, coalesce(s.usd, 0) AS usd
                      FROM f CROSS JOIN bs LEFT JOIN s ON s.subject = f.subject AND s.b = bs.cb
                      WHERE bs.cb IS NOT NULL),
                h AS (SELECT c.subject, c.cb, coalesce(s.v, 0) AS v
                      FROM c JOIN f USING (subject) CROSS JOIN range(1, ?) r(k)
                      LEFT JOIN s ON s.subject = c.subject AND s.b = c.cb - r.k * ?
                      WHERE c.cb - r.k * ? >= f.b0),
                m AS (SELECT subject, cb, median(v) AS med, count(*) AS n FROM h GROUP BY ALL),
                d AS (SELECT h.subject, h.cb, median(abs(h.v - m.med)) AS mad
                      FROM h JOIN m USING (subject, cb) GROUP BY ALL)
                SELECT c.subject, c.cb, c.v, c.usd, m.med, d.mad, m.n
                FROM c JOIN m USING (subject, cb) JOIN d USING (subject, cb) WHERE m.n >= ?""",
            [*sp_params, step, step, every, wants, first, last, SPIKE_WEEKS + 1, WEEK, WEEK,
             MIN_HISTORY],
        ).fetchall()  # fmt: skip
        for subject, cb, v, usd, med, mad, n in found:
            z = robust_z(float(v), float(med), float(mad))
            b_start, b_end = _utc(int(cb)), _utc(int(cb) + step)
            for rule in group:
                if rule.subject is not None and rule.subject != subject:
                    continue
                value = Decimal(str(round(z, 2)))
                level = rule.level_of(value)
                if level is None:
                    continue
                detail = {"bucket": b_start.isoformat(), "granularity": window,
                          "spend_usd": str(_dec(usd).quantize(CENT)),  # exact
                          "usual_usd": str(Decimal(str(round(float(med), 2))).quantize(CENT)),
                          "weeks": int(n)}  # fmt: skip
                out.append(Measure(rule.rule_id, subject, value, level, detail,
                                   link("Usage", subject_kind, subject, b_start, b_end,
                                        gran=window)))  # fmt: skip
    return out


# -- error rate and 429 share ----------------------------------------------------------------
def _rolling_rows(group: list[Rule], now: datetime) -> list[tuple[int, str | None, int, int, int]]:
    rows = []
    for r in group:
        s, e = rolling(r, now)
        rows.append((r.rule_id, r.subject, s, e, s))
    return rows


def _request_counts(
    cur: Cursor, subject_kind: str, group: list[Rule], now: datetime
) -> list[tuple]:
    """Per rule and subject over the rule's rolling window: requests, errors, 429 responses
    (of the request logs: only they state each request's status)."""
    rows = _rolling_rows(group, now)
    lo, hi = min(r[2] for r in rows), max(r[3] for r in rows)
    w_sql, w_params = _windows_cte(rows)
    subj = subject_sql(subject_kind)
    if subject_kind == "user":
        src = f"""r AS (SELECT {subj} AS subject, epoch_ms(ts) // 3600000 * 3600 AS hour,
                            count(*) AS requests, count(*) FILTER (WHERE status = 'error') AS errors,
                            count(*) FILTER (WHERE http_status = 429) AS n429
                     FROM requests_named WHERE ts >= ? AND ts < ? GROUP BY ALL)"""
        params: list[Any] = [_utc(lo), _utc(hi)]
    else:
        src = f"""a AS (SELECT {subj} AS subject, hour, sum(requests) AS requests,
                            sum(errors) AS errors
                     FROM agg_hourly WHERE grain = 'request' AND hour >= ? AND hour < ? GROUP BY ALL),
                x AS (SELECT {subj} AS subject, hour, sum(errors) AS n429 FROM agg_error_hourly
                      WHERE http_status = 429 AND hour >= ? AND hour < ? GROUP BY ALL),
                r AS (SELECT a.*, coalesce(x.n429, 0) AS n429 FROM a
                      LEFT JOIN x ON x.subject IS NOT DISTINCT FROM a.subject AND x.hour = a.hour)"""
        params = [lo, hi, lo, hi]
    return cur.execute(
        f"""WITH {src}, {w_sql}
            SELECT w.rule_id, r.subject, sum(r.requests), sum(r.errors), sum(r.n429)
            FROM w JOIN r ON r.hour >= w.s AND r.hour < w.e AND (w.want IS NULL OR r.subject = w.want)
            WHERE r.subject IS NOT NULL GROUP BY ALL""",
        [*params, *w_params],
    ).fetchall()


def _share(kind: str, cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    out: list[Measure] = []
    for subject_kind, group in _by_subject_kind(rules).items():
        by_id = {r.rule_id: r for r in group}
        for rule_id, subject, requests, errors, n429 in _request_counts(
            cur, subject_kind, group, now
        ):
            rule = by_id[int(rule_id)]
            requests = int(requests or 0)
            part = int((errors if kind == "error_rate" else n429) or 0)
            if requests == 0 or requests < rule.min_volume:
                continue
            value = (Decimal(100 * part) / requests).quantize(CENT)
            level = rule.level_of(value)
            if level is None:
                continue
            s, e = rolling(rule, now)
            extra = {"status": "429"} if kind == "rate_limit_share" else {}
            detail = {"requests": requests, "errors" if kind == "error_rate" else "n429": part}
            out.append(Measure(rule.rule_id, subject, value, level, detail,
                               link("Errors", subject_kind, subject, _utc(s), _utc(e), **extra)))  # fmt: skip
    return out


def measure_error_rate(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Errors as a % of requests over the rolling window, when at least ``min_volume``."""
    return _share("error_rate", cur, rules, now)


def measure_rate_limit_share(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """HTTP 429 responses as a % of requests over the rolling window, when at least
    ``min_volume``."""
    return _share("rate_limit_share", cur, rules, now)


# -- p95 latency -----------------------------------------------------------------------------
# As lib.analytics.latency: the percentile interpolated log-linearly inside its histogram bucket.
_P95_HIST = (
    f"arg_min(pow({LATENCY_RATIO}, lb + (0.95 * tot - (cum - n)) / n), lb) "
    "FILTER (WHERE cum >= 0.95 * tot)"
)
HISTOGRAM_SUBJECTS = ("organisation", "provider", "model")


def measure_p95_latency(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """p95 latency (ms) over the rolling window, when at least ``min_volume`` requests state a
    latency: from the hourly histograms for the organisation, providers and models (within
    20 %), from the request rows (exact) for projects, keys and users."""
    out: list[Measure] = []
    for subject_kind, group in _by_subject_kind(rules).items():
        rows = _rolling_rows(group, now)
        w_sql, w_params = _windows_cte(rows)
        if subject_kind in HISTOGRAM_SUBJECTS:
            subj = subject_sql(subject_kind, "a.")
            sql = f"""WITH {w_sql},
                h AS (SELECT w.rule_id, {subj} AS subject, a.lb, sum(a.n) AS n
                      FROM w JOIN agg_latency_hourly a ON a.hour >= w.s AND a.hour < w.e
                       AND (w.want IS NULL OR {subj} = w.want) GROUP BY ALL),
                c AS (SELECT *, sum(n) OVER (PARTITION BY rule_id, subject ORDER BY lb
                                             ROWS UNBOUNDED PRECEDING) AS cum,
                                sum(n) OVER (PARTITION BY rule_id, subject) AS tot FROM h)
                SELECT rule_id, subject, {_P95_HIST} AS p95, sum(n) AS n FROM c
                WHERE subject IS NOT NULL GROUP BY ALL"""
        else:
            subj = subject_sql(subject_kind, "r.")
            sql = f"""WITH {w_sql}
                SELECT w.rule_id, {subj} AS subject, quantile_cont(r.latency_ms, 0.95) AS p95,
                       count(*) AS n
                FROM w JOIN requests_named r ON r.ts >= to_timestamp(w.s) AND r.ts < to_timestamp(w.e)
                 AND r.latency_ms IS NOT NULL AND (w.want IS NULL OR {subj} = w.want)
                WHERE {subj} IS NOT NULL GROUP BY ALL"""
        by_id = {r.rule_id: r for r in group}
        for rule_id, subject, p95, n in cur.execute(sql, w_params).fetchall():
            rule = by_id[int(rule_id)]
            if p95 is None or int(n) == 0 or int(n) < rule.min_volume:
                continue
            value = Decimal(str(round(float(p95), 1)))
            level = rule.level_of(value)
            if level is None:
                continue
            s, e = rolling(rule, now)
            out.append(Measure(rule.rule_id, subject, value, level, {"requests": int(n)},
                               link("Usage", subject_kind, subject, _utc(s), _utc(e),
                                    metric="p95_latency")))  # fmt: skip
    return out


# -- no new data, key unused -----------------------------------------------------------------
def _newest(cur: Cursor, subject_kind: str, keys_only: bool = False) -> list[tuple[str, int]]:
    """(subject, epoch second up to which data is held) per subject: the end of its newest
    rollup bucket, but never later than the import that brought it finished (today's bucket
    of a daily report ends at midnight; its data is only as new as its pull) (for users: the
    newest request event)."""
    if subject_kind == "user":
        return cur.execute(
            """SELECT CAST(user_id AS VARCHAR), epoch_ms(max(ts)) // 1000 FROM request_events
               WHERE user_id IS NOT NULL GROUP BY ALL"""
        ).fetchall()
    subj = subject_sql(subject_kind, "a.")
    used = "AND a.api_key IS NOT NULL AND coalesce(a.requests, a.rows) > 0" if keys_only else ""
    end = "a.hour + coalesce(a.span_s, 3600)"
    return cur.execute(
        f"""SELECT {subj} AS subject,
                   max(least({end}, coalesce(epoch_ms(i.finished_at) // 1000, {end})))
            FROM agg_hourly a LEFT JOIN imports i USING (import_id)
            WHERE {subj} IS NOT NULL {used} GROUP BY ALL"""
    ).fetchall()


def _silence(kind: str, cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    out: list[Measure] = []
    unit = HOUR if kind == "no_data" else DAY
    for subject_kind, group in _by_subject_kind(rules).items():
        newest = _newest(cur, subject_kind, keys_only=kind == "key_unused")
        for subject, up_to in newest:
            since = Decimal(_epoch(now) - int(up_to)) / unit
            value = since.quantize(Decimal("0.1"))
            for rule in group:
                if rule.subject is not None and rule.subject != subject:
                    continue
                level = rule.level_of(value)
                if level is None:
                    continue
                last = _utc(int(up_to))
                page = "Data" if kind == "no_data" else "Usage"
                detail = {"data_until": last.isoformat()}
                out.append(Measure(rule.rule_id, subject, value, level, detail,
                                   link(page, subject_kind, subject, last - timedelta(days=7), last)))  # fmt: skip
    return out


def measure_no_data(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Hours since the end of the newest data of each subject that ever had any."""
    return _silence("no_data", cur, rules, now)


def measure_key_unused(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Days since each API key seen in the data was last used (the key registry of the
    gateway adds keys never used once it exists)."""
    return _silence("key_unused", cur, rules, now)


# -- revoked or expired keys used, requests refused by a key's restrictions -------------------
def _key_events(
    codes: tuple[str, ...], cur: Cursor, rules: list[Rule], now: datetime
) -> list[Measure]:
    out: list[Measure] = []
    for subject_kind, group in _by_subject_kind(rules).items():
        rows = _rolling_rows(group, now)
        w_sql, w_params = _windows_cte(rows)
        if subject_kind == "user":
            subj = subject_sql(subject_kind, "r.")
            src = f"""FROM w JOIN request_events r ON r.ts >= to_timestamp(w.s)
                       AND r.ts < to_timestamp(w.e) AND list_contains(?, r.error_code)
                       AND (w.want IS NULL OR {subj} = w.want)"""
            n = "count(*)"
        else:
            subj = subject_sql(subject_kind, "r.")
            src = f"""FROM w JOIN agg_error_hourly r ON r.hour >= w.s AND r.hour < w.e
                       AND list_contains(?, r.error_code) AND (w.want IS NULL OR {subj} = w.want)"""
            n = "sum(r.errors)"
        found = cur.execute(
            f"""WITH {w_sql}
                SELECT w.rule_id, {subj} AS subject, r.error_code, {n} AS n,
                       list(DISTINCT r.api_key) FILTER (WHERE r.api_key IS NOT NULL)
                {src} WHERE {subj} IS NOT NULL GROUP BY ALL ORDER BY ALL""",
            [*w_params, list(codes)],
        ).fetchall()
        per: dict[tuple[int, str], dict[str, Any]] = {}
        for rule_id, subject, code, count, keys in found:
            d = per.setdefault((int(rule_id), subject), {"codes": {}, "keys": set()})
            d["codes"][code] = int(count)
            d["keys"].update(keys or [])
        by_id = {r.rule_id: r for r in group}
        for (rule_id, subject), d in per.items():
            rule = by_id[rule_id]
            value = Decimal(sum(d["codes"].values()))
            level = rule.level_of(value)
            if level is None:
                continue
            s, e = rolling(rule, now)
            keys = sorted(d["keys"])
            detail = {"codes": d["codes"], "keys": keys[:20], "key_count": len(keys)}
            out.append(Measure(rule.rule_id, subject, value, level, detail,
                               link("Errors", subject_kind, subject, _utc(s), _utc(e),
                                    code=",".join(sorted(d["codes"])))))  # fmt: skip
    return out


def measure_key_revoked_used(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Requests refused because their key was revoked or had expired (``REVOKED_CODES``,
    written by the gateway) in the rolling window."""
    return _key_events(REVOKED_CODES, cur, rules, now)


def measure_key_refused(cur: Cursor, rules: list[Rule], now: datetime) -> list[Measure]:
    """Requests refused by a key's restrictions (IP, origin, model, budget: ``REFUSED_CODES``)
    in the rolling window."""
    return _key_events(REFUSED_CODES, cur, rules, now)
