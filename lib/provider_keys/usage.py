"""Keys joined with what they did: spend and requests over the last days, last use, last client
IP and origin, refused requests per reason. Read from the store only (request events and usage
buckets whose ``api_key`` is the key's id: a provider's usage report carries the provider's key
id, e.g. OpenAI's ``api_key_id`` ``key_…`` and Anthropic's ``apikey_…``; the gateway's journal
carries the Tokenboard key id).

Spend per key is what the counted usage states where every row of it states a cost, plus the
estimate (tokens × the catalog price) of the rows that state none; a cost report is not per key,
so it never enters. Requests and spend come from the counted stream of each provider and day,
as on the Usage page (a gateway log and a usage report of the same traffic are never added).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pandas as pd

from lib.analytics.usage import counted_rows
from lib.filters import Filters
from lib.keys.restrictions import REFUSAL_CODES
from lib.store import Store

DEFAULT_DAYS = 30  # the usage window of the Keys page, in days up to now
DEFAULT_STALE_DAYS = 90  # a key not used for this many days is flagged stale


@dataclass(frozen=True)
class KeyUsage:
    """What one key id did over the window: ``requests`` (None when no source counts them),
    ``spend_usd`` (exact; None when nothing is known), ``last_used`` (the newest request event,
    else the start of the newest usage bucket with traffic; UTC; over all time), ``last_ip`` and
    ``last_origin`` (from the newest request event stating one; over all time)."""

    requests: int | None = None
    spend_usd: Decimal | None = None
    last_used: datetime | None = None
    last_ip: str | None = None
    last_origin: str | None = None


def _utc(v: Any) -> datetime | None:
    if v is None or (not isinstance(v, datetime) and pd.isna(v)):
        return None
    when = pd.Timestamp(v).to_pydatetime()
    return when.astimezone(UTC) if when.tzinfo else when.replace(tzinfo=UTC)


def _window(now: datetime, days: int) -> Filters:
    """The filters of the ``days`` UTC days up to ``now``'s day, included."""
    end = now.astimezone(UTC).date()
    return Filters(preset="custom", start=end - timedelta(days=days - 1), end=end)


def key_usage(
    store: Store,
    now: datetime,
    *,
    days: int = DEFAULT_DAYS,
    provider: str | None = None,
    keys: Iterable[str] | None = None,
) -> dict[str, KeyUsage]:
    """Per key id (across providers, unless ``provider`` is given): its ``KeyUsage``. ``keys``
    limits the answer to those ids (all keys seen otherwise). Keys never seen are absent."""
    f = _window(now, days)
    if provider:
        f = f.with_(dims={"provider": (provider,)})
    wanted = sorted(set(keys)) if keys is not None else None
    with store.read() as cur:
        base, params = counted_rows(cur, f, "api_key", f.window(now))
        key_where = "AND list_contains(?, api_key)" if wanted is not None else ""
        key_params: list[Any] = [wanted] if wanted is not None else []
        sums = cur.execute(
            f"""SELECT api_key, sum(c_requests), sum(c_cost_whole), sum(est_unstated)
                FROM {base} WHERE api_key IS NOT NULL {key_where} GROUP BY 1""",
            [*params, *key_params],
        ).fetchall()
        prov_where = "AND provider = ?" if provider else ""
        prov_params: list[Any] = [provider] if provider else []
        events = cur.execute(
            f"""SELECT api_key, max(ts),
                       arg_max(client_ip, ts) FILTER (WHERE client_ip IS NOT NULL),
                       arg_max(origin, ts) FILTER (WHERE origin IS NOT NULL)
                FROM request_events WHERE api_key IS NOT NULL {prov_where} {key_where}
                GROUP BY 1""",
            [*prov_params, *key_params],
        ).fetchall()
        buckets = cur.execute(
            f"""SELECT api_key, max(bucket_start) FROM live_usage
                WHERE api_key IS NOT NULL {prov_where} {key_where}
                  AND (coalesce(requests, 0) > 0 OR input_tokens + output_tokens > 0)
                GROUP BY 1""",
            [*prov_params, *key_params],
        ).fetchall()
    out: dict[str, dict[str, Any]] = {}
    for key, requests, stated, estimated in sums:
        spend = None if stated is None and estimated is None else (
            Decimal(stated or 0) + Decimal(estimated or 0))  # fmt: skip
        out.setdefault(key, {}).update(requests=None if requests is None else int(requests),
                                       spend_usd=spend)  # fmt: skip
    for key, last, ip, origin in events:
        out.setdefault(key, {}).update(last_used=_utc(last), last_ip=ip, last_origin=origin)
    for key, start in buckets:
        row = out.setdefault(key, {})
        seen = _utc(start)
        if seen and (row.get("last_used") is None or seen > row["last_used"]):
            row["last_used"] = seen
    return {k: KeyUsage(**v) for k, v in out.items()}


def is_stale(
    last_used: datetime | None, created_at: datetime | None, now: datetime, stale_days: int
) -> bool:
    """A key not used for ``stale_days`` days: its last use is older, or it was never used and
    was created longer ago (a key of unknown age never used is stale too)."""
    limit = now - timedelta(days=stale_days)
    if last_used is not None:
        return last_used < limit
    return created_at is None or created_at < limit


def refusals(store: Store, now: datetime, *, days: int = DEFAULT_DAYS) -> pd.DataFrame:
    """Refused requests per key and reason over the ``days`` days up to ``now``: columns
    api_key, error_code (one of ``REFUSAL_CODES``), requests, last (UTC), last_ip, last_origin;
    most requests first. Empty frame when none."""
    start = now - timedelta(days=days)
    with store.read() as cur:
        return cur.df(
            """SELECT api_key, error_code, count(*) AS requests, max(ts) AS last,
                      arg_max(client_ip, ts) AS last_ip, arg_max(origin, ts) AS last_origin
               FROM request_events
               WHERE status = 'error' AND list_contains(?, error_code) AND ts >= ? AND ts <= ?
               GROUP BY 1, 2 ORDER BY requests DESC, last DESC, api_key, error_code""",
            [list(REFUSAL_CODES), start, now],
        )
