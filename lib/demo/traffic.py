"""The demo's traffic: one synthetic company's LLM requests, as one SQL query.

Projects, keys that belong to projects, users that belong to keys, client IPs and origins per
key; traffic with a daily rhythm, quiet weekends, slow growth and a few spikes; realistic error
mixes (rate limits, overloads, context length, a revoked key) and latencies. Every random draw
is a hash of the row number, so a run is the same on any machine and any number of threads.
The benchmark uses the same generator.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lib.store import Cursor

PROJECTS = [  # (project, share of traffic, share of input tokens served from cache)
    ("support-bot", 0.34, 0.45),
    ("search", 0.22, 0.10),
    ("product-descriptions", 0.16, 0.0),
    ("internal-tools", 0.12, 0.2),
    ("analytics", 0.10, 0.0),
    ("experiments", 0.06, 0.0),
]
MODELS = [  # (model id as logged, provider, weight, median input, median output, ms/token)
    ("gpt-4o-mini-2024-07-18", "openai", 0.30, 900, 220, 9),
    ("gpt-4o-2024-08-06", "openai", 0.16, 1400, 320, 18),
    ("gpt-4.1-2025-04-14", "openai", 0.10, 2200, 400, 16),
    ("gpt-4.1-mini-2025-04-14", "openai", 0.08, 1200, 260, 10),
    ("o4-mini-2025-04-16", "openai", 0.05, 1600, 900, 12),
    ("text-embedding-3-small", "openai", 0.07, 600, 0, 1),
    ("claude-sonnet-4-5-20250929", "anthropic", 0.14, 2500, 450, 22),
    ("claude-haiku-4-5-20251001", "anthropic", 0.10, 1100, 240, 8),
]
# Prices used by the demo's gateway to state a cost (USD per 1M tokens: in, cached, out).
DEMO_PRICES = {
    "gpt-4o-mini-2024-07-18": ("0.15", "0.075", "0.60"),
    "gpt-4o-2024-08-06": ("2.50", "1.25", "10.00"),
    "gpt-4.1-2025-04-14": ("2.00", "0.50", "8.00"),
    "gpt-4.1-mini-2025-04-14": ("0.40", "0.10", "1.60"),
    "o4-mini-2025-04-16": ("1.10", "0.275", "4.40"),
    "text-embedding-3-small": ("0.02", "0.02", "0"),
    "claude-sonnet-4-5-20250929": ("3.00", "0.30", "15.00"),
    "claude-haiku-4-5-20251001": ("1.00", "0.10", "5.00"),
}
KEYS_PER_PROJECT = 3
USERS_PER_KEY = 6
REQUESTS_PER_SCALE = 50_000


def _values(rows: list[tuple]) -> str:
    """A VALUES list of our own constants (never user input)."""

    def lit(v: object) -> str:
        return f"'{v}'" if isinstance(v, str) else str(v)

    return ", ".join("(" + ", ".join(lit(v) for v in row) + ")" for row in rows)


def _start_s(days: int, end: datetime) -> int:
    """The first hour of the traffic (Unix seconds): ``days`` days before ``end``'s hour."""
    return int(end.replace(minute=0, second=0, microsecond=0).timestamp()) - days * 86400


def _counts_cte(total: int, days: int, end: datetime) -> str:
    """``WITH hrs AS (…), counts AS (…)``: the number of requests ``n`` of each hour ``h``
    (0 = the first hour), ``hs`` its start (Unix seconds) and ``spike``; ``total`` in all
    (give or take rounding)."""
    hours = days * 24
    start_s = _start_s(days, end)
    return f"""
WITH hrs AS (
    SELECT h, {start_s} + h * 3600 AS hs,
        (1.0 + 0.8 * sin(((h % 24) - 8) / 24.0 * 2 * pi()))            -- daily rhythm, peak ~14h UTC
        * CASE WHEN dayofweek(to_timestamp({start_s} + h * 3600)) IN (0, 6) THEN 0.35 ELSE 1.0 END
        * (0.75 + 0.5 * h / {hours})                                     -- growth
        * CASE WHEN (hash(h // 24, 'spike') % 23) = 0 AND (h % 24) BETWEEN 13 AND 15 THEN 4.0 ELSE 1.0 END
        AS w,
        (hash(h // 24, 'spike') % 23) = 0 AND (h % 24) BETWEEN 13 AND 15 AS spike
    FROM range({hours}) t(h)),
counts AS (
    SELECT h, hs, spike, CAST(round({total} * w / sum(w) OVER ()) AS BIGINT) AS n FROM hrs)"""


def utc_days(cur: Cursor, total: int, days: int, end: datetime) -> list[tuple[int, int, int]]:
    """The traffic of ``request_log_sql(total, days, end)`` cut at UTC midnights, in time
    order: (first hour, hour after the last, requests) per UTC day it touches (hours counted
    from 0 as ``request_log_sql``'s ``hours`` takes them; the first and last day may be
    partial). Generating and writing day by day bounds the memory to a day's rows."""
    rows = cur.execute(
        f"""{_counts_cte(total, days, end)}
        SELECT hs // 86400 AS day, min(h), max(h) + 1, sum(n) FROM counts
        GROUP BY day ORDER BY day"""
    ).fetchall()
    return [(int(h0), int(h1), int(n)) for _, h0, h1, n in rows]


def request_log_sql(
    total: int, days: int, end: datetime, hours: tuple[int, int] | None = None
) -> str:
    """A SELECT producing ``total`` synthetic request rows over ``days`` days before ``end``;
    with ``hours`` (first, after last; 0 = the first hour), only the rows of those hours,
    exactly as the whole query gives them (see ``utc_days``).

    Columns: timestamp, request_id, provider, model, project, api_key, user, status,
    http_status, error_code, error_type, error_message, latency_ms, input_tokens,
    cached_input_tokens, output_tokens, cost_usd, client_ip, origin.
    """
    only = "" if hours is None else f" AND h >= {int(hours[0])} AND h < {int(hours[1])}"
    projects: list[tuple] = []
    keys: list[tuple] = []
    cum = 0.0
    for p, (name, share, cache) in enumerate(PROJECTS):
        projects.append((p, name, cache))
        for k in range(KEYS_PER_PROJECT):
            w = share * (0.6, 0.3, 0.1)[k]
            keys.append((len(keys), p, f"key-{name}-{k + 1}", cum, f"10.{p}.{k}."))
            cum += w
    model_rows, mcum = [], 0.0
    for m, (model, provider, w, med_in, med_out, mspt) in enumerate(MODELS):
        pin, pcached, pout = DEMO_PRICES[model]
        model_rows.append((m, model, provider, mcum, med_in, med_out, mspt, pin, pcached, pout))
        mcum += w
    r = "((hash(i, '{salt}') % 1000003) / 1000003.0)"

    def rnd(salt: str) -> str:
        return r.format(salt=salt)

    normal = f"(({rnd('n1')} + {rnd('n2')} + {rnd('n3')} + {rnd('n4')}) - 2.0) * 1.7"
    normal2 = f"(({rnd('o1')} + {rnd('o2')} + {rnd('o3')} + {rnd('o4')}) - 2.0) * 1.7"
    return f"""{_counts_cte(total, days, end)},
ids AS (
    SELECT hs, spike, h * 10000000 + unnest(range(n)) AS i FROM counts WHERE n > 0{only}),
k AS (SELECT * FROM (VALUES {_values(keys)}) t(kid, pid, key_name, cum, ip)),
p AS (SELECT * FROM (VALUES {_values(projects)}) t(pid, project, cache_share)),
m AS (SELECT * FROM (VALUES {_values(model_rows)}) t(mid, model, provider, cum, med_in, med_out, mspt, pin, pcached, pout)),
base AS (
    SELECT i, hs, spike, {rnd("key")} AS rk, {rnd("model")} AS rm, {rnd("err")} AS re,
           {rnd("user")} AS ru, {rnd("sec")} AS rs, {rnd("cache")} AS rc, {rnd("lat")} AS rl,
           {normal} AS zin, {normal2} AS zout
    FROM ids),
pick AS (
    SELECT b.*, k.kid, k.key_name, k.ip, k.pid
    FROM base b ASOF JOIN k ON b.rk * {cum} >= k.cum),
rows AS (
    SELECT x.*, p.project, p.cache_share, m.model, m.provider, m.med_in, m.med_out, m.mspt,
           m.pin, m.pcached, m.pout,
           CASE
             WHEN x.re < CASE WHEN x.spike THEN 0.06 ELSE 0.012 END THEN 429
             WHEN x.re < CASE WHEN x.spike THEN 0.063 ELSE 0.015 END THEN 500
             WHEN x.re < CASE WHEN x.spike THEN 0.068 ELSE 0.020 END THEN (CASE WHEN m.provider = 'anthropic' THEN 529 ELSE 503 END)
             WHEN x.re < CASE WHEN x.spike THEN 0.071 ELSE 0.023 END THEN 400
             WHEN x.re < CASE WHEN x.spike THEN 0.072 ELSE 0.024 END AND x.kid % 5 = 4 THEN 401
             ELSE 200 END AS http_status
    FROM pick x
    JOIN p ON p.pid = x.pid
    ASOF JOIN m ON x.rm * {mcum} >= m.cum),
sized AS (
    SELECT *,
        CASE WHEN http_status = 200 THEN greatest(8, CAST(med_in * exp(0.8 * zin) AS BIGINT))
             WHEN http_status = 400 THEN 130000 ELSE 0 END AS input_tokens,
        CASE WHEN http_status = 200 AND med_out > 0 THEN greatest(1, CAST(med_out * exp(0.7 * zout) AS BIGINT))
             ELSE 0 END AS output_tokens
    FROM rows),
final AS (
    SELECT *, CASE WHEN http_status = 200 THEN CAST(input_tokens * cache_share * (0.5 + rc) AS BIGINT) // 2 * 2
                   ELSE 0 END AS cached_input_tokens
    FROM sized)
SELECT
    to_timestamp(hs + CAST(rs * 3599 AS INTEGER)) AS "timestamp",
    'req_' || lpad(CAST(i AS VARCHAR), 14, '0') AS request_id,
    provider, model, project, key_name AS api_key,
    key_name || '-user-' || CAST(CAST(ru * {USERS_PER_KEY} AS INTEGER) + 1 AS VARCHAR) AS "user",
    CASE WHEN http_status = 200 THEN 'success' ELSE 'failure' END AS status,
    http_status,
    CASE http_status WHEN 429 THEN 'rate_limit_exceeded' WHEN 500 THEN 'server_error'
         WHEN 503 THEN 'server_is_overloaded' WHEN 529 THEN 'overloaded_error'
         WHEN 400 THEN 'context_length_exceeded' WHEN 401 THEN 'invalid_api_key' END AS error_code,
    CASE http_status WHEN 429 THEN (CASE WHEN provider = 'anthropic' THEN 'rate_limit_error' ELSE 'requests' END)
         WHEN 500 THEN (CASE WHEN provider = 'anthropic' THEN 'api_error' ELSE 'server_error' END)
         WHEN 503 THEN 'service_unavailable_error' WHEN 529 THEN 'overloaded_error'
         WHEN 400 THEN 'invalid_request_error' WHEN 401 THEN (CASE WHEN provider = 'anthropic' THEN 'authentication_error' ELSE 'invalid_request_error' END) END AS error_type,
    CASE http_status WHEN 429 THEN 'Rate limit reached for requests per min (RPM). Please try again in 2s.'
         WHEN 500 THEN 'The server had an error while processing your request.'
         WHEN 503 THEN 'The engine is currently overloaded, please try again later.'
         WHEN 529 THEN 'Overloaded'
         WHEN 400 THEN 'This model''s maximum context length is 128000 tokens. However, your messages resulted in 130000 tokens.'
         WHEN 401 THEN 'Incorrect API key provided.' END AS error_message,
    CAST(CASE WHEN http_status = 200 THEN 180 + output_tokens * mspt * (0.7 + 0.6 * rl) + input_tokens * 0.05
              WHEN http_status IN (500, 503, 529) THEN 2000 + 8000 * rl ELSE 60 + 200 * rl END AS INTEGER) AS latency_ms,
    input_tokens, cached_input_tokens, output_tokens,
    CAST(((input_tokens - cached_input_tokens) * CAST(pin AS DECIMAL(10, 4))
          + cached_input_tokens * CAST(pcached AS DECIMAL(10, 4))
          + output_tokens * CAST(pout AS DECIMAL(10, 4))) * 0.000001 AS DECIMAL(18, 10)) AS cost_usd,
    ip || CAST(10 + (i % 7) * 13 AS VARCHAR) AS client_ip,
    CASE WHEN project = 'support-bot' THEN 'https://help.example.com' ELSE NULL END AS origin
FROM final
"""
